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
#ifndef QPURGE_APP_PURGE_H_
#define QPURGE_APP_PURGE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qpurge/app/config.h"
#include "qpurge/app/outcome.h"
#include "qpurge/plan/plan.h"
#include "qpurge/postfix/process.h"
#include "qpurge/report/printer.h"
#include "qpurge/util/system.h"

namespace qpurge {

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
Outcome purge_mode(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer);

// The refusal when a plan is larger than --max (nullopt when within it).
std::optional<std::string> over_max(std::size_t planned, std::size_t max);

}  // namespace qpurge

#endif  // QPURGE_APP_PURGE_H_
