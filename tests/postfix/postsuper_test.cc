// SPDX-License-Identifier: MIT
// postsuper_test.cc - the executor's verification of postsuper's word.
//
// The real postsuper is exercised by the integration tests; here a scripted
// runner stands in for what a real one cannot be made to do on demand (die
// mid-batch, print something unexpected), and for checking exactly what is
// written to its standard input.
#include "qpurge/postfix/postsuper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "support/scripted_runner.h"

namespace qpurge {
namespace {

using testing::ScriptedRunner;

PlanEntry entry(const std::string& queue, const std::string& id) {
  PlanEntry e;
  e.queue = queue;
  e.id = id;
  e.dir = queue;
  return e;
}

// `n` deferred messages with IDs 10278A74127, 11278A74127, ..., all existing.
std::vector<PlanEntry> numbered_plan(int n, ScriptedRunner& runner) {
  std::vector<PlanEntry> plan;
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%02X278A74127", 0x10 + i);
    plan.push_back(entry("deferred", id));
    runner.existing.push_back(id);
  }
  return plan;
}

TEST(ExecuteTest, ParsesPostsupersOwnWords) {
  PostsuperOutput o = parse_postsuper_output(
      "postsuper: E327EA72116: removed\npostsuper: warning: invalid mail queue id: x y\n"
      "postsuper: Deleted: 1 message\n",
      action_info(Action::kDelete));
  ASSERT_EQ(o.done.size(), 1u);
  EXPECT_EQ(o.done[0], "E327EA72116");
  EXPECT_EQ(o.total, 1);
  ASSERT_EQ(o.other.size(), 1u);
  PostsuperOutput h = parse_postsuper_output(
      "postsuper: E327EA72116: placed on hold\npostsuper: Placed on hold: 1 message\n", action_info(Action::kHold));
  EXPECT_EQ(h.done.size(), 1u);
  EXPECT_EQ(h.total, 1);
}

TEST(ExecuteTest, GroupsByQueueBatchesAndReportsNotFound) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127", "20278A74127", "30278A74127"};
  std::vector<PlanEntry> plan = {entry("hold", "30278A74127"), entry("deferred", "10278A74127"),
                                 entry("deferred", "20278A74127"), entry("deferred", "40278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  opt.config_dir = "/etc/postfix-x";
  opt.batch_size = 2;
  ExecReport rep = execute_plan(runner, opt, plan, {});
  ASSERT_EQ(runner.calls.size(), 3u);  // deferred x2, hold x1
  std::vector<std::string> want = {"/usr/sbin/postsuper", "-c", "/etc/postfix-x", "-d", "-", "deferred"};
  EXPECT_EQ(runner.calls[0].argv, want);
  EXPECT_EQ(runner.calls[0].input, "10278A74127\n20278A74127\n");
  EXPECT_EQ(runner.calls[1].input, "40278A74127\n");
  EXPECT_EQ(runner.calls[2].argv.back(), "hold");
  EXPECT_EQ(rep.count(IdOutcome::kDone), 3u);
  EXPECT_EQ(rep.count(IdOutcome::kNotFound), 1u);
  EXPECT_FALSE(rep.totals_mismatch);
}

TEST(ExecuteTest, InvalidIdsAndQueuesNeverReachPostsuper) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = {entry("deferred", "ABC DEF123"), entry("deferred", "E327EA72116*"),
                                 entry("corrupt", "E327EA72116"), entry("deferred", "../E327EA72116")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_TRUE(runner.calls.empty());
  EXPECT_EQ(rep.count(IdOutcome::kInvalid), 4u);
}

TEST(ExecuteTest, VerifierDropsChangedMessages) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127", "20278A74127"};
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127"), entry("deferred", "20278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  ExecReport rep = execute_plan(runner, opt, plan, [](const PlanEntry& e) {
    if (e.id == "20278A74127") return Verification{Verification::kChanged, "different message (sender changed)"};
    return Verification{};
  });
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].input, "10278A74127\n");
  EXPECT_EQ(rep.count(IdOutcome::kChanged), 1u);
  EXPECT_EQ(rep.results[1].detail, "different message (sender changed)");
}

