// SPDX-License-Identifier: MIT
// purge_cancel_test.cc - --mixed cancel through the whole command on a
// temporary spool with the fake postsuper: what a dry run shows and leaves
// alone, and what the acting twin changes, prints and records.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "qpurge/spool/queue_file.h"
#include "support/cli_fixture.h"
#include "support/files.h"

namespace qpurge {
namespace {

class PurgeCancelTest : public testing::CliFixture {
 protected:
  // Mixed with one and two matching recipients (any case), all matching,
  // none matching, a lookalike domain, and mixed on hold.
  void fill_mixed() {
    put("deferred", "10278A74127", "s@x.test", {"a@dead.example", "b@ok.test"});
    put("deferred", "20278A74127", "s@x.test", {"A@DEAD.EXAMPLE", "c@dead.example", "d@ok.test"});
    put("deferred", "30278A74127", "s@x.test", {"e@dead.example", "f@dead.example"});
    put("deferred", "40278A74127", "s@x.test", {"g@ok.test"});
    put("deferred", "50278A74127", "s@x.test", {"h@notdead.example", "i@dead.example.org"});
    put("hold", "60278A74127", "s@x.test", {"j@dead.example", "k@ok.test"});
  }
  std::vector<std::string> pending(const std::string& rel) const {
    return testing::pending_recipients(spool.root() + "/" + rel);
  }
  std::string snapshot() {
    std::string s;
    for (auto& f : std::filesystem::recursive_directory_iterator(spool.root()))
      if (f.is_regular_file()) s += f.path().string() + "\n" + testing::slurp(f.path()) + "\n";
    return s;
  }
};

using Rcpts = std::vector<std::string>;

TEST_F(PurgeCancelTest, DryRunShowsWhatWouldBeCanceledAndKeptAndChangesNothing) {
  fill_mixed();
  const std::string before = snapshot();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  const std::string o = out.str();
  EXPECT_NE(o.find("    cancels -> a@dead.example\n    mixed, keeps: b@ok.test\n"), std::string::npos) << o;
  EXPECT_NE(o.find("    cancels -> A@DEAD.EXAMPLE, c@dead.example\n    mixed, keeps: d@ok.test\n"), std::string::npos)
      << o;
  EXPECT_NE(o.find("-> e@dead.example, f@dead.example\n"), std::string::npos) << o;
  EXPECT_NE(o.find("(recipients to cancel in mixed 3)"), std::string::npos) << o;
  EXPECT_EQ(o.find("40278A74127"), std::string::npos);
  EXPECT_EQ(o.find("50278A74127"), std::string::npos);
}

TEST_F(PurgeCancelTest, DryRunInJsonMarksTheCancel) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--dry-run", "--format", "json"}), kExitDone);
  EXPECT_NE(out.str().find("\"mixed\": true, \"cancel\": true"), std::string::npos) << out.str();
}

TEST_F(PurgeCancelTest, CancelsTheMatchingRecipientsAndDeletesTheWholeMatches) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(pending("deferred/1/10278A74127"), Rcpts{"b@ok.test"});
  EXPECT_EQ(pending("deferred/2/20278A74127"), Rcpts{"d@ok.test"});
  EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});  // deleted
  EXPECT_EQ(pending("deferred/4/40278A74127"), Rcpts{"g@ok.test"});
  EXPECT_EQ(pending("deferred/5/50278A74127"), (Rcpts{"h@notdead.example", "i@dead.example.org"}));
  EXPECT_EQ(pending("hold/60278A74127"), Rcpts{"k@ok.test"});  // still on hold
  EXPECT_NE(out.str().find("; canceled 4 recipients in 3 messages (of 3 mixed; changed since planning 0; not done 0)"),
            std::string::npos)
      << out.str();
  // intent, one record per message whose recipients were canceled, result
  ASSERT_EQ(sys.audit_lines.size(), 5u);
  std::set<std::string> records;
  EXPECT_EQ(audit_field(4, "event"), "\"result\"");
  for (std::size_t i = 1; i < 4; ++i)
    records.insert(audit_field(i, "event") + audit_field(i, "canceled") + audit_field(i, "kept"));
  EXPECT_EQ(records, (std::set<std::string>{"\"cancel\"[\"A@DEAD.EXAMPLE\",\"c@dead.example\"][\"d@ok.test\"]",
                                            "\"cancel\"[\"a@dead.example\"][\"b@ok.test\"]",
                                            "\"cancel\"[\"j@dead.example\"][\"k@ok.test\"]"}));
}

TEST_F(PurgeCancelTest, IdsOutputNeverListsAMessageThatKeepsMail) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "30278A74127\n");
}

TEST_F(PurgeCancelTest, MaxCountsTheMessagesTouched) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes", "--max", "3"}), kExitFatal);
  EXPECT_NE(err.str().find("the plan has 4 messages, more than --max 3"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeCancelTest, ViaHoldDeletesTheWholeMatchesThroughHold) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--via-hold", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});
  EXPECT_EQ(pending("deferred/1/10278A74127"), Rcpts{"b@ok.test"});
}

// A saved plan carries the recipients to cancel; applying it cancels them,
// and refuses a message whose recipients changed since.
TEST_F(PurgeCancelTest, APlanCarriesTheRecipientsToCancel) {
  fill_mixed();
  const std::string before = snapshot();
  ASSERT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_EQ(snapshot(), before);
  put("deferred", "10278A74127", "s@x.test", {"b@ok.test", "a@dead.example"});  // rewritten: offsets moved
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitPartial) << err.str();
  EXPECT_EQ(pending("deferred/1/10278A74127"), (Rcpts{"b@ok.test", "a@dead.example"}));
  EXPECT_EQ(pending("deferred/2/20278A74127"), Rcpts{"d@ok.test"});
  EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});
  EXPECT_EQ(pending("hold/60278A74127"), Rcpts{"k@ok.test"});
  EXPECT_NE(out.str().find("canceled 3 recipients in 2 messages (of 3 mixed; changed since planning 1"),
            std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace qpurge
