// SPDX-License-Identifier: MIT
// system.cc - the real System; see system.h.
#include "qpurge/system.h"

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

#include "qpurge/audit.h"
#include "qpurge/run_lock.h"

namespace qpurge {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

class FileAuditSink : public AuditSink {
 public:
  explicit FileAuditSink(const std::string& path) : log_(path) {}
  bool open(std::string& error) { return log_.open(error); }
  bool append(const std::string& line, std::string& error) override { return log_.append(line, error); }

 private:
  AuditLog log_;
};

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Closing the descriptor releases the flock; the holder's record is emptied
// first, so a lock file never names a run that has ended.
class FileRunLock : public RunLock {
 public:
  explicit FileRunLock(int fd) : fd_(fd) {}
  ~FileRunLock() override {
    if (::ftruncate(fd_, 0) != 0) {
      // The next holder rewrites it; nothing to do.
    }
    ::close(fd_);
  }

 private:
  int fd_;
};

// The lock directory, made if missing; refused unless it is a real
// directory of ours that nobody else may write to.
bool lock_directory(std::string& dir, std::string& error) {
  const char* env = std::getenv(kLockDirVariable);
  dir = env && *env ? env : kDefaultLockDir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = errno_text(dir);
    return false;
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    error = errno_text(dir);
    return false;
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    error = dir + ": not a directory of uid " + std::to_string(::geteuid()) + " that only it may write to";
    return false;
  }
  return true;
}

std::string read_holder(int fd) {
  char buf[4096];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool write_holder(int fd, const std::string& record) {
  return ::ftruncate(fd, 0) == 0 &&
         ::pwrite(fd, record.data(), record.size(), 0) == static_cast<ssize_t>(record.size());
}

}  // namespace

unsigned RealSystem::effective_uid() { return ::geteuid(); }

bool RealSystem::can_execute(const std::string& path, std::string& error) {
  if (::access(path.c_str(), X_OK) == 0) return true;
  error = errno_text(path + ": cannot execute");
  return false;
}

bool RealSystem::stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }
bool RealSystem::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

bool RealSystem::confirm(const std::string& question) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) return false;
  std::fprintf(tty, "%s [y/N] ", question.c_str());
  std::fflush(tty);
  char buf[64] = {0};
  bool yes = std::fgets(buf, sizeof buf, tty) && (buf[0] == 'y' || buf[0] == 'Y');
  std::fclose(tty);
  return yes;
}

std::string RealSystem::hostname() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::int64_t RealSystem::now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string RealSystem::user() {
  struct passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : std::to_string(::getuid());
}

std::string RealSystem::sudo_user() {
  const char* sudo = std::getenv("SUDO_USER");
  return sudo ? sudo : "";
}

std::string RealSystem::run_id() {
  static const std::string run = std::to_string(std::time(nullptr)) + "." + std::to_string(::getpid());
  return run;
}

void RealSystem::syslog(const std::string& line) {
  ::openlog("qpurge", LOG_PID, LOG_MAIL);
  ::syslog(LOG_INFO, "%s", line.c_str());
  ::closelog();
}

std::unique_ptr<AuditSink> RealSystem::open_audit_log(const std::string& path, std::string& error) {
  auto sink = std::make_unique<FileAuditSink>(path);
  if (!sink->open(error)) return nullptr;
  return sink;
}

bool RealSystem::read_file(const std::string& path, std::string& text, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    error = errno_text(path);
    return false;
  }
  text.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno_text(path);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

const FileCalls& FileCalls::real() {
  static const FileCalls calls{::fsync, ::rename};
  return calls;
}

namespace {

// The directory that holds `path`, synced so that the rename survives a
// crash. A file system that cannot sync a directory (EINVAL) has nothing to
// sync.
bool sync_directory(const std::string& path, const FileCalls& calls, std::string& error) {
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = errno_text(dir);
    return false;
  }
  bool ok = calls.fsync_fd(fd) == 0 || errno == EINVAL;
  if (!ok) error = errno_text(dir + ": fsync");
  ::close(fd);
  return ok;
}

}  // namespace

// A temporary file beside the target, created exclusively, written, given
// its mode (whatever the umask), synced and renamed over it: a symlink at
// `path` is replaced, never followed, and a reader sees the old file or the
// new one, never part of one.
bool RealSystem::write_file(const std::string& path, const std::string& data, unsigned mode, std::string& error) {
  std::string tmp = path + ".qpurge-" + std::to_string(::getpid()) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    error = errno_text(tmp);
    return false;
  }
  if (!write_all(fd, data) || ::fchmod(fd, static_cast<mode_t>(mode)) != 0 || calls_->fsync_fd(fd) != 0) {
    error = errno_text(tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  ::close(fd);
  if (calls_->rename_path(tmp.c_str(), path.c_str()) != 0) {
    error = errno_text(path);
    ::unlink(tmp.c_str());
    return false;
  }
  return sync_directory(path, *calls_, error);
}

void RealSystem::catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& RealSystem::stop_flag() { return g_stop; }

void RealSystem::sleep_seconds(unsigned seconds) {
  for (unsigned i = 0; i < seconds * 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

std::int64_t RealSystem::monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RealSystem::sleep_us(std::int64_t us) {
  if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

LockAttempt RealSystem::try_lock_queue(const std::string& queue_directory, const std::string& command) {
  LockAttempt a;
  std::string dir;
  if (!lock_directory(dir, a.error)) return a;
  char real[PATH_MAX];
  const bool resolved = ::realpath(queue_directory.c_str(), real) != nullptr;
  a.path = dir + "/" + lock_file_name(resolved ? real : queue_directory);
  int fd = ::open(a.path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    a.error = fd < 0 && errno == ELOOP ? a.path + ": is a symlink; refused"
              : fd < 0                 ? errno_text(a.path)
                                       : a.path + ": not a regular file";
    if (fd >= 0) ::close(fd);
    return a;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    a.busy = errno == EWOULDBLOCK;
    a.error = errno_text(a.path);
    if (a.busy) a.holder = read_holder(fd);
    ::close(fd);
    return a;
  }
  a.lock = std::make_unique<FileRunLock>(fd);
  if (!write_holder(fd, lock_holder_record(::getpid(), command))) {
    // Still locked: only the refusal of a second run is less precise.
  }
  return a;
}

}  // namespace qpurge
