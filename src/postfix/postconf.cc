// SPDX-License-Identifier: MIT
// postconf.cc - postconf lookups; see postconf.h.
#include "qpurge/postfix/postconf.h"

#include <sys/stat.h>

#include "qpurge/util/text.h"

namespace qpurge {

std::vector<std::string> postfix_argv(const std::string& program, const std::string& config_dir) {
  std::vector<std::string> argv{program};
  if (!config_dir.empty()) {
    argv.push_back("-c");
    argv.push_back(config_dir);
  }
  return argv;
}

bool postconf_value(CommandRunner& runner, const std::string& postconf, const std::string& config_dir,
                    const std::string& parameter, std::string& value, std::string& error) {
  std::vector<std::string> argv = postfix_argv(postconf, config_dir);
  argv.push_back("-h");
  argv.push_back(parameter);
  CommandResult r = runner.run(argv, "");
  if (!r.started) {
    error = "cannot run " + r.error;
    return false;
  }
  if (!r.exited || r.exit_status != 0) {
    std::string_view what = trim_end(r.err);
    error = postconf + " failed" + (what.empty() ? std::string() : ": " + std::string(what));
    return false;
  }
  value = trim_end(r.out, "\r\n ");
  if (value.empty() || value.find('\n') != std::string::npos) {
    error = postconf + ": unexpected output for " + parameter;
    return false;
  }
  return true;
}

bool same_directory(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return S_ISDIR(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace qpurge
