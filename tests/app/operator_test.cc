// SPDX-License-Identifier: MIT
// operator_test.cc - the whole command as an operator meets it (issue 24):
// what it forgives (IDs pasted from mailq, a typo in an option), what it
// says and where (--count, hints, --help), end to end with a fake System.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/cli_fixture.h"

namespace qpurge {
namespace {

class OperatorTest : public testing::CliFixture {};

// mailq marks an ID "*" (active) or "!" (on hold): pasted, the mark goes.
TEST_F(OperatorTest, IdsPastedFromMailqKeepTheirStatusMark) {
  fill();
  sys.files["ids.txt"] = "10278A74127!\n11278A74127*\n";
  EXPECT_EQ(run({"--ids-from", "ids.txt", "--id", "12278A74127*", "--dry-run", "--format", "ids"}), kExitDone)
      << err.str();
  EXPECT_EQ(out.str(), "10278A74127\n11278A74127\n12278A74127\n");
  EXPECT_EQ(run({"--exclude-id", "10278A74127!", "--domain", "example.com", "--count"}), kExitDone);
  EXPECT_EQ(out.str(), "19\n");
}

TEST_F(OperatorTest, ATypoGetsTheNearestOption) {
  EXPECT_EQ(run({"--sendr", "x@y.test"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: unrecognised option '--sendr'; did you mean --sender?\nTry 'qpurge --help' for more "
            "information.\n");
  EXPECT_EQ(run({"--frobnicate"}), kExitFatal);
  EXPECT_EQ(lines(err.str()).at(0), "qpurge: unrecognised option '--frobnicate'");
}

// --count: the number alone on standard output, the summary on standard error.
TEST_F(OperatorTest, CountPrintsTheNumberOfSelectedMessages) {
  fill();
  EXPECT_EQ(run({"--domain", "example.com", "--count"}), kExitDone);
  EXPECT_EQ(out.str(), "20\n");
  EXPECT_EQ(err.str(), "qpurge: " + std::string(kFilled) + "\n");
  EXPECT_EQ(run({"--count", "-q"}), kExitDone);
  EXPECT_EQ(out.str(), "21\n");
  EXPECT_EQ(err.str(), "");
}

// -n and --shape without a selector: the whole queue.
TEST_F(OperatorTest, ReadOnlyViewsOfTheWholeQueue) {
  fill();
  EXPECT_EQ(run({"-n", "--format", "ids"}), kExitDone);
  EXPECT_EQ(lines(out.str()).size(), 21u);
  EXPECT_EQ(run({"--shape"}), kExitDone);
  EXPECT_NE(out.str().find("example.com"), std::string::npos);
  EXPECT_NE(err.str().find("qpurge: the table counts the selection: scanned 21 messages; selected 21"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(run({}), kExitFatal);  // acting needs a selector
}

// Mixed messages: never in the IDs or the JSON, whatever --explain; the
// summary says how to see them and what can be done.
TEST_F(OperatorTest, SkippedAsMixedIsNeverInTheSelectionAndHasAHint) {
  put("deferred", "10278A74127", "s@bad.test", {"a@example.com", "b@other.test"});
  put("deferred", "20278A74127", "s@bad.test", {"c@example.com"});
  for (const char* format : {"ids", "json"}) {
    EXPECT_EQ(run({"--domain", "example.com", "-n", "--explain", "--format", format}), kExitDone) << format;
    EXPECT_EQ(out.str().find("10278A74127"), std::string::npos) << format << ": " << out.str();
    EXPECT_NE(err.str().find("qpurge: skipped as mixed, not selected: 10278A74127"), std::string::npos) << err.str();
  }
  EXPECT_EQ(run({"--domain", "example.com", "-n"}), kExitDone);
  EXPECT_EQ(err.str(),
            "qpurge: 1 message skipped as mixed (only some of their recipients match):\n"
            "qpurge: see them with --dry-run --explain\n"
            "qpurge: take them whole with --mixed include, or only their matching recipients\n"
            "qpurge: with --mixed cancel (the others keep their mail)\n");
}

// --detail shows each recipient's delay reason (what --reason matches), in
// text and in JSON, so that mailq is not needed to see why mail is stuck.
TEST_F(OperatorTest, DetailShowsTheDelayReasons) {
  put("deferred", "10278A74127", "", {"bob@example.com"});
  ASSERT_EQ(run({"-n", "--format", "json", "--detail"}), kExitDone);
  const nlohmann::json j = nlohmann::json::parse(lines(out.str()).at(0));
  EXPECT_EQ(j["recipients"][0]["delay_reason"], "");
  const std::string offset = j["recipients"][0]["offset"].dump();
  std::filesystem::create_directories(spool.root() + "/defer/1");
  std::ofstream(spool.root() + "/defer/1/10278A74127")
      << "recipient=bob@example.com\noffset=" << offset << "\nstatus=4.4.1\naction=delayed\n"
      << "reason=connect to mx.example.com[192.0.2.1]:25: Connection refused\n\n";
  ASSERT_EQ(run({"-n", "--format", "json", "--detail"}), kExitDone);
  EXPECT_EQ(nlohmann::json::parse(lines(out.str()).at(0))["recipients"][0]["delay_reason"],
            "connect to mx.example.com[192.0.2.1]:25: Connection refused");
  ASSERT_EQ(run({"-n", "--detail"}), kExitDone);
  EXPECT_EQ(lines(out.str()).at(1), "10278A74127  deferred    1d 0h      44  <>");
  EXPECT_EQ(lines(out.str()).at(2),
            "    -> bob@example.com  (connect to mx.example.com[192.0.2.1]:25: Connection refused)");
  ASSERT_EQ(run({"-n"}), kExitDone);  // without --detail: the listing alone
  EXPECT_EQ(lines(out.str()).at(2), "    -> bob@example.com");
}

// --help: usage lines as a person writes them, within 80 columns.
TEST_F(OperatorTest, HelpReadsAsAPersonWritesIt) {
  EXPECT_EQ(run({"--help"}), kExitDone);
  const std::string help = out.str();
  EXPECT_NE(help.find("\n  -c, --config-dir DIR"), std::string::npos);
  EXPECT_NE(help.find("\n      --shape [sender]"), std::string::npos);
  EXPECT_NE(help.find("\n  -n, --dry-run "), std::string::npos);
  EXPECT_EQ(help.find("[ --"), std::string::npos);
  EXPECT_EQ(help.find("(=recipient)"), std::string::npos);
  for (const std::string& l : lines(help)) EXPECT_LE(l.size(), 80u) << l;
}

}  // namespace
}  // namespace qpurge
