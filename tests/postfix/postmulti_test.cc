// SPDX-License-Identifier: MIT
// postmulti_test.cc - the instances `postmulti -l` lists (postmulti.h), and
// a clear refusal when it cannot say.
#include "qpurge/postfix/postmulti.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

// Prints what it is told to, as postmulti would.
class PostmultiStandIn : public CommandRunner {
 public:
  CommandResult result;
  std::vector<std::string> argv;
  CommandResult run(const std::vector<std::string>& a, std::string_view) override {
    argv = a;
    return result;
  }
};

TEST(PostmultiTest, ListsEveryInstanceAndNamesTheDefault) {
  PostmultiStandIn pm;
  pm.result.started = pm.result.exited = true;
  pm.result.out =
      "-               -               y         /etc/postfix\n"
      "postfix-out     mta             n         /etc/postfix-out\n";
  std::vector<InstanceInfo> got;
  std::string error;
  ASSERT_TRUE(list_instances(pm, "/usr/sbin/postmulti", got, error)) << error;
  EXPECT_EQ(pm.argv, (std::vector<std::string>{"/usr/sbin/postmulti", "-l"}));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].name, "default");
  EXPECT_EQ(got[0].config_dir, "/etc/postfix");
  EXPECT_TRUE(got[0].enabled);
  EXPECT_EQ(got[1].name, "postfix-out");
  EXPECT_EQ(got[1].config_dir, "/etc/postfix-out");
  EXPECT_FALSE(got[1].enabled);
}

TEST(PostmultiTest, NotThereIsAClearRefusal) {
  PostmultiStandIn pm;
  pm.result.error = "/usr/sbin/postmulti: No such file or directory";
  std::vector<InstanceInfo> got;
  std::string error;
  EXPECT_FALSE(list_instances(pm, "/usr/sbin/postmulti", got, error));
  EXPECT_EQ(error, "postmulti is not available: /usr/sbin/postmulti: No such file or directory");
}

TEST(PostmultiTest, NotSetUpIsAClearRefusal) {
  PostmultiStandIn pm;
  pm.result.started = pm.result.exited = true;
  pm.result.exit_status = 1;
  pm.result.err = "postmulti: fatal: No multi_instance_directories\n";
  std::vector<InstanceInfo> got;
  std::string error;
  EXPECT_FALSE(list_instances(pm, "postmulti", got, error));
  EXPECT_EQ(error,
            "postmulti is not set up here (postmulti -l said: postmulti: fatal: No multi_instance_directories); "
            "use -c DIR for one instance");
  pm.result.err.clear();
  EXPECT_FALSE(list_instances(pm, "postmulti", got, error));
  EXPECT_EQ(error, "postmulti is not set up here (postmulti -l failed with status 1); use -c DIR for one instance");
}

TEST(PostmultiTest, AnEmptyListIsARefusal) {
  PostmultiStandIn pm;
  pm.result.started = pm.result.exited = true;
  pm.result.out = "\n";
  std::vector<InstanceInfo> got;
  std::string error;
  EXPECT_FALSE(list_instances(pm, "postmulti", got, error));
  EXPECT_EQ(error, "postmulti -l listed no instance");
}

}  // namespace
}  // namespace qpurge
