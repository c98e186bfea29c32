// SPDX-License-Identifier: MIT
// output_test.cc - plan entries as text and JSON, and the dry run's view.
#include "qpurge/output.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

PlanEntry entry(const std::string& id, const std::string& sender, std::vector<std::pair<std::string, bool>> rcpts,
                std::int64_t arrival = 1000) {
  PlanEntry e;
  e.queue = "deferred";
  e.dir = "deferred/" + id.substr(0, 1);
  e.id = id;
  e.arrival_time = arrival;
  e.message_size = 300;
  e.sender = sender;
  for (auto& [a, m] : rcpts) e.recipients.push_back(PlanRecipient{a, "", false, 100, m});
  return e;
}

TEST(OutputTest, TextLineShowsMatchedRecipientsAndMixed) {
  std::string s;
  append_entry_text(s, entry("A0278A74127", "", {{"x@example.com", true}, {"y@other.example", false}}));
  EXPECT_NE(s.find("A0278A74127  deferred  "), std::string::npos);
  EXPECT_NE(s.find("  <>  -> x@example.com"), std::string::npos);
  EXPECT_EQ(s.find("y@other.example"), std::string::npos);
}

TEST(OutputTest, JsonUsesPostqueueFieldNames) {
  std::string s;
  append_entry_json(s, entry("A0278A74127", "a@b", {{"x@example.com", true}}), false);
  for (const char* f :
       {"\"queue_name\": \"deferred\"", "\"queue_id\": \"A0278A74127\"", "\"arrival_time\": 1000",
        "\"message_size\": 300", "\"sender\": \"a@b\"", "\"recipients\": [{\"address\": \"x@example.com\""})
    EXPECT_NE(s.find(f), std::string::npos) << f;
  EXPECT_EQ(s.back(), '\n');
}

TEST(OutputTest, ResultJsonCarriesTheDetail) {
  std::string s;
  append_result_json(s, IdResult{"deferred", "A0278A74127", IdOutcome::kNotFound, "vanished since planning"});
  EXPECT_EQ(s,
            "{\"queue_name\": \"deferred\", \"queue_id\": \"A0278A74127\", \"result\": \"not_found\", "
            "\"detail\": \"vanished since planning\"}");
}

TEST(OutputTest, AgesReadLikeAnOperatorWouldSayThem) {
  EXPECT_EQ(format_age(40), "40s");
  EXPECT_EQ(format_age(25 * 60), "25m");
  EXPECT_EQ(format_age(3 * 3600 + 120), "3h 2m");
  EXPECT_EQ(format_age(3 * 86400 + 4 * 3600), "3d 4h");
}

TEST(OutputTest, SelectionViewCountsMatchedDomainsAndSenders) {
  SelectionView v;
  EXPECT_EQ(v.render(0), "");
  v.add(entry("A1", "", {{"x@Example.COM", true}, {"y@other.example", false}}, 1000));
  v.add(entry("A2", "", {{"z@example.com", true}}, 4600));
  v.add(entry("A3", "a@b.example", {{"q@example.net", true}}, 2000));
  std::string s = v.render(8200);
  EXPECT_NE(s.find("selection: 3 messages, aged 1h 0m to 2h 0m"), std::string::npos) << s;
  EXPECT_NE(s.find("top recipient domains: example.com 2, example.net 1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("top senders: MAILER-DAEMON 2, a@b.example 1\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace qpurge
