// SPDX-License-Identifier: MIT
// plan_file_test.cc - plans saved and loaded: exact bytes survive, one message
// a line, version 1 still read, and a plan that could point qpurge anywhere
// but its own queue, or that was cut short, is refused.
#include "qpurge/plan/plan_file.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace qpurge {
namespace {

PlanHeader header() {
  PlanHeader h;
  h.created = 1795344810;
  h.host = "mx.test";
  h.queue_directory = "/var/spool/postfix";
  h.action = "hold";
  h.queues = {"deferred", "hold"};
  h.criteria = {PlanCriterion{"--sender", {"\xff\x01odd@x.test"}}, PlanCriterion{"--all", {}}};
  return h;
}

PlanEntry entry() {
  PlanEntry e;
  e.queue = "deferred";
  e.dir = "deferred/A";
  e.id = "A0278A74127";
  e.inode = 42;
  e.arrival_time = 1795344000;
  e.message_size = 300;
  e.sender = "\xfe\x1b@x.test";
  e.recipients.push_back(PlanRecipient{"r@example.com", "", false, 100, true, false});
  return e;
}

// The lines of a plan file, each parsed.
std::vector<nlohmann::json> plan_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    out.push_back(nlohmann::json::parse(text.substr(at, nl - at)));
  return out;
}

TEST(PlanFileTest, RoundTripKeepsExactBytes) {
  PlanHeader in = header();
  in.archive = "/srv/qpurge/\xff-archive";
  in.has_counts = true;
  in.counts.scan.messages = 21;
  in.counts.selected = 1;
  in.counts.undecided = 2;
  PlanEntry e = entry();
  e.file_size = 812;
  e.mixed = true;
  e.recipients.push_back(PlanRecipient{"keep@\xfe.test", "alias@x.test", true, 200, false, true});
  std::string text = plan_to_json(in, {e, entry()});
  PlanHeader h;
  std::vector<PlanEntry> entries;
  std::string error;
  ASSERT_TRUE(load_plan(text, h, entries, error)) << error;
  EXPECT_EQ(h.action, "hold");
  EXPECT_EQ(h.queues, (std::vector<std::string>{"deferred", "hold"}));
  EXPECT_EQ(h.archive, in.archive);
  ASSERT_TRUE(h.has_counts);
  EXPECT_EQ(h.counts.scan.messages, 21u);
  EXPECT_EQ(h.counts.undecided, 2u);
  ASSERT_EQ(h.criteria.size(), 2u);
  EXPECT_EQ(h.criteria[0].values[0], "\xff\x01odd@x.test");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].sender, "\xfe\x1b@x.test");
  EXPECT_EQ(entries[0].path(), "deferred/A/A0278A74127");
  EXPECT_EQ(entries[0].inode, 42u);
  EXPECT_EQ(entries[0].file_size, 812u);
  EXPECT_TRUE(entries[0].mixed);
  ASSERT_EQ(entries[0].recipients.size(), 2u);
  const PlanRecipient& r = entries[0].recipients[1];
  EXPECT_EQ(r.address, "keep@\xfe.test");
  EXPECT_TRUE(r.has_original);
  EXPECT_EQ(r.original, "alias@x.test");
  EXPECT_EQ(r.offset, 200u);
  EXPECT_FALSE(r.matched);
  EXPECT_TRUE(r.excluded);
  EXPECT_TRUE(entries[0].recipients[0].matched);
}

// Issue 24 point 6: a header line, then one message a line (less, diff, jq).
TEST(PlanFileTest, IsAHeaderLineThenOneMessageALine) {
  const std::string text = plan_to_json(header(), {entry(), entry()});
  const std::vector<nlohmann::json> lines = plan_lines(text);
  ASSERT_EQ(lines.size(), 3u) << text;
  EXPECT_EQ(lines[0]["qpurge_plan"], 2);
  EXPECT_EQ(lines[0]["messages"], 2);
  EXPECT_TRUE(lines[0]["archive"].is_null());
  EXPECT_EQ(lines[1]["queue_id"], "A0278A74127");
  EXPECT_EQ(lines[1]["recipients"][0]["address"], "r@example.com");
  EXPECT_EQ(lines[2], lines[1]);
}

TEST(PlanFileTest, ReadsVersion1) {
  const std::string v1 = R"({"qpurge_plan": 1, "created": 1795344810, "host": "mx1", "queue_directory": "/q",
    "config_directory": "/etc/postfix", "action": "delete", "mixed": "skip", "regex": false,
    "queues": ["deferred"], "criteria": [{"option": "--domain", "values": ["example.com"],
    "values_hex": ["6578616d706c652e636f6d"]}], "messages": [{"queue_name": "deferred",
    "queue_id": "A0278A74127", "path": "deferred/A/A0278A74127", "inode": 7, "arrival_time": 1795344000,
    "message_size": 300, "sender": "s@x.test", "sender_hex": "7340782e74657374",
    "recipients": [{"address": "r@example.com", "matched": true}]}]})";
  PlanHeader h;
  std::vector<PlanEntry> entries;
  std::string error;
  ASSERT_TRUE(load_plan(v1 + "\n", h, entries, error)) << error;
  EXPECT_EQ(h.config_directory, "/etc/postfix");
  EXPECT_FALSE(h.has_counts);
  EXPECT_EQ(h.archive, "");
  ASSERT_EQ(h.criteria.size(), 1u);
  EXPECT_EQ(h.criteria[0].values, (std::vector<std::string>{"example.com"}));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].sender, "s@x.test");
  EXPECT_EQ(entries[0].inode, 7u);
}

TEST(PlanFileTest, RefusesAPathOutsideTheMessagesQueue) {
  std::string text = plan_to_json(header(), {entry()});
  const std::size_t nl = text.find('\n');
  for (const char* evil : {"deferred/../../etc/A0278A74127", "hold/A/A0278A74127", "deferred/A/B0278A74127"}) {
    nlohmann::json j = nlohmann::json::parse(text.substr(nl + 1));
    j["path"] = evil;
    PlanHeader h;
    std::vector<PlanEntry> entries;
    std::string error;
    EXPECT_FALSE(load_plan(text.substr(0, nl + 1) + j.dump() + "\n", h, entries, error)) << evil;
    EXPECT_NE(error.find("line 2: invalid path in plan"), std::string::npos) << error;
    EXPECT_TRUE(entries.empty());
  }
}

TEST(PlanFileTest, RefusesAPlanCutShort) {
  std::string text = plan_to_json(header(), {entry(), entry()});
  PlanHeader h;
  std::vector<PlanEntry> entries;
  std::string error;
  const std::size_t last = text.rfind('\n', text.size() - 2);
  EXPECT_FALSE(load_plan(text.substr(0, last + 1), h, entries, error));
  EXPECT_EQ(error, "cannot read plan: the header says 2 messages, the file holds 1 (cut short?)");
  EXPECT_FALSE(load_plan(text.substr(0, text.size() - 1), h, entries, error));
  EXPECT_EQ(error, "cannot read plan: line 3: cut short (no newline)");
}

TEST(PlanFileTest, RefusesWhatIsNotAPlan) {
  PlanHeader h;
  std::vector<PlanEntry> entries;
  std::string error;
  EXPECT_FALSE(load_plan("{\"qpurge_plan\": 3}", h, entries, error));
  EXPECT_EQ(error, "not a qpurge plan (version 1 or 2)");
  EXPECT_FALSE(load_plan("{\"qpurge_plan\": 1, ", h, entries, error));
  EXPECT_NE(error.find("cannot read plan"), std::string::npos);
}

}  // namespace
}  // namespace qpurge
