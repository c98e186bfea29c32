// SPDX-License-Identifier: MIT
// purge_plan_test.cc - the engine's plan (purge_plan.cc), end to end: what is
// selected and shown (dry runs, saved and applied plans, content selectors,
// --explain, undecided criteria). Every acting mode has a dry-run twin that
// never runs postsuper.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "qpurge/app/purge.h"
#include "qpurge/report/output.h"
#include "support/cli_fixture.h"

namespace qpurge {
namespace {

class PurgePlanTest : public testing::CliFixture {};

TEST_F(PurgePlanTest, AMessageSeenInTwoQueuesIsPlannedOnce) {
  // A message moving from deferred to active while the scan runs is seen in
  // both: one message, planned and handed over once (as last seen), counted once.
  put("active", "10278A74127", "spam@bad.test", {"bob@example.com"});
  put("deferred", "10278A74127", "spam@bad.test", {"bob@example.com"});
  EXPECT_EQ(run({"--domain", "example.com", "--yes", "--max", "1"}), kExitDone) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 1);
  ASSERT_EQ(sys.audit_lines.size(), 2u);
  EXPECT_EQ(audit_field(0, "ids"), "[\"deferred/10278A74127\"]") << "as last seen";
  EXPECT_EQ(audit_field(1, "summary"), "\"removed 1 of 1 planned; not found 0; changed since planning 0; failed 0\"");
}

TEST_F(PurgePlanTest, DryRunTwinNeverRunsPostsuper) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_TRUE(sys.audit_lines.empty());
  std::string want = entry_text_header();
  const std::string arrived = format_time(1795344810);
  for (const std::string& id : bob_ids())
    want += id + "  deferred    1d 0h      44  spam@bad.test\n    -> bob@example.com\n";
  want += "dry run: " + std::string(kFilled) + "\nselection: 20 messages, aged 1d 0h to 1d 0h\narrived " + arrived +
          " to " + arrived + "\ntop recipient domains: example.com 20\ntop senders: spam@bad.test 20\n";
  EXPECT_EQ(out.str(), want);
  EXPECT_EQ(err.str(), "");
}

