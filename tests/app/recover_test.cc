// SPDX-License-Identifier: MIT
// recover_test.cc - an acting run is a transaction. Each acting mode is
// killed after every single step it takes - every write and sync of its
// journal, its archive copies and manifest, every postsuper run - and the
// same command is then run again, as an operator would. Whatever the step:
// every selected message is gone, with exactly one restorable archive copy
// when archiving; the message that was not selected is untouched; nothing
// qpurge held is left on hold; no journal is left; the audit log names the
// run that recovered the dead one. (SQLite's crash tests are the model:
// kill at every write, then check the invariants.)
#include "qpurge/app/recover.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "qpurge/archive/manifest.h"
#include "support/cli_fixture.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;

// What SIGKILL does, as far as a test can tell: nothing after.
struct Killed {};
int g_countdown = 0;  // the step that kills the run; 0: none

void step() {
  if (g_countdown > 0 && --g_countdown == 0) throw Killed{};
}
ssize_t killing_write(int fd, const void* data, std::size_t size) {
  step();
  return SysCalls::real().write_fd(fd, data, size);
}
int killing_fsync(int fd) {
  step();
  return SysCalls::real().fsync_fd(fd);
}
const SysCalls& killing() {
  static SysCalls calls = SysCalls::real();
  calls.write_fd = killing_write;
  calls.fsync_fd = killing_fsync;
  return calls;
}

class RecoverTest : public testing::CliFixture {
 protected:
  std::string archive() const { return spool.root() + "-archive"; }
  void TearDown() override { fs::remove_all(archive()); }

  // The queue IDs of each message in each queue.
  std::map<std::string, std::string> where() const {
    std::map<std::string, std::string> out;
    for (const auto& f : fs::recursive_directory_iterator(spool.root()))
      if (f.is_regular_file()) {
        const std::string rel = fs::relative(f.path(), spool.root()).string();
        out[f.path().filename().string()] = rel.substr(0, rel.find('/'));
      }
    return out;
  }
  // For each queue ID, the run directories whose manifest last says "done".
  std::map<std::string, int> done_copies() const {
    std::map<std::string, int> out;
    if (!fs::exists(archive())) return out;
    for (const auto& d : fs::directory_iterator(archive())) {
      ArchiveManifest m;
      std::string error;
      if (!read_manifest(d.path().string(), m, error)) continue;
      for (const ArchivedMessage& a : m.messages) out[a.queue_id] += a.deleted();
    }
    return out;
  }
  std::size_t journals() const {
    const std::string dir = const_cast<testing::FakeSystem&>(sys).journal_directory();
    if (!fs::exists(dir)) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }

  // Kills `args` after every step in turn, each time on a fresh queue, then
  // runs it again and checks the invariants. Returns the number of steps.
  int kill_everywhere(const std::vector<std::string>& args, bool archiving, bool cancel = false) {
    int kill_at = 1;
    for (;; ++kill_at) {
      SCOPED_TRACE("killed at step " + std::to_string(kill_at));
      fs::remove_all(archive());
      for (const auto& q : {"deferred", "hold"}) fs::remove_all(spool.root() + "/" + q);
      fs::create_directories(spool.root() + "/hold");
      if (cancel)
        fill_mixed();
      else
        fill();
      sys.audit_lines.clear();
      sys.run = "1.2";
      sys.calls = &killing();
      pf.after_run = [](int) { step(); };
      g_countdown = kill_at;
      bool killed = false;
      try {
        run(args);
      } catch (const Killed&) {
        killed = true;
      }
      g_countdown = 0;
      sys.calls = &SysCalls::real();
      pf.after_run = nullptr;
      sys.run = "1.3";  // another process
      const int again = run(args);
      EXPECT_TRUE(again == kExitDone || again == kExitNothing) << err.str();
      if (cancel)
        check_cancel(archiving);
      else
        check(archiving, killed);
      if (!killed) return kill_at - 1;
    }
  }

