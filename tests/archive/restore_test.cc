// SPDX-License-Identifier: MIT
// restore_test.cc - restoring archive runs into a temporary spool, with a
// fake postsuper -s.
#include "qpurge/archive/restore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "qpurge/archive/manifest.h"
#include "qpurge/select/content_match.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/spool/record.h"
#include "support/archived_run.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::ArchivedRun;
using testing::FakePostsuper;
using testing::slurp;
using testing::spit;
using testing::TestSpool;

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

class RestoreTest : public ::testing::Test {
 protected:
  RestoreTest() : archive_(archive_spool_.root() + "/archive"), runner_(spool_.root()) {
    fs::create_directories(archive_);
    options_.run_dir = archive_ + "/20261122T101500Z-mx-abc123";
    options_.queue_dir = spool_.root();
    options_.config_dir = "/etc/postfix-test";
    options_.postsuper = "/usr/sbin/postsuper";
    options_.host = "mx";
    options_.now = 1795400000;
  }
  ArchivedRun make_run(const std::string& host = "mx") {
    return ArchivedRun(archive_, "20261122T101500Z-mx-abc123", host, spool_.root());
  }

  TestSpool spool_;
  TestSpool archive_spool_;  // only for its temporary directory
  std::string archive_;
  FakePostsuper runner_;
  RestoreOptions options_;
};

TEST_F(RestoreTest, RestoresIntoHoldWithNewIds) {
  ArchivedRun run = make_run();
  std::string a = run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  std::string b = run.add("5F0E1D2C3B", testing::message("", {"carol@example.net"}));
  run.finish();

  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.error, "");
  ASSERT_EQ(report.messages.size(), 2u);
  ASSERT_EQ(runner_.calls.size(), 1u);
  EXPECT_EQ(runner_.calls[0], (std::vector<std::string>{"/usr/sbin/postsuper", "-c", "/etc/postfix-test", "-s"}));
  std::vector<std::string> hold;
  for (const RestoredMessage& m : report.messages) {
    EXPECT_EQ(m.outcome, "restored") << m.detail;
    EXPECT_TRUE(is_short_queue_id(m.new_id)) << m.new_id;
    EXPECT_EQ(m.new_id.substr(0, 5), m.old_id.substr(0, 5));  // postsuper keeps the microseconds
    struct stat st;
    std::string path = spool_.root() + "/hold/" + m.new_id;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(queue_id_inode(m.new_id), static_cast<std::uint64_t>(st.st_ino));
    hold.push_back("hold/" + m.new_id);
  }
  EXPECT_EQ(slurp(spool_.root() + "/hold/" + report.messages[0].new_id), a);
  EXPECT_EQ(slurp(spool_.root() + "/hold/" + report.messages[1].new_id), b);
  std::sort(hold.begin(), hold.end());
  EXPECT_EQ(files_in(spool_.root()), hold);

  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  ASSERT_EQ(m.messages.size(), 2u);
  EXPECT_TRUE(m.messages[0].restored);
  EXPECT_EQ(m.messages[0].new_queue_id, report.messages[0].new_id);
  EXPECT_EQ(m.messages[0].restored_to, "hold");
  EXPECT_EQ(m.messages[0].restored_time, 1795400000);
  EXPECT_EQ(m.messages[1].new_queue_id, report.messages[1].new_id);
}

TEST_F(RestoreTest, RestoringTwiceAddsNothing) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  RestoreReport first = restore_from_archive(options_, runner_);
  ASSERT_EQ(first.messages.at(0).outcome, "restored");
  const auto before = files_in(spool_.root());
  const std::string manifest = run.manifest();

  RestoreReport second = restore_from_archive(options_, runner_);
  ASSERT_EQ(second.error, "");
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(second.messages[0].outcome, "already_restored");
  EXPECT_EQ(second.messages[0].new_id, first.messages[0].new_id);
  EXPECT_EQ(runner_.calls.size(), 1u);  // no second postsuper -s
  EXPECT_EQ(files_in(spool_.root()), before);
  EXPECT_EQ(run.manifest(), manifest);
}

TEST_F(RestoreTest, TamperedCopyIsRefused) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  std::string copy = slurp(run.dir() + "/4A1B2C3D4E");
  copy[copy.size() / 2] ^= 1;
  spit(run.dir() + "/4A1B2C3D4E", copy);

  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "checksum_mismatch");
  EXPECT_NE(report.messages[0].detail.find(run.dir() + "/4A1B2C3D4E: sha256 "), std::string::npos)
      << report.messages[0].detail;
  EXPECT_EQ(report.messages[1].outcome, "restored");
  EXPECT_EQ(files_in(spool_.root()), std::vector<std::string>{"hold/" + report.messages[1].new_id});
}

