// cli.cc - option parsing and the plan / confirm / audit / execute / report
// flow. Everything it calls lives in the layers below; see cli.h.
#include "qpurge/cli.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "qpurge/audit.h"
#include "qpurge/escape.h"
#include "qpurge/execute.h"
#include "qpurge/match.h"
#include "qpurge/output.h"
#include "qpurge/plan.h"
#include "qpurge/plan_file.h"
#include "qpurge/postfix_config.h"
#include "qpurge/qshape_table.h"
#include "qpurge/queue_id.h"

namespace po = boost::program_options;

namespace qpurge {
namespace {

enum class Format { kText, kIds, kJson };

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------
// Selectors: one table drives the options, the help, the exclusions and the
// rebuilding of a matcher from a saved plan.

using Factory = std::unique_ptr<Criterion> (*)(const std::string& value, bool regex);

std::int64_t duration_arg(const std::string& v) {
  std::int64_t s;
  if (!parse_duration(v, s)) throw std::invalid_argument("not a duration (e.g. 90m, 36h, 3d)");
  return s;
}
std::int64_t size_arg(const std::string& v) {
  std::int64_t b;
  if (!parse_size(v, b)) throw std::invalid_argument("not a size (e.g. 500, 10k, 2M)");
  return b;
}

struct Selector {
  const char* name;  // option without "--"
  const char* arg;
  const char* help;
  Factory make;
  bool excludable;
};

const Selector kSelectors[] = {
    {"sender", "ADDR", "envelope sender (MAILER-DAEMON, <> or '' = the null sender)",
     [](const std::string& v, bool re) { return make_sender(v, re); }, true},
    {"recipient", "ADDR", "pending recipient",
     [](const std::string& v, bool re) { return make_recipient(v, re); }, true},
    {"domain", "D", "sender or pending recipient domain (.D = subdomains of D)",
     [](const std::string& v, bool) { return make_domain(v); }, true},
    {"sender-domain", "D", "sender domain", [](const std::string& v, bool) { return make_sender_domain(v); }, true},
    {"recipient-domain", "D", "pending recipient domain",
     [](const std::string& v, bool) { return make_recipient_domain(v); }, true},
    {"older-than", "AGE", "arrived at least AGE ago (90m, 36h, 3d)",
     [](const std::string& v, bool) { return make_older_than(duration_arg(v)); }, false},
    {"younger-than", "AGE", "arrived less than AGE ago",
     [](const std::string& v, bool) { return make_younger_than(duration_arg(v)); }, false},
    {"min-size", "SIZE", "message size (as postqueue -j) at least SIZE (k, M suffixes; k = 1024)",
     [](const std::string& v, bool) { return make_min_size(size_arg(v)); }, false},
    {"max-size", "SIZE", "message size at most SIZE",
     [](const std::string& v, bool) { return make_max_size(size_arg(v)); }, false},
    {"reason", "REGEX", "the recipient's delay reason in the defer log matches (search, any case)",
     [](const std::string& v, bool) { return make_reason(v); }, true},
    {"sasl-user", "LOGIN", "submitted by this SASL login (exact)",
     [](const std::string& v, bool) { return make_sasl_user(v); }, true},
    {"client-address", "IP[/BITS]", "SMTP client address or CIDR block, IPv4 or IPv6",
     [](const std::string& v, bool) { return make_client_address(v); }, true},
    {"client-name", "NAME", "SMTP client host name (.NAME = subdomains)",
     [](const std::string& v, bool) { return make_client_name(v); }, true},
    {"helo", "NAME", "HELO/EHLO name (.NAME = subdomains)", [](const std::string& v, bool) { return make_helo(v); }, true},
    {"header", "'NAME: REGEX'", "a message header of that name matches (headers only, never the body)",
     [](const std::string& v, bool) { return make_header(v); }, true},
};

const Selector* find_selector(std::string_view option, bool& exclude) {
  exclude = false;
  if (option.substr(0, 2) == "--") option.remove_prefix(2);
  if (option.substr(0, 8) == "exclude-") {
    exclude = true;
    option.remove_prefix(8);
  }
  for (const Selector& s : kSelectors)
    if (option == s.name && (!exclude || s.excludable)) return &s;
  return nullptr;
}

// Compiles the criteria into a matcher; a bad value is a usage error.
void build_matcher(const std::vector<PlanCriterion>& criteria, bool regex, Matcher& m) {
  for (const PlanCriterion& c : criteria) {
    CriterionGroup g;
    g.option = c.option;
    if (c.option == "--all") {
      g.alternatives.push_back(make_all());
      m.add(std::move(g));
      continue;
    }
    const Selector* sel = find_selector(c.option, g.exclude);
    if (!sel) throw UsageError("unknown selector " + text_escaped(c.option));
    for (const std::string& v : c.values) {
      try {
        g.alternatives.push_back(sel->make(v, regex));
      } catch (const std::invalid_argument& e) {
        throw UsageError(c.option + " '" + text_escaped(v) + "': " + e.what());
      }
      g.values.push_back(text_escaped(v));
    }
    m.add(std::move(g));
  }
}

// ---------------------------------------------------------------------------

struct Options {
  std::vector<std::string> argv;
  std::map<std::string, std::vector<std::string>> selector_values;  // "--sender" -> values
  std::vector<PlanCriterion> criteria;
  bool regex = false;
  bool all = false;
  MixedPolicy mixed = MixedPolicy::kSkip;
  std::string mixed_name = "skip";
  std::string config_dir;
  std::string queue_dir;
  std::vector<std::string> queues;
  bool dry_run = false;
  bool yes = false;
  Action action = Action::kDelete;
  std::size_t batch_size = 10000;
  std::size_t max = 0;  // 0: no limit
  bool via_hold = false;
  unsigned hold_pause = 0;
  std::string save_plan;
  std::string apply_plan;
  std::string audit_log = kDefaultAuditLog;
  std::string postsuper = kDefaultPostsuper;
  std::string postconf = kDefaultPostconf;
  Format format = Format::kText;
  bool explain = false;
  bool detail = false;
  bool quiet = false;
  bool verbose = false;
  unsigned threads = 0;
  bool all_instances = false;
  std::string postmulti = "/usr/sbin/postmulti";
  std::string instance;  // name shown in every line with --all-instances
  std::string shape;     // "", "recipient" or "sender": print a qshape table instead
  ShapeOptions shape_options;
  Matcher matcher;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

void fatal_message(const std::string& what) {
  std::fprintf(stderr, "qpurge: fatal: %s\n", text_escaped(what).c_str());
}

void write_out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// A progress line on stderr, redrawn in place, only on a terminal.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(clock::now()), last_(start_) {}
  ~Progress() { clear(); }
  void scan(std::uint64_t files) {
    if (!due()) return;
    double secs = std::chrono::duration<double>(clock::now() - start_).count();
    draw("scanning: " + std::to_string(files) + " files read (" +
         std::to_string(static_cast<long>(secs > 0 ? files / secs : 0)) + "/s)");
  }
  void purge(std::size_t handed, std::size_t done, std::size_t total, std::string_view what) {
    if (!enabled_) return;
    draw(std::string(what) + ": " + std::to_string(handed) + " of " + std::to_string(total) +
         " IDs handed to postsuper, " + std::to_string(done) + " done");
  }
  void clear() {
    if (enabled_ && drawn_) std::fputs("\r\033[K", stderr), std::fflush(stderr);
    drawn_ = false;
  }

