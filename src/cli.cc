// cli.cc - option parsing and the plan / confirm / execute / report flow.
#include "qpurge/cli.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "qpurge/escape.h"
#include "qpurge/execute.h"
#include "qpurge/match.h"
#include "qpurge/output.h"
#include "qpurge/plan.h"
#include "qpurge/postfix_config.h"
#include "qpurge/queue_id.h"

namespace po = boost::program_options;

namespace qpurge {
namespace {

enum class Format { kText, kIds, kJson };

struct Options {
  std::vector<std::string> senders, recipients, domains, sender_domains, recipient_domains;
  bool regex = false;
  bool all = false;
  MixedPolicy mixed = MixedPolicy::kSkip;
  std::string config_dir;
  std::string queue_dir;
  std::vector<std::string> queues;
  bool dry_run = false;
  bool yes = false;
  Action action = Action::kDelete;
  std::size_t batch_size = 1000;
  std::string postsuper = kDefaultPostsuper;
  std::string postconf = kDefaultPostconf;
  Format format = Format::kText;
  bool explain = false;
  bool detail = false;
  unsigned threads = 0;
  Matcher matcher;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

void fatal_message(const std::string& what) { std::fprintf(stderr, "qpurge: fatal: %s\n", what.c_str()); }

void write_out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Adds one selector group; every value is compiled now, so a bad value is a
// usage error before any work starts.
template <typename Factory>
void add_group(Matcher& m, const char* option, const std::vector<std::string>& values, Factory make) {
  if (values.empty()) return;
  CriterionGroup g;
  g.option = option;
  for (const auto& v : values) {
    try {
      g.alternatives.push_back(make(v));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string(option) + " '" + text_escaped(v) + "': " + e.what());
    }
    g.values.push_back(text_escaped(v));
  }
  m.add(std::move(g));
}

po::options_description describe_options(Options& o, std::string& mixed, std::string& format,
                                         std::string& action) {
  po::options_description sel("Selection (same option repeated: OR; different options: AND)");
  sel.add_options()
      ("sender", po::value(&o.senders)->composing(), "envelope sender ADDR (MAILER-DAEMON, <> or '' = null sender)")
      ("recipient", po::value(&o.recipients)->composing(), "pending recipient ADDR")
      ("domain", po::value(&o.domains)->composing(), "sender or recipient domain D (.D = subdomains of D)")
      ("sender-domain", po::value(&o.sender_domains)->composing(), "sender domain D")
      ("recipient-domain", po::value(&o.recipient_domains)->composing(), "recipient domain D")
      ("regex", po::bool_switch(&o.regex), "address values are Boost.Regex patterns (whole address, any case)")
      ("all", po::bool_switch(&o.all), "select every message in the chosen queues")
      ("mixed", po::value(&mixed)->default_value("skip"), "messages where only some pending recipients match: skip|include");
  po::options_description where("Where");
  where.add_options()
      ("config-dir,c", po::value(&o.config_dir), "Postfix configuration directory (as postsuper -c)")
      ("queue-dir", po::value(&o.queue_dir), "read this spool instead of the instance's queue_directory")
      ("queue", po::value(&o.queues)->composing(), "queue to scan: incoming, active, deferred, hold, maildrop (repeatable; default: incoming active deferred hold)");
  po::options_description act("Action");
  act.add_options()
      ("dry-run,n", po::bool_switch(&o.dry_run), "show the plan, change nothing")
      ("action", po::value(&action)->default_value("delete"), "delete|hold|release|requeue|expire (postsuper -d -h -H -r -e)")
      ("yes,y", po::bool_switch(&o.yes), "do not ask before acting on a terminal")
      ("batch-size", po::value(&o.batch_size)->default_value(1000), "IDs per postsuper run")
      ("postsuper", po::value(&o.postsuper)->default_value(kDefaultPostsuper), "postsuper binary")
      ("postconf", po::value(&o.postconf)->default_value(kDefaultPostconf), "postconf binary");
  po::options_description out("Output");
  out.add_options()
      ("format", po::value(&format)->default_value("text"), "text|ids|json")
      ("explain", po::bool_switch(&o.explain), "say which criteria held for each message (and each skipped as mixed)")
      ("detail", po::bool_switch(&o.detail), "JSON: add done and canceled recipients and named attributes")
      ("threads", po::value(&o.threads)->default_value(0), "scan threads (0: one per core)")
      ("help,h", "this help")
      ("version", "print the version");
  po::options_description all;
  all.add(sel).add(where).add(act).add(out);
  return all;
}

// Returns false when help or version was printed.
bool parse_options(int argc, char** argv, Options& o) {
  std::string mixed, format, action;
  po::options_description desc = describe_options(o, mixed, format, action);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << "Usage: qpurge [selectors] [options]\n"
                 "Select Postfix queue files by envelope sender, recipient and domain,\n"
                 "show the plan (--dry-run) or hand the IDs to postsuper.\n\n"
              << desc << "\nExit status: 0 done, 1 nothing matched, 2 usage or fatal error,\n"
                         "3 partial (something not acted on, or files skipped as unreadable).\n";
    return false;
  }
  if (vm.count("version")) {
    std::cout << "qpurge " << QPURGE_VERSION << "\n";
    return false;
  }
  if (mixed == "skip") o.mixed = MixedPolicy::kSkip;
  else if (mixed == "include") o.mixed = MixedPolicy::kInclude;
  else throw UsageError("--mixed must be skip or include, not '" + text_escaped(mixed) + "'");
  if (format == "text") o.format = Format::kText;
  else if (format == "ids") o.format = Format::kIds;
  else if (format == "json") o.format = Format::kJson;
  else throw UsageError("--format must be text, ids or json, not '" + text_escaped(format) + "'");
  if (!parse_action(action, o.action))
    throw UsageError("--action must be delete, hold, release, requeue or expire, not '" + text_escaped(action) + "'");
  if (o.batch_size == 0) throw UsageError("--batch-size must be at least 1");
  for (const auto& q : o.queues)
    if (!is_message_queue(q))
      throw UsageError("--queue '" + text_escaped(q) + "': not a message queue (incoming, active, deferred, hold, maildrop)");
  if (o.queues.empty()) {
    if (o.action == Action::kRelease) o.queues = {"hold"};
    else o.queues = {"incoming", "active", "deferred", "hold"};
  }

