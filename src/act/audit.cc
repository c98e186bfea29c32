// SPDX-License-Identifier: MIT
// audit.cc - audit log and syslog; see audit.h.
#include "qpurge/act/audit.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "qpurge/util/posix_io.h"

namespace qpurge {

namespace {

// Holds an exclusive flock for the life of one append.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::flock(fd_, LOCK_UN); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

AuditLog::AuditLog(std::string path, const SysCalls& sys) : path_(std::move(path)), sys_(&sys) {}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

bool AuditLog::open(std::string& error) {
  std::size_t slash = path_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path_.substr(0, slash);
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      error = "audit log directory " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd_ < 0) {
    error = "audit log " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool AuditLog::append(const std::string& json_line, std::string& error) {
  if (fd_ < 0) {
    error = "audit log " + path_ + ": not open";
    return false;
  }
  FileLock lock(fd_);
  if (append_record(fd_, "audit log " + path_, json_line, true, error, *sys_)) return true;
  return false;
}

}  // namespace qpurge
