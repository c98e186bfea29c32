// SPDX-License-Identifier: MIT
// evaluate_test.cc - one evaluation of a message: the queue ID, the delay
// reasons and the content reach the matcher, each only when a criterion
// needs it.
#include "qpurge/select/evaluate.h"

#include <gtest/gtest.h>

#include "qpurge/select/content_match.h"
#include "qpurge/spool/record.h"
#include "support/queue_writer.h"

namespace qpurge {
namespace {

// A defer log held in memory; counts the reads.
class FakeLogs : public DeferLogSource {
 public:
  std::string text;
  bool present = true;
  mutable int reads = 0;
  mutable std::string asked;
  bool read(const std::string& id, std::string& out) const override {
    ++reads;
    asked = id;
    if (present) out = text;
    return present;
  }
};

class EvaluateTest : public ::testing::Test {
 protected:
  // Parses a message to bob@example.com with the Subject and body given,
  // as parse_options_for(matcher) says.
  const Message& parse(const Matcher& matcher, const std::string& subject, const std::string& body,
                       std::size_t content_limit = kDefaultContentLimit) {
    SyntheticMessage m;
    m.arrival_time = 1000;
    m.sender = "alice@example.org";
    m.recipients.push_back({"bob@example.com", "", false});
    m.header_lines = {"Subject: " + subject, "From: alice@example.org"};
    m.body_lines = {body};
    file_ = write_queue_file(m);
    MemorySource src(file_);
    std::string error;
    EXPECT_TRUE(parse_queue_file(src, reader_, msg_, error, parse_options_for(matcher, content_limit))) << error;
    return msg_;
  }
  // The offset of the first pending recipient's R record.
  std::uint64_t first_offset() const { return msg_.recipients.at(0).offset; }

  std::string file_;
  RecordReader reader_;
  Message msg_;
  FakeLogs logs_;
};

Matcher with(const char* option, std::unique_ptr<Criterion> c, bool exclude = false) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.side = c->side();
  g.exclude = exclude;
  g.alternatives.push_back(std::move(c));
  m.add(std::move(g));
  return m;
}

TEST_F(EvaluateTest, QueueIdReachesIdCriteria) {
  Matcher select = with("--id", make_queue_id({"4A1B2C3D4E"}));
  Matcher exclude = with("--exclude-id", make_queue_id({"4A1B2C3D4E"}), true);
  const Message& msg = parse(select, "hello", "body");
  Evaluation e;
  evaluate_message(select, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kSelected);
  evaluate_message(select, msg, "5F0E1D2C3B", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kNoMatch);
  evaluate_message(exclude, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kNoMatch);
  EXPECT_FALSE(e.verdict.undecided);
  EXPECT_EQ(logs_.reads, 0);  // no criterion needs a delay reason
}

TEST_F(EvaluateTest, ReasonsAreReadOnlyWhenNeededAndJoinedByOffset) {
  Matcher m = with("--reason", make_reason("connection timed out"));
  const Message& msg = parse(m, "hello", "body");
  logs_.text = "recipient=bob@example.com\noffset=" + std::to_string(first_offset()) +
               "\nreason=connect to mx: connection timed out\n\n";
  Evaluation e;
  evaluate_message(m, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(logs_.reads, 1);
  EXPECT_EQ(logs_.asked, "4A1B2C3D4E");
  EXPECT_EQ(e.verdict.kind, VerdictKind::kSelected);

  logs_.present = false;  // no log: the reason is unknown, never a yes
  evaluate_message(m, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(e.verdict.reason_unknown);
}

TEST_F(EvaluateTest, ContentIsDecodedToTheLevelTheMatcherNeeds) {
  Matcher subject = with("--subject", make_subject("^hello$"));
  const Message& msg = parse(subject, "hello", "the body says phishmark");
  Evaluation e;
  evaluate_message(subject, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kSelected);
  EXPECT_EQ(e.content_need, ContentNeed::kHeaders);
  EXPECT_TRUE(e.content->parsed);
  EXPECT_EQ(e.content->subject, "hello");
  EXPECT_TRUE(e.content->texts.empty());  // the body was not decoded
  EXPECT_FALSE(e.content_failed);

  Matcher body = with("--body", make_body("phishmark"));
  const Message& again = parse(body, "hello", "the body says phishmark");
  Evaluation b;
  evaluate_message(body, again, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, b);
  EXPECT_EQ(b.verdict.kind, VerdictKind::kSelected);
  EXPECT_EQ(b.content_need, ContentNeed::kBody);
  ASSERT_EQ(b.content->texts.size(), 1u);
  EXPECT_FALSE(b.cut);

  Matcher envelope = with("--sender", make_sender("alice@example.org", false));
  Evaluation n;
  evaluate_message(envelope, parse(envelope, "hello", "x"), "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, n);
  EXPECT_EQ(n.content_need, ContentNeed::kNone);
  EXPECT_FALSE(n.content.has_value());  // not decoded at all
  EXPECT_FALSE(n.content_failed);
}

TEST_F(EvaluateTest, ContentNotReadIsUndecidedAndSaysWhy) {
  Matcher body = with("--body", make_body("phishmark"));
  Matcher exclude = with("--exclude-body", make_body("phishmark"), true);
  Matcher envelope = with("--sender", make_sender("alice@example.org", false));
  // Parsed without the content, as a caller that forgot parse_options_for() would.
  const Message& msg = parse(envelope, "hello", "phishmark");
  Evaluation e;
  evaluate_message(body, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(e.verdict.undecided);
  EXPECT_TRUE(e.content_failed);
  EXPECT_EQ(e.content->error, "content not read");
  evaluate_message(exclude, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{}, e);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kNoMatch);  // an exclusion that cannot decide excludes
  EXPECT_TRUE(e.verdict.undecided);
}

TEST_F(EvaluateTest, TextCutAtTheBodyLimitIsReported) {
  Matcher body = with("--body", make_body("nomatch"));
  const Message& msg = parse(body, "hello", std::string(4000, 'x'));
  Evaluation e;
  evaluate_message(body, msg, "4A1B2C3D4E", 100, logs_, EvaluateOptions{0, 1024, false}, e);
  EXPECT_TRUE(e.cut);
  EXPECT_EQ(e.verdict.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(e.verdict.undecided);
}

TEST(ParseOptionsTest, ReadsWhatTheMatcherNeeds) {
  Matcher none = with("--sender", make_sender("a@example.org", false));
  ParseOptions p = parse_options_for(none, 4096);
  EXPECT_FALSE(p.headers);
  EXPECT_EQ(p.content, ContentNeed::kNone);
  Matcher header = with("--header", make_header("X-Spam: yes"));
  EXPECT_TRUE(parse_options_for(header, 4096).headers);
  Matcher body = with("--body", make_body("x"));
  p = parse_options_for(body, 4096);
  EXPECT_EQ(p.content, ContentNeed::kBody);
  EXPECT_EQ(p.content_limit, 4096u);
}

}  // namespace
}  // namespace qpurge