TEST_F(RestoreTest, RunFromAnotherHostIsRefusedUnlessForced) {
  ArchivedRun run = make_run("other.example");
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  const std::string manifest = run.manifest();

  RestoreReport report = restore_from_archive(options_, runner_);
  EXPECT_EQ(report.error, options_.run_dir + ": archived on host other.example, this is mx (force it to restore here)");
  EXPECT_TRUE(report.messages.empty());
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
  EXPECT_EQ(run.manifest(), manifest);

  options_.force_other_instance = true;
  report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.error, "");
  EXPECT_EQ(report.messages.at(0).outcome, "restored");
}

TEST_F(RestoreTest, RunFromAnotherQueueDirectoryIsRefused) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  TestSpool other;
  options_.queue_dir = other.root();
  RestoreReport report = restore_from_archive(options_, runner_);
  EXPECT_NE(report.error.find("archived from queue directory " + spool_.root() + ", not " + other.root()),
            std::string::npos)
      << report.error;
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(other.root()).empty());
}

TEST_F(RestoreTest, DryRunChangesNothingAndRunsNoPostsuper) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}), "failed");
  run.finish();
  const std::string manifest = run.manifest();
  options_.dry_run = true;

  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.error, "");
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "would_restore");
  EXPECT_EQ(report.messages[0].detail, spool_.root() + "/hold/4A1B2C3D4E");
  EXPECT_EQ(report.messages[1].outcome, "not_deleted");
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
  EXPECT_EQ(run.manifest(), manifest);
}

TEST_F(RestoreTest, OnlyDeletedMessagesAreRestored) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}), "failed");
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}), "");  // no outcome
  run.finish();
  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "not_deleted");
  EXPECT_EQ(report.messages[0].detail, "the purge did not delete it (failed)");
  EXPECT_EQ(report.messages[1].outcome, "not_deleted");
  EXPECT_EQ(report.messages[1].detail,
            "no outcome recorded: the purge may have stopped before it; look for 5F0E1D2C3B in the queue");
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
}

TEST_F(RestoreTest, FileAtTheDestinationIsNeverOverwritten) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  spool_.put("hold", "4A1B2C3D4E", "someone else's file");
  spool_.put("deferred", "5F0E1D2C3B", "a live message");  // deferred/5/5F0E1D2C3B

  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "exists");
  EXPECT_EQ(report.messages[0].detail, spool_.root() + "/hold/4A1B2C3D4E exists: not overwritten");
  EXPECT_EQ(report.messages[1].outcome, "exists");
  EXPECT_EQ(report.messages[1].detail, spool_.root() + "/deferred/5/5F0E1D2C3B exists: not overwritten");
  EXPECT_EQ(slurp(spool_.root() + "/hold/4A1B2C3D4E"), "someone else's file");
  EXPECT_EQ(slurp(spool_.root() + "/deferred/5/5F0E1D2C3B"), "a live message");
  EXPECT_TRUE(runner_.calls.empty());
}

TEST_F(RestoreTest, DeferredTargetUsesTheHashDirectory) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  fs::remove_all(spool_.root() + "/deferred");
  fs::create_directories(spool_.root() + "/deferred");
  options_.target = "deferred";
  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.at(0).outcome, "restored") << report.messages[0].detail;
  EXPECT_EQ(files_in(spool_.root()), std::vector<std::string>{"deferred/4/" + report.messages[0].new_id});
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_EQ(m.messages.at(0).restored_to, "deferred");
}

TEST_F(RestoreTest, UnknownTargetIsRefused) {
  ArchivedRun run = make_run();
  run.finish();
  options_.target = "active";
  EXPECT_EQ(restore_from_archive(options_, runner_).error,
            "cannot restore into the active queue (hold, deferred or incoming)");
}

TEST_F(RestoreTest, MatcherRestoresOnlyWhatItSelects) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.add("6C5B4A3921", testing::message("erin@example.org", {"frank@example.com", "bob@example.com"}));  // mixed
  run.finish();
  Matcher matcher;
  CriterionGroup g;
  g.option = "--recipient";
  g.values = {"bob@example.com"};
  g.alternatives.push_back(make_recipient("bob@example.com", false));
  g.side = Side::kRecipient;
  matcher.add(std::move(g));
  options_.matcher = &matcher;

  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].old_id, "4A1B2C3D4E");
  EXPECT_EQ(report.messages[1].old_id, "6C5B4A3921");
  EXPECT_EQ(report.messages[0].outcome, "restored");
  EXPECT_EQ(report.messages[1].outcome, "restored");
  EXPECT_EQ(files_in(spool_.root()).size(), 2u);
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_FALSE(m.messages.at(1).restored);
}

