// SPDX-License-Identifier: MIT
// postmulti.h - the Postfix instances of this host, as postmulti lists them.
//
// `postmulti -l` prints "name group enabled config_directory" per instance;
// the default instance is named "-" there and "default" here.
#ifndef QPURGE_POSTFIX_POSTMULTI_H_
#define QPURGE_POSTFIX_POSTMULTI_H_

#include <string>
#include <vector>

#include "qpurge/postfix/process.h"

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

#endif  // QPURGE_POSTFIX_POSTMULTI_H_
