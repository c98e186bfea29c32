// SPDX-License-Identifier: MIT
// system.h - every side effect of a run, behind one interface.
//
// The engine (purge.h, via_hold.h) asks System for who runs it, whether a
// program can be executed, whether there is a terminal and what the operator
// answers, the host name and the clock, and it writes syslog, the audit log
// and plan files through it, and takes the run lock of a queue directory
// (run_lock.h) through it. RealSystem does it for real; tests use a fake
// (tests/support/fake_system.h) to drive every destructive decision without a
// Postfix instance. Processes go through CommandRunner (process.h).
#ifndef QPURGE_SYSTEM_H_
#define QPURGE_SYSTEM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace qpurge {

// An append-only log of JSON Lines records. append() writes the whole line
// or nothing (a short write is rolled back) and syncs it.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual bool append(const std::string& line, std::string& error) = 0;
};

// A lock on one queue directory, held until it is destroyed.
class RunLock {
 public:
  virtual ~RunLock() = default;
};

// One try at a queue directory's run lock: taken (`lock`), held by another
// process (`busy`, with what the holder wrote about itself, "PID\ncommand
// line\n", possibly empty or cut), or neither (`error`: the lock file could
// not be made or opened). `path` is the lock file.
struct LockAttempt {
  std::unique_ptr<RunLock> lock;
  bool busy = false;
  std::string holder;
  std::string error;
  std::string path;
};

class System {
 public:
  virtual ~System() = default;
  virtual unsigned effective_uid() = 0;
  // False with `error` ("PATH: cannot execute: why") when it cannot.
  virtual bool can_execute(const std::string& path, std::string& error) = 0;
  virtual bool stdin_is_terminal() = 0;
  virtual bool stderr_is_terminal() = 0;
  // Asks on the terminal; false when there is none or the answer is not yes.
  virtual bool confirm(const std::string& question) = 0;
  virtual std::string hostname() = 0;
  virtual std::int64_t now() = 0;
  virtual std::string user() = 0;       // who runs qpurge (login name of the real uid)
  virtual std::string sudo_user() = 0;  // SUDO_USER, or ""
  virtual std::string run_id() = 0;     // the same for every record of one run
  virtual void syslog(const std::string& line) = 0;
  virtual std::unique_ptr<AuditSink> open_audit_log(const std::string& path, std::string& error) = 0;
  virtual bool read_file(const std::string& path, std::string& text, std::string& error) = 0;
  // Writes a new file or replaces one atomically, with permissions `mode`
  // (0600 for plans, 0644 for metrics a collector reads): a temporary file
  // beside it, synced, renamed over it, and the directory synced. Never
  // follows a symlink; on failure the old file is untouched and the
  // temporary file is removed.
  virtual bool write_file(const std::string& path, const std::string& data, unsigned mode, std::string& error) = 0;
  // From here on SIGINT and SIGTERM set stop_flag() instead of killing.
  virtual void catch_stop_signals() = 0;
  virtual const std::atomic<bool>& stop_flag() = 0;
  virtual void sleep_seconds(unsigned seconds) = 0;
  // A clock that only goes forward, in microseconds, and a sleep on it
  // (--rate, --wait); the sleep is not cut short by a stop request.
  virtual std::int64_t monotonic_us() = 0;
  virtual void sleep_us(std::int64_t us) = 0;
  // Tries once, without waiting, to take the exclusive lock of the queue
  // directory and, when taken, writes this process's PID and `command` into
  // the lock file for the next one to read.
  virtual LockAttempt try_lock_queue(const std::string& queue_directory, const std::string& command) = 0;
};

// The system calls RealSystem::write_file() makes after writing, so tests
// can watch their order and make them fail.
struct FileCalls {
  int (*fsync_fd)(int fd) = nullptr;
  int (*rename_path)(const char* from, const char* to) = nullptr;
  static const FileCalls& real();
};

class RealSystem : public System {
 public:
  RealSystem() = default;
  explicit RealSystem(const FileCalls& calls) : calls_(&calls) {}
  unsigned effective_uid() override;
  bool can_execute(const std::string& path, std::string& error) override;
  bool stdin_is_terminal() override;
  bool stderr_is_terminal() override;
  bool confirm(const std::string& question) override;
  std::string hostname() override;
  std::int64_t now() override;
  std::string user() override;
  std::string sudo_user() override;
  std::string run_id() override;
  void syslog(const std::string& line) override;
  std::unique_ptr<AuditSink> open_audit_log(const std::string& path, std::string& error) override;
  bool read_file(const std::string& path, std::string& text, std::string& error) override;
  bool write_file(const std::string& path, const std::string& data, unsigned mode, std::string& error) override;
  void catch_stop_signals() override;
  const std::atomic<bool>& stop_flag() override;
  void sleep_seconds(unsigned seconds) override;
  std::int64_t monotonic_us() override;
  void sleep_us(std::int64_t us) override;
  // In QPURGE_LOCK_DIR when it is set, else in /run/qpurge (run_lock.h).
  LockAttempt try_lock_queue(const std::string& queue_directory, const std::string& command) override;

 private:
  const FileCalls* calls_ = &FileCalls::real();
};

// Writes all of `data` to `fd`, retrying short and interrupted writes; false
// (errno set) when a write fails or writes nothing.
bool write_all(int fd, std::string_view data);

}  // namespace qpurge

#endif  // QPURGE_SYSTEM_H_
