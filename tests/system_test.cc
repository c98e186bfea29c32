// SPDX-License-Identifier: MIT
// system_test.cc - the real System's file writes: --save-plan never follows
// a symlink and never leaves half a file.
#include "qpurge/system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "qpurge/run_lock.h"

namespace qpurge {
namespace {

class SystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qpurge-system-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string dir_;
  RealSystem sys_;
};

TEST_F(SystemTest, WriteFileReplacesASymlinkInsteadOfFollowingIt) {
  std::ofstream(dir_ + "/victim") << "precious";
  std::filesystem::create_symlink(dir_ + "/victim", dir_ + "/plan.json");
  std::string error;
  ASSERT_TRUE(sys_.write_file(dir_ + "/plan.json", "{\"qpurge_plan\": 1}\n", error)) << error;
  EXPECT_EQ(slurp(dir_ + "/victim"), "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(dir_ + "/plan.json"));
  EXPECT_EQ(slurp(dir_ + "/plan.json"), "{\"qpurge_plan\": 1}\n");
}

TEST_F(SystemTest, WriteFileFailsWholeAndSaysWhere) {
  std::string error;
  EXPECT_FALSE(sys_.write_file(dir_ + "/no/such/dir/plan.json", "x", error));
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/no"));
}

TEST_F(SystemTest, ReadFileNamesTheFile) {
  std::string text, error;
  EXPECT_FALSE(sys_.read_file(dir_ + "/missing", text, error));
  EXPECT_EQ(error, dir_ + "/missing: No such file or directory");
}

// The run lock: flock on a file in QPURGE_LOCK_DIR named for the queue.
class RunLockFileTest : public SystemTest {
 protected:
  void SetUp() override {
    SystemTest::SetUp();
    ::setenv(kLockDirVariable, (dir_ + "/locks").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv(kLockDirVariable);
    SystemTest::TearDown();
  }
};

TEST_F(RunLockFileTest, SecondTryFindsTheFirstHolder) {
  LockAttempt first = sys_.try_lock_queue(dir_, "qpurge --all --yes");
  ASSERT_TRUE(first.lock) << first.error;
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/locks").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(first.path, dir_ + "/locks/" + lock_file_name(dir_));
  LockAttempt second = sys_.try_lock_queue(dir_ + "/", "qpurge --sender x");
  EXPECT_FALSE(second.lock);
  EXPECT_TRUE(second.busy);
  EXPECT_EQ(second.holder, std::to_string(::getpid()) + "\nqpurge --all --yes\n");
  first.lock.reset();
  EXPECT_EQ(slurp(first.path), "") << "a released lock names nobody";
  LockAttempt third = sys_.try_lock_queue(dir_, "qpurge --sender x");
  EXPECT_TRUE(third.lock) << third.error;
}

TEST_F(RunLockFileTest, SymlinkedLockFileIsRefused) {
  std::filesystem::create_directory(dir_ + "/locks");
  ::chmod((dir_ + "/locks").c_str(), 0700);
  std::ofstream(dir_ + "/victim") << "precious";
  std::filesystem::create_symlink(dir_ + "/victim", dir_ + "/locks/" + lock_file_name(dir_));
  LockAttempt a = sys_.try_lock_queue(dir_, "qpurge");
  EXPECT_FALSE(a.lock);
  EXPECT_FALSE(a.busy);
  EXPECT_EQ(a.error, a.path + ": is a symlink; refused");
  EXPECT_EQ(slurp(dir_ + "/victim"), "precious");
}

TEST_F(RunLockFileTest, LockDirectoryThatCannotBeMadeIsAnError) {
  ::setenv(kLockDirVariable, "/proc/qpurge-locks", 1);
  LockAttempt a = sys_.try_lock_queue(dir_, "qpurge");
  EXPECT_FALSE(a.lock);
  EXPECT_FALSE(a.busy);
  EXPECT_EQ(a.error.rfind("/proc/qpurge-locks: ", 0), 0u) << a.error;
  std::filesystem::create_directory(dir_ + "/open");
  ::chmod((dir_ + "/open").c_str(), 0777);
  ::setenv(kLockDirVariable, (dir_ + "/open").c_str(), 1);
  a = sys_.try_lock_queue(dir_, "qpurge");
  EXPECT_FALSE(a.lock);
  EXPECT_NE(a.error.find("that only it may write to"), std::string::npos) << a.error;
}

}  // namespace
}  // namespace qpurge
