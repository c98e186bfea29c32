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
#ifndef QPURGE_CONFIG_H_
#define QPURGE_CONFIG_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qpurge/args.h"
#include "qpurge/execute.h"
#include "qpurge/match.h"
#include "qpurge/plan.h"
#include "qpurge/plan_file.h"
#include "qpurge/qshape_table.h"

namespace qpurge {

enum class Format { kText, kIds, kJson, kPrometheus };  // kPrometheus: with --shape only

inline constexpr const char* kDefaultPostmulti = "/usr/sbin/postmulti";
inline constexpr std::size_t kMaxThreads = 256;
inline constexpr std::size_t kMaxBatchSize = 1000000;
inline constexpr unsigned kMaxRate = 100000;                // --rate, IDs a second
inline constexpr unsigned kMaxLockWait = 86400;             // --wait, seconds
inline constexpr std::uint64_t kMaxBodyLimit = 1ULL << 30;  // --body-limit at most 1G

// What the run does: purge (act on the queue, or show what would be acted
// on), restore an archive run, list archive runs, or prune them.
enum class Mode { kPurge, kRestore, kListArchives, kPruneArchives };

struct RunConfig {
  Mode mode = Mode::kPurge;
  std::vector<std::string> argv;
  std::vector<PlanCriterion> criteria;
  bool regex = false;
  bool decode_headers = false;                 // --decode-headers
  std::size_t body_limit = kDefaultTextLimit;  // --body-limit
  MixedPolicy mixed = MixedPolicy::kSkip;
  std::shared_ptr<const Matcher> matcher;

  std::string config_dir;  // "" = Postfix's default
  std::string queue_dir;   // --queue-dir; "" = the instance's
  std::vector<std::string> queues;
  bool all_instances = false;
  std::string instance;  // the name shown in every line with --all-instances

  bool dry_run = false;
  bool yes = false;
  Action action = Action::kDelete;
  std::size_t batch_size = 10000;
  std::size_t max = 0;  // 0: no limit
  bool via_hold = false;
  unsigned hold_pause = 0;
  unsigned wait_seconds = 0;  // --wait: for another run's lock (run_lock.h)
  unsigned rate = 0;          // --rate: IDs a second to postsuper; 0: no limit
  std::string save_plan;
  std::string apply_plan;
  std::string audit_log;
  std::string postsuper;
  std::string postconf;
  std::string postmulti;

  Format format = Format::kText;
  std::optional<ShapeOptions> shape;  // a qshape table instead of the plan
  std::size_t top = 20;               // --format prometheus: domains with a label of their own
  std::string output;                 // --output: the shape goes to this file, atomically
  bool explain = false;
  bool detail = false;
  bool quiet = false;
  bool verbose = false;
  unsigned threads = 0;  // 0: one per core

  // Archive and restore.
  std::string archive_dir;  // --archive, --archives, --prune-archives
  std::string restore_run;  // --restore RUNDIR
  std::string restore_to = "hold";
  bool force_other_instance = false;
  std::int64_t prune_older_than = 0;  // seconds

  // With --apply-plan: the plan's header and messages.
  std::optional<PlanHeader> plan_header;
  std::vector<PlanEntry> planned;

  // True when the run may change the queue (not a dry run, a shape or a
  // saved plan).
  bool acting() const { return !dry_run && save_plan.empty(); }
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

#endif  // QPURGE_CONFIG_H_
