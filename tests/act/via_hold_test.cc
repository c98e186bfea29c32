// SPDX-License-Identifier: MIT
// via_hold_test.cc - the two-phase delete against the fake postsuper on a
// temporary spool: whatever qpurge held and did not delete is released, and
// a stop request hands nothing more over to be deleted.
#include "qpurge/act/via_hold.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "support/fake_postfix.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::FakePostfix;
using testing::TestSpool;

const char* const kIds[] = {"10278A74127", "20278A74127", "30278A74127"};

class ViaHoldTest : public ::testing::Test {
 protected:
  ViaHoldTest() {
    postfix_.spools[""] = spool_.root();
    for (const char* id : kIds) {
      spool_.put_message("deferred", id, testing::message("a@x.test", {"b@example.com"}));
      PlanEntry e;
      e.queue = "deferred";
      e.dir = std::string("deferred/") + id[0];
      e.id = id;
      plan_.push_back(e);
    }
    ExecOptions eo;
    eo.postsuper = "/usr/sbin/postsuper";
    eo.batch_size = 1;  // one postsuper run per ID: a stop can fall between them
    eo.stop = &stop_;
    job_.hold = job_.del = job_.release = eo;
    job_.find_held = scan_hold_queue(spool_.root());
    job_.on_stop = [this](const std::string& why) { stops_.push_back(why); };
  }
  bool in(const std::string& queue, const std::string& id) const {
    return fs::exists(spool_.root() + "/" + queue + "/" + id) ||
           fs::exists(spool_.root() + "/" + queue + "/" + id.substr(0, 1) + "/" + id);
  }
  std::vector<std::string> flags() const {
    std::vector<std::string> out;
    for (const auto& c : postfix_.calls) out.push_back(c.argv[1] + " " + c.input.substr(0, c.input.size() - 1));
    return out;
  }
  TestSpool spool_;
  FakePostfix postfix_;
  std::vector<PlanEntry> plan_;
  std::atomic<bool> stop_{false};
  ViaHoldJob job_;
  std::vector<std::string> stops_;
};

TEST_F(ViaHoldTest, DeletesWhatItHeld) {
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  EXPECT_EQ(r.report.count(IdOutcome::kDone), 3u);
  EXPECT_TRUE(r.left_on_hold.empty());
  for (const char* id : kIds) EXPECT_FALSE(in("hold", id) || in("deferred", id)) << id;
  EXPECT_TRUE(stops_.empty());
}

// Regression (issue 19, S_viahold_archive_fail): a message qpurge held whose
// copy could not be made stayed on hold for ever, with no release command.
TEST_F(ViaHoldTest, HeldMessageWhoseCopyFailsIsReleased) {
  job_.del.before_hand_over = [](const PlanEntry& e) {
    return e.id == kIds[1] ? std::string("not deleted: its copy could not be made: No space left on device")
                           : std::string();
  };
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  EXPECT_TRUE(r.left_on_hold.empty());
  EXPECT_TRUE(in("deferred", kIds[1]));
  EXPECT_FALSE(in("hold", kIds[1]));
  ASSERT_EQ(r.report.results.size(), 3u);
  EXPECT_EQ(r.report.results[1].outcome, IdOutcome::kNotArchived);
  EXPECT_EQ(r.report.results[1].detail,
            "not deleted: its copy could not be made: No space left on device; released from hold");
  EXPECT_EQ(r.report.count(IdOutcome::kDone), 2u);
}

// Regression (issue 19, C_viahold_sigint): a stop request in phase 2 was
// ignored, and every ID was deleted. Now nothing more is deleted, and what
// qpurge held is released.
TEST_F(ViaHoldTest, StopInPhaseTwoDeletesNoMoreAndReleasesWhatItHeld) {
  postfix_.after_run = [this](int run) {
    if (run == 4) stop_ = true;  // three holds, then the first delete
  };
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  EXPECT_EQ(flags(), (std::vector<std::string>{"-h 10278A74127", "-h 20278A74127", "-h 30278A74127", "-d 10278A74127",
                                               "-H 20278A74127", "-H 30278A74127"}));
  EXPECT_FALSE(in("hold", kIds[0]) || in("deferred", kIds[0]));
  EXPECT_TRUE(in("deferred", kIds[1]));
  EXPECT_TRUE(in("deferred", kIds[2]));
  EXPECT_TRUE(r.left_on_hold.empty());
  EXPECT_TRUE(r.report.interrupted);
  EXPECT_EQ(r.report.results[1].outcome, IdOutcome::kNotAttempted);
  EXPECT_EQ(r.report.results[1].detail, "interrupted; released from hold");
  EXPECT_EQ(stops_, std::vector<std::string>{"interrupted by a stop request (SIGINT or SIGTERM)"});
}

