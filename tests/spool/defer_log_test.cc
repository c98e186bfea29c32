// SPDX-License-Identifier: MIT
// defer_log_test.cc - defer log entries and their join to recipients.
#include "qpurge/spool/defer_log.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

// As Postfix 3.7 writes it (backwards_bounce_logfile_compatibility = yes).
const char kLog[] =
    "<bob@example.com>: connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n"
    "recipient=bob@example.com\n"
    "offset=249\n"
    "dsn_orig_rcpt=rfc822;bob@example.com\n"
    "status=4.4.1\n"
    "action=delayed\n"
    "reason=connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n"
    "\n"
    "\n"
    "<carol@other.example>: host mx.other.example said: 450 mailbox busy\n"
    "recipient=carol@other.example\n"
    "original_recipient=Carol@Other.example\n"
    "offset=318\n"
    "status=4.2.0\n"
    "action=delayed\n"
    "reason=host mx.other.example said: 450 mailbox busy\n"
    "\n";

TEST(DeferLogTest, ParsesEntriesWithOffsets) {
  auto entries = parse_defer_log(kLog);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].recipient, "bob@example.com");
  EXPECT_TRUE(entries[0].has_offset);
  EXPECT_EQ(entries[0].offset, 249u);
  EXPECT_EQ(entries[0].reason, "connect to 127.0.0.1[127.0.0.1]:9: Connection refused");
  EXPECT_EQ(entries[1].original_recipient, "Carol@Other.example");
  EXPECT_EQ(entries[1].status, "4.2.0");
}

TEST(DeferLogTest, ToleratesGarbage) {
  auto entries = parse_defer_log("junk\n\noffset=notanumber\nreason=x\n\n=\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(entries[0].has_offset);
  EXPECT_TRUE(parse_defer_log("").empty());
}

TEST(DeferLogTest, HashedPathsLikePostfix) {
  EXPECT_EQ(defer_log_path("E327EA72116", 1), "defer/E/E327EA72116");
  EXPECT_EQ(defer_log_path("E327EA72116", 0), "defer/E327EA72116");
  EXPECT_EQ(defer_log_path("E327EA72116", 2), "defer/E/3/E327EA72116");
  // A long ID hashes on its microseconds, as %05X.
  EXPECT_EQ(defer_log_path("4jXQvf56qXz1bcCJ", 1), "defer/B/4jXQvf56qXz1bcCJ");
}

}  // namespace
}  // namespace qpurge
