// SPDX-License-Identifier: MIT
// fake_system.h - a System for unit tests: every answer set by the test,
// every side effect recorded.
#ifndef QPURGE_TESTS_SUPPORT_FAKE_SYSTEM_H_
#define QPURGE_TESTS_SUPPORT_FAKE_SYSTEM_H_

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "qpurge/util/system.h"

namespace qpurge::testing {

class FakeSystem : public System {
 public:
  unsigned euid = 0;
  bool postsuper_executable = true;
  bool stdin_terminal = false;
  bool answer_yes = false;
  std::vector<std::string> questions;
  std::string host = "mx.test";
  std::string sudo;  // SUDO_USER; "" = not run through sudo
  std::int64_t clock = 1795344810 + 86400;
  std::vector<std::string> syslog_lines;
  std::vector<std::string> audit_lines;
  bool audit_open_fails = false;
  int audit_appends_before_failure = -1;  // -1: never fails
  std::map<std::string, std::string> files;
  std::map<std::string, unsigned> file_modes;  // what write_file() was asked for
  bool write_fails = false;
  std::atomic<bool> stop{false};
  bool stop_signals_caught = false;
  std::vector<unsigned> sleeps;
  std::int64_t mono_us = 5000000;  // advanced by sleep_us() alone
  std::vector<std::int64_t> sleeps_us;
  // Run locks: a queue directory in `busy` is held by another run for
  // `busy_tries` more tries (-1: for ever); `lock_error` makes every try fail.
  // The id of a directory is dir_ids[path]; a path not there gets a new
  // inode on device 1 the first time it is asked for (so paths first asked
  // for in sorted order have ids in that order); one in missing_dirs has none.
  std::map<std::string, DirectoryId> dir_ids;
  std::set<std::string> missing_dirs;
  std::uint64_t next_inode = 100;
  std::set<std::string> busy;
  int busy_tries = -1;
  std::string busy_holder = "4242\nqpurge --all --yes\n";
  std::string lock_error;
  std::vector<std::string> lock_tries;  // queue directories, in the order tried
  std::vector<std::string> locked;      // taken, in order
  std::string lock_command;             // what the last holder wrote
  int locks_held = 0;

  unsigned effective_uid() override { return euid; }
  bool can_execute(const std::string& path, std::string& error) override {
    if (postsuper_executable) return true;
    error = path + ": cannot execute: No such file or directory";
    return false;
  }
  bool stdin_is_terminal() override { return stdin_terminal; }
  bool stdout_is_terminal() override { return false; }
  bool stderr_is_terminal() override { return false; }
  bool confirm(const std::string& question) override {
    questions.push_back(question);
    return answer_yes;
  }
  std::string hostname() override { return host; }
  std::int64_t now() override { return clock; }
  std::string user() override { return "root"; }
  std::string sudo_user() override { return sudo; }
  std::string run = "1.2";  // what run_id() says: a test running twice changes it, as a new process would
  std::string run_id() override { return run; }
  void syslog(const std::string& line) override { syslog_lines.push_back(line); }
  std::unique_ptr<AuditSink> open_audit_log(const std::string& path, std::string& error) override {
    if (audit_open_fails) {
      error = "audit log " + path + ": Permission denied";
      return nullptr;
    }
    return std::make_unique<Sink>(*this);
  }
  bool read_file(const std::string& path, std::string& text, std::string& error) override {
    auto it = files.find(path);
    if (it == files.end()) {
      error = path + ": No such file or directory";
      return false;
    }
    text = it->second;
    return true;
  }
  bool write_file(const std::string& path, const std::string& data, unsigned mode, std::string& error) override {
    if (write_fails) {
      error = path + ": No space left on device";
      return false;
    }
    files[path] = data;
    file_modes[path] = mode;
    return true;
  }
  void catch_stop_signals() override { stop_signals_caught = true; }
  const std::atomic<bool>& stop_flag() override { return stop; }
  void sleep_seconds(unsigned s) override { sleeps.push_back(s); }
  std::int64_t monotonic_us() override { return mono_us; }
  void sleep_us(std::int64_t us) override {
    sleeps_us.push_back(us);
    mono_us += us;
  }
  long process_id() override { return 4242; }
  std::set<long> running;  // the processes process_running() says are there
  bool process_running(long pid) override { return running.count(pid) > 0; }
  // A directory of its own, made on first use and removed with the fake.
  std::string journal_directory() override {
    if (journal_dir_.empty()) {
      char tmpl[] = "/tmp/qpurge-state-XXXXXX";
      journal_dir_ = std::string(::mkdtemp(tmpl)) + "/journal";
    }
    return journal_dir_;
  }
  const SysCalls& sys_calls() override { return *calls; }
  const SysCalls* calls = &SysCalls::real();  // a test's, to make writes fail or to kill the run at one
  ~FakeSystem() override {
    if (!journal_dir_.empty()) std::filesystem::remove_all(std::filesystem::path(journal_dir_).parent_path());
  }
  bool directory_id(const std::string& path, DirectoryId& id, std::string& error) override {
    if (missing_dirs.count(path)) {
      error = path + ": No such file or directory";
      return false;
    }
    auto [it, added] = dir_ids.try_emplace(path, DirectoryId{1, next_inode});
    next_inode += added;
    id = it->second;
    return true;
  }
  // The lock file try_lock_queue() names for `dir` (an id is assigned if it
  // has none yet: ask after the run, or in the order the run would).
  std::string lock_path(const std::string& dir) {
    DirectoryId id;
    std::string error;
    directory_id(dir, id, error);
    return lock_path(id);
  }
  static std::string lock_path(const DirectoryId& id) {
    return "/run/qpurge/queue-" + std::to_string(id.device) + "-" + std::to_string(id.inode) + ".lock";
  }
  LockAttempt try_lock_queue(const std::string& dir, const DirectoryId& id, const std::string& command) override {
    lock_tries.push_back(dir);
    LockAttempt a;
    a.path = lock_path(id);
    if (!lock_error.empty()) {
      a.error = lock_error;
      return a;
    }
    if (busy.count(dir) && busy_tries != 0) {
      if (busy_tries > 0) --busy_tries;
      a.busy = true;
      a.holder = busy_holder;
      return a;
    }
    locked.push_back(dir);
    lock_command = command;
    a.lock = std::make_unique<Lock>(*this);
    return a;
  }

 private:
  std::string journal_dir_;
  class Lock : public RunLock {
   public:
    explicit Lock(FakeSystem& s) : s_(s) { ++s_.locks_held; }
    ~Lock() override { --s_.locks_held; }

   private:
    FakeSystem& s_;
  };
  class Sink : public AuditSink {
   public:
    explicit Sink(FakeSystem& s) : s_(s) {}
    bool append(const std::string& line, std::string& error) override {
      if (s_.audit_appends_before_failure == 0) {
        error = "audit log: No space left on device (the partial record was rolled back)";
        return false;
      }
      if (s_.audit_appends_before_failure > 0) --s_.audit_appends_before_failure;
      s_.audit_lines.push_back(line);
      return true;
    }

   private:
    FakeSystem& s_;
  };
};

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_FAKE_SYSTEM_H_
