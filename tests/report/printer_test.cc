// SPDX-License-Identifier: MIT
// printer_test.cc - each format, with hostile bytes from queue files, and the
// instance named on every line.
#include "qpurge/report/printer.h"

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
  OutputOptions o;
  std::string print(Format f, const std::string& instance = "") {
    o.format = f;
    std::unique_ptr<Printer> p = make_printer(o, instance, out, err, false);
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
  EXPECT_EQ(s, entry_text_header() +
                   "A0278A74127  deferred       0s       0  \"evil\\x1b[31m\"@x.test\n"
                   "    -> \"a b\"@example.com\n"
                   "    mixed, also drops: \\xff@our.test [excluded]\n"
                   "A0278A74127  deferred  failed: postsuper said \\x07\nselected 1\n");
  EXPECT_EQ(p.err.str(), "");
}

// A summary to a terminal is broken at "; " to fit 80 columns; to a pipe it
// stays one line, as scripts read it.
TEST(PrinterTest, ASummaryFitsEightyColumnsOnATerminalOnly) {
  const std::string line =
      "dry run: scanned 120 messages; selected 13 (18 matching recipients); skipped as mixed 22; in progress 0; "
      "unreadable 0";
  OutputOptions o;
  std::ostringstream out, err;
  std::unique_ptr<Printer> p = make_printer(o, "", out, err, false);
  p->summary(line);
  EXPECT_EQ(out.str(), line + "\n");
  out.str("");
  p->set_terminals(true, false);
  p->summary(line);
  EXPECT_EQ(out.str(),
            "dry run: scanned 120 messages; selected 13 (18 matching recipients);\n"
            "  skipped as mixed 22; in progress 0; unreadable 0\n");
  o.format = Format::kIds;
  std::unique_ptr<Printer> q = make_printer(o, "mx-out", out, err, false);
  q->set_terminals(false, true);
  q->summary(line);
  EXPECT_EQ(err.str(),
            "qpurge: [mx-out] dry run: scanned 120 messages;\n"
            "qpurge: [mx-out]   selected 13 (18 matching recipients); skipped as mixed 22;\n"
            "qpurge: [mx-out]   in progress 0; unreadable 0\n");
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
  EXPECT_EQ(line,
            "{\"instance\": \"postfix-out\", \"queue_name\": \"deferred\", \"queue_id\": \"A0278A74127\", "
            "\"arrival_time\": 1000, \"message_size\": 0, \"forced_expire\": false, "
            "\"sender\": \"\\\"evil\\u001b[31m\\\"@x.test\", "
            "\"recipients\": [{\"address\": \"\\\"a b\\\"@example.com\", \"offset\": 100, \"matched\": true}, "
            "{\"address\": \"\\udcff@our.test\", \"offset\": 200, \"matched\": false, \"excluded\": true}], "
            "\"matched_recipients\": 1, \"mixed\": true, \"inode\": 0, \"file_size\": 0, "
            "\"path\": \"deferred/A/A0278A74127\"}");
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
  OutputOptions o;
  o.format = Format::kJson;
  o.detail = true;
  make_printer(o, "", out, err, false)->entry(e);
  nlohmann::json j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["subject"], "Gr\xc3\xbc\xc3\x9f\x65 \x1b[2J");
  EXPECT_EQ(j["message_id"], "a1@bad.test");
  ASSERT_EQ(j["attachments"].size(), 2u);
  EXPECT_EQ(j["attachments"][0]["filename"], "rechnung \xc3\xa4.zip");
  EXPECT_EQ(j["attachments"][0]["type"], "application/zip");
  EXPECT_EQ(j["attachments"][1]["type"], "image/png");
  e.has_content = false;  // not decoded (it could not be parsed)
  std::ostringstream out2;
  make_printer(o, "", out2, err, false)->entry(e);
  j = nlohmann::json::parse(out2.str());
  EXPECT_TRUE(j["subject"].is_null());
  EXPECT_TRUE(j["attachments"].is_null());
  o.detail = false;
  std::ostringstream out3;
  make_printer(o, "", out3, err, false)->entry(e);
  EXPECT_FALSE(nlohmann::json::parse(out3.str()).contains("subject"));
}

