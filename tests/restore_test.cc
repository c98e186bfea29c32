// SPDX-License-Identifier: MIT
// restore_test.cc - restoring archive runs into a temporary spool, with a
// fake postsuper -s; listing and pruning runs.
#include "qpurge/restore.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "qpurge/escape.h"
#include "qpurge/queue_id.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::TestSpool;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string sha256(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

// Acts like `postsuper -s` on the message queues of one spool: a file whose
// name is a queue ID with an inode part that is not its inode is renamed to
// the first five characters of its name and its inode in upper-case hex.
// Other names are left alone ("bogus file name").
class FakePostsuper : public CommandRunner {
 public:
  explicit FakePostsuper(std::string queue_dir) : queue_dir_(std::move(queue_dir)) {}
  std::vector<std::vector<std::string>> calls;
  int exit_status = 0;
  CommandResult run(const std::vector<std::string>& argv, std::string_view) override {
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
  int renamed = 0;

 private:
  std::string queue_dir_;
};

// An archive run written as archive.h writes it, by hand.
class ArchiveRun {
 public:
  ArchiveRun(const std::string& archive_dir, const std::string& name, const std::string& host,
             const std::string& queue_dir, std::int64_t created = 1795344000)
      : dir_(archive_dir + "/" + name) {
    fs::create_directories(dir_);
    manifest_ = "{\"record\": \"run\", \"version\": 1, \"created\": " + std::to_string(created) + ", \"host\": \"" +
                host + "\", \"run\": \"abc123\", \"queue_directory\": \"" + queue_dir +
                "\", \"config_directory\": \"/etc/postfix\", \"action\": \"delete\", \"criteria\": [{\"option\": "
                "\"--domain\", \"values\": [\"example.com\"], \"values_hex\": [\"" +
                to_hex("example.com") + "\"]}], \"argv\": [\"qpurge\", \"--domain\", \"example.com\"]}\n";
    flush();
  }
  const std::string& dir() const { return dir_; }

  // An archived message; result "" writes no outcome record.
  std::string add(const std::string& id, const SyntheticMessage& m, const std::string& result = "done") {
    std::string data = write_queue_file(m);
    spit(dir_ + "/" + id, data);
    ::chmod((dir_ + "/" + id).c_str(), 0700);
    std::string rcpts;
    for (const auto& r : m.recipients)
      rcpts += std::string(rcpts.empty() ? "" : ", ") + "{\"address\": \"" + r.address + "\", \"address_hex\": \"" +
               to_hex(r.address) + "\"}";
    manifest_ += "{\"record\": \"message\", \"queue_name\": \"deferred\", \"queue_id\": \"" + id +
                 "\", \"inode\": 12345, \"arrival_time\": " + std::to_string(m.arrival_time) + ", \"sender\": \"" +
                 m.sender + "\", \"sender_hex\": \"" + to_hex(m.sender) + "\", \"recipients\": [" + rcpts +
                 "], \"message_size\": 100, \"file_size\": " + std::to_string(data.size()) + ", \"file\": \"" + id +
                 "\", \"mode\": 700, \"logs\": [], \"sha256\": \"" + sha256(data) + "\"}\n";
    outcomes_ += result.empty() ? ""
                                : "{\"record\": \"outcome\", \"queue_id\": \"" + id +
                                      "\", \"queue_name\": \"deferred\", \"result\": \"" + result + "\"}\n";
    flush();
    return data;
  }
  // The outcome records, as the purge appends them after the messages.
  void finish() {
    manifest_ += outcomes_;
    outcomes_.clear();
    flush();
  }
  std::string manifest() const { return slurp(dir_ + "/manifest.jsonl"); }

