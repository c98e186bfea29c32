// SPDX-License-Identifier: MIT
// writer_test.cc - copies of queue files before deletion: byte for byte,
// mode and times kept, logs, the manifest, a full disk leaving nothing (the
// refusals are writer_refusal_test.cc).
#include "qpurge/archive/writer.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qpurge/archive/directory.h"
#include "qpurge/util/sha256.h"
#include "support/archive_writer_fixture.h"
#include "support/files.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveTest;
using testing::entry_for;
using testing::header;
using testing::kAbcSha256;
using testing::kCabc;
using testing::kCabcSha256;
using testing::kId;
using testing::manifest;
using testing::message;
using testing::names_in;
using testing::slurp;

TEST(ArchiveWriterNameTest, UtcStampHostAndShortRunId) {
  EXPECT_EQ(run_directory_name(header()), "20261122T105330Z-mx1.example-4242");
  ArchiveHeader h = header();
  h.host = "evil/../host";
  h.run_id = "no dots here";
  EXPECT_EQ(run_directory_name(h), "20261122T105330Z-evil_.._host-no_dots_here");
}

TEST_F(ArchiveTest, CreateMakesPrivateRunDirWithRunRecord) {
  auto run = create();
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->path(), archive_dir() + "/20261122T105330Z-mx1.example-4242");
  struct stat st;
  ASSERT_EQ(::stat(archive_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(run->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});

  auto lines = manifest(*run);
  ASSERT_EQ(lines.size(), 1u);
  const auto& r = lines[0];
  EXPECT_EQ(r["record"], "run");
  EXPECT_EQ(r["version"], 2);
  EXPECT_EQ(r["created"], 1795344810);
  EXPECT_EQ(r["host"], "mx1.example");
  EXPECT_EQ(r["run"], "1795344810.4242");
  EXPECT_EQ(r["queue_directory"], "/var/spool/postfix");
  EXPECT_EQ(r["config_directory"], "/etc/postfix");
  EXPECT_EQ(r["action"], "delete");
  ASSERT_EQ(r["criteria"].size(), 1u);
  EXPECT_EQ(r["criteria"][0]["option"], "--domain");
  EXPECT_EQ(r["criteria"][0]["values"][0], "example.com");
  EXPECT_EQ(r["criteria"][0]["values"][1], "caf\\xe9.example");
  EXPECT_EQ(r["criteria"][0]["values_hex"][1], "636166e92e6578616d706c65");
  EXPECT_EQ(r["argv"].size(), 5u);
  EXPECT_EQ(r["argv"][4], "/var/lib/qpurge/archive");
}

TEST_F(ArchiveTest, CreateNeverReusesAnExistingRunDir) {
  auto first = create();
  ASSERT_NE(first, nullptr);
  std::string error;
  auto second = ArchiveWriter::create(archive_dir(), header(), error);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(error, first->path() + ": already exists; a run directory is never reused");
  EXPECT_EQ(manifest(*first).size(), 1u);  // the first run's manifest is untouched
}

TEST_F(ArchiveTest, CreateFailsWhenTheArchiveDirCannotBeMade) {
  std::string file = archive_dir();
  std::ofstream(file) << "not a directory";
  std::string error;
  auto run = ArchiveWriter::create(file + "/archive", header(), error);
  EXPECT_EQ(run, nullptr);
  EXPECT_EQ(error, "archive directory " + file + "/archive: Not a directory");
  fs::remove(file);
}

TEST_F(ArchiveTest, CreateRefusesADirectoryInsideTheQueueDirectory) {
  ArchiveHeader h = header();
  h.queue_directory = spool_.root();
  std::string error;
  for (const std::string& dir :
       {spool_.root() + "/deferred/archive",
        spool_.root() + "/../" + fs::path(spool_.root()).filename().string() + "/new/archive"}) {
    EXPECT_EQ(ArchiveWriter::create(dir, h, error), nullptr) << dir;
    EXPECT_EQ(error, "archive directory " + dir + ": inside the queue directory " + spool_.root() +
                         "; name one outside it with --archive");
  }
  EXPECT_FALSE(fs::exists(spool_.root() + "/deferred/archive"));
  EXPECT_FALSE(fs::exists(spool_.root() + "/new"));
  EXPECT_NE(ArchiveWriter::create(archive_dir(), h, error), nullptr) << error;  // beside it is fine
}

