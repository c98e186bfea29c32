// SPDX-License-Identifier: MIT
// config.cc - from Args to one validated RunConfig; see config.h.
#include "qpurge/app/config.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <stdexcept>

#include "qpurge/act/audit.h"
#include "qpurge/postfix/postconf.h"
#include "qpurge/report/metrics.h"
#include "qpurge/select/mime.h"
#include "qpurge/select/selectors.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/check.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/posix_io.h"
#include "qpurge/util/sha256.h"
#include "qpurge/util/text.h"

namespace qpurge {
namespace {

// A whole decimal number in [lo, hi]; anything else is a usage error naming
// the option.
std::uint64_t number(const std::string& option, const std::string& text, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n < lo || n > hi)
    throw UsageError(option + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                     ", not '" + text_escaped(text) + "'");
  return n;
}

template <typename T>
void number_if(const std::optional<std::string>& text, const std::string& option, std::uint64_t lo, std::uint64_t hi,
               T& out) {
  if (text) out = static_cast<T>(number(option, *text, lo, hi));
}

Format parse_format(const std::string& f) {
  if (f == "text") return Format::kText;
  if (f == "ids") return Format::kIds;
  if (f == "json") return Format::kJson;
  if (f == "prometheus") return Format::kPrometheus;
  throw UsageError("--format must be text, ids, json or prometheus, not '" + text_escaped(f) + "'");
}

MixedPolicy parse_mixed(const std::string& m) {
  if (m == "skip") return MixedPolicy::kSkip;
  if (m == "include") return MixedPolicy::kInclude;
  if (m == "cancel") return MixedPolicy::kCancel;
  throw UsageError("--mixed must be skip, include or cancel, not '" + text_escaped(m) + "'");
}

Action parse_action_arg(const std::string& name) {
  Action a;
  if (!parse_action(name, a))
    throw UsageError("--action must be delete, hold, release, requeue or expire, not '" + text_escaped(name) + "'");
  return a;
}

void set_shape(const Args& args, RunConfig& c) {
  bool shape_option =
      args.buckets || args.bucket_minutes || args.min_subdomains || args.width || args.linear || args.parents;
  if (!args.shape) {
    if (shape_option)
      throw UsageError(
          "--buckets, --bucket-minutes, --linear, --parents, --min-subdomains and --width go with --shape");
    return;
  }
  if (*args.shape != "recipient" && *args.shape != "sender")
    throw UsageError("--shape takes nothing or 'sender', not '" + text_escaped(*args.shape) + "'");
  if (args.save_plan || args.apply_plan) throw UsageError("--shape only shows; it takes no plan file");
  ShapeOptions so;
  so.senders = *args.shape == "sender";
  so.linear = args.linear;
  so.parents = args.parents;
  // Bucket bounds double each time: past 60 buckets they no longer fit.
  number_if(args.buckets, "--buckets", 1, 60, so.buckets);
  number_if(args.bucket_minutes, "--bucket-minutes", 1, 525600, so.bucket_minutes);
  number_if(args.min_subdomains, "--min-subdomains", 1, 1000000, so.min_subdomains);
  number_if(args.width, "--width", 1, 10000, so.width);
  c.output.shape = so;
  c.dry_run = true;
}

// --format prometheus, --top and --output: ways to show a shape.
void set_shape_output(const Args& args, RunConfig& c) {
  const bool prometheus = c.output.format == Format::kPrometheus;
  if (prometheus && !c.output.shape) throw UsageError("--format prometheus shows a shape: it goes with --shape");
  if (args.top && !prometheus) throw UsageError("--top goes with --format prometheus (the table shows every domain)");
  number_if(args.top, "--top", 1, 100000, c.output.top);
  if (prometheus && (args.parents || args.min_subdomains || args.width))
    throw UsageError(
        "--parents, --min-subdomains and --width shape the table; they do not go with --format prometheus");
  if (args.output && !c.output.shape)
    throw UsageError("--output writes a shape: it goes with --shape (plans and results go to standard output)");
  if (args.all_instances && (prometheus || args.output))
    throw UsageError("--format prometheus and --output show one instance: run once per instance with -c DIR");
  c.output.output_file = args.output.value_or("");
}

// --count: how many, nothing else; it only reads.
void set_count(const Args& args, RunConfig& c) {
  if (!args.count) return;
  if (args.format || args.shape || args.save_plan || args.apply_plan || args.explain || args.all_instances)
    throw UsageError(
        "--count prints one number: it takes no --format, --shape, --explain, plan file or --all-instances");
  c.output.count = true;
  c.dry_run = true;
}

void set_limits(const Args& args, RunConfig& c) {
  number_if(args.batch_size, "--batch-size", 1, kMaxBatchSize, c.exec.batch_size);
  number_if(args.max, "--max", 1, 1000000000, c.max);
  number_if(args.threads, "--threads", 1, kMaxThreads, c.scan.threads);
  number_if(args.hold_pause, "--hold-pause", 0, 86400, c.hold_pause);
  if (args.hold_pause && !args.via_hold) throw UsageError("--hold-pause goes with --via-hold");
  number_if(args.wait, "--wait", 0, kMaxLockWait, c.wait_seconds);
  number_if(args.rate, "--rate", 1, kMaxRate, c.exec.rate);
  if (args.rate && args.restore) throw UsageError("--rate paces the IDs handed to postsuper; --restore hands it none");
}

void set_queues(const std::vector<std::string>& queues, RunConfig& c) {
  for (const auto& q : queues)
    if (!is_message_queue(q))
      throw UsageError("--queue '" + text_escaped(q) +
                       "': not a message queue (incoming, active, deferred, hold, maildrop)");
  c.scan.queues = queues;
  if (c.scan.queues.empty()) {
    if (c.exec.action == Action::kRelease)
      c.scan.queues = {"hold"};
    else
      c.scan.queues = {"incoming", "active", "deferred", "hold"};
  }
}

// A plan saved with --archive DIR archives there: an --archive given with
// it may only name the same directory.
void take_plan_archive(const Args& args, const PlanHeader& plan, RunConfig& c) {
  if (plan.archive.empty()) return;
  if (args.archive && !same_path(*args.archive, plan.archive))
    throw UsageError("the plan was saved with --archive " + text_escaped(plan.archive) + ", not --archive " +
                     text_escaped(*args.archive) + "; nothing changed (give no --archive: the plan's is used)");
  c.archive.dir = plan.archive;
  c.archive.from_plan = !args.archive;
}

// A saved plan brings its criteria, action, place and queues; the options
// may only repeat them.
void take_plan(const Args& args, const PlanHeader& plan, RunConfig& c) {
  if (!args.criteria.empty() || args.regex || args.decode_headers || args.body_limit)
    throw UsageError(
        "--apply-plan takes its criteria from the plan; give no selectors, --regex, --decode-headers or --body-limit");
  if (args.save_plan) throw UsageError("--apply-plan and --save-plan do not go together");
  if (!args.queues.empty()) throw UsageError("--apply-plan acts on the plan's own queues; give no --queue");
  Action plan_action;
  if (!parse_action(plan.action, plan_action))
    throw UsageError("the plan names an unknown action '" + text_escaped(plan.action) + "'");
  if (args.action && parse_action_arg(*args.action) != plan_action)
    throw UsageError("the plan was saved to " + plan.action + ", not to " + *args.action +
                     "; nothing changed (save a new plan with --action " + *args.action + ")");
  MixedPolicy plan_mixed = parse_mixed(plan.mixed);
  if (args.mixed && parse_mixed(*args.mixed) != plan_mixed)
    throw UsageError("the plan was saved with --mixed " + plan.mixed + "; give no other --mixed");
  c.exec.action = plan_action;
  c.plan.mixed = plan_mixed;
  c.selection.criteria = plan.criteria;
  c.selection.regex = plan.regex;
  c.selection.decode_headers = plan.decode_headers;
  if (plan.body_limit < 1 || plan.body_limit > kMaxBodyLimit) throw UsageError("the plan names a bad body_limit");
  c.plan.body_limit = static_cast<std::size_t>(plan.body_limit);
  if (c.exec.config_dir.empty()) c.exec.config_dir = plan.config_directory;
  take_plan_archive(args, plan, c);
  c.plan_header = plan;
  c.scan.queues = plan.queues;
}

// --archives and --prune-archives look at an archive, not at a queue: they
// take no selector (--prune-archives takes --older-than as its age).
bool archive_listing(const Args& args, RunConfig& c) {
  if (!args.archives && !args.prune_archives) return false;
  if (args.archives && args.prune_archives) throw UsageError("--archives and --prune-archives do not go together");
  c.mode = args.archives ? Mode::kListArchives : Mode::kPruneArchives;
  c.archive.dir = args.archives ? *args.archives : *args.prune_archives;
  std::vector<PlanCriterion> rest = args.criteria;
  if (c.mode == Mode::kPruneArchives) {
    auto age =
        std::find_if(rest.begin(), rest.end(), [](const PlanCriterion& p) { return p.option == "--older-than"; });
    if (age == rest.end() || age->values.size() != 1)
      throw UsageError("--prune-archives needs one --older-than AGE: the runs older than that are removed");
    if (!parse_duration(age->values[0], c.archive.prune_older_than))
      throw UsageError("--older-than '" + text_escaped(age->values[0]) +
                       "': " + (bare_number(age->values[0]) ? kAgeUnits : "not a duration (e.g. 90m, 36h, 3d)"));
    rest.erase(age);
  }
  if (!rest.empty() || args.archive || args.restore || args.apply_plan || args.save_plan || args.all_instances)
    throw UsageError(std::string(args.archives ? "--archives" : "--prune-archives") +
                     " takes no selector, plan, --archive or --restore");
  return true;
}

void set_archive(const Args& args, RunConfig& c) {
  if (args.restore_to && !args.restore) throw UsageError("--restore-to goes with --restore");
  if (args.force_other_instance && !args.restore) throw UsageError("--force-other-instance goes with --restore");
  if (args.restore) {
    if (args.archive || args.apply_plan || args.save_plan || args.via_hold || args.shape || args.all_instances ||
        args.action)
      throw UsageError("--restore takes no --archive, plan file, --via-hold, --shape, --action or --all-instances");
    c.mode = Mode::kRestore;
    c.archive.run_dir = *args.restore;
    c.archive.restore_to = args.restore_to.value_or("hold");
    if (c.archive.restore_to != "hold" && c.archive.restore_to != "deferred" && c.archive.restore_to != "incoming")
      throw UsageError("--restore-to must be hold, deferred or incoming, not '" + text_escaped(c.archive.restore_to) +
                       "'");
    c.archive.force_other_instance = args.force_other_instance;
  }
  if (args.archive || !c.archive.dir.empty()) {
    if (c.exec.action != Action::kDelete)
      throw UsageError("--archive keeps a copy of what is deleted; it takes no other action");
    // A maildrop file is postdrop's, not a queue file: --restore could not
    // put it back (pickup moves it to incoming within seconds anyway).
    if (std::find(c.scan.queues.begin(), c.scan.queues.end(), "maildrop") != c.scan.queues.end())
      throw UsageError(
          std::string("--archive cannot keep maildrop messages: they are postdrop files, not queue files, ") +
          "and --restore could not put them back" +
          (args.apply_plan ? " (the plan's queues include maildrop)" : "; leave maildrop out of --queue"));
    if (args.archive) c.archive.dir = *args.archive;
  }
}

// --body-limit and --decode-headers change how content selectors look: they
// need one that they change.
void set_content_options(const Args& args, RunConfig& c) {
  if (args.body_limit) {
    std::int64_t bytes = 0;
    if (!parse_size(*args.body_limit, bytes) || bytes < 1 || static_cast<std::uint64_t>(bytes) > kMaxBodyLimit)
      throw UsageError("--body-limit must be a size from 1b to 1G (e.g. 512k, 4M), not '" +
                       text_escaped(*args.body_limit) + "'" +
                       (bare_number(*args.body_limit) ? std::string("; ") + kSizeUnits : ""));
    c.plan.body_limit = static_cast<std::size_t>(bytes);
    if (c.selection.matcher->needs_content() != ContentNeed::kBody)
      throw UsageError("--body-limit goes with --body (--attachment and --attachment-type decode no text)");
  }
  if (args.decode_headers && !c.selection.matcher->needs_headers())
    throw UsageError("--decode-headers goes with --header or --exclude-header");
  // The question before acting is read from standard input: not when it
  // held the list.
  if (args.ids_from_stdin && c.acting() && !c.yes)
    throw UsageError(
        "--ids-from - reads standard input, so qpurge cannot ask before acting: add --yes (after a "
        "--dry-run)");
}

// An ID pasted from mailq keeps its status mark: "37320A7A705*" (active),
// "37320A7A705!" (on hold). The mark is not part of the ID.
std::string_view without_mailq_mark(std::string_view id) {
  if (id.size() > 1 && (id.back() == '*' || id.back() == '!')) id.remove_suffix(1);
  return id;
}

// The lines of an --ids-from file: queue IDs, blank lines and #comments.
std::vector<std::string> id_lines(const std::string& name, const std::string& text) {
  std::vector<std::string> ids;
  std::size_t number = 0;
  std::string_view rest = text, line;
  while (next_line(rest, line)) {
    ++number;
    std::string_view id = trim_end(line, "\r \t");
    id.remove_prefix(std::min(id.size(), id.find_first_not_of(" \t")));
    if (id.empty() || id[0] == '#') continue;
    id = without_mailq_mark(id);
    if (!queue_id_ok(id))
      throw UsageError("--ids-from " + text_escaped(name) + " line " + std::to_string(number) + ": not a queue ID: '" +
                       text_escaped(id) + "'");
    ids.emplace_back(id);
  }
  return ids;
}

// "--id" alternatives in one set: a long list is one lookup, not one test each.
void add_id_group(CriterionGroup& g, const std::vector<std::string>& ids) {
  try {
    g.alternatives.push_back(make_queue_id(ids));
  } catch (const std::invalid_argument& e) {
    throw UsageError(g.option + ": " + e.what());
  }
  if (ids.size() <= 8) {
    std::string shown;
    for (const std::string& id : ids) {
      if (!shown.empty()) shown.append(" | ");
      shown.append(id);
    }
    g.values.push_back(shown);
  } else {
    std::string shown = std::to_string(ids.size());
    shown.append(" queue IDs");
    g.values.push_back(std::move(shown));
  }
}

}  // namespace

