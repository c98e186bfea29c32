// SPDX-License-Identifier: MIT
// real_system.cc - the real System; see real_system.h.
#include "qpurge/app/real_system.h"

#include <fcntl.h>
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

#include "qpurge/act/audit.h"
#include "qpurge/act/journal.h"
#include "qpurge/act/run_lock.h"
#include "qpurge/util/posix_io.h"

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
    error = sys_error(dir);
    return false;
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    error = sys_error(dir);
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
  error = sys_error(path + ": cannot execute");
  return false;
}

bool RealSystem::stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }
bool RealSystem::stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }
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
  // Not read_whole(): "/dev/stdin" (--ids-from -) is a symbolic link, and a pipe.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) {
    error = sys_error(path);
    return false;
  }
  text.clear();
  std::string why;
  if (read_fd(
          fd.get(),
          [&](const char* p, std::size_t n) {
            text.append(p, n);
            return true;
          },
          why))
    return true;
  error = path + ": " + why.substr(why.find(' ') + 1);
  return false;
}

// Atomically (util/posix_io.h): a reader sees the old file or the new one,
// never part of one, and a symlink at `path` is replaced, never followed.
bool RealSystem::write_file(const std::string& path, const std::string& data, unsigned mode, std::string& error) {
  return replace_file(path, data, mode, error, *calls_);
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

bool RealSystem::directory_id(const std::string& path, DirectoryId& id, std::string& error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    error = sys_error(path);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = path + ": not a directory";
    return false;
  }
  id = DirectoryId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  return true;
}

LockAttempt RealSystem::try_lock_queue(const std::string& queue_directory, const DirectoryId& id,
                                       const std::string& command) {
  LockAttempt a;
  std::string dir;
  if (!lock_directory(dir, a.error)) return a;
  a.path = dir + "/" + lock_file_name(id);
  int fd = ::open(a.path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    a.error = fd < 0 && errno == ELOOP ? a.path + ": is a symlink; refused"
              : fd < 0                 ? sys_error(a.path)
                                       : a.path + ": not a regular file";
    if (fd >= 0) ::close(fd);
    return a;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    a.busy = errno == EWOULDBLOCK;
    a.error = sys_error(a.path);
    if (a.busy) a.holder = read_holder(fd);
    ::close(fd);
    return a;
  }
  a.lock = std::make_unique<FileRunLock>(fd);
  if (!write_holder(fd, lock_holder_record(::getpid(), command, queue_directory))) {
    // Still locked: only the refusal of a second run is less precise.
  }
  return a;
}

long RealSystem::process_id() { return static_cast<long>(::getpid()); }

bool RealSystem::process_running(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

std::string RealSystem::journal_directory() { return qpurge::journal_directory(); }

}  // namespace qpurge