TEST_F(ArchiveTest, StoresByteIdenticalCopyKeepingModeAndTimes) {
  std::string rel = spool_.put_message("deferred", kId, message("a@x.example", {"r@example.com"}), 0700);
  std::string src = spool_.root() + "/" + rel;
  const struct timespec times[2] = {{1700000000, 123456789}, {1795344810, 987654321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, src.c_str(), times, 0), 0);
  auto run = create();
  ASSERT_NE(run, nullptr);

  std::string error;
  ASSERT_TRUE(run->store(spool_.root(), entry_for(spool_, rel, "a@x.example", {"r@example.com"}), error)) << error;
  std::string copy = run->path() + "/" + kId;
  struct stat st;  // before reading the copy, which moves its access time on
  ASSERT_EQ(::stat(copy.c_str(), &st), 0);
  EXPECT_EQ(slurp(copy), slurp(src));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1795344810);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  EXPECT_EQ(st.st_atim.tv_sec, 1700000000);
  EXPECT_EQ(run->stored_messages(), 1u);
  EXPECT_EQ(run->stored_bytes(), static_cast<std::uint64_t>(st.st_size));
  EXPECT_EQ(names_in(run->path()), (std::vector<std::string>{kId, "manifest.jsonl"}));  // no temporary left
  // The queue file itself is where it was, with its modification time
  // (Postfix's next delivery attempt for a deferred message).
  EXPECT_EQ(names_in(spool_.root() + "/deferred/1"), std::vector<std::string>{kId});
  ASSERT_EQ(::stat(src.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1795344810);
}

TEST_F(ArchiveTest, Sha256IsThatOfTheBytes) {
  std::string rel = spool_.put("deferred", kId, "abc");
  std::string hex, error;
  ASSERT_TRUE(sha256_file(spool_.root() + "/" + rel, hex, error)) << error;
  EXPECT_EQ(hex, kAbcSha256);

  rel = spool_.put("deferred", kId, kCabc);
  auto run = create();
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->store(spool_.root(), entry_for(spool_, rel, "", {}), error)) << error;
  auto lines = manifest(*run);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["sha256"], kCabcSha256);
  EXPECT_EQ(lines[1]["file_size"], 4);
  ASSERT_TRUE(sha256_file(run->path() + "/" + kId, hex, error)) << error;
  EXPECT_EQ(hex, kCabcSha256);
}

TEST_F(ArchiveTest, Sha256FileRefusesWhatItCannotRead) {
  std::string hex, error;
  EXPECT_FALSE(sha256_file(spool_.root() + "/missing", hex, error));
  EXPECT_EQ(error, spool_.root() + "/missing: No such file or directory");
  EXPECT_FALSE(sha256_file(spool_.root() + "/deferred", hex, error));
  EXPECT_EQ(error, spool_.root() + "/deferred: not a regular file");
}

