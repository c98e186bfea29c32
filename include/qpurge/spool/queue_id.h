// SPDX-License-Identifier: MIT
// queue_id.h - Postfix queue IDs and queue names.
//
// Postfix accepts any name of letters, digits and '_' up to 255 characters as
// a queue ID (mail_queue_id_ok); the names its own daemons create are either
// short IDs (5 upper-case hex digits of microseconds, then the inode number in
// upper-case hex) or long IDs (base-52 seconds, 4 base-52 microsecond
// digits, 'z', base-51 inode). qpurge reads only files whose names are one of
// those two forms, and hands postsuper only names that pass both checks.
#ifndef QPURGE_SPOOL_QUEUE_ID_H_
#define QPURGE_SPOOL_QUEUE_ID_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace qpurge {

// Postfix's mail_queue_id_ok(): non-empty, at most 255 characters, [A-Za-z0-9_].
bool queue_id_ok(std::string_view id);
bool is_short_queue_id(std::string_view id);
bool is_long_queue_id(std::string_view id);
// A name Postfix itself would have given a queue file.
inline bool is_queue_id(std::string_view id) {
  return queue_id_ok(id) && (is_short_queue_id(id) || is_long_queue_id(id));
}

// The microseconds a queue ID encodes, if it is of either form (the 5 hex
// digits of a short ID, the 4 base-52 digits before a long ID's 'z'). Postfix
// hashes a long ID's queue and log directories on them, written as %05X.
std::optional<std::uint32_t> queue_id_microseconds(std::string_view id);

// The inode number a queue ID encodes, if it is of either form.
std::optional<std::uint64_t> queue_id_inode(std::string_view id);

// The queues postsuper acts on, in the order Postfix scans them.
inline constexpr std::string_view kMessageQueues[] = {"maildrop", "incoming", "active", "deferred", "hold"};
bool is_message_queue(std::string_view name);

}  // namespace qpurge

#endif  // QPURGE_SPOOL_QUEUE_ID_H_
