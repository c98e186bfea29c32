// SPDX-License-Identifier: MIT
// via_hold.cc - the two-phase delete; see via_hold.h.
#include "qpurge/act/via_hold.h"

#include "qpurge/spool/queue_scan.h"

namespace qpurge {
namespace {

// What phase 2 does with the candidates found in hold.
struct Phase2 {
  std::vector<PlanEntry> to_delete, to_release;
  std::map<std::string, std::string> why_released;  // ID -> why it is not deleted
};

bool stop_requested(const ViaHoldJob& job) { return job.del.stop && job.del.stop->load(); }

// Phase 1: hold what is not on hold yet. Results other than done are final.
ExecReport hold_phase(CommandRunner& runner, const ViaHoldJob& job, const std::vector<PlanEntry>& plan,
                      std::set<std::string>& held_by_us, std::map<std::string, IdResult>& outcome) {
  std::vector<PlanEntry> to_hold;
  for (const auto& e : plan)
    if (e.queue != "hold") to_hold.push_back(e);
  ExecOptions hold = job.hold;
  hold.action = Action::kHold;
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
      outcome[e.id] = IdResult{"hold", e.id, IdOutcome::kChanged, why};
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
  final_report.interrupted |= rep.interrupted;
  final_report.batches += rep.batches;
  if (final_report.stopped.empty()) final_report.stopped = rep.stopped;
}

// What qpurge held and could not take further stays on hold, said so.
void leave_on_hold(const std::string& why, const std::vector<std::string>& ids, ViaHoldReport& out,
                   std::map<std::string, IdResult>& outcome) {
  for (const std::string& id : ids) {
    IdResult& r = outcome[id];
    if (r.id.empty()) r = IdResult{"hold", id, IdOutcome::kFailed, ""};
    if (r.outcome == IdOutcome::kDone) r.outcome = IdOutcome::kFailed;
    r.detail = (r.detail.empty() ? "" : r.detail + "; ") + "placed on hold by qpurge and left there: " + why;
    out.left_on_hold.push_back(id);
  }
}

// Phase 2's deletes. Held by us and not deleted (not archived, not reached
// after a stop): to be released, with what the delete said.
void delete_phase(CommandRunner& runner, const ViaHoldJob& job, Phase2& p, const std::set<std::string>& held_by_us,
                  std::map<std::string, IdResult>& outcome, ViaHoldReport& out) {
  ExecOptions del = job.del;
  del.action = Action::kDelete;
  ExecReport deleted = execute_plan(runner, del, p.to_delete, {}, [&](std::size_t h, std::size_t d) {
    if (job.progress) job.progress(h, d, p.to_delete.size(), "deleting from hold");
  });
  merge_report(deleted, out.report);
  for (const IdResult& r : deleted.results) {
    outcome[r.id] = r;
    if (r.outcome == IdOutcome::kDone || !held_by_us.count(r.id)) continue;
    for (const PlanEntry& e : p.to_delete)
      if (e.id == r.id) p.to_release.push_back(e);
    p.why_released[r.id] = r.detail.empty() ? std::string(outcome_name(r.outcome)) : r.detail;
  }
}

// Releases what qpurge held and did not delete, unless a postsuper run
// failed in a way that stops every further one: then it stays on hold.
void release_phase(CommandRunner& runner, const ViaHoldJob& job, Phase2& p, std::map<std::string, IdResult>& outcome,
                   ViaHoldReport& out) {
  if (p.to_release.empty()) return;
  if (!out.report.stopped.empty()) {
    std::vector<std::string> ids;
    for (const PlanEntry& e : p.to_release) ids.push_back(e.id);
    leave_on_hold(out.report.stopped, ids, out, outcome);
    return;
  }
  ExecOptions rel = job.release;
  rel.action = Action::kRelease;
  rel.stop = nullptr;  // releasing undoes what qpurge did: it is not stopped
  rel.rate = 0;        // nor paced
  ExecReport released = execute_plan(runner, rel, p.to_release, {});
  merge_report(released, out.report);
  for (const IdResult& r : released.results) {
    IdResult& x = outcome[r.id];
    if (x.id.empty()) x = IdResult{"hold", r.id, IdOutcome::kChanged, ""};
    if (x.outcome == IdOutcome::kDone) x.outcome = IdOutcome::kChanged;
    x.detail = p.why_released[r.id] +
               (r.outcome == IdOutcome::kDone ? "; released from hold" : "; release failed: left on hold");
    if (r.outcome != IdOutcome::kDone) out.left_on_hold.push_back(r.id);
  }
}

// Phase 2, from finding the candidates in hold to releasing.
void second_phase(CommandRunner& runner, const ViaHoldJob& job, const std::vector<PlanEntry>& plan,
                  const std::set<std::string>& held_by_us, std::map<std::string, IdResult>& outcome,
                  ViaHoldReport& out) {
  std::set<std::string> candidates(held_by_us);
  for (const auto& e : plan)
    if (e.queue == "hold") candidates.insert(e.id);
  std::map<std::string, std::string> found;
  std::string error;
  if (!candidates.empty() && !job.find_held(candidates, found, error)) {
    out.report.stopped = "cannot scan the hold queue: " + error + "; nothing was deleted from hold";
    leave_on_hold("the hold queue could not be scanned", std::vector<std::string>(held_by_us.begin(), held_by_us.end()),
                  out, outcome);
    return;
  }
  Phase2 p = sort_held(job, plan, held_by_us, found, outcome);
  if (stop_requested(job)) {  // stopped in phase 1 or the pause: delete nothing
    for (PlanEntry& e : p.to_delete) {
      if (held_by_us.count(e.id)) {
        p.why_released[e.id] = "interrupted before it was deleted";
        outcome[e.id] = IdResult{"hold", e.id, IdOutcome::kNotAttempted, ""};
        p.to_release.push_back(std::move(e));
      } else {
        outcome[e.id] = IdResult{"hold", e.id, IdOutcome::kNotAttempted, "interrupted; left on hold"};
      }
    }
    out.report.interrupted = true;
  } else {
    delete_phase(runner, job, p, held_by_us, outcome, out);
  }
  if (stop_requested(job) && job.on_stop) job.on_stop("interrupted by a stop request (SIGINT or SIGTERM)");
  release_phase(runner, job, p, outcome, out);
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
  merge_report(held, out.report);
  if (job.pause && !stop_requested(job) && job.sleep) job.sleep(job.pause);
  if (!held.stopped.empty())
    leave_on_hold(held.stopped, std::vector<std::string>(held_by_us.begin(), held_by_us.end()), out, outcome);
  else
    second_phase(runner, job, plan, held_by_us, outcome, out);
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
