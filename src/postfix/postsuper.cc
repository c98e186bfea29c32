// SPDX-License-Identifier: MIT
// postsuper.cc - batched postsuper runs and their verification; see postsuper.h.
#include "qpurge/postfix/postsuper.h"

#include <algorithm>
#include <unordered_map>

#include "qpurge/postfix/postconf.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/text.h"

namespace qpurge {
namespace {

const ActionInfo kActions[] = {
    {Action::kDelete, "delete", "-d", "removed", "Deleted", "removed"},
    {Action::kHold, "hold", "-h", "placed on hold", "Placed on hold", "placed on hold"},
    {Action::kRelease, "release", "-H", "released from hold", "Released from hold", "released from hold"},
    {Action::kRequeue, "requeue", "-r", "requeued", "Requeued", "requeued"},
    {Action::kExpire, "expire", "-e", "expired", "Force-expired", "force-expired"},
};

// The program prefix msg_vstream writes, "name: " or "name[pid]: ", where
// name is whatever postsuper was invoked as (a symlink's own name, a path).
// Returns the rest of the line, or the whole line when there is no prefix.
// Postfix's severity words ("warning: ") are never taken for a name.
std::string_view strip_program(std::string_view line) {
  std::size_t colon = line.find(": ");
  if (colon == std::string_view::npos || colon == 0) return line;
  std::string_view name = line.substr(0, colon);
  if (name.back() == ']') {
    std::size_t open = name.find('[');
    if (open == std::string_view::npos || open == 0 || open + 2 >= name.size()) return line;
    std::string_view pid = name.substr(open + 1, name.size() - open - 2);
    if (pid.find_first_not_of("0123456789") != std::string_view::npos) return line;
    name = name.substr(0, open);
  }
  if (name.find_first_of(" \t[]") != std::string_view::npos) return line;
  for (std::string_view severity : {"warning", "error", "fatal", "panic", "info"})
    if (name == severity) return line;
  return line.substr(colon + 2);
}

// "ID: removed" (per_id_suffix ": removed"): the ID, or "" when `body` is not
// exactly such a line.
std::string_view per_id_line(std::string_view body, std::string_view per_id_suffix) {
  if (body.size() <= per_id_suffix.size() || !body.ends_with(per_id_suffix)) return {};
  std::string_view id = body.substr(0, body.size() - per_id_suffix.size());
  return queue_id_ok(id) ? id : std::string_view();
}

// "Deleted: 3 messages" (total_prefix "Deleted: "): the number, or -1.
long total_line(std::string_view body, std::string_view total_prefix) {
  if (!body.starts_with(total_prefix)) return -1;
  body.remove_prefix(total_prefix.size());
  long v = 0;
  std::size_t i = 0;
  for (; i < body.size() && i < 18 && body[i] >= '0' && body[i] <= '9'; ++i) v = v * 10 + (body[i] - '0');
  if (i == 0) return -1;
  std::string_view rest = body.substr(i);
  return rest == " message" || rest == " messages" ? v : -1;
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
    case IdOutcome::kDone:
      return "done";
    case IdOutcome::kNotFound:
      return "not_found";
    case IdOutcome::kFailed:
      return "failed";
    case IdOutcome::kChanged:
      return "changed";
    case IdOutcome::kNotAttempted:
      return "not_attempted";
    case IdOutcome::kInvalid:
      return "invalid";
    case IdOutcome::kAlready:
      return "already";
    case IdOutcome::kNotArchived:
      return "not_archived";
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
  std::string_view line;
  while (next_line(text, line)) {
    if (line.empty()) continue;
    bool understood = false;
    // With its program prefix, then (postsuper run without one) as it stands.
    for (std::string_view body : {strip_program(line), line}) {
      if (std::string_view id = per_id_line(body, per_id_suffix); !id.empty()) {
        out.done.emplace_back(id);
        understood = true;
      } else if (long n = total_line(body, total_prefix); n >= 0) {
        out.total = n;
        understood = true;
      }
      if (understood) break;
    }
    if (!understood) out.other.emplace_back(line);
  }
  return out;
}

namespace {

// Why postsuper's run cannot be explained, or "" when it can: it started,
// exited 0, read all it was given, and its total agrees with its ID lines.
std::string unexplained(const CommandResult& cr, bool accepted_all) {
  if (!cr.started) return "postsuper could not be run: " + cr.error;
  if (!cr.exited) return "postsuper was killed by signal " + std::to_string(cr.signal);
  if (cr.exit_status != 0) return "postsuper exited with status " + std::to_string(cr.exit_status);
  if (!accepted_all) return "postsuper stopped reading its input";
  return "";
}

// Already where the action would put it: nothing to hand over.
std::string_view already(Action action, std::string_view queue) {
  if (action == Action::kHold && queue == "hold") return "already on hold";
  if (action == Action::kRelease && queue != "hold") return "not on hold: nothing to release";
  return {};
}

constexpr std::size_t kWriteChunk = 64;  // IDs verified, then written together

// One execute_plan() call: its report and the state carried between batches.
class Executor {
 public:
  Executor(CommandRunner& runner, const ExecOptions& options, const Verify& verify, const ExecProgress& progress)
      : runner_(runner), o_(options), verify_(verify), progress_(progress), action_(action_info(options.action)) {}

