// SPDX-License-Identifier: MIT
// postmulti.cc - postmulti -l; see postmulti.h.
#include "qpurge/postfix/postmulti.h"

#include <sstream>

#include "qpurge/util/text.h"

namespace qpurge {

bool list_instances(CommandRunner& runner, const std::string& postmulti, std::vector<InstanceInfo>& out,
                    std::string& error) {
  CommandResult r = runner.run({postmulti, "-l"}, "");
  if (!r.started) {
    error = "postmulti is not available: " + r.error;
    return false;
  }
  if (!r.exited || r.exit_status != 0 || r.out.empty()) {
    const std::string why(trim_end(r.err, "\n"));
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

}  // namespace qpurge
