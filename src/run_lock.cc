// SPDX-License-Identifier: MIT
// run_lock.cc - naming run locks and taking them in order; see run_lock.h.
#include "qpurge/run_lock.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>

namespace qpurge {
namespace {

constexpr std::size_t kMaxNameBytes = 200;              // well below NAME_MAX
constexpr std::int64_t kPollMicroseconds = 100 * 1000;  // between tries while waiting
constexpr std::size_t kMaxCommandShown = 1000;

bool plain(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || (c == '.' && !first);
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string refusal_for(const std::string& dir, const LockAttempt& a, unsigned waited) {
  if (!a.busy)
    return "cannot take the run lock of " + dir + ": " + a.error +
           "; nothing changed (QPURGE_LOCK_DIR names another lock directory)";
  std::string s = "another qpurge is acting on " + dir + " (" + describe_holder(a.holder) + "; lock file " + a.path +
                  "); nothing changed";
  if (waited) return s + " after waiting " + std::to_string(waited) + " s for it";
  return s + " (--wait SECONDS waits for it)";
}

}  // namespace

std::string lock_file_name(std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  std::string_view rest = dir;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  std::string name;
  for (char c : rest) {
    if (c == '/') {
      name += '-';
    } else if (plain(c, name.empty())) {
      name += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      name += buf;
    }
  }
  if (name.empty()) name.push_back('-');  // the root directory
  if (name.size() > kMaxNameBytes) {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a
    for (char c : dir) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    name = name.substr(0, kMaxNameBytes - 17) + "~" + hex64(h);
  }
  return name + ".lock";
}

std::string lock_command(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const std::string& a : argv) {
    if (!cmd.empty()) cmd += ' ';
    cmd += a;
  }
  std::replace(cmd.begin(), cmd.end(), '\n', ' ');
  return cmd;
}

std::string lock_holder_record(long pid, std::string_view command) {
  return std::to_string(pid) + "\n" + std::string(command) + "\n";
}

std::string describe_holder(std::string_view record) {
  std::size_t nl = record.find('\n');
  std::string_view pid = record.substr(0, nl);
  if (pid.empty() || pid.size() > 19 || pid.find_first_not_of("0123456789") != std::string_view::npos)
    return "PID unknown: its lock file names no holder yet";
  std::string_view cmd = nl == std::string_view::npos ? std::string_view() : record.substr(nl + 1);
  cmd = cmd.substr(0, std::min(cmd.find('\n'), kMaxCommandShown));
  std::string s = "PID ";
  s += pid;
  if (!cmd.empty()) s.append(": ").append(cmd);
  return s;
}

bool take_run_locks(System& sys, const LockRequest& req, std::vector<std::unique_ptr<RunLock>>& held,
                    std::string& refusal) {
  held.clear();
  const std::set<std::string> dirs(req.queue_directories.begin(), req.queue_directories.end());
  const std::string command = lock_command(req.argv);
  const std::int64_t start = sys.monotonic_us();
  const std::int64_t deadline = start + static_cast<std::int64_t>(req.wait_seconds) * 1000000;
  bool told = false;
  for (const std::string& dir : dirs) {
    for (;;) {
      LockAttempt a = sys.try_lock_queue(dir, command);
      if (a.lock) {
        held.push_back(std::move(a.lock));
        break;
      }
      const std::int64_t now = sys.monotonic_us();
      if (!a.busy || now >= deadline) {
        held.clear();  // nothing stays locked by a run that does not act
        refusal = refusal_for(dir, a, req.wait_seconds);
        return false;
      }
      if (!told && req.on_wait)
        req.on_wait("waiting up to " + std::to_string(req.wait_seconds) + " s for another qpurge acting on " + dir +
                    " (" + describe_holder(a.holder) + ")");
      told = true;
      sys.sleep_us(std::min(kPollMicroseconds, deadline - now));
    }
  }
  return true;
}

}  // namespace qpurge
