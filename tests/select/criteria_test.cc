// SPDX-License-Identifier: MIT
// criteria_test.cc - the criteria one by one: refusals of bad values,
// addresses as typed or quoted, international domains, the original
// recipient, sizes, recipient counts, queue IDs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/regex.hpp>

#include "qpurge/select/match.h"
#include "qpurge/spool/record.h"
#include "support/matchers.h"
#include "support/queue_writer.h"

namespace qpurge {
namespace {

TEST(CriteriaTest, EmptySenderIsRefused) {
  try {
    make_sender("", false);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "empty address: use MAILER-DAEMON or <> for the null sender");
  }
  EXPECT_THROW(make_sender("", true), std::invalid_argument);
  EXPECT_THROW(make_recipient("", false), std::invalid_argument);
  EXPECT_THROW(make_original_recipient("", false), std::invalid_argument);
  EXPECT_NO_THROW(make_sender("<>", false));
  EXPECT_NO_THROW(make_sender("Mailer-Daemon", false));
}

TEST(CriteriaTest, BadPrefixLengthsAreRefused) {
  for (const char* bad : {"10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/+8", "10.0.0.0/0x8", "10.0.0.0/ 8",
                          "10.0.0.0/0008", "2001:db8::/129", "2001:db8::/-0", "+10.0.0.0/8"}) {
    try {
      make_client_address(bad);
      ADD_FAILURE() << bad << ": accepted";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.rfind("bad prefix length: expected a number from 0 to ", 0) == 0 ||
                  what.rfind("not an IP address or CIDR block: ", 0) == 0)
          << bad << ": " << what;
    }
  }
  try {
    make_client_address("10.0.0.0/-1");
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad prefix length: expected a number from 0 to 32");
  }
  // What a fail2ban <ip> tag could hold: refused, the message names no value
  // (the caller names it, escaped).
  for (const char* hostile : {"x;touch /tmp/PWNED", "1.2.3.4 --all", "$(id)", "", "1.2.3", "192.0.2.7\n",
                              "fe80::1%eth0", "-1.2.3.4", "[192.0.2.7"}) {
    try {
      make_client_address(hostile);
      ADD_FAILURE() << hostile << ": accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(),
                   "not an IP address or CIDR block: expected an IPv4 or IPv6 address (192.0.2.7, 2001:db8::7), "
                   "optionally with /BITS (198.51.100.0/24)")
          << hostile;
    }
  }
  EXPECT_NO_THROW(make_client_address("[2001:db8::7]"));
  EXPECT_NO_THROW(make_client_address("192.0.2.7"));
  EXPECT_NO_THROW(make_client_address("10.0.0.0/0"));
  EXPECT_NO_THROW(make_client_address("10.0.0.0/32"));
  EXPECT_NO_THROW(make_client_address("2001:db8::/128"));
}

TEST(CriteriaTest, AddressesMatchAsTypedOrQuoted) {
  struct Case {
    const char* label;
    const char* typed;
    const char* stored;
    bool match;
  } cases[] = {
      {"quoted, as mailq shows", "\"a b\"@example.com", "a b@example.com", true},
      {"unquoted, as stored", "a b@example.com", "a b@example.com", true},
      {"quoted, any case", "\"A B\"@Example.com", "a b@example.com", true},
      {"needless quotes", "\"ab\"@example.com", "ab@example.com", true},
      {"escaped quote", "\"a\\\"b\"@example.com", "a\"b@example.com", true},
      {"at in the local part", "\"x@evil\"@example.com", "x@evil@example.com", true},
      {"quotes are not wildcards", "\"a b\"@example.com", "ab@example.com", false},
      {"stray quote is literal", "a\"b@example.com", "ab@example.com", false},
      {"other domain", "\"a b\"@example.com", "a b@example.org", false},
      {"empty domain", "user@", "user@", true},
      {"empty domain is a domain", "user@", "user@example.com", false},
      {"no domain", "root", "root", true},
      {"no domain is not any domain", "root", "root@example.com", false},
  };
  for (const auto& c : cases) {
    Matcher r = one("--recipient", make_recipient(c.typed, false));
    EXPECT_EQ(verdict(r, parsed("s@x.example", {c.stored})) == VerdictKind::kSelected, c.match) << c.label;
    Matcher s = one("--sender", make_sender(c.typed, false));
    EXPECT_EQ(verdict(s, parsed(c.stored, {"r@x.example"})) == VerdictKind::kSelected, c.match) << c.label;
  }
}