void read_id_lists(Args& args, const std::function<bool(const std::string&, std::string&, std::string&)>& read) {
  std::vector<PlanCriterion> out;
  for (PlanCriterion& c : args.criteria) {
    const bool exclude = c.option == "--exclude-ids-from";
    if (c.option == "--id" || c.option == "--exclude-id")
      for (std::string& v : c.values) v = std::string(without_mailq_mark(v));
    if (!exclude && c.option != "--ids-from") {
      out.push_back(std::move(c));
      continue;
    }
    const std::string option = exclude ? "--exclude-id" : "--id";
    auto it = std::find_if(out.begin(), out.end(), [&](const PlanCriterion& p) { return p.option == option; });
    if (it == out.end()) it = out.insert(out.end(), PlanCriterion{option, {}});
    for (const std::string& file : c.values) {
      std::string text, error;
      if (file.empty()) throw UsageError(c.option + " needs a file name (- = standard input)");
      args.ids_from_stdin |= file == "-";
      if (!read(file == "-" ? "/dev/stdin" : file, text, error))
        throw UsageError(c.option + " " + text_escaped(file) + ": " + text_escaped(error));
      for (std::string& id : id_lines(file, text)) it->values.push_back(std::move(id));
    }
    if (it->values.empty()) throw UsageError(c.option + ": no queue ID in " + text_escaped(c.values.front()));
  }
  // A later --id merges into the group made for an earlier --ids-from.
  args.criteria.clear();
  for (PlanCriterion& c : out) {
    auto it = std::find_if(args.criteria.begin(), args.criteria.end(),
                           [&](const PlanCriterion& p) { return p.option == c.option; });
    if (it == args.criteria.end())
      args.criteria.push_back(std::move(c));
    else
      it->values.insert(it->values.end(), c.values.begin(), c.values.end());
  }
}

