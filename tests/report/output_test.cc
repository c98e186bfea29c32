// SPDX-License-Identifier: MIT
// output_test.cc - plan entries as text and JSON, and the dry run's view.
#include "qpurge/report/output.h"

#include <gtest/gtest.h>

#include <algorithm>

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
  append_entry_text(s, entry("A0278A74127", "", {{"x@example.com", true}, {"y@other.example", false}}), 1000 + 93784);
  EXPECT_EQ(s, "A0278A74127  deferred    1d 2h     300  <>\n    -> x@example.com\n");
  EXPECT_EQ(entry_text_header(), "QUEUE ID     QUEUE         AGE    SIZE  SENDER, then -> RECIPIENTS\n");
}

// A message to 60 recipients fits 80 columns: the first ones, then how many
// more; --verbose and --detail show them all, one a line (issue 24).
TEST(OutputTest, ManyRecipientsFitEightyColumns) {
  std::vector<std::pair<std::string, bool>> rcpts;
  for (int i = 0; i < 60; ++i) rcpts.emplace_back("user" + std::to_string(i) + "@example.com", true);
  rcpts.emplace_back("keep@other.example", false);
  PlanEntry e = entry("A0278A74127", "bounce@lists.example", rcpts);
  e.mixed = true;
  std::string s;
  append_entry_text(s, e, 1000);
  EXPECT_EQ(s,
            "A0278A74127  deferred       0s     300  bounce@lists.example\n"
            "    -> user0@example.com, user1@example.com, user2@example.com (+57 more)\n"
            "    mixed, also drops: keep@other.example\n");
  std::string all;
  append_entry_text(all, e, 1000, true);
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 62);
  EXPECT_NE(all.find("\n       user59@example.com\n"), std::string::npos) << all;
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
  EXPECT_NE(s.find("top senders: <> 2, a@b.example 1\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace qpurge
