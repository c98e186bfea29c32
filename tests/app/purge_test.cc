// SPDX-License-Identifier: MIT
// purge_test.cc - the frame of the engine (purge.cc), driven end to end with
// a fake System and a fake Postfix on temporary spools: who may act, --max,
// and the run lock taken before planning and held until acting is done.
// Every refusal changes nothing; looking (a dry run) takes no lock.
#include "qpurge/app/purge.h"

#include <gtest/gtest.h>

#include "support/cli_fixture.h"

namespace qpurge {
namespace {

class PurgeTest : public testing::CliFixture {};

TEST_F(PurgeTest, NotRootIsRefusedBeforeAnythingChanges) {
  fill();
  sys.euid = 1000;
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: fatal: acting on the queue is reserved for the superuser, as postsuper is; use --dry-run to "
            "look\n");
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone);  // looking is allowed
}

TEST_F(PurgeTest, MaxExceededChangesNothing) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--max", "5", "--yes"}), kExitFatal);
  const std::string refused = "qpurge: fatal: the plan has 20 messages, more than --max 5; nothing changed\n";
  EXPECT_EQ(err.str(), refused);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(run({"--domain", "example.com", "--max", "5", "--dry-run"}), kExitFatal);
  EXPECT_EQ(err.str(), refused);
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

// One acting run per queue: the lock is taken before planning and held
// until acting is done; a run that finds it taken changes nothing.
TEST_F(PurgeTest, BusyLockRefusesAtOnceAndChangesNothing) {
  fill();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(), "qpurge: fatal: another qpurge is acting on " + spool.root() +
                           " (PID 4242: qpurge --all --yes; lock file " + sys.lock_path(spool.root()) +
                           "); nothing changed (--wait SECONDS waits for it)\n");
  EXPECT_EQ(out.str(), "") << "refused before planning";
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_TRUE(sys.sleeps_us.empty());
  EXPECT_EQ(sys.locks_held, 0);
}

TEST_F(PurgeTest, DryRunsTakeNoLock) {
  fill();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--domain", "example.com", "--shape"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--domain", "example.com", "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--apply-plan", "p.json", "--dry-run"}), kExitDone) << err.str();
  EXPECT_TRUE(sys.lock_tries.empty());
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitFatal) << "applying a plan acts: it takes the lock";
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeTest, LockIsHeldWhileActingAndReleasedAfter) {
  fill();
  int held_during = -1;
  pf.after_run = [&](int) { held_during = sys.locks_held; };
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(held_during, 1);
  EXPECT_EQ(sys.locks_held, 0);
  EXPECT_EQ(sys.locked, std::vector<std::string>{spool.root()});
  EXPECT_EQ(sys.lock_command, "qpurge --domain example.com --yes");
  EXPECT_TRUE(sys.sleeps_us.empty()) << "no --rate, no pacing";
}

TEST_F(PurgeTest, WaitTakesTheLockOnceItIsFree) {
  fill();
  sys.busy = {spool.root()};
  sys.busy_tries = 3;
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--wait", "5"}), kExitDone) << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(3, 100000));
  EXPECT_EQ(err.str(), "qpurge: waiting up to 5 s for another qpurge acting on " + spool.root() +
                           " (PID 4242: qpurge --all --yes)\n");
  EXPECT_EQ(files_in("deferred"), 1u);
}

TEST_F(PurgeTest, WaitThenRefuseChangesNothing) {
  fill();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--wait", "2"}), kExitFatal);
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(20, 100000));
  EXPECT_EQ(err.str(), "qpurge: waiting up to 2 s for another qpurge acting on " + spool.root() +
                           " (PID 4242: qpurge --all --yes)\nqpurge: fatal: another qpurge is acting on " +
                           spool.root() + " (PID 4242: qpurge --all --yes; lock file " + sys.lock_path(spool.root()) +
                           "); nothing changed after waiting 2 s for it\n");
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
}

TEST_F(PurgeTest, LockThatCannotBeMadeIsARefusal) {
  fill();
  sys.lock_error = "/run/qpurge: Read-only file system";
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(), "qpurge: fatal: cannot take the run lock of " + spool.root() +
                           ": /run/qpurge: Read-only file system; nothing changed (QPURGE_LOCK_DIR names another lock "
                           "directory)\n");
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << "looking needs no lock";
}

}  // namespace
}  // namespace qpurge