std::string_view mixed_name(MixedPolicy m) {
  return m == MixedPolicy::kInclude ? "include" : m == MixedPolicy::kCancel ? "cancel" : "skip";
}

// --mixed cancel crosses recipients off for a delete; what it does not go
// with yet is refused rather than done some other way.
void check_cancel(const Args& args, const RunConfig& c) {
  if (c.plan.mixed != MixedPolicy::kCancel) return;
  if (args.restore) throw UsageError("--restore takes no --mixed: it puts back what an archive run holds");
  if (c.exec.action != Action::kDelete)
    throw UsageError("--mixed cancel cancels the matching recipients of a delete; it takes no other --action (it was " +
                     std::string(action_info(c.exec.action).name) + ")");
}

std::shared_ptr<const Matcher> build_matcher(const std::vector<PlanCriterion>& criteria, bool regex,
                                             bool decode_headers) {
  auto m = std::make_shared<Matcher>();
  for (const PlanCriterion& c : criteria) {
    CriterionGroup g;
    g.option = c.option;
    if (c.option == "--all") {
      g.alternatives.push_back(make_all());
      m->add(std::move(g));
      continue;
    }
    const SelectorSpec* sel = find_selector(c.option, g.exclude);
    if (!sel) throw UsageError("unknown selector " + text_escaped(c.option));
    if (std::string_view(sel->name) == "id") {
      add_id_group(g, c.values);
      m->add(std::move(g));
      continue;
    }
    const bool decoded_header = decode_headers && std::string_view(sel->name) == "header";
    for (const std::string& v : c.values) {
      try {
        g.alternatives.push_back(decoded_header ? make_header(v, true) : sel->make(v, regex));
      } catch (const std::invalid_argument& e) {
        throw UsageError(c.option + " '" + text_escaped(v) + "': " + e.what());
      }
      g.values.push_back(v);  // as typed: every printer escapes what it shows
    }
    m->add(std::move(g));
  }
  return m;
}

