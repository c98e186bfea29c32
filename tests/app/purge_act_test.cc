// SPDX-License-Identifier: MIT
// purge_act_test.cc - the engine's acting half (purge_act.cc), end to end
// with a fake System and a fake Postfix that fails on demand: the prompt,
// the audit records, postsuper dying or refusing, --via-hold, --archive and
// --rate. Each acting case has its dry-run twin in purge_plan_test.cc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "qpurge/act/journal.h"
#include "qpurge/app/purge.h"
#include "qpurge/report/output.h"
#include "support/cli_fixture.h"
#include "support/files.h"

namespace qpurge {
namespace {

class PurgeActTest : public testing::CliFixture {};

TEST_F(PurgeActTest, DeletesWhatMatchesAndRecordsIt) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(pf.postsuper_runs(), 1);
  ASSERT_EQ(sys.audit_lines.size(), 2u);
  const std::string removed = "removed 20 of 20 planned; not found 0; changed since planning 0; failed 0";
  EXPECT_EQ(audit_field(0, "event"), "\"intent\"");
  EXPECT_EQ(audit_field(1, "event"), "\"result\"");
  EXPECT_EQ(audit_field(1, "summary"), "\"" + removed + "\"");
  EXPECT_EQ(out.str(), std::string(kFilled) + "\n" + removed + "\n");
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(sys.syslog_lines,
            std::vector<std::string>{removed +
                                     " ({\"criteria\": [{\"option\": \"--domain\", \"values\": [\"example.com\"]}]})"});
}

// Without a terminal (cron, ssh without -t, a pipe) it cannot ask: it
// refuses, as apt-get does, and says how to go on (issue 24).
TEST_F(PurgeActTest, WithoutATerminalItRefusesUnlessYes) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com"}), kExitFatal);
  EXPECT_TRUE(sys.questions.empty());
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_EQ(err.str(),
            "qpurge: fatal: standard input is not a terminal, so qpurge cannot ask before it deletes these 20 "
            "messages: add --yes to go on without asking (after a --dry-run); nothing changed\n");
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitDone);
  EXPECT_EQ(files_in("deferred"), 1u);
}

TEST_F(PurgeActTest, OneMessageIsAskedAboutInTheSingular) {
  fill();
  sys.stdin_terminal = true;
  EXPECT_EQ(run({"--recipient", "a@other.test"}), kExitNothing);
  ASSERT_EQ(sys.questions.size(), 1u);
  EXPECT_EQ(lines(sys.questions[0]).back(), "delete this 1 message?");
}

TEST_F(PurgeActTest, DeclinedPromptChangesNothing) {
  fill();
  sys.stdin_terminal = true;
  sys.answer_yes = false;
  EXPECT_EQ(run({"--domain", "example.com"}), kExitNothing);
  ASSERT_EQ(sys.questions.size(), 1u);
  // The digest of the selection right above the question, on the terminal.
  EXPECT_EQ(lines(sys.questions[0]),
            (std::vector<std::string>{std::string(kFilled), "selection: 20 messages, aged 1d 0h to 1d 0h",
                                      "arrived 2026-11-22 10:53:30 to 2026-11-22 10:53:30",
                                      "top recipient domains: example.com 20", "top senders: spam@bad.test 20",
                                      "delete these 20 messages?"}));
  EXPECT_EQ(lines(out.str()).size(), 1u + 2 * 20);  // the plan's lines, on standard output
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_TRUE(sys.audit_lines.empty());
}

TEST_F(PurgeActTest, UnwritableAuditLogChangesNothing) {
  fill();
  sys.audit_open_fails = true;
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: fatal: audit log /var/log/qpurge/audit.jsonl: Permission denied; nothing changed (use "
            "--audit-log FILE to name a writable log)\n");
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeActTest, TornResultRecordIsLoudAndPartial) {
  fill();
  sys.audit_appends_before_failure = 1;  // the intent is written, the result is not
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitPartial);
  EXPECT_EQ(err.str(),
            "qpurge: warning: the audit record of what was done could not be written: audit log: No space left on "
            "device (the partial record was rolled back); what was done is only in this output and in syslog\n");
  EXPECT_EQ(files_in("deferred"), 1u);
}

TEST_F(PurgeActTest, DyingPostsuperStopsTheRun) {
  fill();
  pf.kill_on_run = 1;
  EXPECT_EQ(run({"--domain", "example.com", "--batch-size", "7", "--yes", "--format", "json"}), kExitPartial);
  EXPECT_EQ(pf.postsuper_runs(), 1) << "no postsuper run after one was killed";
  EXPECT_EQ(files_in("deferred"), 20u);
  EXPECT_EQ(err.str(),
            "qpurge: warning: postsuper said: postsuper was killed by signal 9\n"
            "qpurge: warning: stopped: postsuper was killed by signal 9 (deferred, batch 1); no further postsuper run "
            "was started\n"
            "qpurge: warning: 13 messages were not attempted; find out what happened to postsuper (see the mail log), "
            "then run the same qpurge command again: it plans afresh\n"
            "qpurge: " +
                std::string(kFilled) +
                "\n"
                "qpurge: removed 1 of 20 planned; not found 0; changed since planning 0; failed 6; not attempted 13\n");
  const std::vector<std::string> ids = bob_ids();
  std::string want;
  for (std::size_t i = 0; i < ids.size(); ++i)
    want +=
        "{\"queue_name\": \"deferred\", \"queue_id\": \"" + ids[i] + "\", " +
        (i == 0  ? std::string("\"result\": \"done\"}")
         : i < 7 ? "\"result\": \"failed\", \"detail\": \"postsuper was killed by signal 9\"}"
                 : "\"result\": \"not_attempted\", \"detail\": \"not attempted: postsuper was killed by signal 9 on "
                   "an earlier batch\"}") +
        "\n";
  EXPECT_EQ(out.str(), want);
}

