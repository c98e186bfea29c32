// SPDX-License-Identifier: MIT
// purge_test.cc - the engine's destructive decisions, driven end to end
// (arguments, configuration, engine, printers) with a fake System and a fake
// Postfix acting on temporary spools. Every acting case has a dry-run twin
// that asserts postsuper was never run.
#include "qpurge/purge.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "qpurge/cli.h"
#include "support/fake_postfix.h"
#include "support/fake_system.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

using testing::FakePostfix;
using testing::FakeSystem;
using testing::TestSpool;

class PurgeTest : public ::testing::Test {
 protected:
  void SetUp() override { pf.spools[""] = spool.root(); }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "qpurge");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out.str("");
    err.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), sys, pf, out, err);
  }
  void put(const std::string& queue, const std::string& id, const std::string& sender, std::vector<std::string> rcpts) {
    spool.put_message(queue, id, testing::message(sender, std::move(rcpts)));
  }
  // Twenty deferred messages to bob@example.com, one to a@other.test.
  void fill() {
    for (int i = 0; i < 20; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "%02X278A74127", 0x10 + i);
      put("deferred", id, "spam@bad.test", {"bob@example.com"});
    }
    put("deferred", "F0278A74127", "friend@good.test", {"a@other.test"});
  }
  std::size_t files_in(const std::string& queue) {
    std::size_t n = 0;
    for (auto& f : std::filesystem::recursive_directory_iterator(spool.root() + "/" + queue)) n += f.is_regular_file();
    return n;
  }

  TestSpool spool;
  FakeSystem sys;
  FakePostfix pf;
  std::ostringstream out, err;
};

TEST_F(PurgeTest, DeletesWhatMatchesAndRecordsIt) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(pf.postsuper_runs(), 1);
  ASSERT_EQ(sys.audit_lines.size(), 2u);
  EXPECT_NE(sys.audit_lines[0].find("\"event\": \"intent\""), std::string::npos);
  EXPECT_NE(sys.audit_lines[1].find("removed 20 of 20 planned"), std::string::npos);
  ASSERT_EQ(sys.syslog_lines.size(), 1u);
}

TEST_F(PurgeTest, AMessageSeenInTwoQueuesIsPlannedOnce) {
  // A message moving from deferred to active while the scan runs is seen in
  // both: one message, planned and handed over once (as last seen), counted once.
  put("active", "10278A74127", "spam@bad.test", {"bob@example.com"});
  put("deferred", "10278A74127", "spam@bad.test", {"bob@example.com"});
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--max", "1"}), kExitDone) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 1);
  ASSERT_EQ(sys.audit_lines.size(), 2u);
  EXPECT_NE(sys.audit_lines[1].find("removed 1 of 1 planned"), std::string::npos) << sys.audit_lines[1];
}

TEST_F(PurgeTest, DryRunTwinNeverRunsPostsuper) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_NE(out.str().find("selected 20"), std::string::npos) << out.str();
}

TEST_F(PurgeTest, NotRootIsRefusedBeforeAnythingChanges) {
  fill();
  sys.euid = 1000;
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("reserved for the superuser"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone);  // looking is allowed
}

TEST_F(PurgeTest, WithoutATerminalItProceedsWithoutAsking) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com"}), kExitDone);
  EXPECT_TRUE(sys.questions.empty());
  EXPECT_EQ(files_in("deferred"), 1u);
}

TEST_F(PurgeTest, DeclinedPromptChangesNothing) {
  fill();
  sys.stdin_terminal = true;
  sys.answer_yes = false;
  EXPECT_EQ(run({"--domain", "example.com"}), kExitNothing);
  ASSERT_EQ(sys.questions.size(), 1u);
  EXPECT_EQ(sys.questions[0], "delete these 20 messages?");
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_TRUE(sys.audit_lines.empty());
}

