// SPDX-License-Identifier: MIT
// config.cc - from Args to one validated RunConfig; see config.h.
#include "qpurge/config.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <stdexcept>

#include "qpurge/audit.h"
#include "qpurge/check.h"
#include "qpurge/escape.h"
#include "qpurge/postfix_config.h"
#include "qpurge/queue_id.h"
#include "qpurge/selectors.h"
#include "qpurge/text.h"

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
  throw UsageError("--mixed must be skip or include, not '" + text_escaped(m) + "'");
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
  c.shape = so;
  c.dry_run = true;
}

// --format prometheus, --top and --output: ways to show a shape.
void set_shape_output(const Args& args, RunConfig& c) {
  const bool prometheus = c.format == Format::kPrometheus;
  if (prometheus && !c.shape) throw UsageError("--format prometheus shows a shape: it goes with --shape");
  if (args.top && !prometheus) throw UsageError("--top goes with --format prometheus (the table shows every domain)");
  number_if(args.top, "--top", 1, 100000, c.top);
  if (prometheus && (args.parents || args.min_subdomains || args.width))
    throw UsageError(
        "--parents, --min-subdomains and --width shape the table; they do not go with --format prometheus");
  if (args.output && !c.shape)
    throw UsageError("--output writes a shape: it goes with --shape (plans and results go to standard output)");
  if (args.all_instances && (prometheus || args.output))
    throw UsageError("--format prometheus and --output show one instance: run once per instance with -c DIR");
  c.output = args.output.value_or("");
}

void set_limits(const Args& args, RunConfig& c) {
  number_if(args.batch_size, "--batch-size", 1, kMaxBatchSize, c.batch_size);
  number_if(args.max, "--max", 1, 1000000000, c.max);
  number_if(args.threads, "--threads", 1, kMaxThreads, c.threads);
  number_if(args.hold_pause, "--hold-pause", 0, 86400, c.hold_pause);
  if (args.hold_pause && !args.via_hold) throw UsageError("--hold-pause goes with --via-hold");
  number_if(args.wait, "--wait", 0, kMaxLockWait, c.wait_seconds);
  number_if(args.rate, "--rate", 1, kMaxRate, c.rate);
  if (args.rate && args.restore) throw UsageError("--rate paces the IDs handed to postsuper; --restore hands it none");
}

void set_queues(const std::vector<std::string>& queues, RunConfig& c) {
  for (const auto& q : queues)
    if (!is_message_queue(q))
      throw UsageError("--queue '" + text_escaped(q) +
                       "': not a message queue (incoming, active, deferred, hold, maildrop)");
  c.queues = queues;
  if (c.queues.empty()) {
    if (c.action == Action::kRelease)
      c.queues = {"hold"};
    else
      c.queues = {"incoming", "active", "deferred", "hold"};
  }
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
  c.action = plan_action;
  c.mixed = plan_mixed;
  c.criteria = plan.criteria;
  c.regex = plan.regex;
  c.decode_headers = plan.decode_headers;
  if (plan.body_limit < 1 || plan.body_limit > kMaxBodyLimit) throw UsageError("the plan names a bad body_limit");
  c.body_limit = static_cast<std::size_t>(plan.body_limit);
  if (c.config_dir.empty()) c.config_dir = plan.config_directory;
  c.plan_header = plan;
  c.queues = plan.queues;
}

// --archives and --prune-archives look at an archive, not at a queue: they
// take no selector (--prune-archives takes --older-than as its age).
bool archive_listing(const Args& args, RunConfig& c) {
  if (!args.archives && !args.prune_archives) return false;
  if (args.archives && args.prune_archives) throw UsageError("--archives and --prune-archives do not go together");
  c.mode = args.archives ? Mode::kListArchives : Mode::kPruneArchives;
  c.archive_dir = args.archives ? *args.archives : *args.prune_archives;
  std::vector<PlanCriterion> rest = args.criteria;
  if (c.mode == Mode::kPruneArchives) {
    auto age =
        std::find_if(rest.begin(), rest.end(), [](const PlanCriterion& p) { return p.option == "--older-than"; });
    if (age == rest.end() || age->values.size() != 1)
      throw UsageError("--prune-archives needs one --older-than AGE: the runs older than that are removed");
    if (!parse_duration(age->values[0], c.prune_older_than))
      throw UsageError("--older-than '" + text_escaped(age->values[0]) + "': not a duration (e.g. 90m, 36h, 3d)");
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
    c.restore_run = *args.restore;
    c.restore_to = args.restore_to.value_or("hold");
    if (c.restore_to != "hold" && c.restore_to != "deferred" && c.restore_to != "incoming")
      throw UsageError("--restore-to must be hold, deferred or incoming, not '" + text_escaped(c.restore_to) + "'");
    c.force_other_instance = args.force_other_instance;
  }
  if (args.archive) {
    if (c.action != Action::kDelete)
      throw UsageError("--archive keeps a copy of what is deleted; it takes no other action");
    c.archive_dir = *args.archive;
  }
}