 private:
  void flush() const { spit(dir_ + "/manifest.jsonl", manifest_); }
  std::string dir_;
  std::string manifest_;
  std::string outcomes_;
};

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

class RestoreTest : public ::testing::Test {
 protected:
  RestoreTest() : archive_(archive_spool_.root() + "/archive"), runner_(spool_.root()) {
    fs::create_directories(archive_);
    options_.run_dir = archive_ + "/20261122T101500Z-mx-abc123";
    options_.queue_dir = spool_.root();
    options_.config_dir = "/etc/postfix-test";
    options_.postsuper = "/usr/sbin/postsuper";
    options_.host = "mx";
    options_.now = 1795400000;
  }
  ArchiveRun make_run(const std::string& host = "mx") {
    return ArchiveRun(archive_, "20261122T101500Z-mx-abc123", host, spool_.root());
  }

  TestSpool spool_;
  TestSpool archive_spool_;  // only for its temporary directory
  std::string archive_;
  FakePostsuper runner_;
  RestoreOptions options_;
};

TEST_F(RestoreTest, RestoresIntoHoldWithNewIds) {
  ArchiveRun run = make_run();
  std::string a = run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  std::string b = run.add("5F0E1D2C3B", testing::message("", {"carol@example.net"}));
  run.finish();

  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.error, "");
  ASSERT_EQ(report.messages.size(), 2u);
  ASSERT_EQ(runner_.calls.size(), 1u);
  EXPECT_EQ(runner_.calls[0], (std::vector<std::string>{"/usr/sbin/postsuper", "-c", "/etc/postfix-test", "-s"}));
  std::vector<std::string> hold;
  for (const RestoredMessage& m : report.messages) {
    EXPECT_EQ(m.outcome, "restored") << m.detail;
    EXPECT_TRUE(is_short_queue_id(m.new_id)) << m.new_id;
    EXPECT_EQ(m.new_id.substr(0, 5), m.old_id.substr(0, 5));  // postsuper keeps the microseconds
    struct stat st;
    std::string path = spool_.root() + "/hold/" + m.new_id;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(queue_id_inode(m.new_id), static_cast<std::uint64_t>(st.st_ino));
    hold.push_back("hold/" + m.new_id);
  }
  EXPECT_EQ(slurp(spool_.root() + "/hold/" + report.messages[0].new_id), a);
  EXPECT_EQ(slurp(spool_.root() + "/hold/" + report.messages[1].new_id), b);
  std::sort(hold.begin(), hold.end());
  EXPECT_EQ(files_in(spool_.root()), hold);

  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  ASSERT_EQ(m.messages.size(), 2u);
  EXPECT_TRUE(m.messages[0].restored);
  EXPECT_EQ(m.messages[0].new_queue_id, report.messages[0].new_id);
  EXPECT_EQ(m.messages[0].restored_to, "hold");
  EXPECT_EQ(m.messages[0].restored_time, 1795400000);
  EXPECT_EQ(m.messages[1].new_queue_id, report.messages[1].new_id);
}

TEST_F(RestoreTest, RestoringTwiceAddsNothing) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  RestoreReport first = restore_run(options_, runner_);
  ASSERT_EQ(first.messages.at(0).outcome, "restored");
  const auto before = files_in(spool_.root());
  const std::string manifest = run.manifest();

  RestoreReport second = restore_run(options_, runner_);
  ASSERT_EQ(second.error, "");
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(second.messages[0].outcome, "already_restored");
  EXPECT_EQ(second.messages[0].new_id, first.messages[0].new_id);
  EXPECT_EQ(runner_.calls.size(), 1u);  // no second postsuper -s
  EXPECT_EQ(files_in(spool_.root()), before);
  EXPECT_EQ(run.manifest(), manifest);
}

TEST_F(RestoreTest, TamperedCopyIsRefused) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  std::string copy = slurp(run.dir() + "/4A1B2C3D4E");
  copy[copy.size() / 2] ^= 1;
  spit(run.dir() + "/4A1B2C3D4E", copy);

  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "checksum_mismatch");
  EXPECT_NE(report.messages[0].detail.find(run.dir() + "/4A1B2C3D4E: sha256 "), std::string::npos)
      << report.messages[0].detail;
  EXPECT_EQ(report.messages[1].outcome, "restored");
  EXPECT_EQ(files_in(spool_.root()), std::vector<std::string>{"hold/" + report.messages[1].new_id});
}

