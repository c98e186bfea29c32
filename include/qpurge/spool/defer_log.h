// SPDX-License-Identifier: MIT
// defer_log.h - Postfix defer logs (defer/<hash>/<ID>), the source of the
// "delay reason" postqueue -j shows.
//
// A defer log is plain text written by Postfix's bounce daemon: entries
// separated by blank lines, each an optional old-style "<addr>: text" line
// and then name=value lines (recipient, original_recipient, offset, status,
// action, reason, ...). `offset` is the file offset of the recipient's R
// record in the queue file, which joins an entry to its recipient exactly.
// The log describes only the most recent delivery attempt.
//
// Failure: the parser never fails; lines it does not understand are
// skipped, and an entry without an offset joins no recipient.
#ifndef QPURGE_SPOOL_DEFER_LOG_H_
#define QPURGE_SPOOL_DEFER_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qpurge {

struct DeferEntry {
  std::string recipient;
  std::string original_recipient;
  std::uint64_t offset = 0;
  bool has_offset = false;
  std::string status;
  std::string action;
  std::string reason;
};

inline constexpr std::size_t kMaxDeferLogSize = 4 << 20;  // read at most this much

std::vector<DeferEntry> parse_defer_log(std::string_view text);

// Reads the defer log of queue ID `id` under `queue_directory`, trying the
// hashed layouts Postfix may use (depth 1 is the default). Returns false when
// there is none.
bool read_defer_log(const std::string& queue_directory, const std::string& id, std::string& text);

// The defer/ subdirectory path of an ID at a hash depth (Postfix dir_forest;
// long IDs hash on their microseconds as 5 hex digits).
std::string defer_log_path(const std::string& id, int depth);

}  // namespace qpurge

#endif  // QPURGE_SPOOL_DEFER_LOG_H_