// The archive modes' lines: restored messages, archive runs, pruned runs.
struct ArchivePrinted {
  std::ostringstream out, err;
  OutputOptions o;
  std::string print(Format f) {
    o.format = f;
    std::unique_ptr<Printer> p = make_printer(o, "", out, err, false);
    p->restored(RestoredMessage{.old_id = "10278A74127",
                                .new_id = "1027812345",
                                .queue = "active",
                                .outcome = "restored",
                                .detail = "/q/active/1027812345",
                                .canceled = {}},
                "active");
    p->restored(RestoredMessage{.old_id = "20278A74127",
                                .new_id = "",
                                .queue = "",
                                .outcome = "would_restore",
                                .detail = "/q/hold/20278A74127",
                                .canceled = {}},
                "hold");
    p->restored(
        RestoredMessage{
            .old_id = "3\x1b[2J", .new_id = "", .queue = "", .outcome = "failed", .detail = "bad \x07", .canceled = {}},
        "");
    ArchiveRunInfo r;
    r.path = "/a/20261127T030512Z-mx1-4242";
    r.name = "20261127T030512Z-mx1-4242";
    r.host = "mx1";
    r.queue_directory = "/var/spool/postfix";
    r.criteria = {{"--domain", {"example.com"}}, {"--all", {}}};
    r.messages = 20, r.deleted = 19, r.bytes = 40960, r.restored = 2;
    p->archive_run(r);
    p->pruned("/a/old-1", false);
    p->pruned("/a/old-2", true);
    p->summary("done");
    return out.str();
  }
};

TEST(PrinterTest, ArchiveModesInText) {
  ArchivePrinted p;
  EXPECT_EQ(p.print(Format::kText),
            "10278A74127  restored as 1027812345 in active: /q/active/1027812345\n"
            "20278A74127  would_restore: /q/hold/20278A74127\n"
            "3\\x1b[2J  failed: bad \\x07\n"
            "20261127T030512Z-mx1-4242  " +
                format_time(0) +
                "  20 messages  40960 bytes  2 restored  --domain example.com --all\n"
                "/a/old-1\n"
                "done\n");
  EXPECT_EQ(p.err.str(), "");
}

TEST(PrinterTest, ArchiveModesAsIds) {
  ArchivePrinted p;
  EXPECT_EQ(p.print(Format::kIds), "1027812345\n/a/20261127T030512Z-mx1-4242\n/a/old-1\n/a/old-2\n");
  EXPECT_EQ(p.err.str(), "qpurge: done\n");
}

TEST(PrinterTest, ArchiveModesAsJson) {
  ArchivePrinted p;
  EXPECT_EQ(p.print(Format::kJson),
            "{\"queue_id\": \"10278A74127\", \"result\": \"restored\", \"new_queue_id\": \"1027812345\", "
            "\"queue_name\": \"active\", \"detail\": \"/q/active/1027812345\"}\n"
            "{\"queue_id\": \"20278A74127\", \"result\": \"would_restore\", \"queue_name\": \"hold\", "
            "\"detail\": \"/q/hold/20278A74127\"}\n"
            "{\"queue_id\": \"3\\u001b[2J\", \"result\": \"failed\", \"detail\": \"bad \\u0007\"}\n"
            "{\"run\": \"20261127T030512Z-mx1-4242\", \"path\": \"/a/20261127T030512Z-mx1-4242\", \"created\": 0, "
            "\"host\": \"mx1\", \"queue_directory\": \"/var/spool/postfix\", \"criteria\": ["
            "{\"option\": \"--domain\", \"values\": [\"example.com\"]}, {\"option\": \"--all\", \"values\": []}], "
            "\"messages\": 20, \"deleted\": 19, \"bytes\": 40960, \"restored\": 2, \"canceled\": 0}\n"
            "{\"path\": \"/a/old-1\", \"result\": \"would_remove\"}\n"
            "{\"path\": \"/a/old-2\", \"result\": \"removed\"}\n");
  EXPECT_EQ(p.err.str(), "qpurge: done\n");
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
  OutputOptions o;
  o.shape = ShapeOptions{};
  std::ostringstream out, err;
  std::unique_ptr<Printer> p = make_printer(o, "", out, err, false);
  const std::int64_t now = 1795344810;
  p->begin_plan(now, {"deferred"});
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
