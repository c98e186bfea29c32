// SPDX-License-Identifier: MIT
// address_test.cc - the internal and external address forms (as Postfix's
// quote_822_local and postqueue -j make them) and IDN domain forms.
#include "qpurge/select/address.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

TEST(AddressTest, ExternalFormTable) {
  struct Case {
    const char* label;
    const char* internal;
    const char* external;
  } cases[] = {
      {"plain", "alice@example.com", "alice@example.com"},
      {"dots inside", "a.b.c@example.com", "a.b.c@example.com"},
      {"space", "a b@example.com", "\"a b\"@example.com"},
      {"quote", "a\"b@example.com", "\"a\\\"b\"@example.com"},
      {"backslash", "a\\b@example.com", "\"a\\\\b\"@example.com"},
      {"leading dot", ".a@example.com", "\".a\"@example.com"},
      {"trailing dot", "a.@example.com", "\"a.\"@example.com"},
      {"double dot", "a..b@example.com", "\"a..b\"@example.com"},
      {"at in local part", "x@evil@example.com", "\"x@evil\"@example.com"},
      {"special", "a(b)@example.com", "\"a(b)\"@example.com"},
      {"no at", "root", "root"},
      {"no at, space", "a b", "\"a b\""},
      {"empty local part", "@example.com", "\"\"@example.com"},
      {"null sender", "", ""},
      {"non-ASCII bytes are ordinary", "j\xc3\xb6rg@ex\xc3\xa4mple.de", "j\xc3\xb6rg@ex\xc3\xa4mple.de"},
      {"non-UTF-8 byte", "a\xff@example.com", "a\xff@example.com"},
      {"control character", "a\tb@example.com", "\"a\tb\"@example.com"},
      {"source route", "@relay.example:a b@example.com", "@relay.example:\"a b\"@example.com"},
  };
  for (const auto& c : cases) EXPECT_EQ(external_address(c.internal), c.external) << c.label;
}

TEST(AddressTest, InternalFormTable) {
  struct Case {
    const char* label;
    const char* typed;
    const char* internal;
  } cases[] = {
      {"plain", "alice@example.com", "alice@example.com"},
      {"quoted space", "\"a b\"@example.com", "a b@example.com"},
      {"unquoted space stays", "a b@example.com", "a b@example.com"},
      {"escaped quote", "\"a\\\"b\"@example.com", "a\"b@example.com"},
      {"escaped backslash", "\"a\\\\b\"@example.com", "a\\b@example.com"},
      {"at inside quotes", "\"x@evil\"@example.com", "x@evil@example.com"},
      {"needless quotes", "\"ab\"@example.com", "ab@example.com"},
      {"dots at the ends", "\".a.\"@example.com", ".a.@example.com"},
      {"no at", "\"a b\"", "a b"},
      {"stray quote is literal", "a\"b@example.com", "a\"b@example.com"},
      {"two quoted strings stay", "\"a\".\"b\"@example.com", "\"a\".\"b\"@example.com"},
      {"escape before the closing quote", "\"a\\\"@example.com", "\"a\\\"@example.com"},
      {"lone quote", "\"@example.com", "\"@example.com"},
      {"empty", "", ""},
      {"non-ASCII", "\"j\xc3\xb6 rg\"@ex\xc3\xa4mple.de", "j\xc3\xb6 rg@ex\xc3\xa4mple.de"},
  };
  for (const auto& c : cases) EXPECT_EQ(internal_address(c.typed), c.internal) << c.label;
}

TEST(AddressTest, ExternalThenInternalIsTheStoredAddress) {
  for (const char* a : {"a b@example.com", "a\"b@example.com", "a\\b@example.com", ".a@example.com",
                        "x@evil@example.com", "plain@example.com", "a..b@example.com"})
    EXPECT_EQ(internal_address(external_address(a)), a) << a;
}

TEST(AddressTest, NullSenderSpellings) {
  EXPECT_TRUE(is_null_sender_spelling("MAILER-DAEMON"));
  EXPECT_TRUE(is_null_sender_spelling("mailer-daemon"));
  EXPECT_TRUE(is_null_sender_spelling("<>"));
  EXPECT_FALSE(is_null_sender_spelling(""));
  EXPECT_FALSE(is_null_sender_spelling("MAILER-DAEMON@example.com"));
}

TEST(AddressTest, DomainAsciiForm) {
  EXPECT_EQ(domain_ascii_form("b\xc3\xbc"
                              "cher.example"),
            "xn--bcher-kva.example");
  EXPECT_EQ(domain_ascii_form("B\xc3\x9c"
                              "CHER.Example"),
            "xn--bcher-kva.example");  // Unicode case
  EXPECT_EQ(domain_ascii_form("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
  EXPECT_EQ(domain_ascii_form("Example.COM"), "example.com");
  EXPECT_EQ(domain_ascii_form("bad\xff.example"), "");  // not UTF-8: no A-label form
}

}  // namespace
}  // namespace qpurge
