// SPDX-License-Identifier: MIT
// purge_plan.cc - the engine's plan: scan, select, and what a run that only
// shows does (a dry run, a shape, a saved plan); see purge_state.h.
#include <algorithm>
#include <unordered_map>

#include "purge_state.h"
#include "qpurge/app/consent.h"
#include "qpurge/plan/plan_file.h"
#include "qpurge/report/output.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {

// Keeps the entries to act on or to save, or streams them to the printer.
class PlanCollector : public PlanSink {
 public:
  PlanCollector(const RunConfig& c, Printer& p, bool keep) : c_(c), p_(p), keep_(keep) {}
  void on_entry(PlanEntry&& e) override {
    if (c_.dry_run && !c_.output.shape) view.add(e);
    if (!keep_) return p_.entry(e);
    // A message that moved between queues while the scan ran (deferred to
    // active, say) is seen twice: it is one message, planned once, in the
    // queue it was seen in last.
    auto [it, added] = index_.emplace(e.id, entries.size());
    if (added)
      entries.push_back(std::move(e));
    else
      entries[it->second] = std::move(e);
  }
  void on_mixed_skipped(PlanEntry&& e) override {
    if (c_.dry_run && c_.plan.explain && !c_.output.shape) p_.mixed_skipped(e);
  }
  void on_problem(const ScanRecord& r) override {
    p_.problem(r.info.id.empty() ? *r.info.dir : r.info.path(), r.error);
    p_.scan_problem(r.info.queue);
  }
  void on_file() override { p_.scan_progress(++files_); }
  void on_content_problem(const FileInfo& info, const std::string& what) override {
    p_.warning(info.path() + ": " + what +
               "; a content selector does not select it and a content exclusion excludes it");
  }
  void on_content_cut(const FileInfo& info, const std::string& what) override {
    if (c_.plan.explain) p_.note(info.path() + ": " + what);
  }
  std::vector<PlanEntry> entries;
  SelectionView view;

 private:
  const RunConfig& c_;
  Printer& p_;
  bool keep_;
  std::uint64_t files_ = 0;
  std::unordered_map<std::string, std::size_t> index_;  // queue ID -> its entry
};

namespace {

std::string summary_line(const PlanCounts& c, MixedPolicy mixed) {
  std::string s = "scanned " + std::to_string(c.scan.messages) + " messages";
  s += "; selected " + std::to_string(c.selected) + " (" + std::to_string(c.selected_recipients) +
       " matching recipients)";
  s += "; skipped as mixed " + std::to_string(c.mixed_skipped);
  if (mixed == MixedPolicy::kInclude) s += " (included as mixed " + std::to_string(c.mixed_included) + ")";
  if (mixed == MixedPolicy::kCancel) s += " (recipients to cancel in mixed " + std::to_string(c.mixed_canceled) + ")";
  s += "; in progress " + std::to_string(c.scan.in_progress);
  s += "; unreadable " + std::to_string(c.scan.unreadable + c.scan.not_regular + c.scan.bad_directories);
  if (c.undecided) s += "; undecided " + std::to_string(c.undecided);
  if (c.reason_unknown) s += "; reason unknown " + std::to_string(c.reason_unknown);
  if (c.content_cut) s += "; content cut at the limit " + std::to_string(c.content_cut);
  return s;
}

}  // namespace

// "skipped as mixed N" is not a dead end: how to see them, what can be done.
void Purge::State::hint_mixed() {
  if (counts.mixed_skipped == 0 || c.plan.mixed != MixedPolicy::kSkip) return;
  const bool listed = c.dry_run && c.plan.explain;
  p.note(count_of(counts.mixed_skipped, "message") + " skipped as mixed (only some of their recipients match):");
  p.note(listed ? "listed above" : "see them with --dry-run --explain");
  p.note("take them whole with --mixed include, or only their matching recipients");
  p.note("with --mixed cancel (the others keep their mail)");
}

// A criterion that could not decide is named once per cause, however often.
void Purge::State::warn_undecided() {
  for (const UndecidedCriterion& u : c.selection.matcher->undecided_criteria())
    if (warned.insert({u.label, u.cause}).second)
      p.warning(u.label + ": " + std::string(undecided_cause_text(u.cause)) +
                "; those messages were not selected (a selector) or were excluded (an exclusion)");
}

void Purge::State::scan(PlanCollector& sink) {
  if (c.plan_header) {
    entries = c.planned;
    if (c.dry_run && c.plan_header->has_counts) return show_saved_plan(sink);
    summary = "plan " + c.apply_plan + " from " + format_time(c.plan_header->created) + ": " +
              std::to_string(entries.size()) + " messages to " + c.plan_header->action;
    if (c.archive.from_plan) summary += "; archiving to " + c.archive.dir + " (the plan's --archive)";
    return;
  }
  ScanOptions scan = c.scan;
  scan.queue_directory = queue_dir;
  std::string error;
  bool ok = build_plan(scan, *c.selection.matcher, popt, sink, counts, error);
  p.clear_progress();
  if (!ok) throw PurgeFatal(error);
  entries = std::move(sink.entries);
  partial = counts.scan.unreadable + counts.scan.not_regular + counts.scan.bad_directories + counts.undecided > 0;
  warn_undecided();
  summary = summary_line(counts, c.plan.mixed);
}