  // --mixed cancel: six messages to bob@example.com and keep@other.test,
  // one not selected, and one mixed on hold before the run.
  static std::vector<std::string> mixed_ids() {
    std::vector<std::string> ids = bob_ids();
    ids.resize(6);
    return ids;
  }
  void fill_mixed() {
    for (const std::string& id : mixed_ids())
      put("deferred", id, "spam@bad.test", {"bob@example.com", "keep@other.test"});
    put("deferred", "F0278A74127", "friend@good.test", {"a@other.test"});
    put("hold", "E0278A74127", "x@y.test", {"bob@example.com", "held@other.test"});
  }
  // Whatever the step: every mixed message is back in deferred with its
  // kept recipient only, the held one is still on hold with its kept
  // recipient only, the other is untouched, no journal is left.
  void check_cancel(bool archiving) {
    const std::map<std::string, std::string> now = where();
    for (const std::string& id : mixed_ids()) {
      EXPECT_EQ(now.count(id) ? now.at(id) : "(gone)", "deferred") << id << ": " << err.str();
      EXPECT_EQ(testing::pending_recipients(spool.root() + "/deferred/" + id.substr(0, 1) + "/" + id),
                std::vector<std::string>{"keep@other.test"})
          << id;
    }
    EXPECT_EQ(now.count("E0278A74127") ? now.at("E0278A74127") : "(gone)", "hold");
    EXPECT_EQ(testing::pending_recipients(spool.root() + "/hold/E0278A74127"),
              std::vector<std::string>{"held@other.test"});
    EXPECT_EQ(now.count("F0278A74127") ? now.at("F0278A74127") : "(gone)", "deferred");
    EXPECT_EQ(now.size(), 8u);
    EXPECT_EQ(journals(), 0u);
    if (archiving) check_cancel_restores();
  }

  // With --archive (issue 22): each message whose recipients were canceled
  // has exactly one copy that a restore gives back, wherever the run died
  // (between the copy and the cross-off it is settled not done, and the
  // next run cancels and archives afresh; after the cross-off it is settled
  // done from the queue file); restoring every run puts back, on hold, one
  // copy per message addressed to the canceled recipient only.
  void check_cancel_restores() {
    const std::map<std::string, int> copies = done_copies();
    std::vector<std::string> ids = mixed_ids();
    ids.push_back("E0278A74127");
    for (const std::string& id : ids)
      EXPECT_EQ(copies.count(id) ? copies.at(id) : 0, 1) << id << ": exactly one restorable copy";
    for (const auto& d : fs::directory_iterator(archive())) {
      ArchiveManifest m;
      std::string error;
      if (!read_manifest(d.path().string(), m, error)) continue;  // killed while its header was written: holds nothing
      EXPECT_NE(run({"--restore", d.path().string(), "--yes"}), kExitFatal) << err.str();
    }
    std::multiset<std::string> held;
    for (const auto& f : fs::directory_iterator(spool.root() + "/hold"))
      for (const std::string& r : testing::pending_recipients(f.path())) held.insert(r);
    std::multiset<std::string> want{"held@other.test"};
    for (std::size_t i = 0; i < ids.size(); ++i) want.insert("bob@example.com");
    EXPECT_EQ(held, want);
  }

  void check(bool archiving, bool killed) {
    const std::map<std::string, std::string> now = where();
    for (const std::string& id : bob_ids()) EXPECT_EQ(now.count(id), 0u) << id << " is still in " << now.at(id);
    ASSERT_EQ(now.count("F0278A74127"), 1u);
    EXPECT_EQ(now.at("F0278A74127"), "deferred") << "the message not selected is untouched";
    EXPECT_EQ(now.size(), 1u) << "nothing else is in the queue (nothing left on hold)";
    if (archiving) {
      const std::map<std::string, int> copies = done_copies();
      for (const std::string& id : bob_ids()) {
        auto it = copies.find(id);
        EXPECT_EQ(it == copies.end() ? 0 : it->second, 1) << id << ": exactly one restorable copy";
      }
    }
    EXPECT_EQ(journals(), 0u);
    bool recovered = false;
    for (const std::string& line : sys.audit_lines)
      recovered |= line.find("\"event\": \"recover\"") != std::string::npos;
    (void)killed;
    if (killed && recovered) {
      EXPECT_NE(err.str().find("did not finish"), std::string::npos) << err.str();
    }
  }
};

TEST_F(RecoverTest, PlainDeleteKilledAtEveryStep) {
  EXPECT_GT(kill_everywhere({"--domain", "example.com", "--yes", "--batch-size", "7"}, false), 3);
}

TEST_F(RecoverTest, ArchiveKilledAtEveryStep) {
  EXPECT_GT(kill_everywhere({"--domain", "example.com", "--yes", "--batch-size", "7", "--archive", archive()}, true),
            20);
}

TEST_F(RecoverTest, ViaHoldKilledAtEveryStep) {
  EXPECT_GT(kill_everywhere({"--domain", "example.com", "--yes", "--batch-size", "7", "--via-hold"}, false), 8);
}

