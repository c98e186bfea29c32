// SPDX-License-Identifier: MIT
// matchers.h - building test messages and one-group matchers for the
// select tests (match_test.cc, criteria_test.cc).
#ifndef QPURGE_TESTS_SUPPORT_MATCHERS_H_
#define QPURGE_TESTS_SUPPORT_MATCHERS_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qpurge/select/match.h"
#include "qpurge/spool/record.h"
#include "support/queue_writer.h"

namespace qpurge {

inline Message parsed(const std::string& sender, const std::vector<std::string>& rcpts) {
  SyntheticMessage m;
  m.arrival_time = 1000;
  m.sender = sender;
  for (const auto& r : rcpts) m.recipients.push_back({r, "", false});
  m.header_lines = {"Subject: x"};
  static std::string file;
  file = write_queue_file(m);
  MemorySource src(file);
  RecordReader reader;
  Message msg;
  std::string error;
  EXPECT_TRUE(parse_queue_file(src, reader, msg, error)) << error;
  return msg;
}

inline VerdictKind verdict(const Matcher& m, const Message& msg) {
  return m.evaluate(Subject{msg, 0, 0, nullptr}).kind;
}

inline Matcher one(const char* option, std::unique_ptr<Criterion> c) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.alternatives.push_back(std::move(c));
  m.add(std::move(g));
  return m;
}

// A message with named attributes, as smtpd writes them, and headers.
inline Message smtpd_message(std::vector<std::pair<std::string, std::string>> attrs, std::int64_t arrival = 1000) {
  std::string f;
  append_record(f, 'T', std::to_string(arrival) + " 0");
  for (auto& [k, v] : attrs) append_record(f, 'A', k + "=" + v);
  append_record(f, 'S', "spammer@victim.example");
  append_record(f, 'R', "a@example.com");
  append_record(f, 'R', "b@our.example");
  append_record(f, 'M', "");
  append_record(f, 'N', "Subject: Cheap pills");
  append_record(f, 'N', "X-Mailer: spamtool 2.0");
  append_record(f, 'N', "");
  append_record(f, 'N', "Subject: not a header, the body");
  append_record(f, 'X', "");
  append_record(f, 'E', "");
  static std::string keep;
  keep = f;
  MemorySource src(keep);
  RecordReader reader;
  Message msg;
  std::string error;
  ParseOptions opt;
  opt.headers = true;
  EXPECT_TRUE(parse_queue_file(src, reader, msg, error, opt)) << error;
  return msg;
}

inline VerdictKind verdict_at(const Matcher& m, const Message& msg, std::int64_t now,
                              const std::vector<std::string>* reasons = nullptr) {
  return m.evaluate(Subject{msg, 0, now, reasons}).kind;
}

inline Matcher group(const char* option, std::vector<std::unique_ptr<Criterion>> alts, bool exclude = false) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.exclude = exclude;
  for (auto& a : alts) g.alternatives.push_back(std::move(a));
  m.add(std::move(g));
  return m;
}

inline std::vector<std::unique_ptr<Criterion>> one_of(std::unique_ptr<Criterion> c) {
  std::vector<std::unique_ptr<Criterion>> v;
  v.push_back(std::move(c));
  return v;
}

}  // namespace qpurge

#endif  // QPURGE_TESTS_SUPPORT_MATCHERS_H_
