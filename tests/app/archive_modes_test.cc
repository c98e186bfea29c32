// SPDX-License-Identifier: MIT
// archive_modes_test.cc - --restore, --archives and --prune-archives
// (archive_modes.h), end to end on a temporary spool with a fake System and
// a fake Postfix, after a purge with --archive made the run.
#include "qpurge/app/archive_modes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "qpurge/report/output.h"
#include "support/cli_fixture.h"

namespace qpurge {
namespace {

class ArchiveModesTest : public testing::CliFixture {
 protected:
  void TearDown() override { std::filesystem::remove_all(archive); }
  // Purges two messages to bob@example.com (of three) with --archive: the run directory.
  std::string archived_run() {
    put("deferred", "10278A74127", "spam@bad.test", {"bob@example.com"});
    put("deferred", "20278A74127", "spam@bad.test", {"bob@example.com"});
    put("deferred", "F0278A74127", "friend@good.test", {"a@other.test"});
    EXPECT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
    return std::filesystem::directory_iterator(archive)->path();
  }
  // The one file in spool/queue whose name begins with `prefix`: a new queue ID.
  std::string new_id(const std::string& queue, const std::string& prefix) {
    std::string found;
    for (const auto& f : std::filesystem::recursive_directory_iterator(spool.root() + "/" + queue))
      if (f.path().filename().string().rfind(prefix, 0) == 0) found = f.path().filename();
    return found;
  }

  const std::string archive = spool.root() + "-archive";
};

// --archive: every deleted message has its copy; --restore puts them back
// into hold under new IDs, once; --archives lists the run.
TEST_F(ArchiveModesTest, ArchiveThenRestore) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  std::vector<std::string> runs;
  for (const auto& d : std::filesystem::directory_iterator(archive)) runs.push_back(d.path());
  ASSERT_EQ(runs.size(), 1u);
  const std::string& rundir = runs[0];
  std::size_t copies = 0;
  std::uint64_t bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(rundir))
    if (f.path().filename() != "manifest.jsonl") ++copies, bytes += f.file_size();
  EXPECT_EQ(copies, 20u);
  EXPECT_EQ(audit_field(0, "archive"), "\"" + rundir + "\"");
  EXPECT_EQ(lines(out.str()).at(1),
            "removed 20 of 20 planned; not found 0; changed since planning 0; failed 0; "
            "archived 20 in " +
                rundir);

  EXPECT_EQ(run({"--restore", rundir, "--dry-run"}), kExitDone) << err.str();
  std::string would;
  for (const std::string& id : bob_ids()) would += id + "  would_restore: " + spool.root() + "/hold/" + id + "\n";
  EXPECT_EQ(out.str(), would + "dry run: archive " + rundir + ": 20 messages; would_restore 20\n");
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--recipient", "nobody@example.com"}), kExitNothing) << err.str();
  EXPECT_EQ(out.str(), "archive " + rundir + ": 0 messages\n");
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--format", "json"}), kExitDone) << err.str() << out.str();
  EXPECT_EQ(files_in("hold"), 20u);
  std::string restored, again;
  for (const std::string& id : bob_ids()) {
    const std::string now = new_id("hold", id.substr(0, 5));
    restored += "{\"queue_id\": \"" + id + "\", \"result\": \"restored\", \"new_queue_id\": \"" + now +
                "\", \"queue_name\": \"hold\", \"detail\": \"" + spool.root() + "/hold/" + now + "\"}\n";
    again += id + "  already_restored as " + now + " in hold: restored into hold as " + now + "\n";
  }
  EXPECT_EQ(out.str(), restored);
  EXPECT_EQ(err.str(), "qpurge: archive " + rundir + ": 20 messages; restored 20\n");
  // Regression: the archive writes the mode as octal digits (700); restore once read them as decimal.
  for (const auto& f : std::filesystem::directory_iterator(spool.root() + "/hold")) {
    struct stat st;
    ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u) << f.path();
  }
  EXPECT_EQ(run({"--restore", rundir, "--yes"}), kExitNothing) << err.str() << out.str();  // twice adds nothing
  EXPECT_EQ(out.str(), again + "archive " + rundir + ": 20 messages; already_restored 20\n");
  EXPECT_EQ(files_in("hold"), 20u);
  EXPECT_EQ(run({"--archives", archive}), kExitDone);
  EXPECT_EQ(out.str(), std::filesystem::path(rundir).filename().string() + "  " + format_time(sys.clock) +
                           "  20 messages  " + std::to_string(bytes) +
                           " bytes  20 restored  --domain example.com\n1 archive run in " + archive + "\n");
}