// The dry-run twin of every acting mode: the plan is shown, postsuper never runs.
TEST_F(PurgePlanTest, EveryActingModeHasADryRunTwin) {
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

TEST_F(PurgePlanTest, UndecidedExclusionExcludesAndSaysSo) {
  put("deferred", "10278A74127", std::string(40, 'a') + "@" + std::string(40, 'b') + ".test", {"bob@example.com"});
  put("deferred", "20278A74127", "", {"bob@example.com"});
  EXPECT_EQ(run({"--all", "--regex", "--exclude-sender", "(.*)*@(.*)*x|.+", "--dry-run", "--format", "ids"}),
            kExitPartial);
  EXPECT_EQ(out.str(), "20278A74127\n");
  const std::string arrived = format_time(1795344810);
  EXPECT_EQ(err.str(),
            "qpurge: warning: --exclude-sender (.*)*@(.*)*x|.+: the pattern gave up on some input; those messages were "
            "not selected (a selector) or were excluded (an exclusion)\n"
            "qpurge: dry run: scanned 2 messages; selected 1 (1 matching recipients); skipped as mixed 0; in progress "
            "0; unreadable 0; undecided 1\n"
            "qpurge: selection: 1 message, aged 1d 0h to 1d 0h\nqpurge: arrived " +
                arrived + " to " + arrived +
                "\nqpurge: top recipient domains: example.com 1\nqpurge: top senders: <> 1\n");
}

// --explain names each criterion as typed, escaped once in text and not at
// all in JSON (which is lossless).
TEST_F(PurgePlanTest, ExplainShowsTheCriterionAsTyped) {
  put("deferred", "10278A74127", "spam@bad.test", {"bob@example.com"});
  EXPECT_EQ(run({"--all", "--exclude-header", "X-Tag: a\\b\x07", "--dry-run", "--explain", "--format", "json"}),
            kExitDone);
  const nlohmann::json j = nlohmann::json::parse(lines(out.str()).at(0));
  EXPECT_EQ(j["explain"], nlohmann::json({"--all: passed", "--exclude-header X-Tag: a\\b\x07: passed"})) << out.str();
  EXPECT_EQ(run({"--all", "--exclude-header", "X-Tag: a\\b\x07", "--dry-run", "--explain"}), kExitDone);
  EXPECT_EQ(lines(out.str()).at(4), "    --exclude-header X-Tag: a\\\\b\\x07: passed") << out.str();
}

// Content selectors, end to end: a base64 body with the URL, the URL only
// in a header, and a multipart without a boundary (cannot be parsed).
class ContentPurgeTest : public PurgePlanTest {
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
  EXPECT_EQ(audit_field(0, "ids"), "[\"deferred/10278A74127\"]");
  // Regression: the criterion's label was escaped twice ("login\\\\.example").
  EXPECT_EQ(err.str(),
            "qpurge: warning: deferred/3/30278A74127: multipart without a boundary: mixed; a content selector does not "
            "select it and a content exclusion excludes it\n"
            "qpurge: warning: --body login\\\\.example-bank\\\\.top: the content of some messages could not be read or "
            "parsed as MIME (each is named above); those messages were not selected (a selector) or were excluded (an "
            "exclusion)\n");
  EXPECT_EQ(out.str(),
            "scanned 3 messages; selected 1 (1 matching recipients); skipped as mixed 0; in progress 0; unreadable 0; "
            "undecided 1\nremoved 1 of 1 planned; not found 0; changed since planning 0; failed 0\n");
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
  EXPECT_EQ(nlohmann::json::parse(lines(sys.files["p.json"]).at(0))["body_limit"], 65536) << sys.files["p.json"];
  put_content("40278A74127", {"Subject: second"}, {"the URL is gone"});  // same file, same inode
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitPartial) << err.str();
  EXPECT_EQ(files_in("deferred"), 3u);
  EXPECT_TRUE(std::filesystem::exists(spool.root() + "/deferred/4/40278A74127") ||
              std::filesystem::exists(spool.root() + "/deferred/40278A74127"));
  EXPECT_EQ(out.str(), "40278A74127  deferred  changed: no longer matches\nplan p.json from " + format_time(sys.clock) +
                           ": 2 messages to delete\nremoved 1 of 2 planned; not found 0; changed since planning 1; "
                           "failed 0\n");
}

