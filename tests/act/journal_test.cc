// SPDX-License-Identifier: MIT
// journal_test.cc - the journal of an acting run: written before each step,
// read back after a crash as far as it got, refused where it cannot be
// trusted, and gone once the run is over.
#include "qpurge/act/journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::TestSpool;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

JournalHeader header(const std::string& queue_dir) {
  JournalHeader h;
  h.run_id = "1795344810.4242";
  h.pid = 4242;
  h.started = 1795344810;
  h.host = "mx.test";
  h.argv = {"qpurge", "--domain", "example.com", "--via-hold", "--yes"};
  h.action = "delete";
  h.via_hold = true;
  h.body_limit = 1048576;
  h.queue_directory = queue_dir;
  h.config_directory = "/etc/postfix";
  h.archive = "/var/lib/qpurge/archive/20261122T105330Z-mx-4242";
  h.criteria = {PlanCriterion{"--domain", {"example.com", std::string("caf\xe9.example")}}};
  return h;
}

class JournalTest : public ::testing::Test {
 protected:
  std::string dir() const { return state_.root() + "/journal"; }
  std::string path() {
    std::string p, error;
    EXPECT_TRUE(journal_path(dir(), spool_.root(), p, error)) << error;
    return p;
  }
  TestSpool spool_, state_;
};

