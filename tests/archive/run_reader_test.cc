// SPDX-License-Identifier: MIT
// run_reader_test.cc - a run is read only when nobody but root (or us)
// could have written it, and only through descriptors (issue 19 item 7,
// G_archive_dir_owner): modes with chmod, owners (as root) with chown.
#include "qpurge/archive/run_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/archived_run.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::ArchivedRun;
using testing::TestSpool;

constexpr const char* kWhy = ": another user could replace what qpurge writes or reads there";
constexpr uid_t kNobody = 65534;

class RunReaderTest : public ::testing::Test {
 protected:
  RunReaderTest() : archive_(tmp_.root() + "/archive") {
    fs::create_directories(archive_);
    ::chmod(archive_.c_str(), 0700);
    run_ = std::make_unique<ArchivedRun>(archive_, "20261122T101500Z-mx-abc123", "mx", "/var/spool/postfix");
    copy_ = run_->add("4A1B2C3D4E", testing::message("alice@example.org", {"bob@example.com"}));
    run_->defer_log("4A1B2C3D4E", "recipient=bob@example.com\n\n");
    run_->finish();
  }
  const std::string& dir() const { return run_->dir(); }
  std::string open_error(bool for_append = false) {
    RunReader reader;
    std::string error;
    EXPECT_FALSE(reader.open(dir(), for_append, error));
    return error;
  }
  static void skip_unless_root() {
    if (::geteuid() != 0) GTEST_SKIP() << "changing a file's owner needs root";
  }

  TestSpool tmp_;  // only for its temporary directory
  std::string archive_;
  std::unique_ptr<ArchivedRun> run_;
  std::string copy_;
};

TEST_F(RunReaderTest, TrustedRunIsReadThroughItsDescriptors) {
  RunReader reader;
  std::string error;
  ASSERT_TRUE(reader.open(dir(), true, error)) << error;
  ASSERT_EQ(reader.manifest().messages.size(), 1u);
  EXPECT_EQ(reader.manifest().messages[0].queue_id, "4A1B2C3D4E");
  EXPECT_EQ(reader.manifest_path(), dir() + "/manifest.jsonl");
  std::string data;
  struct stat st;
  bool absent = true;
  ASSERT_TRUE(reader.read("4A1B2C3D4E", 1 << 20, data, st, false, absent, error)) << error;
  EXPECT_FALSE(absent);
  EXPECT_EQ(data, copy_);
  ASSERT_TRUE(reader.read("5F0E1D2C3B.defer", 1 << 20, data, st, true, absent, error)) << error;
  EXPECT_TRUE(absent);
  EXPECT_FALSE(reader.read("../x", 1 << 20, data, st, true, absent, error));
  EXPECT_EQ(error, dir() + "/../x: not a file name of the run");
}

TEST_F(RunReaderTest, TrailingSlashesAreNotPartOfTheNames) {
  RunReader slashed;  // as a shell completes it
  std::string error;
  ASSERT_TRUE(slashed.open(dir() + "//", false, error)) << error;
  EXPECT_EQ(slashed.manifest_path(), dir() + "/manifest.jsonl");
  EXPECT_EQ(slashed.path_of("4A1B2C3D4E"), dir() + "/4A1B2C3D4E");
}

TEST_F(RunReaderTest, ArchivedDeferLogIsReadAsTheRunsFilesAre) {
  RunReader reader;
  std::string error, text;
  ASSERT_TRUE(reader.open(dir(), false, error)) << error;
  const std::string file = "4A1B2C3D4E", other = "5F0E1D2C3B";
  ArchivedDeferLog log(reader, file);
  EXPECT_TRUE(log.read("4A1B2C3D4E", text));
  EXPECT_EQ(text, "recipient=bob@example.com\n\n");
  ArchivedDeferLog none(reader, other);  // no log archived: reasons unknown, no error
  EXPECT_FALSE(none.read(other, text));
  EXPECT_EQ(none.error, "");
  ::chmod((dir() + "/4A1B2C3D4E.defer").c_str(), 0666);
  EXPECT_FALSE(log.read(file, text));
  EXPECT_EQ(log.error, dir() + "/4A1B2C3D4E.defer: writable by everyone" + kWhy);
}

TEST_F(RunReaderTest, TheManifestReadIsTheOneLockedUntilTheReaderGoes) {
  auto locked = [&] {
    Fd fd(::open((dir() + "/manifest.jsonl").c_str(), O_RDONLY | O_CLOEXEC));
    return ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0;
  };
  {
    RunReader reader;
    std::string error;
    ASSERT_TRUE(reader.open(dir(), false, error)) << error;
    EXPECT_TRUE(locked());
    // A second reader (another restore) is refused while the first holds it.
    EXPECT_EQ(open_error(), dir() +
                                "/manifest.jsonl: in use by another qpurge (a purge still writing this run, or "
                                "a restore of it)");
  }
  EXPECT_FALSE(locked());
}