 private:
  using clock = std::chrono::steady_clock;
  // The first call draws, then at most every 100 ms.
  bool due() {
    if (!enabled_) return false;
    auto now = clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return false;
    last_ = now;
    return true;
  }
  void draw(const std::string& s) {
    std::fprintf(stderr, "\r\033[K%s", s.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  bool enabled_;
  bool drawn_ = false;
  clock::time_point start_, last_;
};

po::options_description describe_options(Options& o, std::string& format, std::string& action) {
  po::options_description sel(
      "Selection (the same option repeated: any of them; different options: all of them)");
  for (const Selector& s : kSelectors) {
    std::string name = s.name;
    sel.add_options()(name.c_str(), po::value<std::vector<std::string>>()->composing()->value_name(s.arg), s.help);
  }
  sel.add_options()
      ("regex", po::bool_switch(&o.regex), "--sender/--recipient values are Boost.Regex patterns (whole address, any case)")
      ("all", po::bool_switch(&o.all), "select every message in the chosen queues")
      ("mixed", po::value(&o.mixed_name)->default_value("skip")->value_name("skip|include"),
       "messages where only some pending recipients match: leave them (skip) or act on them (include)");
  po::options_description excl("Exclusions (a message, or recipient, that matches one is not selected)");
  for (const Selector& s : kSelectors) {
    if (!s.excludable) continue;
    std::string name = std::string("exclude-") + s.name;
    excl.add_options()(name.c_str(), po::value<std::vector<std::string>>()->composing()->value_name(s.arg), "");
  }
  po::options_description where("Where");
  where.add_options()
      ("config-dir,c", po::value(&o.config_dir)->value_name("DIR"), "Postfix configuration directory (as postsuper -c)")
      ("queue-dir", po::value(&o.queue_dir)->value_name("DIR"), "read this spool instead of the instance's queue_directory (dry run only unless it is that directory)")
      ("all-instances", po::bool_switch(&o.all_instances), "run over every Postfix instance postmulti -l lists, naming the instance in every line")
      ("postmulti", po::value(&o.postmulti)->default_value("/usr/sbin/postmulti")->value_name("PATH"), "the postmulti binary")
      ("queue", po::value(&o.queues)->composing()->value_name("NAME"),
       "incoming, active, deferred, hold or maildrop (repeatable; default: incoming active deferred hold)");
  po::options_description act("Action");
  act.add_options()
      ("dry-run,n", po::bool_switch(&o.dry_run), "show the plan, change nothing")
      ("action", po::value(&action)->default_value("delete")->value_name("ACTION"),
       "delete|hold|release|requeue|expire (postsuper -d -h -H -r -e)")
      ("yes,y", po::bool_switch(&o.yes), "do not ask before acting on a terminal")
      ("max", po::value(&o.max)->value_name("N"), "refuse (exit 2, nothing changed) if the plan has more than N messages")
      ("via-hold", po::bool_switch(&o.via_hold), "delete in two phases: hold, verify each held message again, delete those, release the rest")
      ("hold-pause", po::value(&o.hold_pause)->value_name("SECONDS"), "with --via-hold: wait between holding and deleting")
      ("save-plan", po::value(&o.save_plan)->value_name("FILE"), "write the plan as JSON and stop (nothing is changed)")
      ("apply-plan", po::value(&o.apply_plan)->value_name("FILE"), "act on exactly the messages of a saved plan, after verifying each again")
      ("audit-log", po::value(&o.audit_log)->default_value(kDefaultAuditLog)->value_name("FILE"), "JSON Lines record of every run that changes the queue")
      ("batch-size", po::value(&o.batch_size)->default_value(10000)->value_name("N"), "IDs per postsuper run")
      ("postsuper", po::value(&o.postsuper)->default_value(kDefaultPostsuper)->value_name("PATH"), "the postsuper binary")
      ("postconf", po::value(&o.postconf)->default_value(kDefaultPostconf)->value_name("PATH"), "the postconf binary");
  po::options_description shape("Shape (a qshape table of the selection; implies --dry-run)");
  shape.add_options()
      ("shape", po::value(&o.shape)->implicit_value("recipient")->value_name("[sender]"),
       "recipient domains (or, --shape sender, sender domains) against age, as qshape")
      ("buckets", po::value(&o.shape_options.buckets)->value_name("N"), "bucket count (qshape -b; default 10)")
      ("bucket-minutes", po::value(&o.shape_options.bucket_minutes)->value_name("N"), "first bucket in minutes (qshape -t; default 5)")
      ("linear", po::bool_switch(&o.shape_options.linear), "linear buckets (qshape -l)")
      ("parents", po::bool_switch(&o.shape_options.parents), "add parent-domain rows (qshape -p)")
      ("min-subdomains", po::value(&o.shape_options.min_subdomains)->value_name("N"), "parent rows need N subdomains (qshape -m; default 5)")
      ("width", po::value(&o.shape_options.width)->value_name("N"), "output width (qshape -w; default 80)");
  po::options_description out("Output");
  out.add_options()
      ("format", po::value(&format)->default_value("text")->value_name("FORMAT"), "text|ids|json")
      ("explain", po::bool_switch(&o.explain), "say which criteria held for each message, and each skipped as mixed")
      ("detail", po::bool_switch(&o.detail), "JSON: add done and canceled recipients and named attributes")
      ("quiet,q", po::bool_switch(&o.quiet), "no progress line and no summary")
      ("verbose,v", po::bool_switch(&o.verbose), "report every ID's outcome, not only the ones not done")
      ("threads", po::value(&o.threads)->default_value(0)->value_name("N"), "scan threads (0: one per core)")
      ("help,h", "this help")
      ("version", "print the version");
  po::options_description all;
  all.add(sel).add(excl).add(where).add(act).add(shape).add(out);
  return all;
}

// Returns false when help or version was printed.
bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 0; i < argc; ++i) o.argv.emplace_back(argv[i]);
  // "--shape sender" as qshape users type it: the value is optional.
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--shape" && i + 1 < argc && (std::string(argv[i + 1]) == "sender" || std::string(argv[i + 1]) == "recipient"))
      a += std::string("=") + argv[++i];
    args.push_back(a);
  }
  std::vector<char*> args_c;
  for (auto& a : args) args_c.push_back(a.data());
  argc = static_cast<int>(args_c.size());
  argv = args_c.data();
  std::string format, action;
  po::options_description desc = describe_options(o, format, action);
  po::variables_map vm;
  po::parsed_options parsed(&desc);
  try {
    parsed = po::command_line_parser(argc, argv).options(desc).run();
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << "Usage: qpurge [selectors] [options]\n"
                 "Select Postfix queue files by what their envelope says, show the plan\n"
                 "(--dry-run), or hand the IDs to postsuper and report what it did.\n\n"
              << desc
              << "\nExit status: 0 done, 1 nothing matched (or declined), 2 usage or fatal error\n"
                 "(nothing changed), 3 partial (something not acted on, or files skipped).\n";
    return false;
  }
  if (vm.count("version")) {
    std::cout << "qpurge " << QPURGE_VERSION << "\n";
    return false;
  }
  if (o.mixed_name == "skip") o.mixed = MixedPolicy::kSkip;
  else if (o.mixed_name == "include") o.mixed = MixedPolicy::kInclude;
  else throw UsageError("--mixed must be skip or include, not '" + text_escaped(o.mixed_name) + "'");
  if (format == "text") o.format = Format::kText;
  else if (format == "ids") o.format = Format::kIds;
  else if (format == "json") o.format = Format::kJson;
  else throw UsageError("--format must be text, ids or json, not '" + text_escaped(format) + "'");
  if (!parse_action(action, o.action))
    throw UsageError("--action must be delete, hold, release, requeue or expire, not '" + text_escaped(action) + "'");
  if (o.batch_size == 0) throw UsageError("--batch-size must be at least 1");
  if (!o.shape.empty()) {
    if (o.shape != "recipient" && o.shape != "sender")
      throw UsageError("--shape takes nothing or 'sender', not '" + text_escaped(o.shape) + "'");
    if (!o.save_plan.empty() || !o.apply_plan.empty()) throw UsageError("--shape only shows; it takes no plan file");
    o.shape_options.senders = o.shape == "sender";
    // Bucket bounds double each time: past 60 buckets they no longer fit.
    if (o.shape_options.buckets > 60) throw UsageError("--buckets must be at most 60");
    o.dry_run = true;
  }
  if (vm.count("max") && o.max == 0) throw UsageError("--max must be at least 1");
  if (o.via_hold && o.action != Action::kDelete) throw UsageError("--via-hold is a way to delete; it takes no other --action");
  if (o.all_instances && (vm.count("config-dir") || vm.count("queue-dir") || vm.count("save-plan") || vm.count("apply-plan")))
    throw UsageError("--all-instances takes no -c, --queue-dir, --save-plan or --apply-plan");
  for (const auto& q : o.queues)
    if (!is_message_queue(q))
      throw UsageError("--queue '" + text_escaped(q) + "': not a message queue (incoming, active, deferred, hold, maildrop)");
  if (o.queues.empty()) {
    if (o.action == Action::kRelease) o.queues = {"hold"};
    else o.queues = {"incoming", "active", "deferred", "hold"};
  }

