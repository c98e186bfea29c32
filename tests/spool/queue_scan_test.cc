// SPDX-License-Identifier: MIT
// queue_scan_test.cc - the queue walk: hashed directories, names, file kinds,
// deterministic order on any number of threads, system call failures.
#include "qpurge/spool/queue_scan.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <system_error>
#include <thread>

#include "support/test_spool.h"

namespace qpurge {
namespace {

using testing::message;
using testing::TestSpool;

struct Seen {
  std::vector<std::string> order;  // path:status
  std::map<std::string, std::string> errors;
  ScanStats stats;
};

Seen scan(const TestSpool& spool, std::vector<std::string> queues, unsigned threads = 2,
          const SysCalls* sys = nullptr) {
  Seen seen;
  ScanOptions opt;
  opt.queue_directory = spool.root();
  opt.queues = std::move(queues);
  opt.threads = threads;
  opt.sys = sys;
  std::string error;
  bool ok = scan_queues(
      opt, [](const FileInfo&, const Message& m) { return std::any(std::string(m.sender_str())); },
      [&](ScanRecord& r) {
        std::string path = r.info.id.empty() ? *r.info.dir : r.info.path();
        seen.order.push_back(path + ":" + std::to_string(static_cast<int>(r.status)));
        if (!r.error.empty()) seen.errors[path] = r.error;
      },
      seen.stats, error);
  EXPECT_TRUE(ok) << error;
  return seen;
}

TEST(QueueScanTest, WalksHashedDirectoriesInPostfixOrder) {
  TestSpool spool;
  spool.put_message("deferred", "B0278A74127", message("a@x", {"r@y"}));
  spool.put_message("deferred", "10278A74127", message("b@x", {"r@y"}));
  spool.put_message("incoming", "20278A74127", message("c@x", {"r@y"}));
  spool.put_message("hold", "30278A74127", message("d@x", {"r@y"}));
  Seen s = scan(spool, {"hold", "deferred", "incoming"});
  std::vector<std::string> want = {"incoming/20278A74127:0", "deferred/1/10278A74127:0", "deferred/B/B0278A74127:0",
                                   "hold/30278A74127:0"};
  EXPECT_EQ(s.order, want);
  EXPECT_EQ(s.stats.messages, 4u);
}

// Within a directory, files come in byte order of their names: names that
// share their first eight bytes (the sort's integer key) and short IDs
// beside long ones (a prefix sorts first).
TEST(QueueScanTest, FilesOfADirectoryComeInNameOrder) {
  TestSpool spool;
  const std::vector<std::string> ids = {"4Fz9Kd1ZmQz5xY", "4Fz9Kd1ZmQz5xX", "4Fz9Kd1Zm1z5xX", "10278A74127",
                                        "10278A7412",     "10278A74128",    "10278A741"};
  for (const std::string& id : ids) spool.put("incoming", id, write_queue_file(message("a@x", {"r@y"})));
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> want;
  for (const std::string& id : sorted) want.push_back("incoming/" + id + ":0");
  EXPECT_EQ(scan(spool, {"incoming"}).order, want);
}

TEST(QueueScanTest, OnlyTheChosenQueues) {
  TestSpool spool;
  spool.put_message("deferred", "10278A74127", message("b@x", {"r@y"}));
  spool.put_message("hold", "30278A74127", message("d@x", {"r@y"}));
  Seen s = scan(spool, {"hold"});
  ASSERT_EQ(s.order.size(), 1u);
  EXPECT_EQ(s.order[0], "hold/30278A74127:0");
}

TEST(QueueScanTest, IgnoresNamesThatAreNotQueueIds) {
  TestSpool spool;
  std::string good = write_queue_file(message("a@x", {"r@y"}));
  spool.put("incoming", "123456.789", good);  // cleanup's temp name
  spool.put("incoming", "README", good);
  spool.put("incoming", "abc-def-ghi", good);
  spool.put("incoming", "20278A74127", good);
  Seen s = scan(spool, {"incoming"});
  EXPECT_EQ(s.order.size(), 1u);
  EXPECT_EQ(s.stats.ignored_names, 3u);
}

TEST(QueueScanTest, InProgressFilesAreCountedNotParsed) {
  TestSpool spool;
  spool.put("incoming", "20278A74127", "garbage that would not parse", 0600);
  spool.put("incoming", "20278A74128", write_queue_file(message("a@x", {"r@y"})), 0744 & ~0100);
  Seen s = scan(spool, {"incoming"});
  EXPECT_EQ(s.stats.in_progress, 2u);
  EXPECT_EQ(s.stats.unreadable, 0u);
}

TEST(QueueScanTest, ForcedExpireAndGroupBitsAreStillComplete) {
  TestSpool spool;
  spool.put("deferred", "20278A74127", write_queue_file(message("a@x", {"r@y"})), 0710);
  spool.put("deferred", "20278A74128", write_queue_file(message("a@x", {"r@y"})), 0740);
  Seen s = scan(spool, {"deferred"});
  EXPECT_EQ(s.stats.messages, 2u);
}

TEST(QueueScanTest, ReportsWhatIsNotARegularFileAndNeverOpensIt) {
  TestSpool spool;
  std::string dir = spool.root() + "/deferred/A";
  std::filesystem::create_directories(dir);
  ASSERT_EQ(::mkfifo((dir + "/A0278A74127").c_str(), 0700), 0);  // would block a plain open
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/A0278A74128").c_str()), 0);
  std::filesystem::create_directories(dir + "/A0278A74129");
  Seen s = scan(spool, {"deferred"});
  EXPECT_EQ(s.stats.not_regular, 3u);
  EXPECT_EQ(s.errors["deferred/A/A0278A74127"], "a FIFO, not a queue file");
  EXPECT_EQ(s.errors["deferred/A/A0278A74128"], "a symbolic link, not a queue file");
  EXPECT_EQ(s.errors["deferred/A/A0278A74129"], "a directory, not a queue file");
}

TEST(QueueScanTest, UnparsableFilesAreReportedWithPathAndReason) {
  TestSpool spool;
  spool.put("deferred", "20278A74127", "");
  std::string good = write_queue_file(message("a@x", {"r@y"}));
  spool.put("deferred", "20278A74128", good.substr(0, good.size() / 2));
  Seen s = scan(spool, {"deferred"});
  EXPECT_EQ(s.stats.unreadable, 2u);
  EXPECT_NE(s.errors["deferred/2/20278A74127"].find("empty file"), std::string::npos);
  EXPECT_NE(s.errors["deferred/2/20278A74128"].find("end of file"), std::string::npos);
}

TEST(QueueScanTest, OrderIsTheSameOnAnyNumberOfThreads) {
  TestSpool spool;
  char id[32];
  for (int i = 0; i < 700; ++i) {
    std::snprintf(id, sizeof id, "%05X%X", i * 997 % 1000000, 0x100000 + i);
    std::string sender = "s";  // not "s" + std::to_string(i): GCC bug 105651, a false -Wrestrict
    sender += std::to_string(i) + "@x";
    spool.put_message("deferred", id, message(sender, {"r@y"}));
  }
  Seen one = scan(spool, {"deferred"}, 1);
  Seen four = scan(spool, {"deferred"}, 4);
  EXPECT_EQ(one.order.size(), 700u);
  EXPECT_EQ(one.order, four.order);
}

// System calls that fail with EACCES for one name and are real otherwise.
const SysCalls* denying(const char* name) {
  static std::string denied;
  static SysCalls sys;
  denied = name;
  sys = SysCalls::real();
  sys.open_at = [](int dirfd, const char* n, int flags, mode_t mode) {
    if (denied == n) {
      errno = EACCES;
      return -1;
    }
    return SysCalls::real().open_at(dirfd, n, flags, mode);
  };
  return &sys;
}

TEST(QueueScanTest, PermissionDeniedIsReportedAndTheScanGoesOn) {
  TestSpool spool;
  spool.put_message("deferred", "20278A74127", message("a@x", {"r@y"}));
  spool.put_message("deferred", "20278A74128", message("b@x", {"r@y"}));
  Seen s = scan(spool, {"deferred"}, 2, denying("20278A74128"));
  EXPECT_EQ(s.stats.messages, 1u);
  EXPECT_EQ(s.stats.unreadable, 1u);
  EXPECT_EQ(s.errors["deferred/2/20278A74128"], "open: Permission denied");
}

TEST(QueueScanTest, UnreadableDirectoryIsReported) {
  TestSpool spool;
  spool.put_message("deferred", "20278A74127", message("a@x", {"r@y"}));
  Seen s = scan(spool, {"deferred"}, 2, denying("2"));
  EXPECT_EQ(s.stats.bad_directories, 1u);
  EXPECT_EQ(s.errors["deferred/2"], "open directory: Permission denied");
}

// The scan as scan() above, but returning scan_queues()'s result and error.
bool scan_fails(const TestSpool& spool, std::vector<std::string> queues, unsigned threads, const SysCalls* sys,
                std::string& error, std::size_t& consumed) {
  ScanOptions opt;
  opt.queue_directory = spool.root();
  opt.queues = std::move(queues);
  opt.threads = threads;
  opt.sys = sys;
  ScanStats stats;
  consumed = 0;
  return scan_queues(
      opt, [](const FileInfo&, const Message&) { return std::any(); }, [&](ScanRecord&) { ++consumed; }, stats, error);
}

TEST(QueueScanTest, PermissionDeniedOnAQueueIsFatal) {
  TestSpool spool;
  spool.put_message("incoming", "20278A74127", message("a@x", {"r@y"}));
  spool.put_message("deferred", "20278A74128", message("b@x", {"r@y"}));
  struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  ASSERT_EQ(::chown((spool.root() + "/deferred").c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  std::string error;
  std::size_t consumed = 0;
  EXPECT_FALSE(scan_fails(spool, {"incoming", "deferred", "hold"}, 2, denying("deferred"), error, consumed));
  EXPECT_EQ(error, spool.root() + "/deferred: Permission denied: run as root or as the mail_owner (nobody)");
}

TEST(QueueScanTest, PermissionDeniedOnTheQueueDirectoryIsFatal) {
  TestSpool spool;
  std::string error;
  std::size_t consumed = 0;
  static std::string root;
  root = spool.root();
  EXPECT_FALSE(scan_fails(spool, {"deferred"}, 2, denying(root.c_str()), error, consumed));
  EXPECT_EQ(error, spool.root() + ": Permission denied: run as root or as the mail_owner");
  EXPECT_EQ(consumed, 0u);
}

// Thread creation that fails after `allowed` threads, as under a low ulimit -v.
std::thread spawn_limited(std::function<void()> body) {
  static std::atomic<int> started{0};
  if (!body) {  // reset
    started = 0;
    return {};
  }
  if (started.fetch_add(1) >= 3)
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
  return std::thread(std::move(body));
}

TEST(QueueScanTest, ThreadCreationFailureStopsTheScanCleanly) {
  TestSpool spool;
  spool.put_message("deferred", "20278A74127", message("a@x", {"r@y"}));
  static SysCalls sys;
  sys = SysCalls::real();
  sys.spawn_thread = spawn_limited;
  spawn_limited({});
  std::string error;
  std::size_t consumed = 0;
  EXPECT_FALSE(scan_fails(spool, {"deferred"}, 16, &sys, error, consumed));
  EXPECT_EQ(error, "cannot start scan thread 5 of 16: Resource temporarily unavailable");
  EXPECT_EQ(consumed, 0u);
}

TEST(QueueScanTest, RefusesAbsurdThreadCounts) {
  TestSpool spool;
  std::string error;
  std::size_t consumed = 0;
  EXPECT_FALSE(scan_fails(spool, {"deferred"}, 257, nullptr, error, consumed));
  EXPECT_EQ(error, "internal error: 257 scan threads requested (at most 256)");
}

TEST(QueueScanTest, MissingQueueDirectoryIsAFatalError) {
  ScanOptions opt;
  opt.queue_directory = "/nonexistent/qpurge";
  opt.queues = {"deferred"};
  ScanStats stats;
  std::string error;
  EXPECT_FALSE(scan_queues(opt, {}, {}, stats, error));
  EXPECT_EQ(error, "/nonexistent/qpurge: No such file or directory");
}

}  // namespace
}  // namespace qpurge
