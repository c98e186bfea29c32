// SPDX-License-Identifier: MIT
// qshape_table_test.cc - qshape's arithmetic and layout, case by case. The
// comparison with the real qshape on a real queue is tests/integration/it_shape.py.
#include "qpurge/report/qshape_table.h"

#include <gtest/gtest.h>

#include "qpurge/plan/plan.h"

namespace qpurge {
namespace {

constexpr std::int64_t kNow = 1795344810;

ShapeTable table(ShapeOptions o = {}) {
  o.now = kNow;
  return ShapeTable(o);
}

TEST(QshapeTableTest, NormalisesLikeQshape) {
  EXPECT_EQ(ShapeTable::normalise("Bob@Example.COM"), "example.com");
  EXPECT_EQ(ShapeTable::normalise(""), "MAILER-DAEMON");
  EXPECT_EQ(ShapeTable::normalise("a@b@c.example"), "c.example");
  EXPECT_EQ(ShapeTable::normalise("localuser"), "localuser");
  EXPECT_EQ(ShapeTable::normalise("x@a..b"), "a.b");
  EXPECT_EQ(ShapeTable::normalise("x@a...b"), "a..b");  // s/\.\././g is not a fixpoint
  EXPECT_EQ(ShapeTable::normalise("x@.example.com."), "example.com");
  EXPECT_EQ(ShapeTable::normalise("x@."), ".");
}

TEST(QshapeTableTest, BucketBoundaries) {
  ShapeTable t = table();
  auto age = [&](double minutes) { return t.bucket(kNow - static_cast<std::int64_t>(minutes * 60)); };
  EXPECT_EQ(age(0), 1);
  EXPECT_EQ(age(-10), 1);  // from the future
  EXPECT_EQ(age(4.99), 1);
  EXPECT_EQ(age(5), 2);
  EXPECT_EQ(age(9.99), 2);
  EXPECT_EQ(age(10), 3);
  EXPECT_EQ(age(20), 4);
  EXPECT_EQ(age(640), 9);
  EXPECT_EQ(age(1280), 10);
  EXPECT_EQ(age(100000), 10);
  ShapeOptions lin;
  lin.linear = true;
  ShapeTable l = table(lin);
  EXPECT_EQ(l.bucket(kNow - 4 * 60), 1);
  EXPECT_EQ(l.bucket(kNow - 5 * 60), 2);
  EXPECT_EQ(l.bucket(kNow - 14 * 60), 3);
  EXPECT_EQ(l.bucket(kNow - 10000 * 60), 10);
}

TEST(QshapeTableTest, EmptyTableIsHeaderAndTotal) {
  EXPECT_EQ(table().render_text(),
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                  TOTAL  0  0  0  0  0  0   0   0   0    0     0\n");
}

TEST(QshapeTableTest, CountsAddressesAndOrdersRows) {
  ShapeTable t = table();
  t.add(kNow - 60, "a@x", {"r1@example.com", "r2@example.com", "r3@b.example"});
  t.add(kNow - 30 * 60, "", {"r@b.example"});
  t.add(kNow - 30 * 60, "", {"r@aa.example"});
  std::string s = t.render_text();
  EXPECT_EQ(s,
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                  TOTAL  5  3  0  0  2  0   0   0   0    0     0\n"
            "                              b.example  2  1  0  0  1  0   0   0   0    0     0\n"
            "                            example.com  2  2  0  0  0  0   0   0   0    0     0\n"
            "                             aa.example  1  0  0  0  1  0   0   0   0    0     0\n");
}

TEST(QshapeTableTest, SenderModeAndParents) {
  ShapeOptions o;
  o.senders = true;
  ShapeTable t = table(o);
  t.add(kNow, "", {"x@y"});
  t.add(kNow, "bob@Example.com", {"x@y", "z@y"});
  std::string s = t.render_text();
  EXPECT_NE(s.find(" MAILER-DAEMON  1  1"), std::string::npos) << s;
  EXPECT_NE(s.find(" example.com  1  1"), std::string::npos) << s;

  ShapeOptions p;
  p.parents = true;
  p.min_subdomains = 2;
  ShapeTable q = table(p);
  q.add(kNow, "a@b", {"x@a.mx.example.com", "y@b.mx.example.com", "z@c.example.com"});
  s = q.render_text();
  EXPECT_NE(s.find(" .mx.example.com  2"), std::string::npos) << s;  // two children
  EXPECT_NE(s.find(" .example.com  3"), std::string::npos) << s;     // .mx and c
  EXPECT_EQ(s.find(" .com "), std::string::npos) << s;               // a TLD is never a parent
}

TEST(QshapeTableTest, LongNamesAreCutFromTheLeft) {
  ShapeTable t = table();
  std::string d(50, 'a');
  t.add(kNow, "s@x", {"r@" + d + ".example"});
  std::string s = t.render_text();
  // The domain column is 80 - (4 * 3 + 3 * 4 + 5 + 6 ... ) wide; a longer
  // name keeps its right end behind a '+'.
  EXPECT_NE(s.find("+aaaa"), std::string::npos) << s;
  EXPECT_NE(s.find("aaa.example  1"), std::string::npos) << s;
}

TEST(QshapeTableTest, NotShownByQshapeIsCountedApart) {
  ShapeTable t = table();
  t.add(kNow, "a@b", {"r@x"}, qshape_skip_reason(0100710, 'C', 'T', 1));
  t.add(kNow, "a@b", {"r@x"}, qshape_skip_reason(0100700, 'C', 'L', 1));
  t.add(kNow, "a@b", {}, qshape_skip_reason(0100700, 'C', 'T', 0));
  EXPECT_EQ(t.render_text(), table().render_text());
  EXPECT_EQ(t.note(),
            "(3 messages not shown by qshape: 1 force-expired, 1 no pending recipient, "
            "1 second record not the arrival time)");
  EXPECT_EQ(qshape_skip_reason(0100700, 'C', 'T', 1), "");
  EXPECT_EQ(qshape_skip_reason(0100755, 'C', 'T', 1), "mode 0755");
  EXPECT_EQ(qshape_skip_reason(0100744, 'T', 'S', 1), "maildrop file");
}

TEST(QshapeTableTest, JsonHasTheSameRows) {
  ShapeTable t = table();
  t.add(kNow, "a@b", {"r@example.com"});
  std::string j = t.render_json();
  EXPECT_NE(j.find("\"columns\": [\"T\", \"5\", \"10\""), std::string::npos) << j;
  EXPECT_NE(j.find("{\"domain\": \"TOTAL\", \"counts\": [1, 1, 0"), std::string::npos) << j;
  EXPECT_NE(j.find("{\"domain\": \"example.com\", \"counts\": [1, 1, 0"), std::string::npos) << j;
}

// The whole document, byte for byte, as it was before it went through
// JsonWriter: key order, separators, a byte that is not UTF-8, the note's
// reasons, the final newline.
TEST(QshapeTableTest, JsonDocumentIsExact) {
  ShapeOptions o;
  o.buckets = 3;
  o.linear = true;
  ShapeTable t = table(o);
  t.add(kNow, "a@b",
        {"r@example.com",
         "x@\xff"
         "bad.example"});
  t.add(kNow - 600, "a@b", {"s@Example.COM"});
  t.add(kNow, "a@b", {"r@x"}, qshape_skip_reason(0100710, 'C', 'T', 1));
  t.add(kNow, "a@b", {}, qshape_skip_reason(0100700, 'C', 'T', 0));
  EXPECT_EQ(t.render_json(),
            "{\"kind\": \"recipient\", \"bucket_minutes\": 5, \"linear\": true, "
            "\"reference_time\": 1795344810, \"columns\": [\"T\", \"5\", \"10\", \"10+\"], "
            "\"rows\": [{\"domain\": \"TOTAL\", \"counts\": [3, 2, 0, 1]}, "
            "{\"domain\": \"example.com\", \"counts\": [2, 1, 0, 1]}, "
            "{\"domain\": \"\\udcffbad.example\", \"counts\": [1, 1, 0, 0]}], "
            "\"not_shown_by_qshape\": {\"force-expired\": 1, \"no pending recipient\": 1}}\n");
}

}  // namespace
}  // namespace qpurge
