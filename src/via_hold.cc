// SPDX-License-Identifier: MIT
// via_hold.cc - the two-phase delete; see via_hold.h.
#include "qpurge/via_hold.h"

#include "qpurge/queue_scan.h"

namespace qpurge {
namespace {

struct Phase2 {
  std::vector<PlanEntry> to_delete, to_release;
  std::map<std::string, std::string> why_released;
};

// Phase 1: hold what is not on hold yet. Results other than done are final.
ExecReport hold_phase(CommandRunner& runner, const ViaHoldJob& job, const std::vector<PlanEntry>& plan,
                      std::set<std::string>& held_by_us, std::map<std::string, IdResult>& outcome) {
  std::vector<PlanEntry> to_hold;
  for (const auto& e : plan)
    if (e.queue != "hold") to_hold.push_back(e);
  ExecOptions hold = job.exec;
  hold.action = Action::kHold;
  hold.before_hand_over = nullptr;  // only what is deleted is archived
  hold.before_write = nullptr;
  ExecReport held = execute_plan(runner, hold, to_hold, job.verify, [&](std::size_t h, std::size_t d) {
    if (job.progress) job.progress(h, d, to_hold.size(), "holding");
  });
  for (const IdResult& r : held.results) {
    if (r.outcome == IdOutcome::kDone)
      held_by_us.insert(r.id);
    else
      outcome[r.id] = r;
  }
  return held;
}

// Verifies each candidate found in hold: delete it, or release it if qpurge held it.
Phase2 sort_held(const ViaHoldJob& job, const std::vector<PlanEntry>& plan, const std::set<std::string>& held_by_us,
                 const std::map<std::string, std::string>& found, std::map<std::string, IdResult>& outcome) {
  Phase2 p;
  for (const auto& e : plan) {
    if (e.queue != "hold" && !held_by_us.count(e.id)) continue;
    auto f = found.find(e.id);
    if (f == found.end()) {
      outcome[e.id] = IdResult{"hold", e.id, IdOutcome::kNotFound, "not in the hold queue after holding"};
      continue;
    }
    PlanEntry held = e;
    held.queue = "hold";
    held.dir = f->second;
    Verification v = job.verify_held ? job.verify_held(held) : Verification{};
    const std::string why = v.kind == Verification::kVanished ? "vanished from hold" : v.why;
    if (v.kind == Verification::kSame) {
      p.to_delete.push_back(std::move(held));
    } else if (held_by_us.count(e.id)) {
      p.why_released[e.id] = why;
      p.to_release.push_back(std::move(held));
    } else {
      outcome[e.id] = IdResult{"hold", e.id, IdOutcome::kChanged, why + "; left on hold"};
    }
  }
  return p;
}

void merge_report(const ExecReport& rep, ExecReport& final_report) {
  final_report.warnings.insert(final_report.warnings.end(), rep.warnings.begin(), rep.warnings.end());
  final_report.totals_mismatch |= rep.totals_mismatch;
  final_report.batches += rep.batches;
  if (final_report.stopped.empty()) final_report.stopped = rep.stopped;
}

// What qpurge held and could not take further stays on hold, said so.
void leave_on_hold(const std::string& why, const std::vector<std::string>& ids, ViaHoldReport& out,
                   std::map<std::string, IdResult>& outcome) {
  for (const std::string& id : ids) {
    outcome[id] = IdResult{"hold", id, IdOutcome::kFailed, "placed on hold by qpurge and left there: " + why};
    out.left_on_hold.push_back(id);
  }
}

void delete_and_release(CommandRunner& runner, const ViaHoldJob& job, Phase2& p,
                        const std::set<std::string>& held_by_us, std::map<std::string, IdResult>& outcome,
                        ViaHoldReport& out) {
  ExecOptions del = job.exec;
  del.action = Action::kDelete;
  del.stop = nullptr;  // the selection is on hold now: finish what was verified
  ExecReport deleted = execute_plan(runner, del, p.to_delete, {}, [&](std::size_t h, std::size_t d) {
    if (job.progress) job.progress(h, d, p.to_delete.size(), "deleting from hold");
  });
  merge_report(deleted, out.report);
  std::vector<std::string> left;
  for (const IdResult& r : deleted.results) {
    outcome[r.id] = r;
    if (r.outcome != IdOutcome::kDone && held_by_us.count(r.id)) left.push_back(r.id);
  }
  if (!deleted.stopped.empty()) {  // start no further run: what was to be released stays on hold too
    for (const PlanEntry& e : p.to_release) left.push_back(e.id);
    leave_on_hold(deleted.stopped, left, out, outcome);
    return;
  }
  ExecOptions rel = job.exec;
  rel.action = Action::kRelease;
  rel.before_hand_over = nullptr;
  rel.before_write = nullptr;
  rel.stop = nullptr;
  ExecReport released = execute_plan(runner, rel, p.to_release, {});
  merge_report(released, out.report);
  for (const IdResult& r : released.results) {
    IdResult x = r;
    x.outcome = IdOutcome::kChanged;
    x.detail = p.why_released[r.id] +
               (r.outcome == IdOutcome::kDone ? "; released from hold" : "; release failed: left on hold");
    outcome[r.id] = x;
    if (r.outcome != IdOutcome::kDone) out.left_on_hold.push_back(r.id);
  }
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

// A hold queue that cannot be listed, in whole or in part, is a failure:
// the IDs not found there would be misreported as gone.
HoldFinder scan_hold_queue(const std::string& queue_directory) {
  return [queue_directory](const std::set<std::string>& ids, std::map<std::string, std::string>& found,
                           std::string& error) {
    ScanOptions scan;
    scan.queue_directory = queue_directory;
    scan.queues = {"hold"};
    ScanStats stats;
    std::string bad;
    bool ok = scan_queues(
        scan, [](const FileInfo&, const Message&) { return std::any(); },
        [&](ScanRecord& r) {
          if (r.info.id.empty() && r.info.dir && bad.empty())
            bad = *r.info.dir + ": " + r.error;
          else if (ids.count(r.info.id) && r.info.dir)
            found[r.info.id] = *r.info.dir;
        },
        stats, error);
    if (ok && stats.bad_directories) {
      error = bad.empty() ? "hold: cannot be read" : bad;
      return false;
    }
    return ok;
  };
}

ViaHoldReport purge_via_hold(CommandRunner& runner, const ViaHoldJob& job, const std::vector<PlanEntry>& plan) {
  ViaHoldReport out;
  std::map<std::string, IdResult> outcome;  // by queue ID
  std::set<std::string> held_by_us;
  ExecReport held = hold_phase(runner, job, plan, held_by_us, outcome);
  out.report.warnings = held.warnings;
  out.report.interrupted = held.interrupted;
  out.report.totals_mismatch = held.totals_mismatch;
  out.report.batches = held.batches;
  out.report.stopped = held.stopped;
  bool stopping = job.exec.stop && job.exec.stop->load();
  if (job.pause && !stopping && job.sleep) job.sleep(job.pause);

  std::set<std::string> candidates(held_by_us);
  for (const auto& e : plan)
    if (e.queue == "hold") candidates.insert(e.id);
  std::map<std::string, std::string> found;
  std::string error;
  std::vector<std::string> ours(held_by_us.begin(), held_by_us.end());
  if (!held.stopped.empty()) {
    leave_on_hold(held.stopped, ours, out, outcome);
  } else if (!candidates.empty() && !job.find_held(candidates, found, error)) {
    out.report.stopped = "cannot scan the hold queue: " + error + "; nothing was deleted from hold";
    leave_on_hold("the hold queue could not be scanned", ours, out, outcome);
  } else {
    Phase2 p = sort_held(job, plan, held_by_us, found, outcome);
    delete_and_release(runner, job, p, held_by_us, outcome, out);
  }
  for (const auto& e : plan) {
    auto it = outcome.find(e.id);
    out.report.results.push_back(
        it != outcome.end() ? it->second : IdResult{e.queue, e.id, IdOutcome::kNotAttempted, "interrupted"});
  }
  return out;
}

std::string release_command(const ExecOptions& exec, const std::vector<std::string>& ids) {
  std::string cmd = "printf '%s\\n'";
  for (const std::string& id : ids) cmd += " " + id;
  cmd += " | " + shell_quoted(exec.postsuper);
  if (!exec.config_dir.empty()) cmd += " -c " + shell_quoted(exec.config_dir);
  return cmd + " -H -";
}

}  // namespace qpurge