TEST(CriteriaTest, InternationalDomainsMatchInBothForms) {
  const std::string u =
      "b\xc3\xbc"
      "cher.example";  // bücher.example
  const std::string upper_u =
      "B\xc3\x9c"
      "CHER.example";
  const std::string a = "xn--bcher-kva.example";
  struct Case {
    std::string label;
    std::string pattern;
    std::string domain;
    bool match;
  } cases[] = {
      {"U pattern, U domain", u, u, true},
      {"U pattern, A domain", u, a, true},
      {"U pattern, A domain upper case", u, "XN--BCHER-KVA.EXAMPLE", true},
      {"A pattern, U domain", a, u, true},
      {"A pattern, upper-case U domain", a, upper_u, true},
      {"upper-case U pattern, U domain", upper_u, u, true},
      {"subdomains, U pattern", "." + u, "mx." + a, true},
      {"subdomains, A pattern", "." + a, "mx." + u, true},
      {"subdomains only", "." + u, a, false},
      {"other name", u, "xn--bcher-kva.example.evil", false},
      {"lookalike", u, "bucher.example", false},
      {"not convertible, literal", "bad\xff.example", "bad\xff.example", true},
      {"not convertible, other", "bad\xff.example", "bad.example", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(DomainPattern(c.pattern).matches_domain(c.domain) == Truth::kYes, c.match) << c.label;
  // Every domain criterion uses it.
  Message msg = smtpd_message({{"client_name", "mx." + a}, {"helo_name", u}});
  EXPECT_EQ(verdict_at(group("--client-name", one_of(make_client_name("." + u))), msg, 0), VerdictKind::kSelected);
  EXPECT_EQ(verdict_at(group("--helo", one_of(make_helo(a))), msg, 0), VerdictKind::kSelected);
  Message addr = parsed("j@" + u, {"r@" + a});
  EXPECT_EQ(verdict(one("--sender-domain", make_sender_domain(a)), addr), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--recipient-domain", make_recipient_domain(u)), addr), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--domain", make_domain(upper_u)), addr), VerdictKind::kSelected);
  // And the domain of an exact address, not its local part.
  EXPECT_EQ(verdict(one("--sender", make_sender("J@" + a, false)), addr), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--recipient", make_recipient("r@" + u, false)), addr), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--recipient", make_recipient("x@" + u, false)), addr), VerdictKind::kNoMatch);
}

// A real queue file (tests/data/queue, see its README.md).
Message real(const std::string& name) {
  std::string path = std::string(QPURGE_TEST_DATA) + "/queue/" + name + ".qf";
  int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0) << path;
  struct stat st;
  ::fstat(fd, &st);
  FdSource src(fd, static_cast<std::uint64_t>(st.st_size));
  RecordReader reader;
  Message msg;
  std::string error;
  EXPECT_TRUE(parse_queue_file(src, reader, msg, error)) << error;
  ::close(fd);
  return msg;
}

TEST(CriteriaTest, OriginalRecipientIsTheAddressBeforeRewriting) {
  // dup_rcpt: alias1@ and alias2@dup.example rewritten by
  // recipient_canonical_maps to same@example.com, plus same@example.com.
  Message msg = real("dup_rcpt");
  ASSERT_EQ(msg.recipients.size(), 3u);
  Verdict v = one("--original-recipient", make_original_recipient("Alias1@dup.example", false))
                  .evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.kind, VerdictKind::kMixed);
  EXPECT_EQ(v.matched, (std::vector<bool>{true, false, false}));
  v = one("--original-recipient", make_original_recipient("alias[0-9]@dup\\.example", true))
          .evaluate(Subject{msg, 0, 0, nullptr});
  EXPECT_EQ(v.matched, (std::vector<bool>{true, true, false}));
  // --recipient sees the rewritten address of all three.
  EXPECT_EQ(verdict(one("--recipient", make_recipient("same@example.com", false)), msg), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--recipient", make_recipient("alias1@dup.example", false)), msg), VerdictKind::kNoMatch);
  // Without rewriting the original recipient is the recipient.
  Message plain = real("plain");
  EXPECT_EQ(verdict(one("--original-recipient", make_original_recipient("carol@other.example", false)), plain),
            VerdictKind::kMixed);
}

TEST(CriteriaTest, OriginalRecipientFallsBackToTheRecipient) {
  Message msg = smtpd_message({});  // R records without O records
  ASSERT_FALSE(msg.recipients[0].has_original);
  EXPECT_EQ(verdict(one("--original-recipient", make_original_recipient("a@example.com", false)), msg),
            VerdictKind::kMixed);
}

TEST(CriteriaTest, SizeRuleIsOneFunction) {
  Message msg = smtpd_message({});
  EXPECT_EQ(reported_message_size(msg, 1234), 1234);  // no size record: the file size
}

TEST(CriteriaTest, RecipientCountCountsPendingRecipientsOnly) {
  Message two = parsed("a@x.example", {"r@example.com", "s@example.com"});
  EXPECT_EQ(verdict(one("--min-recipients", make_min_recipients(2)), two), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--min-recipients", make_min_recipients(3)), two), VerdictKind::kNoMatch);
  EXPECT_EQ(verdict(one("--max-recipients", make_max_recipients(2)), two), VerdictKind::kSelected);
  EXPECT_EQ(verdict(one("--max-recipients", make_max_recipients(1)), two), VerdictKind::kNoMatch);
  EXPECT_THROW(make_min_recipients(-1), std::invalid_argument);
}

TEST(CriteriaTest, QueueIdIsOneOfTheSet) {
  Message msg = parsed("a@x.example", {"r@example.com"});
  Matcher m = one("--id", make_queue_id({"20278A74127", "10278A74127"}));
  EXPECT_EQ(m.evaluate(Subject{msg, 0, 0, nullptr, nullptr, "10278A74127"}).kind, VerdictKind::kSelected);
  EXPECT_EQ(m.evaluate(Subject{msg, 0, 0, nullptr, nullptr, "10278a74127"}).kind, VerdictKind::kNoMatch);
  EXPECT_EQ(m.evaluate(Subject{msg, 0, 0, nullptr, nullptr, "30278A74127"}).kind, VerdictKind::kNoMatch);
  EXPECT_THROW(make_queue_id({}), std::invalid_argument);
  try {
    make_queue_id({"10278A74127", "BAD ID"});
    FAIL() << "accepted a bad ID";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "not a queue ID: 'BAD ID'");
  }
}

}  // namespace
}  // namespace qpurge