TEST_F(ArchiveModesTest, RestoreTakesTheLock) {
  fill();
  ASSERT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  const std::string archived = std::filesystem::directory_iterator(archive)->path();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--restore", archived, "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(), "qpurge: fatal: another qpurge is acting on " + spool.root() +
                           " (PID 4242: qpurge --all --yes; lock file " + sys.lock_path(spool.root()) +
                           "); nothing changed (--wait SECONDS waits for it)\n");
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", archived, "--dry-run"}), kExitDone) << err.str();
  sys.busy.clear();
  EXPECT_EQ(run({"--restore", archived, "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("hold"), 20u);
}

// Issue 19: the text said where it was asked to restore (--restore-to), not
// where the message went. qmgr takes what is put back into incoming on to
// active at once; the restore finds it there by its inode, and says so.
TEST_F(ArchiveModesTest, RestoreSaysWhereTheMessageWent) {
  const std::string rundir = archived_run();
  EXPECT_EQ(run({"--restore", rundir, "--restore-to", "incoming", "--dry-run", "--format", "json"}), kExitDone);
  EXPECT_EQ(out.str(),
            "{\"queue_id\": \"10278A74127\", \"result\": \"would_restore\", \"queue_name\": \"incoming\", "
            "\"detail\": \"" +
                spool.root() +
                "/incoming/10278A74127\"}\n"
                "{\"queue_id\": \"20278A74127\", \"result\": \"would_restore\", \"queue_name\": \"incoming\", "
                "\"detail\": \"" +
                spool.root() + "/incoming/20278A74127\"}\n");
  pf.after_run = [this](int) {  // qmgr, right after postsuper -s
    if (pf.calls.back().argv.back() != "-s") return;
    for (const auto& f : std::filesystem::directory_iterator(spool.root() + "/incoming"))
      std::filesystem::rename(f.path(), spool.root() + "/active/" + f.path().filename().string());
  };
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--restore-to", "incoming"}), kExitDone) << err.str();
  const std::string a = new_id("active", "10278"), b = new_id("active", "20278");
  ASSERT_FALSE(a.empty() || b.empty());
  EXPECT_EQ(out.str(), "10278A74127  restored as " + a + " in active: " + spool.root() + "/active/" + a + "\n" +
                           "20278A74127  restored as " + b + " in active: " + spool.root() + "/active/" + b + "\n" +
                           "archive " + rundir + ": 2 messages; restored 2\n");
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--format", "json"}), kExitNothing);
  EXPECT_EQ(out.str(), "{\"queue_id\": \"10278A74127\", \"result\": \"already_restored\", \"new_queue_id\": \"" + a +
                           "\", \"queue_name\": \"active\", \"detail\": \"restored into active as " + a + "\"}\n" +
                           "{\"queue_id\": \"20278A74127\", \"result\": \"already_restored\", \"new_queue_id\": \"" +
                           b + "\", \"queue_name\": \"active\", \"detail\": \"restored into active as " + b + "\"}\n");
  EXPECT_EQ(err.str(), "qpurge: archive " + rundir + ": 2 messages; already_restored 2\n");
}

// Issue 19 item 4 (A_restore_exclude_id): a restore's selectors judge each
// archived copy as the purge judged the queue file (its queue ID, its
// decoded content); one they cannot judge is named, not restored, and the
// run exits 3, dry run or not.
TEST_F(ArchiveModesTest, RestoreSelectsByArchivedIdAndContent) {
  SyntheticMessage phish = testing::message("spam@bad.test", {"bob@example.com"});
  phish.body_lines = {"Visit https://login.example-bank.top/now"};
  spool.put_message("deferred", "10278A74127", phish);
  put("deferred", "20278A74127", "spam@bad.test", {"bob@example.com"});
  SyntheticMessage broken = testing::message("spam@bad.test", {"bob@example.com"});
  broken.header_lines = {"Subject: broken", "MIME-Version: 1.0", "Content-Type: multipart/mixed"};
  broken.body_lines = {"--x", "", "https://login.example-bank.top/", "--x--"};
  spool.put_message("deferred", "30278A74127", broken);
  ASSERT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  const std::string rundir = std::filesystem::directory_iterator(archive)->path();
  const std::string undecided =
      "{\"queue_id\": \"30278A74127\", \"result\": \"undecided\", \"detail\": \"--body "
      "login\\\\.example-bank\\\\.top: undecided (the content could not be read or parsed as MIME); multipart "
      "without a boundary: mixed; not restored\"}\n";
  const std::string warning =  // text escapes a backslash (util/escape.h)
      "qpurge: warning: --body login\\\\.example-bank\\\\.top: the content of some messages could not be read or "
      "parsed as MIME (each is named above); those messages were not restored (each is reported undecided)\n";
  EXPECT_EQ(run({"--restore", rundir, "--body", "login\\.example-bank\\.top", "--dry-run", "--format", "json"}),
            kExitPartial);
  EXPECT_EQ(out.str(),
            "{\"queue_id\": \"10278A74127\", \"result\": \"would_restore\", \"queue_name\": \"hold\", "
            "\"detail\": \"" +
                spool.root() + "/hold/10278A74127\"}\n" + undecided);
  EXPECT_EQ(err.str(), warning + "qpurge: dry run: archive " + rundir + ": 2 messages; undecided 1; would_restore 1\n");
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--body", "login\\.example-bank\\.top", "--format", "json"}),
            kExitPartial);
  const std::string a = new_id("hold", "10278");
  EXPECT_EQ(out.str(), "{\"queue_id\": \"10278A74127\", \"result\": \"restored\", \"new_queue_id\": \"" + a +
                           "\", \"queue_name\": \"hold\", \"detail\": \"" + spool.root() + "/hold/" + a + "\"}\n" +
                           undecided);
  EXPECT_EQ(err.str(), warning + "qpurge: archive " + rundir + ": 2 messages; restored 1; undecided 1\n");
  EXPECT_EQ(files_in("hold"), 1u);

  EXPECT_EQ(run({"--restore", rundir, "--id", "30278A74127", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(out.str(), "30278A74127  would_restore: " + spool.root() + "/hold/30278A74127\n" + "dry run: archive " +
                           rundir + ": 1 messages; would_restore 1\n");
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--exclude-id", "30278A74127"}), kExitDone) << err.str();
  const std::string b = new_id("hold", "20278");
  EXPECT_EQ(out.str(), "10278A74127  already_restored as " + a + " in hold: restored into hold as " + a + "\n" +
                           "20278A74127  restored as " + b + " in hold: " + spool.root() + "/hold/" + b + "\n" +
                           "archive " + rundir + ": 2 messages; already_restored 1; restored 1\n");
  EXPECT_EQ(files_in("hold"), 2u);
}

TEST_F(ArchiveModesTest, RestorePrintsTheNewIdsAsIds) {
  const std::string rundir = archived_run();
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--format", "ids"}), kExitDone) << err.str();
  EXPECT_EQ(out.str(), new_id("hold", "10278") + "\n" + new_id("hold", "20278") + "\n");
  EXPECT_EQ(err.str(), "qpurge: archive " + rundir + ": 2 messages; restored 2\n");
}

// --archives printed text whatever --format said.
TEST_F(ArchiveModesTest, ListsEveryRunInEveryFormat) {
  const std::string rundir = archived_run();
  const std::string name = std::filesystem::path(rundir).filename();
  const std::uint64_t bytes = std::filesystem::file_size(rundir + "/10278A74127") * 2;
  EXPECT_EQ(run({"--archives", archive}), kExitDone);
  EXPECT_EQ(out.str(), name + "  " + format_time(sys.clock) + "  2 messages  " + std::to_string(bytes) +
                           " bytes  0 restored  --domain example.com\n1 archive run in " + archive + "\n");
  EXPECT_EQ(run({"--archives", archive, "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), rundir + "\n");
  EXPECT_EQ(err.str(), "qpurge: 1 archive run in " + archive + "\n");
  EXPECT_EQ(run({"--archives", archive, "--format", "json"}), kExitDone);
  EXPECT_EQ(out.str(), "{\"run\": \"" + name + "\", \"path\": \"" + rundir +
                           "\", \"created\": " + std::to_string(sys.clock) +
                           ", \"host\": \"mx.test\", \"queue_directory\": \"" + spool.root() +
                           "\", \"criteria\": [{\"option\": \"--domain\", \"values\": [\"example.com\"]}], "
                           "\"messages\": 2, \"deleted\": 2, \"bytes\": " +
                           std::to_string(bytes) + ", \"restored\": 0, \"canceled\": 0}\n");
}

// The dry-run twin first: it names the run and removes nothing.
TEST_F(ArchiveModesTest, PrunesInEveryFormat) {
  const std::string rundir = archived_run();
  sys.clock += 60;
  EXPECT_EQ(run({"--prune-archives", archive, "--older-than", "30s", "--dry-run", "--format", "json"}), kExitDone);
  EXPECT_EQ(out.str(), "{\"path\": \"" + rundir + "\", \"result\": \"would_remove\"}\n");
  EXPECT_EQ(err.str(), "qpurge: dry run: 1 archive run would be removed\n");
  EXPECT_EQ(run({"--prune-archives", archive, "--older-than", "30s", "--dry-run"}), kExitDone);
  EXPECT_EQ(out.str(), rundir + "\ndry run: 1 archive run would be removed\n");
  EXPECT_TRUE(std::filesystem::exists(rundir));
  EXPECT_EQ(run({"--prune-archives", archive, "--older-than", "2m", "--yes", "--format", "json"}), kExitNothing);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "qpurge: no archive run in " + archive + " is older than that\n");
  EXPECT_EQ(run({"--prune-archives", archive, "--older-than", "30s", "--yes", "--format", "json"}), kExitDone);
  EXPECT_EQ(out.str(), "{\"path\": \"" + rundir + "\", \"result\": \"removed\"}\n");
  EXPECT_EQ(err.str(), "qpurge: removed 1 of 1 archive run\n");
  EXPECT_FALSE(std::filesystem::exists(rundir));
}

TEST_F(ArchiveModesTest, PruneInTextListsTheRunsBeforeItAsks) {
  const std::string rundir = archived_run();
  sys.clock += 60;
  sys.stdin_terminal = true;
  EXPECT_EQ(run({"--prune-archives", archive, "--older-than", "30s"}), kExitNothing);
  EXPECT_EQ(sys.questions, std::vector<std::string>{"remove this 1 archive run?"});
  EXPECT_EQ(out.str(), rundir + "\n");
  EXPECT_EQ(err.str(), "qpurge: nothing changed\n");
  EXPECT_TRUE(std::filesystem::exists(rundir));
  sys.answer_yes = true;
  EXPECT_EQ(run({"--prune-archives", archive, "--older-than", "30s", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), rundir + "\n");
  EXPECT_FALSE(std::filesystem::exists(rundir));
}

// --restore asks as a purge does: on a terminal, with what it would put
// back; without one, --yes or nothing (issue 24).
TEST_F(ArchiveModesTest, RestoreAsksOnATerminalAndRefusesWithoutOne) {
  const std::string rundir = archived_run();
  EXPECT_EQ(run({"--restore", rundir}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: fatal: standard input is not a terminal, so qpurge cannot ask before it restores: add --yes to "
            "go on without asking (after a --dry-run); nothing changed\n");
  sys.stdin_terminal = true;
  EXPECT_EQ(run({"--restore", rundir}), kExitNothing);
  EXPECT_EQ(sys.questions,
            std::vector<std::string>{"archive " + rundir + ": 2 messages selected\nrestore these 2 messages to hold?"});
  EXPECT_EQ(err.str(), "qpurge: nothing changed\n");
  EXPECT_EQ(files_in("hold"), 0u);
  sys.answer_yes = true;
  EXPECT_EQ(run({"--restore", rundir, "--id", "10278A74127"}), kExitDone) << err.str();
  EXPECT_EQ(sys.questions.back(), "archive " + rundir + ": 1 message selected\nrestore this 1 message to hold?");
  EXPECT_EQ(files_in("hold"), 1u);
}

// Without -c, the restore goes to the instance the run was archived from,
// which the run's header records, not to Postfix's default instance.
TEST_F(ArchiveModesTest, RestoreWithoutConfigDirUsesTheRecordedInstance) {
  pf.spools.clear();
  pf.spools["/etc/postfix-out"] = spool.root();
  put("deferred", "10278A74127", "spam@bad.test", {"bob@example.com"});
  ASSERT_EQ(run({"-c", "/etc/postfix-out", "--domain", "example.com", "--archive", archive, "--yes"}), kExitDone)
      << err.str();
  const std::string rundir = std::filesystem::directory_iterator(archive)->path();
  EXPECT_EQ(run({"--restore", rundir, "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("hold"), 1u);
}

}  // namespace
}  // namespace qpurge