TEST_F(PurgeTest, MaxExceededChangesNothing) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--max", "5", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("more than --max 5; nothing changed"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(run({"--domain", "example.com", "--max", "5", "--dry-run"}), kExitFatal);
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeTest, UnwritableAuditLogChangesNothing) {
  fill();
  sys.audit_open_fails = true;
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("nothing changed (use --audit-log FILE"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeTest, TornResultRecordIsLoudAndPartial) {
  fill();
  sys.audit_appends_before_failure = 1;  // the intent is written, the result is not
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitPartial);
  EXPECT_NE(err.str().find("the audit record of what was done could not be written"), std::string::npos);
  EXPECT_EQ(files_in("deferred"), 1u);
}

TEST_F(PurgeTest, DyingPostsuperStopsTheRun) {
  fill();
  pf.kill_on_run = 1;
  EXPECT_EQ(run({"--domain", "example.com", "--batch-size", "7", "--yes", "--format", "json"}), kExitPartial);
  EXPECT_EQ(pf.postsuper_runs(), 1) << "no postsuper run after one was killed";
  EXPECT_EQ(files_in("deferred"), 20u);
  EXPECT_NE(err.str().find("stopped: "), std::string::npos) << err.str();
  std::size_t not_attempted = 0;
  for (std::size_t p = 0; (p = out.str().find("\"not_attempted\"", p)) != std::string::npos; ++p) ++not_attempted;
  EXPECT_EQ(not_attempted, 13u) << out.str();
}

TEST_F(PurgeTest, PostsuperExitingNonZeroStopsTheRun) {
  fill();
  pf.fail_exit_on_run = 1;
  EXPECT_EQ(run({"--domain", "example.com", "--batch-size", "7", "--yes"}), kExitPartial);
  EXPECT_EQ(pf.postsuper_runs(), 1);
  EXPECT_EQ(files_in("deferred"), 21u);
}

TEST_F(PurgeTest, PostsuperUnderAnotherNameIsUnderstood) {
  fill();
  pf.program_name = "pfsuper";
  EXPECT_EQ(run({"--domain", "example.com", "--postsuper", "/usr/local/sbin/pfsuper", "--yes"}), kExitDone)
      << err.str() << out.str();
}

TEST_F(PurgeTest, ViaHoldDeletesThroughHold) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--via-hold", "--yes"}), kExitDone) << err.str() << out.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(files_in("hold"), 0u);
}

TEST_F(PurgeTest, ViaHoldStopsWhenTheHoldQueueCannotBeScanned) {
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
  EXPECT_NE(err.str().find("stopped: cannot scan the hold queue"), std::string::npos) << err.str() << out.str();
  EXPECT_NE(err.str().find(
                "20 messages qpurge put on hold are still there; to release them:\n    printf '%s\\n' 10278A74127 "),
            std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find(" | '/usr/sbin/postsuper' -H -"), std::string::npos) << err.str();
}

