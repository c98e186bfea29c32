// SPDX-License-Identifier: MIT
// runs_test.cc - listing and pruning archive runs (archive/runs.h).
#include "qpurge/archive/runs.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "qpurge/archive/writer.h"
#include "qpurge/util/sha256.h"
#include "support/archived_run.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::ArchivedRun;
using testing::spit;
using testing::TestSpool;

TEST(ArchiveRunsTest, ListsRunsOldestFirstWithBrokenOnesNoted) {
  TestSpool dir;
  ArchivedRun newer(dir.root(), "20261122T101500Z-mx-bbb", "mx", "/var/spool/postfix", 1795400100);
  std::string a = newer.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  std::string b = newer.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}), "failed");
  newer.finish();
  ArchivedRun older(dir.root(), "20261101T000000Z-mx-aaa", "mx", "/var/spool/postfix", 1793491200);
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
  ArchivedRun old_run(dir.root(), "20261101T000000Z-mx-aaa", "mx", "/var/spool/postfix", now - 10 * day);
  old_run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  old_run.finish();
  ArchivedRun new_run(dir.root(), "20261122T101500Z-mx-bbb", "mx", "/var/spool/postfix", now - day);
  new_run.finish();
  // Not a qpurge run, however old its name: never removed.
  fs::create_directories(dir.root() + "/20200101T000000Z-x-zzz");
  spit(dir.root() + "/20200101T000000Z-x-zzz/manifest.jsonl", "{\"something\": \"else\"}\n");
  // A symbolic link to an old run elsewhere: neither followed nor removed.
  TestSpool elsewhere;
  ArchivedRun target(elsewhere.root(), "20200101T000000Z-mx-lnk", "mx", "/var/spool/postfix", now - 100 * day);
  target.finish();
  fs::create_directory_symlink(target.dir(), dir.root() + "/20200101T000000Z-mx-lnk");

  PruneReport report;
  std::string error;
  ASSERT_TRUE(prune_archive_runs(dir.root(), 7 * day, now, true, report, error)) << error;
  EXPECT_EQ(report.removed, std::vector<std::string>{old_run.dir()});
  EXPECT_TRUE(fs::exists(old_run.dir() + "/4A1B2C3D4E"));  // dry run: nothing removed
  EXPECT_TRUE(fs::exists(old_run.dir() + "/manifest.jsonl"));

  ASSERT_TRUE(prune_archive_runs(dir.root(), 7 * day, now, false, report, error)) << error;
  EXPECT_EQ(report.removed, std::vector<std::string>{old_run.dir()});
  EXPECT_EQ(report.busy, std::vector<std::string>{});
  EXPECT_EQ(report.failed, std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(old_run.dir()));
  EXPECT_TRUE(fs::exists(new_run.dir() + "/manifest.jsonl"));
  EXPECT_TRUE(fs::exists(dir.root() + "/20200101T000000Z-x-zzz/manifest.jsonl"));
  EXPECT_TRUE(fs::is_symlink(dir.root() + "/20200101T000000Z-mx-lnk"));
  EXPECT_TRUE(fs::exists(target.dir() + "/manifest.jsonl"));
}

// Issue 19 item 9 (E_idsfrom_prune): a run made with 40,000 --ids-from IDs
// keeps them in criterion-id.list, named in its header by count and
// SHA-256; the header stays short, the listing says the count, and the run
// is pruned like any other.
TEST(ArchiveRunsTest, ALongIdListIsKeptInAFileAndTheRunIsPrunable) {
  TestSpool dir;
  const std::string archive = dir.root() + "-archive";
  ArchiveHeader h;
  h.created = 1795344810;
  h.host = "mx";
  h.run_id = "1795344810.4242";
  h.queue_directory = dir.root();
  PlanCriterion ids{"--id", {}};
  for (int i = 0; i < 40000; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%011llX", 0x10000000000ULL + static_cast<unsigned long long>(i));
    ids.values.push_back(id);
  }
  h.criteria = {ids, {"--sender", {"spam@bad.test"}}};
  std::string error;
  auto writer = ArchiveWriter::create(archive, h, error);
  ASSERT_NE(writer, nullptr) << error;
  const std::string run = writer->path();
  writer.reset();
  std::string list = testing::slurp(run + "/criterion-id.list"), want;
  EXPECT_EQ(list, criterion_list_text(ids));
  EXPECT_EQ(list.substr(0, 12), "10000000000\n");
  ASSERT_TRUE(sha256_hex(list, want));
  const std::string manifest = testing::slurp(run + "/manifest.jsonl");
  EXPECT_LT(manifest.size(), 1000u) << "the header names the list, it does not hold it";
  EXPECT_NE(manifest.find("{\"option\": \"--id\", \"count\": 40000, \"sha256\": \"" + want +
                          "\", \"list\": \"criterion-id.list\"}"),
            std::string::npos)
      << manifest;
  EXPECT_NE(manifest.find("\"values\": [\"spam@bad.test\"]"), std::string::npos) << "a short one stays inline";

  std::vector<ArchiveRunInfo> runs;
  ASSERT_TRUE(list_archive_runs(archive, runs, error)) << error;
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].error, "");
  ASSERT_EQ(runs[0].criteria.size(), 2u);
  EXPECT_EQ(runs[0].criteria[0].count, 40000u);
  EXPECT_EQ(runs[0].criteria[0].sha256, want);
  EXPECT_TRUE(runs[0].criteria[0].values.empty());

  PruneReport report;
  ASSERT_TRUE(prune_archive_runs(archive, 86400, h.created + 2 * 86400, false, report, error)) << error;
  EXPECT_EQ(report.removed, std::vector<std::string>{run});
  EXPECT_FALSE(fs::exists(run));
  fs::remove_all(archive);
}

}  // namespace
}  // namespace qpurge
