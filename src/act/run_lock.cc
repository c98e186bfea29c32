// SPDX-License-Identifier: MIT
// run_lock.cc - naming run locks and taking them in order; see run_lock.h.
#include "qpurge/act/run_lock.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "qpurge/util/escape.h"

namespace qpurge {
namespace {

constexpr std::int64_t kPollMicroseconds = 100 * 1000;  // between tries while waiting
constexpr std::size_t kMaxCommandShown = 1000;

// The lines of a holder's record: PID, command line, queue directory.
std::vector<std::string_view> record_lines(std::string_view record) {
  std::vector<std::string_view> lines;
  while (!record.empty() && lines.size() < 3) {
    std::size_t nl = record.find('\n');
    lines.push_back(record.substr(0, nl));
    record = nl == std::string_view::npos ? std::string_view() : record.substr(nl + 1);
  }
  return lines;
}

// "DIR (PID 1234: command", with ", the same directory as OTHER" after DIR
// when the holder came by another path.
std::string holder_text(const std::string& dir, const std::string& holder) {
  std::string s = dir;
  const std::string theirs = holder_directory(holder);
  if (!theirs.empty() && theirs != text_escaped(dir)) s += ", the same directory as " + theirs;
  return s + " (" + describe_holder(holder);
}

std::string refusal_for(const std::string& dir, const LockAttempt& a, unsigned waited) {
  if (!a.busy)
    return "cannot take the run lock of " + dir + ": " + a.error +
           "; nothing changed (QPURGE_LOCK_DIR names another lock directory)";
  std::string s =
      "another qpurge is acting on " + holder_text(dir, a.holder) + "; lock file " + a.path + "); nothing changed";
  if (waited) return s + " after waiting " + std::to_string(waited) + " s for it";
  return s + " (--wait SECONDS waits for it)";
}

struct Target {
  DirectoryId id;
  std::string dir;  // the first path to it, in sorted order
};

// Each directory once, in the order of their ids; false with `refusal`
// when one cannot be found.
bool identify(System& sys, const std::vector<std::string>& dirs, std::vector<Target>& out, std::string& refusal) {
  out.clear();
  for (const std::string& dir : std::set<std::string>(dirs.begin(), dirs.end())) {
    Target t{{}, dir};
    std::string error;
    if (!sys.directory_id(dir, t.id, error)) {
      refusal = "cannot take the run lock of " + dir + ": " + error + "; nothing changed";
      return false;
    }
    out.push_back(std::move(t));
  }
  std::stable_sort(out.begin(), out.end(), [](const Target& a, const Target& b) { return a.id < b.id; });
  out.erase(std::unique(out.begin(), out.end(), [](const Target& a, const Target& b) { return a.id == b.id; }),
            out.end());
  return true;
}

}  // namespace

std::string lock_file_name(const DirectoryId& id) {
  return "queue-" + std::to_string(id.device) + "-" + std::to_string(id.inode) + ".lock";
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

std::string lock_holder_record(long pid, std::string_view command, std::string_view queue_directory) {
  return std::to_string(pid) + "\n" + std::string(command) + "\n" + text_escaped(queue_directory) + "\n";
}

std::string describe_holder(std::string_view record) {
  const std::vector<std::string_view> lines = record_lines(record);
  std::string_view pid = lines.empty() ? std::string_view() : lines[0];
  if (pid.empty() || pid.size() > 19 || pid.find_first_not_of("0123456789") != std::string_view::npos)
    return "PID unknown: its lock file names no holder yet";
  std::string_view cmd = lines.size() > 1 ? lines[1] : std::string_view();
  cmd = cmd.substr(0, kMaxCommandShown);
  std::string s = "PID ";
  s += pid;
  if (!cmd.empty()) s.append(": ").append(cmd);
  return s;
}

std::string holder_directory(std::string_view record) {
  const std::vector<std::string_view> lines = record_lines(record);
  // Only a whole line: a record cut inside it names no directory.
  if (lines.size() < 3 || record.back() != '\n') return "";
  return std::string(lines[2].substr(0, kMaxCommandShown));
}

bool take_run_locks(System& sys, const LockRequest& req, std::vector<std::unique_ptr<RunLock>>& held,
                    std::string& refusal) {
  held.clear();
  std::vector<Target> targets;
  if (!identify(sys, req.queue_directories, targets, refusal)) return false;
  const std::string command = lock_command(req.argv);
  const std::int64_t start = sys.monotonic_us();
  const std::int64_t deadline = start + static_cast<std::int64_t>(req.wait_seconds) * 1000000;
  bool told = false;
  for (const Target& t : targets) {
    for (;;) {
      LockAttempt a = sys.try_lock_queue(t.dir, t.id, command);
      if (a.lock) {
        held.push_back(std::move(a.lock));
        break;
      }
      const std::int64_t now = sys.monotonic_us();
      if (!a.busy || now >= deadline) {
        held.clear();  // nothing stays locked by a run that does not act
        refusal = refusal_for(t.dir, a, req.wait_seconds);
        return false;
      }
      if (!told && req.on_wait)
        req.on_wait("waiting up to " + std::to_string(req.wait_seconds) + " s for another qpurge acting on " +
                    holder_text(t.dir, a.holder) + ")");
      told = true;
      sys.sleep_us(std::min(kPollMicroseconds, deadline - now));
    }
  }
  return true;
}

}  // namespace qpurge