TEST_F(RecoverTest, ViaHoldArchiveKilledAtEveryStep) {
  EXPECT_GT(kill_everywhere(
                {"--domain", "example.com", "--yes", "--batch-size", "7", "--via-hold", "--archive", archive()}, true),
            20);
}

// --mixed cancel killed before and after each hold, each journal record
// (cancel: before a message is crossed off; crossed: after), each release.
TEST_F(RecoverTest, MixedCancelKilledAtEveryStep) {
  EXPECT_GT(
      kill_everywhere({"--domain", "example.com", "--mixed", "cancel", "--yes", "--batch-size", "4"}, false, true), 10);
}

TEST_F(RecoverTest, MixedCancelViaHoldKilledAtEveryStep) {
  EXPECT_GT(
      kill_everywhere({"--domain", "example.com", "--mixed", "cancel", "--via-hold", "--yes", "--batch-size", "4"},
                      false, true),
      10);
}

// --mixed cancel --archive killed at every step, copies and manifest
// records included: between the copy and the cross-off, and after the
// cross-off before its outcome is recorded.
TEST_F(RecoverTest, MixedCancelArchiveKilledAtEveryStep) {
  EXPECT_GT(
      kill_everywhere({"--domain", "example.com", "--mixed", "cancel", "--yes", "--archive", archive()}, true, true),
      20);
}

// A dry run reports the unfinished run and changes nothing; it is finished
// by the next acting run, which names it in the audit log.
TEST_F(RecoverTest, DryRunReportsAndTheNextActingRunRecovers) {
  fill();
  sys.calls = &killing();
  pf.after_run = [](int) { step(); };
  g_countdown = 8;
  EXPECT_THROW(run({"--domain", "example.com", "--yes", "--batch-size", "7", "--via-hold"}), Killed);
  g_countdown = 0;
  sys.calls = &SysCalls::real();
  pf.after_run = nullptr;
  const auto before = where();
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  EXPECT_NE(err.str().find("qpurge: warning: run 1.2 (pid 4242, started "), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("a dry run changes nothing"), std::string::npos) << err.str();
  EXPECT_EQ(where(), before);
  EXPECT_EQ(journals(), 1u);
  sys.running = {4242};  // the same journal while its writer runs: not unfinished
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone);
  EXPECT_EQ(err.str().find("did not finish"), std::string::npos) << err.str();
  sys.running.clear();
  sys.run = "1.3";
  EXPECT_EQ(run({"--sender", "nobody@nowhere.test", "--yes"}), kExitNothing) << err.str();
  EXPECT_EQ(journals(), 0u);
  bool named = false;
  for (const std::string& line : sys.audit_lines)
    named |= line.find("\"event\": \"recover\"") != std::string::npos &&
             line.find("\"recovered_run\": \"1.2\"") != std::string::npos;
  EXPECT_TRUE(named);
}

// qpurge --recover does that alone, for runbooks: exit 1 when there is
// nothing to recover, 0 when it finished a dead run.
TEST_F(RecoverTest, RecoverModeFinishesADeadRunAndNothingElse) {
  fill();
  EXPECT_EQ(run({"--recover"}), kExitNothing) << err.str();
  EXPECT_EQ(out.str(), "no interrupted run to recover on " + spool.root() + "\n");
  sys.calls = &killing();
  pf.after_run = [](int) { step(); };
  g_countdown = 8;  // in the hold phase: some held, none deleted
  EXPECT_THROW(run({"--domain", "example.com", "--yes", "--batch-size", "7", "--via-hold"}), Killed);
  g_countdown = 0;
  sys.calls = &SysCalls::real();
  pf.after_run = nullptr;
  sys.run = "1.3";
  EXPECT_EQ(run({"--recover"}), kExitDone) << err.str();
  EXPECT_EQ(journals(), 0u);
  const std::map<std::string, std::string> now = where();
  EXPECT_EQ(std::count_if(now.begin(), now.end(), [](const auto& w) { return w.second == "hold"; }), 0);
  EXPECT_EQ(run({"--recover", "--domain", "example.com"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: --recover finishes what an interrupted run left, as its journal says: it takes no selector, "
            "plan, --action, --via-hold, --archive, --restore, --shape, --queue-dir or --all-instances (-c DIR names "
            "the instance)\nTry 'qpurge --help' for more information.\n");
}

}  // namespace
}  // namespace qpurge