TEST_F(RestoreTest, RunFromAnotherHostIsRefusedUnlessForced) {
  ArchiveRun run = make_run("other.example");
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  const std::string manifest = run.manifest();

  RestoreReport report = restore_run(options_, runner_);
  EXPECT_EQ(report.error, options_.run_dir + ": archived on host other.example, this is mx (force it to restore here)");
  EXPECT_TRUE(report.messages.empty());
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
  EXPECT_EQ(run.manifest(), manifest);

  options_.force_other_instance = true;
  report = restore_run(options_, runner_);
  ASSERT_EQ(report.error, "");
  EXPECT_EQ(report.messages.at(0).outcome, "restored");
}

TEST_F(RestoreTest, RunFromAnotherQueueDirectoryIsRefused) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  TestSpool other;
  options_.queue_dir = other.root();
  RestoreReport report = restore_run(options_, runner_);
  EXPECT_NE(report.error.find("archived from queue directory " + spool_.root() + ", not " + other.root()),
            std::string::npos)
      << report.error;
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(other.root()).empty());
}

TEST_F(RestoreTest, DryRunChangesNothingAndRunsNoPostsuper) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}), "failed");
  run.finish();
  const std::string manifest = run.manifest();
  options_.dry_run = true;

  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.error, "");
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "would_restore");
  EXPECT_EQ(report.messages[0].detail, spool_.root() + "/hold/4A1B2C3D4E");
  EXPECT_EQ(report.messages[1].outcome, "not_deleted");
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
  EXPECT_EQ(run.manifest(), manifest);
}

TEST_F(RestoreTest, OnlyDeletedMessagesAreRestored) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}), "failed");
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}), "");  // no outcome
  run.finish();
  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "not_deleted");
  EXPECT_EQ(report.messages[0].detail, "the purge did not delete it (failed)");
  EXPECT_EQ(report.messages[1].outcome, "not_deleted");
  EXPECT_EQ(report.messages[1].detail,
            "no outcome recorded: the purge may have stopped before it; look for 5F0E1D2C3B in the queue");
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
}

TEST_F(RestoreTest, FileAtTheDestinationIsNeverOverwritten) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  spool_.put("hold", "4A1B2C3D4E", "someone else's file");
  spool_.put("deferred", "5F0E1D2C3B", "a live message");  // deferred/5/5F0E1D2C3B

  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "exists");
  EXPECT_EQ(report.messages[0].detail, spool_.root() + "/hold/4A1B2C3D4E exists: not overwritten");
  EXPECT_EQ(report.messages[1].outcome, "exists");
  EXPECT_EQ(report.messages[1].detail, spool_.root() + "/deferred/5/5F0E1D2C3B exists: not overwritten");
  EXPECT_EQ(slurp(spool_.root() + "/hold/4A1B2C3D4E"), "someone else's file");
  EXPECT_EQ(slurp(spool_.root() + "/deferred/5/5F0E1D2C3B"), "a live message");
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(RestoreTest, DeferredTargetUsesTheHashDirectory) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  fs::remove_all(spool_.root() + "/deferred");
  fs::create_directories(spool_.root() + "/deferred");
  options_.target = "deferred";
  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.messages.at(0).outcome, "restored") << report.messages[0].detail;
  EXPECT_EQ(files_in(spool_.root()), std::vector<std::string>{"deferred/4/" + report.messages[0].new_id});
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_EQ(m.messages.at(0).restored_to, "deferred");
}

TEST_F(RestoreTest, UnknownTargetIsRefused) {
  ArchiveRun run = make_run();
  run.finish();
  options_.target = "active";
  EXPECT_EQ(restore_run(options_, runner_).error, "cannot restore into the active queue (hold, deferred or incoming)");
}

