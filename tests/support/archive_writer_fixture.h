// SPDX-License-Identifier: MIT
// archive_writer_fixture.h - what the tests of the archive writer share
// (tests/archive/writer_test.cc, writer_refusal_test.cc): a run directory
// beside a test spool, its header, plan entries for the spool's files, and
// the run's manifest read back.
#ifndef QPURGE_TESTS_SUPPORT_ARCHIVE_WRITER_FIXTURE_H_
#define QPURGE_TESTS_SUPPORT_ARCHIVE_WRITER_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "qpurge/archive/writer.h"
#include "support/files.h"
#include "support/test_spool.h"

namespace qpurge::testing {

inline constexpr const char* kId = "10278A74127";
inline constexpr const char* kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// A file the writer takes for a queue file: its first byte is the size record's type.
inline constexpr const char* kCabc = "Cabc";
inline constexpr const char* kCabcSha256 = "a553ae69865b1c3efeed181d40cdb793ab9505a8c4f76c8387485bbcbed2de74";

inline std::vector<nlohmann::json> manifest(const ArchiveWriter& run) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(run.path() + "/manifest.jsonl"));
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));  // throws on a bad line
  return out;
}

inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

inline ArchiveHeader header() {
  ArchiveHeader h;
  h.created = 1795344810;
  h.host = "mx1.example";
  h.run_id = "1795344810.4242";
  h.queue_directory = "/var/spool/postfix";
  h.config_directory = "/etc/postfix";
  h.criteria = {{"--domain", {"example.com", std::string("caf\xe9.example")}}};
  h.argv = {"qpurge", "--domain", "example.com", "--archive", "/var/lib/qpurge/archive"};
  return h;
}

inline PlanEntry entry_for(const TestSpool& spool, const std::string& rel, const std::string& sender,
                           std::vector<std::string> rcpts) {
  PlanEntry e;
  e.queue = rel.substr(0, rel.find('/'));
  e.dir = rel.substr(0, rel.rfind('/'));
  e.id = rel.substr(rel.rfind('/') + 1);
  struct stat st;
  if (::lstat((spool.root() + "/" + rel).c_str(), &st) == 0) {
    e.inode = st.st_ino;
    e.mode = st.st_mode & 07777;
    e.file_size = static_cast<std::uint64_t>(st.st_size);
  }
  e.arrival_time = 1795344810;
  e.message_size = 1234;
  e.sender = sender;
  for (auto& r : rcpts) e.recipients.push_back({r, "", false, 0, true, false});
  return e;
}

class ArchiveTest : public ::testing::Test {
 protected:
  std::string archive_dir() const { return spool_.root() + "-archive"; }
  void TearDown() override { std::filesystem::remove_all(archive_dir()); }
  std::unique_ptr<ArchiveWriter> create(const SysCalls& sys = SysCalls::real()) {
    std::string error;
    auto run = ArchiveWriter::create(archive_dir(), header(), error, sys);
    EXPECT_NE(run, nullptr) << error;
    return run;
  }
  TestSpool spool_;
};

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_ARCHIVE_WRITER_FIXTURE_H_