// One group of one criterion, as the command line makes it.
Matcher one_group(const char* option, const std::string& value, std::unique_ptr<Criterion> c, bool exclude = false) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.values = {value};
  g.side = c->side();
  g.exclude = exclude;
  g.alternatives.push_back(std::move(c));
  m.add(std::move(g));
  return m;
}

// Issue 19 item 4 (A_restore_exclude_id): the restore judges each copy under
// the queue ID it had, so --exclude-id and --id mean what they meant.
TEST_F(RestoreTest, IdSelectorsSeeTheArchivedQueueId) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.add("6C5B4A3921", testing::message("erin@example.org", {"frank@example.com"}));
  run.finish();
  Matcher only = one_group("--id", "4A1B2C3D4E", make_queue_id({"4A1B2C3D4E"}));
  options_.matcher = &only;
  options_.dry_run = true;
  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_EQ(report.messages[0].old_id, "4A1B2C3D4E");
  EXPECT_EQ(report.messages[0].outcome, "would_restore");
  EXPECT_TRUE(files_in(spool_.root()).empty());

  Matcher but = one_group("--exclude-id", "4A1B2C3D4E", make_queue_id({"4A1B2C3D4E"}), true);
  options_.matcher = &but;
  options_.dry_run = false;
  report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].old_id, "5F0E1D2C3B");
  EXPECT_EQ(report.messages[1].old_id, "6C5B4A3921");
  EXPECT_EQ(report.messages[0].outcome, "restored");
  EXPECT_EQ(report.messages[1].outcome, "restored");
  EXPECT_EQ(files_in(spool_.root()).size(), 2u);
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(run.dir(), m, error)) << error;
  EXPECT_FALSE(m.messages.at(0).restored);
}

// --subject and --body look at the archived copy's content.
TEST_F(RestoreTest, ContentSelectorsSeeTheArchivedContent) {
  ArchivedRun run = make_run();
  SyntheticMessage invoice = testing::message("alice@example.org", {"bob@example.com"});
  invoice.header_lines[0] = "Subject: =?UTF-8?B?SW52b2ljZSDDvGJlcg==?=";  // "Invoice über"
  invoice.body_lines = {"pay now: phishmark"};
  run.add("4A1B2C3D4E", invoice);
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  options_.dry_run = true;
  Matcher subject = one_group("--subject", "^Invoice über$", make_subject("^Invoice über$"));
  options_.matcher = &subject;
  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_EQ(report.messages[0].old_id, "4A1B2C3D4E");
  Matcher body = one_group("--body", "phishmark", make_body("phishmark"));
  options_.matcher = &body;
  report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_EQ(report.messages[0].old_id, "4A1B2C3D4E");
  Matcher keep = one_group("--exclude-body", "phishmark", make_body("phishmark"), true);
  options_.matcher = &keep;
  report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_EQ(report.messages[0].old_id, "5F0E1D2C3B");
  EXPECT_TRUE(runner_.calls.empty());
}

// A message the selectors cannot judge is named, never silently left out,
// and never restored: its content cannot be parsed, so --body does not
// select it and --exclude-body excludes it (fail closed).
TEST_F(RestoreTest, UndecidedMessageIsReportedAndNotRestored) {
  ArchivedRun run = make_run();
  SyntheticMessage broken = testing::message("alice@example.org", {"bob@example.com"});
  broken.header_lines = {"Subject: x", "MIME-Version: 1.0", "Content-Type: multipart/mixed"};
  broken.body_lines = {"no boundary at all"};
  run.add("4A1B2C3D4E", broken);
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  const std::string manifest = run.manifest();
  for (bool dry_run : {true, false}) {
    Matcher keep = one_group("--exclude-body", "nomatch", make_body("nomatch"), true);
    options_.matcher = &keep;
    options_.dry_run = dry_run;
    RestoreReport report = restore_from_archive(options_, runner_);
    ASSERT_EQ(report.messages.size(), 2u);
    EXPECT_EQ(report.messages[0].old_id, "4A1B2C3D4E");
    EXPECT_EQ(report.messages[0].outcome, "undecided");
    EXPECT_EQ(report.messages[0].detail,
              "--exclude-body nomatch: undecided (the content could not be read or parsed as MIME); " +
                  std::string("multipart without a boundary: mixed; not restored"));
    EXPECT_EQ(report.messages[1].outcome, dry_run ? "would_restore" : "restored");
    ASSERT_EQ(keep.undecided_criteria().size(), 1u);
    EXPECT_EQ(keep.undecided_criteria()[0].label, "--exclude-body nomatch");
  }
  EXPECT_EQ(files_in(spool_.root()).size(), 1u);  // 5F0E1D2C3B alone
}