TEST_F(ArchiveTest, CopiesDeferAndBounceLogsWhenPresent) {
  std::string rel = spool_.put_message("deferred", kId, message("a@x.example", {"r@example.com"}));
  spool_.put("defer", kId, "recipient=r@example.com\noffset=123\nstatus=4.0.0\n\n", 0600, false);
  fs::create_directories(spool_.root() + "/defer/1");
  fs::rename(spool_.root() + "/defer/" + kId, spool_.root() + "/defer/1/" + kId);       // hashed, as by default
  spool_.put("bounce", kId, "recipient=s@example.com\nstatus=5.0.0\n\n", 0600, false);  // flat
  std::string rel2 = spool_.put_message("deferred", "20278A74127", message("b@x.example", {"r@example.com"}));
  auto run = create();
  ASSERT_NE(run, nullptr);

  std::string error;
  ASSERT_TRUE(run->store(spool_.root(), entry_for(spool_, rel, "a@x.example", {"r@example.com"}), error)) << error;
  ASSERT_TRUE(run->store(spool_.root(), entry_for(spool_, rel2, "b@x.example", {"r@example.com"}), error)) << error;
  EXPECT_EQ(slurp(run->path() + "/" + kId + ".defer"), slurp(spool_.root() + "/defer/1/" + kId));
  EXPECT_EQ(slurp(run->path() + "/" + kId + ".bounce"), slurp(spool_.root() + "/bounce/" + kId));
  auto lines = manifest(*run);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["logs"], nlohmann::json::array({std::string(kId) + ".defer", std::string(kId) + ".bounce"}));
  EXPECT_EQ(lines[2]["logs"], nlohmann::json::array());
  EXPECT_EQ(names_in(run->path()),
            (std::vector<std::string>{kId, std::string(kId) + ".bounce", std::string(kId) + ".defer", "20278A74127",
                                      "manifest.jsonl"}));
}

TEST_F(ArchiveTest, ManifestRecordsCarryTheFieldsAndParse) {
  std::string sender("s\xff@x.example");
  std::string rel = spool_.put_message("deferred", kId, message(sender, {"r@example.com", "t@example.com"}), 0700);
  auto run = create();
  ASSERT_NE(run, nullptr);
  PlanEntry e = entry_for(spool_, rel, sender, {"r@example.com", "t@example.com"});
  e.recipients[1].original = "T\xff@Example.com";
  e.recipients[1].has_original = true;
  std::string error;
  ASSERT_TRUE(run->store(spool_.root(), e, error)) << error;

  std::vector<IdResult> results = {{"deferred", kId, IdOutcome::kDone, ""},
                                   {"deferred", "30278A74127", IdOutcome::kNotFound, ""}};  // never stored
  ASSERT_TRUE(run->settle(results, error)) << error;
  ASSERT_TRUE(run->settle({{"deferred", kId, IdOutcome::kFailed, "postsuper said \x80"}}, error));

  auto lines = manifest(*run);
  ASSERT_EQ(lines.size(), 4u);
  const auto& m = lines[1];
  EXPECT_EQ(m["record"], "message");
  EXPECT_EQ(m["queue_name"], "deferred");
  EXPECT_EQ(m["queue_id"], kId);
  EXPECT_EQ(m["inode"], e.inode);
  EXPECT_EQ(m["arrival_time"], 1795344810);
  EXPECT_EQ(m["sender_hex"], "73ff40782e6578616d706c65");
  EXPECT_EQ(m["sender"], "s\\xff@x.example");  // for people: text-escaped, so every JSON reader takes it
  ASSERT_EQ(m["recipients"].size(), 2u);
  EXPECT_EQ(m["recipients"][0]["address"], "r@example.com");
  EXPECT_EQ(m["recipients"][0]["address_hex"], "72406578616d706c652e636f6d");
  EXPECT_FALSE(m["recipients"][0].contains("original_recipient"));
  EXPECT_EQ(m["recipients"][1]["original_recipient"], "T\\xff@Example.com");
  EXPECT_EQ(m["message_size"], 1234);
  EXPECT_EQ(m["file_size"], e.file_size);
  EXPECT_EQ(m["file"], kId);
  EXPECT_EQ(m["mode"], 700);
  EXPECT_EQ(m["logs"], nlohmann::json::array());
  EXPECT_EQ(m["sha256"].get<std::string>().size(), 64u);

  EXPECT_EQ(lines[2], nlohmann::json::parse(R"({"record": "outcome", "queue_id": "10278A74127",
                                                "queue_name": "deferred", "result": "done"})"));
  EXPECT_EQ(lines[3]["result"], "failed");
  EXPECT_EQ(lines[3]["detail"], "postsuper said \\x80");
}