TEST(ExecuteTest, VanishedMessagesAreNotFoundAndNotSent) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127"};
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127"), entry("deferred", "20278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  ExecReport rep = execute_plan(runner, opt, plan, [](const PlanEntry& e) {
    return e.id == "20278A74127" ? Verification{Verification::kVanished, ""} : Verification{};
  });
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].input, "10278A74127\n");
  EXPECT_EQ(rep.results[1].outcome, IdOutcome::kNotFound);
  EXPECT_EQ(rep.results[1].detail, "vanished since planning");
}

TEST(ExecuteTest, PostsuperDyingMidBatchFailsTheRest) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127", "20278A74127"};
  runner.die_after_first = true;
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127"), entry("deferred", "20278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(rep.count(IdOutcome::kDone), 1u);
  EXPECT_EQ(rep.count(IdOutcome::kFailed), 1u);
  EXPECT_EQ(rep.results[1].detail, "postsuper was killed by signal 9");
}

TEST(ExecuteTest, PostsuperThatCannotRunFailsEverything) {
  ScriptedRunner runner;
  runner.cannot_start = true;
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127")};
  ExecOptions opt;
  opt.postsuper = "/nonexistent";
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(rep.count(IdOutcome::kFailed), 1u);
}

TEST(ExecuteTest, UnexpectedOutputIsReportedAndTotalsChecked) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127"};
  runner.extra = "postsuper: 99999A74127: removed\n";  // an ID it was never given
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(rep.count(IdOutcome::kDone), 1u);
  ASSERT_FALSE(rep.warnings.empty());
  EXPECT_NE(rep.warnings[0].find("not sent to it"), std::string::npos);
}

TEST(ExecuteTest, StopRequestLetsTheBatchFinishAndSkipsTheRest) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127", "20278A74127"};
  std::atomic<bool> stop{false};
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127"), entry("deferred", "20278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  opt.batch_size = 1;
  opt.stop = &stop;
  ExecReport rep = execute_plan(runner, opt, plan, {}, [&](std::size_t, std::size_t) { stop = true; });
  EXPECT_EQ(runner.calls.size(), 1u);
  EXPECT_TRUE(rep.interrupted);
  EXPECT_EQ(rep.count(IdOutcome::kDone), 1u);
  EXPECT_EQ(rep.count(IdOutcome::kNotAttempted), 1u);
}

std::vector<PlanEntry> twenty_ids() {
  std::vector<PlanEntry> plan;
  char id[16];
  for (int i = 0; i < 20; ++i) {
    std::snprintf(id, sizeof id, "%02d278A74127", 10 + i);
    plan.push_back(entry("deferred", id));
  }
  return plan;
}

ExecOptions one_per_run() {
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  opt.batch_size = 1;
  return opt;
}

TEST(ExecuteTest, DyingPostsuperStopsFurtherRuns) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = twenty_ids();
  for (const auto& e : plan) runner.existing.push_back(e.id);
  runner.die_after_first = true;
  ExecReport rep = execute_plan(runner, one_per_run(), plan, {});
  EXPECT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(rep.count(IdOutcome::kDone), 1u);
  EXPECT_EQ(rep.count(IdOutcome::kNotAttempted), 19u);
  EXPECT_EQ(rep.stopped, "postsuper was killed by signal 9 (deferred, batch 1)");
  EXPECT_EQ(rep.results[5].detail, "not attempted: postsuper was killed by signal 9 on an earlier batch");
}

TEST(ExecuteTest, PostsuperThatCannotRunIsNotTriedAgain) {
  ScriptedRunner runner;
  runner.cannot_start = true;
  ExecReport rep = execute_plan(runner, one_per_run(), twenty_ids(), {});
  EXPECT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(rep.count(IdOutcome::kFailed), 1u);
  EXPECT_EQ(rep.count(IdOutcome::kNotAttempted), 19u);
  EXPECT_EQ(rep.stopped, "postsuper could not be run: postsuper: No such file or directory (deferred, batch 1)");
}

