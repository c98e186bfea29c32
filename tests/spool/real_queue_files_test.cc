// SPDX-License-Identifier: MIT
// real_queue_files_test.cc - the parser on real queue files made by Postfix
// (tests/data/queue, see its README.md), judged by what Postfix itself said
// of each file: postqueue -j (NAME.json) and postcat -v -o (NAME.postcat).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "qpurge/plan/plan.h"
#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_file.h"
#include "support/files.h"

namespace qpurge {
namespace {

using testing::slurp;

const char* const kCases[] = {
    "plain",    "sendmail_t", "null_sender",    "bounce", "done_rcpt", "hold",     "expired", "milter",
    "redirect", "bcc",        "content_filter", "large",  "sasl",      "maildrop", "long_id", "content_filter_main",
    "dup_rcpt", "utf8"};

std::string data(const std::string& name, const char* ext) {
  return std::string(QPURGE_TEST_DATA) + "/queue/" + name + ext;
}

struct Parsed {
  Message msg;
  std::string file;
  bool ok = false;
  std::string error;
  std::uint64_t reads = 0;
};

Parsed parse(const std::string& name) {
  Parsed p;
  int fd = ::open(data(name, ".qf").c_str(), O_RDONLY);
  EXPECT_GE(fd, 0) << name;
  struct stat st;
  ::fstat(fd, &st);
  FdSource src(fd, static_cast<std::uint64_t>(st.st_size));
  RecordReader reader;
  p.ok = parse_queue_file(src, reader, p.msg, p.error);
  p.reads = reader.reads();
  ::close(fd);
  p.file = slurp(data(name, ".qf"));
  return p;
}

// What postcat -v -o printed: (offset, kind, value) for the records we read.
std::multiset<std::tuple<std::uint64_t, std::string, std::string>> postcat(const std::string& name) {
  std::multiset<std::tuple<std::uint64_t, std::string, std::string>> out;
  std::istringstream in(slurp(data(name, ".postcat")));
  std::regex line(R"(^\s*(\d+) (sender|recipient|done_recipient|canceled_recipient): ?(.*)$)");
  std::string l;
  std::smatch m;
  while (std::getline(in, l))
    if (std::regex_match(l, m, line)) out.emplace(std::stoull(m[1]), m[2], m[3]);
  return out;
}

TEST(RealQueueFilesTest, EveryFileParses) {
  for (const char* name : kCases) {
    Parsed p = parse(name);
    EXPECT_TRUE(p.ok) << name << ": " << p.error;
  }
}

TEST(RealQueueFilesTest, RecordsEqualPostcat) {
  for (const char* name : kCases) {
    Parsed p = parse(name);
    ASSERT_TRUE(p.ok) << name;
    std::multiset<std::tuple<std::uint64_t, std::string, std::string>> ours;
    // postcat -v prints the sender at the offset where it really is.
    std::uint64_t sender_offset = 0;
    for (const auto& r : p.msg.recipients) ours.emplace(r.offset, "recipient", std::string(p.msg.str(r.address)));
    for (const auto& r : p.msg.done) ours.emplace(r.offset, "done_recipient", std::string(p.msg.str(r.address)));
    for (const auto& r : p.msg.canceled)
      ours.emplace(r.offset, "canceled_recipient", std::string(p.msg.str(r.address)));
    auto theirs = postcat(name);
    std::multiset<std::tuple<std::uint64_t, std::string, std::string>> their_rcpts;
    std::string their_sender;
    bool have_sender = false;
    for (const auto& t : theirs) {
      if (std::get<1>(t) == "sender") {
        their_sender = std::get<2>(t);
        have_sender = true;
        sender_offset = std::get<0>(t);
      } else {
        their_rcpts.insert(t);
      }
    }
    EXPECT_EQ(ours, their_rcpts) << name;
    EXPECT_TRUE(have_sender) << name;
    EXPECT_EQ(std::string(p.msg.sender_str()), their_sender) << name;
    EXPECT_EQ(p.file[sender_offset], 'S') << name;
  }
}

TEST(RealQueueFilesTest, EnvelopeEqualsPostqueueJson) {
  for (const char* name : kCases) {
    std::string text = slurp(data(name, ".json"));
    if (text.find('{') == std::string::npos) continue;  // maildrop: captured with the instance stopped
    nlohmann::json j = nlohmann::json::parse(text);
    Parsed p = parse(name);
    ASSERT_TRUE(p.ok) << name;
    EXPECT_EQ(p.msg.arrival_time, j["arrival_time"].get<std::int64_t>()) << name;
    FileInfo info;
    info.file_size = p.file.size();
    EXPECT_EQ(reported_message_size(info, p.msg), j["message_size"].get<std::int64_t>()) << name;
    std::string sender(p.msg.sender_str());
    EXPECT_EQ(sender.empty() ? "MAILER-DAEMON" : sender, j["sender"].get<std::string>()) << name;
    std::set<std::string> ours, theirs;
    for (const auto& r : p.msg.recipients) ours.emplace(p.msg.str(r.address));
    for (const auto& r : j["recipients"]) theirs.insert(r["address"].get<std::string>());
    // postqueue -j also lists a redirect target (from the defer log).
    if (p.msg.has_redirect) theirs.erase(std::string(p.msg.str(p.msg.redirect_to)));
    EXPECT_EQ(ours, theirs) << name;
  }
}

TEST(RealQueueFilesTest, MilterEditsAreReachedThroughPointers) {
  Parsed p = parse("milter");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.msg.sender_str(), "changed@milter-sender.example");
  // No S record is reachable in file order before E: the sender sits in the heap.
  ASSERT_EQ(p.msg.canceled.size(), 1u);
  EXPECT_EQ(p.msg.str(p.msg.canceled[0].address), "delme@example.com");
  bool added = false;
  for (const auto& r : p.msg.recipients)
    if (p.msg.str(r.address) == "added@milter-added.example") {
      added = true;
      EXPECT_GT(r.offset, p.msg.end_offset);
    }
  EXPECT_TRUE(added);
}

TEST(RealQueueFilesTest, SendmailDashTRecipientsAreInTheExtractedSegment) {
  Parsed p = parse("sendmail_t");
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.msg.recipients.size(), 3u);
  for (const auto& r : p.msg.recipients)
    EXPECT_GT(r.offset, static_cast<std::uint64_t>(p.msg.data_offset + p.msg.data_size));
}

