// SPDX-License-Identifier: MIT
// real_system.h - the System of a real run: the terminal, the clock, syslog,
// the audit log, plan and metrics files written atomically, stop signals and
// the run lock's files (act/run_lock.h) in the lock directory.
#ifndef QPURGE_APP_REAL_SYSTEM_H_
#define QPURGE_APP_REAL_SYSTEM_H_

#include "qpurge/util/posix_io.h"
#include "qpurge/util/system.h"

namespace qpurge {

class RealSystem : public System {
 public:
  RealSystem() = default;
  // `calls`: the system calls its file writes make (util/posix_io.h), so
  // tests can watch their order and make them fail.
  explicit RealSystem(const SysCalls& calls) : calls_(&calls) {}
  unsigned effective_uid() override;
  bool can_execute(const std::string& path, std::string& error) override;
  bool stdin_is_terminal() override;
  bool stdout_is_terminal() override;
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
  // stat(2): the device and inode.
  bool directory_id(const std::string& path, DirectoryId& id, std::string& error) override;
  // In QPURGE_LOCK_DIR when it is set, else in /run/qpurge (run_lock.h).
  LockAttempt try_lock_queue(const std::string& queue_directory, const DirectoryId& id,
                             const std::string& command) override;
  long process_id() override;
  bool process_running(long pid) override;
  std::string journal_directory() override;
  const SysCalls& sys_calls() override { return *calls_; }

 private:
  const SysCalls* calls_ = &SysCalls::real();
};

}  // namespace qpurge

#endif  // QPURGE_APP_REAL_SYSTEM_H_
