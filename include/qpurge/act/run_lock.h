// SPDX-License-Identifier: MIT
// run_lock.h - one acting run per queue directory.
//
// A run that can change the queue (purge, --apply-plan, --restore) takes an
// exclusive flock(2) on a lock file named for the queue directory before it
// plans, and holds it until it has finished acting, so no two qpurge runs act
// on the same instance from plans that the other makes stale. Dry runs,
// --shape, --save-plan and the archive listings take no lock.
//
// The lock is named for the directory itself, not for a path to it: its
// device and inode (System::directory_id()), so a bind mount, a symlink or
// any other path to the same queue finds the same lock. The lock files live
// in /run/qpurge (made mode 0700 when missing), or in the directory
// QPURGE_LOCK_DIR names; the file for a queue directory on device 2049 with
// inode 1310723 is queue-2049-1310723.lock (lock_file_name(); `stat -c
// 'queue-%d-%i.lock' DIR` prints it). The holder writes its PID, its command
// line and the queue directory as it named it into the file; a run that
// finds the lock taken reads them back and names them in its refusal. The
// locking itself is System::try_lock_queue().
//
// Failure: a lock held by another run is refused at once, or after waiting
// up to --wait seconds; a queue directory that cannot be found, a lock
// directory or file that cannot be made or is not safe (a symlink, not ours)
// is refused too. Either way nothing is locked and the caller changes
// nothing (exit 2).
#ifndef QPURGE_ACT_RUN_LOCK_H_
#define QPURGE_ACT_RUN_LOCK_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/util/system.h"

namespace qpurge {

inline constexpr const char* kDefaultLockDir = "/run/qpurge";
inline constexpr const char* kLockDirVariable = "QPURGE_LOCK_DIR";

// The lock file of a queue directory: "queue-DEVICE-INODE.lock", both in
// decimal, as stat(1) prints them with %d and %i.
std::string lock_file_name(const DirectoryId& queue_directory);

// The command line as one line: argv joined by spaces.
std::string lock_command(const std::vector<std::string>& argv);
// What a holder writes into its lock file: "PID\ncommand\nqueue directory\n"
// (the directory as text output shows it, escaped, so it is one line).
std::string lock_holder_record(long pid, std::string_view command, std::string_view queue_directory);
// "PID 1234: qpurge --sender x --yes", from what a holder wrote.
std::string describe_holder(std::string_view record);
// The queue directory the holder named, "" when it wrote none (an older
// qpurge, or a record cut short).
std::string holder_directory(std::string_view record);

struct LockRequest {
  std::vector<std::string> queue_directories;  // taken sorted, each once
  std::vector<std::string> argv;               // the command line, for the lock file
  unsigned wait_seconds = 0;                   // 0: refuse at once when busy
  // Told once, when a lock is found busy and there is time to wait for it.
  std::function<void(const std::string&)> on_wait;
};

// Takes the lock of every directory of `request` once (two paths to one
// directory are one lock), in the order of their ids (so two runs over
// several instances never wait on each other crosswise, whatever paths they
// came by), waiting up to wait_seconds in all. True with all of them in
// `held`; false with nothing held and `refusal` saying which directory, who
// holds it (and by which path, when it came by another) and that nothing
// changed.
bool take_run_locks(System& system, const LockRequest& request, std::vector<std::unique_ptr<RunLock>>& held,
                    std::string& refusal);

}  // namespace qpurge

#endif  // QPURGE_ACT_RUN_LOCK_H_
