// SPDX-License-Identifier: MIT
// cancel.h - cancel the matching recipients of mixed messages (--mixed
// cancel): cross them off in the queue file the way Postfix's delivery
// agents do, and leave the message to be delivered to the others.
//
// The protocol, and what in Postfix (3.7 source) makes it safe:
//  1. Hold. `postsuper -h -` renames the file to hold/ (postsuper.c,
//     hold_one()). The queue manager opens queue files only in active/
//     (qmgr_active.c, qmgr_active_feed() renames incoming/ and deferred/
//     files to active/ before qmgr_message_alloc() opens them), and a
//     delivery agent opens the file by its active/ path
//     (deliver_request.c, deliver_request_get()); a file in hold/ is
//     opened by neither. A message on hold before the run is not held
//     again and stays on hold afterwards.
//  2. Lock. A delivery agent that opened the file before it moved keeps a
//     shared lock on it while it delivers (deliver_request.c:
//     myflock(INTERNAL_LOCK, MYFLOCK_OP_SHARED)); the queue manager takes
//     an exclusive non-blocking lock before it reads a file
//     (qmgr_message.c, qmgr_message_alloc(): QMGR_LOCK_MODE) and skips it
//     as "still being delivered" when that fails. INTERNAL_LOCK is flock()
//     on Linux and the BSDs (sys_defs.h). qpurge takes the same exclusive
//     non-blocking flock; when it cannot, the message is being delivered
//     and is left alone (released unchanged), never waited for.
//  3. Verify, under the lock, in hold: the same inode as planned, and the
//     same pending recipients at the same offsets; the recipients to
//     cancel are still pending R records with the planned addresses. Any
//     difference: nothing is written, the message is released (or left on
//     hold if it was on hold before) and reported as changed.
//  3a. Archive (--archive): the original queue file, and its logfiles'
//     entries for the recipients to cancel, are copied and synced while
//     the message is locked in hold (archive/writer.h); a message whose
//     copy cannot be made is not changed (released unchanged, reported
//     not_archived), as a delete that cannot be archived is not deleted.
//  4. Cross off. Each recipient's type byte becomes D at its offset, as
//     deliver_completed() does with rec_put_type() (global/record.c); then
//     one fsync. Nothing else in the file moves.
//  5. Logfiles. The canceled recipients' entries leave the defer and
//     bounce logfiles (spool/defer_log_edit.h), so showq lists only the
//     kept recipients; no delivery agent, so no bounce daemon request,
//     writes them while the message is on hold and locked.
//  6. Release: `postsuper -H -` moves it to deferred/ (release_one()),
//     where the queue manager picks it up as any deferred message.
//
// Fail closed: a message that changed is left alone. A failure after the
// first write (a write, sync or logfile edit that failed), or a postsuper
// run that failed, stops the run: nothing further is crossed off, and the
// messages concerned are left on hold (CancelReport::left_on_hold, with
// release_command() to take them back).
#ifndef QPURGE_ACT_CANCEL_H_
#define QPURGE_ACT_CANCEL_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "qpurge/act/via_hold.h"
#include "qpurge/plan/plan.h"
#include "qpurge/postfix/postsuper.h"

namespace qpurge {

// The recipients a mixed entry cancels: the matched ones.
std::vector<PlanRecipient> recipients_to_cancel(const PlanEntry& e);

// What happened to one message in hold.
struct CrossOffResult {
  enum Kind { kCrossed, kChanged, kFailed, kNotArchived } kind = kCrossed;
  std::string detail;           // why changed or failed
  std::size_t log_entries = 0;  // logfile entries dropped
};

// Step 3a: copies the message (verified, locked) and returns "", or why it
// could not ("" from no hook: no archive).
using ArchiveHeld = std::function<std::string(const PlanEntry& held, const std::vector<PlanRecipient>& cancel)>;

// Steps 2 to 5 for one message found in hold at `held.dir` (relative to
// `queue_directory`), checked against the plan entry `held`; `archive`
// (may be empty) is step 3a.
CrossOffResult cross_off_held(const std::string& queue_directory, const PlanEntry& held,
                              const ArchiveHeld& archive = {});

struct CancelJob {
  ExecOptions hold, release;  // postsuper -h and -H; their hooks announce each group
  Verify verify;              // before holding (reverify() in plan.h)
  HoldFinder find_held;
  std::string queue_directory;
  // Step 3a, given to cross_off_held() (--archive); empty: none.
  ArchiveHeld archive;
  // The in-hold step (cross_off_held(), or a test's).
  std::function<CrossOffResult(const PlanEntry& held)> cross_off;
  // Told before each message is crossed off (the journal); an error stops the run.
  std::function<bool(const PlanEntry& held, std::string& error)> before_cross;
  // Told after each message is crossed off and its logs edited.
  std::function<void(const PlanEntry& held)> after_cross;
  // Told how each message the in-hold step was tried on came out (its
  // archive's outcome record), right after the step.
  std::function<void(const IdResult& result)> settled;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(std::size_t handed, std::size_t done, std::size_t total, std::string_view what)> progress;
};

struct CancelReport {
  std::vector<IdResult> results;  // one per planned message: done = its recipients canceled
  std::vector<std::string> left_on_hold;
  std::vector<std::string> warnings;
  std::string stopped;  // why the run stopped before its end; "" = it did not
  bool interrupted = false;
  std::size_t canceled_recipients = 0;
  std::size_t messages() const;  // messages whose recipients were canceled
};

CancelReport cancel_recipients(CommandRunner& runner, const CancelJob& job, const std::vector<PlanEntry>& plan);

}  // namespace qpurge

#endif  // QPURGE_ACT_CANCEL_H_
