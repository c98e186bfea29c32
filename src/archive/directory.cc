// SPDX-License-Identifier: MIT
// directory.cc - the archive directory; see directory.h.
#include "qpurge/archive/directory.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <vector>

#include "qpurge/util/posix_io.h"

namespace qpurge {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string human_size(std::uint64_t bytes) {
  static const char* const kUnits[] = {"MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / static_cast<double>(kMiB);
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

// mkdir -p, each new directory 0700; `created` gets those made, parents first.
bool make_dirs(const std::string& dir, std::vector<std::string>& created, std::string& error) {
  std::size_t pos = 0;
  for (;;) {
    pos = dir.find('/', pos + 1);
    std::string prefix = dir.substr(0, pos);
    if (!prefix.empty() && prefix != "." && prefix != "..") {
      if (::mkdir(prefix.c_str(), 0700) == 0) {
        created.push_back(prefix);
      } else if (errno != EEXIST) {
        error = sys_error("archive directory " + prefix);
        return false;
      }
    }
    if (pos == std::string::npos) return true;
  }
}

// The canonical path of `path`, which need not exist yet: its nearest
// existing ancestor resolved, the rest appended as written. "" when even
// that cannot be resolved.
std::string resolved(const std::string& path) {
  std::string head = path, tail;
  for (;;) {
    if (char* real = ::realpath(head.c_str(), nullptr)) {
      std::string out = real;
      std::free(real);
      return tail.empty() ? out : (out == "/" ? "" : out) + "/" + tail;
    }
    if (errno != ENOENT || head == "/" || head == ".") return "";
    std::string name = head.substr(0, head.find_last_not_of('/') + 1);
    name = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    tail = tail.empty() ? name : name + "/" + tail;
    head = parent_directory(head);
  }
}

// Whether the archive directory is at or under the queue directory; when
// `must_resolve` and it cannot be resolved, that is an error too.
bool inside_queue(const std::string& archive_dir, const std::string& queue_directory, const std::string& queue_real,
                  bool must_resolve, std::string& error) {
  if (queue_real.empty()) return false;
  std::string archive_real = resolved(archive_dir);
  if (archive_real.empty()) {
    if (must_resolve) error = sys_error("archive directory " + archive_dir);
    return must_resolve;
  }
  if (archive_real != queue_real && !archive_real.starts_with(queue_real + "/")) return false;
  error = "archive directory " + archive_dir + ": inside the queue directory " + queue_directory +
          "; name one outside it with --archive";
  return true;
}

}  // namespace

bool make_archive_directory(const std::string& archive_dir, const std::string& queue_directory, std::string& error) {
  if (archive_dir.empty()) {
    error = "archive directory: empty name";
    return false;
  }
  // Least privilege: nothing is written under the queue directory, where
  // Postfix would take our files for its own. Checked before anything is
  // made, and again once the directory exists (when a path could not be
  // resolved before, it is an error now).
  const std::string queue_real = queue_directory.empty() ? "" : resolved(queue_directory);
  if (inside_queue(archive_dir, queue_directory, queue_real, false, error)) return false;
  std::vector<std::string> created;
  if (!make_dirs(archive_dir, created, error)) return false;
  for (const std::string& dir : created)
    if (!sync_directory(parent_directory(dir), error)) return false;
  if (inside_queue(archive_dir, queue_directory, queue_real, true, error)) return false;
  if (!trusted_directory(archive_dir, error)) {
    error = "archive directory " + archive_dir + ": " + error;
    return false;
  }
  return true;
}

std::uint64_t archive_space_needed(std::uint64_t bytes) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t margin = bytes / 10 + kMiB;
  return bytes > kMax - margin ? kMax : bytes + margin;
}

bool archive_fits(const std::string& archive_dir, std::uint64_t bytes, std::string& error) {
  std::string dir = archive_dir.empty() ? "." : archive_dir;
  struct stat st;
  while (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || dir == "/" || dir == ".") {
      error = sys_error("archive " + archive_dir + ": " + dir);
      return false;
    }
    dir = parent_directory(dir);
  }
  struct statvfs vfs;
  if (::statvfs(dir.c_str(), &vfs) != 0) {
    error = sys_error("archive " + archive_dir + ": statvfs " + dir);
    return false;
  }
  const std::uint64_t avail = vfs.f_bavail, frsize = vfs.f_frsize;
  const std::uint64_t free_bytes = frsize != 0 && avail > std::numeric_limits<std::uint64_t>::max() / frsize
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : avail * frsize;
  const std::uint64_t needed = archive_space_needed(bytes);
  if (needed <= free_bytes) return true;
  error = "archive " + archive_dir + ": " + human_size(needed) + " needed (with a margin), " + human_size(free_bytes) +
          " free on its file system; name another file system with --archive";
  return false;
}

}  // namespace qpurge