TEST_F(PurgeTest, PlanSavedForAnotherActionIsRefused) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--action", "release", "--queue", "deferred", "--save-plan", "p.json"}),
            kExitDone)
      << err.str();
  ASSERT_TRUE(sys.files.count("p.json"));
  EXPECT_EQ(run({"--apply-plan", "p.json", "--via-hold", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("--via-hold is a way to delete"), std::string::npos) << err.str();
  EXPECT_EQ(run({"--apply-plan", "p.json", "--action", "hold", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("the plan was saved to release, not to hold"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeTest, AppliedPlanNamesItsActionInThePrompt) {
  fill();
  sys.host = "mx.test";
  ASSERT_EQ(run({"--domain", "example.com", "--action", "hold", "--queue", "deferred", "--save-plan", "p.json"}),
            kExitDone);
  sys.stdin_terminal = true;
  sys.answer_yes = true;
  EXPECT_EQ(run({"--apply-plan", "p.json"}), kExitDone) << err.str();
  ASSERT_EQ(sys.questions.size(), 1u);
  EXPECT_EQ(sys.questions[0], "hold these 20 messages?");
  EXPECT_EQ(files_in("hold"), 20u);
}

// The dry-run twin of every acting mode: the plan is shown, postsuper never runs.
TEST_F(PurgeTest, EveryActingModeHasADryRunTwin) {
  fill();
  const std::vector<std::vector<std::string>> modes = {
      {"--action", "delete"}, {"--action", "hold"}, {"--action", "release"},   {"--action", "requeue"},
      {"--action", "expire"}, {"--via-hold"},       {"--max", "100", "--yes"}, {"--mixed", "include"},
      {"--format", "json"},   {"--format", "ids"},  {"--batch-size", "1"}};
  for (const auto& mode : modes) {
    std::vector<std::string> words = {"--all", "--dry-run"};
    words.insert(words.end(), mode.begin(), mode.end());
    int status = run(words);
    EXPECT_TRUE(status == kExitDone || status == kExitNothing) << mode[0] << ": " << err.str();
  }
  ASSERT_EQ(run({"--all", "--save-plan", "p.json"}), kExitDone);
  EXPECT_EQ(run({"--apply-plan", "p.json", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--apply-plan", "p.json", "--via-hold", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_EQ(files_in("deferred"), 21u);
}

TEST_F(PurgeTest, AlreadyOnHoldIsNotAFailure) {
  fill();
  put("hold", "A0278A74127", "spam@bad.test", {"bob@example.com"});
  EXPECT_EQ(run({"--domain", "example.com", "--action", "hold", "--yes", "--format", "json"}), kExitDone) << err.str();
  EXPECT_NE(out.str().find("\"queue_id\": \"A0278A74127\", \"result\": \"already\""), std::string::npos) << out.str();
  EXPECT_EQ(files_in("hold"), 21u);
}

TEST_F(PurgeTest, UndecidedExclusionExcludesAndSaysSo) {
  put("deferred", "10278A74127", std::string(40, 'a') + "@" + std::string(40, 'b') + ".test", {"bob@example.com"});
  put("deferred", "20278A74127", "", {"bob@example.com"});
  EXPECT_EQ(run({"--all", "--regex", "--exclude-sender", "(.*)*@(.*)*x|.+", "--dry-run", "--format", "ids"}),
            kExitPartial);
  EXPECT_EQ(out.str(), "20278A74127\n");
  EXPECT_NE(err.str().find("--exclude-sender (.*)*@(.*)*x|.+: the pattern gave up"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("undecided 1"), std::string::npos) << err.str();
}

// Content selectors, end to end: a base64 body with the URL, the URL only
// in a header, and a multipart without a boundary (cannot be parsed).
class ContentPurgeTest : public PurgeTest {
 protected:
  void put_content(const std::string& id, std::vector<std::string> headers, std::vector<std::string> body) {
    SyntheticMessage m = testing::message("spam@bad.test", {"bob@example.com"});
    m.header_lines = std::move(headers);
    m.body_lines = std::move(body);
    spool.put_message("deferred", id, m);
  }
  void fill_content() {
    // "Visit https://login.example-bank.top/now\n", base64.
    put_content("10278A74127",
                {"Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=", "Message-ID: <a1@bad.test>", "MIME-Version: 1.0",
                 "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"},
                {"VmlzaXQgaHR0cHM6Ly9sb2dpbi5leGFtcGxlLWJhbmsudG9wL25vdwo="});
    put_content("20278A74127", {"Subject: plain", "X-Link: https://login.example-bank.top/x"}, {"nothing here"});
    put_content("30278A74127", {"Subject: broken", "MIME-Version: 1.0", "Content-Type: multipart/mixed"},
                {"--x", "", "https://login.example-bank.top/", "--x--"});
  }
};

TEST_F(ContentPurgeTest, BodyDeletesOnlyTheDecodedMatchAndNamesWhatItCouldNotParse) {
  fill_content();
  EXPECT_EQ(run({"--body", "login\\.example-bank\\.top", "--yes"}), kExitPartial) << err.str();
  EXPECT_EQ(files_in("deferred"), 2u);
  ASSERT_EQ(pf.postsuper_runs(), 1);
  EXPECT_NE(sys.audit_lines[0].find("deferred/10278A74127"), std::string::npos) << sys.audit_lines[0];
  EXPECT_EQ(sys.audit_lines[0].find("20278A74127"), std::string::npos) << sys.audit_lines[0];
  EXPECT_NE(err.str().find("/30278A74127: multipart without a boundary"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("could not be read or parsed as MIME"), std::string::npos) << err.str();
  EXPECT_EQ(err.str().find("the pattern gave up"), std::string::npos) << err.str();
}

TEST_F(ContentPurgeTest, ContentExclusionExcludesWhatItCannotParse) {
  fill_content();
  EXPECT_EQ(run({"--all", "--exclude-body", "example-bank", "--dry-run", "--format", "ids"}), kExitPartial);
  EXPECT_EQ(out.str(), "20278A74127\n");
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(ContentPurgeTest, SubjectAndDecodedHeaderAndMessageId) {
  fill_content();
  EXPECT_EQ(run({"--subject", "grÜße aus", "--dry-run", "--format", "ids"}), kExitNothing) << out.str();
  EXPECT_EQ(run({"--subject", "Grüße aus", "--dry-run", "--format", "ids"}), kExitDone) << err.str();
  EXPECT_EQ(out.str(), "10278A74127\n");
  EXPECT_EQ(run({"--header", "Subject: Grüße", "--dry-run", "--format", "ids"}), kExitNothing);
  EXPECT_EQ(run({"--header", "Subject: Grüße", "--decode-headers", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "10278A74127\n");
  EXPECT_EQ(run({"--message-id", "a1@bad.test", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "10278A74127\n");
}

// The saved plan keeps --body; applying it reads the content again right
// before postsuper: a message whose body changed since is not deleted.
TEST_F(ContentPurgeTest, AppliedPlanReverifiesTheBody) {
  fill_content();
  put_content("40278A74127", {"Subject: second"}, {"see https://login.example-bank.top/y"});
  ASSERT_EQ(run({"--body", "example-bank", "--body-limit", "64k", "--save-plan", "p.json"}), kExitPartial) << err.str();
  EXPECT_NE(sys.files["p.json"].find("\"body_limit\": 65536"), std::string::npos) << sys.files["p.json"];
  put_content("40278A74127", {"Subject: second"}, {"the URL is gone"});  // same file, same inode
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitPartial) << err.str();
  EXPECT_EQ(files_in("deferred"), 3u);
  EXPECT_TRUE(std::filesystem::exists(spool.root() + "/deferred/4/40278A74127") ||
              std::filesystem::exists(spool.root() + "/deferred/40278A74127"));
  EXPECT_NE(out.str().find("no longer matches"), std::string::npos) << out.str();
}

TEST_F(ContentPurgeTest, CutAtBodyLimitIsCountedAndExplained) {
  put_content("50278A74127", {"Subject: long"}, {std::string(200, 'a'), "https://login.example-bank.top/"});
  EXPECT_EQ(run({"--body", "example-bank", "--body-limit", "100", "--dry-run", "--explain"}), kExitNothing);
  EXPECT_NE(out.str().find("content cut at the limit 1"), std::string::npos) << out.str();
  EXPECT_NE(err.str().find("/50278A74127: content: cut at --body-limit (100 bytes"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("some messages were cut at --body-limit"), std::string::npos) << err.str();
  EXPECT_EQ(run({"--body", "example-bank", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "50278A74127\n");
}

TEST_F(ContentPurgeTest, IdsFromAFileOrStandardInput) {
  fill();
  sys.files["ids.txt"] = "# from the SIEM\n10278A74127\n\n  11278A74127  \n";
  EXPECT_EQ(run({"--ids-from", "ids.txt", "--id", "F0278A74127", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "10278A74127\n11278A74127\nF0278A74127\n");
  sys.files["/dev/stdin"] = "10278A74127\n";
  EXPECT_EQ(run({"--domain", "example.com", "--exclude-ids-from", "-", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str().find("10278A74127"), std::string::npos);
  EXPECT_NE(out.str().find("11278A74127"), std::string::npos);
  EXPECT_EQ(run({"--exclude-ids-from", "-", "--domain", "example.com"}), kExitFatal);  // cannot ask
  EXPECT_NE(err.str().find("add --yes"), std::string::npos) << err.str();
  sys.files["bad.txt"] = "10278A74127\n../../etc/passwd\n";
  EXPECT_EQ(run({"--ids-from", "bad.txt", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("--ids-from bad.txt line 2: not a queue ID"), std::string::npos) << err.str();
  EXPECT_EQ(run({"--ids-from", "missing.txt", "--yes"}), kExitFatal);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  ASSERT_EQ(run({"--ids-from", "ids.txt", "--save-plan", "p.json"}), kExitDone);
  EXPECT_NE(sys.files["p.json"].find("\"option\": \"--id\""), std::string::npos) << sys.files["p.json"];
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 19u);
}

TEST_F(ContentPurgeTest, RecipientCounts) {
  fill();
  put("deferred", "A0278A74127", "spam@bad.test", {"a@x.test", "b@x.test", "c@x.test"});
  EXPECT_EQ(run({"--min-recipients", "2", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "A0278A74127\n");
  EXPECT_EQ(run({"--min-recipients", "2", "--max-recipients", "2", "--dry-run"}), kExitNothing);
}

// --archive: every deleted message has its copy; one that cannot be copied is
// not deleted; --restore puts them back into hold under new IDs, once.
TEST_F(PurgeTest, ArchiveThenRestore) {
  fill();
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  std::vector<std::string> runs;
  for (const auto& d : std::filesystem::directory_iterator(archive)) runs.push_back(d.path());
  ASSERT_EQ(runs.size(), 1u);
  std::size_t copies = 0;
  for (const auto& f : std::filesystem::directory_iterator(runs[0])) copies += f.path().filename() != "manifest.jsonl";
  EXPECT_EQ(copies, 20u);
  EXPECT_NE(sys.audit_lines[0].find("\"archive\": \"" + runs[0] + "\""), std::string::npos) << sys.audit_lines[0];

  EXPECT_EQ(run({"--restore", runs[0], "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", runs[0], "--recipient", "nobody@example.com"}), kExitNothing) << err.str() << out.str();
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", runs[0], "--format", "json"}), kExitDone) << err.str() << out.str();
  EXPECT_EQ(files_in("hold"), 20u);
  EXPECT_NE(out.str().find("\"result\": \"restored\", \"new_queue_id\": "), std::string::npos) << out.str();
  // Regression: the archive writes the mode as octal digits (700); restore once read them as decimal.
  for (const auto& f : std::filesystem::directory_iterator(spool.root() + "/hold")) {
    struct stat st;
    ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u) << f.path();
  }
  EXPECT_EQ(run({"--restore", runs[0]}), kExitNothing) << err.str() << out.str();  // twice adds nothing
  EXPECT_EQ(files_in("hold"), 20u);
  EXPECT_EQ(run({"--archives", archive}), kExitDone);
  EXPECT_NE(out.str().find("20 messages"), std::string::npos) << out.str();
  std::filesystem::remove_all(archive);
}

TEST_F(PurgeTest, ArchiveWithViaHoldCopiesFromHold) {
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

TEST_F(PurgeTest, MessageWhoseCopyFailsIsNotDeleted) {
  fill();
  // A defer log that is a symlink: the archive refuses the whole message.
  std::filesystem::create_directories(spool.root() + "/defer/1");
  std::filesystem::create_symlink("/etc/passwd", spool.root() + "/defer/1/10278A74127");
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes", "--format", "json"}), kExitPartial);
  EXPECT_EQ(files_in("deferred"), 2u);
  EXPECT_NE(out.str().find("\"queue_id\": \"10278A74127\", \"result\": \"not_archived\""), std::string::npos)
      << out.str();
  std::filesystem::remove_all(archive);
}

TEST_F(PurgeTest, ArchiveThatCannotBeMadeChangesNothing) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--archive", "/proc/qpurge-archive", "--yes"}), kExitFatal);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

// One acting run per queue: the lock is taken before planning and held
// until acting is done; a run that finds it taken changes nothing.
TEST_F(PurgeTest, BusyLockRefusesAtOnceAndChangesNothing) {
  fill();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("qpurge: fatal: another qpurge is acting on " + spool.root() +
                           " (PID 4242: qpurge --all --yes; lock file /run/qpurge/"),
            std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("); nothing changed (--wait SECONDS waits for it)"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "") << "refused before planning";
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_TRUE(sys.audit_lines.empty());
  EXPECT_TRUE(sys.sleeps_us.empty());
  EXPECT_EQ(sys.locks_held, 0);
}

TEST_F(PurgeTest, DryRunsTakeNoLock) {
  fill();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--domain", "example.com", "--shape"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--domain", "example.com", "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--apply-plan", "p.json", "--dry-run"}), kExitDone) << err.str();
  EXPECT_TRUE(sys.lock_tries.empty());
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitFatal) << "applying a plan acts: it takes the lock";
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeTest, LockIsHeldWhileActingAndReleasedAfter) {
  fill();
  int held_during = -1;
  pf.after_run = [&](int) { held_during = sys.locks_held; };
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(held_during, 1);
  EXPECT_EQ(sys.locks_held, 0);
  EXPECT_EQ(sys.locked, std::vector<std::string>{spool.root()});
  EXPECT_EQ(sys.lock_command, "qpurge --domain example.com --yes");
  EXPECT_TRUE(sys.sleeps_us.empty()) << "no --rate, no pacing";
}

TEST_F(PurgeTest, WaitTakesTheLockOnceItIsFree) {
  fill();
  sys.busy = {spool.root()};
  sys.busy_tries = 3;
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--wait", "5"}), kExitDone) << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(3, 100000));
  EXPECT_NE(err.str().find("qpurge: waiting up to 5 s for another qpurge acting on " + spool.root() +
                           " (PID 4242: qpurge --all --yes)\n"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(files_in("deferred"), 1u);
}

TEST_F(PurgeTest, WaitThenRefuseChangesNothing) {
  fill();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--wait", "2"}), kExitFatal);
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(20, 100000));
  EXPECT_NE(err.str().find("nothing changed after waiting 2 s for it"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
}

TEST_F(PurgeTest, LockThatCannotBeMadeIsARefusal) {
  fill();
  sys.lock_error = "/run/qpurge: Read-only file system";
  EXPECT_EQ(run({"--domain", "example.com", "--yes"}), kExitFatal);
  EXPECT_NE(err.str().find("cannot take the run lock of " + spool.root() +
                           ": /run/qpurge: Read-only file system; nothing changed"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << "looking needs no lock";
}

TEST_F(PurgeTest, RestoreTakesTheLock) {
  fill();
  const std::string archive = spool.root() + "-archive";
  ASSERT_EQ(run({"--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  const std::string archived = std::filesystem::directory_iterator(archive)->path();
  sys.busy = {spool.root()};
  EXPECT_EQ(run({"--restore", archived}), kExitFatal);
  EXPECT_NE(err.str().find("another qpurge is acting on"), std::string::npos) << err.str();
  EXPECT_EQ(files_in("hold"), 0u);
  EXPECT_EQ(run({"--restore", archived, "--dry-run"}), kExitDone) << err.str();
  sys.busy.clear();
  EXPECT_EQ(run({"--restore", archived}), kExitDone) << err.str();
  EXPECT_EQ(files_in("hold"), 20u);
  std::filesystem::remove_all(archive);
}

// --rate N: the k-th ID is handed over k/N seconds after the first (fake clock).
TEST_F(PurgeTest, RatePacesTheHandOver) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--rate", "5"}), kExitDone) << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(19, 200000));
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(pf.postsuper_runs(), 1);
}

TEST_F(PurgeTest, RatePacesBothPhasesOfViaHold) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--rate", "10", "--via-hold", "--max", "20"}), kExitDone)
      << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(38, 100000)) << "19 waits holding, 19 deleting";
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(files_in("hold"), 0u);
}

TEST_F(PurgeTest, RateWithArchiveAndAppliedPlan) {
  fill();
  const std::string archive = spool.root() + "-archive";
  ASSERT_EQ(run({"--domain", "example.com", "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_EQ(run({"--apply-plan", "p.json", "--archive", archive, "--rate", "4", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(sys.sleeps_us, std::vector<std::int64_t>(19, 250000));
  EXPECT_EQ(files_in("deferred"), 1u);
  std::filesystem::remove_all(archive);
}

class InstancesTest : public PurgeTest {
 protected:
  void SetUp() override {
    pf.spools["/etc/postfix"] = spool.root();
    pf.spools["/etc/postfix-out"] = second.root();
    pf.postmulti_output =
        "-               -               y         /etc/postfix\n"
        "postfix-out     mta             y         /etc/postfix-out\n";
  }
  TestSpool second;
};

TEST_F(InstancesTest, MaxCapsTheTotalBeforeAnyInstanceActs) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  put("deferred", "20278A74127", "s@x.test", {"bob@example.com"});
  put("deferred", "30278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  second.put_message("deferred", "50278A74127", testing::message("s@x.test", {"bob@example.com"}));
  second.put_message("deferred", "60278A74127", testing::message("s@x.test", {"bob@example.com"}));
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--max", "5", "--yes"}), kExitFatal);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_NE(err.str().find("over all instances"), std::string::npos) << err.str();
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--max", "6", "--yes"}), kExitDone)
      << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 2);
}

TEST_F(InstancesTest, SecondInstanceFailingIsPartialAndNamed) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  pf.fail_exit_on_run = 2;
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--yes"}), kExitPartial);
  EXPECT_NE(out.str().find("[postfix-out] 40278A74127  deferred  failed"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("[default] "), std::string::npos) << out.str();
}

TEST_F(InstancesTest, EveryFormatNamesTheInstance) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  run({"--all-instances", "--domain", "example.com", "--dry-run", "--format", "ids"});
  EXPECT_EQ(out.str(), "default 10278A74127\npostfix-out 40278A74127\n");
  run({"--all-instances", "--domain", "example.com", "--dry-run", "--format", "json"});
  EXPECT_EQ(out.str().rfind("{\"instance\": \"default\", ", 0), 0u) << out.str();
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--yes", "--format", "json"}),
            kExitDone);
  EXPECT_NE(
      out.str().find("{\"instance\": \"postfix-out\", \"queue_name\": \"deferred\", \"queue_id\": \"40278A74127\", "
                     "\"result\": \"done\"}"),
      std::string::npos)
      << out.str();
}

TEST_F(InstancesTest, ArchiveKeepsOneRunPerInstance) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  std::size_t runs = 0;
  for (const auto& d : std::filesystem::directory_iterator(archive)) runs += d.is_directory();
  EXPECT_EQ(runs, 2u);
  std::filesystem::remove_all(archive);
}

// --all-instances: every queue is locked, in sorted order, before any instance plans.
TEST_F(InstancesTest, LocksEveryQueueBeforeAnyPlans) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  std::vector<std::string> sorted = {spool.root(), second.root()};
  std::sort(sorted.begin(), sorted.end());
  sys.busy = {sorted[1]};
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--yes", "--rate", "3"}), kExitFatal);
  EXPECT_EQ(sys.lock_tries, sorted);
  EXPECT_EQ(sys.locks_held, 0) << "the first lock is let go";
  EXPECT_NE(err.str().find("another qpurge is acting on " + sorted[1]), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("; no instance was acted on"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "") << "nothing planned";
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  sys.busy.clear();
  sys.lock_tries.clear();
  sys.locked.clear();
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--yes", "--rate", "3"}), kExitDone) << err.str();
  EXPECT_EQ(sys.locked, sorted);
  EXPECT_EQ(sys.locks_held, 0);
  EXPECT_EQ(pf.postsuper_runs(), 2);
}

TEST(ExitStatusTest, OverInstances) {
  using K = Outcome::Kind;
  auto o = [](K k, bool changed) { return Outcome{k, changed, 0}; };
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kDone, true), o(K::kDone, true)})), kExitDone);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kDone, true), o(K::kNothing, false)})), kExitDone);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kNothing, false), o(K::kNothing, false)})), kExitNothing);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kFatal, false), o(K::kNothing, false)})), kExitFatal);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kDone, true), o(K::kFatal, false)})), kExitPartial);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kPartial, true), o(K::kDone, true)})), kExitPartial);
}

}  // namespace
}  // namespace qpurge
