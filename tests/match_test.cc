// match_test.cc - selectors: exact, case-insensitive, lookalikes, null
// sender, AND/OR, mixed messages.
#include "qpurge/match.h"

#include <gtest/gtest.h>

#include "qpurge/queue_writer.h"
#include "qpurge/record.h"

namespace qpurge {
namespace {

Message parsed(const std::string& sender, const std::vector<std::string>& rcpts) {
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

VerdictKind verdict(const Matcher& m, const Message& msg) {
  return m.evaluate(Subject{msg, 0, 0, nullptr}).kind;
}

Matcher one(const char* option, std::unique_ptr<Criterion> c) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.alternatives.push_back(std::move(c));
  m.add(std::move(g));
  return m;
}

TEST(MatchTest, DomainPatternTable) {
  struct Case {
    const char* pattern;
    const char* domain;
    bool match;
  } cases[] = {
      {"example.com", "example.com", true},
      {"example.com", "EXAMPLE.COM", true},
      {"Example.Com", "example.com", true},
      {"example.com", "notexample.com", false},
      {"example.com", "example.com.evil.net", false},
      {"example.com", "sub.example.com", false},
      {"example.com", "examplexcom", false},  // '.' is not a wildcard
      {"example.com", "example.co", false},
      {"example.com", "", false},
      {".example.com", "sub.example.com", true},
      {".example.com", "a.b.EXAMPLE.com", true},
      {".example.com", "example.com", false},
      {".example.com", "notexample.com", false},
      {".example.com", "subexample.com", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(DomainPattern(c.pattern).matches_domain(c.domain), c.match)
        << c.pattern << " vs " << c.domain;
}

TEST(MatchTest, DomainIsAfterTheLastAt) {
  EXPECT_EQ(address_domain("a@b@example.com"), "example.com");
  EXPECT_EQ(address_domain("localuser"), "");
  EXPECT_TRUE(DomainPattern("example.com").matches_address("\"x@evil\"@example.com"));
  EXPECT_FALSE(DomainPattern("evil").matches_address("\"x@evil\"@example.com"));
}

TEST(MatchTest, RejectsBadDomainPatterns) {
  for (const char* bad : {"", ".", "a@b", "a b", "..a", "a..b"})
    EXPECT_THROW(DomainPattern p(bad), std::invalid_argument) << bad;
}

TEST(MatchTest, SenderAddressTable) {
  struct Case {
    const char* option;
    const char* sender;
    bool match;
  } cases[] = {
      {"MAILER-DAEMON", "", true},
      {"mailer-daemon", "", true},
      {"<>", "", true},
      {"", "", true},
      {"MAILER-DAEMON", "MAILER-DAEMON@mx.example", false},
      {"MAILER-DAEMON@mx.example", "mailer-daemon@MX.example", true},
      {"MAILER-DAEMON@mx.example", "", false},
      {"alice@example.com", "Alice@Example.COM", true},
      {"<alice@example.com>", "alice@example.com", true},
      {"alice@example.com", "malice@example.com", false},
      {"alice@example.com", "alice@example.com.evil.net", false},
      {"alice@example.com", "", false},
  };
  for (const auto& c : cases) {
    Matcher m = one("--sender", make_sender(c.option, false));
    EXPECT_EQ(verdict(m, parsed(c.sender, {"r@x.example"})) == VerdictKind::kSelected, c.match)
        << c.option << " vs <" << c.sender << ">";
  }
}

TEST(MatchTest, RegexMatchesWholeAddressCaseInsensitively) {
  Matcher m = one("--recipient", make_recipient("spam[0-9]+@example\\.com", true));
  EXPECT_EQ(verdict(m, parsed("a@b", {"SPAM12@Example.com"})), VerdictKind::kSelected);
  EXPECT_EQ(verdict(m, parsed("a@b", {"xspam12@example.com"})), VerdictKind::kNoMatch);
  EXPECT_EQ(verdict(m, parsed("a@b", {"spam12@example.com.evil"})), VerdictKind::kNoMatch);
  EXPECT_THROW(make_recipient("(", true), std::invalid_argument);
}

TEST(MatchTest, OnlyPendingRecipientsCount) {
  SyntheticMessage s;
  s.arrival_time = 1;
  s.sender = "a@b";
  s.recipients = {{"done@example.com", "", true}, {"pending@other.example", "", false}};
  std::string file = write_queue_file(s);
  MemorySource src(file);
  RecordReader reader;
  Message msg;
  std::string error;
  ASSERT_TRUE(parse_queue_file(src, reader, msg, error));
  Matcher m = one("--recipient-domain", make_recipient_domain("example.com"));
  EXPECT_EQ(verdict(m, msg), VerdictKind::kNoMatch);
}

TEST(MatchTest, MixedWhenOnlySomeRecipientsMatch) {
  Matcher m = one("--recipient-domain", make_recipient_domain("example.com"));
  EXPECT_EQ(verdict(m, parsed("a@b", {"x@example.com", "y@other.example"})), VerdictKind::kMixed);
  EXPECT_EQ(verdict(m, parsed("a@b", {"x@example.com", "y@EXAMPLE.com"})), VerdictKind::kSelected);
}

TEST(MatchTest, DomainHoldsForSenderOrRecipients) {
  Matcher m = one("--domain", make_domain("example.com"));
  // Sender in the domain: the whole message matches, not mixed.
  EXPECT_EQ(verdict(m, parsed("a@example.com", {"x@one.example", "y@two.example"})), VerdictKind::kSelected);
  EXPECT_EQ(verdict(m, parsed("a@b.example", {"x@example.com", "y@two.example"})), VerdictKind::kMixed);
  EXPECT_EQ(verdict(m, parsed("a@notexample.com", {"x@sub.example.com"})), VerdictKind::kNoMatch);
}

TEST(MatchTest, SameOptionIsOrDifferentOptionsAreAnd) {
  Matcher m;
  CriterionGroup senders;
  senders.option = "--sender";
  senders.alternatives.push_back(make_sender("a@x.example", false));
  senders.alternatives.push_back(make_sender("b@x.example", false));
  m.add(std::move(senders));
  CriterionGroup domains;
  domains.option = "--recipient-domain";
  domains.alternatives.push_back(make_recipient_domain("example.com"));
  m.add(std::move(domains));
  EXPECT_EQ(verdict(m, parsed("a@x.example", {"r@example.com"})), VerdictKind::kSelected);
  EXPECT_EQ(verdict(m, parsed("b@x.example", {"r@example.com"})), VerdictKind::kSelected);
  EXPECT_EQ(verdict(m, parsed("c@x.example", {"r@example.com"})), VerdictKind::kNoMatch);
  EXPECT_EQ(verdict(m, parsed("a@x.example", {"r@other.example"})), VerdictKind::kNoMatch);
}

TEST(MatchTest, ExplainSaysWhichCriteriaHeld) {
  Matcher m;
  CriterionGroup s;
  s.option = "--sender";
  s.values = {"a@x.example"};
  s.alternatives.push_back(make_sender("a@x.example", false));
  m.add(std::move(s));
  CriterionGroup d;
  d.option = "--recipient-domain";
  d.values = {"example.com"};
  d.alternatives.push_back(make_recipient_domain("example.com"));
  m.add(std::move(d));
  Message msg = parsed("a@x.example", {"r@example.com", "q@other.example"});
  Verdict v = m.evaluate(Subject{msg, 0, 0, nullptr}, true);
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  ASSERT_EQ(v.explain.size(), 2u);
  EXPECT_EQ(v.explain[0], "--sender a@x.example: passed");
  EXPECT_EQ(v.explain[1], "--recipient-domain example.com: passed for 1 of 2 recipients");
}

}  // namespace
}  // namespace qpurge