  const bool regex = o.regex;
  add_group(o.matcher, "--sender", o.senders, [regex](const std::string& v) { return make_sender(v, regex); });
  add_group(o.matcher, "--recipient", o.recipients, [regex](const std::string& v) { return make_recipient(v, regex); });
  add_group(o.matcher, "--domain", o.domains, [](const std::string& v) { return make_domain(v); });
  add_group(o.matcher, "--sender-domain", o.sender_domains, [](const std::string& v) { return make_sender_domain(v); });
  add_group(o.matcher, "--recipient-domain", o.recipient_domains, [](const std::string& v) { return make_recipient_domain(v); });
  if (o.all) {
    CriterionGroup g;
    g.option = "--all";
    g.alternatives.push_back(make_all());
    o.matcher.add(std::move(g));
  }
  if (o.matcher.empty())
    throw UsageError("no selector given: name what to select (--sender, --recipient, --domain, ...) or say --all");
  return true;
}

// Streams entries (dry run) or keeps them (to act on), and reports problems.
class CliSink : public PlanSink {
 public:
  CliSink(const Options& o, bool keep) : o_(o), keep_(keep) {}
  void on_entry(PlanEntry&& e) override {
    if (keep_) {
      entries.push_back(std::move(e));
      return;
    }
    print(e);
  }
  void on_mixed_skipped(PlanEntry&& e) override {
    if (o_.format == Format::kText && o_.dry_run) {
      std::string s = "skipped as mixed: ";
      append_entry_text(s, e);
      write_out(s);
    }
  }
  void on_problem(const ScanRecord& r) override {
    std::string path = r.info.id.empty() ? *r.info.dir : r.info.path();
    std::fprintf(stderr, "qpurge: warning: %s: %s\n", text_escaped(path).c_str(), text_escaped(r.error).c_str());
  }
  void print(const PlanEntry& e) {
    std::string s;
    switch (o_.format) {
      case Format::kText: append_entry_text(s, e); break;
      case Format::kIds: s = e.id + "\n"; break;
      case Format::kJson: append_entry_json(s, e, o_.detail); break;
    }
    write_out(s);
  }
  std::vector<PlanEntry> entries;

