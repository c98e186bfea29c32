// execute.cc - batched postsuper runs and their verification; see execute.h.
#include "qpurge/execute.h"

#include <algorithm>
#include <unordered_map>

#include "qpurge/queue_id.h"

namespace qpurge {
namespace {

const ActionInfo kActions[] = {
    {Action::kDelete, "delete", "-d", "removed", "Deleted", "removed"},
    {Action::kHold, "hold", "-h", "placed on hold", "Placed on hold", "placed on hold"},
    {Action::kRelease, "release", "-H", "released from hold", "Released from hold",
     "released from hold"},
    {Action::kRequeue, "requeue", "-r", "requeued", "Requeued", "requeued"},
    {Action::kExpire, "expire", "-e", "expired", "Force-expired", "force-expired"},
};

std::string_view strip_program(std::string_view line) {
  // "postsuper: " (or "postsuper[pid]: ") prefix, as msg_vstream writes it.
  std::size_t colon = line.find(": ");
  if (colon != std::string_view::npos && line.substr(0, colon).find("postsuper") != std::string_view::npos)
    line.remove_prefix(colon + 2);
  return line;
}

}  // namespace

const ActionInfo& action_info(Action a) {
  for (const auto& i : kActions)
    if (i.action == a) return i;
  return kActions[0];
}

bool parse_action(std::string_view name, Action& out) {
  for (const auto& i : kActions)
    if (i.name == name) {
      out = i.action;
      return true;
    }
  return false;
}

std::string_view outcome_name(IdOutcome o) {
  switch (o) {
    case IdOutcome::kDone: return "done";
    case IdOutcome::kNotFound: return "not_found";
    case IdOutcome::kFailed: return "failed";
    case IdOutcome::kChanged: return "changed";
    case IdOutcome::kNotAttempted: return "not_attempted";
    case IdOutcome::kInvalid: return "invalid";
  }
  return "?";
}

std::size_t ExecReport::count(IdOutcome o) const {
  return static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [o](const IdResult& r) { return r.outcome == o; }));
}

PostsuperOutput parse_postsuper_output(std::string_view text, const ActionInfo& action) {
  PostsuperOutput out;
  const std::string per_id_suffix = ": " + std::string(action.per_id);
  const std::string total_prefix = std::string(action.total) + ": ";
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string_view body = strip_program(line);
    if (body.size() > per_id_suffix.size() &&
        body.substr(body.size() - per_id_suffix.size()) == per_id_suffix) {
      std::string_view id = body.substr(0, body.size() - per_id_suffix.size());
      if (queue_id_ok(id)) {
        out.done.emplace_back(id);
        continue;
      }
    }
    if (body.substr(0, total_prefix.size()) == total_prefix) {
      std::string_view n = body.substr(total_prefix.size());
      long v = 0;
      std::size_t i = 0;
      for (; i < n.size() && n[i] >= '0' && n[i] <= '9'; ++i) v = v * 10 + (n[i] - '0');
      if (i > 0) {
        out.total = v;
        continue;
      }
    }
    out.other.emplace_back(line);
  }
  return out;
}

