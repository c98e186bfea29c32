// SPDX-License-Identifier: MIT
// audit.cc - audit log and syslog; see audit.h.
#include "qpurge/audit.h"

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

#include "qpurge/escape.h"

namespace qpurge {

namespace {

ssize_t real_write(int fd, const void* data, std::size_t size) { return ::write(fd, data, size); }

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

AuditLog::AuditLog(std::string path, WriteFn write) : path_(std::move(path)), write_(write ? write : real_write) {}

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
  const std::string where = "audit log " + path_ + ": ";
  if (fd_ < 0) {
    error = where + "not open";
    return false;
  }
  FileLock lock(fd_);
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    error = where + "fstat: " + std::strerror(errno);
    return false;
  }
  const off_t start = st.st_size;
  std::string record;
  record.reserve(json_line.size() + 2);
  if (start > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, start - 1) != 1) {
      error = where + "cannot read its last byte: " + std::strerror(errno);
      return false;
    }
    if (last != '\n') record += '\n';  // torn earlier: start on a fresh line
  }
  record += json_line;
  if (record.empty() || record.back() != '\n') record += '\n';

  ssize_t n;
  do {
    n = write_(fd_, record.data(), record.size());
  } while (n < 0 && errno == EINTR);
  std::string why;
  if (n < 0)
    why = std::strerror(errno);
  else if (static_cast<std::size_t>(n) != record.size())
    why = "short write (" + std::to_string(n) + " of " + std::to_string(record.size()) + " bytes)";
  else if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS)
    why = std::string("fsync: ") + std::strerror(errno);
  if (why.empty()) return true;
  if (::ftruncate(fd_, start) != 0) {
    error = where + why + "; truncating the partial record away failed too: " + std::strerror(errno);
    return false;
  }
  ::fsync(fd_);
  error = where + why + ": the partial record was rolled back";
  return false;
}

}  // namespace qpurge
