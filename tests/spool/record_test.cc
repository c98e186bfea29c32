// SPDX-License-Identifier: MIT
// record_test.cc - the raw record layer: varint lengths and their limits.
#include "qpurge/spool/record.h"

#include <gtest/gtest.h>

namespace qpurge {
namespace {

TEST(RecordTest, EncodesLengthLeastSignificantGroupFirst) {
  std::string out;
  append_record(out, 'L', std::string(2048, 'x'));
  ASSERT_GE(out.size(), 3u);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(out[2]), 0x10);
}

TEST(RecordTest, RoundTripsLengths) {
  for (std::size_t len : {0u, 1u, 127u, 128u, 16383u, 16384u, 70000u}) {
    std::string file;
    append_record(file, 'N', std::string(len, 'a'));
    MemorySource src(file);
    RecordReader reader;
    reader.reset(&src);
    Record r;
    ASSERT_EQ(reader.read(0, r), RecordStatus::kOk) << len;
    EXPECT_EQ(r.type, 'N');
    EXPECT_EQ(r.payload.size(), len);
    EXPECT_EQ(r.next_offset, file.size());
    EXPECT_EQ(reader.read(r.next_offset, r), RecordStatus::kEof);
  }
}

TEST(RecordTest, RejectsLengthOfMoreThanFiveBytes) {
  std::string file = "N\x80\x80\x80\x80\x80\x01";
  MemorySource src(file);
  RecordReader reader;
  reader.reset(&src);
  Record r;
  EXPECT_EQ(reader.read(0, r), RecordStatus::kError);
  EXPECT_EQ(reader.error(), "record length has more than 5 bytes");
}

TEST(RecordTest, RejectsEofInsideLengthAndPayload) {
  MemorySource a(std::string_view("N\x80", 2));
  RecordReader reader;
  reader.reset(&a);
  Record r;
  EXPECT_EQ(reader.read(0, r), RecordStatus::kError);
  EXPECT_NE(reader.error().find("premature end of file"), std::string::npos);
  MemorySource b(
      std::string_view("N\x05"
                       "abc",
                       5));
  reader.reset(&b);
  EXPECT_EQ(reader.read(0, r), RecordStatus::kError);
  EXPECT_NE(reader.error().find("premature end of file"), std::string::npos);
}

TEST(RecordTest, EnforcesTheLengthLimit) {
  std::string file;
  append_record(file, 'S', std::string(100, 'a'));
  MemorySource src(file);
  RecordReader reader;
  reader.reset(&src);
  Record r;
  EXPECT_EQ(reader.read(0, r, 99), RecordStatus::kError);
  EXPECT_NE(reader.error().find("exceeds limit"), std::string::npos);
  EXPECT_EQ(reader.read(0, r, 100), RecordStatus::kOk);
}

TEST(RecordTest, ReadsLargeSourceInWindows) {
  // A 1 MB file: reading a record near the end must not read the whole file.
  std::string file;
  append_record(file, 'N', std::string(1 << 20, 'b'));
  std::size_t tail = file.size();
  append_record(file, 'E', "");
  MemorySource src(file);
  RecordReader reader;
  reader.reset(&src);
  Record r;
  ASSERT_EQ(reader.read(tail, r), RecordStatus::kOk);
  EXPECT_EQ(r.type, 'E');
  EXPECT_EQ(reader.reads(), 1u);
}

}  // namespace
}  // namespace qpurge