ExecReport execute_plan(CommandRunner& runner, const ExecOptions& options,
                        const std::vector<PlanEntry>& plan, const Verify& verify,
                        const ExecProgress& progress) {
  ExecReport report;
  const ActionInfo& action = action_info(options.action);
  const std::size_t batch_size = std::max<std::size_t>(1, options.batch_size);
  constexpr std::size_t kWriteChunk = 64;  // IDs verified, then written together
  std::size_t handed = 0, done_total = 0;
  for (const PlanEntry& e : plan)
    if (!is_message_queue(e.queue))
      report.results.push_back({e.queue, e.id, IdOutcome::kInvalid, "not a message queue"});

  for (std::string_view queue : kMessageQueues) {
    std::vector<const PlanEntry*> group;
    for (const PlanEntry& e : plan)
      if (e.queue == queue) group.push_back(&e);
    for (std::size_t start = 0; start < group.size(); start += batch_size) {
      const std::size_t end = std::min(group.size(), start + batch_size);
      if (options.stop && options.stop->load()) report.interrupted = true;
      if (report.interrupted) {
        for (std::size_t i = start; i < end; ++i)
          report.results.push_back({group[i]->queue, group[i]->id, IdOutcome::kNotAttempted, "interrupted"});
        continue;
      }
      std::vector<std::string> argv{options.postsuper};
      if (!options.config_dir.empty()) {
        argv.push_back("-c");
        argv.push_back(options.config_dir);
      }
      argv.push_back(std::string(action.flag));
      argv.push_back("-");
      argv.push_back(std::string(queue));
      // postsuper acts on each ID as it reads it: each ID is validated and
      // verified right before it is written, while postsuper works on the
      // ones before it.
      std::unique_ptr<CommandSession> session;
      std::unordered_map<std::string, std::size_t> sent;  // id -> index in results
      std::string chunk;
      bool accepting = true;
      auto flush = [&]() {
        if (chunk.empty()) return;
        if (!session) {
          session = runner.start(argv);
          ++report.batches;
        }
        if (!session->write(chunk)) accepting = false;
        chunk.clear();
      };
      for (std::size_t i = start; i < end; ++i) {
        const PlanEntry& e = *group[i];
        IdResult r{e.queue, e.id, IdOutcome::kNotAttempted, ""};
        if (options.stop && options.stop->load()) {
          report.interrupted = true;
          r.detail = "interrupted";
        } else if (!accepting) {
          r.outcome = IdOutcome::kFailed;
          r.detail = "postsuper stopped reading its input";
        } else if (!is_queue_id(e.id)) {
          r.outcome = IdOutcome::kInvalid;
          r.detail = "not a valid queue ID";
        } else if (sent.count(e.id)) {
          r.outcome = IdOutcome::kInvalid;
          r.detail = "duplicate ID in plan";
        } else if (std::string why = verify ? verify(e) : std::string(); !why.empty()) {
          r.outcome = why == kVanished ? IdOutcome::kNotFound : IdOutcome::kChanged;
          r.detail = why == kVanished ? "vanished since planning" : why;
        } else {
          sent[e.id] = report.results.size();
          chunk += e.id;
          chunk += '\n';
          ++handed;
          if (sent.size() % kWriteChunk == 0) flush();
        }
        report.results.push_back(std::move(r));
      }
      flush();
      if (!session) continue;
      CommandResult cr = session->finish();
      PostsuperOutput po = parse_postsuper_output(cr.err + cr.out, action);
      std::size_t done_here = 0;
      for (const std::string& id : po.done) {
        auto it = sent.find(id);
        if (it == sent.end()) {
          report.warnings.push_back("postsuper reported " + id + ", which was not sent to it");
          continue;
        }
        IdResult& r = report.results[it->second];
        if (r.outcome != IdOutcome::kDone) ++done_here;
        r.outcome = IdOutcome::kDone;
      }
      done_total += done_here;
      for (const std::string& line : po.other) report.warnings.push_back(line);
      bool clean = cr.started && cr.exited && cr.exit_status == 0;
      std::string why;
      if (!cr.started) why = "postsuper could not be run: " + cr.error;
      else if (!cr.exited) why = "postsuper was killed by signal " + std::to_string(cr.signal);
      else if (cr.exit_status != 0) why = "postsuper exited with status " + std::to_string(cr.exit_status);
      for (auto& [id, idx] : sent) {
        IdResult& r = report.results[idx];
        if (r.outcome == IdOutcome::kDone) continue;
        r.outcome = clean ? IdOutcome::kNotFound : IdOutcome::kFailed;
        r.detail = clean ? "not found by postsuper (gone or moved since planning)" : why;
      }
      if (clean && po.total != static_cast<long>(done_here) && !(po.total == -1 && done_here == 0)) {
        report.totals_mismatch = true;
        report.warnings.push_back("postsuper's total (" + std::to_string(po.total) +
                                  ") differs from its per-ID reports (" + std::to_string(done_here) + ")");
      }
      if (!why.empty()) report.warnings.push_back(why);
      if (progress) progress(handed, done_total);
    }
  }
  return report;
}

}  // namespace qpurge
