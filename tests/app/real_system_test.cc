// SPDX-License-Identifier: MIT
// real_system_test.cc - the real System's file writes: --save-plan and --output
// never follow a symlink and never leave half a file; the data is synced
// before the rename and the directory after it.
#include "qpurge/app/real_system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "qpurge/act/run_lock.h"
#include "support/files.h"

namespace qpurge {
namespace {

using testing::slurp;

// Every fsync and rename write_file() makes, in order; each can be made to fail.
std::vector<std::string> g_calls;
bool g_fail_fsync = false, g_fail_rename = false;

std::string fd_path(int fd) { return std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd)).string(); }
int watched_fsync(int fd) {
  g_calls.push_back("fsync " + fd_path(fd));
  if (g_fail_fsync) {
    errno = EIO;
    return -1;
  }
  return ::fsync(fd);
}
int watched_rename(const char* from, const char* to) {
  g_calls.push_back(std::string("rename ") + from + " " + to);
  if (g_fail_rename) {
    errno = EXDEV;
    return -1;
  }
  return std::rename(from, to);
}
const SysCalls& watched() {
  static SysCalls calls = SysCalls::real();
  calls.fsync_fd = watched_fsync;
  calls.rename_path = watched_rename;
  return calls;
}

class SystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qpurge-system-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    g_calls.clear();
    g_fail_fsync = g_fail_rename = false;
  }
  std::vector<std::string> listing() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  RealSystem sys_;
};

TEST_F(SystemTest, WriteFileReplacesASymlinkInsteadOfFollowingIt) {
  std::ofstream(dir_ + "/victim") << "precious";
  std::filesystem::create_symlink(dir_ + "/victim", dir_ + "/plan.json");
  std::string error;
  ASSERT_TRUE(sys_.write_file(dir_ + "/plan.json", "{\"qpurge_plan\": 1}\n", 0600, error)) << error;
  EXPECT_EQ(slurp(dir_ + "/victim"), "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(dir_ + "/plan.json"));
  EXPECT_EQ(slurp(dir_ + "/plan.json"), "{\"qpurge_plan\": 1}\n");
}

TEST_F(SystemTest, WriteFileFailsWholeAndSaysWhere) {
  std::string error;
  EXPECT_FALSE(sys_.write_file(dir_ + "/no/such/dir/plan.json", "x", 0600, error));
  // The temporary file beside it could not be made: "DIR/plan.json.qpurge-PID.tmp: ...".
  EXPECT_EQ(error,
            dir_ + "/no/such/dir/plan.json.qpurge-" + std::to_string(::getpid()) + ".tmp: No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/no"));
}

