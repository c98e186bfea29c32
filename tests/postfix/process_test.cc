// SPDX-License-Identifier: MIT
// process_test.cc - running a command without a shell: what it printed, how
// it ended, and a program that cannot be run.
#include "qpurge/postfix/process.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

TEST(ProcessTest, CollectsOutputAndExitStatus) {
  ProcessRunner runner;
  CommandResult r = runner.run({"/bin/sh", "-c", "cat; echo err >&2; exit 3"}, "in\n");
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_EQ(r.out, "in\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(ProcessTest, ArgumentsAreNeverInterpretedByAShell) {
  ProcessRunner runner;
  CommandResult r = runner.run({"/bin/echo", "$(id)", ";", "*"}, "");
  EXPECT_EQ(r.out, "$(id) ; *\n");
}

TEST(ProcessTest, KilledBySignal) {
  ProcessRunner runner;
  CommandResult r = runner.run({"/bin/sh", "-c", "kill -9 $$"}, "");
  ASSERT_TRUE(r.started);
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, 9);
}

TEST(ProcessTest, MissingProgramIsNotStarted) {
  ProcessRunner runner;
  CommandResult r = runner.run({"/nonexistent/postsuper"}, "");
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
}

TEST(ProcessTest, StreamedInputReachesTheCommand) {
  ProcessRunner runner;
  std::unique_ptr<CommandSession> s = runner.start({"/bin/cat"});
  ASSERT_TRUE(s->write("a\n"));
  ASSERT_TRUE(s->write("b\n"));
  CommandResult r = s->finish();
  EXPECT_EQ(r.out, "a\nb\n");
}

}  // namespace
}  // namespace qpurge
