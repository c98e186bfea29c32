// SPDX-License-Identifier: MIT
// recover.cc - finishing or undoing what a dead run left; see recover.h.
#include "qpurge/app/recover.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "qpurge/act/journal.h"
#include "qpurge/act/run_lock.h"
#include "qpurge/app/audit_record.h"
#include "qpurge/app/config.h"
#include "qpurge/app/steps.h"
#include "qpurge/archive/restore.h"
#include "qpurge/archive/writer.h"
#include "qpurge/postfix/postconf.h"
#include "qpurge/report/output.h"
#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_scan.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {
namespace {

// "run R (pid P, started T) did not finish: qpurge ...; it had held 3
// messages, handed 5 to postsuper and heard back about 2".
std::string describe(const JournalContents& j) {
  std::string argv;
  for (const std::string& a : j.header.argv) argv += (argv.empty() ? "" : " ") + a;
  std::string s = "run " + j.header.run_id + " (pid " + std::to_string(j.header.pid) + ", started " +
                  format_time(j.header.started) + ") did not finish: " + argv;
  s += "; it had held " + std::to_string(j.held.size()) + " messages, handed " + std::to_string(j.handed.size()) +
       " to postsuper and heard back about " + std::to_string(j.results.size());
  if (!j.canceling.empty())
    s += "; it had begun to cancel recipients of " + std::to_string(j.canceling.size()) + " messages and finished " +
         std::to_string(j.crossed.size());
  if (!j.header.archive.empty()) s += " (its archive: " + j.header.archive + ")";
  if (!j.stopped.empty()) s += "; it had been stopped: " + j.stopped;
  return s;
}

// The directory of hold (flat or hashed) that holds `id`, relative to the
// queue directory; "" when none does.
std::string held_dir(const std::string& queue_dir, const std::string& id) {
  for (int depth : {0, 1, 2}) {
    const std::string rel = defer_log_path(id, depth);  // "defer/H/ID": the hash, whatever the queue
    const std::string dir = "hold" + rel.substr(rel.find('/'), rel.rfind('/') - rel.find('/'));
    struct stat st;
    if (::lstat((queue_dir + "/" + dir + "/" + id).c_str(), &st) == 0) return dir;
  }
  return {};
}

class Recoverer {
 public:
  Recoverer(const RecoveryContext& c, System& sys, CommandRunner& runner, Printer& p, JournalContents j,
            std::string path)
      : c_(c), sys_(sys), runner_(runner), p_(p), j_(std::move(j)), path_(std::move(path)) {}

  Recovery run();

 private:
  bool settle_archive();
  void settle_handed();
  bool finish_via_hold();
  void sort_held(std::vector<PlanEntry>& to_delete, std::vector<PlanEntry>& to_release);
  ExecOptions exec(Action action, ArchiveWriter* archive);
  void take(const ExecReport& rep);
  void audit(const std::string& summary);