  ExecReport run(const std::vector<PlanEntry>& plan) {
    for (const PlanEntry& e : plan)
      if (!is_message_queue(e.queue))
        report_.results.push_back({e.queue, e.id, IdOutcome::kInvalid, "not a message queue"});
    for (std::string_view queue : kMessageQueues) {
      std::vector<const PlanEntry*> group;
      for (const PlanEntry& e : plan)
        if (e.queue == queue) group.push_back(&e);
      if (std::string_view why = already(o_.action, queue); !why.empty()) {
        for (const PlanEntry* e : group)
          report_.results.push_back({e->queue, e->id, IdOutcome::kAlready, std::string(why)});
        continue;
      }
      const std::size_t batch_size = std::max<std::size_t>(1, o_.batch_size);
      for (std::size_t start = 0; start < group.size(); start += batch_size)
        run_batch(queue, group, start, std::min(group.size(), start + batch_size));
    }
    return std::move(report_);
  }

 private:
  // One postsuper run over group[start, end), or none when stopped.
  void run_batch(std::string_view queue, const std::vector<const PlanEntry*>& group, std::size_t start,
                 std::size_t end) {
    if (o_.stop && o_.stop->load()) report_.interrupted = true;
    if (report_.interrupted || !report_.stopped.empty()) {
      const std::string detail =
          report_.stopped.empty() ? "interrupted" : "not attempted: " + stopped_why_ + " on an earlier batch";
      for (std::size_t i = start; i < end; ++i)
        report_.results.push_back({group[i]->queue, group[i]->id, IdOutcome::kNotAttempted, detail});
      return;
    }
    argv_ = postfix_argv(o_.postsuper, o_.config_dir);
    argv_.push_back(std::string(action_.flag));
    argv_.push_back("-");
    argv_.push_back(std::string(queue));
    session_.reset();
    sent_.clear();
    written_.clear();
    accepting_ = true;
    // postsuper acts on each ID as it reads it: each ID is validated and
    // verified right before it is written, while postsuper works on the
    // ones before it.
    for (std::size_t i = start; i < end; ++i) {
      pace();
      report_.results.push_back(admit(*group[i]));
      if (chunk_entries_.size() >= chunk_limit()) flush();  // after its result exists: flush may rewrite it
      if (o_.rate && progress_) progress_(handed_, done_total_);
    }
    flush();
    if (!session_) return;
    judge(queue, session_->finish());
    if (progress_) progress_(handed_, done_total_);
  }

  std::size_t chunk_limit() const {
    return o_.rate ? std::clamp<std::size_t>(o_.rate / 10, 1, kWriteChunk) : kWriteChunk;
  }

  // --rate: waits for the next ID's turn, counted from the first ID handed over.
  void pace() {
    if (!o_.rate || !o_.clock_us || !o_.sleep_us || !accepting_ || (o_.stop && o_.stop->load())) return;
    const std::int64_t now = o_.clock_us();
    if (paced_from_ < 0) paced_from_ = now;
    const std::int64_t turn = paced_from_ + static_cast<std::int64_t>(handed_ * 1000000 / o_.rate);
    if (now < turn) o_.sleep_us(turn - now);
  }

  // Checks one entry right before it would be written; queues it if it passes.
  IdResult admit(const PlanEntry& e) {
    IdResult r{e.queue, e.id, IdOutcome::kNotAttempted, ""};
    if (o_.stop && o_.stop->load()) {
      report_.interrupted = true;
      r.detail = "interrupted";
    } else if (halted_) {
      r.detail = "not attempted: " + stopped_why_;
    } else if (!accepting_) {
      r.outcome = IdOutcome::kFailed;
      r.detail = "postsuper stopped reading its input";
    } else if (!is_queue_id(e.id)) {
      r.outcome = IdOutcome::kInvalid;
      r.detail = "not a valid queue ID";
    } else if (sent_.count(e.id)) {
      r.outcome = IdOutcome::kInvalid;
      r.detail = "duplicate ID in plan";
    } else if (Verification v = verify_ ? verify_(e) : Verification{}; v.kind != Verification::kSame) {
      const bool vanished = v.kind == Verification::kVanished;
      r.outcome = vanished ? IdOutcome::kNotFound : IdOutcome::kChanged;
      r.detail = vanished ? "vanished since planning" : std::move(v.why);
    } else if (std::string why = o_.before_hand_over ? o_.before_hand_over(e) : std::string(); !why.empty()) {
      r.outcome = IdOutcome::kNotArchived;
      r.detail = std::move(why);
    } else {
      sent_[e.id] = report_.results.size();
      chunk_ += e.id;
      chunk_ += '\n';
      chunk_entries_.push_back(&e);
      ++handed_;
    }
    return r;
  }

