// SPDX-License-Identifier: MIT
// queue_file_test.cc - the queue file parser: layout, pointers, corruption.
//
// Real files made by Postfix are checked against postqueue -j and postcat in
// real_queue_files_test.cc; here the files are built record by record, so
// each test controls exactly the layout it exercises.
#include "qpurge/spool/queue_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>

#include "support/queue_writer.h"

namespace qpurge {
namespace {

SyntheticMessage sample() {
  SyntheticMessage m;
  m.arrival_time = 1795344810;
  m.arrival_usec = 426869;
  m.sender = "alice@sender.example";
  m.fullname = "root";
  m.recipients = {{"bob@example.com", "", false}, {"carol@other.example", "carol", false}};
  m.header_lines = {"Subject: hello", "From: someone@example.com"};
  m.body_lines = {"body mentions example.com", ""};
  return m;
}

bool parse(const std::string& file, Message& msg, std::string& error, ParseOptions opt = {}) {
  MemorySource src(file);
  RecordReader reader;
  return parse_queue_file(src, reader, msg, error, opt);
}

std::string ptr(long target) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%15ld", target);
  return buf;
}

TEST(QueueFileTest, ParsesEnvelopeOfCleanupFile) {
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(write_queue_file(sample()), msg, error)) << error;
  EXPECT_TRUE(msg.has_size_record);
  EXPECT_EQ(msg.arrival_time, 1795344810);
  EXPECT_EQ(msg.arrival_usec, 426869);
  EXPECT_EQ(msg.sender_str(), "alice@sender.example");
  ASSERT_EQ(msg.recipients.size(), 2u);
  EXPECT_EQ(msg.str(msg.recipients[0].address), "bob@example.com");
  EXPECT_EQ(msg.str(msg.recipients[1].address), "carol@other.example");
  EXPECT_EQ(msg.str(msg.recipients[1].original), "carol");
  EXPECT_EQ(msg.str(msg.recipients[0].dsn_orig_rcpt), "rfc822;bob@example.com");
  EXPECT_EQ(msg.attribute_value("rewrite_context"), "local");
  EXPECT_EQ(msg.attribute("dsn_orig_rcpt"), nullptr);  // belongs to the recipient
  EXPECT_EQ(msg.second_record_type, 'T');
}

TEST(QueueFileTest, RecipientOffsetIsTheRRecord) {
  std::string file = write_queue_file(sample());
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(file, msg, error)) << error;
  for (const auto& r : msg.recipients) EXPECT_EQ(file[r.offset], 'R');
}

TEST(QueueFileTest, EmptySenderIsTheNullSender) {
  SyntheticMessage m = sample();
  m.sender = "";
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(write_queue_file(m), msg, error)) << error;
  EXPECT_TRUE(msg.has_sender);
  EXPECT_EQ(msg.sender_str(), "");
}

TEST(QueueFileTest, DoneRecipientsAreKeptApart) {
  SyntheticMessage m = sample();
  m.recipients[0].done = true;
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(write_queue_file(m), msg, error)) << error;
  ASSERT_EQ(msg.recipients.size(), 1u);
  EXPECT_EQ(msg.str(msg.recipients[0].address), "carol@other.example");
  ASSERT_EQ(msg.done.size(), 1u);
  EXPECT_EQ(msg.str(msg.done[0].address), "bob@example.com");
}

TEST(QueueFileTest, ReadsRecipientsInExtractedSegment) {
  SyntheticMessage m = sample();
  m.recipients.clear();
  m.extracted_recipients = {{"t1@example.com", "", false}};
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(write_queue_file(m), msg, error)) << error;
  ASSERT_EQ(msg.recipients.size(), 1u);
  EXPECT_EQ(msg.str(msg.recipients[0].address), "t1@example.com");
}

TEST(QueueFileTest, NeverReadsTheContentAsRecords) {
  // A body line that looks like a recipient record must not become one.
  SyntheticMessage m = sample();
  std::string fake;
  append_record(fake, 'R', "evil@example.com");
  m.body_lines = {fake};
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(write_queue_file(m), msg, error)) << error;
  EXPECT_EQ(msg.recipients.size(), 2u);
}

