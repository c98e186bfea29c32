// SPDX-License-Identifier: MIT
// printer_test.cc - each format, with hostile bytes from queue files, and the
// instance named on every line.
#include "qpurge/printer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace qpurge {
namespace {

PlanEntry hostile_entry() {
  PlanEntry e;
  e.queue = "deferred";
  e.dir = "deferred/A";
  e.id = "A0278A74127";
  e.arrival_time = 1000;
  e.sender = "evil\x1b[31m@x.test";  // an escape sequence for the terminal
  e.recipients.push_back(PlanRecipient{"a b@example.com", "", false, 100, true, false});
  e.recipients.push_back(PlanRecipient{"\xff@our.test", "", false, 200, false, true});
  e.mixed = true;
  return e;
}

struct Printed {
  std::ostringstream out, err;
  RunConfig c;
  std::string print(Format f, const std::string& instance = "") {
    c.format = f;
    c.instance = instance;
    std::unique_ptr<Printer> p = make_printer(c, out, err, false);
    p->entry(hostile_entry());
    p->result(IdResult{"deferred", "A0278A74127", IdOutcome::kFailed, "postsuper said \x07"},
              action_info(Action::kDelete));
    p->summary("selected 1");
    return out.str();
  }
};

TEST(PrinterTest, TextEscapesAndListsWhatAMixedMessageLoses) {
  Printed p;
  std::string s = p.print(Format::kText);
  EXPECT_EQ(s.find('\x1b'), std::string::npos);
  EXPECT_NE(s.find("\"evil\\x1b[31m\"@x.test  -> \"a b\"@example.com  (mixed: also drops \\xff@our.test [excluded])"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("A0278A74127  deferred  failed: postsuper said \\x07\n"), std::string::npos) << s;
  EXPECT_NE(s.find("selected 1\n"), std::string::npos);
}

TEST(PrinterTest, IdsAreBareAndNameTheInstance) {
  Printed p;
  EXPECT_EQ(p.print(Format::kIds), "A0278A74127\n");
  Printed q;
  EXPECT_EQ(q.print(Format::kIds, "postfix-out"), "postfix-out A0278A74127\n");
  EXPECT_EQ(q.err.str(), "qpurge: [postfix-out] selected 1\n");
}

TEST(PrinterTest, JsonIsLosslessAndNamesTheInstanceFirst) {
  Printed p;
  std::string s = p.print(Format::kJson, "postfix-out");
  std::istringstream lines(s);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line.rfind("{\"instance\": \"postfix-out\", \"queue_name\": \"deferred\"", 0), 0u) << line;
  EXPECT_NE(line.find("\"sender\": \"\\\"evil\\u001b[31m\\\"@x.test\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"address\": \"\\\"a b\\\"@example.com\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"address\": \"\\udcff@our.test\", \"offset\": 200, \"matched\": false, \"excluded\": true"),
            std::string::npos)
      << line;
  ASSERT_TRUE(std::getline(lines, line));
  nlohmann::json r = nlohmann::json::parse(line);
  EXPECT_EQ(r["instance"], "postfix-out");
  EXPECT_EQ(r["result"], "failed");
}

// --detail adds what the message says; nothing of it without --detail.
TEST(PrinterTest, JsonDetailHasTheDecodedSubjectAndAttachments) {
  PlanEntry e = hostile_entry();
  e.recipients.pop_back();  // not UTF-8: nlohmann would not read it back
  e.has_content = true;
  e.subject = "Gr\xc3\xbc\xc3\x9f\x65 \x1b[2J";
  e.message_id = "a1@bad.test";
  e.attachments = {{"rechnung \xc3\xa4.zip", "application/zip"}, {"", "image/png"}};
  std::ostringstream out, err;
  RunConfig c;
  c.format = Format::kJson;
  c.detail = true;
  make_printer(c, out, err, false)->entry(e);
  nlohmann::json j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["subject"], "Gr\xc3\xbc\xc3\x9f\x65 \x1b[2J");
  EXPECT_EQ(j["message_id"], "a1@bad.test");
  ASSERT_EQ(j["attachments"].size(), 2u);
  EXPECT_EQ(j["attachments"][0]["filename"], "rechnung \xc3\xa4.zip");
  EXPECT_EQ(j["attachments"][0]["type"], "application/zip");
  EXPECT_EQ(j["attachments"][1]["type"], "image/png");
  e.has_content = false;  // not decoded (it could not be parsed)
  std::ostringstream out2;
  make_printer(c, out2, err, false)->entry(e);
  j = nlohmann::json::parse(out2.str());
  EXPECT_TRUE(j["subject"].is_null());
  EXPECT_TRUE(j["attachments"].is_null());
  c.detail = false;
  std::ostringstream out3;
  make_printer(c, out3, err, false)->entry(e);
  EXPECT_FALSE(nlohmann::json::parse(out3.str()).contains("subject"));
}

TEST(PrinterTest, ResultSummarySaysWhatWasNotDone) {
  ExecReport rep;
  rep.results = {IdResult{"deferred", "A1", IdOutcome::kDone, ""}, IdResult{"hold", "A2", IdOutcome::kAlready, ""},
                 IdResult{"deferred", "A3", IdOutcome::kNotAttempted, ""}};
  rep.stopped = "postsuper was killed by signal 9 (deferred, batch 1)";
  EXPECT_EQ(result_summary(rep, action_info(Action::kHold)),
            "placed on hold 1 of 3 planned; not found 0; changed since planning 0; failed 0; already on hold 1; "
            "not attempted 1");
}

}  // namespace
}  // namespace qpurge

namespace qpurge {
namespace {

// Regression: the shape printer once counted ages from time 0, putting every
// message in the first bucket.
TEST(PrinterTest, ShapeCountsAgesFromTheRunsClock) {
  RunConfig c;
  c.shape = ShapeOptions{};
  std::ostringstream out, err;
  std::unique_ptr<Printer> p = make_printer(c, out, err, false);
  const std::int64_t now = 1795344810;
  p->begin_plan(now);
  PlanEntry e = hostile_entry();
  e.arrival_time = now - 3 * 3600;  // in the 320-minute bucket
  p->entry(e);
  EXPECT_EQ(out.str(), "");  // the engine prints it, or writes it to --output
  p->print(p->shape_output());
  p->finish_plan("selected 1");
  ShapeOptions so;
  so.now = now;
  ShapeTable expected(so);
  std::vector<std::string_view> rcpts;
  for (const auto& r : e.recipients) rcpts.push_back(r.address);
  expected.add(e.arrival_time, e.sender, rcpts);
  EXPECT_EQ(out.str(), expected.render_text());
}

TEST(PrinterTest, RateProgressShowsTheRateAndTheTimeLeft) {
  EXPECT_EQ(rate_progress(5, 12), "; --rate 5 IDs/s, about 3 s left");
  EXPECT_EQ(rate_progress(5, 10), "; --rate 5 IDs/s, about 2 s left");
  EXPECT_EQ(rate_progress(100000, 0), "; --rate 100000 IDs/s, about 0 s left");
}

}  // namespace
}  // namespace qpurge
