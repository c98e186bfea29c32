// SPDX-License-Identifier: MIT
// undo.cc - restoring archive runs, listing and pruning them; see undo.h.
#include "qpurge/undo.h"

#include <map>

#include "qpurge/escape.h"
#include "qpurge/json_writer.h"
#include "qpurge/output.h"
#include "qpurge/postfix_config.h"
#include "qpurge/restore.h"
#include "qpurge/run_lock.h"

namespace qpurge {
namespace {

Outcome outcome(Outcome::Kind kind, bool changed = false, std::size_t planned = 0) {
  Outcome o;
  o.kind = kind;
  o.changed = changed;
  o.planned = planned;
  return o;
}

void print_restored(Printer& p, const RunConfig& c, const RestoredMessage& m) {
  if (c.format == Format::kJson) {
    std::string s;
    JsonWriter w(s);
    w.begin_object().field("queue_id", m.old_id).field("result", m.outcome);
    if (!m.new_id.empty()) w.field("new_queue_id", m.new_id).field("queue_name", c.restore_to);
    if (!m.detail.empty()) w.field("detail", m.detail);
    w.end_object();
    p.line(s);
  } else if (c.format == Format::kIds) {
    if (!m.new_id.empty()) p.line(m.new_id);
  } else {
    std::string s = m.old_id + "  " + m.outcome;
    if (!m.new_id.empty()) s += " as " + m.new_id + " in " + c.restore_to;
    if (!m.detail.empty()) s += ": " + text_escaped(m.detail);
    p.line(s);
  }
}

// Where restored files go: this instance's queue, and whether we may act on it.
bool restore_queue(const RunConfig& c, System& sys, CommandRunner& runner, Printer& p, std::string& queue_dir) {
  std::string error;
  if (!postconf_value(runner, c.postconf, c.config_dir, "queue_directory", queue_dir, error)) {
    p.fatal("cannot find the queue directory: " + error);
    return false;
  }
  if (c.dry_run) return true;
  if (sys.effective_uid() != 0) {
    p.fatal("restoring into the queue is reserved for the superuser, as postsuper is; use --dry-run to look");
    return false;
  }
  if (!sys.can_execute(c.postsuper, error)) {
    p.fatal(error);
    return false;
  }
  return true;
}

void audit_restore(const RunConfig& c, System& sys, Printer& p, const std::string& queue_dir, const RestoreReport& r,
                   const std::string& summary) {
  std::string error;
  std::unique_ptr<AuditSink> audit = sys.open_audit_log(c.audit_log, error);
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("event", "restore").field("time", sys.now()).field("run", sys.run_id());
  w.field("user", sys.user()).field("host", sys.hostname()).field_strings("argv", c.argv);
  w.field("queue_directory", queue_dir).field("archive", c.restore_run).field("restore_to", c.restore_to);
  w.field("summary", summary).key("results").begin_array();
  for (const RestoredMessage& m : r.messages) {
    w.begin_object().field("queue_id", m.old_id).field("result", m.outcome);
    if (!m.new_id.empty()) w.field("new_queue_id", m.new_id);
    w.end_object();
  }
  w.end_array().end_object();
  if (!audit || !audit->append(line + "\n", error))
    p.warning("the audit record of the restore could not be written: " + error);
}

}  // namespace

Outcome run_restore(const RunConfig& c, System& sys, CommandRunner& runner, Printer& p) {
  std::string queue_dir;
  if (!restore_queue(c, sys, runner, p, queue_dir)) return outcome(Outcome::Kind::kFatal);
  std::vector<std::unique_ptr<RunLock>> locks;  // held until the restore is done
  std::string refusal;
  LockRequest req{{queue_dir}, c.argv, c.wait_seconds, [&p](const std::string& line) { p.note(line); }};
  if (!c.dry_run && !take_run_locks(sys, req, locks, refusal)) {
    p.fatal(refusal);
    return outcome(Outcome::Kind::kFatal);
  }
  RestoreOptions o;
  o.run_dir = c.restore_run;
  o.queue_dir = queue_dir;
  o.config_dir = c.config_dir;
  o.postsuper = c.postsuper;
  o.target = c.restore_to;
  o.host = sys.hostname();
  o.force_other_instance = c.force_other_instance;
  o.dry_run = c.dry_run;
  o.matcher = c.matcher->empty() ? nullptr : c.matcher.get();
  o.now = sys.now();
  RestoreReport r = restore_run(o, runner);
  if (!r.error.empty()) {
    p.fatal(r.error + "; nothing changed");
    return outcome(Outcome::Kind::kFatal);
  }
  std::map<std::string, std::size_t> counts;
  for (const RestoredMessage& m : r.messages) {
    print_restored(p, c, m);
    ++counts[m.outcome];
  }
  std::string summary = std::string(c.dry_run ? "dry run: " : "") + "archive " + c.restore_run + ": " +
                        std::to_string(r.messages.size()) + " messages";
  for (const auto& [what, n] : counts) summary += "; " + what + " " + std::to_string(n);
  p.summary(summary);
  const std::size_t restored = counts["restored"], would = counts["would_restore"];
  if (!c.dry_run) audit_restore(c, sys, p, queue_dir, r, summary);
  const std::size_t fine = restored + would + counts["already_restored"] + counts["not_deleted"];
  if (restored + would == 0)
    return outcome(fine == r.messages.size() ? Outcome::Kind::kNothing : Outcome::Kind::kPartial);
  return outcome(fine == r.messages.size() ? Outcome::Kind::kDone : Outcome::Kind::kPartial, restored > 0,
                 restored + would);
}

Outcome run_list_archives(const RunConfig& c, System&, Printer& p) {
  std::vector<ArchiveRunInfo> runs;
  std::string error;
  if (!list_archive_runs(c.archive_dir, runs, error)) {
    p.fatal(error);
    return outcome(Outcome::Kind::kFatal);
  }
  for (const ArchiveRunInfo& r : runs) {
    std::string criteria;
    for (const PlanCriterion& k : r.criteria)
      for (const std::string& v : k.values.empty() ? std::vector<std::string>{""} : k.values)
        criteria += (criteria.empty() ? "" : " ") + k.option + (v.empty() ? "" : " " + v);
    p.line(r.name + "  " + format_time(r.created) + "  " + std::to_string(r.messages) + " messages  " +
           std::to_string(r.bytes) + " bytes  " + std::to_string(r.restored) + " restored  " + text_escaped(criteria));
  }
  p.summary(std::to_string(runs.size()) + " archive runs in " + c.archive_dir);
  return outcome(runs.empty() ? Outcome::Kind::kNothing : Outcome::Kind::kDone);
}

Outcome run_prune_archives(const RunConfig& c, System& sys, Printer& p) {
  std::vector<std::string> old;
  std::string error;
  if (!prune_archive_runs(c.archive_dir, c.prune_older_than, sys.now(), true, old, error)) {
    p.fatal(error);
    return outcome(Outcome::Kind::kFatal);
  }
  if (old.empty()) {
    p.summary("no archive run in " + c.archive_dir + " is older than that");
    return outcome(Outcome::Kind::kNothing);
  }
  for (const std::string& r : old) p.line(r);
  if (c.dry_run) {
    p.summary("dry run: " + std::to_string(old.size()) + " archive runs would be removed");
    return outcome(Outcome::Kind::kDone);
  }
  if (sys.stdin_is_terminal() && !c.yes &&
      !sys.confirm("remove these " + std::to_string(old.size()) + " archive runs?")) {
    p.note("nothing changed");
    return outcome(Outcome::Kind::kNothing);
  }
  std::vector<std::string> removed;
  bool ok = prune_archive_runs(c.archive_dir, c.prune_older_than, sys.now(), false, removed, error);
  p.summary("removed " + std::to_string(removed.size()) + " of " + std::to_string(old.size()) + " archive runs");
  if (!ok) p.warning(error);
  return outcome(ok && removed.size() == old.size() ? Outcome::Kind::kDone : Outcome::Kind::kPartial, !removed.empty());
}

}  // namespace qpurge
