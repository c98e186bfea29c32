// SPDX-License-Identifier: MIT
// defer_log_edit.h - take canceled recipients out of a message's defer and
// bounce logfiles.
//
// Postfix's showq lists a message's recipients from its defer (and bounce)
// logfile before those of its queue file (showq/showq.c, showq_report()),
// so a recipient crossed off in the queue file whose last deferral is
// logged would stay visible in mailq and postqueue -j until the next
// delivery attempt removes the log. Each logfile entry is a block of
// name=value lines ended by a blank line (global/bounce_log.c) naming its
// recipient and the `offset` of its record in the queue file; an entry
// whose offset was crossed off is dropped, every other byte is kept.
//
// The logfile is replaced atomically: a temporary file beside it, written,
// given the old file's owner and mode (the bounce daemon, which runs as
// the mail owner, appends to it), synced, renamed over it, and the
// directory synced. A logfile left with no entry is removed. The caller
// does this only while the message is on hold (act/cancel.h), when no
// delivery agent and so no bounce daemon request writes its logs.
//
// Failure: false with `error` naming the file and the cause; the old
// logfile is then untouched.
#ifndef QPURGE_SPOOL_DEFER_LOG_EDIT_H_
#define QPURGE_SPOOL_DEFER_LOG_EDIT_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace qpurge {

// `text` without the entries whose offset is in `offsets`; `dropped` counts
// them.
std::string drop_log_entries(std::string_view text, const std::set<std::uint64_t>& offsets, std::size_t& dropped);

// `text` with only the entries whose offset is in `offsets` (what an
// archive keeps of a canceled message's logs: the canceled recipients'
// entries); `kept` counts them.
std::string keep_log_entries(std::string_view text, const std::set<std::uint64_t>& offsets, std::size_t& kept);

// Edits the logfile at `path` (absent: nothing to do) as drop_log_entries()
// says; `dropped` counts the entries taken out.
bool edit_logfile(const std::string& path, const std::set<std::uint64_t>& offsets, std::size_t& dropped,
                  std::string& error);

// The logfiles of queue ID `id` under `queue_directory` that exist: the
// defer and bounce logs, in the hashed layout Postfix uses (depth 1, or 0
// or 2 when that is where the file is).
std::set<std::string> message_logfiles(const std::string& queue_directory, const std::string& id);

}  // namespace qpurge

#endif  // QPURGE_SPOOL_DEFER_LOG_EDIT_H_
