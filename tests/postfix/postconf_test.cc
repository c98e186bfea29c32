// SPDX-License-Identifier: MIT
// postconf_test.cc - how Postfix commands are called and read.
#include "qpurge/postfix/postconf.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

TEST(PostfixConfigTest, ArgvNamesTheInstanceOnlyWhenGiven) {
  std::vector<std::string> with = {"/usr/sbin/postsuper", "-c", "/etc/postfix-x"};
  EXPECT_EQ(postfix_argv("/usr/sbin/postsuper", "/etc/postfix-x"), with);
  std::vector<std::string> without = {"/usr/sbin/postconf"};
  EXPECT_EQ(postfix_argv("/usr/sbin/postconf", ""), without);
}

class FakePostconf : public CommandRunner {
 public:
  std::vector<std::string> argv;
  CommandResult result;
  CommandResult run(const std::vector<std::string>& a, std::string_view) override {
    argv = a;
    return result;
  }
};

TEST(PostfixConfigTest, PostconfValueIsTrimmed) {
  FakePostconf runner;
  runner.result.started = runner.result.exited = true;
  runner.result.out = "/var/spool/postfix-x\n";
  std::string value, error;
  ASSERT_TRUE(postconf_value(runner, "/usr/sbin/postconf", "/etc/postfix-x", "queue_directory", value, error));
  EXPECT_EQ(value, "/var/spool/postfix-x");
  std::vector<std::string> want = {"/usr/sbin/postconf", "-c", "/etc/postfix-x", "-h", "queue_directory"};
  EXPECT_EQ(runner.argv, want);
}

TEST(PostfixConfigTest, PostconfFailureSaysWhatPostconfSaid) {
  FakePostconf runner;
  runner.result.started = runner.result.exited = true;
  runner.result.exit_status = 1;
  runner.result.err = "postconf: fatal: open /etc/postfix-x/main.cf: No such file or directory\r\n";
  std::string value, error;
  EXPECT_FALSE(postconf_value(runner, "/usr/sbin/postconf", "/etc/postfix-x", "queue_directory", value, error));
  EXPECT_EQ(error,
            "/usr/sbin/postconf failed: postconf: fatal: open /etc/postfix-x/main.cf: No such file or directory");
}

}  // namespace
}  // namespace qpurge