 private:
  const Options& o_;
  bool keep_;
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

// Prints the summary where it belongs: with the plan for text, else stderr.
void print_summary(const std::string& line, const Options& o) {
  if (o.format == Format::kText) std::printf("%s\n", line.c_str());
  else std::fprintf(stderr, "qpurge: %s\n", line.c_str());
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

int run(Options& o) {
  ProcessRunner runner;
  // Where the queue is, and whether postsuper would act on the same one.
  std::string queue_dir = o.queue_dir;
  std::string instance_dir, instance_error;
  bool have_instance = postconf_value(runner, o.postconf, o.config_dir, "queue_directory", instance_dir, instance_error);
  if (queue_dir.empty()) {
    if (!have_instance) {
      fatal_message("cannot find the queue directory: " + instance_error);
      return kExitFatal;
    }
    queue_dir = instance_dir;
  }
  if (!o.dry_run) {
    if (::geteuid() != 0) {
      fatal_message("acting on the queue is reserved for the superuser (postsuper is); use --dry-run to look");
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

  ScanOptions scan;
  scan.queue_directory = queue_dir;
  scan.queues = o.queues;
  scan.threads = o.threads;
  PlanOptions popt;
  popt.mixed = o.mixed;
  popt.explain = o.explain;
  popt.detail = o.detail;
  popt.now = static_cast<std::int64_t>(std::time(nullptr));
  CliSink sink(o, !o.dry_run);
  PlanCounts counts;
  std::string error;
  if (!build_plan(scan, o.matcher, popt, sink, counts, error)) {
    fatal_message(error);
    return kExitFatal;
  }
  const std::uint64_t skipped = counts.scan.unreadable + counts.scan.not_regular + counts.scan.bad_directories;
  std::string summary = summary_line(counts, o);

  if (o.dry_run) {
    print_summary("dry run: " + summary, o);
    if (counts.selected == 0) return kExitNothing;
    return skipped ? kExitPartial : kExitDone;
  }

  const ActionInfo& act = action_info(o.action);
  if (sink.entries.empty()) {
    print_summary(summary + "; nothing to " + std::string(act.name), o);
    return skipped ? kExitPartial : kExitNothing;
  }
  if (::isatty(STDIN_FILENO) && !o.yes) {
    if (o.format == Format::kText)
      for (const auto& e : sink.entries) sink.print(e);
    print_summary(summary, o);
    if (!confirm(std::string(act.name) + " these " + std::to_string(sink.entries.size()) + " messages?")) {
      std::fprintf(stderr, "qpurge: nothing changed\n");
      return kExitNothing;
    }
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
  Verify verify = [&](const PlanEntry& e) { return reverify(queue_dir, e, o.matcher, popt); };
  ExecReport rep = execute_plan(runner, eo, sink.entries, verify);

  std::string out;
  for (const IdResult& r : rep.results) {
    switch (o.format) {
      case Format::kIds:
        if (r.outcome == IdOutcome::kDone) out += r.id + "\n";
        break;
      case Format::kJson:
        out += "{\"queue_name\": ";
        append_json_string(out, r.queue);
        out += ", \"queue_id\": ";
        append_json_string(out, r.id);
        out += ", \"result\": \"" + std::string(outcome_name(r.outcome)) + "\"";
        if (!r.detail.empty()) {
          out += ", \"detail\": ";
          append_json_string(out, r.detail);
        }
        out += "}\n";
        break;
      case Format::kText:
        if (r.outcome != IdOutcome::kDone)
          out += r.id + "  " + r.queue + "  " + std::string(outcome_name(r.outcome)) + ": " + text_escaped(r.detail) + "\n";
        break;
    }
  }
  write_out(out);
  for (const auto& w : rep.warnings) std::fprintf(stderr, "qpurge: postsuper: %s\n", text_escaped(w).c_str());
  std::string result = std::string(act.past) + " " + std::to_string(rep.count(IdOutcome::kDone)) + " of " +
                       std::to_string(rep.results.size()) + " planned";
  result += "; not found " + std::to_string(rep.count(IdOutcome::kNotFound));
  result += "; changed since planning " + std::to_string(rep.count(IdOutcome::kChanged));
  result += "; failed " + std::to_string(rep.count(IdOutcome::kFailed) + rep.count(IdOutcome::kInvalid));
  if (rep.interrupted) result += "; interrupted, not attempted " + std::to_string(rep.count(IdOutcome::kNotAttempted));
  print_summary(summary, o);
  print_summary(result, o);
  std::fflush(stdout);
  const bool all_done = rep.count(IdOutcome::kDone) == rep.results.size();
  if (!all_done || rep.totals_mismatch || skipped) return kExitPartial;
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
    return run(o);
  } catch (const std::exception& e) {
    fatal_message(std::string("internal error: ") + e.what() + "; nothing was changed by this error");
    return kExitFatal;
  }
}

}  // namespace qpurge
