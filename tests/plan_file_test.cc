// SPDX-License-Identifier: MIT
// plan_file_test.cc - plans saved and loaded: exact bytes survive, and a plan
// that could point qpurge anywhere but its own queue is refused.
#include "qpurge/plan_file.h"

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

TEST(PlanFileTest, RoundTripKeepsExactBytes) {
  std::string text = plan_to_json(header(), {entry()});
  EXPECT_TRUE(nlohmann::json::parse(text).is_object());
  PlanHeader h;
  std::vector<PlanEntry> entries;
  std::string error;
  ASSERT_TRUE(load_plan(text, h, entries, error)) << error;
  EXPECT_EQ(h.action, "hold");
  EXPECT_EQ(h.queues, (std::vector<std::string>{"deferred", "hold"}));
  ASSERT_EQ(h.criteria.size(), 2u);
  EXPECT_EQ(h.criteria[0].values[0], "\xff\x01odd@x.test");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].sender, "\xfe\x1b@x.test");
  EXPECT_EQ(entries[0].path(), "deferred/A/A0278A74127");
  EXPECT_EQ(entries[0].inode, 42u);
}

TEST(PlanFileTest, RefusesAPathOutsideTheMessagesQueue) {
  std::string text = plan_to_json(header(), {entry()});
  for (const char* evil : {"deferred/../../etc/A0278A74127", "hold/A/A0278A74127", "deferred/A/B0278A74127"}) {
    nlohmann::json j = nlohmann::json::parse(text);
    j["messages"][0]["path"] = evil;
    PlanHeader h;
    std::vector<PlanEntry> entries;
    std::string error;
    EXPECT_FALSE(load_plan(j.dump(), h, entries, error)) << evil;
    EXPECT_NE(error.find("invalid path in plan"), std::string::npos) << error;
  }
}

TEST(PlanFileTest, RefusesWhatIsNotAPlan) {
  PlanHeader h;
  std::vector<PlanEntry> entries;
  std::string error;
  EXPECT_FALSE(load_plan("{\"qpurge_plan\": 2}", h, entries, error));
  EXPECT_EQ(error, "not a qpurge plan (version 1)");
  EXPECT_FALSE(load_plan("{\"qpurge_plan\": 1, ", h, entries, error));
  EXPECT_NE(error.find("cannot read plan"), std::string::npos);
}

}  // namespace
}  // namespace qpurge