  // Criteria in command-line order of first appearance.
  for (const po::option& opt : parsed.options) {
    bool exclude;
    if (!find_selector(opt.string_key, exclude)) continue;
    std::string key = "--" + opt.string_key;
    auto it = std::find_if(o.criteria.begin(), o.criteria.end(), [&](const PlanCriterion& c) { return c.option == key; });
    if (it == o.criteria.end()) {
      o.criteria.push_back(PlanCriterion{key, {}});
      it = o.criteria.end() - 1;
    }
    for (const auto& v : opt.value) it->values.push_back(v);
  }
  if (o.all) o.criteria.push_back(PlanCriterion{"--all", {}});
  if (!o.apply_plan.empty()) {
    if (!o.criteria.empty()) throw UsageError("--apply-plan takes its criteria from the plan; give no selectors");
    if (!o.save_plan.empty()) throw UsageError("--apply-plan and --save-plan do not go together");
    return true;
  }
  build_matcher(o.criteria, o.regex, o.matcher);
  if (o.matcher.empty())
    throw UsageError("no selector given: name what to select (--sender, --recipient, --domain, ...) or say --all");
  return true;
}

// Streams entries (dry run) or keeps them (to act on, or to save), and
// reports problems.
class CliSink : public PlanSink {
 public:
  CliSink(const Options& o, bool keep, Progress& progress) : o_(o), keep_(keep), progress_(progress) {}
  void on_entry(PlanEntry&& e) override {
    if (shape) {
      std::vector<std::string_view> rcpts;
      for (const auto& r : e.recipients) rcpts.push_back(r.address);
      shape->add(e.arrival_time, e.sender, rcpts, e.qshape_skip);
      return;
    }
    if (o_.dry_run) view.add(e);
    if (keep_) entries.push_back(std::move(e));
    else print(e);
  }
  void on_mixed_skipped(PlanEntry&& e) override {
    if (!o_.dry_run || !o_.explain) return;
    if (o_.format == Format::kText) {
      std::string s = "skipped as mixed: ";
      append_entry_text(s, e);
      write_out(s);
    } else if (o_.format == Format::kJson) {
      std::string s;
      append_entry_json(s, e, o_.detail);
      s.insert(1, "\"skipped_as_mixed\": true, ");
      write_out(s);
    }
  }
  void on_problem(const ScanRecord& r) override {
    progress_.clear();
    std::string path = r.info.id.empty() ? *r.info.dir : r.info.path();
    std::fprintf(stderr, "qpurge: warning: %s: %s\n", text_escaped(path).c_str(), text_escaped(r.error).c_str());
  }
  void on_file() override { progress_.scan(++files_); }
  void print(const PlanEntry& e) {
    std::string s;
    switch (o_.format) {
      case Format::kText:
        if (!o_.instance.empty()) s = "[" + o_.instance + "] ";
        append_entry_text(s, e);
        break;
      case Format::kIds:
        s = o_.instance.empty() ? e.id + "\n" : o_.instance + " " + e.id + "\n";
        break;
      case Format::kJson:
        append_entry_json(s, e, o_.detail);
        if (!o_.instance.empty()) {
          std::string field = "\"instance\": ";
          append_json_string(field, o_.instance);
          s.insert(1, field + ", ");
        }
        break;
    }
    write_out(s);
  }
  std::vector<PlanEntry> entries;
  SelectionView view;  // dry runs: the short view of what would go
  std::unique_ptr<ShapeTable> shape;  // --shape: the table instead of the plan

