// SPDX-License-Identifier: MIT
// config.h - one validated configuration for a run.
//
// make_config() turns Args (what the user typed) into a RunConfig: the
// compiled matcher, the action, the output format, the queues, the limits
// and where to run. With --apply-plan the caller loads the plan file and
// passes its header, which brings the criteria, the action and the place.
// Every usage error is raised here, before any work starts, as UsageError:
// a bad value, a number out of range, two options that do not go together,
// and every conflict between the options and the plan's own fields (an
// --action that differs from the plan's, --via-hold on a plan saved for
// another action, selectors given with a plan).
#ifndef QPURGE_APP_CONFIG_H_
#define QPURGE_APP_CONFIG_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qpurge/app/args.h"
#include "qpurge/plan/plan.h"
#include "qpurge/plan/plan_file.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/report/printer.h"
#include "qpurge/select/match.h"
#include "qpurge/spool/queue_scan.h"

namespace qpurge {

inline constexpr const char* kDefaultPostmulti = "/usr/sbin/postmulti";
inline constexpr std::size_t kMaxThreads = 256;
inline constexpr std::size_t kMaxBatchSize = 1000000;
inline constexpr unsigned kMaxRate = 100000;                // --rate, IDs a second
inline constexpr unsigned kMaxLockWait = 86400;             // --wait, seconds
inline constexpr std::uint64_t kMaxBodyLimit = 1ULL << 30;  // --body-limit at most 1G

// What the run does: purge (act on the queue, or show what would be acted
// on), restore an archive run, list archive runs, prune them, or only
// recover what an interrupted run left (app/recover.h).
enum class Mode { kPurge, kRestore, kListArchives, kPruneArchives, kRecover };

// What is selected: the criteria as typed (for plan files, the audit log and
// archive headers) and compiled.
struct Selection {
  std::vector<PlanCriterion> criteria;
  bool regex = false;
  bool decode_headers = false;  // --decode-headers
  std::shared_ptr<const Matcher> matcher;
};

// --archive, --restore, --archives, --prune-archives.
struct ArchiveOptions {
  std::string dir;                    // --archive, --archives, --prune-archives
  std::string run_dir;                // --restore RUNDIR: the archive run to restore
  std::string restore_to = "hold";    // --restore-to
  bool force_other_instance = false;  // --force-other-instance
  std::int64_t prune_older_than = 0;  // seconds
  bool from_plan = false;             // `dir` is the --apply-plan file's (no --archive given)
};

// One run, made of the options each stage takes as it is: the scan (the
// queue directory from --queue-dir, "" for the instance's; the queues; the
// threads), the plan (--mixed, --explain, --detail, --body-limit), postsuper
// (its path, -c, the batch size, the action, --rate), the archive and the
// output. Built once by make_config(); the engine adds only what a run
// learns (the queue directory, the clock, its hooks).
struct RunConfig {
  Mode mode = Mode::kPurge;
  std::vector<std::string> argv;
  Selection selection;
  ScanOptions scan;
  PlanOptions plan;
  ExecOptions exec;
  ArchiveOptions archive;
  OutputOptions output;

  bool all_instances = false;
  std::string instance;  // the name shown in every line with --all-instances
  std::string postconf;
  std::string postmulti;

  bool dry_run = false;
  bool yes = false;
  std::size_t max = 0;  // 0: no limit
  bool via_hold = false;
  unsigned hold_pause = 0;
  unsigned wait_seconds = 0;  // --wait: for another run's lock (run_lock.h)
  std::string save_plan;
  std::string apply_plan;
  std::string audit_log;

  // With --apply-plan: the plan's header and messages.
  std::optional<PlanHeader> plan_header;
  std::vector<PlanEntry> planned;

  // True when the run may change the queue (not a dry run, a shape or a
  // saved plan).
  bool acting() const { return !dry_run && save_plan.empty(); }
  // -c DIR: the instance ("" = Postfix's default); postsuper is run with it.
  const std::string& config_dir() const { return exec.config_dir; }
};

// Throws UsageError. `plan` is the loaded --apply-plan file, if any.
RunConfig make_config(const Args& args, const PlanHeader* plan = nullptr);

// Replaces every --ids-from FILE (and --exclude-ids-from) in args.criteria
// by the queue IDs the file lists, as --id (--exclude-id) values merged into
// one group with any --id given: so a saved plan holds the IDs themselves.
// "-" reads standard input (through `read` as "/dev/stdin"). `read(path,
// text, error)` reads a whole file. A file that cannot be read, holds no ID
// or a line that is not a queue ID: UsageError naming the file and line.
void read_id_lists(Args& args, const std::function<bool(const std::string&, std::string&, std::string&)>& read);

// Compiles criteria into a matcher (also used for a plan's criteria).
// `decode_headers`: --header matches decoded values (--decode-headers).
std::shared_ptr<const Matcher> build_matcher(const std::vector<PlanCriterion>& criteria, bool regex,
                                             bool decode_headers = false);

std::string_view mixed_name(MixedPolicy m);

}  // namespace qpurge

#endif  // QPURGE_APP_CONFIG_H_
