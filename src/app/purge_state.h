// SPDX-License-Identifier: MIT
// purge_state.h - what the three parts of the purge engine share (purge.h
// is its interface): the state of one run and the fatal condition that ends
// it before anything changed. Private to src/app/.
//
//   purge.cc        the frame: where the queue is, whether acting is
//                   allowed, the run lock, --all-instances' locks, --max
//   purge_plan.cc   scan and plan, and what a run that only shows does
//                   (dry run, shape, saved plan)
//   purge_act.cc    ask, archive, record the intent, act through postsuper
//                   (directly or via hold), report, record the result
#ifndef QPURGE_SRC_APP_PURGE_STATE_H_
#define QPURGE_SRC_APP_PURGE_STATE_H_

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "qpurge/act/cancel.h"
#include "qpurge/act/journal.h"
#include "qpurge/act/via_hold.h"
#include "qpurge/app/audit_record.h"
#include "qpurge/app/consent.h"
#include "qpurge/app/purge.h"
#include "qpurge/app/steps.h"
#include "qpurge/archive/writer.h"

namespace qpurge {

// A fatal condition before anything changed: the run ends, said once.
class PurgeFatal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PlanCollector;

struct Purge::State {
  State(const RunConfig& config, System& system, CommandRunner& command_runner, Printer& printer)
      : c(config), sys(system), runner(command_runner), p(printer) {}
  const RunConfig& c;
  System& sys;
  CommandRunner& runner;
  Printer& p;
  std::string queue_dir;
  PlanOptions popt;
  std::vector<PlanEntry> entries;
  std::vector<PlanEntry> to_cancel;  // --mixed cancel: the mixed entries, taken out of `entries` to act
  CancelReport canceled;
  PlanCounts counts;
  std::string summary;
  bool partial = false;  // files skipped or undecided: never "done"

  std::set<std::pair<std::string, UndecidedCause>> warned;  // criteria already named as undecided
  std::unique_ptr<ArchiveWriter> archive;                   // --archive
  std::unique_ptr<Journal> journal;                         // while acting (act/journal.h)
  bool resolved = false;                                    // resolve_queue() done
  bool locked_by_caller = false;                            // --all-instances: prepare_and_lock() holds the lock
  std::vector<std::unique_ptr<RunLock>> locks;

  // Entries are kept (to act on, to save, or from a plan file) rather than streamed.
  bool keeps_entries() const { return c.acting() || !c.save_plan.empty() || c.plan_header.has_value(); }
  void resolve_queue();
  void take_lock();
  void recover();
  void warn_undecided();
  void hint_mixed();
  void check_may_act(bool have_instance, const std::string& instance_dir, const std::string& error);
  void scan(PlanCollector& sink);
  std::optional<Outcome> show(PlanCollector& sink);
  void save_plan();
  void show_saved_plan(PlanCollector& sink);
  void publish_shape();
  void open_archive();
  std::string archive_preview(std::size_t selected) const;
  Consent confirm();
  AuditContext audit_at() const;
  AuditAction audit_action() const;
  std::unique_ptr<AuditSink> record_intent();
  void begin_journal();
  void end_journal(const ViaHoldReport& held);
  ExecReport execute(ViaHoldReport& held);
  void cancel(ExecReport& rep, const StepHooks& hooks, QueueFileRereader& rereader);
  void archive_cancels(CancelJob& job);
  void report_cancel(AuditSink& audit, std::string& result);
  void report(const ExecReport& rep, const ViaHoldReport& held);
  bool record_result(AuditSink& audit, const ExecReport& rep, const std::string& result);
  Verify verifier(QueueFileRereader& rereader);
  bool record_archive_outcomes(const ExecReport& rep, std::string& result);
  void log_result(const std::string& result);
  Outcome finish(const ExecReport& rep, bool recorded);
};

}  // namespace qpurge

#endif  // QPURGE_SRC_APP_PURGE_STATE_H_