 private:
  const Options& o_;
  bool keep_;
  Progress& progress_;
  std::uint64_t files_ = 0;
};

std::string summary_line(const PlanCounts& c, const Options& o) {
  std::string s = "scanned " + std::to_string(c.scan.messages) + " messages";
  s += "; selected " + std::to_string(c.selected) + " (" + std::to_string(c.selected_recipients) +
       " matching recipients)";
  s += "; skipped as mixed " + std::to_string(c.mixed_skipped);
  if (o.mixed == MixedPolicy::kInclude) s += " (included as mixed " + std::to_string(c.mixed_included) + ")";
  s += "; in progress " + std::to_string(c.scan.in_progress);
  s += "; unreadable " + std::to_string(c.scan.unreadable + c.scan.not_regular + c.scan.bad_directories);
  return s;
}

// The summary goes with the plan for text, else to stderr.
void print_summary(const std::string& line, const Options& o) {
  if (o.quiet) return;
  std::string prefix = o.instance.empty() ? "" : "[" + o.instance + "] ";
  if (o.format == Format::kText) std::printf("%s%s\n", prefix.c_str(), line.c_str());
  else std::fprintf(stderr, "qpurge: %s%s\n", prefix.c_str(), line.c_str());
}

struct InstanceInfo {
  std::string name;
  std::string config_dir;
  bool enabled = true;
};

// `postmulti -l`: "name group enabled config_directory" per line.
bool list_instances(CommandRunner& runner, const std::string& postmulti, std::vector<InstanceInfo>& out,
                    std::string& error) {
  CommandResult r = runner.run({postmulti, "-l"}, "");
  if (!r.started) {
    error = "postmulti is not available: " + r.error;
    return false;
  }
  if (!r.exited || r.exit_status != 0 || r.out.empty()) {
    std::string why = r.err;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    error = "postmulti is not set up here (postmulti -l " +
            (why.empty() ? "failed with status " + std::to_string(r.exit_status) : "said: " + why) +
            "); use -c DIR for one instance";
    return false;
  }
  std::istringstream in(r.out);
  std::string name, group, enabled, dir;
  while (in >> name >> group >> enabled >> dir)
    out.push_back(InstanceInfo{name == "-" ? std::string("default") : name, dir, enabled == "y"});
  if (out.empty()) {
    error = "postmulti -l listed no instance";
    return false;
  }
  return true;
}

bool confirm(const std::string& question) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) return false;
  std::fprintf(tty, "%s [y/N] ", question.c_str());
  std::fflush(tty);
  char buf[64] = {0};
  bool yes = std::fgets(buf, sizeof buf, tty) && (buf[0] == 'y' || buf[0] == 'Y');
  std::fclose(tty);
  return yes;
}