  const RecoveryContext& c_;
  System& sys_;
  CommandRunner& runner_;
  Printer& p_;
  JournalContents j_;
  std::string path_;
  std::unique_ptr<Journal> journal_;
  std::vector<IdResult> results_;
  Recovery out_;
};

// With an archive, what the dead run handed to postsuper is settled in its
// manifest, as a restore would settle it.
bool Recoverer::settle_archive() {
  if (j_.header.archive.empty()) return true;
  RestoreOptions o;
  o.run_dir = j_.header.archive;
  o.queue_dir = c_.queue_dir;
  o.config_dir = j_.header.config_directory;
  o.postsuper = c_.postsuper;
  o.host = sys_.hostname();
  o.force_other_instance = true;
  o.settle_only = true;
  o.now = sys_.now();
  o.sys = &sys_.sys_calls();
  RestoreReport r = restore_from_archive(o, runner_);
  for (const std::string& w : r.warnings) p_.warning(w);
  if (r.error.empty()) return true;
  out_.error = "its archive " + j_.header.archive + " could not be settled: " + r.error;
  return false;
}

// Without an archive: what it handed and never heard back about.
void Recoverer::settle_handed() {
  std::set<std::string> heard;
  for (const IdResult& r : j_.results) heard.insert(r.id);
  for (const StepId& s : j_.handed) {
    if (heard.count(s.id)) continue;
    std::optional<std::string> now = find_message(c_.queue_dir, s.id, s.inode);
    if (!now) continue;
    const bool gone = now->empty();
    results_.push_back(IdResult{s.queue, s.id,
                                gone && j_.header.action == "delete" ? IdOutcome::kDone : IdOutcome::kNotAttempted,
                                gone ? "handed to postsuper by the dead run, gone from every queue"
                                     : "handed to postsuper by the dead run, still in " + *now});
  }
}

ExecOptions Recoverer::exec(Action action, ArchiveWriter* archive) {
  ExecOptions eo;
  eo.postsuper = c_.postsuper;
  eo.config_dir = j_.header.config_directory;
  eo.action = action;
  StepHooks hooks;
  hooks.journal = journal_.get();
  hooks.archive = archive;
  hooks.queue_dir = c_.queue_dir;
  hooks.warn = [this](const std::string& w) { p_.warning(w); };
  attach_steps(eo, action, hooks);
  return eo;
}

// Each message the dead run held and left in hold (same inode): deleted when
// the run held it to delete (--via-hold) and its criteria still select it,
// released when they do not, the run had been stopped, or it was held to
// cancel recipients of (--mixed cancel).
void Recoverer::sort_held(std::vector<PlanEntry>& to_delete, std::vector<PlanEntry>& to_release) {
  std::set<std::string> released;
  for (const StepId& s : j_.released) released.insert(s.id);
  std::shared_ptr<const Matcher> matcher = build_matcher(j_.header.criteria, j_.header.regex, j_.header.decode_headers);
  PlanOptions popt;
  popt.mixed = j_.header.mixed == "include" ? MixedPolicy::kInclude : MixedPolicy::kSkip;
  if (j_.header.body_limit) popt.body_limit = static_cast<std::size_t>(j_.header.body_limit);
  popt.now = sys_.now();
  QueueFileRereader files(c_.queue_dir);
  std::set<std::string> seen;
  for (const StepId& s : j_.held) {
    if (!seen.insert(s.id).second || find_message(c_.queue_dir, s.id, s.inode) != std::optional<std::string>("hold"))
      continue;
    FileInfo info;
    const Message* msg = nullptr;
    std::string error;
    PlanEntry e;
    e.dir = held_dir(c_.queue_dir, s.id);
    if (files.read(e.dir + "/" + s.id, info, msg, error) == FileStatus::kMessage) {
      info.queue = "hold";
      info.dir = std::make_shared<const std::string>(e.dir);
      info.id = s.id;
      e = make_plan_entry(info, *msg, Verdict{}, false);
    }
    e.queue = "hold";
    e.id = s.id;
    e.inode = s.inode;
    // Only --via-hold holds to delete: a message held to cancel recipients of is released.
    const bool keep_going = j_.header.via_hold && j_.stopped.empty() && !released.count(s.id) &&
                            reverify(files, c_.queue_dir, e, *matcher, popt).kind == Verification::kSame;
    (keep_going ? to_delete : to_release).push_back(std::move(e));
  }
}

bool Recoverer::finish_via_hold() {
  std::vector<PlanEntry> to_delete, to_release;
  sort_held(to_delete, to_release);
  if (to_delete.empty() && to_release.empty()) return true;
  std::unique_ptr<ArchiveWriter> archive;
  std::string error;
  if (!to_delete.empty() && !j_.header.archive.empty()) {
    archive = ArchiveWriter::reopen(j_.header.archive, error, sys_.sys_calls());
    if (!archive) {
      out_.error = "the messages it held cannot be archived before they are deleted: " + error;
      return false;
    }
  }
  if (!to_delete.empty()) {
    ExecReport deleted = execute_plan(runner_, exec(Action::kDelete, archive.get()), to_delete, {});
    take(deleted);
    if (!deleted.stopped.empty()) return false;  // no further postsuper: left on hold, journal kept
    // What was not deleted (its copy could not be made) is released too.
    for (std::size_t i = 0; i < deleted.results.size(); ++i)
      if (deleted.results[i].outcome != IdOutcome::kDone)
        for (const PlanEntry& e : to_delete)
          if (e.id == deleted.results[i].id) to_release.push_back(e);
  }
  if (!to_release.empty()) take(execute_plan(runner_, exec(Action::kRelease, nullptr), to_release, {}));
  return out_.error.empty();
}

void Recoverer::take(const ExecReport& rep) {
  out_.changed |= rep.count(IdOutcome::kDone) > 0;
  results_.insert(results_.end(), rep.results.begin(), rep.results.end());
  if (!rep.stopped.empty()) out_.error = "postsuper: " + rep.stopped;
}

void Recoverer::audit(const std::string& summary) {
  const AuditContext at{sys_, c_.argv, "", c_.queue_dir, j_.header.archive, j_.header.criteria};
  const std::string line = recover_record(at, text_escaped(j_.header.run_id), j_.header.pid,
                                          AuditAction{j_.header.action, j_.header.via_hold}, summary, results_);
  std::string error;
  std::unique_ptr<AuditSink> sink = sys_.open_audit_log(c_.audit_log, error);
  if (!sink || !sink->append(line, error))
    p_.warning("the audit record of the recovery could not be written: " + error);
}

Recovery Recoverer::run() {
  std::string error;
  journal_ = Journal::reopen(path_, error, sys_.sys_calls());
  if (!journal_) {
    out_.error = error;
    return out_;
  }
  if (!settle_archive()) return out_;
  if (j_.header.mode == "purge") {
    if (j_.header.archive.empty()) settle_handed();
    // --mixed cancel holds mixed messages too: what it held is released
    // (a cancel it had begun is finished by the next run's own plan).
    if ((j_.header.via_hold || j_.header.mixed == "cancel") && !finish_via_hold()) return out_;
  }
  if (!out_.error.empty()) return out_;
  std::size_t done = 0;
  for (const IdResult& r : results_) done += r.outcome == IdOutcome::kDone;
  const std::string summary = "recovered run " + j_.header.run_id + ": " + std::to_string(results_.size()) +
                              " messages settled, " + std::to_string(done) + " of them done";
  audit(summary);
  journal_.reset();
  if (!remove_journal(path_, error)) {
    out_.error = error;
    return out_;
  }
  p_.note(summary);
  out_.settled = true;
  return out_;
}

}  // namespace

