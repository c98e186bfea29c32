// SPDX-License-Identifier: MIT
// module_test.cc - loading a module (module.h): the built content module
// loads; a missing one, one others may write, one from another build or one
// that is no qpurge module is refused with a line that names it.
#include "qpurge/util/module.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "qpurge/version.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;

struct ContentTable {  // the size of content_module.h's table
  ModuleHeader header;
  void* functions[2];
};

class ModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "qpurge-module-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The built content module copied into dir_ as qpurge_NAME.so.
  std::string copy_as(const std::string& name, fs::perms perms = fs::perms(0644)) {
    const std::string to = dir_ + "/qpurge_" + name + ".so";
    fs::copy_file(std::string(QPURGE_BUILT_MODULES) + "/qpurge_content.so", to);
    fs::permissions(to, perms);
    return to;
  }
  std::string error_of(const char* name, std::uint32_t size = sizeof(ContentTable)) {
    return load_error(dir_, name, size);
  }
  static std::string load_error(const std::string& dir, const char* name, std::uint32_t size = sizeof(ContentTable)) {
    try {
      load_module_from(dir, name, size);
    } catch (const ModuleError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(ModuleTest, LoadsTheBuiltContentModule) {
  const ModuleHeader& h = load_module_from(QPURGE_BUILT_MODULES, "content", sizeof(ContentTable));
  EXPECT_EQ(h.abi, kModuleAbi);
  EXPECT_STREQ(h.version, kVersion);
}

TEST_F(ModuleTest, MissingModuleNamesItsPath) {
  EXPECT_EQ(error_of("content"), dir_ + "/qpurge_content.so: cannot load: No such file or directory");
}

TEST_F(ModuleTest, MissingDirectoryNamesTheModule) {
  EXPECT_EQ(load_error("/nonexistent", "content"),
            "/nonexistent/qpurge_content.so: cannot load: /nonexistent: No such file or directory");
}

TEST_F(ModuleTest, RefusesAModuleOthersMayWrite) {
  copy_as("content", fs::perms(0664));
  EXPECT_EQ(error_of("content"), dir_ + "/qpurge_content.so: not loaded: writable by group or others");
}

TEST_F(ModuleTest, RefusesADirectoryOthersMayWrite) {
  copy_as("content");
  fs::permissions(dir_, fs::perms(0777));
  EXPECT_EQ(error_of("content"),
            dir_ + "/qpurge_content.so: not loaded: directory " + dir_ + " writable by group or others");
}

TEST_F(ModuleTest, RefusesASymbolicLink) {
  const std::string real = copy_as("real");
  fs::create_symlink(real, dir_ + "/qpurge_content.so");
  EXPECT_EQ(error_of("content"), dir_ + "/qpurge_content.so: not loaded: not a regular file");
}

TEST_F(ModuleTest, RefusesASharedObjectWithoutTheEntryPoint) {
  copy_as("other");
  EXPECT_EQ(error_of("other"), dir_ + "/qpurge_other.so: not a qpurge module (no qpurge_other_module)");
}

TEST_F(ModuleTest, RefusesATableOfAnotherLayout) {
  copy_as("content");
  EXPECT_NE(error_of("content", sizeof(ContentTable) + 8).find("not loaded: built for qpurge"), std::string::npos);
}

TEST(ModuleDirectoryTest, EnvironmentOverridesTheBuiltInDirectory) {
  const char* before = std::getenv("QPURGE_MODULE_DIR");
  const std::string saved = before ? before : "";
  ::setenv("QPURGE_MODULE_DIR", "/somewhere", 1);
  EXPECT_EQ(module_directory(), "/somewhere");
  if (before)
    ::setenv("QPURGE_MODULE_DIR", saved.c_str(), 1);
  else
    ::unsetenv("QPURGE_MODULE_DIR");
}

}  // namespace
}  // namespace qpurge
