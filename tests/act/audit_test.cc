// SPDX-License-Identifier: MIT
// audit_test.cc - the audit log: one whole record or none, on a full disk too.
#include "qpurge/act/audit.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "support/files.h"

namespace qpurge {
namespace {

using testing::slurp;
using testing::spit;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qpurge-audit-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(root_); }
  std::string path(const std::string& name) const { return root_ + "/" + name; }

 private:
  std::string root_;
};

TEST(AuditLogTest, AppendsWholeLines) {
  TempDir dir;
  AuditLog log(dir.path("sub/audit.jsonl"));
  std::string error;
  ASSERT_TRUE(log.open(error)) << error;
  ASSERT_TRUE(log.append("{\"a\": 1}\n", error)) << error;
  ASSERT_TRUE(log.append("{\"b\": 2}", error)) << error;  // the newline is added
  EXPECT_EQ(slurp(dir.path("sub/audit.jsonl")), "{\"a\": 1}\n{\"b\": 2}\n");
}

ssize_t write_half(int fd, const void* data, size_t size) { return ::write(fd, data, size / 2); }
ssize_t write_enospc(int, const void*, size_t) {
  errno = ENOSPC;
  return -1;
}

// The real system calls but for write(2).
const SysCalls& with_write(ssize_t (*write)(int, const void*, size_t)) {
  static SysCalls calls;
  calls = SysCalls::real();
  calls.write_fd = write;
  return calls;
}

TEST(AuditLogTest, ShortWriteIsRolledBack) {
  TempDir dir;
  spit(dir.path("audit.jsonl"), "{\"old\": 1}\n");
  AuditLog log(dir.path("audit.jsonl"), with_write(write_half));
  std::string error;
  ASSERT_TRUE(log.open(error)) << error;
  EXPECT_FALSE(log.append("{\"new\": 2}\n", error));
  EXPECT_EQ(error, "audit log " + dir.path("audit.jsonl") +
                       ": write wrote nothing after 10 of 11 bytes: the partial record was rolled back");
  EXPECT_EQ(slurp(dir.path("audit.jsonl")), "{\"old\": 1}\n");
}

TEST(AuditLogTest, FailedWriteIsReportedWithErrno) {
  TempDir dir;
  AuditLog log(dir.path("audit.jsonl"), with_write(write_enospc));
  std::string error;
  ASSERT_TRUE(log.open(error)) << error;
  EXPECT_FALSE(log.append("{\"new\": 2}\n", error));
  EXPECT_EQ(error,
            "audit log " + dir.path("audit.jsonl") + ": No space left on device: the partial record was rolled back");
  EXPECT_EQ(slurp(dir.path("audit.jsonl")), "");
}

TEST(AuditLogTest, RecordAfterATornLineStartsOnAFreshLine) {
  TempDir dir;
  spit(dir.path("audit.jsonl"), "{\"old\": 1}\n{\"torn\": ");
  AuditLog log(dir.path("audit.jsonl"));
  std::string error;
  ASSERT_TRUE(log.open(error)) << error;
  ASSERT_TRUE(log.append("{\"new\": 2}\n", error)) << error;
  EXPECT_EQ(slurp(dir.path("audit.jsonl")), "{\"old\": 1}\n{\"torn\": \n{\"new\": 2}\n");
}

// A real short write: a file size limit (as a full disk would) with SIGXFSZ
// ignored, so write() returns what fitted and then EFBIG.
TEST(AuditLogTest, FileSizeLimitLeavesNoTornRecord) {
  TempDir dir;
  const std::string path = dir.path("audit.jsonl");
  spit(path, "{\"old\": 1}\n");
  AuditLog log(path);
  std::string error;
  ASSERT_TRUE(log.open(error)) << error;
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &old_action);
  const std::string record = "{\"new\": \"far more than nine bytes\"}\n";
  struct rlimit small = saved;
  small.rlim_cur = 20;  // 9 bytes fit after the 11 there
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool short_ok = log.append(record, error);
  std::string short_error = error;
  small.rlim_cur = 11;  // nothing fits: EFBIG
  ::setrlimit(RLIMIT_FSIZE, &small);
  bool full_ok = log.append(record, error);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_FALSE(short_ok);
  EXPECT_EQ(short_error, "audit log " + path + ": File too large after 9 of " + std::to_string(record.size()) +
                             " bytes: the partial record was rolled back");
  EXPECT_FALSE(full_ok);
  EXPECT_EQ(error, "audit log " + path + ": File too large: the partial record was rolled back");
  EXPECT_EQ(slurp(path), "{\"old\": 1}\n");
  ASSERT_TRUE(log.append("{\"next\": 3}\n", error)) << error;
  EXPECT_EQ(slurp(path), "{\"old\": 1}\n{\"next\": 3}\n");
}

}  // namespace
}  // namespace qpurge
