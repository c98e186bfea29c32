// SPDX-License-Identifier: MIT
// defer_log_edit_test.cc - canceled recipients' entries out of a logfile,
// every other byte kept.
#include "qpurge/spool/defer_log_edit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/files.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

using testing::slurp;
using testing::spit;

// As Postfix 3.7's bounce daemon writes it.
const char kBob[] =
    "<bob@example.com>: connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n"
    "recipient=bob@example.com\n"
    "offset=249\n"
    "status=4.4.1\n"
    "action=delayed\n"
    "reason=connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n"
    "\n";
const char kCarol[] =
    "<carol@other.example>: host mx.other.example said: 450 mailbox busy\n"
    "recipient=carol@other.example\n"
    "offset=318\n"
    "status=4.2.0\n"
    "action=delayed\n"
    "reason=host mx.other.example said: 450 mailbox busy\n"
    "\n";

TEST(DeferLogEditTest, DropsTheEntriesOfTheOffsetsOnly) {
  std::size_t dropped = 0;
  EXPECT_EQ(drop_log_entries(std::string(kBob) + kCarol, {249}, dropped), kCarol);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(drop_log_entries(std::string(kBob) + kCarol, {318}, dropped), kBob);
  EXPECT_EQ(drop_log_entries(std::string(kBob) + kCarol, {1, 2}, dropped), std::string(kBob) + kCarol);
  EXPECT_EQ(dropped, 0u);
}

// What an archive keeps of a canceled message's logs: the canceled
// recipients' entries only (an entry without an offset is nobody's).
TEST(DeferLogEditTest, KeepsTheEntriesOfTheOffsetsOnly) {
  std::size_t kept = 0;
  EXPECT_EQ(keep_log_entries(std::string(kBob) + kCarol, {249}, kept), kBob);
  EXPECT_EQ(kept, 1u);
  EXPECT_EQ(keep_log_entries(std::string("recipient=x@y\n\n") + kBob + kCarol, {318, 249}, kept),
            std::string(kBob) + kCarol);
  EXPECT_EQ(kept, 2u);
  EXPECT_EQ(keep_log_entries(std::string(kBob) + kCarol, {1}, kept), "");
  EXPECT_EQ(kept, 0u);
}

TEST(DeferLogEditTest, KeepsAnEntryWithoutAnOffsetAndATornTail) {
  std::size_t dropped = 0;
  const std::string text = std::string("recipient=x@y\n\n") + kBob + "recipient=carol@other.example\noffset=3";
  EXPECT_EQ(drop_log_entries(text, {249}, dropped), "recipient=x@y\n\nrecipient=carol@other.example\noffset=3");
  EXPECT_EQ(drop_log_entries(text, {3}, dropped), std::string("recipient=x@y\n\n") + kBob);
}

TEST(DeferLogEditTest, ReplacesTheFileKeepingItsMode) {
  testing::TestSpool spool;
  std::filesystem::create_directories(spool.root() + "/defer/A");
  const std::string path = spool.root() + "/defer/A/ABC123";
  spit(path, std::string(kBob) + kCarol);
  ::chmod(path.c_str(), 0640);
  EXPECT_EQ(message_logfiles(spool.root(), "ABC123"), std::set<std::string>{path});
  std::size_t dropped = 0;
  std::string error;
  ASSERT_TRUE(edit_logfile(path, {249}, dropped, error)) << error;
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(slurp(path), kCarol);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(spool.root() + "/defer/A"),
                          std::filesystem::directory_iterator()),
            1);  // no temporary file left
}

TEST(DeferLogEditTest, RemovesALogLeftWithoutEntriesAndIgnoresAMissingOne) {
  testing::TestSpool spool;
  std::filesystem::create_directories(spool.root() + "/defer/A");
  const std::string path = spool.root() + "/defer/A/ABC123";
  spit(path, kBob);
  std::size_t dropped = 0;
  std::string error;
  ASSERT_TRUE(edit_logfile(path, {249}, dropped, error)) << error;
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(edit_logfile(path, {249}, dropped, error)) << error;
  EXPECT_EQ(dropped, 0u);
  EXPECT_TRUE(message_logfiles(spool.root(), "ABC123").empty());
}

}  // namespace
}  // namespace qpurge