std::string hostname() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string criteria_json(const std::vector<PlanCriterion>& criteria) {
  std::string out = "[";
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    if (i) out += ", ";
    out += "{\"option\": ";
    append_json_string(out, criteria[i].option);
    out += ", \"values\": [";
    for (std::size_t k = 0; k < criteria[i].values.size(); ++k) {
      if (k) out += ", ";
      append_json_string(out, criteria[i].values[k]);
    }
    out += "]}";
  }
  return out + "]";
}

// --via-hold: hold, verify each held message again, delete the verified
// ones from hold, release back those we held that failed verification.
ExecReport purge_via_hold(CommandRunner& runner, const ExecOptions& base, const std::vector<PlanEntry>& plan,
                          const Verify& verify, const std::string& queue_dir, const Matcher& matcher,
                          const PlanOptions& popt, unsigned pause, Progress& progress) {
  ExecReport final_report;
  std::vector<PlanEntry> to_hold;
  for (const auto& e : plan)
    if (e.queue != "hold") to_hold.push_back(e);
  ExecOptions hold = base;
  hold.action = Action::kHold;
  ExecReport held = execute_plan(runner, hold, to_hold, verify, [&](std::size_t h, std::size_t d) {
    progress.purge(h, d, to_hold.size(), "holding");
  });
  progress.clear();
  std::map<std::string, IdResult> outcome;  // by queue ID
  std::set<std::string> held_by_us;
  for (const IdResult& r : held.results) {
    if (r.outcome == IdOutcome::kDone) held_by_us.insert(r.id);
    else outcome[r.id] = r;  // not found, changed, failed: final
  }
  for (const auto& w : held.warnings) final_report.warnings.push_back(w);
  final_report.interrupted = held.interrupted;
  if (pause && !g_stop) std::this_thread::sleep_for(std::chrono::seconds(pause));

  // Phase 2: find the candidates in the hold queue and verify each again.
  std::map<std::string, const PlanEntry*> by_id;
  for (const auto& e : plan)
    if (e.queue == "hold" || held_by_us.count(e.id)) by_id[e.id] = &e;
  std::map<std::string, std::string> found_dir;
  ScanOptions scan;
  scan.queue_directory = queue_dir;
  scan.queues = {"hold"};
  ScanStats stats;
  std::string error;
  scan_queues(scan, [](const FileInfo&, const Message&) { return std::any(); },
              [&](ScanRecord& r) {
                if (by_id.count(r.info.id) && r.info.dir) found_dir[r.info.id] = *r.info.dir;
              },
              stats, error);
  std::vector<PlanEntry> to_delete, to_release;
  std::map<std::string, std::string> why_released;
  QueueFileRereader rereader(queue_dir);
  for (auto& [id, e] : by_id) {
    auto f = found_dir.find(id);
    if (f == found_dir.end()) {
      outcome[id] = IdResult{"hold", id, IdOutcome::kNotFound, "not in the hold queue after holding"};
      continue;
    }
    PlanEntry held_entry = *e;
    held_entry.queue = "hold";
    held_entry.dir = f->second;
    Verification v = g_stop ? Verification{Verification::kChanged, "interrupted"}
                            : reverify(rereader, queue_dir, held_entry, matcher, popt);
    const std::string& why = v.why;
    if (v.kind == Verification::kSame) {
      to_delete.push_back(held_entry);
    } else if (held_by_us.count(id)) {
      why_released[id] = why;
      to_release.push_back(held_entry);
    } else {
      outcome[id] = IdResult{"hold", id, IdOutcome::kChanged, why + "; left on hold"};
    }
  }
  ExecOptions del = base;
  del.action = Action::kDelete;
  del.stop = nullptr;  // the selection is on hold now: finish what was verified
  ExecReport deleted = execute_plan(runner, del, to_delete, {}, [&](std::size_t h, std::size_t d) {
    progress.purge(h, d, to_delete.size(), "deleting from hold");
  });
  for (const IdResult& r : deleted.results) outcome[r.id] = r;
  ExecOptions rel = base;
  rel.action = Action::kRelease;
  rel.stop = nullptr;
  ExecReport released = execute_plan(runner, rel, to_release, {});
  for (const IdResult& r : released.results) {
    IdResult x = r;
    x.outcome = IdOutcome::kChanged;
    x.detail = why_released[r.id] + (r.outcome == IdOutcome::kDone ? "; released from hold" : "; release failed: left on hold");
    outcome[r.id] = x;
  }
  for (const auto* rep : {&deleted, &released})
    for (const auto& w : rep->warnings) final_report.warnings.push_back(w);
  final_report.totals_mismatch = held.totals_mismatch || deleted.totals_mismatch || released.totals_mismatch;
  final_report.batches = held.batches + deleted.batches + released.batches;
  for (const auto& e : plan) {
    auto it = outcome.find(e.id);
    final_report.results.push_back(it != outcome.end() ? it->second
                                                       : IdResult{e.queue, e.id, IdOutcome::kNotAttempted, "interrupted"});
  }
  return final_report;
}