// --reason reads the defer log archived beside the copy; without one the
// reason is unknown: reported, not restored.
TEST_F(RestoreTest, DelayReasonComesFromTheArchivedDeferLog) {
  ArchivedRun run = make_run();
  const std::string data = run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.add("5F0E1D2C3B", testing::message("carol@example.org", {"dave@example.com"}));
  run.finish();
  MemorySource source(data);
  RecordReader reader;
  Message msg;
  std::string error;
  ASSERT_TRUE(parse_queue_file(source, reader, msg, error)) << error;
  run.defer_log("4A1B2C3D4E", "recipient=bob@example.com\noffset=" + std::to_string(msg.recipients.at(0).offset) +
                                  "\nreason=connect to mx.example.com: Connection timed out\n\n");
  Matcher reason = one_group("--reason", "timed out", make_reason("timed out"));
  options_.matcher = &reason;
  options_.dry_run = true;
  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.messages[0].outcome, "would_restore");
  EXPECT_EQ(report.messages[1].old_id, "5F0E1D2C3B");
  EXPECT_EQ(report.messages[1].outcome, "undecided");
  EXPECT_EQ(report.messages[1].detail,
            "--reason timed out: passed for 0 of 1 recipients; reason unknown for 1; not restored");
}

// Issue 19 item 3 (F_maildrop_restore): a postdrop file archived from
// maildrop (no size record) would be moved to corrupt/ by qmgr.
TEST_F(RestoreTest, PostdropFileIsNotRestored) {
  ArchivedRun run = make_run();
  const std::string postdrop = slurp(std::string(QPURGE_TEST_DATA) + "/queue/maildrop.qf");
  ASSERT_FALSE(postdrop.empty());
  ASSERT_NE(postdrop[0], 'C');
  run.add_file("4A1B2C3D4E", postdrop, 1795344810, "alice", {"bob"});
  run.finish();
  for (bool dry_run : {true, false}) {
    options_.dry_run = dry_run;
    RestoreReport report = restore_from_archive(options_, runner_);
    ASSERT_EQ(report.error, "");
    ASSERT_EQ(report.messages.size(), 1u);
    EXPECT_EQ(report.messages[0].outcome, "failed");
    EXPECT_EQ(report.messages[0].detail, run.dir() +
                                             "/4A1B2C3D4E: not a queue file cleanup wrote (its first record is not "
                                             "the size record 'C'; a postdrop file from maildrop?): Postfix would "
                                             "take it for a corrupt file; not restored");
  }
  EXPECT_TRUE(files_in(spool_.root()).empty());
  EXPECT_TRUE(runner_.calls.empty());
}

// Issue 19 item 7 (G_archive_dir_owner): a run another user could have
// forged is never read, not even for a dry run (run_reader_test.cc has the
// cases).
TEST_F(RestoreTest, RunAnotherUserCouldHaveForgedIsRefused) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  const std::string manifest = run.manifest();
  const std::string why = ": another user could replace what qpurge writes or reads there";
  ::chmod(archive_.c_str(), 0777);
  for (bool dry_run : {true, false}) {
    options_.dry_run = dry_run;
    RestoreReport report = restore_from_archive(options_, runner_);
    EXPECT_EQ(report.error, "archive directory " + archive_ + ": " + archive_ + ": writable by everyone" + why);
    EXPECT_TRUE(report.messages.empty());
  }
  ::chmod(archive_.c_str(), 0755);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(run.dir().c_str(), 65534, 65534), 0);
    RestoreReport report = restore_from_archive(options_, runner_);
    EXPECT_EQ(report.error, "archive run " + run.dir() + ": " + run.dir() + ": owned by uid 65534, not by root" + why);
  }
  EXPECT_TRUE(runner_.calls.empty());
  EXPECT_TRUE(files_in(spool_.root()).empty());
  EXPECT_EQ(run.manifest(), manifest);
}

TEST_F(RestoreTest, FailedPostsuperIsReportedAndStillRecorded) {
  ArchivedRun run = make_run();
  run.add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
  run.finish();
  runner_.exit_status = 1;
  RestoreReport report = restore_from_archive(options_, runner_);
  ASSERT_EQ(report.messages.size(), 1u);
  EXPECT_EQ(report.messages[0].outcome, "failed");
  EXPECT_EQ(report.messages[0].new_id, "4A1B2C3D4E");
  EXPECT_EQ(report.messages[0].detail,
            "in the queue as " + spool_.root() +
                "/hold/4A1B2C3D4E, but postsuper -s failed: exit status 1: postsuper: fatal: chdir /nowhere: No "
                "such file or directory: run postsuper -s");
  // It is in the queue: a second restore must not put it there again.
  runner_.exit_status = 0;
  report = restore_from_archive(options_, runner_);
  EXPECT_EQ(report.messages.at(0).outcome, "already_restored");
  EXPECT_EQ(runner_.calls.size(), 1u);
}

}  // namespace
}  // namespace qpurge