TEST(ExecuteTest, NonZeroExitStopsFurtherRunsAndFailsTheUnreportedRest) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = twenty_ids();
  runner.existing = {plan[0].id};  // plan[1] is not reported: not known, so failed
  runner.exit_status = 1;
  ExecOptions opt = one_per_run();
  opt.batch_size = 2;
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(rep.results[0].outcome, IdOutcome::kDone);
  EXPECT_EQ(rep.results[1].outcome, IdOutcome::kFailed);
  EXPECT_EQ(rep.results[1].detail, "postsuper exited with status 1");
  EXPECT_EQ(rep.count(IdOutcome::kNotAttempted), 18u);
  EXPECT_EQ(rep.stopped, "postsuper exited with status 1 (deferred, batch 1)");
}

TEST(ExecuteTest, TotalThatContradictsPerIdLinesStopsFurtherRuns) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = twenty_ids();
  runner.existing = {plan[0].id};
  runner.total_offset = 1;  // "Deleted: 2 messages" after one "removed" line
  ExecOptions opt = one_per_run();
  opt.batch_size = 2;
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(runner.calls.size(), 1u);
  EXPECT_TRUE(rep.totals_mismatch);
  EXPECT_EQ(rep.results[0].outcome, IdOutcome::kDone);
  EXPECT_EQ(rep.results[1].outcome, IdOutcome::kFailed);
  EXPECT_EQ(rep.count(IdOutcome::kNotAttempted), 18u);
  EXPECT_EQ(rep.stopped, "postsuper's total (2) contradicts its per-ID reports (1) (deferred, batch 1)");
}

TEST(ExecuteTest, CleanRunsLeaveStoppedEmpty) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = twenty_ids();
  for (const auto& e : plan) runner.existing.push_back(e.id);
  ExecReport rep = execute_plan(runner, one_per_run(), plan, {});
  EXPECT_EQ(runner.calls.size(), 20u);
  EXPECT_EQ(rep.count(IdOutcome::kDone), 20u);
  EXPECT_TRUE(rep.stopped.empty());
}

TEST(ExecuteTest, ParsesReportsWhateverTheProgramCallsItself) {
  const char* prefixes[] = {"postsuper: ", "pfsuper: ", "pfsuper[4711]: ", "", "/usr/sbin/postsuper: "};
  for (const char* prefix : prefixes) {
    std::string p = prefix;
    PostsuperOutput o = parse_postsuper_output(
        p + "E327EA72116: removed\n" + p + "3Yz7bB4dFBzgB2: removed\n" + p + "Deleted: 2 messages\n",
        action_info(Action::kDelete));
    std::vector<std::string> want = {"E327EA72116", "3Yz7bB4dFBzgB2"};
    EXPECT_EQ(o.done, want) << "prefix '" << prefix << "'";
    EXPECT_EQ(o.total, 2) << "prefix '" << prefix << "'";
    EXPECT_TRUE(o.other.empty()) << "prefix '" << prefix << "'";
  }
}

TEST(ExecuteTest, QueueIdInAWarningIsNotTakenAsDone) {
  PostsuperOutput o = parse_postsuper_output(
      "pfsuper: warning: E327EA72116: removed\n"
      "warning: E327EA72116: removed\n"
      "pfsuper: fatal: E327EA72116: removed\n"
      "pfsuper: warning: invalid mail queue id: E327EA72116\n"
      "pfsuper: E327EA72116: removed later\n"
      "pfsuper: Deleted: 2 messages, or so\n",
      action_info(Action::kDelete));
  EXPECT_TRUE(o.done.empty());
  EXPECT_EQ(o.total, -1);
  EXPECT_EQ(o.other.size(), 6u);
}

TEST(ExecuteTest, PostsuperUnderAnotherNameIsUnderstood) {
  ScriptedRunner runner;
  runner.prefix = "pfsuper: ";
  runner.existing = {"10278A74127"};
  runner.extra = "pfsuper: warning: 20278A74127: removed\npfsuper: 99999A74127: removed\n";
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127"), entry("deferred", "20278A74127")};
  ExecOptions opt;
  opt.postsuper = "/tmp/pfsuper";
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(rep.results[0].outcome, IdOutcome::kDone);
  EXPECT_EQ(rep.results[1].outcome, IdOutcome::kNotFound);
  EXPECT_EQ(rep.warnings.size(), 2u);  // the warning line and the ID it was never sent
}