RunConfig make_config(const Args& args, const PlanHeader* plan) {
  RunConfig c;
  c.argv = args.argv;
  c.selection.criteria = args.criteria;
  c.selection.regex = args.regex;
  c.exec.config_dir = args.config_dir.value_or("");
  c.scan.queue_directory = args.queue_dir.value_or("");
  c.all_instances = args.all_instances;
  c.dry_run = args.dry_run;
  c.yes = args.yes;
  c.via_hold = args.via_hold;
  c.save_plan = args.save_plan.value_or("");
  c.apply_plan = args.apply_plan.value_or("");
  c.audit_log = args.audit_log.value_or(kDefaultAuditLog);
  c.exec.postsuper = args.postsuper.value_or(kDefaultPostsuper);
  c.postconf = args.postconf.value_or(kDefaultPostconf);
  c.postmulti = args.postmulti.value_or(kDefaultPostmulti);
  c.plan.explain = args.explain;
  set_count(args, c);
  c.plan.detail = c.output.detail = args.detail;
  c.output.quiet = args.quiet;
  c.output.verbose = args.verbose;
  if (args.format) c.output.format = parse_format(*args.format);
  if (args.mixed) c.plan.mixed = parse_mixed(*args.mixed);
  if (args.action) c.exec.action = parse_action_arg(*args.action);
  for (const auto* path : {&args.save_plan, &args.apply_plan, &args.audit_log, &args.postsuper, &args.postconf,
                           &args.postmulti, &args.config_dir, &args.queue_dir})
    if (*path && path->value().empty())
      throw UsageError("an option that names a file or directory was given an empty value");
  for (const auto* path : {&args.archive, &args.restore, &args.archives, &args.prune_archives, &args.output})
    if (*path && path->value().empty())
      throw UsageError("an option that names a file or directory was given an empty value");
  if (archive_listing(args, c)) return c;
  if (args.recover) {
    if (!args.criteria.empty() || args.archive || args.restore || args.apply_plan || args.save_plan ||
        args.all_instances || args.via_hold || args.action || args.shape || args.queue_dir)
      throw UsageError(
          "--recover finishes what an interrupted run left, as its journal says: it takes no selector, plan, "
          "--action, --via-hold, --archive, --restore, --shape, --queue-dir or --all-instances (-c DIR names the "
          "instance)");
    c.mode = Mode::kRecover;
    set_limits(args, c);
    return c;
  }
  set_limits(args, c);
  set_shape(args, c);
  set_shape_output(args, c);
  if (args.all_instances && (args.config_dir || args.queue_dir || args.save_plan || args.apply_plan))
    throw UsageError("--all-instances takes no -c, --queue-dir, --save-plan or --apply-plan");
  QPURGE_CHECK(plan || !args.apply_plan);  // the caller loads the plan file first
  if (plan)
    take_plan(args, *plan, c);
  else
    set_queues(args.queues, c);
  // Checked after the plan's action is known: a plan saved to release,
  // applied with --via-hold, must not delete.
  if (c.via_hold && c.exec.action != Action::kDelete)
    throw UsageError(std::string("--via-hold is a way to delete; it takes no other action") +
                     (plan ? " (the plan was saved to " + plan->action + ")" : ""));
  set_archive(args, c);
  // libcrypto is in the digest module (sha256.h): an archive or a restore
  // that could not check its copies stops before it starts.
  if (args.archive || args.restore) require_digest_module();
  check_cancel(args, c);
  if (!plan) c.selection.decode_headers = args.decode_headers;
  c.selection.matcher = build_matcher(c.selection.criteria, c.selection.regex, c.selection.decode_headers);
  // GMime is in the content module (mime.h): loaded now, so that a run that
  // cannot decode stops before it starts, not undecided on every message.
  if (c.selection.matcher->needs_content() != ContentNeed::kNone || c.selection.decode_headers)
    require_content_module();
  if (c.output.format == Format::kPrometheus) require_metrics_module();  // prometheus-cpp (metrics.h)
  if (!plan) set_content_options(args, c);
  if (c.mode == Mode::kRestore) return c;  // no selector: every message of the run
  if (c.selection.matcher->empty() && !c.acting() && c.save_plan.empty()) {
    // A view that only reads shows the whole queue without one, as qshape and mailq do.
    c.selection.criteria = {PlanCriterion{"--all", {}}};
    c.selection.matcher = build_matcher(c.selection.criteria, false);
  }
  if (c.selection.matcher->empty())
    throw UsageError("no selector given: name what to select (--sender, --recipient, --domain, ...) or say --all");
  return c;
}

}  // namespace qpurge
