// SPDX-License-Identifier: MIT
// cancel.cc - the recipient cancel protocol; see cancel.h.
#include "qpurge/act/cancel.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <utility>

#include "qpurge/spool/cross_off.h"
#include "qpurge/spool/defer_log_edit.h"
#include "qpurge/spool/queue_file.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {
namespace {

using Pending = std::vector<std::pair<std::uint64_t, std::string>>;

Pending pending_of(const PlanEntry& e) {
  Pending p;
  for (const PlanRecipient& r : e.recipients) p.emplace_back(r.offset, r.address);
  std::sort(p.begin(), p.end());
  return p;
}

Pending pending_of(const Message& m) {
  Pending p;
  for (const Recipient& r : m.recipients) p.emplace_back(r.offset, std::string(m.str(r.address)));
  std::sort(p.begin(), p.end());
  return p;
}

CrossOffResult changed(std::string why) { return CrossOffResult{CrossOffResult::kChanged, std::move(why), 0}; }
CrossOffResult failed(std::string why) { return CrossOffResult{CrossOffResult::kFailed, std::move(why), 0}; }

// Steps 2 and 3: the file open read-write, locked as qmgr locks it, and
// checked to be the planned message with the planned pending recipients.
CrossOffResult open_and_verify(const std::string& path, const PlanEntry& held, Fd& fd) {
  fd = Fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) return changed(errno == ENOENT ? "vanished from hold" : sys_error(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return changed(sys_error(path));
  if (!S_ISREG(st.st_mode)) return changed("not a regular file");
  if (static_cast<std::uint64_t>(st.st_ino) != held.inode) return changed("different file (inode changed)");
  if ((st.st_mode & 0700) != 0700) return changed("being rewritten");
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return changed(errno == EWOULDBLOCK ? "being delivered (the queue file is locked)" : sys_error(path + ": flock"));
  FdSource source(fd.get(), static_cast<std::uint64_t>(st.st_size));
  RecordReader reader;
  Message msg;
  std::string error;
  if (!parse_queue_file(source, reader, msg, error)) return changed("unreadable: " + error);
  if (msg.arrival_time != held.arrival_time || msg.sender_str() != held.sender)
    return changed("different message (arrival time or sender changed)");
  if (pending_of(msg) != pending_of(held)) return changed("its pending recipients changed");
  return CrossOffResult{};
}

std::string names(const std::vector<PlanRecipient>& rs) {
  std::string s;
  for (const PlanRecipient& r : rs) s += (s.empty() ? "" : ", ") + r.address;
  return s;
}

bool stop_requested(const CancelJob& job) { return job.stop && job.stop->load(); }

}  // namespace

std::vector<PlanRecipient> recipients_to_cancel(const PlanEntry& e) {
  std::vector<PlanRecipient> out;
  for (const PlanRecipient& r : e.recipients)
    if (r.matched) out.push_back(r);
  return out;
}

CrossOffResult cross_off_held(const std::string& queue_directory, const PlanEntry& held, const ArchiveHeld& archive) {
  const std::string path = queue_directory + "/" + held.path();
  Fd fd;
  CrossOffResult v = open_and_verify(path, held, fd);
  if (v.kind != CrossOffResult::kCrossed) return v;
  const std::vector<PlanRecipient> cancel = recipients_to_cancel(held);
  if (cancel.empty() || cancel.size() == held.recipients.size()) return changed("not a mixed message");
  if (archive) {
    std::string why = archive(held, cancel);
    if (!why.empty()) return CrossOffResult{CrossOffResult::kNotArchived, std::move(why), 0};
  }
  std::set<std::uint64_t> offsets;
  for (const PlanRecipient& r : cancel) {
    std::string error;
    if (!cross_off(fd.get(), r.offset, r.address, error))
      return offsets.empty() ? changed(error) : failed(path + ": " + error + "; some recipients were crossed off");
    offsets.insert(r.offset);
  }
  if (!sync_fd(fd.get())) return failed(sys_error(path + ": fsync"));
  CrossOffResult done;
  for (const std::string& log : message_logfiles(queue_directory, held.id)) {
    std::size_t dropped = 0;
    std::string error;
    if (!edit_logfile(log, offsets, dropped, error))
      return failed("recipients crossed off, but the logfile could not be edited: " + error);
    done.log_entries += dropped;
  }
  return done;  // the lock goes with fd
}

std::size_t CancelReport::messages() const {
  return static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const IdResult& r) { return r.outcome == IdOutcome::kDone; }));
}

namespace {

// Where each planned message stands while the protocol runs.
struct CancelRun {
  const CancelJob& job;
  CancelReport& rep;
  std::map<std::string, IdResult> outcome;
  std::set<std::string> held_by_us;
  std::vector<PlanEntry> held;        // found in hold and verified before holding
  std::vector<PlanEntry> to_release;  // held by us, to release
  bool halted = false;

