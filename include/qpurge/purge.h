// SPDX-License-Identifier: MIT
// purge.h - the engine of one run on one instance: plan, cap, confirm,
// record the intent, act (directly or via hold), report, record the result.
//
// It takes the validated RunConfig and its side effects as interfaces
// (System, CommandRunner, Printer), so every destructive decision can be
// driven by a unit test with fakes, and every acting path has a dry-run twin
// that never reaches the runner's postsuper.
//
// Failure: a fatal condition (no queue, not root, no postsuper, another
// instance's spool, the run lock held by another qpurge or not to be had,
// an audit log that cannot be written) is reported once
// through the Printer before anything changes, and the Outcome is kFatal.
// What happens after acting starts is never fatal: it is in the report and
// makes the Outcome kPartial.
#ifndef QPURGE_PURGE_H_
#define QPURGE_PURGE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qpurge/config.h"
#include "qpurge/plan.h"
#include "qpurge/printer.h"
#include "qpurge/process.h"
#include "qpurge/system.h"

namespace qpurge {

inline constexpr int kExitDone = 0;
inline constexpr int kExitNothing = 1;
inline constexpr int kExitFatal = 2;
inline constexpr int kExitPartial = 3;

struct Outcome {
  enum class Kind { kDone, kNothing, kFatal, kPartial };
  Kind kind = Kind::kNothing;
  bool changed = false;     // the queue was changed by this run
  std::size_t planned = 0;  // messages in the plan (selected, on a dry run)
};

// 0 done, 1 nothing to do (or declined), 2 fatal (nothing changed), 3 partial.
int exit_status(const Outcome& outcome);
// Over instances: 0 only if every instance did all it planned, 1 if none had
// anything to do, 2 only if a fatal error stopped the run and nothing changed
// anywhere, 3 otherwise.
Outcome combine_outcomes(const std::vector<Outcome>& outcomes);

class Purge {
 public:
  Purge(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer);
  ~Purge();

  // Resolves the queue and checks that acting is allowed (plan() does it if
  // it was not done). The Outcome when the run ends here; nullopt to go on.
  std::optional<Outcome> prepare();
  const std::string& queue_directory() const;  // after prepare()
  // Takes the queue's run lock when acting (unless prepare_and_lock() holds
  // it), scans and plans. The Outcome when the run ends here (dry run,
  // shape, saved plan, nothing to do, fatal error, lock refused); nullopt
  // when there is a plan to act on. The lock is held until the Purge ends.
  std::optional<Outcome> plan();
  std::size_t planned() const;
  // Asks (on a terminal), records the intent, acts and reports.
  Outcome act();
  // Reports a fatal condition before anything changed.
  Outcome refuse(const std::string& why);
  // A line for the operator on standard error (Printer::note).
  void note(const std::string& line);

  // The caller holds this run's lock (prepare_and_lock()).
  void lock_held_by_caller();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// --all-instances: prepare() on every purge, then the run locks of all the
// queues that will be acted on, taken in one fixed order before any plans
// (run_lock.h); `locks` holds them until the caller is done. Per purge, the
// Outcome when it ends here (nullopt: plan it). A lock refused is said once
// and ends every instance: nothing is acted on.
std::vector<std::optional<Outcome>> prepare_and_lock(std::vector<std::unique_ptr<Purge>>& purges, System& system,
                                                     const RunConfig& config,
                                                     std::vector<std::unique_ptr<RunLock>>& locks);

// plan() (with the run lock), the --max cap, act().
Outcome run_purge(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer);

// The refusal when a plan is larger than --max (nullopt when within it).
std::optional<std::string> over_max(std::size_t planned, std::size_t max);

}  // namespace qpurge

#endif  // QPURGE_PURGE_H_