TEST(ExecuteTest, HoldSkipsWhatIsAlreadyOnHold) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127"};
  std::vector<PlanEntry> plan = {entry("hold", "30278A74127"), entry("deferred", "10278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  opt.action = Action::kHold;
  ExecReport rep = execute_plan(runner, opt, plan, {});
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].argv.back(), "deferred");
  EXPECT_EQ(rep.count(IdOutcome::kAlready), 1u);
  EXPECT_EQ(rep.results[1].id, "30278A74127");
  EXPECT_EQ(rep.results[1].outcome, IdOutcome::kAlready);
  EXPECT_EQ(rep.results[1].detail, "already on hold");
  EXPECT_EQ(outcome_name(IdOutcome::kAlready), "already");
}

TEST(ExecuteTest, ReleaseSkipsWhatIsNotOnHold) {
  ScriptedRunner runner;
  runner.existing = {"30278A74127"};
  std::vector<PlanEntry> plan = {entry("hold", "30278A74127"), entry("deferred", "10278A74127"),
                                 entry("active", "20278A74127")};
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  opt.action = Action::kRelease;
  ExecReport rep = execute_plan(runner, opt, plan, {});
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].argv.back(), "hold");
  EXPECT_EQ(runner.calls[0].input, "30278A74127\n");
  EXPECT_EQ(rep.count(IdOutcome::kAlready), 2u);
  EXPECT_EQ(rep.count(IdOutcome::kDone), 1u);
}

TEST(ExecuteTest, GroupWhoseCopiesCannotBeSyncedIsNeverWritten) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = numbered_plan(70, runner);
  ExecOptions o;
  o.postsuper = "/usr/sbin/postsuper";
  int writes = 0;
  o.before_write = [&writes](const std::vector<const PlanEntry*>&) {
    return ++writes == 1 ? WriteRefusal{"syncfs: Input/output error"} : WriteRefusal{};
  };
  ExecReport r = execute_plan(runner, o, plan, {});
  EXPECT_EQ(r.count(IdOutcome::kNotArchived), 64u);
  EXPECT_EQ(r.count(IdOutcome::kDone), 6u);
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].input.find(plan[0].id), std::string::npos) << "the first group never reached postsuper";
  EXPECT_EQ(r.results[0].detail, "syncfs: Input/output error");
}

// The journal could not be written: the group is not handed over, and
// neither is anything after it.
TEST(ExecuteTest, RefusalThatStopsHandsOverNothingMore) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = numbered_plan(70, runner);
  ExecOptions o;
  o.postsuper = "/usr/sbin/postsuper";
  int groups = 0;
  o.before_write = [&groups](const std::vector<const PlanEntry*>&) {
    return ++groups == 2 ? WriteRefusal{"journal J: No space left on device", true} : WriteRefusal{};
  };
  ExecReport r = execute_plan(runner, o, plan, {});
  EXPECT_EQ(r.count(IdOutcome::kDone), 64u);
  EXPECT_EQ(r.count(IdOutcome::kNotAttempted), 6u);
  EXPECT_EQ(r.results[64].detail, "journal J: No space left on device");
  EXPECT_EQ(r.stopped, "journal J: No space left on device");
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].input.find(plan[64].id), std::string::npos);
}

// Each batch is reported as it settles, with what postsuper said of each ID.
TEST(ExecuteTest, AfterBatchGetsEachBatchsResults) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = numbered_plan(5, runner);
  runner.existing.pop_back();
  ExecOptions o;
  o.postsuper = "/usr/sbin/postsuper";
  o.batch_size = 3;
  std::vector<std::vector<std::string>> batches;
  o.after_batch = [&batches](const std::vector<IdResult>& batch) {
    std::vector<std::string> seen;
    for (const IdResult& r : batch) seen.push_back(r.id + " " + std::string(outcome_name(r.outcome)));
    std::sort(seen.begin(), seen.end());
    batches.push_back(seen);
  };
  execute_plan(runner, o, plan, {});
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], (std::vector<std::string>{"10278A74127 done", "11278A74127 done", "12278A74127 done"}));
  EXPECT_EQ(batches[1], (std::vector<std::string>{"13278A74127 done", "14278A74127 not_found"}));
}

