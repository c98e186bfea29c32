// SPDX-License-Identifier: MIT
// archived_run.h - an archive run as the writer leaves it (its records
// built by archive/manifest.h), and a postsuper -s that renames files as
// the real one does; for the tests of restoring, recovering and reading
// runs.
#ifndef QPURGE_TESTS_SUPPORT_ARCHIVED_RUN_H_
#define QPURGE_TESTS_SUPPORT_ARCHIVED_RUN_H_

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "qpurge/archive/manifest.h"
#include "qpurge/postfix/process.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/sha256.h"
#include "support/files.h"
#include "support/queue_writer.h"

namespace qpurge::testing {

// Acts like `postsuper -s` on the message queues of one spool: a file whose
// name is a queue ID with an inode part that is not its inode is renamed to
// the first five characters of its name and its inode in upper-case hex.
// Other names are left alone ("bogus file name").
class FakePostsuper : public CommandRunner {
 public:
  explicit FakePostsuper(std::string queue_dir) : queue_dir_(std::move(queue_dir)) {}
  std::vector<std::vector<std::string>> calls;
  int exit_status = 0;
  int renamed = 0;
  CommandResult run(const std::vector<std::string>& argv, std::string_view) override {
    namespace fs = std::filesystem;
    calls.push_back(argv);
    CommandResult r;
    r.started = true;
    r.exited = true;
    r.exit_status = exit_status;
    if (exit_status != 0) {
      r.err = "postsuper: fatal: chdir /nowhere: No such file or directory\n";
      return r;
    }
    for (const char* q : {"incoming", "deferred", "hold"})
      for (const auto& e : fs::recursive_directory_iterator(queue_dir_ + "/" + q)) {
        if (!e.is_regular_file()) continue;
        std::string name = e.path().filename().string();
        if (!queue_id_ok(name) || name.size() <= 5) continue;
        struct stat st;
        ::stat(e.path().c_str(), &st);
        char hex[32];
        std::snprintf(hex, sizeof hex, "%lX", static_cast<unsigned long>(st.st_ino));
        std::string wanted = name.substr(0, 5) + hex;
        if (wanted != name) {
          fs::rename(e.path(), e.path().parent_path() / wanted);
          ++renamed;
        }
      }
    if (renamed) r.err = "postsuper: Renamed to match inode number: " + std::to_string(renamed) + " message\n";
    return r;
  }

 private:
  std::string queue_dir_;
};

// An archive run as the writer leaves it: the run directory 0700, the
// manifest 0600, each copy with its queue mode.
class ArchivedRun {
 public:
  ArchivedRun(const std::string& archive_dir, const std::string& name, const std::string& host,
              const std::string& queue_dir, std::int64_t created = 1795344000)
      : dir_(archive_dir + "/" + name) {
    std::filesystem::create_directories(dir_);
    ::chmod(dir_.c_str(), 0700);
    ArchiveHeader h;
    h.created = created;
    h.host = host;
    h.run_id = "abc123";
    h.queue_directory = queue_dir;
    h.config_directory = "/etc/postfix";
    h.criteria = {PlanCriterion{"--domain", {"example.com"}}};
    h.argv = {"qpurge", "--domain", "example.com"};
    manifest_ = run_record(h);
    flush();
  }
  const std::string& dir() const { return dir_; }

  // An archived message: its record, and an outcome record unless `result`
  // is "" (kept back until finish(), as the purge appends them after the
  // messages). `handed`: a "handed" record too.
  std::string add(const std::string& id, const SyntheticMessage& m, const std::string& result = "done",
                  bool handed = false, std::uint64_t inode = 12345) {
    std::string data = write_queue_file(m);
    std::vector<std::string> rcpts;
    for (const auto& r : m.recipients) rcpts.push_back(r.address);
    add_file(id, data, m.arrival_time, m.sender, rcpts, result, handed, inode);
    return data;
  }
  // Any bytes archived as a queue file (a postdrop file, say).
  void add_file(const std::string& id, const std::string& data, std::int64_t arrival, const std::string& sender,
                const std::vector<std::string>& rcpts, const std::string& result = "done", bool handed = false,
                std::uint64_t inode = 12345) {
    const std::string path = dir_ + "/" + id;
    spit(path, data);
    ::chmod(path.c_str(), 0700);
    ArchivedMessage a;
    a.queue_name = "deferred";
    a.queue_id = a.file = id;
    a.inode = inode;
    a.arrival_time = arrival;
    a.sender = sender;
    for (const auto& r : rcpts) a.recipients.push_back({r, "", false});
    a.message_size = 100;
    a.file_size = data.size();
    a.mode = 0700;
    EXPECT_TRUE(sha256_hex(data, a.sha256));
    manifest_ += message_record(a);
    if (handed) manifest_ += handed_record(id, "deferred", inode);
    if (!result.empty()) outcomes_ += outcome_record(id, "deferred", result, "");
    flush();
  }
  // The defer log archived beside a copy.
  void defer_log(const std::string& id, const std::string& text) {
    const std::string path = dir_ + "/" + id + ".defer";
    spit(path, text);
    ::chmod(path.c_str(), 0600);
  }
  // The outcome records, as the purge appends them after the messages.
  void finish() {
    manifest_ += outcomes_;
    outcomes_.clear();
    flush();
  }
  std::string manifest() const { return slurp(dir_ + "/" + kManifestName); }

 private:
  void flush() const {
    spit(dir_ + "/" + kManifestName, manifest_);
    ::chmod((dir_ + "/" + kManifestName).c_str(), 0600);
  }
  std::string dir_;
  std::string manifest_;
  std::string outcomes_;
};

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_ARCHIVED_RUN_H_
