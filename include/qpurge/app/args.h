// SPDX-License-Identifier: MIT
// args.h - what the user typed, read and nothing more.
//
// parse_args() is the only user of Boost.Program_options. It turns argv into
// strings and switches, in command-line order where order matters (the
// selectors), and has no side effects: it prints nothing, reads no file and
// asks no system. Validation (numbers, names, conflicts between options)
// belongs to config.h, which turns Args into a RunConfig.
//
// Failure: an option that does not exist or lacks its value throws
// UsageError with Boost's message.
#ifndef QPURGE_APP_ARGS_H_
#define QPURGE_APP_ARGS_H_

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "qpurge/plan/plan_file.h"

namespace qpurge {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Args {
  enum class Request { kRun, kHelp, kVersion };
  Request request = Request::kRun;
  std::string help_text;  // with kHelp

  std::vector<std::string> argv;
  std::vector<PlanCriterion> criteria;  // selectors in order of first appearance ("--all" included)
  bool regex = false;
  bool decode_headers = false;            // --decode-headers
  bool ids_from_stdin = false;            // --ids-from - was read (read_id_lists)
  std::optional<std::string> body_limit;  // --body-limit
  std::optional<std::string> mixed;
  std::optional<std::string> config_dir;
  std::optional<std::string> queue_dir;
  std::vector<std::string> queues;
  bool all_instances = false;
  std::optional<std::string> postmulti;
  bool dry_run = false;
  bool yes = false;
  std::optional<std::string> action;
  std::optional<std::string> max;
  bool via_hold = false;
  std::optional<std::string> hold_pause;
  std::optional<std::string> save_plan;
  std::optional<std::string> apply_plan;
  std::optional<std::string> audit_log;
  std::optional<std::string> batch_size;
  std::optional<std::string> wait, rate;  // run lock, pacing
  std::optional<std::string> postsuper;
  std::optional<std::string> postconf;
  std::optional<std::string> shape;  // "recipient" when given without a value
  std::optional<std::string> buckets, bucket_minutes, min_subdomains, width;
  bool linear = false;
  bool parents = false;
  std::optional<std::string> format;
  std::optional<std::string> top, output;
  bool explain = false;
  bool count = false;  // --count
  bool detail = false;
  bool quiet = false;
  bool verbose = false;
  std::optional<std::string> threads;
  // Archive and restore.
  std::optional<std::string> archive;
  std::optional<std::string> restore;
  std::optional<std::string> restore_to;
  bool force_other_instance = false;
  std::optional<std::string> archives;
  std::optional<std::string> prune_archives;
  bool recover = false;  // --recover
};

// argv as main() gets it (argv[0] included).
Args parse_args(int argc, const char* const* argv);

}  // namespace qpurge

#endif  // QPURGE_APP_ARGS_H_
