// SPDX-License-Identifier: MIT
// archive_modes.cc - restoring archive runs, listing and pruning them; see archive_modes.h.
#include "qpurge/app/archive_modes.h"

#include <map>

#include "qpurge/act/run_lock.h"
#include "qpurge/app/audit_record.h"
#include "qpurge/app/consent.h"
#include "qpurge/app/recover.h"
#include "qpurge/archive/manifest.h"
#include "qpurge/archive/restore.h"
#include "qpurge/archive/run_reader.h"
#include "qpurge/archive/runs.h"
#include "qpurge/postfix/postconf.h"

namespace qpurge {
namespace {

// Where each message of the report is, by its old queue ID: for one put
// back, the queue the restore found it in after postsuper -s (qmgr may have
// moved it on from the target); for one a dry run would put back, the
// target; for one restored before, the queue its "restored" record names.
std::map<std::string, std::string> queues_now(const RunConfig& c, const RestoreReport& r) {
  std::map<std::string, std::string> where;
  bool earlier = false;
  for (const RestoredMessage& m : r.messages) {
    if (!m.queue.empty()) where[m.old_id] = m.queue;
    if (m.outcome == "would_restore") where[m.old_id] = c.archive.restore_to;
    earlier |= m.outcome == "already_restored";
  }
  ArchiveManifest manifest;
  std::string ignored;  // unreadable now: those lines name no queue
  if (earlier && read_manifest(c.archive.run_dir, manifest, ignored))
    for (const ArchivedMessage& m : manifest.messages)
      if (m.restored) where.emplace(m.queue_id, m.restored_to);
  return where;
}

RestoreOptions restore_options(const RunConfig& c, System& sys, const std::string& queue_dir) {
  RestoreOptions o;
  o.run_dir = c.archive.run_dir;
  o.queue_dir = queue_dir;
  o.config_dir = c.exec.config_dir;
  o.postsuper = c.exec.postsuper;
  o.target = c.archive.restore_to;
  o.host = sys.hostname();
  o.force_other_instance = c.archive.force_other_instance;
  o.dry_run = c.dry_run;
  o.matcher = c.selection.matcher->empty() ? nullptr : c.selection.matcher.get();
  o.content_limit = c.plan.content_limit;
  o.body_limit = c.plan.body_limit;
  o.now = sys.now();
  return o;
}

// Where restored files go: this instance's queue, and whether we may act on it.
bool restore_queue(const RunConfig& c, System& sys, CommandRunner& runner, Printer& p, std::string& queue_dir) {
  std::string error;
  if (!postconf_value(runner, c.postconf, c.exec.config_dir, "queue_directory", queue_dir, error)) {
    p.fatal("cannot find the queue directory: " + error);
    return false;
  }
  if (c.dry_run) return true;
  if (sys.effective_uid() != 0) {
    p.fatal("restoring into the queue is reserved for the superuser, as postsuper is; use --dry-run to look");
    return false;
  }
  if (!sys.can_execute(c.exec.postsuper, error)) {
    p.fatal(error);
    return false;
  }
  return true;
}

// A criterion that could not decide is named once per cause, as a purge
// names it; the messages it left undecided are each in the report.
void warn_undecided(const Matcher& matcher, Printer& p) {
  for (const UndecidedCriterion& u : matcher.undecided_criteria())
    p.warning(u.label + ": " + std::string(undecided_cause_text(u.cause)) +
              "; those messages were not restored (each is reported undecided)");
}

void audit_restore(const RunConfig& c, System& sys, Printer& p, const std::string& queue_dir, const RestoreReport& r,
                   const std::string& summary) {
  std::string error;
  std::unique_ptr<AuditSink> audit = sys.open_audit_log(c.audit_log, error);
  const AuditContext at = audit_context(c, sys, queue_dir, c.archive.run_dir);
  if (!audit || !audit->append(restore_record(at, c.archive.restore_to, summary, r.messages), error))
    p.warning("the audit record of the restore could not be written: " + error);
}

// Without -c, the instance the archive run was made on (its header records
// it), not Postfix's default: restoring goes back where it came from. The
// header is read only from a run that passes RunReader's checks (a run
// another user could write would name any configuration directory).
RunConfig with_recorded_instance(const RunConfig& given) {
  RunConfig c = given;
  RunReader run;
  std::string ignored;  // refused or unreadable: restore_from_archive() says why
  if (c.exec.config_dir.empty() && run.open(c.archive.run_dir, false, ignored))
    c.exec.config_dir = run.manifest().header.config_directory;
  return c;
}

// On a terminal, what a dry run of the same restore would put back, then
// the question; without one, --yes or nothing (app/consent.h).
Consent restore_consent(const RunConfig& c, System& sys, CommandRunner& runner, const std::string& queue_dir) {
  if (c.dry_run || c.yes || !sys.stdin_is_terminal()) return ask_consent(sys, c.yes || c.dry_run, "", "");
  RestoreOptions look = restore_options(c, sys, queue_dir);
  look.dry_run = true;
  look.sys = &sys.sys_calls();
  RestoreReport r = restore_from_archive(look, runner);
  std::size_t would = 0;
  for (const RestoredMessage& m : r.messages) would += m.outcome == "would_restore";
  const std::string instance = c.exec.config_dir.empty() ? "" : " of the instance in " + c.exec.config_dir;
  return ask_consent(sys, false,
                     "archive " + c.archive.run_dir + ": " + count_of(r.messages.size(), "message") + " selected\n",
                     "restore " + these(would, "message") + " to " + c.archive.restore_to + instance + "?");
}

}  // namespace

Outcome restore_mode(const RunConfig& given, System& sys, CommandRunner& runner, Printer& p) {
  const RunConfig c = with_recorded_instance(given);
  std::string queue_dir;
  if (!restore_queue(c, sys, runner, p, queue_dir)) return Outcome::fatal();
  if (!c.dry_run && !c.yes && !sys.stdin_is_terminal()) {
    p.fatal(no_terminal_refusal("restores"));
    return Outcome::fatal();
  }
  std::vector<std::unique_ptr<RunLock>> locks;  // held until the restore is done
  std::string refusal;
  LockRequest req{{queue_dir}, c.argv, c.wait_seconds, [&p](const std::string& line) { p.note(line); }};
  if (!c.dry_run && !take_run_locks(sys, req, locks, refusal)) {
    p.fatal(refusal);
    return Outcome::fatal();
  }
  // What an interrupted run on this instance left comes first (app/recover.h);
  // then this restore is journaled like any acting run.
  Recovery recovered = recover_instance({queue_dir, c.exec.postsuper, c.audit_log, c.argv, c.dry_run}, sys, runner, p);
  if (!c.dry_run && recovered.found && !recovered.settled) {
    p.fatal("an unfinished earlier run could not be recovered: " + recovered.error + "; nothing changed");
    return Outcome::fatal();
  }
  const Consent consent = restore_consent(c, sys, runner, queue_dir);
  if (consent != Consent::kGiven) {
    p.note("nothing changed");
    return Outcome::nothing();
  }
  std::unique_ptr<Journal> journal;
  if (!c.dry_run && !(journal = begin_journal(c, sys, queue_dir, "restore", c.archive.run_dir, refusal))) {
    p.fatal(refusal + "; nothing changed");
    return Outcome::fatal();
  }
  RestoreOptions options = restore_options(c, sys, queue_dir);
  options.sys = &sys.sys_calls();
  RestoreReport r = restore_from_archive(options, runner);
  for (const std::string& w : r.warnings) p.warning(w);
  std::string error;
  if (!r.error.empty()) {
    if (journal) journal->finish(error);  // nothing was done: nothing to recover
    p.fatal(r.error + "; nothing changed");
    return Outcome::fatal();
  }
  const std::map<std::string, std::string> where = queues_now(c, r);
  std::map<std::string, std::size_t> counts;
  for (const RestoredMessage& m : r.messages) {
    auto it = where.find(m.old_id);
    p.restored(m, it == where.end() ? std::string() : it->second);
    ++counts[m.outcome];
  }
  if (!c.selection.matcher->empty()) warn_undecided(*c.selection.matcher, p);
  std::string summary = std::string(c.dry_run ? "dry run: " : "") + "archive " + c.archive.run_dir + ": " +
                        std::to_string(r.messages.size()) + " messages";
  for (const auto& [what, n] : counts) summary += "; " + what + " " + std::to_string(n);
  p.summary(summary);
  const std::size_t restored = counts["restored"], would = counts["would_restore"];
  if (!c.dry_run) audit_restore(c, sys, p, queue_dir, r, summary);
  if (journal && !journal->finish(error)) p.warning("the journal of this run could not be removed: " + error);
  const std::size_t fine = restored + would + counts["already_restored"] + counts["not_deleted"];
  if (restored + would == 0)
    return Outcome::of(fine == r.messages.size() ? Outcome::Kind::kNothing : Outcome::Kind::kPartial);
  return Outcome::of(fine == r.messages.size() ? Outcome::Kind::kDone : Outcome::Kind::kPartial)
      .with_planned(restored + would)
      .with_changed(restored > 0);
}

Outcome list_archives_mode(const RunConfig& c, System&, Printer& p) {
  std::vector<ArchiveRunInfo> runs;
  std::string error;
  if (!list_archive_runs(c.archive.dir, runs, error)) {
    p.fatal(error);
    return Outcome::fatal();
  }
  for (const ArchiveRunInfo& r : runs) p.archive_run(r);
  p.summary(count_of(runs.size(), "archive run") + " in " + c.archive.dir);
  return Outcome::of(runs.empty() ? Outcome::Kind::kNothing : Outcome::Kind::kDone);
}

Outcome prune_archives_mode(const RunConfig& c, System& sys, Printer& p) {
  PruneReport old;
  std::string error;
  if (!prune_archive_runs(c.archive.dir, c.archive.prune_older_than, sys.now(), true, old, error)) {
    p.fatal(error);
    return Outcome::fatal();
  }
  for (const std::string& r : old.busy) p.warning(r + ": still being written by a running qpurge; not removed");
  if (old.removed.empty()) {
    p.summary("no archive run in " + c.archive.dir + " is older than that" + (old.busy.empty() ? "" : " and finished"));
    return Outcome::of(old.busy.empty() ? Outcome::Kind::kNothing : Outcome::Kind::kPartial);
  }
  // A dry run shows what would go; text shows it before asking too, as a purge shows its plan.
  if (c.dry_run || c.output.format == Format::kText)
    for (const std::string& r : old.removed) p.pruned(r, false);
  if (c.dry_run) {
    p.summary("dry run: " + count_of(old.removed.size(), "archive run") + " would be removed");
    return Outcome::of(old.busy.empty() ? Outcome::Kind::kDone : Outcome::Kind::kPartial);
  }
  const Consent consent = ask_consent(sys, c.yes, "", "remove " + these(old.removed.size(), "archive run") + "?");
  if (consent == Consent::kNoTerminal) {
    p.fatal(no_terminal_refusal("removes archive runs"));
    return Outcome::fatal();
  }
  if (consent == Consent::kDeclined) {
    p.note("nothing changed");
    return Outcome::nothing();
  }
  PruneReport done;
  if (!prune_archive_runs(c.archive.dir, c.archive.prune_older_than, sys.now(), false, done, error)) {
    p.fatal(error);
    return Outcome::fatal();
  }
  for (const std::string& r : done.busy) p.warning(r + ": still being written by a running qpurge; not removed");
  for (const std::string& f : done.failed) p.warning(f);
  for (const std::string& r : done.removed) p.pruned(r, true);
  p.summary("removed " + std::to_string(done.removed.size()) + " of " + count_of(old.removed.size(), "archive run"));
  const bool all = done.failed.empty() && done.busy.empty() && done.removed.size() >= old.removed.size();
  return Outcome::of(all ? Outcome::Kind::kDone : Outcome::Kind::kPartial).with_changed(!done.removed.empty());
}

}  // namespace qpurge
