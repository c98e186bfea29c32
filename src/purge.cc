// SPDX-License-Identifier: MIT
// purge.cc - the engine of one run; see purge.h.
#include "qpurge/purge.h"

#include <set>
#include <stdexcept>
#include <unordered_map>

#include "qpurge/archive.h"
#include "qpurge/check.h"
#include "qpurge/escape.h"
#include "qpurge/json_writer.h"
#include "qpurge/output.h"
#include "qpurge/plan_file.h"
#include "qpurge/postfix_config.h"
#include "qpurge/run_lock.h"
#include "qpurge/via_hold.h"

namespace qpurge {
namespace {

// A fatal condition before anything changed.
class Fatal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Outcome outcome(Outcome::Kind kind, std::size_t planned = 0, bool changed = false) {
  Outcome o;
  o.kind = kind;
  o.planned = planned;
  o.changed = changed;
  return o;
}

// Keeps the entries to act on or to save, or streams them to the printer.
class Collector : public PlanSink {
 public:
  Collector(const RunConfig& c, Printer& p, bool keep) : c_(c), p_(p), keep_(keep) {}
  void on_entry(PlanEntry&& e) override {
    if (c_.dry_run && !c_.shape) view.add(e);
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
    if (c_.dry_run && c_.explain && !c_.shape) p_.mixed_skipped(e);
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
    if (c_.explain) p_.note(info.path() + ": " + what);
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

std::string summary_line(const PlanCounts& c, MixedPolicy mixed) {
  std::string s = "scanned " + std::to_string(c.scan.messages) + " messages";
  s += "; selected " + std::to_string(c.selected) + " (" + std::to_string(c.selected_recipients) +
       " matching recipients)";
  s += "; skipped as mixed " + std::to_string(c.mixed_skipped);
  if (mixed == MixedPolicy::kInclude) s += " (included as mixed " + std::to_string(c.mixed_included) + ")";
  s += "; in progress " + std::to_string(c.scan.in_progress);
  s += "; unreadable " + std::to_string(c.scan.unreadable + c.scan.not_regular + c.scan.bad_directories);
  if (c.undecided) s += "; undecided " + std::to_string(c.undecided);
  if (c.reason_unknown) s += "; reason unknown " + std::to_string(c.reason_unknown);
  if (c.content_cut) s += "; content cut at the limit " + std::to_string(c.content_cut);
  return s;
}

void write_criteria(JsonWriter& w, const std::vector<PlanCriterion>& criteria) {
  w.key("criteria").begin_array();
  for (const PlanCriterion& c : criteria)
    w.begin_object().field("option", c.option).field_strings("values", c.values).end_object();
  w.end_array();
}

}  // namespace

struct Purge::State {
  State(const RunConfig& config, System& system, CommandRunner& command_runner, Printer& printer)
      : c(config), sys(system), runner(command_runner), p(printer) {}
  const RunConfig& c;
  System& sys;
  CommandRunner& runner;
  Printer& p;
  std::string queue_dir;
  PlanOptions popt;
  std::vector<PlanEntry> entries;
  PlanCounts counts;
  std::string summary;
  bool partial = false;  // files skipped or undecided: never "done"

  std::set<std::pair<std::string, UndecidedCause>> warned;  // criteria already named as undecided
  std::unique_ptr<ArchiveRun> archive;                      // --archive
  bool resolved = false;                                    // resolve_queue() done
  bool locked_by_caller = false;                            // --all-instances: prepare_and_lock() holds the lock
  std::vector<std::unique_ptr<RunLock>> locks;

