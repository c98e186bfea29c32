// SPDX-License-Identifier: MIT
// scripted_runner.h - a CommandRunner that acts like `postsuper -d -` on a
// list of existing IDs, for the executor's tests: it records exactly what was
// written to it and can be told to die mid-batch, not to start, or to print
// something unexpected, as a real postsuper cannot be made to on demand.
#ifndef QPURGE_TESTS_SUPPORT_SCRIPTED_RUNNER_H_
#define QPURGE_TESTS_SUPPORT_SCRIPTED_RUNNER_H_

#include <algorithm>
#include <string>
#include <vector>

#include "qpurge/postfix/process.h"

namespace qpurge::testing {

struct Call {
  std::vector<std::string> argv;
  std::string input;
};

// Acts like postsuper -d - on a set of existing IDs, unless told otherwise.
class ScriptedRunner : public CommandRunner {
 public:
  std::vector<std::string> existing;
  std::vector<Call> calls;
  bool die_after_first = false;      // killed after the first ID it removes
  bool die_silently = false;         // removes every ID it is given, says nothing, then is killed
  std::vector<std::string> removed;  // the IDs it removed
  bool cannot_start = false;
  int exit_status = 0;
  int total_offset = 0;                // added to the true total: a lying "Deleted: N" line
  std::string prefix = "postsuper: ";  // how it names itself on each line
  std::string extra;
  CommandResult run(const std::vector<std::string>& argv, std::string_view input) override {
    calls.push_back({argv, std::string(input)});
    CommandResult r;
    if (cannot_start) {
      r.error = "postsuper: No such file or directory";
      return r;
    }
    r.started = true;
    const ActionInfo* act = &action_info(Action::kDelete);
    for (Action a : {Action::kHold, Action::kRelease, Action::kRequeue, Action::kExpire})
      if (std::find(argv.begin(), argv.end(), action_info(a).flag) != argv.end()) act = &action_info(a);
    int n = 0;
    std::size_t pos = 0;
    while (pos < input.size()) {
      std::size_t nl = input.find('\n', pos);
      std::string id(input.substr(pos, nl - pos));
      pos = nl + 1;
      if (std::find(existing.begin(), existing.end(), id) != existing.end()) {
        removed.push_back(id);
        if (die_silently) continue;
        r.err += prefix + id + ": " + std::string(act->per_id) + "\n";
        ++n;
        if (die_after_first) {
          r.signal = 9;
          return r;
        }
      }
    }
    if (die_silently) {
      r.signal = 9;
      return r;
    }
    r.err += extra;
    n += total_offset;
    if (n > 0)
      r.err += prefix + std::string(act->total) + ": " + std::to_string(n) + " message" + (n == 1 ? "" : "s") + "\n";
    r.exited = true;
    r.exit_status = exit_status;
    return r;
  }
};

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_SCRIPTED_RUNNER_H_
