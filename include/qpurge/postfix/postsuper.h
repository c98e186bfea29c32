// SPDX-License-Identifier: MIT
// postsuper.h - hand the plan to the real postsuper, and learn what it did.
//
// IDs are written one per line to `postsuper [-c DIR] -d - QUEUE` (or -h, -H,
// -r, -e for the other actions), grouped by the queue each was found in and
// cut into batches. postsuper exits 0 whatever happened and says nothing about
// IDs it did not find, so the outcome of each ID comes from its own report
// lines ("ID: removed") and is cross-checked with its total ("Deleted: N
// messages"): an ID it reported is done, one it did not is "not found" (gone
// or moved since planning).
//
// Fail closed: when a postsuper run could not start, was killed by a signal,
// exited non-zero, or printed a total that contradicts its per-ID lines, the
// IDs of that batch it did not report are "failed" (their fate is not known),
// no further postsuper is started, every later ID is "not attempted", and
// ExecReport::stopped says why.
//
// IDs are streamed: each is validated again (a Postfix queue ID and a
// message queue name) and passed to the caller's verifier, which may drop it
// as "changed", right before it is written, while postsuper works on the
// ones before it; with a rate, no faster than it allows. A stop request (SIGINT, SIGTERM) stops the writing at
// once: postsuper finishes the IDs it was given, later ones are not
// attempted.
// Nothing here deletes anything itself.
#ifndef QPURGE_POSTFIX_POSTSUPER_H_
#define QPURGE_POSTFIX_POSTSUPER_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/plan/plan.h"
#include "qpurge/postfix/process.h"

namespace qpurge {

enum class Action { kDelete, kHold, kRelease, kRequeue, kExpire };

struct ActionInfo {
  Action action;
  std::string_view name;    // "delete"
  std::string_view flag;    // "-d"
  std::string_view per_id;  // "removed", as in "ID: removed"
  std::string_view total;   // "Deleted", as in "Deleted: 3 messages"
  std::string_view past;    // "removed", for qpurge's own report
};

const ActionInfo& action_info(Action a);
bool parse_action(std::string_view name, Action& out);

// kAlready: the message is already where the action would put it (hold of a
// message in the hold queue, release of one that is not on hold); it is not
// handed to postsuper and is not a failure.
enum class IdOutcome { kDone, kNotFound, kFailed, kChanged, kNotAttempted, kInvalid, kAlready, kNotArchived };
std::string_view outcome_name(IdOutcome o);

struct IdResult {
  std::string queue;
  std::string id;
  IdOutcome outcome = IdOutcome::kNotAttempted;
  std::string detail;
};

// What before_write() says of a group: "" goes ahead.
struct WriteRefusal {
  std::string why;
  bool stop = false;
};

struct ExecOptions {
  std::string postsuper;
  std::string config_dir;          // passed as -c when not empty
  std::size_t batch_size = 10000;  // IDs per postsuper run
  Action action = Action::kDelete;
  const std::atomic<bool>* stop = nullptr;
  // Called for each ID after it is verified, right before it is written
  // (--archive: copy the queue file). A non-empty error keeps the ID from
  // postsuper: it is reported not_archived.
  std::function<std::string(const PlanEntry&)> before_hand_over;
  // Called before each group of verified IDs is written: the run announces
  // them in its journal (act/journal.h) and, with --archive, makes their
  // copies durable. A refusal keeps the whole group from postsuper: each ID
  // is reported not_archived, or, when it says to stop (the journal cannot
  // be written), not attempted, and no further ID is handed over.
  std::function<WriteRefusal(const std::vector<const PlanEntry*>& group)> before_write;
  // Called when a postsuper run has settled, with the results of its IDs
  // (the run records them as each batch settles, not at the end).
  std::function<void(const std::vector<IdResult>& batch)> after_batch;
  // Where a message is now, when postsuper failed before it reported on it
  // (it died, was killed, or exited non-zero after acting): the queue its
  // file (same ID, same inode) is in, "" when it is in none, nullopt when
  // that cannot be told. A delete whose file is gone, a hold whose file is in
  // hold, a release whose file left hold are done: their fate is settled
  // from the queue itself, not left "failed".
  std::function<std::optional<std::string>(const PlanEntry&)> where_now;
  // --rate: at most `rate` IDs a second are handed over (0: no limit). The
  // k-th ID is verified no earlier than k/rate seconds after the first, on
  // `clock_us` (microseconds) with `sleep_us`, and IDs are written in groups
  // of at most a tenth of a second's worth, so no ID waits long between its
  // verification and its write; progress is reported after each ID.
  unsigned rate = 0;
  std::function<std::int64_t()> clock_us;
  std::function<void(std::int64_t)> sleep_us;
};

struct ExecReport {
  std::vector<IdResult> results;  // one per planned ID, in the order handed over
  std::size_t count(IdOutcome o) const;
  std::vector<std::string> warnings;  // postsuper lines we did not expect, mismatches
  std::size_t batches = 0;
  bool interrupted = false;
  bool totals_mismatch = false;
  // Empty when every batch ran to its end; else, in one sentence, why no
  // further postsuper was started, e.g. "postsuper was killed by signal 9
  // (deferred, batch 1)".
  std::string stopped;
};

// Checks an entry right before it is handed over (reverify() in plan.h):
// kSame goes to postsuper, kVanished is reported as not found, kChanged as
// changed with its `why`.
using Verify = std::function<Verification(const PlanEntry&)>;
using ExecProgress = std::function<void(std::size_t handed_over, std::size_t done)>;

ExecReport execute_plan(CommandRunner& runner, const ExecOptions& options, const std::vector<PlanEntry>& plan,
                        const Verify& verify, const ExecProgress& progress = {});

// Parses postsuper's output for one batch: the IDs it reported as done
// (among `sent`), its total, and lines that were neither.
struct PostsuperOutput {
  std::vector<std::string> done;
  long total = -1;  // -1: no total line
  std::vector<std::string> other;
};
PostsuperOutput parse_postsuper_output(std::string_view text, const ActionInfo& action);

}  // namespace qpurge

#endif  // QPURGE_POSTFIX_POSTSUPER_H_