Recovery recover_instance(const RecoveryContext& c, System& sys, CommandRunner& runner, Printer& p) {
  Recovery out;
  std::string path, error;
  if (!journal_path(sys.journal_directory(), c.queue_dir, path, error)) return out;  // no queue: nothing to recover
  JournalContents j;
  bool exists = false;
  if (!read_journal(path, j, exists, error)) {
    out.found = true;
    out.error = error;
    return out;
  }
  if (!exists) return out;
  if (c.dry_run && sys.process_running(j.header.pid)) return out;  // a live run's: not unfinished
  p.warning(describe(j));
  if (c.dry_run) {
    out.found = true;
    p.note("a dry run changes nothing: the next acting qpurge run on this instance (or qpurge --recover) finishes it");
    return out;
  }
  out = Recoverer(c, sys, runner, p, std::move(j), path).run();
  out.found = true;
  return out;
}

Outcome recover_mode(const RunConfig& c, System& sys, CommandRunner& runner, Printer& p) {
  std::string queue_dir, error;
  if (!postconf_value(runner, c.postconf, c.exec.config_dir, "queue_directory", queue_dir, error)) {
    p.fatal("cannot find the queue directory: " + error);
    return Outcome::fatal();
  }
  if (sys.effective_uid() != 0) {
    p.fatal("recovering is reserved for the superuser, as postsuper is");
    return Outcome::fatal();
  }
  if (!sys.can_execute(c.exec.postsuper, error)) {
    p.fatal(error);
    return Outcome::fatal();
  }
  std::vector<std::unique_ptr<RunLock>> locks;
  LockRequest req{{queue_dir}, c.argv, c.wait_seconds, [&p](const std::string& line) { p.note(line); }};
  if (!take_run_locks(sys, req, locks, error)) {
    p.fatal(error);
    return Outcome::fatal();
  }
  Recovery r =
      recover_instance(RecoveryContext{queue_dir, c.exec.postsuper, c.audit_log, c.argv, false}, sys, runner, p);
  if (!r.found) {
    p.summary("no interrupted run to recover on " + queue_dir);
    return Outcome::nothing();
  }
  if (r.settled) return Outcome::of(Outcome::Kind::kDone).with_changed(r.changed);
  p.fatal("the interrupted run could not be recovered: " + r.error);
  return Outcome::fatal().with_changed(r.changed);
}

std::unique_ptr<Journal> begin_journal(const RunConfig& c, System& sys, const std::string& queue_dir,
                                       const std::string& mode, const std::string& archive, std::string& error) {
  JournalHeader h;
  h.run_id = sys.run_id();
  h.pid = sys.process_id();
  h.started = sys.now();
  h.host = sys.hostname();
  h.argv = c.argv;
  h.mode = mode;
  h.action = std::string(action_info(c.exec.action).name);
  h.via_hold = c.via_hold;
  h.mixed = std::string(mixed_name(c.plan.mixed));
  h.regex = c.selection.regex;
  h.decode_headers = c.selection.decode_headers;
  h.body_limit = c.plan.body_limit;
  h.queue_directory = queue_dir;
  h.config_directory = c.exec.config_dir;
  h.archive = archive;
  h.criteria = c.selection.criteria;
  std::string path;
  if (!journal_path(sys.journal_directory(), queue_dir, path, error)) return nullptr;
  std::unique_ptr<Journal> j = Journal::begin(path, h, error, sys.sys_calls());
  if (!j) error = "cannot begin the journal of this run: " + error;
  return j;
}

}  // namespace qpurge
