// SPDX-License-Identifier: MIT
// escape_test.cc - nothing from a queue file reaches a terminal raw; JSON
// keeps every byte.
#include "qpurge/util/escape.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(EscapeTest, TextEscapesControlsAndInvalidBytes) {
  EXPECT_EQ(text_escaped("plain@example.com"), "plain@example.com");
  EXPECT_EQ(text_escaped("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(text_escaped("a\nb\r"), "a\\x0ab\\x0d");
  EXPECT_EQ(text_escaped("back\\slash"), "back\\\\slash");
  EXPECT_EQ(text_escaped("\xff@x"), "\\xff@x");
  EXPECT_EQ(text_escaped("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 stays
  EXPECT_EQ(text_escaped("\xc2\x9b"
                         "31m"),
            "\\xc2\\x9b31m");  // C1 CSI escaped
}

TEST(EscapeTest, JsonIsLossless) {
  EXPECT_EQ(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json("\t\n\x01\x7f"), "\"\\t\\n\\u0001\\u007f\"");
  EXPECT_EQ(json("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json("\xff\xc3"), "\"\\udcff\\udcc3\"");
  EXPECT_EQ(json("\xed\xa0\x80"), "\"\\udced\\udca0\\udc80\"");  // encoded surrogate is invalid
}

}  // namespace
}  // namespace qpurge