  void hold(CommandRunner& runner, const std::vector<PlanEntry>& plan);
  void cross_one(const PlanEntry& h);
  void take(const PlanEntry& h, bool ours, const CrossOffResult& x, IdResult& r);
  void release(CommandRunner& runner);
};

void CancelRun::hold(CommandRunner& runner, const std::vector<PlanEntry>& plan) {
  std::vector<PlanEntry> to_hold;
  for (const PlanEntry& e : plan) {
    if (e.queue != "hold") {
      to_hold.push_back(e);
      continue;
    }
    Verification v = job.verify ? job.verify(e) : Verification{};
    if (v.kind != Verification::kSame)
      outcome[e.id] =
          IdResult{e.queue, e.id, v.kind == Verification::kVanished ? IdOutcome::kNotFound : IdOutcome::kChanged,
                   v.why + "; left on hold"};
  }
  ExecOptions eo = job.hold;
  eo.action = Action::kHold;
  ExecReport hr = execute_plan(runner, eo, to_hold, job.verify, [&](std::size_t h, std::size_t d) {
    if (job.progress) job.progress(h, d, to_hold.size(), "holding");
  });
  for (const IdResult& r : hr.results)
    if (r.outcome == IdOutcome::kDone)
      held_by_us.insert(r.id);
    else
      outcome[r.id] = r;
  rep.warnings = hr.warnings;
  rep.interrupted = hr.interrupted;
  if (!hr.stopped.empty()) {
    rep.stopped = hr.stopped;
    halted = true;
  }
}

void CancelRun::cross_one(const PlanEntry& h) {
  const bool ours = held_by_us.count(h.id) > 0;
  IdResult& r = outcome[h.id];
  r = IdResult{ours ? "hold" : h.queue, h.id, IdOutcome::kNotAttempted, ""};
  std::string error;
  if (halted || stop_requested(job)) {
    if (ours) to_release.push_back(h);
    return;
  }
  if (job.before_cross && !job.before_cross(h, error)) {
    halted = true;
    rep.stopped = "the journal could not record the cancel: " + error;
    if (ours) to_release.push_back(h);
    return;
  }
  const CrossOffResult x = job.cross_off ? job.cross_off(h) : cross_off_held(job.queue_directory, h, job.archive);
  take(h, ours, x, r);
  if (job.settled) job.settled(r);
  if (x.kind == CrossOffResult::kCrossed && job.after_cross) job.after_cross(h);
}

void CancelRun::take(const PlanEntry& h, bool ours, const CrossOffResult& x, IdResult& r) {
  if (x.kind == CrossOffResult::kFailed) {
    r.outcome = IdOutcome::kFailed;
    r.detail = x.detail + "; left on hold";
    halted = true;
    rep.stopped = h.id + ": " + x.detail;
    if (ours) rep.left_on_hold.push_back(h.id);
    return;
  }
  if (ours) to_release.push_back(h);
  const char* unchanged = ours ? "; released unchanged" : "; left on hold unchanged";
  if (x.kind == CrossOffResult::kChanged) {
    r.outcome = IdOutcome::kChanged;
    r.detail = x.detail + unchanged;
    return;
  }
  if (x.kind == CrossOffResult::kNotArchived) {
    r.outcome = IdOutcome::kNotArchived;
    r.detail = "not canceled: its copy could not be made: " + x.detail + unchanged;
    return;
  }
  const std::vector<PlanRecipient> cancel = recipients_to_cancel(h);
  r.outcome = IdOutcome::kDone;
  r.detail = "canceled " + names(cancel);
  rep.canceled_recipients += cancel.size();
}

void CancelRun::release(CommandRunner& runner) {
  if (to_release.empty()) return;
  ExecOptions eo = job.release;
  eo.action = Action::kRelease;
  eo.stop = nullptr;  // what qpurge held goes back even when the operator stopped the run
  ExecReport rr = execute_plan(
      runner, eo, to_release, [](const PlanEntry&) { return Verification{}; },
      [&](std::size_t h, std::size_t d) {
        if (job.progress) job.progress(h, d, to_release.size(), "releasing");
      });
  rep.warnings.insert(rep.warnings.end(), rr.warnings.begin(), rr.warnings.end());
  for (const IdResult& r : rr.results) {
    if (r.outcome == IdOutcome::kDone || r.outcome == IdOutcome::kAlready) continue;
    rep.left_on_hold.push_back(r.id);
    IdResult& o = outcome[r.id];
    if (o.outcome == IdOutcome::kDone) o.detail += "; not released: " + std::string(outcome_name(r.outcome));
  }
  if (!rr.stopped.empty() && rep.stopped.empty()) rep.stopped = rr.stopped;
}

}  // namespace

CancelReport cancel_recipients(CommandRunner& runner, const CancelJob& job, const std::vector<PlanEntry>& plan) {
  CancelReport rep;
  CancelRun run{job, rep, {}, {}, {}, {}, false};
  run.hold(runner, plan);
  std::set<std::string> wanted;
  for (const PlanEntry& e : plan)
    if (!run.outcome.count(e.id)) wanted.insert(e.id);
  std::map<std::string, std::string> found;
  std::string error;
  if (!run.halted && !wanted.empty() && job.find_held && !job.find_held(wanted, found, error)) {
    rep.stopped = "cannot read the hold queue: " + error;
    run.halted = true;
  }
  if (run.halted) {
    // Nothing crossed off; what qpurge held stays on hold, said so.
    for (const std::string& id : run.held_by_us) rep.left_on_hold.push_back(id);
    run.held_by_us.clear();
  }
  std::size_t done = 0;
  for (const PlanEntry& e : plan) {
    if (run.outcome.count(e.id)) continue;
    auto f = found.find(e.id);
    if (f == found.end()) {
      run.outcome[e.id] = IdResult{e.queue, e.id, run.halted ? IdOutcome::kNotAttempted : IdOutcome::kNotFound,
                                   run.halted ? "" : "not in the hold queue after holding"};
      continue;
    }
    PlanEntry h = e;
    h.queue = "hold";
    h.dir = f->second;
    run.cross_one(h);
    ++done;
    if (job.progress) job.progress(done, done, wanted.size(), "canceling");
  }
  if (stop_requested(job)) rep.interrupted = true;
  run.release(runner);
  for (const PlanEntry& e : plan) rep.results.push_back(run.outcome[e.id]);
  return rep;
}

}  // namespace qpurge
