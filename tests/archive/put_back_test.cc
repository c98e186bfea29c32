// SPDX-License-Identifier: MIT
// put_back_test.cc - a restore is a transaction: killed after any single
// write or sync it makes, then run again, every deleted message is back in
// the queue exactly once, nothing half-written is left, and the manifest
// says so. Also: what a purge handed to postsuper and never recorded is
// settled from the queue (issue 19, B/P/V).
#include "qpurge/archive/put_back.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "qpurge/archive/restore.h"
#include "support/archived_run.h"
#include "support/fake_postfix.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::ArchivedRun;
using testing::FakePostfix;
using testing::TestSpool;

// What SIGKILL does to the run, as far as the test can tell: nothing after.
struct Killed {};
int g_countdown = 0;  // the write or fsync that kills the run; 0: none

ssize_t counted_write(int fd, const void* data, std::size_t size) {
  if (g_countdown > 0 && --g_countdown == 0) throw Killed{};
  return SysCalls::real().write_fd(fd, data, size);
}
int counted_fsync(int fd) {
  if (g_countdown > 0 && --g_countdown == 0) throw Killed{};
  return SysCalls::real().fsync_fd(fd);
}
const SysCalls& counted() {
  static SysCalls calls = SysCalls::real();
  calls.write_fd = counted_write;
  calls.fsync_fd = counted_fsync;
  return calls;
}

const char* const kIds[] = {"4A1B2C3D4E", "5F0E1D2C3B", "6C7D8E9F0A"};

RestoreOptions options_with(const RestoreOptions& o, const std::string& run_dir, const std::string& queue_dir) {
  RestoreOptions x = o;
  x.run_dir = run_dir;
  x.queue_dir = queue_dir;
  x.sys = &SysCalls::real();
  return x;
}

class PutBackTest : public ::testing::Test {
 protected:
  PutBackTest() : run_(archive_.root(), "20261122T101500Z-mx-abc123", "mx", spool_.root()) {
    for (const char* id : kIds) copies_.push_back(run_.add(id, testing::message("a@x.test", {"b@example.com"})));
    run_.finish();
    postfix_.spools[""] = spool_.root();
    options_.run_dir = run_.dir();
    options_.queue_dir = spool_.root();
    options_.host = "mx";
    options_.now = 1795400000;
  }
  TestSpool spool_, archive_;
  ArchivedRun run_;
  std::vector<std::string> copies_;
  FakePostfix postfix_;
  RestoreOptions options_;
};

TEST_F(PutBackTest, KilledAtAnyStepThenRunAgainRestoresEachMessageExactlyOnce) {
  int steps = 0;
  for (int kill_at = 1;; ++kill_at) {
    SCOPED_TRACE("killed at write or sync " + std::to_string(kill_at));
    TestSpool spool;
    ArchivedRun run(archive_.root(),
                    "20261122T1015" + std::to_string(10 + kill_at % 50) + "Z-mx-k" + std::to_string(kill_at), "mx",
                    spool.root());
    for (const char* id : kIds) run.add(id, testing::message("a@x.test", {"b@example.com"}));
    run.finish();
    FakePostfix postfix;
    postfix.spools[""] = spool.root();
    RestoreOptions o = options_;
    o.run_dir = run.dir();
    o.queue_dir = spool.root();
    o.sys = &counted();
    g_countdown = kill_at;
    bool killed = false;
    try {
      restore_from_archive(o, postfix);
    } catch (const Killed&) {
      killed = true;
    }
    g_countdown = 0;
    RestoreReport again = restore_from_archive(options_with(o, run.dir(), spool.root()), postfix);
    EXPECT_EQ(again.error, "");
    std::multiset<std::string> files;
    int incomplete = 0;
    for (const auto& f : fs::recursive_directory_iterator(spool.root())) {
      if (!f.is_regular_file()) continue;
      files.insert(testing::slurp(f.path()));
      incomplete += (fs::status(f.path()).permissions() & fs::perms::owner_exec) == fs::perms::none;
    }
    EXPECT_EQ(files, std::multiset<std::string>(copies_.begin(), copies_.end()));
    EXPECT_EQ(incomplete, 0);
    ArchiveManifest m;
    std::string error;
    ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
    for (const ArchivedMessage& a : m.messages) EXPECT_TRUE(a.restored) << a.queue_id;
    RestoreReport third = restore_from_archive(options_with(o, run.dir(), spool.root()), postfix);
    for (const RestoredMessage& r : third.messages) EXPECT_EQ(r.outcome, "already_restored") << r.old_id;
    if (!killed) {
      steps = kill_at - 1;
      break;
    }
  }
  EXPECT_GT(steps, 8) << "every restore step was a kill point";
}

TEST_F(PutBackTest, HandedAndGoneIsDeletedAndRestored) {
  TestSpool spool;
  ArchivedRun run(archive_.root(), "20261122T101600Z-mx-handed", "mx", spool.root());
  run.add(kIds[0], testing::message("a@x.test", {"b@example.com"}), "", true);        // killed before its outcome
  run.add(kIds[1], testing::message("a@x.test", {"b@example.com"}), "failed", true);  // postsuper died after acting
  run.add(kIds[2], testing::message("a@x.test", {"b@example.com"}), "", false);       // stored, never handed
  run.finish();
  FakePostfix postfix;
  postfix.spools[""] = spool.root();
  RestoreReport r = restore_from_archive(options_with(options_, run.dir(), spool.root()), postfix);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].outcome, "restored");
  EXPECT_EQ(r.messages[1].outcome, "restored");
  EXPECT_EQ(r.messages[2].outcome, "not_deleted");
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_EQ(m.messages[0].result_detail, "handed to postsuper and gone from every queue (settled by a restore)");
}

TEST_F(PutBackTest, HandedButStillInTheQueueIsNotDeleted) {
  TestSpool spool;
  ArchivedRun run(archive_.root(), "20261122T101700Z-mx-present", "mx", spool.root());
  const std::string rel = spool.put_message("deferred", kIds[0], testing::message("a@x.test", {"b@example.com"}));
  struct stat st;
  ASSERT_EQ(::stat((spool.root() + "/" + rel).c_str(), &st), 0);
  run.add(kIds[0], testing::message("a@x.test", {"b@example.com"}), "", true, st.st_ino);
  run.finish();
  FakePostfix postfix;
  postfix.spools[""] = spool.root();
  RestoreReport r = restore_from_archive(options_with(options_, run.dir(), spool.root()), postfix);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].outcome, "not_deleted");
  EXPECT_TRUE(fs::exists(spool.root() + "/" + rel));
}

}  // namespace
}  // namespace qpurge
