// SPDX-License-Identifier: MIT
// run_lock.h - one acting run per queue directory.
//
// A run that can change the queue (purge, --apply-plan, --restore) takes an
// exclusive flock(2) on a lock file named for the queue directory before it
// plans, and holds it until it has finished acting, so no two qpurge runs act
// on the same instance from plans that the other makes stale. Dry runs,
// --shape, --save-plan and the archive listings take no lock.
//
// The lock files live in /run/qpurge (made mode 0700 when missing), or in
// the directory QPURGE_LOCK_DIR names; the file for /var/spool/postfix is
// var-spool-postfix.lock (lock_file_name()). The holder writes its PID and
// command line into it; a run that finds the lock taken reads them back and
// names them in its refusal. The locking itself is System::try_lock_queue().
//
// Failure: a lock held by another run is refused at once, or after waiting
// up to --wait seconds; a lock directory or file that cannot be made or is
// not safe (a symlink, not ours) is refused too. Either way nothing is
// locked and the caller changes nothing (exit 2).
#ifndef QPURGE_RUN_LOCK_H_
#define QPURGE_RUN_LOCK_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/system.h"

namespace qpurge {

inline constexpr const char* kDefaultLockDir = "/run/qpurge";
inline constexpr const char* kLockDirVariable = "QPURGE_LOCK_DIR";

// The queue directory as one file name: "/" between components becomes
// "-", and every byte other than a letter, digit, "_" or a "." that does
// not lead is written %XX ("-" too), so two directories never share a name.
// Very long names are cut and end in a hash of the whole directory.
std::string lock_file_name(std::string_view queue_directory);

// The command line as one line: argv joined by spaces.
std::string lock_command(const std::vector<std::string>& argv);
// What a holder writes into its lock file: "PID\ncommand\n".
std::string lock_holder_record(long pid, std::string_view command);
// "PID 1234: qpurge --sender x --yes", from what a holder wrote.
std::string describe_holder(std::string_view record);

struct LockRequest {
  std::vector<std::string> queue_directories;  // taken sorted, each once
  std::vector<std::string> argv;               // the command line, for the lock file
  unsigned wait_seconds = 0;                   // 0: refuse at once when busy
  // Told once, when a lock is found busy and there is time to wait for it.
  std::function<void(const std::string&)> on_wait;
};

// Takes every lock of `request` in sorted order (so two runs over several
// instances never wait on each other crosswise), waiting up to
// wait_seconds in all. True with all of them in `held`; false with nothing
// held and `refusal` saying which directory, who holds it and that nothing
// changed.
bool take_run_locks(System& system, const LockRequest& request, std::vector<std::unique_ptr<RunLock>>& held,
                    std::string& refusal);

}  // namespace qpurge

#endif  // QPURGE_RUN_LOCK_H_