TEST_F(RunReaderTest, ArchiveDirectoryOthersCanWriteIsRefused) {
  ::chmod(archive_.c_str(), 0777);
  EXPECT_EQ(open_error(), "archive directory " + archive_ + ": " + archive_ + ": writable by everyone" + kWhy);
  ::chmod(archive_.c_str(), 01777);  // sticky: others still make runs in it
  EXPECT_EQ(open_error(), "archive directory " + archive_ + ": " + archive_ + ": writable by everyone" + kWhy);
  ::chmod(archive_.c_str(), 0770);
  EXPECT_EQ(open_error(), "archive directory " + archive_ + ": " + archive_ + ": writable by its group" + kWhy);
}

TEST_F(RunReaderTest, DirectoryAboveOthersCanWriteIsRefused) {
  ::chmod(tmp_.root().c_str(), 0777);
  EXPECT_EQ(open_error(), "archive directory " + archive_ + ": " + tmp_.root() + " (above " + archive_ +
                              "): writable by everyone" + kWhy);
  ::chmod(tmp_.root().c_str(), 01777);  // like /tmp: nobody else can rename what is ours in it
  RunReader reader;
  std::string error;
  EXPECT_TRUE(reader.open(dir(), false, error)) << error;
}

TEST_F(RunReaderTest, RunDirectoryOthersCanWriteIsRefused) {
  ::chmod(dir().c_str(), 0757);
  EXPECT_EQ(open_error(), "archive run " + dir() + ": " + dir() + ": writable by everyone" + kWhy);
}

TEST_F(RunReaderTest, ManifestOthersCanWriteOrALinkIsRefused) {
  const std::string manifest = dir() + "/manifest.jsonl";
  ::chmod(manifest.c_str(), 0666);
  EXPECT_EQ(open_error(true), manifest + ": writable by everyone" + kWhy);
  EXPECT_EQ(open_error(false), manifest + ": writable by everyone" + kWhy);  // a dry run too
  ::chmod(manifest.c_str(), 0600);
  fs::rename(manifest, dir() + "/real.jsonl");
  fs::create_symlink("real.jsonl", manifest);
  EXPECT_EQ(open_error(), manifest + ": is a symbolic link");
}

TEST_F(RunReaderTest, CopyOthersCanWriteOrALinkIsRefused) {
  RunReader reader;
  std::string error, data;
  ASSERT_TRUE(reader.open(dir(), false, error)) << error;
  struct stat st;
  bool absent = false;
  const std::string copy = dir() + "/4A1B2C3D4E";
  ::chmod(copy.c_str(), 0722);
  EXPECT_FALSE(reader.read("4A1B2C3D4E", 1 << 20, data, st, false, absent, error));
  EXPECT_EQ(error, copy + ": writable by everyone" + kWhy);
  ::chmod((dir() + "/4A1B2C3D4E.defer").c_str(), 0620);
  EXPECT_FALSE(reader.read("4A1B2C3D4E.defer", 1 << 20, data, st, true, absent, error));
  EXPECT_EQ(error, copy + ".defer: writable by its group" + kWhy);
  fs::remove(copy);
  fs::create_symlink("/etc/passwd", copy);
  EXPECT_FALSE(reader.read("4A1B2C3D4E", 1 << 20, data, st, false, absent, error));
  EXPECT_EQ(error, copy + ": is a symbolic link");
}

TEST_F(RunReaderTest, RunOwnedByAnotherUserIsRefused) {
  skip_unless_root();
  ASSERT_EQ(::chown(dir().c_str(), kNobody, kNobody), 0);
  EXPECT_EQ(open_error(), "archive run " + dir() + ": " + dir() + ": owned by uid 65534, not by root" + kWhy);
  ASSERT_EQ(::chown(dir().c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(archive_.c_str(), kNobody, kNobody), 0);
  EXPECT_EQ(open_error(),
            "archive directory " + archive_ + ": " + archive_ + ": owned by uid 65534, not by root" + kWhy);
}

TEST_F(RunReaderTest, FilesOwnedByAnotherUserAreRefused) {
  skip_unless_root();
  const std::string manifest = dir() + "/manifest.jsonl";
  ASSERT_EQ(::chown(manifest.c_str(), kNobody, kNobody), 0);
  EXPECT_EQ(open_error(), manifest + ": owned by uid 65534, not by root" + kWhy);
  ASSERT_EQ(::chown(manifest.c_str(), 0, 0), 0);
  ASSERT_EQ(::chown((dir() + "/4A1B2C3D4E").c_str(), kNobody, kNobody), 0);
  RunReader reader;
  std::string error, data;
  ASSERT_TRUE(reader.open(dir(), false, error)) << error;
  struct stat st;
  bool absent = false;
  EXPECT_FALSE(reader.read("4A1B2C3D4E", 1 << 20, data, st, false, absent, error));
  EXPECT_EQ(error, dir() + "/4A1B2C3D4E: owned by uid 65534, not by root" + kWhy);
}

}  // namespace
}  // namespace qpurge
