// SPDX-License-Identifier: MIT
// instances.h - the Postfix instances of this host, as postmulti lists them.
//
// `postmulti -l` prints "name group enabled config_directory" per instance;
// the default instance is named "-" there and "default" here.
#ifndef QPURGE_INSTANCES_H_
#define QPURGE_INSTANCES_H_

#include <string>
#include <vector>

#include "qpurge/process.h"

namespace qpurge {

struct InstanceInfo {
  std::string name;
  std::string config_dir;
  bool enabled = true;
};

// False with `error` when postmulti cannot be run, is not set up, or lists
// no instance.
bool list_instances(CommandRunner& runner, const std::string& postmulti, std::vector<InstanceInfo>& out,
                    std::string& error);

}  // namespace qpurge

#endif  // QPURGE_INSTANCES_H_
