// SPDX-License-Identifier: MIT
// args.cc - reading the command line; see args.h.
#include "qpurge/app/args.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <sstream>

#include "qpurge/select/selectors.h"
#include "qpurge/version.h"

namespace po = boost::program_options;

namespace qpurge {
namespace {

po::typed_value<std::string>* text(const char* value_name) { return po::value<std::string>()->value_name(value_name); }

// The options in the order --help shows them, a caption for each group.
using Groups = std::vector<std::pair<std::string, po::options_description>>;

void selection_options(Args& a, Groups& groups) {
  po::options_description sel;
  for (const SelectorSpec& s : selector_specs())
    sel.add_options()(s.name, po::value<std::vector<std::string>>()->composing()->value_name(s.arg), s.help);
  sel.add_options()("regex", po::bool_switch(&a.regex),
                    "the values of --sender, --recipient and --original-recipient are Boost.Regex patterns (whole "
                    "address, any case)")("decode-headers", po::bool_switch(&a.decode_headers),
                                          "--header matches the unfolded, RFC 2047 decoded value")(
      "body-limit", text("SIZE"),
      "--body, --attachment, --attachment-type: decoded text searched per message at most (default 1M)")(
      "all", "select every message in the chosen queues")(
      "mixed", text("skip|include|cancel"),
      "messages where only some pending recipients match: leave them (skip, the default) act on them (include), or "
      "cancel only their matching recipients and keep the message for the others (cancel)");
  po::options_description excl;
  for (const SelectorSpec& s : selector_specs()) {
    if (!s.excludable) continue;
    std::string name = "exclude-";
    name += s.name;
    excl.add_options()(name.c_str(), po::value<std::vector<std::string>>()->composing()->value_name(s.arg), "");
  }
  groups.emplace_back("Selection (the same option repeated: any of them; different options: all)", sel);
  groups.emplace_back("Exclusions (a message, or recipient, that matches one is not selected)", excl);
}

void action_options(Args& a, Groups& groups) {
  po::options_description where;
  where.add_options()("config-dir,c", text("DIR"), "Postfix configuration directory (as postsuper -c)")(
      "queue-dir", text("DIR"),
      "read this spool instead of the instance's queue_directory (dry run only unless it is that directory)")(
      "all-instances", po::bool_switch(&a.all_instances),
      "run over every Postfix instance postmulti -l lists, naming the instance in every line")(
      "postmulti", text("PATH"), "the postmulti binary (default /usr/sbin/postmulti)")(
      "queue", po::value(&a.queues)->composing()->value_name("NAME"),
      "incoming, active, deferred, hold or maildrop (repeatable; default: incoming active deferred hold)");
  po::options_description act;
  act.add_options()("dry-run,n", po::bool_switch(&a.dry_run), "show the plan, change nothing")(
      "action", text("ACTION"), "delete|hold|release|requeue|expire (postsuper -d -h -H -r -e; default delete)")(
      "yes,y", po::bool_switch(&a.yes), "do not ask before acting on a terminal")(
      "max", text("N"), "refuse (exit 2, nothing changed) if the plan has more than N messages (over all instances)")(
      "via-hold", po::bool_switch(&a.via_hold),
      "delete in two phases: hold, verify each held message again, delete those, release the rest")(
      "hold-pause", text("SECONDS"), "with --via-hold: wait between holding and deleting")(
      "save-plan", text("FILE"), "write the plan as JSON and stop (nothing is changed)")(
      "apply-plan", text("FILE"), "act on exactly the messages of a saved plan, after verifying each again")(
      "audit-log", text("FILE"),
      "JSON Lines record of every run that changes the queue (default /var/log/qpurge/audit.jsonl)")(
      "batch-size", text("N"), "IDs per postsuper run (default 10000)")(
      "rate", text("N"), "hand at most N IDs a second to postsuper (1 to 100000; default: no limit)")(
      "wait", text("SECONDS"),
      "when another qpurge is acting on the same queue, wait up to SECONDS for it (default: refuse, exit 2)")(
      "postsuper", text("PATH"), "the postsuper binary (default /usr/sbin/postsuper)")(
      "postconf", text("PATH"), "the postconf binary (default /usr/sbin/postconf)");
  po::options_description undo;
  undo.add_options()("archive", text("DIR"),
                     "with --action delete: copy each queue file (and its logs) into a new run directory under DIR "
                     "before it is deleted")(
      "restore", text("RUNDIR"),
      "put the messages archived in RUNDIR back into the queue (selectors choose among them)")(
      "restore-to", text("QUEUE"), "hold (default), deferred or incoming")(
      "force-other-instance", po::bool_switch(&a.force_other_instance),
      "restore a run made on another host or queue directory")("archives", text("DIR"), "list the archive runs in DIR")(
      "prune-archives", text("DIR"), "remove the archive runs in DIR older than --older-than AGE")(
      "recover", po::bool_switch(&a.recover),
      "only finish (or undo) what an interrupted qpurge run left on this instance, as its journal says");
  groups.emplace_back("Where", where);
  groups.emplace_back("Action", act);
  groups.emplace_back("Undo (archive before delete, restore on demand)", undo);
}

void output_options(Args& a, Groups& groups) {
  po::options_description shape;
  shape.add_options()("shape", po::value<std::string>()->implicit_value("recipient")->value_name("[sender]"),
                      "recipient domains (or, --shape sender, sender domains) against age, as qshape")(
      "buckets", text("N"), "bucket count (qshape -b; default 10)")("bucket-minutes", text("N"),
                                                                    "first bucket in minutes (qshape -t; default 5)")(
      "linear", po::bool_switch(&a.linear), "linear buckets (qshape -l)")("parents", po::bool_switch(&a.parents),
                                                                          "add parent-domain rows (qshape -p)")(
      "min-subdomains", text("N"), "parent rows need N subdomains (qshape -m; default 5)")(
      "width", text("N"), "output width (qshape -w; default 80)")(
      "top", text("N"),
      "with --format prometheus: the N domains with most messages keep their label, the rest are summed as "
      "domain=\"other\" (default 20)")("output", text("FILE"),
                                       "write the shape to FILE atomically (temporary file, fsync, rename), mode 0644");
  po::options_description out;
  out.add_options()("format", text("FORMAT"),
                    "text|ids|json|prometheus (default text; prometheus: with --shape, for node_exporter)")(
      "explain", po::bool_switch(&a.explain), "say which criteria held for each message, and each skipped as mixed")(
      "count", po::bool_switch(&a.count), "print the number of selected messages, nothing else (as exiqgrep -c)")(
      "detail", po::bool_switch(&a.detail), "JSON: add done and canceled recipients and named attributes")(
      "quiet,q", po::bool_switch(&a.quiet), "no progress line and no summary")(
      "verbose,v", po::bool_switch(&a.verbose), "report every ID's outcome, not only the ones not done")(
      "threads", text("N"), "scan threads, 1 to 256 (default: one per core)")("help,h", "this help")(
      "version", "print the version");
  groups.emplace_back("Shape (a qshape table of the selection; implies --dry-run)", shape);
  groups.emplace_back("Output", out);
}

// "--shape sender" as qshape users type it: the value is optional.
std::vector<std::string> join_shape_value(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--shape" && i + 1 < argc &&
        (std::string_view(argv[i + 1]) == "sender" || std::string_view(argv[i + 1]) == "recipient"))
      a += std::string("=") + argv[++i];
    args.push_back(a);
  }
  return args;
}

