// SPDX-License-Identifier: MIT
// text_test.cc - line splitting and trimming shared by the parsers of
// postsuper's, postconf's and the bounce daemon's text.
#include "qpurge/util/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qpurge {
namespace {

TEST(TextTest, SplitsLinesWithoutTheirEndings) {
  std::string_view text = "one\ntwo\r\n\nlast";
  std::vector<std::string> lines;
  std::string_view line;
  while (next_line(text, line)) lines.emplace_back(line);
  std::vector<std::string> want = {"one", "two", "", "last"};
  EXPECT_EQ(lines, want);
}

TEST(TextTest, TrimsTrailingNewlinesOnly) {
  EXPECT_EQ(trim_end("value\r\n\n"), "value");
  EXPECT_EQ(trim_end(" value \n"), " value ");
  EXPECT_EQ(trim_end("/var/spool/postfix \n", "\n "), "/var/spool/postfix");
  EXPECT_EQ(trim_end("\n\n"), "");
}

TEST(TextTest, TrimsBothEnds) {
  EXPECT_EQ(trim(" \t<a@b>\t ", " \t"), "<a@b>");
  EXPECT_EQ(trim("a b", " \t"), "a b");
  EXPECT_EQ(trim(" \t \t", " \t"), "");
  EXPECT_EQ(trim("", " \t"), "");
  EXPECT_EQ(trim("\va\v", " \t"), "\va\v");
}

}  // namespace
}  // namespace qpurge