TEST_F(PurgeActTest, PostsuperExitingNonZeroStopsTheRun) {
  fill();
  pf.fail_exit_on_run = 1;
  EXPECT_EQ(run({"--domain", "example.com", "--batch-size", "7", "--yes"}), kExitPartial);
  EXPECT_EQ(pf.postsuper_runs(), 1);
  EXPECT_EQ(files_in("deferred"), 21u);
}

TEST_F(PurgeActTest, PostsuperUnderAnotherNameIsUnderstood) {
  fill();
  pf.program_name = "pfsuper";
  EXPECT_EQ(run({"--domain", "example.com", "--postsuper", "/usr/local/sbin/pfsuper", "--yes"}), kExitDone)
      << err.str() << out.str();
}

TEST_F(PurgeActTest, ViaHoldDeletesThroughHold) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--via-hold", "--yes"}), kExitDone) << err.str() << out.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(files_in("hold"), 0u);
}

TEST_F(PurgeActTest, ViaHoldStopsWhenTheHoldQueueCannotBeScanned) {
  fill();
  // Once postsuper -h has moved them, the hold queue becomes unreadable.
  pf.after_run = [this](int run) {
    if (run != 1) return;
    std::filesystem::rename(spool.root() + "/hold", spool.root() + "/hold.aside");
    std::ofstream(spool.root() + "/hold") << "not a directory";
  };
  int status = run({"--domain", "example.com", "--queue", "deferred", "--via-hold", "--yes"});
  EXPECT_EQ(status, kExitPartial) << err.str();
  EXPECT_EQ(files_in("hold.aside"), 20u) << "held, and with no hold queue to scan, not deleted";
  EXPECT_EQ(pf.postsuper_runs(), 1);
  std::string held, lines, journal, error;
  ASSERT_TRUE(journal_path(sys.journal_directory(), spool.root(), journal, error)) << error;
  for (const std::string& id : bob_ids()) {
    held += " " + id;
    lines += id + "  hold  failed: placed on hold by qpurge and left there: the hold queue could not be scanned\n";
  }
  EXPECT_EQ(err.str(),
            "qpurge: warning: stopped: cannot scan the hold queue: hold: open directory: Not a directory; nothing was "
            "deleted from hold; no further postsuper run was started\n"
            "qpurge: warning: 20 messages qpurge put on hold are still there; to release them:\n"
            "    printf '%s\\n'" +
                held + " | '/usr/sbin/postsuper' -H -\n" +
                "qpurge: the next acting qpurge run on this instance (or qpurge --recover) verifies the messages "
                "left on hold again and deletes or releases them (journal " +
                journal + ")\n");
  EXPECT_EQ(out.str(),
            lines + kFilled +
                "\nremoved 0 of 20 planned; not found 0; changed since planning 0; failed 20; not attempted 0\n");
}

TEST_F(PurgeActTest, AppliedPlanNamesItsActionInThePrompt) {
  fill();
  sys.host = "mx.test";
  ASSERT_EQ(run({"--domain", "example.com", "--action", "hold", "--queue", "deferred", "--save-plan", "p.json"}),
            kExitDone);
  sys.stdin_terminal = true;
  sys.answer_yes = true;
  EXPECT_EQ(run({"--apply-plan", "p.json"}), kExitDone) << err.str();
  ASSERT_EQ(sys.questions.size(), 1u);
  EXPECT_EQ(lines(sys.questions[0]).back(), "hold these 20 messages?");
  EXPECT_EQ(files_in("hold"), 20u);
}

TEST_F(PurgeActTest, AlreadyOnHoldIsNotAFailure) {
  fill();
  put("hold", "A0278A74127", "spam@bad.test", {"bob@example.com"});
  EXPECT_EQ(run({"--domain", "example.com", "--action", "hold", "--yes", "--format", "json"}), kExitDone) << err.str();
  std::string want;
  for (const std::string& id : bob_ids())
    want += "{\"queue_name\": \"deferred\", \"queue_id\": \"" + id + "\", \"result\": \"done\"}\n";
  EXPECT_EQ(out.str(), want +
                           "{\"queue_name\": \"hold\", \"queue_id\": \"A0278A74127\", \"result\": \"already\", "
                           "\"detail\": \"already on hold\"}\n");
  EXPECT_EQ(err.str(),
            "qpurge: scanned 22 messages; selected 21 (21 matching recipients); skipped as mixed 0; in progress 0; "
            "unreadable 0\nqpurge: placed on hold 20 of 21 planned; not found 0; changed since planning 0; failed 0; "
            "already on hold 1\n");
  EXPECT_EQ(files_in("hold"), 21u);
}

