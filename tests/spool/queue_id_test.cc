// SPDX-License-Identifier: MIT
// queue_id_test.cc - short and long queue IDs as Postfix makes them.
#include "qpurge/spool/queue_id.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

TEST(QueueIdTest, AcceptsRealShortIds) {
  EXPECT_TRUE(is_queue_id("8972BA74095"));
  EXPECT_TRUE(is_queue_id("E327EA72116"));
  EXPECT_EQ(queue_id_inode("8972BA74095"), 0xA74095u);
}

TEST(QueueIdTest, AcceptsRealLongIds) {
  EXPECT_TRUE(is_queue_id("4jXQvf56qXz1bcCJ"));
  EXPECT_FALSE(is_short_queue_id("4jXQvf56qXz1bcCJ"));
}

TEST(QueueIdTest, RejectsWhatPostfixWouldNotName) {
  struct Case {
    const char* label;
    const char* id;
  } cases[] = {
      {"empty", ""},
      {"too short", "ABCDE"},
      {"lower-case hex", "e327ea72116"},
      {"microseconds out of range", "FFFFFA72116"},
      {"temp file name", "123456.789"},
      {"space", "E327EA 72116"},
      {"mailq flag", "E327EA72116*"},
      {"forced-expire flag", "E327EA72116#"},
      {"path", "../E327EA72116"},
      {"long id with vowel", "4jXQvf56qXz1bcaJ"},
      {"long id without separator", "4jXQvf56qX1bcCJ"},
  };
  for (const auto& c : cases) EXPECT_FALSE(is_queue_id(c.id)) << c.label;
}

TEST(QueueIdTest, MicrosecondsOfEitherForm) {
  EXPECT_EQ(queue_id_microseconds("E327EA72116"), 0xE327Eu);
  EXPECT_EQ(queue_id_microseconds("4jXQvf56qXz1bcCJ"), 0xB0278u);  // "56qX" in base 52
  EXPECT_EQ(queue_id_microseconds("not_an_id"), std::nullopt);
}

TEST(QueueIdTest, QueueIdOkIsPostfixsRule) {
  EXPECT_TRUE(queue_id_ok("abc_DEF123"));
  EXPECT_FALSE(queue_id_ok("abc-def"));
  EXPECT_FALSE(queue_id_ok(std::string(256, 'A')));
}

TEST(QueueIdTest, KnowsTheMessageQueues) {
  EXPECT_TRUE(is_message_queue("deferred"));
  EXPECT_TRUE(is_message_queue("maildrop"));
  EXPECT_FALSE(is_message_queue("corrupt"));
  EXPECT_FALSE(is_message_queue("defer"));
  EXPECT_FALSE(is_message_queue("../deferred"));
}

}  // namespace
}  // namespace qpurge
