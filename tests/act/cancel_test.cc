// SPDX-License-Identifier: MIT
// cancel_test.cc - the recipient cancel protocol against the fake postsuper
// on a temporary spool: the matched recipients crossed off in hold and
// their logfile entries dropped, the message released; a message that
// changed is left alone; a failure halfway leaves it on hold.
#include "qpurge/act/cancel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>

#include "qpurge/spool/queue_file.h"
#include "qpurge/util/posix_io.h"
#include "support/fake_postfix.h"
#include "support/files.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::FakePostfix;
using testing::slurp;
using testing::TestSpool;

const char kId[] = "10278A74127";
const char kHeldId[] = "20278A74127";

class CancelTest : public ::testing::Test {
 protected:
  CancelTest() {
    postfix_.spools[""] = spool_.root();
    ExecOptions eo;
    eo.postsuper = "/usr/sbin/postsuper";
    job_.hold = job_.release = eo;
    job_.find_held = scan_hold_queue(spool_.root());
    job_.queue_directory = spool_.root();
    job_.stop = &stop_;
  }
  // A message in `queue` whose recipients ending in "@dead.example" match.
  PlanEntry put(const std::string& queue, const std::string& id, const std::vector<std::string>& rcpts) {
    std::string rel = spool_.put_message(queue, id, testing::message("s@x.test", rcpts));
    Message msg;
    std::string data = slurp(spool_.root() + "/" + rel), error;
    MemorySource src(data);
    RecordReader reader;
    EXPECT_TRUE(parse_queue_file(src, reader, msg, error)) << error;
    struct stat st;
    ::stat((spool_.root() + "/" + rel).c_str(), &st);
    PlanEntry e;
    e.queue = queue;
    e.dir = fs::path(rel).parent_path();
    e.id = id;
    e.inode = st.st_ino;
    e.arrival_time = msg.arrival_time;
    e.sender = std::string(msg.sender_str());
    for (const Recipient& r : msg.recipients) {
      PlanRecipient p;
      p.address = std::string(msg.str(r.address));
      p.offset = r.offset;
      std::string lower = p.address;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      p.matched = lower.find("@dead.example") != std::string::npos;
      e.recipients.push_back(p);
    }
    e.mixed = e.cancel = true;
    return e;
  }
  std::string path_in(const std::string& queue, const std::string& id) const {
    for (std::string p : {spool_.root() + "/" + queue + "/" + id, spool_.root() + "/" + queue + "/" + id[0] + "/" + id})
      if (fs::exists(p)) return p;
    return "";
  }
  std::vector<std::string> pending(const std::string& path) const { return testing::pending_recipients(path); }
  std::vector<std::string> flags() const {
    std::vector<std::string> out;
    for (const auto& c : postfix_.calls) out.push_back(c.argv[1]);
    return out;
  }
  TestSpool spool_;
  FakePostfix postfix_;
  std::atomic<bool> stop_{false};
  CancelJob job_;
};

TEST_F(CancelTest, CrossesOffTheMatchedRecipientsAndReleases) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test", "C@DEAD.example"});
  fs::create_directories(spool_.root() + "/defer/1");
  testing::spit(spool_.root() + "/defer/1/" + kId,
                "recipient=a@dead.example\noffset=" + std::to_string(e.recipients[0].offset) +
                    "\nreason=x\n\nrecipient=b@ok.test\noffset=" + std::to_string(e.recipients[1].offset) +
                    "\nreason=y\n\n");
  const std::string before = slurp(path_in("deferred", kId));
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kDone) << r.results[0].detail;
  EXPECT_EQ(r.results[0].detail, "canceled a@dead.example, C@DEAD.example");
  EXPECT_EQ(r.canceled_recipients, 2u);
  EXPECT_EQ(r.messages(), 1u);
  EXPECT_TRUE(r.left_on_hold.empty());
  EXPECT_EQ(flags(), (std::vector<std::string>{"-h", "-H"}));
  const std::string path = path_in("deferred", kId);
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(pending(path), std::vector<std::string>{"b@ok.test"});
  EXPECT_EQ(slurp(path).size(), before.size());
  EXPECT_EQ(slurp(spool_.root() + "/defer/1/" + kId),
            "recipient=b@ok.test\noffset=" + std::to_string(e.recipients[1].offset) + "\nreason=y\n\n");
}

