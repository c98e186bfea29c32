// SPDX-License-Identifier: MIT
// run_reader.cc - an archive run opened for reading; see run_reader.h.
#include "qpurge/archive/run_reader.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstdlib>

#include "qpurge/spool/defer_log.h"

namespace qpurge {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// `path` with symbolic links resolved; "" (and `error`) when it cannot be.
std::string resolved_path(const std::string& path, std::string& error) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) {
    error = sys_error(path);
    return {};
  }
  std::string out = real;
  std::free(real);
  return out;
}

}  // namespace

bool RunReader::open(const std::string& run_dir, bool for_append, std::string& error) {
  // "RUN/" as a shell completes it: its files are named "RUN/x", not "RUN//x".
  const std::size_t end = run_dir.find_last_not_of('/');
  run_dir_ = end == std::string::npos ? run_dir : run_dir.substr(0, end + 1);
  manifest_path_ = run_dir_ + "/" + kManifestName;
  return open_directories(error) && open_manifest(for_append, error);
}

// The archive directory and the run directory: trusted by path, then the
// run directory opened below the archive directory and checked by its
// descriptor, so that the directory read is the one checked.
bool RunReader::open_directories(std::string& error) {
  const std::string run = resolved_path(run_dir_, error);
  if (run.empty()) return false;
  if (run == "/") {
    error = run_dir_ + ": not an archive run";
    return false;
  }
  const std::string archive = parent_directory(run);
  const std::string name = run.substr(run.rfind('/') + 1);
  std::string why;
  if (!trusted_directory(archive, why)) {
    error = "archive directory " + archive + ": " + why;
    return false;
  }
  if (!trusted_directory(run, why)) {
    error = "archive run " + run_dir_ + ": " + why;
    return false;
  }
  Fd top(::open(archive.c_str(), kDirFlags));
  if (!top.ok()) {
    error = sys_error("archive directory " + archive);
    return false;
  }
  dir_.reset(::openat(top.get(), name.c_str(), kDirFlags));
  if (!dir_.ok()) {
    error = sys_error("archive run " + run_dir_);
    return false;
  }
  if (!trusted_fd(top.get(), archive, why) || !trusted_fd(dir_.get(), run_dir_, why)) {
    error = "archive run " + run_dir_ + ": " + why;
    return false;
  }
  return true;
}

// The manifest: opened in the run directory, checked, locked, and read
// from the descriptor that holds the lock.
bool RunReader::open_manifest(bool for_append, std::string& error) {
  struct stat st;
  if (!open_regular_at(dir_.get(), kManifestName, manifest_path_, for_append ? O_RDWR | O_APPEND : O_RDONLY, false,
                       manifest_fd_, st, error) ||
      !trusted_fd(manifest_fd_.get(), manifest_path_, error))
    return false;
  if (::flock(manifest_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK
                ? manifest_path_ + ": in use by another qpurge (a purge still writing this run, or a restore of it)"
                : sys_error(manifest_path_ + ": lock");
    return false;
  }
  return read_manifest_file(manifest_fd_.get(), st, manifest_path_, manifest_, error);
}

bool RunReader::read(const std::string& name, std::size_t limit, std::string& data, struct stat& st, bool absent_ok,
                     bool& absent, std::string& error) const {
  absent = false;
  const std::string path = path_of(name);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    error = path + ": not a file name of the run";
    return false;
  }
  Fd fd;
  if (!open_regular_at(dir_.get(), name, path, kReadOnlySafe, absent_ok, fd, st, error)) return false;
  if (!fd.ok()) {
    absent = true;
    return true;
  }
  return trusted_fd(fd.get(), path, error) && read_open_file(fd.get(), st, path, limit, data, error);
}

bool ArchivedDeferLog::read(const std::string&, std::string& text) const {
  struct stat st;
  bool absent = false;
  return run_.read(file_ + ".defer", kMaxDeferLogSize, text, st, true, absent, error) && !absent;
}

}  // namespace qpurge