TEST(RealQueueFilesTest, DoneRecipientIsNotPending) {
  Parsed p = parse("done_rcpt");
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.msg.done.size(), 1u);
  EXPECT_EQ(p.msg.str(p.msg.done[0].address), "root@mx.test.invalid");
  ASSERT_EQ(p.msg.recipients.size(), 1u);
  EXPECT_EQ(p.msg.str(p.msg.recipients[0].address), "far@example.com");
}

TEST(RealQueueFilesTest, DeferLogJoinsByOffset) {
  Parsed p = parse("done_rcpt");
  ASSERT_TRUE(p.ok);
  auto entries = parse_defer_log(slurp(data("done_rcpt", ".defer")));
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0].offset, p.msg.recipients[0].offset);
  EXPECT_NE(entries[0].reason.find("Connection refused"), std::string::npos);
}

TEST(RealQueueFilesTest, NamedAttributesOfAnSmtpdSubmission) {
  Parsed p = parse("sasl");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.msg.attribute_value("sasl_username"), "bob@mx.test.invalid");
  EXPECT_EQ(p.msg.attribute_value("client_address"), "127.0.0.1");
  EXPECT_EQ(p.msg.attribute_value("helo_name"), "client.test.invalid");
  Parsed local = parse("plain");
  EXPECT_EQ(local.msg.attribute("client_address"), nullptr);  // sendmail: no client
}

TEST(RealQueueFilesTest, ContentFilterRedirectAndBcc) {
  Parsed f = parse("content_filter");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.msg.str(f.msg.content_filter), "smtp:[127.0.0.1]:10025");
  Parsed r = parse("redirect");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.msg.str(r.msg.redirect_to), "target@redirect.example");
  Parsed b = parse("bcc");
  ASSERT_TRUE(b.ok);
  std::set<std::string> rcpts;
  for (const auto& x : b.msg.recipients) rcpts.emplace(b.msg.str(x.address));
  EXPECT_EQ(rcpts, (std::set<std::string>{"to@example.com", "copy@bcc.example"}));
}

TEST(RealQueueFilesTest, ContentFilterBeforeArrivalTime) {
  Parsed p = parse("content_filter_main");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.msg.second_record_type, 'L');  // qshape would not count this file
  EXPECT_FALSE(p.msg.str(p.msg.content_filter).empty());
}

TEST(RealQueueFilesTest, SameFinalAddressInSeveralRecipientRecords) {
  Parsed p = parse("dup_rcpt");
  ASSERT_TRUE(p.ok);
  int same = 0;
  for (const auto& r : p.msg.recipients) same += p.msg.str(r.address) == "same@example.com";
  EXPECT_EQ(same, 3);
}

TEST(RealQueueFilesTest, LargeMessageCostsAFewPositionedReads) {
  Parsed p = parse("large");
  ASSERT_TRUE(p.ok);
  EXPECT_GT(p.file.size(), 1000000u);
  EXPECT_LE(p.reads, 3u);  // the envelope, then past the content to X..E
}

TEST(RealQueueFilesTest, MaildropFileHasNoSizeRecord) {
  Parsed p = parse("maildrop");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_FALSE(p.msg.has_size_record);
  EXPECT_EQ(p.msg.sender_str(), "root");
  ASSERT_EQ(p.msg.recipients.size(), 2u);
  EXPECT_EQ(p.msg.str(p.msg.recipients[0].address), "rcptb");
}

}  // namespace
}  // namespace qpurge
