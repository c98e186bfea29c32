// SPDX-License-Identifier: MIT
// system_test.cc - the real System's file writes: --save-plan never follows
// a symlink and never leaves half a file.
#include "qpurge/system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace qpurge {
namespace {

class SystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qpurge-system-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string dir_;
  RealSystem sys_;
};

TEST_F(SystemTest, WriteFileReplacesASymlinkInsteadOfFollowingIt) {
  std::ofstream(dir_ + "/victim") << "precious";
  std::filesystem::create_symlink(dir_ + "/victim", dir_ + "/plan.json");
  std::string error;
  ASSERT_TRUE(sys_.write_file(dir_ + "/plan.json", "{\"qpurge_plan\": 1}\n", error)) << error;
  EXPECT_EQ(slurp(dir_ + "/victim"), "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(dir_ + "/plan.json"));
  EXPECT_EQ(slurp(dir_ + "/plan.json"), "{\"qpurge_plan\": 1}\n");
}

TEST_F(SystemTest, WriteFileFailsWholeAndSaysWhere) {
  std::string error;
  EXPECT_FALSE(sys_.write_file(dir_ + "/no/such/dir/plan.json", "x", error));
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/no"));
}

TEST_F(SystemTest, ReadFileNamesTheFile) {
  std::string text, error;
  EXPECT_FALSE(sys_.read_file(dir_ + "/missing", text, error));
  EXPECT_EQ(error, dir_ + "/missing: No such file or directory");
}

}  // namespace
}  // namespace qpurge