int run(Options& o) {
  ProcessRunner runner;
  Progress progress(::isatty(STDERR_FILENO) && !o.quiet);

  // A saved plan brings its own criteria and place.
  PlanHeader plan_header;
  std::vector<PlanEntry> planned;
  if (!o.apply_plan.empty()) {
    std::ifstream in(o.apply_plan);
    if (!in) {
      fatal_message(o.apply_plan + ": " + std::strerror(errno));
      return kExitFatal;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string error;
    if (!load_plan(ss.str(), plan_header, planned, error)) {
      fatal_message(o.apply_plan + ": " + error);
      return kExitFatal;
    }
    if (plan_header.host != hostname()) {
      fatal_message("the plan was made on host " + plan_header.host + ", not on this one (" + hostname() + ")");
      return kExitFatal;
    }
    o.criteria = plan_header.criteria;
    o.regex = plan_header.regex;
    o.mixed = plan_header.mixed == "include" ? MixedPolicy::kInclude : MixedPolicy::kSkip;
    if (!parse_action(plan_header.action, o.action)) {
      fatal_message("the plan names an unknown action");
      return kExitFatal;
    }
    if (o.config_dir.empty()) o.config_dir = plan_header.config_directory;
    build_matcher(o.criteria, o.regex, o.matcher);
  }

  // Where the queue is, and whether postsuper would act on the same one.
  std::string queue_dir = o.queue_dir;
  std::string instance_dir, instance_error;
  const bool acting = !o.dry_run && o.save_plan.empty();
  // A copy of a spool that is only read needs no instance.
  bool have_instance = (queue_dir.empty() || acting) &&
                       postconf_value(runner, o.postconf, o.config_dir, "queue_directory", instance_dir, instance_error);
  if (queue_dir.empty()) {
    if (!have_instance) {
      fatal_message("cannot find the queue directory: " + instance_error);
      return kExitFatal;
    }
    queue_dir = instance_dir;
  }
  if (!o.apply_plan.empty() && !same_directory(queue_dir, plan_header.queue_directory)) {
    fatal_message("the plan was made for queue directory " + plan_header.queue_directory + ", not " + queue_dir);
    return kExitFatal;
  }
  if (acting) {
    if (::geteuid() != 0) {
      fatal_message("acting on the queue is reserved for the superuser, as postsuper is; use --dry-run to look");
      return kExitFatal;
    }
    if (::access(o.postsuper.c_str(), X_OK) != 0) {
      fatal_message(o.postsuper + ": cannot execute: " + std::strerror(errno));
      return kExitFatal;
    }
    if (!have_instance) {
      fatal_message("cannot tell which queue postsuper would act on: " + instance_error);
      return kExitFatal;
    }
    if (!same_directory(queue_dir, instance_dir)) {
      fatal_message("--queue-dir " + queue_dir + " is not the queue directory of the instance postsuper acts on (" +
                    instance_dir + "); it can be read with --dry-run but never purged");
      return kExitFatal;
    }
  }

  PlanOptions popt;
  popt.mixed = o.mixed;
  popt.explain = o.explain;
  popt.detail = o.detail;
  popt.now = static_cast<std::int64_t>(std::time(nullptr));
  const bool keep = acting || !o.save_plan.empty() || !o.apply_plan.empty();
  CliSink sink(o, keep, progress);
  if (!o.shape.empty()) {
    ShapeOptions so = o.shape_options;
    so.now = popt.now;
    sink.shape = std::make_unique<ShapeTable>(so);
  }
  PlanCounts counts;
  std::string summary;
  std::uint64_t skipped = 0;
  if (o.apply_plan.empty()) {
    ScanOptions scan;
    scan.queue_directory = queue_dir;
    scan.queues = o.queues;
    scan.threads = o.threads;
    std::string error;
    if (!build_plan(scan, o.matcher, popt, sink, counts, error)) {
      progress.clear();
      fatal_message(error);
      return kExitFatal;
    }
    progress.clear();
    skipped = counts.scan.unreadable + counts.scan.not_regular + counts.scan.bad_directories;
    summary = summary_line(counts, o);
  } else {
    sink.entries = std::move(planned);
    summary = "plan " + o.apply_plan + " from " + format_time(plan_header.created) + ": " +
              std::to_string(sink.entries.size()) + " messages";
  }

  if (o.max && sink.entries.size() > o.max) {
    print_summary(summary, o);
    fatal_message("the plan has " + std::to_string(sink.entries.size()) + " messages, more than --max " +
                  std::to_string(o.max) + "; nothing changed");
    return kExitFatal;
  }
  if (o.max && !keep && counts.selected > o.max) {
    print_summary("dry run: " + summary, o);
    fatal_message("the plan has " + std::to_string(counts.selected) + " messages, more than --max " +
                  std::to_string(o.max));
    return kExitFatal;
  }
  const ActionInfo& act = action_info(o.action);

  if (!o.save_plan.empty()) {
    PlanHeader h;
    h.created = popt.now;
    h.host = hostname();
    h.queue_directory = queue_dir;
    h.config_directory = o.config_dir;
    h.action = std::string(act.name);
    h.mixed = o.mixed_name;
    h.regex = o.regex;
    h.queues = o.queues;
    h.criteria = o.criteria;
    std::string json = plan_to_json(h, sink.entries);
    FILE* f = std::fopen(o.save_plan.c_str(), "w");
    if (!f || std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fclose(f) != 0) {
      fatal_message(o.save_plan + ": cannot write the plan: " + std::strerror(errno));
      return kExitFatal;
    }
    for (const auto& e : sink.entries) sink.print(e);
    print_summary("plan saved to " + o.save_plan + ": " + summary, o);
    if (sink.entries.empty()) return kExitNothing;
    return skipped ? kExitPartial : kExitDone;
  }

  if (sink.shape) {
    write_out(o.format == Format::kJson ? sink.shape->render_json() : sink.shape->render_text());
    std::string note = sink.shape->note();
    if (!note.empty() && o.format != Format::kJson) std::fprintf(stderr, "qpurge: %s\n", note.c_str());
    if (!o.quiet) std::fprintf(stderr, "qpurge: shape of: %s\n", summary.c_str());
    if (counts.selected == 0) return kExitNothing;
    return skipped ? kExitPartial : kExitDone;
  }
  if (o.dry_run) {
    if (keep)
      for (const auto& e : sink.entries) sink.print(e);
    print_summary("dry run: " + summary, o);
    std::string view = sink.view.render(popt.now);
    while (!view.empty()) {
      std::size_t nl = view.find('\n');
      print_summary(view.substr(0, nl), o);
      view.erase(0, nl + 1);
    }
    if (keep ? sink.entries.empty() : counts.selected == 0) return kExitNothing;
    return skipped ? kExitPartial : kExitDone;
  }

  if (sink.entries.empty()) {
    print_summary(summary + "; nothing to " + std::string(act.name), o);
    return skipped ? kExitPartial : kExitNothing;
  }
  if (::isatty(STDIN_FILENO) && !o.yes) {
    if (o.format == Format::kText)
      for (const auto& e : sink.entries) sink.print(e);
    print_summary(summary, o);
    std::fflush(stdout);
    if (!confirm(std::string(act.name) + (o.via_hold ? " (via hold)" : "") + " these " +
                 std::to_string(sink.entries.size()) + " messages?")) {
      std::fprintf(stderr, "qpurge: nothing changed\n");
      return kExitNothing;
    }
  }

  // The audit record of intent must be on disk before anything changes.
  AuditLog audit(o.audit_log);
  std::string error;
  std::string intent = "{\"event\": \"intent\", " + audit_common_fields(o.argv);
  intent += ", \"action\": \"" + std::string(act.name) + "\", \"via_hold\": ";
  intent += o.via_hold ? "true" : "false";
  intent += ", \"queue_directory\": ";
  append_json_string(intent, queue_dir);
  intent += ", \"criteria\": " + criteria_json(o.criteria) + ", \"ids\": [";
  for (std::size_t i = 0; i < sink.entries.size(); ++i) {
    if (i) intent += ", ";
    append_json_string(intent, sink.entries[i].queue + "/" + sink.entries[i].id);
  }
  intent += "]}\n";
  if (!audit.open(error) || !audit.append(intent, error)) {
    fatal_message(error + "; nothing changed (use --audit-log FILE to name a writable log)");
    return kExitFatal;
  }

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  ExecOptions eo;
  eo.postsuper = o.postsuper;
  eo.config_dir = o.config_dir;
  eo.batch_size = o.batch_size;
  eo.action = o.action;
  eo.stop = &g_stop;
  QueueFileRereader rereader(queue_dir);
  Verify verify = [&](const PlanEntry& e) { return reverify(rereader, queue_dir, e, o.matcher, popt); };
  ExecReport rep;
  if (o.via_hold) {
    rep = purge_via_hold(runner, eo, sink.entries, verify, queue_dir, o.matcher, popt, o.hold_pause, progress);
  } else {
    rep = execute_plan(runner, eo, sink.entries, verify, [&](std::size_t h, std::size_t d) {
      progress.purge(h, d, sink.entries.size(), act.name);
    });
  }
  progress.clear();
  if (g_stop) rep.interrupted = true;

  std::string out;
  for (const IdResult& r : rep.results) {
    switch (o.format) {
      case Format::kIds:
        if (r.outcome == IdOutcome::kDone) out += r.id + "\n";
        break;
      case Format::kJson:
        append_result_json(out, r);
        out += "\n";
        break;
      case Format::kText:
        if (r.outcome != IdOutcome::kDone || o.verbose)
          out += r.id + "  " + r.queue + "  " +
                 (r.outcome == IdOutcome::kDone ? std::string(act.past) : std::string(outcome_name(r.outcome))) +
                 (r.detail.empty() ? "" : ": " + text_escaped(r.detail)) + "\n";
        break;
    }
  }
  write_out(out);
  for (const auto& w : rep.warnings) std::fprintf(stderr, "qpurge: postsuper said: %s\n", text_escaped(w).c_str());
  const std::size_t done = rep.count(IdOutcome::kDone);
  std::string result = std::string(act.past) + " " + std::to_string(done) + " of " +
                       std::to_string(rep.results.size()) + " planned";
  result += "; not found " + std::to_string(rep.count(IdOutcome::kNotFound));
  result += "; changed since planning " + std::to_string(rep.count(IdOutcome::kChanged));
  result += "; failed " + std::to_string(rep.count(IdOutcome::kFailed) + rep.count(IdOutcome::kInvalid));
  if (rep.interrupted) result += "; interrupted: not attempted " + std::to_string(rep.count(IdOutcome::kNotAttempted));

  std::string record = "{\"event\": \"result\", " + audit_common_fields(o.argv);
  record += ", \"action\": \"" + std::string(act.name) + "\", \"criteria\": " + criteria_json(o.criteria);
  record += ", \"summary\": ";
  append_json_string(record, result);
  record += ", \"results\": [";
  for (std::size_t i = 0; i < rep.results.size(); ++i) {
    if (i) record += ", ";
    append_result_json(record, rep.results[i]);
  }
  record += "]}\n";
  if (!audit.append(record, error)) std::fprintf(stderr, "qpurge: warning: %s\n", text_escaped(error).c_str());
  syslog_summary(result + " (criteria: " + criteria_json(o.criteria) + ")");

  print_summary(summary, o);
  print_summary(result, o);
  std::fflush(stdout);
  const bool all_done = done == rep.results.size();
  if (!all_done || rep.totals_mismatch || skipped || rep.interrupted) return kExitPartial;
  return kExitDone;
}

}  // namespace