TEST_F(SystemTest, WriteFileSyncsTheDataBeforeTheRenameAndTheDirectoryAfterIt) {
  RealSystem sys(watched());
  std::string error;
  ASSERT_TRUE(sys.write_file(dir_ + "/qpurge.prom", "new\n", 0644, error)) << error;
  const std::string tmp = dir_ + "/qpurge.prom.qpurge-" + std::to_string(::getpid()) + ".tmp";
  EXPECT_EQ(g_calls,
            (std::vector<std::string>{"fsync " + tmp, "rename " + tmp + " " + dir_ + "/qpurge.prom", "fsync " + dir_}));
  EXPECT_EQ(slurp(dir_ + "/qpurge.prom"), "new\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"qpurge.prom"});  // no temporary file left
}

TEST_F(SystemTest, WriteFileGivesTheModeAskedForWhateverTheUmask) {
  const mode_t old = ::umask(077);
  std::string error;
  ASSERT_TRUE(sys_.write_file(dir_ + "/qpurge.prom", "x\n", 0644, error)) << error;
  ASSERT_TRUE(sys_.write_file(dir_ + "/plan.json", "x\n", 0600, error)) << error;
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/qpurge.prom").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  ASSERT_EQ(::stat((dir_ + "/plan.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(SystemTest, WriteFileThatCannotSyncLeavesTheOldFileAndNoTemporaryOne) {
  std::ofstream(dir_ + "/qpurge.prom") << "old\n";
  RealSystem sys(watched());
  g_fail_fsync = true;
  std::string error;
  EXPECT_FALSE(sys.write_file(dir_ + "/qpurge.prom", "new\n", 0644, error));
  EXPECT_NE(error.find(".tmp: Input/output error"), std::string::npos) << error;
  EXPECT_EQ(g_calls.size(), 1u);  // never renamed
  EXPECT_EQ(slurp(dir_ + "/qpurge.prom"), "old\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"qpurge.prom"});
}

TEST_F(SystemTest, WriteFileThatCannotRenameLeavesTheOldFileAndNoTemporaryOne) {
  std::ofstream(dir_ + "/qpurge.prom") << "old\n";
  RealSystem sys(watched());
  g_fail_rename = true;
  std::string error;
  EXPECT_FALSE(sys.write_file(dir_ + "/qpurge.prom", "new\n", 0644, error));
  EXPECT_EQ(error, dir_ + "/qpurge.prom: Invalid cross-device link");
  EXPECT_EQ(slurp(dir_ + "/qpurge.prom"), "old\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"qpurge.prom"});
}

TEST_F(SystemTest, ReadFileNamesTheFile) {
  std::string text, error;
  EXPECT_FALSE(sys_.read_file(dir_ + "/missing", text, error));
  EXPECT_EQ(error, dir_ + "/missing: No such file or directory");
}

// The run lock: flock on a file in QPURGE_LOCK_DIR named for the queue
// directory's device and inode.
class RunLockFileTest : public SystemTest {
 protected:
  void SetUp() override {
    SystemTest::SetUp();
    ::setenv(kLockDirVariable, (dir_ + "/locks").c_str(), 1);
    std::string error;
    ASSERT_TRUE(sys_.directory_id(dir_, id_, error)) << error;
  }
  void TearDown() override {
    ::unsetenv(kLockDirVariable);
    SystemTest::TearDown();
  }
  DirectoryId id_;
};

TEST_F(RunLockFileTest, DirectoryIdIsDeviceAndInode) {
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(id_, (DirectoryId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)}));
  DirectoryId other;
  std::string error;
  std::filesystem::create_directory_symlink(dir_, dir_ + "-link");
  ASSERT_TRUE(sys_.directory_id(dir_ + "-link/", other, error)) << error;
  EXPECT_EQ(other, id_) << "a symlink leads to the same directory";
  std::filesystem::remove(dir_ + "-link");
  ASSERT_TRUE(sys_.directory_id(dir_ + "/..", other, error)) << error;
  EXPECT_NE(other, id_);
  EXPECT_FALSE(sys_.directory_id(dir_ + "/missing", other, error));
  EXPECT_EQ(error, dir_ + "/missing: No such file or directory");
  std::ofstream(dir_ + "/file") << "x";
  EXPECT_FALSE(sys_.directory_id(dir_ + "/file", other, error));
  EXPECT_EQ(error, dir_ + "/file: not a directory");
}

TEST_F(RunLockFileTest, SecondTryFindsTheFirstHolder) {
  LockAttempt first = sys_.try_lock_queue(dir_, id_, "qpurge --all --yes");
  ASSERT_TRUE(first.lock) << first.error;
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/locks").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(first.path, dir_ + "/locks/" + lock_file_name(id_));
  EXPECT_EQ(slurp(first.path), std::to_string(::getpid()) + "\nqpurge --all --yes\n" + dir_ + "\n");
  // Another path to the same directory, as a bind mount gives: the same lock.
  LockAttempt second = sys_.try_lock_queue("/mnt/elsewhere", id_, "qpurge --sender x");
  EXPECT_FALSE(second.lock);
  EXPECT_TRUE(second.busy);
  EXPECT_EQ(second.path, first.path);
  EXPECT_EQ(second.holder, std::to_string(::getpid()) + "\nqpurge --all --yes\n" + dir_ + "\n");
  first.lock.reset();
  EXPECT_EQ(slurp(first.path), "") << "a released lock names nobody";
  LockAttempt third = sys_.try_lock_queue(dir_, id_, "qpurge --sender x");
  EXPECT_TRUE(third.lock) << third.error;
}

TEST_F(RunLockFileTest, SymlinkedLockFileIsRefused) {
  std::filesystem::create_directory(dir_ + "/locks");
  ::chmod((dir_ + "/locks").c_str(), 0700);
  std::ofstream(dir_ + "/victim") << "precious";
  std::filesystem::create_symlink(dir_ + "/victim", dir_ + "/locks/" + lock_file_name(id_));
  LockAttempt a = sys_.try_lock_queue(dir_, id_, "qpurge");
  EXPECT_FALSE(a.lock);
  EXPECT_FALSE(a.busy);
  EXPECT_EQ(a.error, a.path + ": is a symlink; refused");
  EXPECT_EQ(slurp(dir_ + "/victim"), "precious");
}

TEST_F(RunLockFileTest, LockDirectoryThatCannotBeMadeIsAnError) {
  ::setenv(kLockDirVariable, "/proc/qpurge-locks", 1);
  LockAttempt a = sys_.try_lock_queue(dir_, id_, "qpurge");
  EXPECT_FALSE(a.lock);
  EXPECT_FALSE(a.busy);
  EXPECT_EQ(a.error.rfind("/proc/qpurge-locks: ", 0), 0u) << a.error;
  std::filesystem::create_directory(dir_ + "/open");
  ::chmod((dir_ + "/open").c_str(), 0777);
  ::setenv(kLockDirVariable, (dir_ + "/open").c_str(), 1);
  a = sys_.try_lock_queue(dir_, id_, "qpurge");
  EXPECT_FALSE(a.lock);
  EXPECT_EQ(a.error,
            dir_ + "/open: not a directory of uid " + std::to_string(::geteuid()) + " that only it may write to");
}

}  // namespace
}  // namespace qpurge