  // Entries are kept (to act on, to save, or from a plan file) rather than streamed.
  bool keeps_entries() const { return c.acting() || !c.save_plan.empty() || c.plan_header.has_value(); }
  void resolve_queue();
  void take_lock();
  void warn_undecided();
  void check_may_act(bool have_instance, const std::string& instance_dir, const std::string& error);
  void scan(Collector& sink);
  std::optional<Outcome> show(Collector& sink);
  void save_plan();
  void publish_shape();
  void open_archive();
  bool confirm();
  void begin_record(JsonWriter& w, const char* event);
  std::unique_ptr<AuditSink> record_intent();
  ExecReport execute(ViaHoldReport& held);
  void report(const ExecReport& rep, const ViaHoldReport& held);
  bool record_result(AuditSink& audit, const ExecReport& rep, const std::string& result);
  Verify verifier(QueueFileRereader& rereader);
  bool record_archive_outcomes(const ExecReport& rep, std::string& result);
  void log_result(const std::string& result);
  Outcome finish(const ExecReport& rep, bool recorded);
};

// A criterion that could not decide is named once per cause, however often.
void Purge::State::warn_undecided() {
  for (const UndecidedCriterion& u : c.matcher->undecided_criteria())
    if (warned.insert({u.label, u.cause}).second)
      p.warning(u.label + ": " + std::string(undecided_cause_text(u.cause)) +
                "; those messages were not selected (a selector) or were excluded (an exclusion)");
}

// Where the queue is, and whether postsuper would act on the same one.
void Purge::State::resolve_queue() {
  std::string instance_dir, error;
  queue_dir = c.queue_dir;
  // A copy of a spool that is only read needs no instance.
  bool have_instance = (queue_dir.empty() || c.acting()) &&
                       postconf_value(runner, c.postconf, c.config_dir, "queue_directory", instance_dir, error);
  if (queue_dir.empty()) {
    if (!have_instance) throw Fatal("cannot find the queue directory: " + error);
    queue_dir = instance_dir;
  }
  if (c.plan_header) {
    if (c.plan_header->host != sys.hostname())
      throw Fatal("the plan was made on host " + c.plan_header->host + ", not on this one (" + sys.hostname() + ")");
    if (!same_directory(queue_dir, c.plan_header->queue_directory))
      throw Fatal("the plan was made for queue directory " + c.plan_header->queue_directory + ", not " + queue_dir);
  }
  if (c.acting()) check_may_act(have_instance, instance_dir, error);
}

// An acting run holds its queue's lock from before it plans until it is done.
void Purge::State::take_lock() {
  if (!c.acting() || locked_by_caller || !locks.empty()) return;
  LockRequest req;
  req.queue_directories = {queue_dir};
  req.argv = c.argv;
  req.wait_seconds = c.wait_seconds;
  req.on_wait = [this](const std::string& line) { p.note(line); };
  std::string refusal;
  if (!take_run_locks(sys, req, locks, refusal)) throw Fatal(refusal);
}

void Purge::State::check_may_act(bool have_instance, const std::string& instance_dir, const std::string& error) {
  if (sys.effective_uid() != 0)
    throw Fatal("acting on the queue is reserved for the superuser, as postsuper is; use --dry-run to look");
  std::string why;
  if (!sys.can_execute(c.postsuper, why)) throw Fatal(why);
  if (!have_instance) throw Fatal("cannot tell which queue postsuper would act on: " + error);
  if (!same_directory(queue_dir, instance_dir))
    throw Fatal("--queue-dir " + queue_dir + " is not the queue directory of the instance postsuper acts on (" +
                instance_dir + "); it can be read with --dry-run but never purged");
}

void Purge::State::scan(Collector& sink) {
  if (c.plan_header) {
    entries = c.planned;
    summary = "plan " + c.apply_plan + " from " + format_time(c.plan_header->created) + ": " +
              std::to_string(entries.size()) + " messages to " + c.plan_header->action;
    return;
  }
  ScanOptions scan;
  scan.queue_directory = queue_dir;
  scan.queues = c.queues;
  scan.threads = c.threads;
  std::string error;
  bool ok = build_plan(scan, *c.matcher, popt, sink, counts, error);
  p.clear_progress();
  if (!ok) throw Fatal(error);
  entries = std::move(sink.entries);
  partial = counts.scan.unreadable + counts.scan.not_regular + counts.scan.bad_directories + counts.undecided > 0;
  warn_undecided();
  summary = summary_line(counts, c.mixed);
}

void Purge::State::save_plan() {
  PlanHeader h;
  h.created = popt.now;
  h.host = sys.hostname();
  h.queue_directory = queue_dir;
  h.config_directory = c.config_dir;
  h.action = std::string(action_info(c.action).name);
  h.mixed = std::string(mixed_name(c.mixed));
  h.regex = c.regex;
  h.decode_headers = c.decode_headers;
  h.body_limit = c.body_limit;
  h.queues = c.queues;
  h.criteria = c.criteria;
  std::string error;
  if (!sys.write_file(c.save_plan, plan_to_json(h, entries), 0600, error))
    throw Fatal("cannot write the plan: " + error);
  for (const auto& e : entries) p.entry(e);
  p.summary("plan saved to " + c.save_plan + ": " + summary);
}

// The shape on standard output, or in the --output file, replaced
// atomically (a collector reading it sees the old file or the new one).
// World-readable: node_exporter's collector runs as another user.
void Purge::State::publish_shape() {
  std::string text = p.shape_output();
  std::string error;
  if (c.output.empty())
    p.print(text);
  else if (!sys.write_file(c.output, text, 0644, error))
    throw Fatal("cannot write the shape: " + error + "; the old file, if any, is unchanged");
}

// The run ends after planning: a saved plan, a shape, a dry run, or nothing to do.
std::optional<Outcome> Purge::State::show(Collector& sink) {
  const std::size_t selected = keeps_entries() ? entries.size() : counts.selected;
  const Outcome::Kind shown = selected == 0 ? Outcome::Kind::kNothing
                              : partial     ? Outcome::Kind::kPartial
                                            : Outcome::Kind::kDone;
  if (!c.save_plan.empty()) {
    if (auto refusal = over_max(selected, c.max)) throw Fatal(*refusal);  // before the file is written
    save_plan();
    return outcome(shown, selected);
  }
  if (c.shape) {
    publish_shape();
    p.finish_plan(summary);
    return outcome(shown, selected);
  }
  if (c.dry_run) {
    for (const auto& e : entries) p.entry(e);  // a plan file's messages
    p.summary("dry run: " + summary);
    std::string view = sink.view.render(popt.now);
    for (std::size_t nl; (nl = view.find('\n')) != std::string::npos; view.erase(0, nl + 1))
      p.summary(view.substr(0, nl));
    return outcome(shown, selected);
  }
  if (entries.empty()) {
    p.summary(summary + "; nothing to " + std::string(action_info(c.action).name));
    return outcome(partial ? Outcome::Kind::kPartial : Outcome::Kind::kNothing);
  }
  return std::nullopt;
}

// --archive: refused before anything changes when the copies would not fit.
void Purge::State::open_archive() {
  if (c.archive_dir.empty()) return;
  std::uint64_t bytes = 0;
  for (const PlanEntry& e : entries) bytes += e.file_size;
  std::string error;
  if (!archive_fits(c.archive_dir, bytes, error)) throw Fatal(error + "; nothing changed");
  ArchiveHeader h;
  h.created = sys.now();
  h.host = sys.hostname();
  h.run_id = sys.run_id();
  if (!c.instance.empty()) h.run_id += "-" + c.instance;  // one run directory per instance
  h.queue_directory = queue_dir;
  h.config_directory = c.config_dir;
  h.criteria = c.criteria;
  h.argv = c.argv;
  archive = ArchiveRun::create(c.archive_dir, h, error);
  if (!archive) throw Fatal("cannot make the archive: " + error + "; nothing changed");
}

bool Purge::State::confirm() {
  if (!sys.stdin_is_terminal() || c.yes) return true;
  if (c.format == Format::kText)
    for (const auto& e : entries) p.entry(e);
  p.summary(summary);
  p.flush();
  const ActionInfo& act = action_info(c.action);
  return sys.confirm(std::string(act.name) + (c.via_hold ? " (via hold)" : "") + " these " +
                     std::to_string(entries.size()) + " messages" + (c.instance.empty() ? "" : " on " + c.instance) +
                     "?");
}

void Purge::State::begin_record(JsonWriter& w, const char* event) {
  w.begin_object().field("event", event).field("time", sys.now()).field("run", sys.run_id());
  w.field("user", sys.user());
  std::string sudo = sys.sudo_user();
  w.key("sudo_user");
  if (sudo.empty())
    w.null();
  else
    w.value(sudo);
  w.field("host", sys.hostname()).field_strings("argv", c.argv);
  if (!c.instance.empty()) w.field("instance", c.instance);
  w.field("action", action_info(c.action).name).field("via_hold", c.via_hold);
  w.field("queue_directory", queue_dir);
  if (archive) w.field("archive", archive->path());
  write_criteria(w, c.criteria);
}

// The record of intent is on disk before anything changes.
std::unique_ptr<AuditSink> Purge::State::record_intent() {
  std::string error;
  std::unique_ptr<AuditSink> audit = sys.open_audit_log(c.audit_log, error);
  std::string line;
  JsonWriter w(line);
  begin_record(w, "intent");
  w.key("ids").begin_array();
  for (const PlanEntry& e : entries) w.value(e.queue + "/" + e.id);
  w.end_array().end_object();
  line += '\n';
  if (!audit || !audit->append(line, error))
    throw Fatal(error + "; nothing changed (use --audit-log FILE to name a writable log)");
  return audit;
}

Verify Purge::State::verifier(QueueFileRereader& rereader) {
  return [this, &rereader](const PlanEntry& e) { return reverify(rereader, queue_dir, e, *c.matcher, popt); };
}

ExecReport Purge::State::execute(ViaHoldReport& held) {
  sys.catch_stop_signals();
  ExecOptions eo;
  eo.postsuper = c.postsuper;
  eo.config_dir = c.config_dir;
  eo.batch_size = c.batch_size;
  eo.action = c.action;
  eo.stop = &sys.stop_flag();
  eo.rate = c.rate;
  eo.clock_us = [this]() { return sys.monotonic_us(); };
  eo.sleep_us = [this](std::int64_t us) { sys.sleep_us(us); };
  if (archive) {
    archive->defer_sync();  // one syncfs per group of IDs, before the group is written
    eo.before_hand_over = [this](const PlanEntry& e) {
      std::string error;
      return archive->store(queue_dir, e, error) ? std::string() : "not deleted: its copy could not be made: " + error;
    };
    eo.before_write = [this]() {
      std::string error;
      return archive->sync(error) ? std::string() : "not deleted: its copy could not be synced to disk: " + error;
    };
  }
  QueueFileRereader rereader(queue_dir);
  const ActionInfo& act = action_info(c.action);
  auto progress = [this](std::size_t h, std::size_t d, std::size_t total, std::string_view what) {
    p.purge_progress(h, d, total, what);
  };
  if (!c.via_hold)
    return execute_plan(runner, eo, entries, verifier(rereader),
                        [&](std::size_t h, std::size_t d) { progress(h, d, entries.size(), act.name); });
  ViaHoldJob job;
  job.exec = eo;
  job.verify = job.verify_held = verifier(rereader);
  job.find_held = scan_hold_queue(queue_dir);
  job.pause = c.hold_pause;
  job.sleep = [this](unsigned s) { sys.sleep_seconds(s); };
  job.progress = progress;
  held = purge_via_hold(runner, job, entries);
  return held.report;
}

void Purge::State::report(const ExecReport& rep, const ViaHoldReport& held) {
  p.clear_progress();
  const ActionInfo& act = action_info(c.action);
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
    ExecOptions eo;
    eo.postsuper = c.postsuper;
    eo.config_dir = c.config_dir;
    p.warning(std::to_string(held.left_on_hold.size()) +
              " messages qpurge put on hold are still there; to release them:");
    p.command(release_command(eo, held.left_on_hold));
  }
}

bool Purge::State::record_result(AuditSink& audit, const ExecReport& rep, const std::string& result) {
  std::string line;
  JsonWriter w(line);
  begin_record(w, "result");
  w.field("summary", result);
  w.key("results").begin_array();
  for (const IdResult& r : rep.results) {
    w.begin_object();
    write_result_fields(w, r);
    w.end_object();
  }
  w.end_array().end_object();
  line += '\n';
  std::string error;
  if (audit.append(line, error)) return true;
  p.warning("the audit record of what was done could not be written: " + error +
            "; what was done is only in this output and in syslog");
  return false;
}

// --archive: the outcome of each delete goes into the run's manifest.
bool Purge::State::record_archive_outcomes(const ExecReport& rep, std::string& result) {
  if (!archive) return true;
  std::string error;
  bool ok = archive->record_outcomes(rep.results, error);
  if (!ok) p.warning("the archive's manifest could not record what was deleted: " + error);
  result += "; archived " + std::to_string(archive->stored_messages()) + " in " + archive->path();
  return ok;
}

// One line to syslog (facility mail, ident qpurge), as postsuper logs its own.
void Purge::State::log_result(const std::string& result) {
  std::string criteria;
  JsonWriter w(criteria);
  w.begin_object();
  write_criteria(w, c.criteria);
  w.end_object();
  sys.syslog((c.instance.empty() ? "" : "[" + c.instance + "] ") + result + " (" + criteria + ")");
}

Outcome Purge::State::finish(const ExecReport& rep, bool recorded) {
  const std::size_t done = rep.count(IdOutcome::kDone);
  bool all = done + rep.count(IdOutcome::kAlready) == rep.results.size() && !rep.totals_mismatch && !rep.interrupted &&
             rep.stopped.empty();
  return outcome(all && !partial && recorded ? Outcome::Kind::kDone : Outcome::Kind::kPartial, entries.size(),
                 done > 0);
}

Purge::Purge(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer)
    : s_(std::make_unique<State>(config, system, runner, printer)) {}
Purge::~Purge() = default;

std::size_t Purge::planned() const { return s_->entries.size(); }

std::optional<Outcome> Purge::prepare() {
  try {
    s_->resolve_queue();
    s_->resolved = true;
    return std::nullopt;
  } catch (const Fatal& e) {
    return refuse(e.what());
  }
}

Outcome Purge::refuse(const std::string& why) {
  s_->p.fatal(why);
  return outcome(Outcome::Kind::kFatal);
}

const std::string& Purge::queue_directory() const { return s_->queue_dir; }
void Purge::lock_held_by_caller() { s_->locked_by_caller = true; }
void Purge::note(const std::string& line) { s_->p.note(line); }

std::optional<Outcome> Purge::plan() {
  State& s = *s_;
  try {
    if (!s.resolved) s.resolve_queue();
    s.take_lock();
    s.popt.mixed = s.c.mixed;
    s.popt.explain = s.c.explain;
    s.popt.detail = s.c.detail;
    s.popt.body_limit = s.c.body_limit;
    s.popt.now = s.sys.now();
    s.p.begin_plan(s.popt.now);
    Collector sink(s.c, s.p, s.keeps_entries());
    s.scan(sink);
    return s.show(sink);
  } catch (const Fatal& e) {
    s.p.fatal(e.what());
    return outcome(Outcome::Kind::kFatal);
  }
}

Outcome Purge::act() {
  State& s = *s_;
  std::unique_ptr<AuditSink> audit;
  try {
    if (!s.confirm()) {
      s.p.note("nothing changed");
      return outcome(Outcome::Kind::kNothing);
    }
    s.open_archive();
    audit = s.record_intent();
  } catch (const Fatal& e) {
    s.p.fatal(e.what());
    return outcome(Outcome::Kind::kFatal);
  }
  QPURGE_CHECK(audit != nullptr);  // no change without its record of intent
  ViaHoldReport held;
  ExecReport rep = s.execute(held);
  if (s.sys.stop_flag()) rep.interrupted = true;
  s.warn_undecided();  // re-verification evaluates again
  s.report(rep, held);
  std::string result = result_summary(rep, action_info(s.c.action));
  bool recorded = s.record_archive_outcomes(rep, result);
  recorded = s.record_result(*audit, rep, result) && recorded;
  s.log_result(result);
  s.p.summary(s.summary);
  s.p.summary(result);
  s.p.flush();
  return s.finish(rep, recorded);
}

std::vector<std::optional<Outcome>> prepare_and_lock(std::vector<std::unique_ptr<Purge>>& purges, System& system,
                                                     const RunConfig& config,
                                                     std::vector<std::unique_ptr<RunLock>>& locks) {
  std::vector<std::optional<Outcome>> outcomes;
  LockRequest req;
  req.argv = config.argv;
  req.wait_seconds = config.wait_seconds;
  for (auto& purge : purges) {
    if (!req.on_wait) req.on_wait = [&first = *purge](const std::string& line) { first.note(line); };
    outcomes.push_back(purge->prepare());
    if (!outcomes.back() && config.acting()) req.queue_directories.push_back(purge->queue_directory());
  }
  if (req.queue_directories.empty()) return outcomes;
  std::string refusal;
  if (!take_run_locks(system, req, locks, refusal)) {
    bool said = false;
    for (std::size_t i = 0; i < purges.size(); ++i) {
      if (outcomes[i]) continue;
      outcomes[i] = said ? outcome(Outcome::Kind::kFatal) : purges[i]->refuse(refusal + "; no instance was acted on");
      said = true;
    }
    return outcomes;
  }
  for (std::size_t i = 0; i < purges.size(); ++i)
    if (!outcomes[i]) purges[i]->lock_held_by_caller();
  return outcomes;
}

std::optional<std::string> over_max(std::size_t planned, std::size_t max) {
  if (max == 0 || planned <= max) return std::nullopt;
  return "the plan has " + std::to_string(planned) + " messages, more than --max " + std::to_string(max) +
         "; nothing changed";
}

Outcome run_purge(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer) {
  Purge purge(config, system, runner, printer);
  std::optional<Outcome> shown = purge.plan();
  std::size_t planned = shown ? shown->planned : purge.planned();
  if (auto refusal = over_max(planned, config.max)) {
    printer.fatal(*refusal);
    return outcome(Outcome::Kind::kFatal, planned);
  }
  if (shown) return *shown;
  return purge.act();
}

int exit_status(const Outcome& o) {
  switch (o.kind) {
    case Outcome::Kind::kDone:
      return kExitDone;
    case Outcome::Kind::kNothing:
      return kExitNothing;
    case Outcome::Kind::kFatal:
      return o.changed ? kExitPartial : kExitFatal;
    case Outcome::Kind::kPartial:
      return kExitPartial;
  }
  return kExitPartial;
}

Outcome combine_outcomes(const std::vector<Outcome>& all) {
  Outcome o;
  bool fatal = false, partial = false, done = false;
  for (const Outcome& x : all) {
    o.changed |= x.changed;
    o.planned += x.planned;
    fatal |= x.kind == Outcome::Kind::kFatal;
    partial |= x.kind == Outcome::Kind::kPartial;
    done |= x.kind == Outcome::Kind::kDone;
  }
  if (fatal && !o.changed && !partial)
    o.kind = Outcome::Kind::kFatal;
  else if (fatal || partial)
    o.kind = Outcome::Kind::kPartial;
  else
    o.kind = done ? Outcome::Kind::kDone : Outcome::Kind::kNothing;
  return o;
}

}  // namespace qpurge