int run_cli(int argc, char** argv) {
  if (::getuid() != ::geteuid() || ::getgid() != ::getegid()) {
    fatal_message("refusing to run set-uid or set-gid");
    return kExitFatal;
  }
  ::signal(SIGPIPE, SIG_IGN);
  Options o;
  try {
    if (!parse_options(argc, argv, o)) return kExitDone;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "qpurge: %s\nTry 'qpurge --help' for more information.\n", e.what());
    return kExitFatal;
  }
  try {
    if (o.all_instances) {
      ProcessRunner runner;
      std::vector<InstanceInfo> instances;
      std::string error;
      if (!list_instances(runner, o.postmulti, instances, error)) {
        fatal_message(error);
        return kExitFatal;
      }
      // Worst outcome wins: fatal, then partial, then done, then nothing.
      auto rank = [](int s) { return s == kExitFatal ? 3 : s == kExitPartial ? 2 : s == kExitDone ? 1 : 0; };
      int status = kExitNothing;
      for (const InstanceInfo& inst : instances) {
        Options one;
        if (!parse_options(argc, argv, one)) return kExitDone;
        one.config_dir = inst.config_dir;
        one.instance = inst.name;
        int s = run(one);
        if (rank(s) > rank(status)) status = s;
      }
      return status;
    }
    return run(o);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "qpurge: %s\n", e.what());
    return kExitFatal;
  } catch (const std::exception& e) {
    fatal_message(std::string("internal error: ") + e.what());
    return kExitFatal;
  }
}

}  // namespace qpurge