  // Writes the queued IDs, unless before_write refuses them.
  void flush() {
    if (chunk_.empty()) return;
    WriteRefusal no = o_.before_write ? o_.before_write(chunk_entries_) : WriteRefusal{};
    if (!no.why.empty()) {
      for (const PlanEntry* e : chunk_entries_) {
        IdResult& r = report_.results[sent_[e->id]];
        r.outcome = no.stop ? IdOutcome::kNotAttempted : IdOutcome::kNotArchived;
        r.detail = no.why;
        sent_.erase(e->id);
        --handed_;
      }
      if (no.stop && report_.stopped.empty()) {
        stopped_why_ = no.why;
        report_.stopped = no.why;
        halted_ = true;
      }
    } else {
      if (!session_) {
        session_ = runner_.start(argv_);
        ++report_.batches;
      }
      if (!session_->write(chunk_)) accepting_ = false;
      for (const PlanEntry* e : chunk_entries_) written_[e->id] = e;
    }
    chunk_.clear();
    chunk_entries_.clear();
  }

  // postsuper's own words decide each ID; a run it cannot explain stops the rest.
  void judge(std::string_view queue, const CommandResult& cr) {
    PostsuperOutput po = parse_postsuper_output(cr.err + cr.out, action_);
    std::size_t done_here = 0;
    for (const std::string& id : po.done) {
      auto it = sent_.find(id);
      if (it == sent_.end()) {
        report_.warnings.push_back("postsuper reported " + id + ", which was not sent to it");
        continue;
      }
      IdResult& r = report_.results[it->second];
      if (r.outcome != IdOutcome::kDone) ++done_here;
      r.outcome = IdOutcome::kDone;
    }
    done_total_ += done_here;
    for (const std::string& line : po.other) report_.warnings.push_back(line);
    std::string why = unexplained(cr, accepting_);
    if (why.empty() && po.total != static_cast<long>(done_here) && !(po.total == -1 && done_here == 0)) {
      report_.totals_mismatch = true;
      why = "postsuper's total (" + std::to_string(po.total) + ") contradicts its per-ID reports (" +
            std::to_string(done_here) + ")";
    }
    for (auto& [id, idx] : sent_) {
      IdResult& r = report_.results[idx];
      if (r.outcome == IdOutcome::kDone) continue;
      r.outcome = why.empty() ? IdOutcome::kNotFound : IdOutcome::kFailed;
      r.detail = why.empty() ? "not found by postsuper (gone or moved since planning)" : why;
      if (!why.empty()) settle_from_queue(id, r, why);
    }
    if (!why.empty()) {
      report_.warnings.push_back(why);
      stopped_why_ = why;
      report_.stopped = why + " (" + std::string(queue) + ", batch " + std::to_string(report_.batches) + ")";
    }
    if (o_.after_batch) {
      std::vector<IdResult> batch;
      for (const auto& [id, idx] : sent_) batch.push_back(report_.results[idx]);
      o_.after_batch(batch);
    }
  }

  // postsuper failed before it said what it did with `id`: the queue says.
  void settle_from_queue(const std::string& id, IdResult& r, const std::string& why) {
    auto it = written_.find(id);
    if (!o_.where_now || it == written_.end()) return;
    std::optional<std::string> now = o_.where_now(*it->second);
    if (!now) return;
    const bool done = (o_.action == Action::kDelete && now->empty()) ||
                      (o_.action == Action::kHold && *now == "hold") ||
                      (o_.action == Action::kRelease && !now->empty() && *now != "hold");
    if (!done) return;
    r.outcome = IdOutcome::kDone;
    r.detail = why + ", after it had " + std::string(action_.past) + " this message (" +
               (now->empty() ? std::string("gone from every queue") : "now in " + *now) + ")";
  }

  CommandRunner& runner_;
  const ExecOptions& o_;
  const Verify& verify_;
  const ExecProgress& progress_;
  const ActionInfo& action_;
  ExecReport report_;
  std::size_t handed_ = 0, done_total_ = 0;
  std::string stopped_why_;       // the cause alone, for the later IDs' detail
  std::int64_t paced_from_ = -1;  // --rate: when the first ID was handed over
  // The batch being written.
  std::vector<std::string> argv_;
  std::unique_ptr<CommandSession> session_;
  std::unordered_map<std::string, std::size_t> sent_;  // id -> index in results
  std::string chunk_;
  std::vector<const PlanEntry*> chunk_entries_;
  std::unordered_map<std::string, const PlanEntry*> written_;  // handed to this batch's postsuper
  bool accepting_ = true;
  bool halted_ = false;  // before_write said to stop: no further ID is handed over
};

}  // namespace

ExecReport execute_plan(CommandRunner& runner, const ExecOptions& options, const std::vector<PlanEntry>& plan,
                        const Verify& verify, const ExecProgress& progress) {
  return Executor(runner, options, verify, progress).run(plan);
}

}  // namespace qpurge