TEST_F(RestoreTest, MatcherRestoresOnlyWhatItSelects) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.add("6C5B4A3921", testing::message("erin@example.org", {"frank@example.com", "bob@example.com"}));  // mixed
  run.finish();
  Matcher matcher;
  CriterionGroup g;
  g.option = "--recipient";
  g.values = {"bob@example.com"};
  g.alternatives.push_back(make_recipient("bob@example.com", false));
  g.side = Side::kRecipient;
  matcher.add(std::move(g));
  options_.matcher = &matcher;

  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].old_id, "4A1B2C3D4E");
  EXPECT_EQ(report.messages[1].old_id, "6C5B4A3921");
  EXPECT_EQ(report.messages[0].outcome, "restored");
  EXPECT_EQ(report.messages[1].outcome, "restored");
  EXPECT_EQ(files_in(spool_.root()).size(), 2u);
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_FALSE(m.messages.at(1).restored);
}

TEST_F(RestoreTest, FailedPostsuperIsReportedAndStillRecorded) {
  ArchiveRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  runner_.exit_status = 1;
  RestoreReport report = restore_run(options_, runner_);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_EQ(report.messages[0].outcome, "failed");
  EXPECT_EQ(report.messages[0].new_id, "4A1B2C3D4E");
  EXPECT_EQ(report.messages[0].detail,
            "in the queue as " + spool_.root() +
                "/hold/4A1B2C3D4E, but postsuper -s failed: exit status 1: postsuper: fatal: chdir /nowhere: No "
                "such file or directory: run postsuper -s");
  // It is in the queue: a second restore must not put it there again.
  runner_.exit_status = 0;
  report = restore_run(options_, runner_);
  EXPECT_EQ(report.messages.at(0).outcome, "already_restored");
  EXPECT_EQ(runner_.calls.size(), 1u);
}

TEST(ManifestTest, TornLastLineIsAnErrorNamingTheLine) {
  TestSpool dir;
  ArchiveRun run(dir.root(), "20261122T101500Z-mx-abc123", "mx", "/var/spool/postfix");
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  std::string text = run.manifest();
  spit(run.dir() + "/manifest.jsonl", text + "{\"record\": \"restored\", \"queue_id\": \"4A1B");
  ArchiveManifest m;
  std::string error;
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:4: torn last line (no newline at its end)");

  spit(run.dir() + "/manifest.jsonl", text + "not json\n");
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:4: not JSON");

  spit(
      run.dir() + "/manifest.jsonl",
      text + "{\"record\": \"outcome\", \"queue_id\": \"77777ABC\", \"queue_name\": \"hold\", \"result\": \"done\"}\n");
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:4: \"outcome\" record for 77777ABC, which is not archived");

  spit(run.dir() + "/manifest.jsonl", text.substr(text.find('\n') + 1));
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:1: the first record is not the run header");

  spit(run.dir() + "/manifest.jsonl", text);
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_EQ(m.host, "mx");
  EXPECT_EQ(m.run, "abc123");
  ASSERT_EQ(m.criteria.size(), 1u);
  EXPECT_EQ(m.criteria[0].option, "--domain");
  EXPECT_EQ(m.criteria[0].values, std::vector<std::string>{"example.com"});
  ASSERT_EQ(m.messages.size(), 1u);
  EXPECT_EQ(m.messages[0].sender, "alice@example.org");
  EXPECT_EQ(m.messages[0].recipients.at(0).address, "bob@example.com");
  EXPECT_TRUE(m.messages[0].deleted());
  EXPECT_EQ(m.messages[0].mode, 0700u);
}

