// SPDX-License-Identifier: MIT
// postconf.h - what qpurge asks Postfix about its configuration.
//
// The queue directory comes from `postconf [-c DIR] -h queue_directory`,
// as every Postfix tool reads it; -c names the configuration directory of
// the instance (default: Postfix's own default, /etc/postfix).
#ifndef QPURGE_POSTFIX_POSTCONF_H_
#define QPURGE_POSTFIX_POSTCONF_H_

#include <string>
#include <vector>

#include "qpurge/postfix/process.h"

namespace qpurge {

inline constexpr const char* kDefaultPostconf = "/usr/sbin/postconf";
inline constexpr const char* kDefaultPostsuper = "/usr/sbin/postsuper";

// {program} or {program, "-c", config_dir}: how every Postfix command qpurge
// runs (postconf, postsuper) is told which instance to work on.
std::vector<std::string> postfix_argv(const std::string& program, const std::string& config_dir);

// Returns the value of one main.cf parameter (postconf -h), or false with
// `error` set ("postconf: ..." with what postconf said).
bool postconf_value(CommandRunner& runner, const std::string& postconf, const std::string& config_dir,
                    const std::string& parameter, std::string& value, std::string& error);

// True when both paths name the same existing directory.
bool same_directory(const std::string& a, const std::string& b);

}  // namespace qpurge

#endif  // QPURGE_POSTFIX_POSTCONF_H_
