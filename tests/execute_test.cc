// execute_test.cc - the executor's verification of postsuper's word.
//
// The real postsuper is exercised by the integration tests; here a scripted
// runner stands in for what a real one cannot be made to do on demand (die
// mid-batch, print something unexpected), and for checking exactly what is
// written to its standard input.
#include "qpurge/execute.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

struct Call {
  std::vector<std::string> argv;
  std::string input;
};

// Acts like postsuper -d - on a set of existing IDs, unless told otherwise.
class ScriptedRunner : public CommandRunner {
 public:
  std::vector<std::string> existing;
  std::vector<Call> calls;
  bool die_after_first = false;
  bool cannot_start = false;
  std::string extra;
  CommandResult run(const std::vector<std::string>& argv, std::string_view input) override {
    calls.push_back({argv, std::string(input)});
    CommandResult r;
    if (cannot_start) {
      r.error = "postsuper: No such file or directory";
      return r;
    }
    r.started = true;
    int n = 0;
    std::size_t pos = 0;
    while (pos < input.size()) {
      std::size_t nl = input.find('\n', pos);
      std::string id(input.substr(pos, nl - pos));
      pos = nl + 1;
      if (std::find(existing.begin(), existing.end(), id) != existing.end()) {
        r.err += "postsuper: " + id + ": removed\n";
        ++n;
        if (die_after_first) {
          r.signal = 9;
          return r;
        }
      }
    }
    r.err += extra;
    r.err += "postsuper: Deleted: " + std::to_string(n) + " message" + (n == 1 ? "" : "s") + "\n";
    r.exited = true;
    return r;
  }
};

PlanEntry entry(const std::string& queue, const std::string& id) {
  PlanEntry e;
  e.queue = queue;
  e.id = id;
  e.dir = queue;
  return e;
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
      "postsuper: E327EA72116: placed on hold\npostsuper: Placed on hold: 1 message\n",
      action_info(Action::kHold));
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
    return e.id == "20278A74127" ? std::string("different message (sender changed)") : std::string();
  });
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].input, "10278A74127\n");
  EXPECT_EQ(rep.count(IdOutcome::kChanged), 1u);
  EXPECT_EQ(rep.results[1].detail, "different message (sender changed)");
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

}  // namespace
}  // namespace qpurge
