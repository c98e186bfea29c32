// SPDX-License-Identifier: MIT
// cross_off.h - mark a pending recipient of a queue file done, in place, as
// Postfix's delivery agents do.
//
// Postfix finishes with a recipient by rewriting the type byte of its R
// record to D at the record's offset (global/deliver_completed.c,
// deliver_completed(); global/record.c, rec_put_type()): one byte, the
// length and payload untouched, so every offset in the file stays valid and
// every later reader (qmgr, bounce, showq, postcat) treats the recipient as
// done. cross_off() does the same one-byte write after checking that the
// record at the offset is a pending recipient with the expected address.
//
// It takes an open file and writes it: the caller owns the protocol that
// makes that safe (act/cancel.h: the message is on hold and locked as
// qmgr locks it, so no Postfix process has it open for writing).
//
// Failure: false with `error` ("offset 123: not a pending recipient (D)",
// "write: No space left on device"); a check that fails writes nothing.
#ifndef QPURGE_SPOOL_CROSS_OFF_H_
#define QPURGE_SPOOL_CROSS_OFF_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace qpurge {

// What the record at `offset` of the queue file open at `fd` is: 'R' with
// its address in `address` when it is a pending recipient; false with
// `error` when it cannot be read as a record.
bool recipient_record_at(int fd, std::uint64_t offset, char& type, std::string& address, std::string& error);
// The same in a queue file held in memory (an archived copy).
bool recipient_record_in(std::string_view data, std::uint64_t offset, char& type, std::string& address,
                         std::string& error);

// Rewrites the R record at `offset` (whose payload must be `address`) to a
// D record. Does not sync: the caller syncs once after its last write.
bool cross_off(int fd, std::uint64_t offset, std::string_view address, std::string& error);
// The same in a queue file held in memory: the copy --restore puts back of a
// message whose recipients were canceled (archive/cancel_copy.h).
bool cross_off_in(std::string& data, std::uint64_t offset, std::string_view address, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_SPOOL_CROSS_OFF_H_