TEST_F(CancelTest, AMessageOnHoldBeforeStaysOnHold) {
  PlanEntry e = put("hold", kHeldId, {"a@dead.example", "b@ok.test"});
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kDone);
  EXPECT_TRUE(postfix_.calls.empty());  // neither held nor released
  EXPECT_EQ(pending(path_in("hold", kHeldId)), std::vector<std::string>{"b@ok.test"});
}

TEST_F(CancelTest, AMessageWhoseRecipientsChangedIsReleasedUnchanged) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  e.recipients[1].offset += 1;  // not where the plan says
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kChanged);
  EXPECT_EQ(r.results[0].detail, "its pending recipients changed; released unchanged");
  EXPECT_EQ(r.canceled_recipients, 0u);
  EXPECT_EQ(flags(), (std::vector<std::string>{"-h", "-H"}));
  EXPECT_EQ(pending(path_in("deferred", kId)), (std::vector<std::string>{"a@dead.example", "b@ok.test"}));
}

TEST_F(CancelTest, AMessageBeingDeliveredIsLeftAlone) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  Fd agent;
  postfix_.after_run = [&](int run) {  // a delivery agent opened it before the hold
    if (run != 1) return;
    agent = Fd(::open(path_in("hold", kId).c_str(), O_RDONLY));
    ASSERT_EQ(::flock(agent.get(), LOCK_SH | LOCK_NB), 0);
  };
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kChanged);
  EXPECT_EQ(r.results[0].detail, "being delivered (the queue file is locked); released unchanged");
  EXPECT_EQ(pending(path_in("deferred", kId)), (std::vector<std::string>{"a@dead.example", "b@ok.test"}));
}

TEST_F(CancelTest, AFailureHalfwayLeavesTheMessageOnHoldAndStops) {
  PlanEntry first = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  PlanEntry second = put("deferred", "30278A74127", {"a@dead.example", "b@ok.test"});
  job_.cross_off = [](const PlanEntry&) {
    return CrossOffResult{CrossOffResult::kFailed, "write: No space left on device", 0};
  };
  CancelReport r = cancel_recipients(postfix_, job_, {first, second});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kFailed);
  EXPECT_EQ(r.results[0].detail, "write: No space left on device; left on hold");
  EXPECT_EQ(r.results[1].outcome, IdOutcome::kNotAttempted);
  EXPECT_EQ(r.left_on_hold, std::vector<std::string>{kId});
  EXPECT_EQ(r.stopped, std::string(kId) + ": write: No space left on device");
  EXPECT_FALSE(path_in("hold", kId).empty());
  EXPECT_FALSE(path_in("deferred", "30278A74127").empty());  // untouched, released
}

TEST_F(CancelTest, AHoldThatFailsCrossesNothing) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  postfix_.fail_exit_on_run = 1;
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.messages(), 0u);
  EXPECT_FALSE(r.stopped.empty());
  EXPECT_EQ(pending(path_in("deferred", kId)), (std::vector<std::string>{"a@dead.example", "b@ok.test"}));
}

TEST_F(CancelTest, AJournalThatCannotRecordStopsBeforeTheWrite) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  job_.before_cross = [](const PlanEntry&, std::string& error) {
    error = "journal: No space left on device";
    return false;
  };
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kNotAttempted);
  EXPECT_EQ(r.stopped, "the journal could not record the cancel: journal: No space left on device");
  EXPECT_TRUE(r.left_on_hold.empty());
  EXPECT_EQ(pending(path_in("deferred", kId)), (std::vector<std::string>{"a@dead.example", "b@ok.test"}));
}

TEST_F(CancelTest, AStopRequestCrossesNothingMoreAndReleases) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  postfix_.after_run = [this](int run) {
    if (run == 1) stop_ = true;
  };
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kNotAttempted);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(pending(path_in("deferred", kId)), (std::vector<std::string>{"a@dead.example", "b@ok.test"}));
}