TEST_F(ContentPurgeTest, CutAtBodyLimitIsCountedAndExplained) {
  put_content("50278A74127", {"Subject: long"}, {std::string(200, 'a'), "https://login.example-bank.top/"});
  // Nothing selected, one message undecided: partial (3), not "nothing matched" (1).
  EXPECT_EQ(run({"--body", "example-bank", "--body-limit", "100b", "--dry-run", "--explain"}), kExitPartial);
  EXPECT_EQ(out.str(),
            "dry run: scanned 1 messages; selected 0 (0 matching recipients); skipped as mixed 0; in progress 0; "
            "unreadable 0; undecided 1; content cut at the limit 1\n");
  EXPECT_EQ(
      err.str(),
      "qpurge: deferred/5/50278A74127: content: cut at --body-limit (100 bytes of decoded text); the rest was not "
      "searched\nqpurge: warning: --body example-bank: some messages were cut at --body-limit (or at the "
      "content read limit) before anything matched; those messages were not selected (a selector) or were "
      "excluded (an exclusion)\n");
  // The acting run in the same state: the same status, nothing handed to postsuper.
  EXPECT_EQ(run({"--body", "example-bank", "--body-limit", "100b", "--yes"}), kExitPartial);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 1u);
  EXPECT_EQ(run({"--body", "example-bank", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "50278A74127\n");
}

TEST_F(ContentPurgeTest, RecipientCounts) {
  fill();
  put("deferred", "A0278A74127", "spam@bad.test", {"a@x.test", "b@x.test", "c@x.test"});
  EXPECT_EQ(run({"--min-recipients", "2", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "A0278A74127\n");
  EXPECT_EQ(run({"--min-recipients", "2", "--max-recipients", "2", "--dry-run"}), kExitNothing);
}

TEST_F(PurgePlanTest, PlanSavedForAnotherActionIsRefused) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--action", "release", "--queue", "deferred", "--save-plan", "p.json"}),
            kExitDone)
      << err.str();
  ASSERT_TRUE(sys.files.count("p.json"));
  EXPECT_EQ(run({"--apply-plan", "p.json", "--via-hold", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: --via-hold is a way to delete; it takes no other action (the plan was saved to release)\n"
            "Try 'qpurge --help' for more information.\n");
  EXPECT_EQ(run({"--apply-plan", "p.json", "--action", "hold", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: the plan was saved to release, not to hold; nothing changed (save a new plan with --action "
            "hold)\nTry 'qpurge --help' for more information.\n");
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

// Issue 19 item 8: --archive with --save-plan goes into the plan, and
// --apply-plan archives as the plan says (another --archive is refused).
TEST_F(PurgePlanTest, APlanSavedWithArchiveArchivesWhenApplied) {
  fill();
  const std::string archive = spool.root() + "-archive";
  ASSERT_EQ(run({"--domain", "example.com", "--archive", archive, "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_FALSE(std::filesystem::exists(archive)) << "saving a plan makes no archive";
  EXPECT_NE(sys.files["p.json"].find("\"archive\": \"" + archive + "\""), std::string::npos) << sys.files["p.json"];
  EXPECT_EQ(run({"--apply-plan", "p.json", "--archive", archive + "-other", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(), "qpurge: the plan was saved with --archive " + archive + ", not --archive " + archive +
                           "-other; nothing changed (give no --archive: the plan's is used)\n"
                           "Try 'qpurge --help' for more information.\n");
  EXPECT_EQ(run({"--apply-plan", "p.json", "--archive", archive + "/", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 21u);
  EXPECT_FALSE(std::filesystem::exists(archive));
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitDone) << err.str();
  EXPECT_NE(out.str().find("; archiving to " + archive + " (the plan's --archive)"), std::string::npos) << out.str();
  EXPECT_EQ(files_in("deferred"), 1u);
  std::size_t copies = 0, runs = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(archive)) {
    copies += f.is_regular_file() && f.path().filename() != "manifest.jsonl";
    runs += f.is_directory();
  }
  EXPECT_EQ(runs, 1u);
  EXPECT_EQ(copies, 20u);
  EXPECT_NE(audit_field(0, "archive"), "null") << "the record of intent names the archive run";
  std::filesystem::remove_all(archive);
}

// Issue 24 point 6: --apply-plan P --dry-run shows what the dry run of the
// same selection shows: each message with its recipients, the same summary.
TEST_F(PurgePlanTest, AppliedPlanDryRunShowsWhatTheDryRunShowed) {
  fill();
  put("deferred", "E0278A74127", "mixed@bad.test", {"bob@example.com", "keep@other.test"});
  for (const std::string format : {"text", "json"}) {
    const std::vector<std::string> select = {"--domain", "example.com", "--mixed", "include", "--format", format};
    std::vector<std::string> dry = select, save = select, apply = {"--apply-plan", "p.json", "--dry-run"};
    dry.push_back("--dry-run");
    save.insert(save.end(), {"--save-plan", "p.json"});
    apply.insert(apply.end(), {"--format", format});
    ASSERT_EQ(run(dry), kExitDone) << err.str();
    const std::string want_out = out.str(), want_err = err.str();
    EXPECT_NE(want_out.find(format == "text" ? "-> bob@example.com" : "\"address\": \"bob@example.com\""),
              std::string::npos)
        << want_out;
    ASSERT_EQ(run(save), kExitDone) << err.str();
    EXPECT_EQ(run(apply), kExitDone) << err.str();
    EXPECT_EQ(out.str(), want_out) << format;
    EXPECT_EQ(err.str(), want_err) << format;
  }
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(files_in("deferred"), 22u);
}

}  // namespace
}  // namespace qpurge