void set(const po::variables_map& vm, const char* name, std::optional<std::string>& out) {
  if (vm.count(name)) out = vm[name].as<std::string>();
}

// Criteria in command-line order of first appearance; values in order.
void collect_criteria(const po::parsed_options& parsed, Args& a) {
  for (const po::option& opt : parsed.options) {
    bool exclude;
    std::string key = "--" + opt.string_key;
    if (opt.string_key == "all")
      key = "--all";
    else if (!find_selector(opt.string_key, exclude))
      continue;
    auto it =
        std::find_if(a.criteria.begin(), a.criteria.end(), [&](const PlanCriterion& c) { return c.option == key; });
    if (it == a.criteria.end()) {
      a.criteria.push_back(PlanCriterion{key, {}});
      it = a.criteria.end() - 1;
    }
    if (key != "--all")
      for (const auto& v : opt.value) it->values.push_back(v);
  }
}

const char kExitStatusHelp[] =
    "\nExit status: 0 done, 1 nothing matched (or declined), 2 usage or fatal error\n"
    "(nothing changed), 3 partial (something not acted on, undecided, files skipped).\n";

// The options that are plain strings, each into its Args field.
void set_strings(const po::variables_map& vm, Args& a) {
  const std::pair<const char*, std::optional<std::string>*> kStrings[] = {{"mixed", &a.mixed},
                                                                          {"body-limit", &a.body_limit},
                                                                          {"config-dir", &a.config_dir},
                                                                          {"queue-dir", &a.queue_dir},
                                                                          {"postmulti", &a.postmulti},
                                                                          {"action", &a.action},
                                                                          {"max", &a.max},
                                                                          {"hold-pause", &a.hold_pause},
                                                                          {"save-plan", &a.save_plan},
                                                                          {"apply-plan", &a.apply_plan},
                                                                          {"audit-log", &a.audit_log},
                                                                          {"batch-size", &a.batch_size},
                                                                          {"rate", &a.rate},
                                                                          {"wait", &a.wait},
                                                                          {"postsuper", &a.postsuper},
                                                                          {"postconf", &a.postconf},
                                                                          {"shape", &a.shape},
                                                                          {"buckets", &a.buckets},
                                                                          {"bucket-minutes", &a.bucket_minutes},
                                                                          {"min-subdomains", &a.min_subdomains},
                                                                          {"width", &a.width},
                                                                          {"format", &a.format},
                                                                          {"top", &a.top},
                                                                          {"output", &a.output},
                                                                          {"threads", &a.threads},
                                                                          {"archive", &a.archive},
                                                                          {"restore", &a.restore},
                                                                          {"restore-to", &a.restore_to},
                                                                          {"archives", &a.archives},
                                                                          {"prune-archives", &a.prune_archives}};
  for (auto [name, field] : kStrings) set(vm, name, *field);
}

