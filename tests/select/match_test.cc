// SPDX-License-Identifier: MIT
// match_test.cc - selectors: exact, case-insensitive, lookalikes, null
// sender, AND/OR, mixed messages.
#include "qpurge/select/match.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/regex.hpp>

#include "qpurge/spool/record.h"
#include "support/matchers.h"
#include "support/queue_writer.h"

namespace qpurge {
namespace {

TEST(MatchTest, DomainPatternTable) {
  struct Case {
    const char* pattern;
    const char* domain;
    bool match;
  } cases[] = {
      {"example.com", "example.com", true},           {"example.com", "EXAMPLE.COM", true},
      {"Example.Com", "example.com", true},           {"example.com", "notexample.com", false},
      {"example.com", "example.com.evil.net", false}, {"example.com", "sub.example.com", false},
      {"example.com", "examplexcom", false},  // '.' is not a wildcard
      {"example.com", "example.co", false},           {"example.com", "", false},
      {".example.com", "sub.example.com", true},      {".example.com", "a.b.EXAMPLE.com", true},
      {".example.com", "example.com", false},         {".example.com", "notexample.com", false},
      {".example.com", "subexample.com", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(DomainPattern(c.pattern).matches_domain(c.domain) == Truth::kYes, c.match)
        << c.pattern << " vs " << c.domain;
}

TEST(MatchTest, DomainIsAfterTheLastAt) {
  EXPECT_EQ(address_domain("a@b@example.com"), "example.com");
  EXPECT_EQ(address_domain("localuser"), "");
  EXPECT_EQ(DomainPattern("example.com").matches_address("\"x@evil\"@example.com"), Truth::kYes);
  EXPECT_EQ(DomainPattern("evil").matches_address("\"x@evil\"@example.com"), Truth::kNo);
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

namespace qpurge {
namespace {

TEST(MatchTest, DurationsAndSizes) {
  std::int64_t v;
  EXPECT_TRUE(parse_duration("90m", v) && v == 5400);
  EXPECT_TRUE(parse_duration("36h", v) && v == 129600);
  EXPECT_TRUE(parse_duration("3d", v) && v == 259200);
  EXPECT_TRUE(parse_duration("45s", v) && v == 45);
  EXPECT_FALSE(parse_duration("45", v));  // the unit is required
  EXPECT_TRUE(bare_number("45") && !bare_number("45s") && !bare_number(""));
  EXPECT_FALSE(parse_duration("3x", v));
  EXPECT_FALSE(parse_duration("-3d", v));
  EXPECT_FALSE(parse_duration("", v));
  EXPECT_TRUE(parse_size("10k", v) && v == 10240);
  EXPECT_TRUE(parse_size("2M", v) && v == 2097152);
  EXPECT_FALSE(parse_size("2MB", v));
  EXPECT_TRUE(parse_size("500b", v) && v == 500);
  EXPECT_FALSE(parse_size("500", v));
}

TEST(MatchTest, AgeFromArrivalTime) {
  Message msg = smtpd_message({}, 1000);
  Matcher older = group("--older-than", one_of(make_older_than(3600)));
  EXPECT_EQ(verdict_at(older, msg, 1000 + 3599), VerdictKind::kNoMatch);
  EXPECT_EQ(verdict_at(older, msg, 1000 + 3600), VerdictKind::kSelected);
  Matcher younger = group("--younger-than", one_of(make_younger_than(3600)));
  EXPECT_EQ(verdict_at(younger, msg, 1000 + 3599), VerdictKind::kSelected);
  EXPECT_EQ(verdict_at(younger, msg, 1000 + 3600), VerdictKind::kNoMatch);
}

TEST(MatchTest, SizeIsWhatPostqueueReports) {
  Message msg = smtpd_message({});
  ASSERT_FALSE(msg.has_size_record);  // no C record: the file size counts
  Matcher min = group("--min-size", one_of(make_min_size(100)));
  EXPECT_EQ(min.evaluate(Subject{msg, 100, 0, nullptr}).kind, VerdictKind::kSelected);
  EXPECT_EQ(min.evaluate(Subject{msg, 99, 0, nullptr}).kind, VerdictKind::kNoMatch);
  Matcher max = group("--max-size", one_of(make_max_size(100)));
  EXPECT_EQ(max.evaluate(Subject{msg, 100, 0, nullptr}).kind, VerdictKind::kSelected);
  EXPECT_EQ(max.evaluate(Subject{msg, 101, 0, nullptr}).kind, VerdictKind::kNoMatch);
}

TEST(MatchTest, ReasonIsPerRecipient) {
  Message msg = smtpd_message({});
  Matcher m = group("--reason", one_of(make_reason("user unknown")));
  std::vector<std::string> both = {"550 5.1.1 User unknown", "550 User Unknown in virtual table"};
  std::vector<std::string> one = {"550 5.1.1 User unknown", "Connection refused"};
  std::vector<std::string> none = {"", ""};
  EXPECT_EQ(verdict_at(m, msg, 0, &both), VerdictKind::kSelected);
  EXPECT_EQ(verdict_at(m, msg, 0, &one), VerdictKind::kMixed);
  EXPECT_EQ(verdict_at(m, msg, 0, &none), VerdictKind::kNoMatch);
  EXPECT_EQ(verdict_at(m, msg, 0, nullptr), VerdictKind::kNoMatch);
}

TEST(MatchTest, SmtpdAttributes) {
  Message msg = smtpd_message({{"sasl_username", "bob@mx.test.invalid"},
                               {"client_address", "2001:db8::7"},
                               {"log_client_address", "IPv6:2001:db8::7"},
                               {"client_name", "Host.Spam.Example"},
                               {"helo_name", "spam.example"}});
  Message local = smtpd_message({});
  struct Case {
    const char* label;
    std::unique_ptr<Criterion> c;
    bool match;
  };
  std::vector<Case> cases;
  cases.push_back({"sasl exact", make_sasl_user("bob@mx.test.invalid"), true});
  cases.push_back({"sasl case matters", make_sasl_user("Bob@mx.test.invalid"), false});
  cases.push_back({"ipv6 address", make_client_address("2001:db8::7"), true});
  cases.push_back({"ipv6 block", make_client_address("2001:db8::/32"), true});
  cases.push_back({"other ipv6 block", make_client_address("2001:db9::/32"), false});
  cases.push_back({"ipv4 never matches ipv6", make_client_address("127.0.0.0/8"), false});
  cases.push_back({"client name any case", make_client_name("host.spam.example"), true});
  cases.push_back({"client name parent", make_client_name(".spam.example"), true});
  cases.push_back({"client name lookalike", make_client_name("spam.example"), false});
  cases.push_back({"helo", make_helo("SPAM.example"), true});
  for (auto& c : cases) {
    Matcher m = group("--x", one_of(std::move(c.c)));
    EXPECT_EQ(verdict_at(m, msg, 0) == VerdictKind::kSelected, c.match) << c.label;
    EXPECT_EQ(verdict_at(m, local, 0), VerdictKind::kNoMatch) << c.label << ": local mail has no client";
  }
  EXPECT_THROW(make_client_address("300.1.1.1"), std::invalid_argument);
  EXPECT_THROW(make_client_address("10.0.0.0/33"), std::invalid_argument);
  EXPECT_THROW(make_client_address("10.0.0.0/x"), std::invalid_argument);
}

TEST(MatchTest, Ipv4BlocksAndTheLogForm) {
  Message msg = smtpd_message({{"client_address", "127.0.0.1"}, {"log_client_address", "203.0.113.9"}});
  for (const char* block : {"127.0.0.1", "127.0.0.0/8", "203.0.113.0/24", "0.0.0.0/0"}) {
    Matcher m = group("--client-address", one_of(make_client_address(block)));
    EXPECT_EQ(verdict_at(m, msg, 0), VerdictKind::kSelected) << block;
  }
  Matcher m = group("--client-address", one_of(make_client_address("203.0.114.0/24")));
  EXPECT_EQ(verdict_at(m, msg, 0), VerdictKind::kNoMatch);
}

TEST(MatchTest, HeaderMatchesHeadersOnly) {
  Message msg = smtpd_message({});
  EXPECT_EQ(verdict_at(group("--header", one_of(make_header("Subject: cheap"))), msg, 0), VerdictKind::kSelected);
  EXPECT_EQ(verdict_at(group("--header", one_of(make_header("x-mailer: ^spamtool"))), msg, 0), VerdictKind::kSelected);
  EXPECT_EQ(verdict_at(group("--header", one_of(make_header("Subject: the body"))), msg, 0), VerdictKind::kNoMatch);
  EXPECT_EQ(verdict_at(group("--header", one_of(make_header("From: ."))), msg, 0), VerdictKind::kNoMatch);
  EXPECT_THROW(make_header("no colon"), std::invalid_argument);
  EXPECT_THROW(make_header("Subject: ("), std::invalid_argument);
}

TEST(MatchTest, ExclusionsDropMessagesOrRecipients) {
  Message msg = smtpd_message({{"sasl_username", "bob"}});
  // Everything from bob except mail to our own domain: a@example.com stays
  // selected, b@our.example is excluded, so the message is mixed.
  Matcher m;
  CriterionGroup sasl;
  sasl.option = "--sasl-user";
  sasl.alternatives.push_back(make_sasl_user("bob"));
  m.add(std::move(sasl));
  CriterionGroup ours;
  ours.option = "--exclude-recipient-domain";
  ours.exclude = true;
  ours.alternatives.push_back(make_recipient_domain("our.example"));
  m.add(std::move(ours));
  Verdict v = m.evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  EXPECT_EQ(v.matched, (std::vector<bool>{true, false}));
  // A message-side exclusion drops the whole message.
  Matcher n = group("--exclude-sender", one_of(make_sender("spammer@victim.example", false)), true);
  EXPECT_EQ(verdict_at(n, msg, 0), VerdictKind::kNoMatch);
  Matcher k = group("--exclude-sender", one_of(make_sender("other@victim.example", false)), true);
  EXPECT_EQ(verdict_at(k, msg, 0), VerdictKind::kSelected);
}

// A pattern and an input on which Boost.Regex gives up ("complexity
// exceeded"): the evaluation can be neither yes nor no. The pattern decides
// short addresses (aaaa@x.example yes, r@example.com no).
const char* const kGivesUp = "(a+)+@x\\.example";
const char* const kLongAddress = "aaaaaaaaaaaaaaaaaaaaaaaa@bbbbbbbbbbbbbbbbbbbbbbbb";
// This one gives up on nearly every address.
const char* const kAlwaysGivesUp = "(.*)*@(.*)*x|.+";

Matcher labelled(const char* option, const char* value, std::unique_ptr<Criterion> c, bool exclude) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.values = {value};
  g.exclude = exclude;
  g.alternatives.push_back(std::move(c));
  m.add(std::move(g));
  return m;
}

TEST(MatchTest, TheGivingUpPatternsReallyGiveUp) {
  std::string s = kLongAddress;
  for (const char* p : {kGivesUp, kAlwaysGivesUp}) {
    boost::regex re(p, boost::regex::perl | boost::regex::icase);
    EXPECT_THROW(boost::regex_match(s, re), std::runtime_error) << p;
  }
  boost::regex re(kGivesUp, boost::regex::perl | boost::regex::icase);
  EXPECT_TRUE(boost::regex_match(std::string("aaaa@x.example"), re));
}

TEST(MatchTest, SelectorThatCannotBeEvaluatedDoesNotSelect) {
  Message msg = parsed(kLongAddress, {kLongAddress});
  Matcher sender = labelled("--sender", kGivesUp, make_sender(kGivesUp, true), false);
  Verdict v = sender.evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);
  Matcher rcpt = labelled("--recipient", kGivesUp, make_recipient(kGivesUp, true), false);
  v = rcpt.evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);
  Matcher always = labelled("--sender", kAlwaysGivesUp, make_sender(kAlwaysGivesUp, true), false);
  v = always.evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);
}

TEST(MatchTest, ExclusionThatCannotBeEvaluatedExcludes) {
  // Message side: the whole message is rejected.
  Message msg = parsed(kLongAddress, {"r@example.com"});
  Matcher sender = labelled("--sender", kGivesUp, make_sender(kGivesUp, true), true);
  Verdict v = sender.evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);
  // Recipient side: only that recipient is rejected.
  Message two = parsed("a@b.example", {kLongAddress, "r@example.com"});
  Matcher rcpt = labelled("--recipient", kGivesUp, make_recipient(kGivesUp, true), true);
  v = rcpt.evaluate(Subject{two, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  EXPECT_EQ(v.matched, (std::vector<bool>{false, true}));
  EXPECT_TRUE(v.undecided);
}

TEST(MatchTest, DecidedEvaluationIsNotUndecided) {
  Message msg = parsed("short@example.com", {"r@example.com"});
  Matcher m = labelled("--sender", kGivesUp, make_sender(kGivesUp, true), true);
  Verdict v = m.evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kSelected);
  EXPECT_FALSE(v.undecided);
  EXPECT_TRUE(m.undecided_criteria().empty());
}

TEST(MatchTest, UndecidedPatternsAreNamedOnce) {
  Message msg = parsed(kLongAddress, {kLongAddress});
  Matcher m = labelled("--sender", kGivesUp, make_sender(kGivesUp, true), true);
  m.evaluate(Subject{msg, 0, 0, nullptr});
  m.evaluate(Subject{msg, 0, 0, nullptr});
  ASSERT_EQ(m.undecided_criteria().size(), 1u);
  EXPECT_EQ(m.undecided_criteria()[0].label, std::string("--sender ") + kGivesUp);
  EXPECT_EQ(m.undecided_criteria()[0].cause, UndecidedCause::kPattern);
}

TEST(MatchTest, ExplainSaysUndecided) {
  Message msg = parsed(kLongAddress, {kLongAddress, "r@example.com"});
  Matcher m = labelled("--exclude-sender", kGivesUp, make_sender(kGivesUp, true), true);
  Verdict v = m.evaluate(Subject{msg, 0, 0, nullptr}, true);
  ASSERT_EQ(v.explain.size(), 1u);
  EXPECT_EQ(v.explain[0],
            std::string("--exclude-sender ") + kGivesUp + ": undecided (the pattern gave up on this input)");
  Matcher r = labelled("--exclude-recipient", kGivesUp, make_recipient(kGivesUp, true), true);
  v = r.evaluate(Subject{msg, 0, 0, nullptr}, true);
  ASSERT_EQ(v.explain.size(), 1u);
  EXPECT_EQ(v.explain[0], std::string("--exclude-recipient ") + kGivesUp +
                              ": passed for 1 of 2 recipients; undecided for 1 (the pattern gave up on this input)");
}

TEST(MatchTest, HeaderAndReasonPatternsThatGiveUpAreUndecided) {
  std::string long_value(200, 'a');
  Message msg = smtpd_message({});
  const char* pattern = "(a*)*b";
  Matcher header =
      labelled("--exclude-header", "Subject: (a*)*b", make_header(std::string("Subject: ") + pattern), true);
  SyntheticMessage synth;
  synth.arrival_time = 1;
  synth.sender = "a@b.example";
  synth.recipients.push_back({"r@example.com", "", false});
  synth.header_lines = {"Subject: " + long_value};
  std::string file = write_queue_file(synth);
  MemorySource src(file);
  RecordReader reader;
  Message with_header;
  std::string error;
  ParseOptions opt;
  opt.headers = true;
  ASSERT_TRUE(parse_queue_file(src, reader, with_header, error, opt)) << error;
  Verdict v = header.evaluate(Subject{with_header, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.undecided);

  Matcher reason = labelled("--exclude-reason", pattern, make_reason(pattern), true);
  std::vector<std::string> reasons = {long_value, "550 user unknown"};
  v = reason.evaluate(Subject{msg, 0, 0, &reasons});
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  EXPECT_EQ(v.matched, (std::vector<bool>{false, true}));
  EXPECT_TRUE(v.undecided);
  EXPECT_FALSE(v.reason_unknown);
}

TEST(MatchTest, ExclusionOfAnUnknownReasonExcludes) {
  Message msg = smtpd_message({});
  std::vector<std::string> reasons = {"", "Connection refused"};  // the first one in the active queue
  Matcher excl = labelled("--exclude-reason", "refused", make_reason("refused"), true);
  Verdict v = excl.evaluate(Subject{msg, 0, 0, &reasons}, true);
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);  // one unknown, one excluded
  EXPECT_TRUE(v.reason_unknown);
  EXPECT_FALSE(v.undecided);
  ASSERT_EQ(v.explain.size(), 1u);
  EXPECT_EQ(v.explain[0], "--exclude-reason refused: passed for 0 of 2 recipients; reason unknown for 1");
  std::vector<std::string> other = {"", "User unknown"};
  v = excl.evaluate(Subject{msg, 0, 0, &other});
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  EXPECT_EQ(v.matched, (std::vector<bool>{false, true}));
  v = excl.evaluate(Subject{msg, 0, 0, nullptr});  // no defer log at all
  EXPECT_EQ(v.kind, VerdictKind::kNoMatch);
  EXPECT_TRUE(v.reason_unknown);
  // A selector does not match an unknown reason either, and says so.
  Matcher sel = labelled("--reason", "refused", make_reason("refused"), false);
  v = sel.evaluate(Subject{msg, 0, 0, &reasons});
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  EXPECT_EQ(v.matched, (std::vector<bool>{false, true}));
  EXPECT_TRUE(v.reason_unknown);
}

}  // namespace
}  // namespace qpurge
