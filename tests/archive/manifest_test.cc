// SPDX-License-Identifier: MIT
// manifest_test.cc - reading an archive run's manifest (archive/manifest.h):
// every bad line named by its number.
#include "qpurge/archive/manifest.h"

#include <gtest/gtest.h>

#include "support/archived_run.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

using testing::ArchivedRun;
using testing::spit;
using testing::TestSpool;

TEST(ManifestTest, TornLastLineIsAnErrorNamingTheLine) {
  TestSpool dir;
  ArchivedRun run(dir.root(), "20261122T101500Z-mx-abc123", "mx", "/var/spool/postfix");
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  std::string text = run.manifest();
  spit(run.dir() + "/manifest.jsonl", text + "{\"record\": \"restored\", \"queue_id\": \"4A1B");
  ArchiveManifest m;
  std::string error;
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:4: torn last line (no newline at its end)");

  spit(run.dir() + "/manifest.jsonl", text + "not json\n");
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:4: not JSON");

  spit(
      run.dir() + "/manifest.jsonl",
      text + "{\"record\": \"outcome\", \"queue_id\": \"77777ABC\", \"queue_name\": \"hold\", \"result\": \"done\"}\n");
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:4: \"outcome\" record for 77777ABC, which is not archived");

  spit(run.dir() + "/manifest.jsonl", text.substr(text.find('\n') + 1));
  EXPECT_FALSE(read_manifest(run.dir(), m, error));
  EXPECT_EQ(error, run.dir() + "/manifest.jsonl:1: the first record is not the run header");

  spit(run.dir() + "/manifest.jsonl", text);
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_EQ(m.header.host, "mx");
  EXPECT_EQ(m.header.run_id, "abc123");
  ASSERT_EQ(m.header.criteria.size(), 1u);
  EXPECT_EQ(m.header.criteria[0].option, "--domain");
  EXPECT_EQ(m.header.criteria[0].values, std::vector<std::string>{"example.com"});
  ASSERT_EQ(m.messages.size(), 1u);
  EXPECT_EQ(m.messages[0].sender, "alice@example.org");
  EXPECT_EQ(m.messages[0].recipients.at(0).address, "bob@example.com");
  EXPECT_TRUE(m.messages[0].deleted());
  EXPECT_EQ(m.messages[0].mode, 0700u);
}

}  // namespace
}  // namespace qpurge
