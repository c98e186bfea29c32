// SPDX-License-Identifier: MIT
// purge_act.cc - the engine's acting half: ask, archive, record the intent,
// hand the IDs to postsuper (directly or via hold), report and record the
// result; see purge_state.h.
#include <algorithm>
#include <iterator>

#include "purge_state.h"
#include "qpurge/app/consent.h"
#include "qpurge/app/recover.h"
#include "qpurge/app/steps.h"
#include "qpurge/archive/directory.h"
#include "qpurge/report/output.h"
#include "qpurge/util/check.h"

namespace qpurge {

// --archive: refused before anything changes when the copies would not fit.
void Purge::State::open_archive() {
  if (c.archive.dir.empty()) return;
  std::uint64_t bytes = 0;
  for (const PlanEntry& e : entries) bytes += e.file_size;
  std::string error;
  if (!archive_fits(c.archive.dir, bytes, error)) throw PurgeFatal(error + "; nothing changed");
  ArchiveHeader h;
  h.created = sys.now();
  h.host = sys.hostname();
  h.run_id = sys.run_id();
  // One run directory per instance: the instance goes before the process ID,
  // which the directory's name keeps (the part after the run ID's last dot).
  if (!c.instance.empty()) {
    std::string instance = c.instance;
    for (char& ch : instance)
      if (ch == '.') ch = '_';
    h.run_id = std::to_string(sys.now()) + "." + instance + "-" + std::to_string(sys.process_id());
  }
  h.queue_directory = queue_dir;
  h.config_directory = c.exec.config_dir;
  h.criteria = c.selection.criteria;
  h.argv = c.argv;
  archive = ArchiveWriter::create(c.archive.dir, h, error, sys.sys_calls());
  if (!archive) throw PurgeFatal("cannot make the archive: " + error + "; nothing changed");
}

// The plan's lines on standard output (text), then on the terminal the
// digest of the selection right above the question, whatever standard
// output is (a pipe, a file): the operator answers what they can see.
Consent Purge::State::confirm() {
  if (c.yes || !sys.stdin_is_terminal()) return ask_consent(sys, c.yes, "", "");
  if (c.output.format == Format::kText)
    for (const auto& e : entries) p.entry(e);
  p.flush();
  SelectionView view;
  for (const auto& e : entries) view.add(e);
  const std::string digest = summary + "\n" + view.render(popt.now);
  const ActionInfo& act = action_info(c.exec.action);
  std::size_t mixed = 0;
  for (const PlanEntry& e : entries) mixed += e.cancel;
  std::string what = " ";
  what += these(entries.size() - mixed, "message");
  if (mixed) {
    what += " and cancel the matching recipients of ";
    what += count_of(mixed, "mixed message");
  }
  return ask_consent(sys, false, digest,
                     std::string(act.name) + (c.via_hold ? " (via hold)" : "") + what +
                         (c.instance.empty() ? "" : " on " + c.instance) + "?");
}

AuditContext Purge::State::audit_at() const {
  return audit_context(c, sys, queue_dir, archive ? archive->path() : std::string());
}

AuditAction Purge::State::audit_action() const { return AuditAction{action_info(c.exec.action).name, c.via_hold}; }

// The record of intent is on disk before anything changes.
std::unique_ptr<AuditSink> Purge::State::record_intent() {
  std::string error;
  std::unique_ptr<AuditSink> audit = sys.open_audit_log(c.audit_log, error);
  if (!audit || !audit->append(intent_record(audit_at(), audit_action(), entries), error))
    throw PurgeFatal(error + "; nothing changed (use --audit-log FILE to name a writable log)");
  return audit;
}

Verify Purge::State::verifier(QueueFileRereader& rereader) {
  return [this, &rereader](const PlanEntry& e) { return reverify(rereader, queue_dir, e, *c.selection.matcher, popt); };
}

// The journal is on disk before the first step: it names the archive run.
void Purge::State::begin_journal() {
  std::string error;
  journal = qpurge::begin_journal(c, sys, queue_dir, "purge", archive ? archive->path() : std::string(), error);
  if (!journal) throw PurgeFatal(error + "; nothing changed");
}

// The run is over and recorded: its journal goes, unless messages it held
// are still on hold (a postsuper failure it could not explain), which the
// next acting run on the instance then finishes.
void Purge::State::end_journal(const ViaHoldReport& held) {
  if (!journal) return;
  std::string error;
  if (!held.left_on_hold.empty() || !canceled.left_on_hold.empty()) {
    p.note(
        "the next acting qpurge run on this instance (or qpurge --recover) verifies the messages left on hold "
        "again and deletes or releases them (journal " +
        journal->path() + ")");
    journal.reset();
    return;
  }
  if (!journal->finish(error)) p.warning("the journal of this run could not be removed: " + error);
  journal.reset();
}

ExecReport Purge::State::execute(ViaHoldReport& held) {
  sys.catch_stop_signals();
  ExecOptions eo = c.exec;
  eo.stop = &sys.stop_flag();
  eo.clock_us = [this]() { return sys.monotonic_us(); };
  eo.sleep_us = [this](std::int64_t us) { sys.sleep_us(us); };
  StepHooks hooks;
  hooks.journal = journal.get();
  hooks.archive = archive.get();
  hooks.queue_dir = queue_dir;
  hooks.warn = [this](const std::string& w) { p.warning(w); };
  QueueFileRereader rereader(queue_dir);
  const ActionInfo& act = action_info(c.exec.action);
  auto progress = [this](std::size_t h, std::size_t d, std::size_t total, std::string_view what) {
    p.purge_progress(h, d, total, what, c.exec.rate);
  };
  // --mixed cancel: the whole-matching messages are deleted first, as
  // without it; the mixed ones then have their recipients canceled.
  auto mixed_end = std::stable_partition(entries.begin(), entries.end(), [](const PlanEntry& e) { return !e.cancel; });
  to_cancel.assign(std::make_move_iterator(mixed_end), std::make_move_iterator(entries.end()));
  entries.erase(mixed_end, entries.end());
  if (!c.via_hold) {
    attach_steps(eo, c.exec.action, hooks);
    ExecReport rep = execute_plan(runner, eo, entries, verifier(rereader),
                                  [&](std::size_t h, std::size_t d) { progress(h, d, entries.size(), act.name); });
    cancel(rep, hooks, rereader);
    return rep;
  }
  ViaHoldJob job;
  job.hold = job.del = job.release = eo;
  attach_steps(job.hold, Action::kHold, hooks);
  attach_steps(job.del, Action::kDelete, hooks);
  attach_steps(job.release, Action::kRelease, hooks);
  job.verify = job.verify_held = verifier(rereader);
  job.find_held = scan_hold_queue(queue_dir);
  job.pause = c.hold_pause;
  job.sleep = [this](unsigned s) { sys.sleep_seconds(s); };
  job.progress = progress;
  job.on_stop = [this](const std::string& why) {
    std::string error;
    if (!journal->stopped(why, error)) p.warning("the journal could not record the stop: " + error);
  };
  held = purge_via_hold(runner, job, entries);
  cancel(held.report, hooks, rereader);
  return held.report;
}

// --mixed cancel (act/cancel.h): each message announced in the journal
// before it is crossed off and after; not started when the deletes stopped.
void Purge::State::cancel(ExecReport& rep, const StepHooks& hooks, QueueFileRereader& rereader) {
  if (to_cancel.empty()) return;
  if (!rep.stopped.empty() || sys.stop_flag()) {
    for (const PlanEntry& e : to_cancel) canceled.results.push_back({e.queue, e.id, IdOutcome::kNotAttempted, ""});
    return;
  }
  CancelJob job;
  job.hold = job.release = c.exec;
  job.hold.stop = &sys.stop_flag();
  job.hold.clock_us = [this]() { return sys.monotonic_us(); };
  job.hold.sleep_us = [this](std::int64_t us) { sys.sleep_us(us); };
  attach_steps(job.hold, Action::kHold, hooks);
  attach_steps(job.release, Action::kRelease, hooks);
  job.verify = verifier(rereader);
  job.find_held = scan_hold_queue(queue_dir);
  job.queue_directory = queue_dir;
  job.stop = &sys.stop_flag();
  job.before_cross = [this](const PlanEntry& h, std::string& error) {
    return journal->announce("cancel", {StepId{h.id, h.queue, h.inode}}, error);
  };
  job.after_cross = [this](const PlanEntry& h) {
    std::string error;
    if (!journal->announce("crossed", {StepId{h.id, h.queue, h.inode}}, error))
      p.warning("the journal could not record a finished cancel: " + error);
  };
  job.progress = [this](std::size_t h, std::size_t d, std::size_t total, std::string_view what) {
    p.purge_progress(h, d, total, what, c.exec.rate);
  };
  if (archive) archive_cancels(job);
  canceled = cancel_recipients(runner, job, to_cancel);
  rep.warnings.insert(rep.warnings.end(), canceled.warnings.begin(), canceled.warnings.end());
  rep.interrupted |= canceled.interrupted;
}

// --archive with --mixed cancel: the original is copied and synced while it
// is locked in hold, before its recipients are crossed off, and its outcome
// goes into the manifest as soon as the cross-off is over (archive/writer.h).
void Purge::State::archive_cancels(CancelJob& job) {
  ArchiveWriter* w = archive.get();
  const std::string dir = queue_dir;
  job.archive = [w, dir](const PlanEntry& held, const std::vector<PlanRecipient>& cancel) {
    std::string error;
    return w->store(dir, held, error, &cancel) ? std::string() : error;
  };
  job.settled = [this, w](const IdResult& r) {
    std::string error;
    if (!w->settle({r}, error))
      p.warning("the outcome of a cancel could not be recorded in the archive: " + error +
                "; the next qpurge run on this instance settles it from the queue file");
  };
}

// What the cancel did: a line per message, one audit record per message
// naming its canceled recipients, and the summary's part.
void Purge::State::report_cancel(AuditSink& audit, std::string& result) {
  if (to_cancel.empty()) return;
  static const ActionInfo kCancel{Action::kDelete, "cancel", "", "", "", "canceled"};
  for (const IdResult& r : canceled.results) p.result(r, kCancel);
  p.flush();
  std::string error;
  for (std::size_t i = 0; i < to_cancel.size() && i < canceled.results.size(); ++i)
    if (canceled.results[i].outcome == IdOutcome::kDone &&
        !audit.append(cancel_record(audit_at(), to_cancel[i], canceled.results[i]), error))
      p.warning("the audit record of a cancel could not be written: " + error);
  if (!canceled.stopped.empty()) p.warning("canceling stopped: " + canceled.stopped);
  if (!canceled.left_on_hold.empty()) {
    p.warning(std::to_string(canceled.left_on_hold.size()) +
              " messages qpurge put on hold to cancel recipients are still there; to release them:");
    p.command(release_command(c.exec, canceled.left_on_hold));
  }
  std::size_t changed = 0, not_done = 0;
  for (const IdResult& r : canceled.results) {
    changed += r.outcome == IdOutcome::kChanged || r.outcome == IdOutcome::kNotFound;
    not_done += r.outcome == IdOutcome::kFailed || r.outcome == IdOutcome::kNotAttempted ||
                r.outcome == IdOutcome::kNotArchived;
  }
  result += "; canceled ";
  result += std::to_string(canceled.canceled_recipients);
  result += " recipients in ";
  result += std::to_string(canceled.messages());
  result += " messages (of ";
  result += std::to_string(to_cancel.size());
  result += " mixed; changed since planning ";
  result += std::to_string(changed);
  result += "; not done ";
  result += std::to_string(not_done);
  result += ")";
}

void Purge::State::report(const ExecReport& rep, const ViaHoldReport& held) {
  p.clear_progress();
  const ActionInfo& act = action_info(c.exec.action);
  for (const IdResult& r : rep.results) p.result(r, act);
  p.flush();
  for (const auto& w : rep.warnings) p.warning("postsuper said: " + w);
  if (!rep.stopped.empty()) {
    p.warning("stopped: " + rep.stopped + "; no further postsuper run was started");
    if (std::size_t n = rep.count(IdOutcome::kNotAttempted))
      p.warning(std::to_string(n) +
                " messages were not attempted; find out what happened to postsuper (see the mail "
                "log), then run the same qpurge command again: it plans afresh");
  }
  if (!held.left_on_hold.empty()) {
    p.warning(std::to_string(held.left_on_hold.size()) +
              " messages qpurge put on hold are still there; to release them:");
    p.command(release_command(c.exec, held.left_on_hold));
  }
}

bool Purge::State::record_result(AuditSink& audit, const ExecReport& rep, const std::string& result) {
  std::string error;
  if (audit.append(result_record(audit_at(), audit_action(), result, rep.results), error)) return true;
  p.warning("the audit record of what was done could not be written: " + error +
            "; what was done is only in this output and in syslog");
  return false;
}

// --archive: the outcome of each delete went into the run's manifest as its
// batch settled (app/steps.h); the summary says where the copies are.
bool Purge::State::record_archive_outcomes(const ExecReport&, std::string& result) {
  if (!archive) return true;
  result += "; archived " + std::to_string(archive->stored_messages()) + " in " + archive->path();
  return true;
}

// One line to syslog (facility mail, ident qpurge), as postsuper logs its own.
void Purge::State::log_result(const std::string& result) {
  sys.syslog((c.instance.empty() ? "" : "[" + c.instance + "] ") + result + " (" + criteria_json(c.selection.criteria) +
             ")");
}

Outcome Purge::State::finish(const ExecReport& rep, bool recorded) {
  const std::size_t done = rep.count(IdOutcome::kDone);
  bool all = done + rep.count(IdOutcome::kAlready) == rep.results.size() && !rep.totals_mismatch && !rep.interrupted &&
             rep.stopped.empty();
  all = all && canceled.messages() == to_cancel.size() && canceled.stopped.empty() && canceled.left_on_hold.empty();
  return Outcome::of(all && !partial && recorded ? Outcome::Kind::kDone : Outcome::Kind::kPartial)
      .with_planned(entries.size() + to_cancel.size())
      .with_changed(done > 0 || canceled.messages() > 0);
}

Outcome Purge::act() {
  State& s = *s_;
  std::unique_ptr<AuditSink> audit;
  try {
    const Consent consent = s.confirm();
    if (consent == Consent::kNoTerminal)
      throw PurgeFatal(no_terminal_refusal(std::string(action_info(s.c.exec.action).name) + "s " +
                                           these(s.entries.size(), "message")));
    if (consent == Consent::kDeclined) {
      s.p.note("nothing changed");
      return Outcome::nothing();
    }
    s.open_archive();
    audit = s.record_intent();
    s.begin_journal();
  } catch (const PurgeFatal& e) {
    s.p.fatal(e.what());
    return Outcome::fatal();
  }
  QPURGE_CHECK(audit != nullptr);  // no change without its record of intent
  ViaHoldReport held;
  ExecReport rep = s.execute(held);
  if (s.sys.stop_flag()) rep.interrupted = true;
  s.warn_undecided();  // re-verification evaluates again
  s.report(rep, held);
  std::string result = result_summary(rep, action_info(s.c.exec.action));
  s.report_cancel(*audit, result);
  bool recorded = s.record_archive_outcomes(rep, result);
  recorded = s.record_result(*audit, rep, result) && recorded;
  s.log_result(result);
  s.end_journal(held);
  s.p.summary(s.summary);
  s.p.summary(result);
  s.p.flush();
  s.hint_mixed();
  return s.finish(rep, recorded);
}

}  // namespace qpurge