// Builds the layout a Milter chgfrom + addrcpt + delrcpt leaves: the S
// record overwritten by a pointer into the heap after E, a heap recipient
// reached through the dummy pointer before M, a canceled recipient.
std::string milter_edited_file() {
  std::string f;
  append_record(f, 'C', std::string(95, ' '));  // patched below
  append_record(f, 'T', "1795344810 0");
  append_record(f, 'A', "create_time=1795344810");
  const std::size_t sender_ptr = f.size();
  append_record(f, 'p', ptr(0));  // becomes -> heap sender
  const std::size_t after_sender = f.size();
  append_record(f, 'O', "a@m.example");
  append_record(f, 'R', "a@m.example");
  append_record(f, 'O', "b@m.example");
  append_record(f, '/', "b@m.example");
  const std::size_t rcpt_ptr = f.size();
  append_record(f, 'p', ptr(0));  // becomes -> heap recipient
  const std::size_t mesg = f.size();
  append_record(f, 'M', "");
  const std::size_t data_offset = f.size();
  append_record(f, 'N', "Subject: x");
  append_record(f, 'N', "");
  append_record(f, 'N', "body");
  const std::size_t xtra = f.size();
  append_record(f, 'X', "");
  append_record(f, 'E', "");
  // Heap.
  const std::size_t heap_sender = f.size();
  append_record(f, 'S', "changed@milter-sender.example");
  append_record(f, 'p', ptr(static_cast<long>(after_sender)));
  const std::size_t heap_rcpt = f.size();
  append_record(f, 'O', "added@milter-added.example");
  append_record(f, 'R', "added@milter-added.example");
  append_record(f, 'p', ptr(static_cast<long>(mesg)));
  auto patch = [&f](std::size_t at, long target) {
    std::string rec;
    append_record(rec, 'p', ptr(target));
    f.replace(at, rec.size(), rec);
  };
  patch(sender_ptr, static_cast<long>(heap_sender));
  patch(rcpt_ptr, static_cast<long>(heap_rcpt));
  char size[128];
  std::snprintf(size, sizeof size, "%15ld %15ld %15ld %15ld %15ld %15ld", static_cast<long>(xtra - data_offset),
                static_cast<long>(data_offset), 3L, 0L, static_cast<long>(xtra - data_offset), 0L);
  std::string c;
  append_record(c, 'C', size);
  f.replace(0, c.size(), c);
  return f;
}

TEST(QueueFileTest, FollowsPointerToHeapSender) {
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(milter_edited_file(), msg, error)) << error;
  EXPECT_EQ(msg.sender_str(), "changed@milter-sender.example");
}

TEST(QueueFileTest, FollowsPointerToHeapRecipientAndKeepsCanceledApart) {
  Message msg;
  std::string error;
  std::string file = milter_edited_file();
  ASSERT_TRUE(parse(file, msg, error)) << error;
  ASSERT_EQ(msg.recipients.size(), 2u);
  EXPECT_EQ(msg.str(msg.recipients[0].address), "a@m.example");
  EXPECT_EQ(msg.str(msg.recipients[1].address), "added@milter-added.example");
  EXPECT_GT(msg.recipients[1].offset, msg.end_offset);  // in the heap after E
  ASSERT_EQ(msg.canceled.size(), 1u);
  EXPECT_EQ(msg.str(msg.canceled[0].address), "b@m.example");
}

TEST(QueueFileTest, ParsesMaildropFileWithoutSizeRecord) {
  std::string f;
  append_record(f, 'T', "1795344810 0");
  append_record(f, 'F', "");
  append_record(f, 'S', "root");
  append_record(f, 'R', "rcptb");
  append_record(f, 'M', "");
  append_record(f, 'N', "Subject: x");
  append_record(f, 'N', "");
  append_record(f, 'X', "");
  append_record(f, 'R', "u1");
  append_record(f, 'E', "");
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(f, msg, error)) << error;
  EXPECT_FALSE(msg.has_size_record);
  EXPECT_EQ(msg.sender_str(), "root");
  EXPECT_EQ(msg.recipients.size(), 2u);
}

TEST(QueueFileTest, CollectsHeadersOnlyWhenAsked) {
  SyntheticMessage m = sample();
  m.header_lines = {"Subject: hello", "X-Long: part one", "\tpart two", "From: a@b"};
  std::string file = write_queue_file(m);
  Message msg;
  std::string error;
  ASSERT_TRUE(parse(file, msg, error)) << error;
  EXPECT_TRUE(msg.headers.empty());
  ParseOptions opt;
  opt.headers = true;
  ASSERT_TRUE(parse(file, msg, error, opt)) << error;
  ASSERT_EQ(msg.headers.size(), 3u);
  EXPECT_EQ(msg.str(msg.headers[1].text), "X-Long: part one\n\tpart two");
  EXPECT_EQ(msg.recipients.size(), 2u);
}

// --- Files that must be skipped, never matched ---------------------------

