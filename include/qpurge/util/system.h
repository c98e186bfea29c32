// SPDX-License-Identifier: MIT
// system.h - every side effect of a run, behind one interface.
//
// The engine (purge.h, via_hold.h) asks System for who runs it, whether a
// program can be executed, whether there is a terminal and what the operator
// answers, the host name and the clock, and it writes syslog, the audit log
// and plan files through it, and takes the run lock of a queue directory
// (run_lock.h) through it. RealSystem does it for real; tests use a fake
// (tests/support/fake_system.h; the real one is app/real_system.h) to drive every destructive decision without a
// Postfix instance. Processes go through CommandRunner (process.h).
#ifndef QPURGE_UTIL_SYSTEM_H_
#define QPURGE_UTIL_SYSTEM_H_

#include <atomic>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "qpurge/util/posix_io.h"

namespace qpurge {

// An append-only log of JSON Lines records. append() writes the whole line
// or nothing (a short write is rolled back) and syncs it.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual bool append(const std::string& line, std::string& error) = 0;
};

// A directory as the kernel knows it: the device of its file system and its
// inode. Two paths name the same directory (a bind mount, a symlink, "..")
// exactly when their ids are equal.
struct DirectoryId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  auto operator<=>(const DirectoryId&) const = default;
};

// A lock on one queue directory, held until it is destroyed.
class RunLock {
 public:
  virtual ~RunLock() = default;
};

// One try at a queue directory's run lock: taken (`lock`), held by another
// process (`busy`, with what the holder wrote about itself, "PID\ncommand
// line\nqueue directory\n", possibly empty or cut), or neither (`error`: the
// lock file could not be made or opened). `path` is the lock file.
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
  virtual bool stdout_is_terminal() = 0;
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
  // The id of the directory `path` names (symlinks followed); false with
  // `error` ("PATH: why") when it cannot be found or is not a directory.
  virtual bool directory_id(const std::string& path, DirectoryId& id, std::string& error) = 0;
  // Tries once, without waiting, to take the exclusive lock of the queue
  // directory whose id is `id` (named for the id, run_lock.h) and, when
  // taken, writes this process's PID, `command` and `queue_directory` into
  // the lock file for the next one to read.
  virtual LockAttempt try_lock_queue(const std::string& queue_directory, const DirectoryId& id,
                                     const std::string& command) = 0;
  // This process's ID, for a journal's header (act/journal.h), and whether
  // a process with a given ID is running (a dry run, which takes no lock,
  // tells a live run's journal from a dead one's by it).
  virtual long process_id() = 0;
  virtual bool process_running(long pid) = 0;
  // Where the journals of acting runs live: $QPURGE_STATE_DIR/journal, by
  // default /var/lib/qpurge/journal.
  virtual std::string journal_directory() = 0;
  // The system calls the archive, the journal and the restore make when they
  // write (util/posix_io.h): the real ones, or a test's.
  virtual const SysCalls& sys_calls() = 0;
};

}  // namespace qpurge

#endif  // QPURGE_UTIL_SYSTEM_H_
