// SPDX-License-Identifier: MIT
// audit_record.h - the records of the audit log, built in one place for
// every mode that changes the queue (act/audit.h is the file they go to).
//
// A record is one JSON object on one line. Every record begins with the
// same fields: event, time, run (the run id), user, sudo_user (null when
// not run through sudo), host, argv, instance (with --all-instances), then
// what the event adds, then queue_directory, archive (the archive run
// directory, when there is one) and criteria ([{option, values}]):
//   intent   before a purge acts: action, via_hold; after the criteria,
//            ids: ["queue/ID", ...], what is about to be handed to postsuper
//   result   after it: action, via_hold; summary and results: [{queue_name,
//            queue_id, result, detail?}], one per planned ID (output.h)
//   restore  after a restore: restore_to; summary and results: [{queue_id,
//            result, new_queue_id?, queue_name?}], one per archived message
//            it took up (queue_name: where a message put back was found)
//   recover  after a run settled what a dead run left (recover.h):
//            recovered_run, recovered_pid, and the dead run's action and
//            via_hold (its archive and criteria follow); summary and
//            results as a result record's
// The records of one run share its run id.
//
// It lives in app/ because it joins what every layer below says of a run:
// the plan's criteria and entries, postsuper's results and the archive's
// restored messages. Building a record cannot fail.
#ifndef QPURGE_APP_AUDIT_RECORD_H_
#define QPURGE_APP_AUDIT_RECORD_H_

#include <string>
#include <string_view>
#include <vector>

#include "qpurge/app/config.h"
#include "qpurge/archive/put_back.h"
#include "qpurge/plan/plan.h"
#include "qpurge/plan/plan_file.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/util/system.h"

namespace qpurge {

// What every record of one run shares: who ran it (from `system`), how, and
// where.
struct AuditContext {
  System& system;
  std::vector<std::string> argv;  // this run's command line
  std::string instance;           // with --all-instances; "" = none
  std::string queue_directory;
  std::string archive;  // the archive run directory; "" = none
  std::vector<PlanCriterion> criteria;
};

// The context of a run, from its configuration.
AuditContext audit_context(const RunConfig& config, System& system, std::string queue_directory, std::string archive);

// What a purge does to the messages it hands over.
struct AuditAction {
  std::string_view action;  // action_info().name: "delete", "hold", ...
  bool via_hold = false;
};

// Each returns the whole line, ending in '\n'.
std::string intent_record(const AuditContext& at, const AuditAction& what, const std::vector<PlanEntry>& entries);
std::string result_record(const AuditContext& at, const AuditAction& what, const std::string& summary,
                          const std::vector<IdResult>& results);
// --mixed cancel: one record per message whose recipients were canceled,
// naming them and the ones that keep the message.
std::string cancel_record(const AuditContext& at, const PlanEntry& planned, const IdResult& result);
std::string restore_record(const AuditContext& at, const std::string& restore_to, const std::string& summary,
                           const std::vector<RestoredMessage>& messages);
// `at` names the dead run's archive and criteria; `what`, its action.
std::string recover_record(const AuditContext& at, const std::string& recovered_run, long recovered_pid,
                           const AuditAction& what, const std::string& summary, const std::vector<IdResult>& results);

// {"criteria": [...]}: the criteria as the records hold them, for the
// syslog line.
std::string criteria_json(const std::vector<PlanCriterion>& criteria);

}  // namespace qpurge

#endif  // QPURGE_APP_AUDIT_RECORD_H_