TEST_F(CancelTest, JournalHearsOfEachStep) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  std::vector<std::string> steps;
  job_.before_cross = [&](const PlanEntry& h, std::string&) {
    steps.push_back("cancel " + h.queue + " " + std::to_string(pending(path_in("hold", kId)).size()));
    return true;
  };
  job_.after_cross = [&](const PlanEntry& h) {
    steps.push_back("crossed " + h.queue + " " + std::to_string(pending(path_in("hold", kId)).size()));
  };
  cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(steps, (std::vector<std::string>{"cancel hold 2", "crossed hold 1"}));
}

// --archive (issue 22): the copy is made while the message is in hold,
// verified and locked, before anything is crossed off, and the archive
// hears how it came out.
TEST_F(CancelTest, TheArchiveCopiesTheLockedOriginalBeforeTheCrossOff) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  std::vector<std::string> steps;
  job_.archive = [&](const PlanEntry& h, const std::vector<PlanRecipient>& cancel) {
    Fd other(::open(path_in("hold", kId).c_str(), O_RDONLY));
    const bool locked = ::flock(other.get(), LOCK_SH | LOCK_NB) != 0;
    steps.push_back("archive " + h.queue + " " + std::to_string(pending(path_in("hold", kId)).size()) + " " +
                    cancel[0].address + (locked ? " locked" : " unlocked"));
    return std::string();
  };
  job_.settled = [&](const IdResult& r) { steps.push_back("settled " + std::string(outcome_name(r.outcome))); };
  job_.after_cross = [&](const PlanEntry&) { steps.push_back("crossed"); };
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kDone);
  EXPECT_EQ(steps, (std::vector<std::string>{"archive hold 2 a@dead.example locked", "settled done", "crossed"}));
  EXPECT_EQ(pending(path_in("deferred", kId)), std::vector<std::string>{"b@ok.test"});
}

// Fail closed, as a delete that cannot be archived is not deleted: no copy,
// no change; released unchanged and reported not_archived; the run goes on.
TEST_F(CancelTest, AMessageWhoseCopyCannotBeMadeIsReleasedUnchanged) {
  PlanEntry first = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  PlanEntry second = put("deferred", "30278A74127", {"a@dead.example", "b@ok.test"});
  const std::string before = slurp(path_in("deferred", kId));
  job_.archive = [](const PlanEntry& h, const std::vector<PlanRecipient>&) {
    return h.id == kId ? std::string("archive: No space left on device") : std::string();
  };
  std::vector<std::string> settled;
  job_.settled = [&](const IdResult& r) { settled.push_back(r.id + " " + std::string(outcome_name(r.outcome))); };
  CancelReport r = cancel_recipients(postfix_, job_, {first, second});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kNotArchived);
  EXPECT_EQ(r.results[0].detail,
            "not canceled: its copy could not be made: archive: No space left on device; released unchanged");
  EXPECT_EQ(r.results[1].outcome, IdOutcome::kDone);
  EXPECT_EQ(r.messages(), 1u);
  EXPECT_TRUE(r.left_on_hold.empty());
  EXPECT_TRUE(r.stopped.empty());
  EXPECT_EQ(slurp(path_in("deferred", kId)), before);
  EXPECT_EQ(pending(path_in("deferred", "30278A74127")), std::vector<std::string>{"b@ok.test"});
  EXPECT_EQ(settled, (std::vector<std::string>{std::string(kId) + " not_archived", "30278A74127 done"}));
}

// A message that changed is never copied: the archive is not asked.
TEST_F(CancelTest, AChangedMessageIsNotArchived) {
  PlanEntry e = put("deferred", kId, {"a@dead.example", "b@ok.test"});
  e.recipients[1].offset += 1;
  bool asked = false;
  job_.archive = [&](const PlanEntry&, const std::vector<PlanRecipient>&) {
    asked = true;
    return std::string();
  };
  CancelReport r = cancel_recipients(postfix_, job_, {e});
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kChanged);
  EXPECT_FALSE(asked);
}

}  // namespace
}  // namespace qpurge