TEST_F(PurgeActTest, ArchiveWithViaHoldCopiesFromHold) {
  fill();
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--domain", "example.com", "--via-hold", "--archive", archive, "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(files_in("hold"), 0u);
  std::size_t copies = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(archive))
    copies += f.is_regular_file() && f.path().filename() != "manifest.jsonl";
  EXPECT_EQ(copies, 20u);
  std::filesystem::remove_all(archive);
}

TEST_F(PurgeActTest, MessageWhoseCopyFailsIsNotDeleted) {
  fill();
  // A defer log that is a symlink: the archive refuses the whole message.
  std::filesystem::create_directories(spool.root() + "/defer/1");
  std::filesystem::create_symlink("/etc/passwd", spool.root() + "/defer/1/10278A74127");
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes", "--format", "json"}), kExitPartial);
  EXPECT_EQ(files_in("deferred"), 2u);
  std::string want =
      "{\"queue_name\": \"deferred\", \"queue_id\": \"10278A74127\", \"result\": \"not_archived\", "
      "\"detail\": \"not deleted: its copy could not be made: " +
      spool.root() + "/defer/1/10278A74127: is a symbolic link, not copied\"}\n";
  for (const std::string& id : bob_ids())
    if (id != "10278A74127")
      want += "{\"queue_name\": \"deferred\", \"queue_id\": \"" + id + "\", \"result\": \"done\"}\n";
  EXPECT_EQ(out.str(), want);
  std::filesystem::remove_all(archive);
}

TEST_F(PurgeActTest, ArchiveThatCannotBeMadeChangesNothing) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--archive", "/proc/qpurge-archive", "--yes"}), kExitFatal);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

// Issue 19 item 3 (F_maildrop_restore): a postdrop file is never archived,
// and so never deleted: --restore could not put it back as a queue file.
TEST_F(PurgeActTest, PostdropFileIsNeitherArchivedNorDeleted) {
  const std::string postdrop = testing::slurp(std::string(QPURGE_TEST_DATA) + "/queue/maildrop.qf");
  spool.put("maildrop", "30278A74127", postdrop, 0744);
  const std::string archive = spool.root() + "-archive";
  for (const char* mode : {"--dry-run", "--yes"}) {
    EXPECT_EQ(run({"--queue", "maildrop", "--all", "--archive", archive, mode}), kExitFatal);
    EXPECT_EQ(err.str(),
              "qpurge: --archive cannot keep maildrop messages: they are postdrop files, not queue files, and "
              "--restore could not put them back; leave maildrop out of --queue\n"
              "Try 'qpurge --help' for more information.\n");
  }
  EXPECT_EQ(files_in("maildrop"), 1u);
  EXPECT_FALSE(std::filesystem::exists(archive));
  // One that a scan of another queue meets.
  fill();
  spool.put("hold", "40278A74127", postdrop, 0700);
  EXPECT_EQ(run({"--all", "--archive", archive, "--yes", "--format", "json"}), kExitPartial) << err.str();
  EXPECT_NE(out.str().find("{\"queue_name\": \"hold\", \"queue_id\": \"40278A74127\", \"result\": \"not_archived\", "
                           "\"detail\": \"not deleted: its copy could not be made: " +
                           spool.root() +
                           "/hold/40278A74127: its first record is 'T', not the size record 'C': not a queue file "
                           "cleanup wrote (a postdrop file from maildrop?), which --restore could not put back\"}\n"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(files_in("hold"), 1u);
  EXPECT_EQ(files_in("deferred"), 0u);
  EXPECT_EQ(pf.postsuper_runs(), 1);
  std::filesystem::remove_all(archive);
}

// --rate N: the k-th ID is handed over k/N seconds after the first (fake clock).
TEST_F(PurgeActTest, RatePacesTheHandOver) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--rate", "5"}), kExitDone) << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(19, 200000));
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(pf.postsuper_runs(), 1);
}

TEST_F(PurgeActTest, RatePacesBothPhasesOfViaHold) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--rate", "10", "--via-hold", "--max", "20"}), kExitDone)
      << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(38, 100000)) << "19 waits holding, 19 deleting";
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(files_in("hold"), 0u);
}

TEST_F(PurgeActTest, RateWithArchiveAndAppliedPlan) {
  fill();
  const std::string archive = spool.root() + "-archive";
  ASSERT_EQ(run({"--domain", "example.com", "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--apply-plan", "p.json", "--archive", archive, "--rate", "4", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(19, 250000));
  EXPECT_EQ(files_in("deferred"), 1u);
  std::filesystem::remove_all(archive);
}

}  // namespace
}  // namespace qpurge
