// SPDX-License-Identifier: MIT
// cancel_copy.h - the archive side of --mixed cancel (issue 22): what a
// restore puts back of a message whose recipients were canceled, and how
// the outcome of a cancel a dead run never recorded is settled.
//
// A purge with --mixed cancel --archive copies the original queue file
// before it crosses off the canceled recipients (act/cancel.h, step 3a);
// the message itself stays in the queue, under its ID, for the recipients
// it kept. So what a restore gives back is not the original but a copy
// addressed only to the canceled recipients: every other pending recipient
// of the copy crossed off (type byte R -> D at its offset, as
// spool/cross_off.h does in a queue file), so that restoring never delivers
// twice to a recipient that kept its mail. It goes into the queue under a
// new name (fresh_queue_name()), as the original ID is still in use.
//
// Settling: a cancel's "message" record is written right before the
// cross-off, and its "outcome" right after (manifest.h). A run killed in
// between leaves the message in hold, locked by nobody, exactly as it was
// at that instant; settle_cancel() reads the recipients at the canceled
// offsets of that file: all crossed off is done, none is not done. It is
// only decided while the file is in hold with its archived inode (where the
// dead run left it, before the recovery releases it): elsewhere a delivery
// could have marked those recipients done too.
//
// Failure: false with `error` (or an undecided settlement); nothing is
// written by these functions.
#ifndef QPURGE_ARCHIVE_CANCEL_COPY_H_
#define QPURGE_ARCHIVE_CANCEL_COPY_H_

#include <cstdint>
#include <set>
#include <string>

#include "qpurge/archive/manifest.h"

namespace qpurge {

// `data`, the verified archived original of cancel message `m`, becomes
// the copy to restore: each canceled recipient must be pending at its
// offset with its address, and every other pending recipient is crossed
// off. The content and every offset are unchanged.
bool canceled_recipients_copy(const ArchivedMessage& m, std::string& data, std::string& error);

// The bytes a restore writes for `m`, from its archived copy `archived`
// (the copy itself, or for a cancel message the copy made from it).
bool restore_bytes(const ArchivedMessage& m, std::string archived, std::string& out, std::string& error);

// The path of a file named `id` in any message queue under `queue_dir`
// (flat or hashed as Postfix hashes), "" when there is none: queue IDs are
// unique across the queues.
std::string existing_queue_file(const std::string& queue_dir, const std::string& id);

// A queue file name for a canceled-recipient copy of `old_id`: of the same
// form (a short ID's 5 microsecond digits, or a long ID up to its last 'z',
// then decimal digits), so that `postsuper -s` renames it to match its
// inode, different from `old_id` and free in every queue under
// `queue_dir` and not in `taken` (the names this restore gave already).
// "" when none is found.
std::string fresh_queue_name(const std::string& queue_dir, const std::string& old_id, std::uint64_t seed,
                             const std::set<std::string>& taken);

// What became of cancel message `m` (no outcome recorded, or "failed"):
// true with `result` ("done": every canceled recipient crossed off;
// "not_attempted": none; "failed": some) and `detail`, read from its queue
// file in hold; false when it is not there with its archived inode.
bool settle_cancel(const std::string& queue_dir, const ArchivedMessage& m, std::string& result, std::string& detail);

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_CANCEL_COPY_H_
