// SPDX-License-Identifier: MIT
// posix_io.cc - see posix_io.h.
#include "qpurge/util/posix_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace qpurge {
namespace {

int real_open_at(int dirfd, const char* name, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::openat(dirfd, name, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}
int real_fstat(int fd, struct stat* st) { return ::fstat(fd, st); }
ssize_t real_write(int fd, const void* data, std::size_t size) { return ::write(fd, data, size); }
int real_fsync(int fd) { return ::fsync(fd); }
int real_rename(const char* from, const char* to) { return ::rename(from, to); }
std::thread real_spawn(std::function<void()> body) { return std::thread(std::move(body)); }

}  // namespace

const SysCalls& SysCalls::real() {
  static const SysCalls calls{real_open_at, real_fstat, real_write, real_fsync, real_rename, real_spawn};
  return calls;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string parent_directory(const std::string& path) {
  std::size_t end = path.find_last_not_of('/');
  if (end == std::string::npos) return "/";
  std::size_t slash = path.rfind('/', end);
  if (slash == std::string::npos) return ".";
  std::size_t dir_end = path.find_last_not_of('/', slash);
  return dir_end == std::string::npos ? "/" : path.substr(0, dir_end + 1);
}

bool write_all(int fd, std::string_view data, std::string& why, const SysCalls& sys) {
  const std::size_t total = data.size();
  while (!data.empty()) {
    ssize_t n = sys.write_fd(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = n < 0 ? std::strerror(errno) : "write wrote nothing";
      if (data.size() != total)
        why += " after " + std::to_string(total - data.size()) + " of " + std::to_string(total) + " bytes";
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool write_all(int fd, std::string_view data) {
  std::string why;
  if (write_all(fd, data, why)) return true;
  if (errno == 0) errno = EIO;
  return false;
}

bool read_fd(int fd, const std::function<bool(const char*, std::size_t)>& sink, std::string& why) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::string("read: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    if (!sink(buf, static_cast<std::size_t>(n))) return false;
  }
}

bool open_regular_at(int dirfd, const std::string& name, const std::string& path, int flags, bool absent_ok, Fd& fd,
                     struct stat& st, std::string& error) {
  fd.reset(::openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) {
    if (absent_ok && errno == ENOENT) return true;
    error = errno == ELOOP ? path + ": is a symbolic link" : sys_error(path);
    return false;
  }
  if (::fstat(fd.get(), &st) != 0) {
    error = sys_error(path + ": fstat");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  return true;
}

bool open_regular(const std::string& path, bool absent_ok, Fd& fd, struct stat& st, std::string& error) {
  return open_regular_at(AT_FDCWD, path, path, kReadOnlySafe, absent_ok, fd, st, error);
}

bool read_open_file(int fd, const struct stat& st, const std::string& path, std::size_t limit, std::string& data,
                    std::string& error) {
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    error = path + ": too large: " + std::to_string(st.st_size) + " bytes";
    return false;
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    error = sys_error(path + ": seek");
    return false;
  }
  data.clear();
  data.reserve(static_cast<std::size_t>(st.st_size));
  std::string why;
  bool grew = false;
  bool ok = read_fd(
      fd,
      [&](const char* p, std::size_t n) {
        data.append(p, n);
        grew = data.size() > limit;
        return !grew;
      },
      why);
  if (!ok) {
    error = grew ? path + ": grew while read" : path + ": " + why;
    return false;
  }
  return true;
}

bool read_whole(const std::string& path, std::size_t limit, std::string& data, std::string& error, struct stat* out) {
  Fd fd;
  struct stat st;
  if (!open_regular(path, false, fd, st, error) || !read_open_file(fd.get(), st, path, limit, data, error))
    return false;
  if (out) *out = st;
  return true;
}

bool sync_fd(int fd, const SysCalls& sys) { return sys.fsync_fd(fd) == 0 || errno == EINVAL || errno == EROFS; }

bool sync_directory(const std::string& dir, std::string& error, const SysCalls& sys) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.ok()) {
    error = sys_error(dir);
    return false;
  }
  if (sync_fd(fd.get(), sys)) return true;
  error = sys_error(dir + ": fsync");
  return false;
}

bool append_record(int fd, const std::string& path, std::string_view record, bool sync, std::string& error,
                   const SysCalls& sys) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = sys_error(path + ": fstat");
    return false;
  }
  const off_t start = st.st_size;
  std::string line;
  if (start > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, start - 1) != 1) {
      error = sys_error(path + ": cannot read its last byte");
      return false;
    }
    if (last != '\n') line += '\n';  // torn earlier: start on a fresh line
  }
  line += record;
  if (line.empty() || line.back() != '\n') line += '\n';
  std::string why;
  if (write_all(fd, line, why, sys)) {
    if (!sync || sync_fd(fd, sys)) return true;
    why = std::string("fsync: ") + std::strerror(errno);
  }
  if (::ftruncate(fd, start) != 0) {
    error = path + ": " + why + "; truncating the partial record away failed too: " + std::strerror(errno);
    return false;
  }
  sync_fd(fd, sys);
  error = path + ": " + why + ": the partial record was rolled back";
  return false;
}

