// SPDX-License-Identifier: MIT
// json_writer_test.cc - the one JSON writer: commas, nesting, lossless strings.
#include "qpurge/util/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "qpurge/util/check.h"

namespace qpurge {
namespace {

TEST(JsonWriterTest, WritesNestedValuesWithItsSeparators) {
  std::string s;
  JsonWriter w(s);
  w.begin_object().field("a", 1).field("b", true).key("c").begin_array().value("x").null().end_array();
  w.key("d").begin_object().end_object().end_object();
  EXPECT_EQ(s, "{\"a\": 1, \"b\": true, \"c\": [\"x\", null], \"d\": {}}");
  EXPECT_TRUE(w.complete());
  EXPECT_EQ(nlohmann::json::parse(s)["c"][0], "x");
}

TEST(JsonWriterTest, StringsAreLossless) {
  std::string s;
  JsonWriter(s).begin_object().field("k", std::string("caf\xc3\xa9 \x01 \xff\"\\")).end_object();
  EXPECT_EQ(s, "{\"k\": \"caf\xc3\xa9 \\u0001 \\udcff\\\"\\\\\"}");
}

TEST(JsonWriterTest, MisuseIsABug) {
  std::string s;
  JsonWriter w(s);
  w.begin_object();
  EXPECT_THROW(w.value("no key"), InternalError);
  EXPECT_THROW(w.end_array(), InternalError);
  EXPECT_FALSE(w.complete());
}

}  // namespace
}  // namespace qpurge
