// SPDX-License-Identifier: MIT
// content_match_test.cc - the content criteria (--subject, --body,
// --message-id, ...): bad values, what content each needs, and an
// unparsed message that never selects and always excludes.
#include "qpurge/select/content_match.h"

#include <gtest/gtest.h>

#include "support/content_reads.h"

namespace qpurge {
namespace {

TEST(ContentMatchTest, RefusesBadValues) {
  EXPECT_THROW(make_subject("("), std::invalid_argument);
  EXPECT_THROW(make_body("[a-"), std::invalid_argument);
  EXPECT_THROW(make_attachment(""), std::invalid_argument);
  EXPECT_THROW(make_attachment_type("zip"), std::invalid_argument);
  EXPECT_THROW(make_attachment_type("*/*"), std::invalid_argument);
  EXPECT_THROW(make_attachment_type("application/"), std::invalid_argument);
  EXPECT_THROW(make_message_id("<>"), std::invalid_argument);
  EXPECT_THROW(make_message_id("a b@c"), std::invalid_argument);
}

TEST(ContentMatchTest, SaysWhatContentItNeeds) {
  EXPECT_EQ(make_subject("x")->needs_content(), ContentNeed::kHeaders);
  EXPECT_EQ(make_message_id("x@y")->needs_content(), ContentNeed::kHeaders);
  EXPECT_EQ(make_body("x")->needs_content(), ContentNeed::kBody);
  EXPECT_EQ(make_attachment("*.zip")->needs_content(), ContentNeed::kParts);
  EXPECT_EQ(make_attachment_type("image/*")->needs_content(), ContentNeed::kParts);
  Matcher m;
  EXPECT_EQ(m.needs_content(), ContentNeed::kNone);
  CriterionGroup g;
  g.option = "--subject";
  g.values = {"x"};
  g.alternatives.push_back(make_subject("x"));
  m.add(std::move(g));
  EXPECT_EQ(m.needs_content(), ContentNeed::kHeaders);
  CriterionGroup b;
  b.option = "--body";
  b.values = {"y"};
  b.alternatives.push_back(make_body("y"));
  m.add(std::move(b));
  EXPECT_EQ(m.needs_content(), ContentNeed::kBody);
}

TEST(ContentMatchTest, MessageIdWithOrWithoutBrackets) {
  Read r;
  read_file(write_queue_file(mail({"Subject: id", "Message-ID: <Abc.123@mx.example>"}, {"b"})), r,
            ContentNeed::kHeaders);
  EXPECT_EQ(test(*make_message_id("Abc.123@mx.example"), r), Truth::kYes);
  EXPECT_EQ(test(*make_message_id("<Abc.123@mx.example>"), r), Truth::kYes);
  EXPECT_EQ(test(*make_message_id("abc.123@mx.example"), r), Truth::kNo);  // case matters
}

TEST(ContentMatchTest, AnUnparsedMessageIsNeverSelectedAndAlwaysExcluded) {
  Read r;
  read_file(write_queue_file(mail({"Subject: broken", "MIME-Version: 1.0", "Content-Type: multipart/mixed"},
                                  {"--x", "", "text", "--x--"})),
            r);
  ASSERT_FALSE(r.content.parsed);
  Subject s{r.msg, 0, 0, nullptr, &r.content, "10278A74127"};

  Matcher select;
  CriterionGroup g;
  g.option = "--body";
  g.values = {"text"};
  g.alternatives.push_back(make_body("text"));
  select.add(std::move(g));
  Verdict v = select.evaluate(s);
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);

  Matcher exclude;
  CriterionGroup all;
  all.option = "--all";
  all.alternatives.push_back(make_all());
  exclude.add(std::move(all));
  CriterionGroup e;
  e.option = "--exclude-attachment";
  e.values = {"*.pdf"};
  e.alternatives.push_back(make_attachment("*.pdf"));
  e.exclude = true;
  exclude.add(std::move(e));
  v = exclude.evaluate(s);
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);
  ASSERT_EQ(exclude.undecided_criteria().size(), 1u);
  EXPECT_EQ(exclude.undecided_criteria()[0].label, "--exclude-attachment *.pdf");
  EXPECT_EQ(exclude.undecided_criteria()[0].cause, UndecidedCause::kContent);
}

}  // namespace
}  // namespace qpurge