// Issue 22: the original of a message whose recipients --mixed cancel is
// about to cross off: the record says so and names them with their
// offsets, and the log copies hold only their entries (the kept
// recipients' stay in the queue); a log with none of theirs is not copied.
TEST_F(ArchiveTest, CancelRecordNamesTheCanceledRecipientsAndKeepsOnlyTheirLogEntries) {
  std::string rel = spool_.put_message("hold", kId, message("a@x.example", {"d@dead.example", "k@ok.example"}));
  PlanEntry e = entry_for(spool_, rel, "a@x.example", {"d@dead.example", "k@ok.example"});
  e.recipients[0].offset = 100;
  e.recipients[1].offset = 150;
  const std::string dead = "recipient=d@dead.example\noffset=100\nreason=gone\n\n";
  const std::string kept = "recipient=k@ok.example\noffset=150\nreason=busy\n\n";
  spool_.put("defer", kId, dead + kept, 0600, false);
  spool_.put("bounce", kId, kept, 0600, false);
  auto run = create();
  ASSERT_NE(run, nullptr);
  run->defer_sync();  // a cancel's copy is synced whatever the deletes batch
  std::string error;
  const std::vector<PlanRecipient> cancel = {e.recipients[0]};
  ASSERT_TRUE(run->store(spool_.root(), e, error, &cancel)) << error;
  EXPECT_EQ(slurp(run->path() + "/" + kId), slurp(spool_.root() + "/" + rel));  // the original, byte for byte
  EXPECT_EQ(slurp(run->path() + "/" + kId + ".defer"), dead);
  EXPECT_FALSE(fs::exists(run->path() + "/" + kId + ".bounce"));
  EXPECT_EQ(slurp(spool_.root() + "/defer/" + kId), dead + kept);  // the queue's logs are not the archive's business
  auto lines = manifest(*run);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["cancel"], true);
  ASSERT_EQ(lines[1]["canceled"].size(), 1u);
  EXPECT_EQ(lines[1]["canceled"][0]["address"], "d@dead.example");
  EXPECT_EQ(lines[1]["canceled"][0]["offset"], 100);
  EXPECT_EQ(lines[1]["recipients"][1]["offset"], 150);
  EXPECT_EQ(lines[1]["logs"], nlohmann::json::array({std::string(kId) + ".defer"}));
  ArchiveManifest m;
  ASSERT_TRUE(read_manifest(run->path(), m, error)) << error;
  ASSERT_EQ(m.messages.size(), 1u);
  EXPECT_TRUE(m.messages[0].cancel);
  ASSERT_EQ(m.messages[0].canceled.size(), 1u);
  EXPECT_EQ(m.messages[0].canceled[0].address, "d@dead.example");
  EXPECT_EQ(m.messages[0].canceled[0].offset, 100u);
  EXPECT_EQ(m.messages[0].recipients[1].offset, 150u);
  EXPECT_FALSE(m.messages[0].deleted());
  ASSERT_TRUE(run->settle({{"hold", kId, IdOutcome::kDone, "canceled d@dead.example"}}, error)) << error;
  ASSERT_TRUE(read_manifest(run->path(), m, error)) << error;
  EXPECT_TRUE(m.messages[0].deleted());
}

const SysCalls& with_write(ssize_t (*write)(int, const void*, std::size_t)) {
  static SysCalls calls;
  calls = SysCalls::real();
  calls.write_fd = write;
  return calls;
}

ssize_t fail_message_records(int fd, const void* data, std::size_t size) {
  if (std::string_view(static_cast<const char*>(data), size).starts_with("{\"record\": \"message\"")) {
    errno = ENOSPC;
    return -1;
  }
  return ::write(fd, data, size);
}

