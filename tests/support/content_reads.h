// SPDX-License-Identifier: MIT
// content_reads.h - a synthetic message, read and decoded, for the content
// tests (spool/content_test.cc, select/content_match_test.cc).
#ifndef QPURGE_TESTS_SUPPORT_CONTENT_READS_H_
#define QPURGE_TESTS_SUPPORT_CONTENT_READS_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "qpurge/select/content_match.h"
#include "qpurge/select/mime.h"
#include "qpurge/spool/content.h"
#include "qpurge/spool/queue_file.h"
#include "support/queue_writer.h"

namespace qpurge {

inline SyntheticMessage mail(std::vector<std::string> headers, std::vector<std::string> body) {
  SyntheticMessage m;
  m.arrival_time = 1795344810;
  m.sender = "spammer@campaign.example";
  m.recipients.push_back({"victim@example.com", "", false});
  m.header_lines = std::move(headers);
  m.body_lines = std::move(body);
  return m;
}

// A queue file parsed with its content read, and that content decoded.
struct Read {
  Message msg;
  MessageContent content;
};

inline void read_file(const std::string& file, Read& out, ContentNeed need = ContentNeed::kBody,
                      std::size_t text_limit = kDefaultTextLimit, std::size_t content_limit = kDefaultContentLimit) {
  MemorySource source(file);
  RecordReader reader;
  ParseOptions options;
  options.content = need;
  options.content_limit = content_limit;
  std::string error;
  ASSERT_TRUE(parse_queue_file(source, reader, out.msg, error, options)) << error;
  ASSERT_TRUE(out.msg.has_content) << out.msg.content_error;
  decode_content(out.msg.content, need, text_limit, out.content);
}

inline Truth test(const Criterion& c, const Read& r) {
  return c.test_message(Subject{r.msg, 0, 0, nullptr, &r.content, "10278A74127"});
}

}  // namespace qpurge

#endif  // QPURGE_TESTS_SUPPORT_CONTENT_READS_H_