// An --apply-plan dry run shows what the dry run that saved the plan
// showed: its messages, its scan's summary, and the view of the selection
// (its ages as of now, as a dry run now would give them).
void Purge::State::show_saved_plan(PlanCollector& sink) {
  counts = c.plan_header->counts;
  if (!c.output.shape)
    for (const PlanEntry& e : entries) sink.view.add(e);
  partial = counts.scan.unreadable + counts.undecided > 0;
  summary = summary_line(counts, c.plan.mixed);
}

void Purge::State::save_plan() {
  PlanHeader h;
  h.created = popt.now;
  h.host = sys.hostname();
  h.queue_directory = queue_dir;
  h.config_directory = c.exec.config_dir;
  h.action = std::string(action_info(c.exec.action).name);
  h.mixed = std::string(mixed_name(c.plan.mixed));
  h.regex = c.selection.regex;
  h.decode_headers = c.selection.decode_headers;
  h.body_limit = c.plan.body_limit;
  h.queues = c.scan.queues;
  h.criteria = c.selection.criteria;
  h.has_counts = true;
  h.counts = counts;
  if (!c.archive.dir.empty()) {
    h.archive = absolute_path(c.archive.dir);
    if (h.archive.empty()) throw PurgeFatal("cannot make --archive " + c.archive.dir + " an absolute path");
  }
  std::string error;
  if (!sys.write_file(c.save_plan, plan_to_json(h, entries), 0600, error))
    throw PurgeFatal("cannot write the plan: " + error);
  for (const auto& e : entries) p.entry(e);
  p.summary("plan saved to " + c.save_plan + (h.archive.empty() ? "" : " (archiving to " + h.archive + ")") + ": " +
            summary);
}

// The shape on standard output, or in the --output file, replaced
// atomically (a collector reading it sees the old file or the new one).
// World-readable: node_exporter's collector runs as another user.
void Purge::State::publish_shape() {
  std::string text = p.shape_output();
  std::string error;
  if (c.output.output_file.empty())
    p.print(text);
  else if (!sys.write_file(c.output.output_file, text, 0644, error))
    throw PurgeFatal("cannot write the shape: " + error + "; the old file, if any, is unchanged");
}

// What --archive would keep, as a dry run shows it: every message is copied
// before it is deleted, and the original of a mixed one before its
// recipients are canceled (act/cancel.h, step 3a).
std::string Purge::State::archive_preview(std::size_t selected) const {
  const std::size_t mixed = static_cast<std::size_t>(counts.mixed_canceled);
  std::string s = "dry run: --archive " + c.archive.dir + " would keep " + count_of(selected, "message");
  if (c.plan.mixed == MixedPolicy::kCancel && mixed > 0)
    s += " (" + std::to_string(selected - std::min(mixed, selected)) + " before they are deleted, the originals of " +
         std::to_string(mixed) + " mixed before their recipients are canceled)";
  return s;
}

// The run ends after planning: a saved plan, a shape, a dry run, or nothing to do.
std::optional<Outcome> Purge::State::show(PlanCollector& sink) {
  const std::size_t selected = keeps_entries() ? entries.size() : counts.selected;
  const Outcome::Kind shown = partial         ? Outcome::Kind::kPartial
                              : selected == 0 ? Outcome::Kind::kNothing
                                              : Outcome::Kind::kDone;
  if (!c.save_plan.empty()) {
    if (auto refusal = over_max(selected, c.max)) throw PurgeFatal(*refusal);  // before the file is written
    save_plan();
    return Outcome::of(shown).with_planned(selected);
  }
  if (c.output.shape) {
    publish_shape();
    p.finish_plan(summary);
    return Outcome::of(shown).with_planned(selected);
  }
  if (c.output.count) {
    p.print(std::to_string(selected) + "\n");
    p.summary(summary);
    hint_mixed();
    return Outcome::of(shown).with_planned(selected);
  }
  if (c.dry_run) {
    for (const auto& e : entries) p.entry(e);  // a plan file's messages
    p.summary("dry run: " + summary);
    if (!c.archive.dir.empty()) p.summary(archive_preview(selected));
    std::string view = sink.view.render(popt.now);
    for (std::size_t nl; (nl = view.find('\n')) != std::string::npos; view.erase(0, nl + 1))
      p.summary(view.substr(0, nl));
    hint_mixed();
    return Outcome::of(shown).with_planned(selected);
  }
  if (entries.empty()) {
    p.summary(summary + "; nothing to " + std::string(action_info(c.exec.action).name));
    hint_mixed();
    return Outcome::of(partial ? Outcome::Kind::kPartial : Outcome::Kind::kNothing);
  }
  return std::nullopt;
}

std::optional<Outcome> Purge::plan() {
  State& s = *s_;
  try {
    if (!s.resolved) s.resolve_queue();
    s.take_lock();
    s.recover();
    s.popt = s.c.plan;
    s.popt.now = s.sys.now();
    s.p.begin_plan(s.popt.now, s.c.scan.queues);
    PlanCollector sink(s.c, s.p, s.keeps_entries());
    s.scan(sink);
    return s.show(sink);
  } catch (const PurgeFatal& e) {
    s.p.fatal(e.what());
    return Outcome::fatal();
  }
}

}  // namespace qpurge