// --body-limit and --decode-headers change how content selectors look: they
// need one that they change.
void set_content_options(const Args& args, RunConfig& c) {
  if (args.body_limit) {
    std::int64_t bytes = 0;
    if (!parse_size(*args.body_limit, bytes) || bytes < 1 || static_cast<std::uint64_t>(bytes) > kMaxBodyLimit)
      throw UsageError("--body-limit must be a size from 1 to 1G (e.g. 512k, 4M), not '" +
                       text_escaped(*args.body_limit) + "'");
    c.body_limit = static_cast<std::size_t>(bytes);
    if (c.matcher->needs_content() != ContentNeed::kBody)
      throw UsageError("--body-limit goes with --body, --attachment or --attachment-type");
  }
  if (args.decode_headers && !c.matcher->needs_headers())
    throw UsageError("--decode-headers goes with --header or --exclude-header");
  // The question before acting is read from standard input: not when it
  // held the list.
  if (args.ids_from_stdin && c.acting() && !c.yes)
    throw UsageError(
        "--ids-from - reads standard input, so qpurge cannot ask before acting: add --yes (after a "
        "--dry-run)");
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
      shown.append(text_escaped(id));
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

std::string_view mixed_name(MixedPolicy m) { return m == MixedPolicy::kInclude ? "include" : "skip"; }

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
      g.values.push_back(text_escaped(v));
    }
    m->add(std::move(g));
  }
  return m;
}

RunConfig make_config(const Args& args, const PlanHeader* plan) {
  RunConfig c;
  c.argv = args.argv;
  c.criteria = args.criteria;
  c.regex = args.regex;
  c.config_dir = args.config_dir.value_or("");
  c.queue_dir = args.queue_dir.value_or("");
  c.all_instances = args.all_instances;
  c.dry_run = args.dry_run;
  c.yes = args.yes;
  c.via_hold = args.via_hold;
  c.save_plan = args.save_plan.value_or("");
  c.apply_plan = args.apply_plan.value_or("");
  c.audit_log = args.audit_log.value_or(kDefaultAuditLog);
  c.postsuper = args.postsuper.value_or(kDefaultPostsuper);
  c.postconf = args.postconf.value_or(kDefaultPostconf);
  c.postmulti = args.postmulti.value_or(kDefaultPostmulti);
  c.explain = args.explain;
  c.detail = args.detail;
  c.quiet = args.quiet;
  c.verbose = args.verbose;
  if (args.format) c.format = parse_format(*args.format);
  if (args.mixed) c.mixed = parse_mixed(*args.mixed);
  if (args.action) c.action = parse_action_arg(*args.action);
  for (const auto* path : {&args.save_plan, &args.apply_plan, &args.audit_log, &args.postsuper, &args.postconf,
                           &args.postmulti, &args.config_dir, &args.queue_dir})
    if (*path && path->value().empty())
      throw UsageError("an option that names a file or directory was given an empty value");
  for (const auto* path : {&args.archive, &args.restore, &args.archives, &args.prune_archives, &args.output})
    if (*path && path->value().empty())
      throw UsageError("an option that names a file or directory was given an empty value");
  if (archive_listing(args, c)) return c;
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
  if (c.via_hold && c.action != Action::kDelete)
    throw UsageError(std::string("--via-hold is a way to delete; it takes no other action") +
                     (plan ? " (the plan was saved to " + plan->action + ")" : ""));
  set_archive(args, c);
  if (!plan) c.decode_headers = args.decode_headers;
  c.matcher = build_matcher(c.criteria, c.regex, c.decode_headers);
  if (!plan) set_content_options(args, c);
  if (c.mode == Mode::kRestore) return c;  // no selector: every message of the run
  if (c.matcher->empty())
    throw UsageError("no selector given: name what to select (--sender, --recipient, --domain, ...) or say --all");
  return c;
}

}  // namespace qpurge
