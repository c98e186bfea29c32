// SPDX-License-Identifier: MIT
// run_lock_test.cc - naming run locks, describing their holder, and taking
// several in one fixed order (with a fake System; the real flock is in
// system_test.cc).
#include "qpurge/run_lock.h"

#include <gtest/gtest.h>

#include "support/fake_system.h"

namespace qpurge {
namespace {

using testing::FakeSystem;

TEST(RunLockTest, NamesTheQueueDirectoryInOneFileName) {
  struct Case {
    const char* label;
    const char* dir;
    const char* name;
  } cases[] = {
      {"usual", "/var/spool/postfix", "var-spool-postfix.lock"},
      {"trailing slash", "/var/spool/postfix/", "var-spool-postfix.lock"},
      {"dash kept apart from slash", "/var/spool/postfix-out", "var-spool-postfix%2Dout.lock"},
      {"dot inside", "/srv/mx.1/spool", "srv-mx.1-spool.lock"},
      {"leading dot", "/.hidden", "%2Ehidden.lock"},
      {"dot dot", "/..", "%2E..lock"},
      {"space and percent", "/a b%", "a%20b%25.lock"},
      {"root", "/", "-.lock"},
      {"newline", "/a\nb", "a%0Ab.lock"},
  };
  for (const Case& c : cases) EXPECT_EQ(lock_file_name(c.dir), c.name) << c.label;
  EXPECT_NE(lock_file_name("/var/spool/postfix-out"), lock_file_name("/var/spool/postfix/out"));
}

TEST(RunLockTest, VeryLongDirectoriesKeepDistinctShortNames) {
  const std::string a = "/" + std::string(300, 'a') + "/x", b = "/" + std::string(300, 'a') + "/y";
  EXPECT_LE(lock_file_name(a).size(), 210u);
  EXPECT_NE(lock_file_name(a), lock_file_name(b));
  EXPECT_EQ(lock_file_name(a), lock_file_name(a));
}

TEST(RunLockTest, DescribesTheHolder) {
  EXPECT_EQ(describe_holder(lock_holder_record(1234, lock_command({"qpurge", "--all", "--yes"}))),
            "PID 1234: qpurge --all --yes");
  EXPECT_EQ(lock_command({"qpurge", "--sender", "a\nb"}), "qpurge --sender a b");
  EXPECT_EQ(describe_holder(""), "PID unknown: its lock file names no holder yet");
  EXPECT_EQ(describe_holder("12x\nqpurge\n"), "PID unknown: its lock file names no holder yet");
  EXPECT_EQ(describe_holder("77\n"), "PID 77");
  EXPECT_EQ(describe_holder("77\n" + std::string(5000, 'q')).size(), std::string("PID 77: ").size() + 1000);
}

TEST(RunLockTest, TakesLocksInSortedOrderEachOnce) {
  FakeSystem sys;
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  LockRequest req{{"/var/spool/z", "/var/spool/a", "/var/spool/z"}, {"qpurge", "--all"}, 0, {}};
  ASSERT_TRUE(take_run_locks(sys, req, held, refusal)) << refusal;
  EXPECT_EQ(sys.locked, (std::vector<std::string>{"/var/spool/a", "/var/spool/z"}));
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(sys.lock_command, "qpurge --all");
  held.clear();
  EXPECT_EQ(sys.locks_held, 0);
}

TEST(RunLockTest, RefusalLetsGoOfWhatWasTaken) {
  FakeSystem sys;
  sys.busy = {"/var/spool/z"};
  std::vector<std::unique_ptr<RunLock>> held;
  std::string refusal;
  std::vector<std::string> told;
  LockRequest req{{"/var/spool/z", "/var/spool/a"}, {"qpurge"}, 1, [&](const std::string& s) { told.push_back(s); }};
  EXPECT_FALSE(take_run_locks(sys, req, held, refusal));
  EXPECT_EQ(told, std::vector<std::string>{"waiting up to 1 s for another qpurge acting on /var/spool/z (PID 4242: "
                                           "qpurge --all --yes)"});
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(sys.locks_held, 0);
  EXPECT_EQ(refusal,
            "another qpurge is acting on /var/spool/z (PID 4242: qpurge --all --yes; lock file "
            "/run/qpurge//var/spool/z.lock); nothing changed after waiting 1 s for it");
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