// `text` as lines of at most `width` columns, each after `indent` spaces
// (the first line after `first`, which is padded to the indent).
std::string wrapped(std::string first, const std::string& text, std::size_t indent, std::size_t width = 80) {
  std::string out;
  std::string line = first.size() + 2 <= indent ? first + std::string(indent - first.size(), ' ') : "";
  if (line.empty()) out = first + "\n", line = std::string(indent, ' ');
  std::istringstream words(text);
  bool empty = true;
  for (std::string w; words >> w;) {
    if (!empty && line.size() + 1 + w.size() > width) {
      out += line + "\n";
      line = std::string(indent, ' ');
      empty = true;
    }
    line += (empty ? "" : " ") + w;
    empty = false;
  }
  return out + line + "\n";
}

// "-c, --config-dir DIR", "    --shape [sender]": as a person writes them.
std::string usage_of(const po::option_description& o) {
  const std::string shown = o.canonical_display_name(po::command_line_style::allow_dash_for_short);
  std::string s = shown.size() == 2 && shown[0] == '-' ? shown + ", " : "    ";
  s += "--" + o.long_name();
  if (o.semantic()->max_tokens() == 0) return s;
  std::string value = o.semantic()->name();  // "DIR", or "[=[sender](=recipient)]" when the value is optional
  if (value.rfind("[=", 0) == 0) value = value.substr(2, value.find("(=") - 2);
  return s + " " + value;
}

std::string help_text(const Groups& groups) {
  std::string out =
      "Usage: qpurge [selectors] [options]\n"
      "Select Postfix queue files by what their envelope says, show the plan\n"
      "(--dry-run), or hand the IDs to postsuper and report what it did.\n";
  for (const auto& [caption, group] : groups) {
    out += "\n" + caption + ":\n";
    std::string bare;  // options without a text of their own (the exclusions), run together
    for (const auto& o : group.options()) {
      if (o->description().empty())
        bare += (bare.empty() ? "" : ", ") + usage_of(*o).substr(4);
      else
        out += wrapped("  " + usage_of(*o), o->description(), 30);
    }
    if (!bare.empty()) out += wrapped("", bare, 2);
  }
  return out + kExitStatusHelp;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "; did you mean --sender?" for a mistyped long option, "" when none is close.
std::string did_you_mean(const po::options_description& desc, std::string typed) {
  typed.erase(0, typed.find_first_not_of('-'));
  typed = typed.substr(0, typed.find('='));
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, typed.size() / 3) + 1;
  for (const auto& o : desc.options()) {
    const std::size_t d = edit_distance(typed, o->long_name());
    if (d < best_distance) best = o->long_name(), best_distance = d;
  }
  return best.empty() ? "" : "; did you mean --" + best + "?";
}

}  // namespace

Args parse_args(int argc, const char* const* argv) {
  Args a;
  for (int i = 0; i < argc; ++i) a.argv.emplace_back(argv[i]);
  Groups groups;
  selection_options(a, groups);
  action_options(a, groups);
  output_options(a, groups);
  po::options_description desc;
  for (const auto& g : groups) desc.add(g.second);
  po::variables_map vm;
  po::parsed_options parsed(&desc);
  try {
    parsed = po::command_line_parser(join_shape_value(argc, argv)).options(desc).run();
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    throw UsageError(e.what() + did_you_mean(desc, e.get_option_name()));
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    a.request = Args::Request::kHelp;
    a.help_text = help_text(groups);
    return a;
  }
  if (vm.count("version")) {
    a.request = Args::Request::kVersion;
    a.help_text = std::string("qpurge ") + kVersion + "\n";
    return a;
  }
  set_strings(vm, a);
  collect_criteria(parsed, a);
  return a;
}

}  // namespace qpurge