TEST_F(JournalTest, NamedByTheQueueDirectorysDeviceAndInode) {
  struct stat st;
  ASSERT_EQ(::stat(spool_.root().c_str(), &st), 0);
  char want[64];
  std::snprintf(want, sizeof want, "/q-%llx-%llx.journal", static_cast<unsigned long long>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  EXPECT_EQ(path(), dir() + want);
  std::string p, error;
  EXPECT_FALSE(journal_path(dir(), spool_.root() + "/none", p, error));
  EXPECT_EQ(error, "queue directory " + spool_.root() + "/none: No such file or directory");
}

TEST_F(JournalTest, StepsReadBackInOrderAndTheJournalGoesWhenFinished) {
  std::string error;
  auto j = Journal::begin(path(), header(spool_.root()), error);
  ASSERT_NE(j, nullptr) << error;
  EXPECT_EQ(fs::status(dir()).permissions() & fs::perms::all, fs::perms::owner_all);
  ASSERT_TRUE(j->announce("hold", {{"10278A74127", "deferred", 11}, {"20278A74127", "incoming", 12}}, error));
  ASSERT_TRUE(j->announce("delete", {{"10278A74127", "hold", 11}}, error));
  ASSERT_TRUE(j->settle({IdResult{"hold", "10278A74127", IdOutcome::kDone, ""},
                         IdResult{"hold", "20278A74127", IdOutcome::kFailed, "postsuper was killed by signal 9"}},
                        error));
  ASSERT_TRUE(j->announce("release", {{"20278A74127", "hold", 12}}, error));
  ASSERT_TRUE(j->stopped("interrupted (SIGINT)", error));

  JournalContents c;
  bool exists = false;
  ASSERT_TRUE(read_journal(path(), c, exists, error)) << error;
  EXPECT_TRUE(exists);
  EXPECT_EQ(c.header.run_id, "1795344810.4242");
  EXPECT_EQ(c.header.pid, 4242);
  EXPECT_TRUE(c.header.via_hold);
  EXPECT_EQ(c.header.queue_directory, spool_.root());
  EXPECT_EQ(c.header.archive, "/var/lib/qpurge/archive/20261122T105330Z-mx-4242");
  ASSERT_EQ(c.header.criteria.size(), 1u);
  EXPECT_EQ(c.header.criteria[0].values[1], std::string("caf\xe9.example"));
  ASSERT_EQ(c.held.size(), 2u);
  EXPECT_EQ(c.held[1].id, "20278A74127");
  EXPECT_EQ(c.held[1].queue, "incoming");
  EXPECT_EQ(c.held[1].inode, 12u);
  ASSERT_EQ(c.handed.size(), 1u);
  EXPECT_EQ(c.handed[0].queue, "hold");
  ASSERT_EQ(c.results.size(), 2u);
  EXPECT_EQ(c.results[1].outcome, IdOutcome::kFailed);
  EXPECT_EQ(c.results[1].detail, "postsuper was killed by signal 9");
  ASSERT_EQ(c.released.size(), 1u);
  EXPECT_EQ(c.stopped, "interrupted (SIGINT)");
  EXPECT_FALSE(c.torn);

  ASSERT_TRUE(j->finish(error)) << error;
  EXPECT_FALSE(fs::exists(path()));
  ASSERT_TRUE(read_journal(path(), c, exists, error));
  EXPECT_FALSE(exists);
}

// --mixed cancel: a message in hold about to be crossed off, and crossed
// off; neither is a hand-over to postsuper.
TEST_F(JournalTest, CancelStepsReadBackApartFromHandOvers) {
  std::string error;
  auto j = Journal::begin(path(), header(spool_.root()), error);
  ASSERT_NE(j, nullptr) << error;
  ASSERT_TRUE(j->announce("cancel", {{"10278A74127", "hold", 11}, {"20278A74127", "hold", 12}}, error));
  ASSERT_TRUE(j->announce("crossed", {{"10278A74127", "hold", 11}}, error));
  JournalContents c;
  bool exists = false;
  ASSERT_TRUE(read_journal(path(), c, exists, error)) << error;
  ASSERT_EQ(c.canceling.size(), 2u);
  EXPECT_EQ(c.canceling[1].id, "20278A74127");
  ASSERT_EQ(c.crossed.size(), 1u);
  EXPECT_EQ(c.crossed[0].inode, 11u);
  EXPECT_TRUE(c.handed.empty());
  ASSERT_TRUE(j->finish(error)) << error;
}

// A crash in the middle of an append leaves a torn last line: that step was
// never announced as taken, so it is read as not there.
TEST_F(JournalTest, TornLastLineIsNotAStep) {
  std::string error;
  auto j = Journal::begin(path(), header(spool_.root()), error);
  ASSERT_NE(j, nullptr) << error;
  ASSERT_TRUE(j->announce("delete", {{"10278A74127", "deferred", 11}}, error));
  std::ofstream(path(), std::ios::app) << "{\"record\": \"hand\", \"action\": \"delete\", \"ids\": [{\"id\": \"2";
  JournalContents c;
  bool exists = false;
  ASSERT_TRUE(read_journal(path(), c, exists, error)) << error;
  EXPECT_TRUE(c.torn);
  ASSERT_EQ(c.handed.size(), 1u);
  EXPECT_EQ(c.handed[0].id, "10278A74127");
}

TEST_F(JournalTest, AJournalLeftBehindIsNeverOverwritten) {
  std::string error;
  auto first = Journal::begin(path(), header(spool_.root()), error);
  ASSERT_NE(first, nullptr) << error;
  const std::string before = slurp(path());
  EXPECT_EQ(Journal::begin(path(), header(spool_.root()), error), nullptr);
  EXPECT_EQ(error, path() + ": a journal of an unfinished run is there; it must be recovered first");
  EXPECT_EQ(slurp(path()), before);
}

TEST_F(JournalTest, UntrustedJournalDirectoryIsRefused) {
  fs::create_directories(dir());
  ::chmod(dir().c_str(), 0777);
  std::string error;
  EXPECT_EQ(Journal::begin(path(), header(spool_.root()), error), nullptr);
  EXPECT_EQ(error, "journal directory " + dir() + ": " + dir() +
                       ": writable by everyone: another user could replace what qpurge writes or reads there");
}

TEST_F(JournalTest, ABadRecordIsNamedByLine) {
  std::string error;
  auto j = Journal::begin(path(), header(spool_.root()), error);
  ASSERT_NE(j, nullptr) << error;
  std::ofstream(path(), std::ios::app) << "{\"record\": \"teleport\"}\n";
  JournalContents c;
  bool exists = false;
  EXPECT_FALSE(read_journal(path(), c, exists, error));
  EXPECT_EQ(error, path() + ":2: unknown record \"teleport\"");
}

}  // namespace
}  // namespace qpurge
