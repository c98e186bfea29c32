// SPDX-License-Identifier: MIT
// test_spool.h - a temporary spool directory for tests, filled with queue
// files written like cleanup writes them (queue_writer.h).
#ifndef QPURGE_TESTS_SUPPORT_TEST_SPOOL_H_
#define QPURGE_TESTS_SUPPORT_TEST_SPOOL_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "qpurge/spool/queue_file.h"
#include "support/files.h"
#include "support/queue_writer.h"

namespace qpurge::testing {

class TestSpool {
 public:
  TestSpool() {
    char tmpl[] = "/tmp/qpurge-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    for (const char* q : {"incoming", "active", "deferred", "hold", "maildrop", "defer"})
      std::filesystem::create_directories(root_ + "/" + q);
  }
  ~TestSpool() { std::filesystem::remove_all(root_); }
  const std::string& root() const { return root_; }

  // Writes `content` at queue/[hash/]id with `mode`; returns the relative path.
  std::string put(const std::string& queue, const std::string& id, const std::string& content, mode_t mode = 0700,
                  bool hashed = true) {
    std::string dir = queue;
    if (hashed && queue == "deferred") dir += "/" + id.substr(0, 1);
    std::filesystem::create_directories(root_ + "/" + dir);
    std::string rel = dir + "/" + id;
    std::string path = root_ + "/" + rel;
    FILE* f = std::fopen(path.c_str(), "w");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    ::chmod(path.c_str(), mode);
    return rel;
  }
  std::string put_message(const std::string& queue, const std::string& id, const SyntheticMessage& m,
                          mode_t mode = 0700) {
    return put(queue, id, write_queue_file(m), mode);
  }

 private:
  std::string root_;
};

inline SyntheticMessage message(const std::string& sender, std::vector<std::string> rcpts,
                                std::int64_t arrival = 1795344810) {
  SyntheticMessage m;
  m.arrival_time = arrival;
  m.sender = sender;
  for (auto& r : rcpts) m.recipients.push_back({r, "", false});
  m.header_lines = {"Subject: test", "From: " + (sender.empty() ? std::string("MAILER-DAEMON") : sender)};
  m.body_lines = {"body"};
  return m;
}

// The pending recipients of the queue file at `path`, in file order;
// {"(none)"} when there is no file, {"(unparsable)"} when it does not parse.
inline std::vector<std::string> pending_recipients(const std::string& path) {
  std::string data = slurp(path), error;
  if (data.empty()) return {"(none)"};
  Message msg;
  MemorySource src(data);
  RecordReader reader;
  if (!parse_queue_file(src, reader, msg, error)) return {"(unparsable)"};
  std::vector<std::string> out;
  for (const Recipient& r : msg.recipients) out.emplace_back(msg.str(r.address));
  return out;
}

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_TEST_SPOOL_H_
