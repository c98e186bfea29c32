// SPDX-License-Identifier: MIT
// audit_record.cc - the audit log's records; see audit_record.h.
#include "qpurge/app/audit_record.h"

#include <functional>

#include "qpurge/report/output.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {
namespace {

void write_criteria(JsonWriter& w, const std::vector<PlanCriterion>& criteria) {
  w.key("criteria").begin_array();
  for (const PlanCriterion& c : criteria) {
    w.begin_object().field("option", c.option);
    if (criterion_by_digest(c))  // a long list: its count and digest (the run's list file, if archived)
      w.field("count", static_cast<std::uint64_t>(c.values.size())).field("sha256", criterion_list_sha256(c));
    else
      w.field_strings("values", c.values);
    w.end_object();
  }
  w.end_array();
}

// Every field up to the criteria, in the order audit_record.h gives; `head`
// writes what the event adds before the queue directory.
void begin_record(JsonWriter& w, const AuditContext& at, const char* event,
                  const std::function<void(JsonWriter&)>& head) {
  System& sys = at.system;
  w.begin_object().field("event", event);
  w.field("time", sys.now()).field("run", sys.run_id()).field("user", sys.user());
  const std::string sudo = sys.sudo_user();
  w.key("sudo_user");
  if (sudo.empty())
    w.null();
  else
    w.value(sudo);
  w.field("host", sys.hostname()).field_strings("argv", at.argv);
  if (!at.instance.empty()) w.field("instance", at.instance);
  head(w);
  w.field("queue_directory", at.queue_directory);
  if (!at.archive.empty()) w.field("archive", at.archive);
  write_criteria(w, at.criteria);
}

std::function<void(JsonWriter&)> action_fields(const AuditAction& what) {
  return [&what](JsonWriter& w) { w.field("action", what.action).field("via_hold", what.via_hold); };
}

void write_results(JsonWriter& w, const std::string& summary, const std::vector<IdResult>& results) {
  w.field("summary", summary).key("results").begin_array();
  for (const IdResult& r : results) {
    w.begin_object();
    write_result_fields(w, r);
    w.end_object();
  }
  w.end_array();
}

std::string end_record(std::string& line, JsonWriter& w) {
  w.end_object();
  return line + '\n';
}

}  // namespace

AuditContext audit_context(const RunConfig& c, System& system, std::string queue_directory, std::string archive) {
  return AuditContext{system, c.argv, c.instance, std::move(queue_directory), std::move(archive), c.selection.criteria};
}

std::string intent_record(const AuditContext& at, const AuditAction& what, const std::vector<PlanEntry>& entries) {
  std::string line;
  JsonWriter w(line);
  begin_record(w, at, "intent", action_fields(what));
  w.key("ids").begin_array();
  for (const PlanEntry& e : entries) w.value(e.queue + "/" + e.id);
  w.end_array();
  return end_record(line, w);
}

std::string result_record(const AuditContext& at, const AuditAction& what, const std::string& summary,
                          const std::vector<IdResult>& results) {
  std::string line;
  JsonWriter w(line);
  begin_record(w, at, "result", action_fields(what));
  write_results(w, summary, results);
  return end_record(line, w);
}

std::string cancel_record(const AuditContext& at, const PlanEntry& planned, const IdResult& result) {
  std::string line;
  JsonWriter w(line);
  begin_record(w, at, "cancel", [](JsonWriter&) {});
  w.field("queue_id", planned.id).field("queue_name", planned.queue).field("result", outcome_name(result.outcome));
  for (bool matched : {true, false}) {
    w.key(matched ? "canceled" : "kept").begin_array();
    for (const PlanRecipient& r : planned.recipients)
      if (r.matched == matched) w.value(r.address);
    w.end_array();
  }
  return end_record(line, w);
}

std::string restore_record(const AuditContext& at, const std::string& restore_to, const std::string& summary,
                           const std::vector<RestoredMessage>& messages) {
  std::string line;
  JsonWriter w(line);
  begin_record(w, at, "restore", [&restore_to](JsonWriter& h) { h.field("restore_to", restore_to); });
  w.field("summary", summary).key("results").begin_array();
  for (const RestoredMessage& m : messages) {
    w.begin_object().field("queue_id", m.old_id).field("result", m.outcome);
    if (!m.new_id.empty()) w.field("new_queue_id", m.new_id);
    if (!m.queue.empty()) w.field("queue_name", m.queue);
    w.end_object();
  }
  w.end_array();
  return end_record(line, w);
}

std::string recover_record(const AuditContext& at, const std::string& recovered_run, long recovered_pid,
                           const AuditAction& what, const std::string& summary, const std::vector<IdResult>& results) {
  std::string line;
  JsonWriter w(line);
  begin_record(w, at, "recover", [&](JsonWriter& h) {
    h.field("recovered_run", recovered_run).field("recovered_pid", static_cast<std::int64_t>(recovered_pid));
    action_fields(what)(h);
  });
  write_results(w, summary, results);
  return end_record(line, w);
}

std::string criteria_json(const std::vector<PlanCriterion>& criteria) {
  std::string json;
  JsonWriter w(json);
  w.begin_object();
  write_criteria(w, criteria);
  w.end_object();
  return json;
}

}  // namespace qpurge