TEST(ArchiveRunsTest, ListsRunsOldestFirstWithBrokenOnesNoted) {
  TestSpool dir;
  ArchiveRun newer(dir.root(), "20261122T101500Z-mx-bbb", "mx", "/var/spool/postfix", 1795400100);
  std::string a = newer.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  std::string b = newer.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}), "failed");
  newer.finish();
  ArchiveRun older(dir.root(), "20261101T000000Z-mx-aaa", "mx", "/var/spool/postfix", 1793491200);
  older.finish();
  fs::create_directories(dir.root() + "/20261110T000000Z-mx-ccc");  // no manifest
  fs::create_directories(dir.root() + "/lost+found");               // not a run

  std::vector<ArchiveRunInfo> runs;
  std::string error;
  ASSERT_TRUE(list_archive_runs(dir.root(), runs, error)) << error;
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].name, "20261101T000000Z-mx-aaa");
  EXPECT_EQ(runs[1].name, "20261110T000000Z-mx-ccc");
  EXPECT_EQ(runs[1].created, 1794268800);  // from the name
  EXPECT_NE(runs[1].error.find("manifest.jsonl: No such file or directory"), std::string::npos) << runs[1].error;
  EXPECT_EQ(runs[2].name, "20261122T101500Z-mx-bbb");
  EXPECT_EQ(runs[2].path, dir.root() + "/20261122T101500Z-mx-bbb");
  EXPECT_EQ(runs[2].error, "");
  EXPECT_EQ(runs[2].host, "mx");
  EXPECT_EQ(runs[2].messages, 2u);
  EXPECT_EQ(runs[2].deleted, 1u);
  EXPECT_EQ(runs[2].bytes, a.size() + b.size());
  EXPECT_EQ(runs[2].restored, 0u);
  EXPECT_EQ(runs[2].criteria.at(0).option, "--domain");

  EXPECT_FALSE(list_archive_runs(dir.root() + "/nothing", runs, error));
  EXPECT_EQ(error, dir.root() + "/nothing: No such file or directory");
}

TEST(ArchiveRunsTest, PrunesOldRunsOnly) {
  TestSpool dir;
  const std::int64_t day = 86400, now = 1795400000;
  ArchiveRun old_run(dir.root(), "20261101T000000Z-mx-aaa", "mx", "/var/spool/postfix", now - 10 * day);
  old_run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  old_run.finish();
  ArchiveRun new_run(dir.root(), "20261122T101500Z-mx-bbb", "mx", "/var/spool/postfix", now - day);
  new_run.finish();
  // Not a qpurge run, however old its name: never removed.
  fs::create_directories(dir.root() + "/20200101T000000Z-x-zzz");
  spit(dir.root() + "/20200101T000000Z-x-zzz/manifest.jsonl", "{\"something\": \"else\"}\n");
  // A symbolic link to an old run elsewhere: neither followed nor removed.
  TestSpool elsewhere;
  ArchiveRun target(elsewhere.root(), "20200101T000000Z-mx-lnk", "mx", "/var/spool/postfix", now - 100 * day);
  target.finish();
  fs::create_directory_symlink(target.dir(), dir.root() + "/20200101T000000Z-mx-lnk");

  std::vector<std::string> removed;
  std::string error;
  ASSERT_TRUE(prune_archive_runs(dir.root(), 7 * day, now, true, removed, error)) << error;
  EXPECT_EQ(removed, std::vector<std::string>{old_run.dir()});
  EXPECT_TRUE(fs::exists(old_run.dir() + "/4A1B2C3D4E"));  // dry run: nothing removed
  EXPECT_TRUE(fs::exists(old_run.dir() + "/manifest.jsonl"));

  ASSERT_TRUE(prune_archive_runs(dir.root(), 7 * day, now, false, removed, error)) << error;
  EXPECT_EQ(removed, std::vector<std::string>{old_run.dir()});
  EXPECT_FALSE(fs::exists(old_run.dir()));
  EXPECT_TRUE(fs::exists(new_run.dir() + "/manifest.jsonl"));
  EXPECT_TRUE(fs::exists(dir.root() + "/20200101T000000Z-x-zzz/manifest.jsonl"));
  EXPECT_TRUE(fs::is_symlink(dir.root() + "/20200101T000000Z-mx-lnk"));
  EXPECT_TRUE(fs::exists(target.dir() + "/manifest.jsonl"));
}

}  // namespace
}  // namespace qpurge