bool replace_file(const std::string& path, std::string_view data, unsigned mode, std::string& error,
                  const SysCalls& sys) {
  return replace_file_owned(path, data, mode, -1, -1, error, sys);
}

bool replace_file_owned(const std::string& path, std::string_view data, unsigned mode, long uid, long gid,
                        std::string& error, const SysCalls& sys) {
  const std::string tmp = path + ".qpurge-" + std::to_string(::getpid()) + ".tmp";
  // One left by a process with this ID that died before its rename: never
  // renamed, so nobody reads it. (A link there is removed, not followed.)
  ::unlink(tmp.c_str());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.ok()) {
    error = sys_error(tmp);
    return false;
  }
  std::string why;
  bool ok = write_all(fd.get(), data, why, sys);
  if (ok && uid >= 0 && ::fchown(fd.get(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) ok = false;
  if (ok && ::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) ok = false;
  if (ok && sys.fsync_fd(fd.get()) != 0) ok = false;
  if (!ok) {
    error = why.empty() ? sys_error(tmp) : tmp + ": " + why;
    fd.reset();
    ::unlink(tmp.c_str());
    return false;
  }
  fd.reset();
  if (sys.rename_path(tmp.c_str(), path.c_str()) != 0) {
    error = sys_error(path);
    ::unlink(tmp.c_str());
    return false;
  }
  return sync_directory(parent_directory(path), error, sys);
}

namespace {

// Owned by root or us; writable by nobody else (a sticky directory above the
// one we trust may be). "" or why not.
std::string untrusted_because(const struct stat& st, bool sticky_ok) {
  const uid_t me = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != me) return "owned by uid " + std::to_string(st.st_uid) + ", not by root";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !(sticky_ok && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)))
    return std::string((st.st_mode & S_IWOTH) ? "writable by everyone" : "writable by its group");
  return {};
}

const char* const kTrustWhy = ": another user could replace what qpurge writes or reads there";

}  // namespace

bool trusted_fd(int fd, const std::string& path, std::string& error) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = sys_error(path);
    return false;
  }
  std::string why = untrusted_because(st, false);
  if (why.empty()) return true;
  error = path + ": " + why + kTrustWhy;
  return false;
}

bool trusted_directory(const std::string& path, std::string& error) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) {
    error = sys_error(path);
    return false;
  }
  const std::string resolved = real;
  std::free(real);
  std::string dir = resolved;
  for (bool leaf = true;; leaf = false) {
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) {
      error = sys_error(dir);
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {
      error = dir + ": not a directory";
      return false;
    }
    if (std::string why = untrusted_because(st, !leaf); !why.empty()) {
      error = dir + (dir == resolved || leaf ? "" : " (above " + path + ")") + ": " + why + kTrustWhy;
      return false;
    }
    if (dir == "/") return true;
    dir = parent_directory(dir);
  }
}

std::string absolute_path(const std::string& path) {
  std::string out = path;
  if (out.empty() || out[0] != '/') {
    char* cwd = ::getcwd(nullptr, 0);
    if (!cwd) return "";
    out = std::string(cwd) + "/" + out;
    std::free(cwd);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool same_path(const std::string& a, const std::string& b) {
  const std::string x = absolute_path(a), y = absolute_path(b);
  if (!x.empty() && x == y) return true;
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace qpurge