// Regression (issue 19, V_postsuper_dies_archive): a postsuper that removed
// the messages and was killed before it said so left them "failed", and
// their archived copies unrestorable. The queue settles their fate.
TEST(ExecuteTest, PostsuperThatDiesAfterActingIsJudgedByTheQueue) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = numbered_plan(3, runner);
  runner.die_silently = true;
  runner.existing.pop_back();  // the last one it cannot remove: it stays in deferred
  ExecOptions o;
  o.postsuper = "/usr/sbin/postsuper";
  o.where_now = [&runner](const PlanEntry& e) -> std::optional<std::string> {
    if (e.id == "10278A74127") return std::nullopt;  // cannot be told
    bool removed = std::find(runner.removed.begin(), runner.removed.end(), e.id) != runner.removed.end();
    return removed ? std::string() : std::string("deferred");
  };
  ExecReport r = execute_plan(runner, o, plan, {});
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(r.results[0].outcome, IdOutcome::kFailed);
  EXPECT_EQ(r.results[0].detail, "postsuper was killed by signal 9");
  EXPECT_EQ(r.results[1].outcome, IdOutcome::kDone);
  EXPECT_EQ(r.results[1].detail,
            "postsuper was killed by signal 9, after it had removed this message (gone from every queue)");
  EXPECT_EQ(r.results[2].outcome, IdOutcome::kFailed);  // still in deferred: not removed
  EXPECT_EQ(r.stopped, "postsuper was killed by signal 9 (deferred, batch 1)");
}

// --rate: each ID is verified (and written) no earlier than its turn, on a
// fake clock; an ID dropped by its verification takes no turn.
TEST(ExecuteTest, RatePacesEachIdBeforeItIsVerified) {
  ScriptedRunner runner;
  runner.existing = {"10278A74127", "20278A74127", "40278A74127", "50278A74127"};
  std::vector<PlanEntry> plan = {entry("deferred", "10278A74127"), entry("deferred", "20278A74127"),
                                 entry("deferred", "30278A74127"), entry("deferred", "40278A74127"),
                                 entry("deferred", "50278A74127")};
  std::int64_t clock = 7000000;
  std::vector<std::int64_t> sleeps, verified_at;
  std::vector<std::size_t> progress;
  ExecOptions opt;
  opt.postsuper = "/usr/sbin/postsuper";
  opt.rate = 2;
  opt.clock_us = [&] { return clock; };
  opt.sleep_us = [&](std::int64_t us) {
    sleeps.push_back(us);
    clock += us;
  };
  auto verify = [&](const PlanEntry& e) {
    verified_at.push_back(clock - 7000000);
    Verification v;
    if (e.id == "30278A74127") v.kind = Verification::kChanged;
    return v;
  };
  ExecReport rep = execute_plan(runner, opt, plan, verify, [&](std::size_t h, std::size_t) { progress.push_back(h); });
  EXPECT_EQ(verified_at, (std::vector<std::int64_t>{0, 500000, 1000000, 1000000, 1500000}));
  EXPECT_EQ(sleeps, (std::vector<std::int64_t>{500000, 500000, 500000}));
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].input, "10278A74127\n20278A74127\n40278A74127\n50278A74127\n");
  EXPECT_EQ(rep.count(IdOutcome::kDone), 4u);
  EXPECT_EQ(progress, (std::vector<std::size_t>{1, 2, 2, 3, 4, 4})) << "after each ID, and after the batch";
}

TEST(ExecuteTest, RateGroupsAtMostATenthOfASecondOfIds) {
  ScriptedRunner runner;
  std::vector<PlanEntry> plan = numbered_plan(25, runner);
  std::int64_t clock = 0;
  std::size_t writes_seen = 0;
  ExecOptions opt;
  opt.rate = 100;  // 10 IDs a tenth of a second
  opt.clock_us = [&] { return clock; };
  opt.sleep_us = [&](std::int64_t us) { clock += us; };
  opt.before_write = [&](const std::vector<const PlanEntry*>&) {
    ++writes_seen;
    return WriteRefusal{};
  };
  ExecReport rep = execute_plan(runner, opt, plan, {});
  EXPECT_EQ(writes_seen, 3u) << "10 + 10 + 5";
  EXPECT_EQ(clock, 240000);
  EXPECT_EQ(rep.count(IdOutcome::kDone), 25u);
}

}  // namespace
}  // namespace qpurge