TEST_F(ViaHoldTest, StopInPhaseOneDeletesNothing) {
  postfix_.after_run = [this](int run) {
    if (run == 2) stop_ = true;
  };
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  EXPECT_EQ(flags(),
            (std::vector<std::string>{"-h 10278A74127", "-h 20278A74127", "-H 10278A74127", "-H 20278A74127"}));
  for (const char* id : kIds) EXPECT_TRUE(in("deferred", id)) << id;
  EXPECT_EQ(r.report.count(IdOutcome::kDone), 0u);
  EXPECT_EQ(r.report.results[0].detail, "interrupted before it was deleted; released from hold");
  EXPECT_EQ(r.report.results[2].detail, "interrupted");
  EXPECT_EQ(stops_.size(), 1u);
}

// A postsuper that fails in a way qpurge cannot explain starts no further
// run: what qpurge held stays on hold, named, with the command to release it.
TEST_F(ViaHoldTest, UnexplainedFailureLeavesHeldMessagesOnHoldAndSaysSo) {
  postfix_.fail_exit_on_run = 5;  // three holds, one delete, then the second delete fails
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  EXPECT_EQ(r.left_on_hold, (std::vector<std::string>{"20278A74127", "30278A74127"}));
  EXPECT_TRUE(in("hold", kIds[1]));
  EXPECT_TRUE(in("hold", kIds[2]));
  EXPECT_EQ(release_command(job_.release, r.left_on_hold),
            "printf '%s\\n' 20278A74127 30278A74127 | '/usr/sbin/postsuper' -H -");
}

TEST_F(ViaHoldTest, ReleasesWhatItHeldThatNoLongerMatches) {
  job_.verify_held = [](const PlanEntry& e) {
    return e.id == kIds[1] ? Verification{Verification::kChanged, "no longer matches"} : Verification{};
  };
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  ASSERT_EQ(r.report.results.size(), 3u);
  EXPECT_EQ(r.report.results[1].outcome, IdOutcome::kChanged);
  EXPECT_EQ(r.report.results[1].detail, "no longer matches; released from hold");
  EXPECT_TRUE(in("deferred", kIds[1]));
  EXPECT_EQ(r.report.count(IdOutcome::kDone), 2u);
  EXPECT_TRUE(r.left_on_hold.empty());
}

TEST_F(ViaHoldTest, AMessageOnHoldBeforeTheRunIsNeverReleased) {
  PlanEntry e;
  e.queue = e.dir = "hold";
  e.id = "40278A74127";
  spool_.put_message("hold", e.id, testing::message("a@x.test", {"b@example.com"}));
  job_.verify_held = [](const PlanEntry&) { return Verification{Verification::kChanged, "no longer matches"}; };
  ViaHoldReport r = purge_via_hold(postfix_, job_, {e});
  EXPECT_TRUE(postfix_.calls.empty()) << "nothing to hold, to delete, or of its own to release";
  ASSERT_EQ(r.report.results.size(), 1u);
  EXPECT_EQ(r.report.results[0].outcome, IdOutcome::kChanged);
  EXPECT_EQ(r.report.results[0].detail, "no longer matches; left on hold");
  EXPECT_TRUE(in("hold", e.id));
}

// Fail closed: a hold queue that cannot be scanned deletes nothing, and what
// qpurge held is named with the command that releases it.
TEST_F(ViaHoldTest, HoldQueueThatCannotBeScannedDeletesNothing) {
  job_.find_held = [](const std::set<std::string>&, std::map<std::string, std::string>&, std::string& error) {
    error = "hold: Permission denied";
    return false;
  };
  ViaHoldReport r = purge_via_hold(postfix_, job_, plan_);
  EXPECT_EQ(flags(), (std::vector<std::string>{"-h 10278A74127", "-h 20278A74127", "-h 30278A74127"}));
  EXPECT_EQ(r.report.stopped, "cannot scan the hold queue: hold: Permission denied; nothing was deleted from hold");
  EXPECT_EQ(r.left_on_hold, (std::vector<std::string>{"10278A74127", "20278A74127", "30278A74127"}));
  ASSERT_EQ(r.report.results.size(), 3u);
  EXPECT_EQ(r.report.results[0].outcome, IdOutcome::kFailed);
  EXPECT_EQ(r.report.results[0].detail, "placed on hold by qpurge and left there: the hold queue could not be scanned");
  for (const char* id : kIds) EXPECT_TRUE(in("hold", id)) << id;
}

TEST_F(ViaHoldTest, PausesBetweenThePhases) {
  std::vector<unsigned> slept;
  job_.pause = 3;
  job_.sleep = [&](unsigned s) { slept.push_back(s); };
  purge_via_hold(postfix_, job_, plan_);
  EXPECT_EQ(slept, std::vector<unsigned>{3});
}

TEST(ReleaseCommandTest, QuotesWhatTheOperatorGave) {
  ExecOptions exec;
  exec.postsuper = "/opt/post'fix/postsuper";
  EXPECT_EQ(release_command(exec, {"10278A74127", "20278A74127"}),
            "printf '%s\\n' 10278A74127 20278A74127 | '/opt/post'\\''fix/postsuper' -H -");
  exec.config_dir = "/etc/postfix-out";
  EXPECT_EQ(release_command(exec, {"10278A74127"}),
            "printf '%s\\n' 10278A74127 | '/opt/post'\\''fix/postsuper' -c '/etc/postfix-out' -H -");
}

}  // namespace
}  // namespace qpurge
