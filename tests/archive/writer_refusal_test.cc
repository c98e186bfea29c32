// SPDX-License-Identifier: MIT
// writer_refusal_test.cc - what the archive writer refuses to copy (a
// symbolic link or a FIFO in place of a queue file or a log, a file that is
// not the planned one, a postdrop file, a bad name, a second copy of one ID,
// a missing file), each refusal named and leaving nothing in the run.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "qpurge/archive/writer.h"
#include "support/archive_writer_fixture.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveTest;
using testing::entry_for;
using testing::kId;
using testing::manifest;
using testing::message;
using testing::names_in;
using testing::slurp;

TEST_F(ArchiveTest, SymlinkInPlaceOfTheQueueFileIsRefused) {
  std::string target = spool_.root() + "/secret";
  std::ofstream(target) << "not mail";
  fs::create_directories(spool_.root() + "/deferred/1");
  fs::create_symlink(target, spool_.root() + "/deferred/1/" + kId);
  auto run = create();
  ASSERT_NE(run, nullptr);

  PlanEntry e = entry_for(spool_, std::string("deferred/1/") + kId, "", {});
  e.inode = 0;
  std::string error;
  EXPECT_FALSE(run->store(spool_.root(), e, error));
  EXPECT_EQ(error, spool_.root() + "/deferred/1/" + kId + ": is a symbolic link, not copied");
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});
  EXPECT_EQ(manifest(*run).size(), 1u);
  EXPECT_EQ(run->stored_messages(), 0u);
}

TEST_F(ArchiveTest, SymlinkInPlaceOfADeferLogRefusesTheWholeMessage) {
  std::string rel = spool_.put_message("deferred", kId, message("a@x.example", {"r@example.com"}));
  fs::create_directories(spool_.root() + "/defer/1");
  fs::create_symlink("/etc/passwd", spool_.root() + "/defer/1/" + kId);
  auto run = create();
  ASSERT_NE(run, nullptr);
  std::string error;
  EXPECT_FALSE(run->store(spool_.root(), entry_for(spool_, rel, "a@x.example", {"r@example.com"}), error));
  EXPECT_EQ(error, spool_.root() + "/defer/1/" + kId + ": is a symbolic link, not copied");
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});  // the queue file copy is gone
  EXPECT_EQ(manifest(*run).size(), 1u);
}

TEST_F(ArchiveTest, FifoInPlaceOfTheQueueFileIsRefusedWithoutBlocking) {
  fs::create_directories(spool_.root() + "/deferred/1");
  std::string path = spool_.root() + "/deferred/1/" + kId;
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto run = create();
  ASSERT_NE(run, nullptr);
  std::string error;
  EXPECT_FALSE(run->store(spool_.root(), entry_for(spool_, std::string("deferred/1/") + kId, "", {}), error));
  EXPECT_EQ(error, path + ": not a regular file");
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});
}

TEST_F(ArchiveTest, RefusesAFileThatIsNotThePlannedOne) {
  std::string rel = spool_.put_message("deferred", kId, message("a@x.example", {"r@example.com"}));
  auto run = create();
  ASSERT_NE(run, nullptr);
  PlanEntry e = entry_for(spool_, rel, "a@x.example", {"r@example.com"});
  e.inode += 1;
  std::string error;
  EXPECT_FALSE(run->store(spool_.root(), e, error));
  EXPECT_EQ(error, spool_.root() + "/" + rel + ": inode " + std::to_string(e.inode - 1) + ", planned " +
                       std::to_string(e.inode) + ": not the planned message");
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});
}

// Issue 19 item 3 (F_maildrop_restore): a postdrop file, wherever a scan
// meets it, is not archived (and so not deleted): --restore could not put it
// back as a queue file.
TEST_F(ArchiveTest, RefusesAPostdropFile) {
  const std::string postdrop = slurp(std::string(QPURGE_TEST_DATA) + "/queue/maildrop.qf");
  ASSERT_EQ(postdrop.substr(0, 1), "T");
  auto run = create();
  ASSERT_NE(run, nullptr);
  for (const char* queue : {"maildrop", "hold"}) {
    const std::string rel = spool_.put(queue, kId, postdrop, 0744);
    std::string error;
    EXPECT_FALSE(run->store(spool_.root(), entry_for(spool_, rel, "a", {"r"}), error));
    EXPECT_EQ(error, spool_.root() + "/" + rel +
                         ": its first record is 'T', not the size record 'C': not a queue file cleanup wrote (a "
                         "postdrop file from maildrop?), which --restore could not put back");
  }
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});
  EXPECT_EQ(manifest(*run).size(), 1u);
  EXPECT_EQ(run->stored_messages(), 0u);
}

TEST_F(ArchiveTest, RefusesBadNamesAndASecondCopyOfOneId) {
  std::string rel = spool_.put_message("deferred", kId, message("a@x.example", {"r@example.com"}));
  auto run = create();
  ASSERT_NE(run, nullptr);
  std::string error;
  PlanEntry e = entry_for(spool_, rel, "a@x.example", {"r@example.com"});
  PlanEntry bad_dir = e;
  bad_dir.dir = "deferred/../../etc";
  EXPECT_FALSE(run->store(spool_.root(), bad_dir, error));
  EXPECT_EQ(error, std::string("archive: ") + kId + ": not a queue subdirectory: deferred/../../etc");
  PlanEntry bad_id = e;
  bad_id.id = "../manifest.jsonl";
  EXPECT_FALSE(run->store(spool_.root(), bad_id, error));
  EXPECT_EQ(error, "archive: not a queue ID: ../manifest.jsonl");

  ASSERT_TRUE(run->store(spool_.root(), e, error)) << error;
  EXPECT_FALSE(run->store(spool_.root(), e, error));
  EXPECT_EQ(error, std::string("archive: ") + kId + ": already stored in " + run->path());
  EXPECT_EQ(manifest(*run).size(), 2u);
  EXPECT_EQ(run->stored_messages(), 1u);
}

TEST_F(ArchiveTest, MissingQueueFileIsAnErrorNamingIt) {
  auto run = create();
  ASSERT_NE(run, nullptr);
  PlanEntry e = entry_for(spool_, std::string("deferred/1/") + kId, "", {});
  std::string error;
  EXPECT_FALSE(run->store(spool_.root(), e, error));
  EXPECT_EQ(error, spool_.root() + "/deferred/1/" + kId + ": No such file or directory");
}

// A manifest that cannot take the message record: the copies go too.

}  // namespace
}  // namespace qpurge