TEST_F(ArchiveTest, ManifestWriteFailureLeavesNothingOfTheMessage) {
  std::string rel = spool_.put_message("deferred", kId, message("a@x.example", {"r@example.com"}));
  spool_.put("bounce", kId, "recipient=s@example.com\n\n", 0600, false);
  auto run = create(with_write(fail_message_records));
  ASSERT_NE(run, nullptr);
  std::string error;
  EXPECT_FALSE(run->store(spool_.root(), entry_for(spool_, rel, "a@x.example", {"r@example.com"}), error));
  EXPECT_EQ(error, run->path() + "/manifest.jsonl: No space left on device: the partial record was rolled back");
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});
  EXPECT_EQ(manifest(*run).size(), 1u);
  EXPECT_EQ(run->stored_messages(), 0u);
  EXPECT_EQ(run->stored_bytes(), 0u);
  // Its outcome is not recorded either: it was never stored.
  ASSERT_TRUE(run->settle({{"deferred", kId, IdOutcome::kDone, ""}}, error));
  EXPECT_EQ(manifest(*run).size(), 1u);
}

TEST_F(ArchiveTest, ArchiveFitsRefusesAHugeSize) {
  std::string dir = archive_dir() + "/not/yet/made";  // measured on its nearest existing parent
  std::string error;
  EXPECT_TRUE(archive_fits(dir, 4096, error)) << error;
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max() / 2;
  EXPECT_FALSE(archive_fits(dir, huge, error));
  EXPECT_TRUE(error.starts_with("archive " + dir + ": ")) << error;
  EXPECT_NE(error.find(" needed (with a margin), "), std::string::npos) << error;
  EXPECT_TRUE(error.ends_with(" free on its file system; name another file system with --archive")) << error;
  EXPECT_FALSE(fs::exists(archive_dir()));  // measuring makes nothing
  EXPECT_EQ(archive_space_needed(10 << 20), (11u << 20) + (1u << 20));
  EXPECT_EQ(archive_space_needed(std::numeric_limits<std::uint64_t>::max()), std::numeric_limits<std::uint64_t>::max());
}

// A small tmpfs of its own: the disk-full cases. Mounting needs root (or
// CAP_SYS_ADMIN); where it is refused these tests are skipped.
class ArchiveFullDiskTest : public ArchiveTest {
 protected:
  void SetUp() override {
    mount_ = spool_.root() + "-tmpfs";
    fs::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=4m,mode=0700") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount(mount_.c_str());
    fs::remove_all(mount_);
  }
  std::string mount_;
  bool mounted_ = false;
};

TEST_F(ArchiveFullDiskTest, ArchiveFitsSaysHowMuchIsNeededAndFree) {
  std::string error;
  EXPECT_TRUE(archive_fits(mount_ + "/archive", 1 << 20, error)) << error;
  EXPECT_FALSE(archive_fits(mount_ + "/archive", 10 << 20, error));
  EXPECT_EQ(error, "archive " + mount_ +
                       "/archive: 12.0 MiB needed (with a margin), 4.0 MiB free on its file system; "
                       "name another file system with --archive");
}

TEST_F(ArchiveFullDiskTest, StoreOnAFullDiskFailsAndLeavesNoPartialFile) {
  std::string big = "C" + std::string(6 << 20, 'x');  // more than the 4 MiB file system holds
  std::string rel = spool_.put("deferred", kId, big);
  std::string small_rel = spool_.put("deferred", "20278A74127", kCabc);
  std::string error;
  auto run = ArchiveWriter::create(mount_ + "/archive", header(), error);
  ASSERT_NE(run, nullptr) << error;
  EXPECT_FALSE(run->store(spool_.root(), entry_for(spool_, rel, "", {}), error));
  // How much fitted before ENOSPC depends on the file system's own blocks.
  const std::string expected = run->path() + "/." + kId + ".tmp: No space left on device after ";
  EXPECT_EQ(error.substr(0, expected.size()), expected);
  EXPECT_TRUE(error.ends_with(" of 65536 bytes")) << error;
  EXPECT_EQ(names_in(run->path()), std::vector<std::string>{"manifest.jsonl"});
  EXPECT_EQ(manifest(*run).size(), 1u);
  EXPECT_EQ(run->stored_messages(), 0u);
  // The space is given back: the next message still fits.
  ASSERT_TRUE(run->store(spool_.root(), entry_for(spool_, small_rel, "", {}), error)) << error;
  EXPECT_EQ(manifest(*run).size(), 2u);
}

}  // namespace
}  // namespace qpurge
