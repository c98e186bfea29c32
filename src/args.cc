// SPDX-License-Identifier: MIT
// args.cc - reading the command line; see args.h.
#include "qpurge/args.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <sstream>

#include "qpurge/selectors.h"
#include "qpurge/version.h"

namespace po = boost::program_options;

namespace qpurge {
namespace {

po::typed_value<std::string>* text(const char* value_name) { return po::value<std::string>()->value_name(value_name); }

po::options_description selection_options(Args& a) {
  po::options_description sel("Selection (the same option repeated: any of them; different options: all of them)");
  for (const SelectorSpec& s : selector_specs())
    sel.add_options()(s.name, po::value<std::vector<std::string>>()->composing()->value_name(s.arg), s.help);
  sel.add_options()("regex", po::bool_switch(&a.regex),
                    "the values of --sender, --recipient and --original-recipient are Boost.Regex patterns (whole "
                    "address, any case)")("decode-headers", po::bool_switch(&a.decode_headers),
                                          "--header matches the unfolded, RFC 2047 decoded value")(
      "body-limit", text("SIZE"),
      "--body, --attachment, --attachment-type: decoded text searched per message at most (default 1M)")(
      "all", "select every message in the chosen queues")(
      "mixed", text("skip|include"),
      "messages where only some pending recipients match: leave them (skip, the default) or act on them (include)");
  po::options_description excl("Exclusions (a message, or recipient, that matches one is not selected)");
  for (const SelectorSpec& s : selector_specs()) {
    if (!s.excludable) continue;
    std::string name = "exclude-";
    name += s.name;
    excl.add_options()(name.c_str(), po::value<std::vector<std::string>>()->composing()->value_name(s.arg), "");
  }
  sel.add(excl);
  return sel;
}

po::options_description action_options(Args& a) {
  po::options_description where("Where");
  where.add_options()("config-dir,c", text("DIR"), "Postfix configuration directory (as postsuper -c)")(
      "queue-dir", text("DIR"),
      "read this spool instead of the instance's queue_directory (dry run only unless it is that directory)")(
      "all-instances", po::bool_switch(&a.all_instances),
      "run over every Postfix instance postmulti -l lists, naming the instance in every line")(
      "postmulti", text("PATH"), "the postmulti binary (default /usr/sbin/postmulti)")(
      "queue", po::value(&a.queues)->composing()->value_name("NAME"),
      "incoming, active, deferred, hold or maildrop (repeatable; default: incoming active deferred hold)");
  po::options_description act("Action");
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
  po::options_description undo("Undo (archive before delete, restore on demand)");
  undo.add_options()("archive", text("DIR"),
                     "with --action delete: copy each queue file (and its logs) into a new run directory under DIR "
                     "before it is deleted")(
      "restore", text("RUNDIR"),
      "put the messages archived in RUNDIR back into the queue (selectors choose among them)")(
      "restore-to", text("QUEUE"), "hold (default), deferred or incoming")(
      "force-other-instance", po::bool_switch(&a.force_other_instance),
      "restore a run made on another host or queue directory")("archives", text("DIR"), "list the archive runs in DIR")(
      "prune-archives", text("DIR"), "remove the archive runs in DIR older than --older-than AGE");
  where.add(act).add(undo);
  return where;
}

po::options_description output_options(Args& a) {
  po::options_description shape("Shape (a qshape table of the selection; implies --dry-run)");
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
  po::options_description out("Output");
  out.add_options()("format", text("FORMAT"),
                    "text|ids|json|prometheus (default text; prometheus: with --shape, for node_exporter)")(
      "explain", po::bool_switch(&a.explain), "say which criteria held for each message, and each skipped as mixed")(
      "detail", po::bool_switch(&a.detail), "JSON: add done and canceled recipients and named attributes")(
      "quiet,q", po::bool_switch(&a.quiet), "no progress line and no summary")(
      "verbose,v", po::bool_switch(&a.verbose), "report every ID's outcome, not only the ones not done")(
      "threads", text("N"), "scan threads, 1 to 256 (default: one per core)")("help,h", "this help")(
      "version", "print the version");
  shape.add(out);
  return shape;
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
    "(nothing changed), 3 partial (something not acted on, undecided, or files skipped).\n";

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

}  // namespace

Args parse_args(int argc, const char* const* argv) {
  Args a;
  for (int i = 0; i < argc; ++i) a.argv.emplace_back(argv[i]);
  po::options_description desc;
  desc.add(selection_options(a)).add(action_options(a)).add(output_options(a));
  po::variables_map vm;
  po::parsed_options parsed(&desc);
  try {
    parsed = po::command_line_parser(join_shape_value(argc, argv)).options(desc).run();
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::ostringstream help;
    help << "Usage: qpurge [selectors] [options]\n"
            "Select Postfix queue files by what their envelope says, show the plan\n"
            "(--dry-run), or hand the IDs to postsuper and report what it did.\n\n"
         << desc << kExitStatusHelp;
    a.request = Args::Request::kHelp;
    a.help_text = help.str();
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
