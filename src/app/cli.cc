// SPDX-License-Identifier: MIT
// cli.cc - the thin entry; see cli.h.
#include "qpurge/app/cli.h"

#include <signal.h>
#include <unistd.h>

#include <deque>
#include <iostream>

#include "qpurge/app/archive_modes.h"
#include "qpurge/app/args.h"
#include "qpurge/app/config.h"
#include "qpurge/app/purge.h"
#include "qpurge/app/real_system.h"
#include "qpurge/app/recover.h"
#include "qpurge/plan/plan_file.h"
#include "qpurge/postfix/postmulti.h"
#include "qpurge/util/check.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/module.h"

namespace qpurge {
namespace {

// Reads and checks the --apply-plan file; a file that cannot be used is fatal.
bool load_plan_file(const std::string& path, System& sys, PlanHeader& header, std::vector<PlanEntry>& entries,
                    std::string& error) {
  std::string text;
  if (!sys.read_file(path, text, error)) return false;
  if (load_plan(text, header, entries, error)) return true;
  error = path + ": " + error;
  return false;
}

// Locks every instance's queue (when acting), then plans every instance,
// so that --max caps the total before any instance acts; then acts on each.
int run_instances(const Args& args, System& sys, CommandRunner& runner, std::ostream& out, std::ostream& err) {
  const RunConfig base = make_config(args);
  std::vector<InstanceInfo> instances;
  std::string error;
  if (!list_instances(runner, base.postmulti, instances, error)) {
    err << "qpurge: fatal: " << text_escaped(error) << "\n";
    return kExitFatal;
  }
  std::deque<RunConfig> configs;
  std::vector<std::unique_ptr<Printer>> printers;
  std::vector<std::unique_ptr<Purge>> purges;
  std::size_t planned = 0;
  for (const InstanceInfo& inst : instances) {
    RunConfig& c = configs.emplace_back(make_config(args));
    c.exec.config_dir = inst.config_dir;
    c.instance = inst.name;
    printers.push_back(make_printer(c.output, c.instance, out, err, sys.stderr_is_terminal()));
    printers.back()->set_terminals(sys.stdout_is_terminal(), sys.stderr_is_terminal());
    purges.push_back(std::make_unique<Purge>(c, sys, runner, *printers.back()));
  }
  std::vector<std::unique_ptr<RunLock>> locks;
  std::vector<std::optional<Outcome>> outcomes = prepare_and_lock(purges, sys, base, locks);
  for (std::size_t i = 0; i < purges.size(); ++i) {
    if (!outcomes[i]) outcomes[i] = purges[i]->plan();
    planned += outcomes[i] ? outcomes[i]->planned() : purges[i]->planned();
  }
  std::vector<Outcome> final;
  const auto refusal = over_max(planned, base.max);
  if (refusal) err << "qpurge: fatal: " << *refusal << " (over all instances)\n";
  for (std::size_t i = 0; i < purges.size(); ++i) {
    if (outcomes[i])
      final.push_back(*outcomes[i]);
    else if (refusal)
      final.push_back(Outcome::fatal().with_planned(purges[i]->planned()));
    else
      final.push_back(purges[i]->act());
  }
  Outcome all = combine_outcomes(final);
  // Refused over all instances before any acted: fatal (partial if a change was made all the same).
  if (refusal) all = Outcome::fatal().with_planned(all.planned()).with_changed(all.changed());
  return exit_status(all);
}

int run_one(const Args& args, System& sys, CommandRunner& runner, std::ostream& out, std::ostream& err) {
  PlanHeader header;
  std::vector<PlanEntry> planned;
  if (args.apply_plan) {
    std::string error;
    if (!load_plan_file(*args.apply_plan, sys, header, planned, error)) {
      err << "qpurge: fatal: " << text_escaped(error) << "\n";
      return kExitFatal;
    }
  }
  RunConfig c = make_config(args, args.apply_plan ? &header : nullptr);
  c.planned = std::move(planned);
  std::unique_ptr<Printer> printer = make_printer(c.output, c.instance, out, err, sys.stderr_is_terminal());
  printer->set_terminals(sys.stdout_is_terminal(), sys.stderr_is_terminal());
  switch (c.mode) {
    case Mode::kRestore:
      return exit_status(restore_mode(c, sys, runner, *printer));
    case Mode::kListArchives:
      return exit_status(list_archives_mode(c, sys, *printer));
    case Mode::kPruneArchives:
      return exit_status(prune_archives_mode(c, sys, *printer));
    case Mode::kRecover:
      return exit_status(recover_mode(c, sys, runner, *printer));
    case Mode::kPurge:
      break;
  }
  return exit_status(purge_mode(c, sys, runner, *printer));
}

}  // namespace

int run_cli(int argc, const char* const* argv, System& sys, CommandRunner& runner, std::ostream& out,
            std::ostream& err) {
  try {
    Args args = parse_args(argc, argv);
    if (args.request != Args::Request::kRun) {
      out << args.help_text;
      return kExitDone;
    }
    read_id_lists(args,
                  [&sys](const std::string& p, std::string& t, std::string& e) { return sys.read_file(p, t, e); });
    if (args.all_instances) return run_instances(args, sys, runner, out, err);
    return run_one(args, sys, runner, out, err);
  } catch (const UsageError& e) {
    err << "qpurge: " << e.what() << "\nTry 'qpurge --help' for more information.\n";
    return kExitFatal;
  } catch (const ModuleError& e) {
    // A module missing or refused (util/module.h): before any change.
    err << "qpurge: fatal: " << text_escaped(e.what()) << "\n";
    return kExitFatal;
  } catch (const InternalError& e) {
    // A bug in qpurge: nothing is acted on after it.
    err << "qpurge: internal error: " << text_escaped(e.what()) << "\n";
    return kExitFatal;
  } catch (const std::exception& e) {
    err << "qpurge: internal error: unexpected exception: " << text_escaped(e.what()) << "\n";
    return kExitFatal;
  }
}

int run_cli(int argc, char** argv) {
  if (::getuid() != ::geteuid() || ::getgid() != ::getegid()) {
    std::fprintf(stderr, "qpurge: fatal: refusing to run set-uid or set-gid\n");
    return kExitFatal;
  }
  ::signal(SIGPIPE, SIG_IGN);
  RealSystem sys;
  ProcessRunner runner;
  int status = run_cli(argc, argv, sys, runner, std::cout, std::cerr);
  std::cout.flush();
  return status;
}

}  // namespace qpurge