// The numbers of a record as std::from_chars() reads them: the full range
// of a signed 64-bit value, leading zeros, blanks between; a number out of
// range or with no digit is not read (the time record is then bad).
TEST(QueueFileTest, ReadsNumbersAsFromCharsDoes) {
  struct Case {
    const char* payload;
    bool ok;
    std::int64_t time, usec;
  };
  const Case cases[] = {
      {"1795344810 426869", true, 1795344810, 426869},
      {"  \t 1795344810\t  7", true, 1795344810, 7},
      {"                1                2", true, 1, 2},
      {"0000000000000000000000001795344810 0", true, 1795344810, 0},
      {"9223372036854775807 0", true, INT64_MAX, 0},
      {"-9223372036854775808 -1", true, INT64_MIN, -1},
      {"-0 00", true, 0, 0},
      {"1 9223372036854775808", true, 1, 0},  // the second is out of range: not read
      {"9223372036854775808 0", false, 0, 0},
      {"-9223372036854775809 0", false, 0, 0},
      {"99999999999999999999 0", false, 0, 0},
      {"18446744073709551616 0", false, 0, 0},
      {"- 1", false, 0, 0},
      {"+1 0", false, 0, 0},
      {"x", false, 0, 0},
      {"", false, 0, 0},
  };
  for (const Case& c : cases) {
    std::string f;
    append_record(f, 'T', c.payload);
    append_record(f, 'S', "a@b");
    append_record(f, 'M', "");
    append_record(f, 'X', "");
    append_record(f, 'E', "");
    Message msg;
    std::string error;
    const bool ok = parse(f, msg, error);
    EXPECT_EQ(ok, c.ok) << '"' << c.payload << "\": " << error;
    if (!ok || !c.ok) continue;
    EXPECT_EQ(msg.arrival_time, c.time) << c.payload;
    EXPECT_EQ(msg.arrival_usec, c.usec) << c.payload;
  }
}

struct CorruptCase {
  const char* label;
  std::string file;
  const char* error;  // expected substring
};

std::vector<CorruptCase> corrupt_cases() {
  std::string good = write_queue_file(sample());
  std::vector<CorruptCase> cases;
  cases.push_back({"empty file", "", "empty file"});
  cases.push_back({"not a queue file", "hello world", "not a queue file"});
  cases.push_back({"truncated before E", good.substr(0, good.size() - 2), "no end record"});
  {
    std::string f = good;
    f.insert(97 + 1, "\x80\x80\x80\x80\x80");  // T's length gets 6 bytes
    cases.push_back({"bad length", f, "more than 5 bytes"});
  }
  {
    std::string f;
    append_record(f, 'T', "1 0");
    append_record(f, 'S', "a@b");
    const std::size_t loop = f.size();
    append_record(f, 'p', ptr(static_cast<long>(loop)));
    cases.push_back({"pointer loop", f, "pointer loop"});
  }
  {
    std::string f;
    append_record(f, 'T', "1 0");
    append_record(f, 'p', ptr(100000));
    cases.push_back({"pointer past end", f, "past end of file"});
  }
  {
    std::string f;
    append_record(f, 'T', "1 0");
    append_record(f, 'S', "a@b");
    append_record(f, 'N', "not allowed here");
    cases.push_back({"unexpected record", f, "unexpected record type 'N' in envelope"});
  }
  {
    std::string f;
    append_record(f, 'T', "1 0");
    append_record(f, 'S', "a@b");
    append_record(f, 'S', "c@d");
    cases.push_back({"second sender", f, "second sender"});
  }
  {
    std::string f = good;
    // Make the size record's data size one byte short of the X record.
    std::size_t pos = f.find_first_not_of(' ', 2);
    std::size_t end = f.find(' ', pos);
    long size = std::stol(f.substr(pos, end - pos));
    std::string repl = std::to_string(size - 1);
    repl.insert(0, end - pos - repl.size(), ' ');
    f.replace(pos, end - pos, repl);
    cases.push_back({"content skip off", f, "did not land"});
  }
  {
    std::string f;
    append_record(f, 'T', "1 0");
    append_record(f, 'M', "");
    append_record(f, 'X', "");
    append_record(f, 'R', "a@b");
    append_record(f, 'E', "");
    cases.push_back({"no sender", f, "no sender record"});
  }
  return cases;
}

TEST(QueueFileTest, SkipsCorruptFilesWithAReason) {
  for (const auto& c : corrupt_cases()) {
    Message msg;
    std::string error;
    EXPECT_FALSE(parse(c.file, msg, error)) << c.label;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.label << ": " << error;
  }
}

TEST(QueueFileTest, EveryTruncationIsAnErrorNeverAMessage) {
  std::string good = milter_edited_file();
  for (std::size_t len = 0; len < good.size(); ++len) {
    Message msg;
    std::string error;
    std::string cut = good.substr(0, len);
    // A cut that ends exactly after E would still reach every pointer target?
    // No: the heap lies after E, so the pointers then point past the end.
    EXPECT_FALSE(parse(cut, msg, error)) << "length " << len;
  }
}

}  // namespace
}  // namespace qpurge
