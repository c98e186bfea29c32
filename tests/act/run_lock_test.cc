// SPDX-License-Identifier: MIT
// run_lock_test.cc - naming run locks for a directory's id, describing their
// holder, and taking several in one fixed order, once per directory (with a
// fake System; the real flock is in app/real_system_test.cc).
#include "qpurge/act/run_lock.h"

#include <gtest/gtest.h>

#include "support/fake_system.h"

namespace qpurge {
namespace {

using testing::FakeSystem;

TEST(RunLockTest, NamesTheLockForTheDirectoryNotAPath) {
  EXPECT_EQ(lock_file_name(DirectoryId{2049, 1310723}), "queue-2049-1310723.lock");
  EXPECT_EQ(lock_file_name(DirectoryId{0, 0}), "queue-0-0.lock");
  EXPECT_EQ(lock_file_name(DirectoryId{~0ull, ~0ull}), "queue-18446744073709551615-18446744073709551615.lock");
  // No two ids share a name: the separator keeps device and inode apart.
  EXPECT_NE(lock_file_name(DirectoryId{1, 23}), lock_file_name(DirectoryId{12, 3}));
}

TEST(RunLockTest, DescribesTheHolder) {
  const std::string record = lock_holder_record(1234, lock_command({"qpurge", "--all", "--yes"}), "/var/spool/postfix");
  EXPECT_EQ(record, "1234\nqpurge --all --yes\n/var/spool/postfix\n");
  EXPECT_EQ(describe_holder(record), "PID 1234: qpurge --all --yes");
  EXPECT_EQ(holder_directory(record), "/var/spool/postfix");
  EXPECT_EQ(lock_command({"qpurge", "--sender", "a\nb"}), "qpurge --sender a b");
  EXPECT_EQ(describe_holder(""), "PID unknown: its lock file names no holder yet");
  EXPECT_EQ(describe_holder("12x\nqpurge\n"), "PID unknown: its lock file names no holder yet");
  EXPECT_EQ(describe_holder("77\n"), "PID 77");
  EXPECT_EQ(describe_holder("77\n" + std::string(5000, 'q')).size(), std::string("PID 77: ").size() + 1000);
}

TEST(RunLockTest, HolderDirectoryIsOneWholeLine) {
  // A directory with a newline is written escaped, on one line.
  EXPECT_EQ(lock_holder_record(5, "qpurge", "/a\nb"), "5\nqpurge\n/a\\x0ab\n");
  EXPECT_EQ(holder_directory(lock_holder_record(5, "qpurge", "/a\nb")), "/a\\x0ab");
  EXPECT_EQ(holder_directory("4242\nqpurge --all --yes\n"), "") << "an older qpurge names none";
  EXPECT_EQ(holder_directory("4242\nqpurge --all --yes\n/var/spo"), "") << "cut while written";
  EXPECT_EQ(holder_directory(""), "");
}

TEST(RunLockTest, TakesLocksInTheOrderOfTheirIdsEachOnce) {
  FakeSystem sys;
  sys.dir_ids = {{"/var/spool/a", {8, 900}}, {"/var/spool/z", {8, 20}}};
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  LockRequest req{{"/var/spool/z", "/var/spool/a", "/var/spool/z"}, {"qpurge", "--all"}, 0, {}};
  ASSERT_TRUE(take_run_locks(sys, req, held, refusal)) << refusal;
  EXPECT_EQ(sys.locked, (std::vector<std::string>{"/var/spool/z", "/var/spool/a"}));
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(sys.lock_command, "qpurge --all");
  held.clear();
  EXPECT_EQ(sys.locks_held, 0);
}

// Two paths to one directory (a bind mount) are one lock, taken once: a run
// over both does not refuse itself.
TEST(RunLockTest, TwoPathsToOneDirectoryAreOneLock) {
  FakeSystem sys;
  sys.dir_ids = {{"/var/spool/postfix", {8, 1}}, {"/mnt/bind", {8, 1}}};
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  LockRequest req{{"/var/spool/postfix", "/mnt/bind"}, {"qpurge"}, 0, {}};
  ASSERT_TRUE(take_run_locks(sys, req, held, refusal)) << refusal;
  EXPECT_EQ(sys.lock_tries, std::vector<std::string>{"/mnt/bind"});
  EXPECT_EQ(held.size(), 1u);
}

// The holder took the lock through the real path; this run came by a bind
// mount: refused, naming both paths.
TEST(RunLockTest, RefusalNamesThePathTheHolderCameBy) {
  FakeSystem sys;
  sys.dir_ids = {{"/mnt/bind", {8, 1}}};
  sys.busy = {"/mnt/bind"};
  sys.busy_holder = lock_holder_record(4242, "qpurge --all --yes --rate 1", "/var/spool/postfix");
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  EXPECT_FALSE(take_run_locks(sys, LockRequest{{"/mnt/bind"}, {"qpurge"}, 0, {}}, held, refusal));
  EXPECT_EQ(refusal,
            "another qpurge is acting on /mnt/bind, the same directory as /var/spool/postfix (PID 4242: qpurge "
            "--all --yes --rate 1; lock file /run/qpurge/queue-8-1.lock); nothing changed (--wait SECONDS waits "
            "for it)");
  sys.busy = {"/var/spool/postfix"};
  sys.dir_ids["/var/spool/postfix"] = {8, 1};
  EXPECT_FALSE(take_run_locks(sys, LockRequest{{"/var/spool/postfix"}, {"qpurge"}, 0, {}}, held, refusal));
  EXPECT_EQ(refusal.rfind("another qpurge is acting on /var/spool/postfix (PID 4242: ", 0), 0u) << refusal;
}

TEST(RunLockTest, AQueueDirectoryThatCannotBeFoundIsRefused) {
  FakeSystem sys;
  sys.missing_dirs = {"/var/spool/gone"};
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  EXPECT_FALSE(take_run_locks(sys, LockRequest{{"/var/spool/a", "/var/spool/gone"}, {"qpurge"}, 0, {}}, held, refusal));
  EXPECT_EQ(refusal,
            "cannot take the run lock of /var/spool/gone: /var/spool/gone: No such file or directory; nothing "
            "changed");
  EXPECT_TRUE(sys.lock_tries.empty()) << "nothing is tried before every directory is known";
  EXPECT_EQ(sys.locks_held, 0);
}

TEST(RunLockTest, RefusalLetsGoOfWhatWasTaken) {
  FakeSystem sys;
  sys.busy = {"/var/spool/z"};
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  std::vector<std::string> told;
  LockRequest req{{"/var/spool/z", "/var/spool/a"}, {"qpurge"}, 1, [&](const std::string& s) { told.push_back(s); }};
  sys.dir_ids = {{"/var/spool/a", {8, 1}}, {"/var/spool/z", {8, 2}}};
  EXPECT_FALSE(take_run_locks(sys, req, held, refusal));
  EXPECT_EQ(told, std::vector<std::string>{"waiting up to 1 s for another qpurge acting on /var/spool/z (PID 4242: "
                                           "qpurge --all --yes)"});
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(sys.locks_held, 0);
  EXPECT_EQ(refusal,
            "another qpurge is acting on /var/spool/z (PID 4242: qpurge --all --yes; lock file "
            "/run/qpurge/queue-8-2.lock); nothing changed after waiting 1 s for it");
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(10, 100000));
}

TEST(RunLockTest, WaitingStopsAtTheDeadlineExactly) {
  FakeSystem sys;
  sys.busy = {"/q"};
  sys.busy_tries = 1000;
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  EXPECT_FALSE(take_run_locks(sys, LockRequest{{"/q"}, {"qpurge"}, 3, {}}, held, refusal));
  std::int64_t slept = 0;
  for (std::int64_t us : sys.sleeps_us) slept += us;
  EXPECT_EQ(slept, 3000000);
}

}  // namespace
}  // namespace qpurge
