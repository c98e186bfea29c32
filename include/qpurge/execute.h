// execute.h - hand the plan to the real postsuper, and learn what it did.
//
// IDs are written one per line to `postsuper [-c DIR] -d - QUEUE` (or -h, -H,
// -r, -e for the other actions), grouped by the queue each was found in and
// cut into batches. postsuper exits 0 whatever happened and says nothing about
// IDs it did not find, so the outcome of each ID comes from its own report
// lines ("ID: removed") and is cross-checked with its total ("Deleted: N
// messages"): an ID it reported is done, one it did not is "not found" (gone
// or moved since planning), and every ID of a batch whose postsuper could not
// run or died is "failed".
//
// IDs are streamed: each is validated again (a Postfix queue ID and a
// message queue name) and passed to the caller's verifier, which may drop it
// as "changed", right before it is written, while postsuper works on the
// ones before it. A stop request (SIGINT, SIGTERM) stops the writing at
// once: postsuper finishes the IDs it was given, later ones are not
// attempted.
// Nothing here deletes anything itself.
#ifndef QPURGE_EXECUTE_H_
#define QPURGE_EXECUTE_H_

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/plan.h"
#include "qpurge/process.h"

namespace qpurge {

enum class Action { kDelete, kHold, kRelease, kRequeue, kExpire };

struct ActionInfo {
  Action action;
  std::string_view name;      // "delete"
  std::string_view flag;      // "-d"
  std::string_view per_id;    // "removed", as in "ID: removed"
  std::string_view total;     // "Deleted", as in "Deleted: 3 messages"
  std::string_view past;      // "removed", for qpurge's own report
};

const ActionInfo& action_info(Action a);
bool parse_action(std::string_view name, Action& out);

enum class IdOutcome { kDone, kNotFound, kFailed, kChanged, kNotAttempted, kInvalid };
std::string_view outcome_name(IdOutcome o);

struct IdResult {
  std::string queue;
  std::string id;
  IdOutcome outcome = IdOutcome::kNotAttempted;
  std::string detail;
};

struct ExecOptions {
  std::string postsuper;
  std::string config_dir;  // passed as -c when not empty
  std::size_t batch_size = 10000;  // IDs per postsuper run
  Action action = Action::kDelete;
  const std::atomic<bool>* stop = nullptr;
};

struct ExecReport {
  std::vector<IdResult> results;  // one per planned ID, in the order handed over
  std::size_t count(IdOutcome o) const;
  std::vector<std::string> warnings;  // postsuper lines we did not expect, mismatches
  std::size_t batches = 0;
  bool interrupted = false;
  bool totals_mismatch = false;
  std::string stopped;  // why no further postsuper run was started; "" when it ran to the end
};

// Returns "" when the entry may be handed over, kVanished when its file is
// gone (reported as not found), or why it changed (reported as changed).
using Verify = std::function<std::string(const PlanEntry&)>;
inline constexpr std::string_view kVanished = "vanished";
using ExecProgress = std::function<void(std::size_t handed_over, std::size_t done)>;

ExecReport execute_plan(CommandRunner& runner, const ExecOptions& options,
                        const std::vector<PlanEntry>& plan, const Verify& verify,
                        const ExecProgress& progress = {});

// Parses postsuper's output for one batch: the IDs it reported as done
// (among `sent`), its total, and lines that were neither.
struct PostsuperOutput {
  std::vector<std::string> done;
  long total = -1;  // -1: no total line
  std::vector<std::string> other;
};
PostsuperOutput parse_postsuper_output(std::string_view text, const ActionInfo& action);

}  // namespace qpurge

#endif  // QPURGE_EXECUTE_H_
