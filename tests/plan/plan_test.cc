// SPDX-License-Identifier: MIT
// plan_test.cc - planning over a spool, re-verification, plan files.
#include "qpurge/plan/plan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "qpurge/plan/plan_file.h"
#include "qpurge/select/content_match.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

using testing::message;
using testing::TestSpool;

class CollectSink : public PlanSink {
 public:
  void on_entry(PlanEntry&& e) override { entries.push_back(std::move(e)); }
  void on_mixed_skipped(PlanEntry&& e) override { mixed.push_back(std::move(e)); }
  void on_problem(const ScanRecord& r) override { problems.push_back(r.info.path() + ": " + r.error); }
  void on_content_problem(const FileInfo& info, const std::string& what) override {
    content_problems.push_back(info.path() + ": " + what);
  }
  std::vector<PlanEntry> entries, mixed;
  std::vector<std::string> problems, content_problems;
};

Matcher domain_matcher(const char* d) {
  Matcher m;
  CriterionGroup g;
  g.option = "--domain";
  g.values = {d};
  g.alternatives.push_back(make_domain(d));
  m.add(std::move(g));
  return m;
}

struct Planned {
  CollectSink sink;
  PlanCounts counts;
};

void plan(const TestSpool& spool, const Matcher& m, PlanOptions opt, Planned& out) {
  ScanOptions scan;
  scan.queue_directory = spool.root();
  scan.queues = {"incoming", "active", "deferred", "hold"};
  std::string error;
  ASSERT_TRUE(build_plan(scan, m, opt, out.sink, out.counts, error)) << error;
}

TEST(PlanTest, SelectsExactDomainAndCountsMixed) {
  TestSpool spool;
  spool.put_message("deferred", "10278A74127", message("a@x.example", {"r@example.com"}));
  spool.put_message("deferred", "20278A74127", message("a@x.example", {"r@notexample.com"}));
  spool.put_message("deferred", "30278A74127", message("a@x.example", {"r@example.com", "s@other.example"}));
  spool.put("deferred", "40278A74127", "broken");
  Planned p;
  plan(spool, domain_matcher("example.com"), PlanOptions{}, p);
  ASSERT_EQ(p.sink.entries.size(), 1u);
  EXPECT_EQ(p.sink.entries[0].id, "10278A74127");
  EXPECT_EQ(p.counts.mixed_skipped, 1u);
  EXPECT_EQ(p.counts.scan.unreadable, 1u);
  ASSERT_EQ(p.sink.problems.size(), 1u);
  EXPECT_EQ(p.sink.problems[0].rfind("deferred/4/40278A74127: not a queue file", 0), 0u);
}

TEST(PlanTest, MixedIncludeSelectsAndMarksThem) {
  TestSpool spool;
  spool.put_message("deferred", "30278A74127", message("a@x.example", {"r@example.com", "s@other.example"}));
  Planned p;
  PlanOptions opt;
  opt.mixed = MixedPolicy::kInclude;
  plan(spool, domain_matcher("example.com"), opt, p);
  ASSERT_EQ(p.sink.entries.size(), 1u);
  EXPECT_TRUE(p.sink.entries[0].mixed);
  EXPECT_EQ(p.sink.entries[0].matched_count(), 1u);
  EXPECT_EQ(p.counts.mixed_included, 1u);
}

TEST(PlanTest, ExplainReportsSkippedMixedMessages) {
  TestSpool spool;
  spool.put_message("deferred", "30278A74127", message("a@x.example", {"r@example.com", "s@other.example"}));
  Planned p;
  PlanOptions opt;
  opt.explain = true;
  plan(spool, domain_matcher("example.com"), opt, p);
  EXPECT_TRUE(p.sink.entries.empty());
  ASSERT_EQ(p.sink.mixed.size(), 1u);
  ASSERT_EQ(p.sink.mixed[0].explain.size(), 1u);
  EXPECT_EQ(p.sink.mixed[0].explain[0], "--domain example.com: passed for 1 of 2 recipients");
}

Matcher exclusion(const char* option, std::unique_ptr<Criterion> c) {
  Matcher m;
  CriterionGroup g;
  g.option = option;
  g.exclude = true;
  g.alternatives.push_back(std::move(c));
  m.add(std::move(g));
  return m;
}

TEST(PlanTest, CountsUndecidedMessagesAndSelectsNone) {
  TestSpool spool;
  // Boost gives up on the long sender: the exclusion cannot be decided.
  spool.put_message("deferred", "10278A74127",
                    message("aaaaaaaaaaaaaaaaaaaaaaaa@bbbbbbbbbbbbbbbbbbbbbbbb", {"r@example.com"}));
  spool.put_message("deferred", "20278A74127", message("b@x.example", {"r@example.com"}));
  Planned p;
  Matcher m = exclusion("--exclude-sender", make_sender("(a+)+@x\\.example", true));
  plan(spool, m, PlanOptions{}, p);
  ASSERT_EQ(p.sink.entries.size(), 1u);
  EXPECT_EQ(p.sink.entries[0].id, "20278A74127");
  EXPECT_EQ(p.counts.undecided, 1u);
  EXPECT_EQ(p.counts.reason_unknown, 0u);
  EXPECT_EQ(m.undecided_criteria().size(), 1u);
}

TEST(PlanTest, CountsUnknownReasonsAndExcludesThem) {
  TestSpool spool;  // no defer logs: every reason is unknown
  spool.put_message("deferred", "10278A74127", message("a@x.example", {"r@example.com"}));
  Planned p;
  plan(spool, exclusion("--exclude-reason", make_reason("refused")), PlanOptions{}, p);
  EXPECT_TRUE(p.sink.entries.empty());
  EXPECT_EQ(p.counts.reason_unknown, 1u);
  EXPECT_EQ(p.counts.undecided, 0u);
}

TEST(PlanTest, MixedSkippedWithoutExplainIsCountedOnly) {
  TestSpool spool;
  spool.put_message("deferred", "30278A74127", message("a@x.example", {"r@example.com", "s@other.example"}));
  Planned p;
  plan(spool, domain_matcher("example.com"), PlanOptions{}, p);
  EXPECT_EQ(p.counts.mixed_skipped, 1u);
  EXPECT_TRUE(p.sink.mixed.empty());
  EXPECT_TRUE(p.sink.entries.empty());
}

TEST(PlanTest, ReverifyAcceptsTheSameMessage) {
  TestSpool spool;
  QueueFileRereader rereader(spool.root());
  spool.put_message("deferred", "10278A74127", message("a@x.example", {"r@example.com"}));
  Planned p;
  Matcher m = domain_matcher("example.com");
  plan(spool, m, PlanOptions{}, p);
  ASSERT_EQ(p.sink.entries.size(), 1u);
  Verification v = reverify(rereader, spool.root(), p.sink.entries[0], m, PlanOptions{});
  EXPECT_EQ(v.kind, Verification::kSame) << v.why;
}

TEST(PlanTest, ReverifyNoticesEveryChange) {
  TestSpool spool;
  QueueFileRereader rereader(spool.root());
  Matcher m = domain_matcher("example.com");
  auto planned = [&](const char* id) {
    Planned p;
    plan(spool, m, PlanOptions{}, p);
    for (auto& e : p.sink.entries)
      if (e.id == id) return e;
    ADD_FAILURE() << id << " not planned";
    return PlanEntry();
  };
  std::string rel = spool.put_message("deferred", "10278A74127", message("a@x.example", {"r@example.com"}));
  PlanEntry e = planned("10278A74127");
  std::filesystem::remove(spool.root() + "/" + rel);
  EXPECT_EQ(reverify(rereader, spool.root(), e, m, PlanOptions{}).kind, Verification::kVanished);
  // Same name, another file (a reused short ID): a new inode.
  spool.put_message("deferred", "10278A74127", message("a@x.example", {"r@example.com"}, 1795344811));
  Verification v = reverify(rereader, spool.root(), e, m, PlanOptions{});
  EXPECT_EQ(v.kind, Verification::kChanged);
  EXPECT_NE(v.why.find("changed"), std::string::npos) << v.why;  // inode or arrival time: the inode may be reused
  // Same inode, another sender written in place.
  e = planned("10278A74127");
  {
    std::string path = spool.root() + "/" + rel;
    std::string content = write_queue_file(message("b@x.example", {"r@example.com"}, 1795344811));
    FILE* f = std::fopen(path.c_str(), "r+");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  }
  v = reverify(rereader, spool.root(), e, m, PlanOptions{});
  EXPECT_EQ(v.kind, Verification::kChanged);
  EXPECT_EQ(v.why, "different message (sender changed)");
  // Same message, recipient now delivered elsewhere: no longer matches.
  e = planned("10278A74127");
  {
    SyntheticMessage s = message("b@x.example", {"r@example.com"}, 1795344811);
    s.recipients[0].done = true;
    std::string content = write_queue_file(s);
    FILE* f = std::fopen((spool.root() + "/" + rel).c_str(), "r+");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  }
  v = reverify(rereader, spool.root(), e, m, PlanOptions{});
  EXPECT_EQ(v.kind, Verification::kChanged);
  EXPECT_EQ(v.why, "no longer matches");
}

// --mixed cancel never takes a mixed message from the active queue, whose
// file the queue manager has in memory (same_cancel in plan.cc); the same
// message in deferred is taken, and so is a whole match in active (deleted
// as without --mixed cancel).
TEST(PlanTest, ReverifyLeavesAMixedMessageInTheActiveQueueToTheQueueManager) {
  TestSpool spool;
  QueueFileRereader rereader(spool.root());
  spool.put_message("active", "10278A74127", message("a@x.example", {"r@example.com", "k@other.test"}));
  spool.put_message("deferred", "20278A74127", message("a@x.example", {"r@example.com", "k@other.test"}));
  spool.put_message("active", "30278A74127", message("a@x.example", {"r@example.com"}));
  PlanOptions opt;
  opt.mixed = MixedPolicy::kCancel;
  Matcher m = domain_matcher("example.com");
  Planned p;
  plan(spool, m, opt, p);
  ASSERT_EQ(p.sink.entries.size(), 3u);
  std::map<std::string, Verification> v;
  for (const PlanEntry& e : p.sink.entries) v[e.id] = reverify(rereader, spool.root(), e, m, opt);
  EXPECT_EQ(v["10278A74127"].kind, Verification::kChanged);
  EXPECT_EQ(v["10278A74127"].why, "in the active queue: the queue manager is delivering it");
  EXPECT_EQ(v["20278A74127"].kind, Verification::kSame) << v["20278A74127"].why;
  EXPECT_EQ(v["30278A74127"].kind, Verification::kSame) << v["30278A74127"].why;
}

TEST(PlanFileTest, RoundTripsExactBytes) {
  PlanHeader h;
  h.created = 1795344810;
  h.host = "mx1";
  h.queue_directory = "/var/spool/postfix";
  h.criteria = {{"--sender", {"odd\xff\x01@example.com"}}, {"--exclude-domain", {"our.example"}}};
  h.queues = {"deferred"};
  PlanEntry e;
  e.queue = "deferred";
  e.dir = "deferred/A";
  e.id = "A0278A74127";
  e.inode = 42;
  e.arrival_time = 1795344000;
  e.sender = "odd\xff\x01@example.com";
  e.recipients.push_back(PlanRecipient{"r@example.com", "", false, 300, true});
  std::string json = plan_to_json(h, {e});
  PlanHeader h2;
  std::vector<PlanEntry> e2;
  std::string error;
  ASSERT_TRUE(load_plan(json, h2, e2, error)) << error;
  EXPECT_EQ(h2.host, "mx1");
  ASSERT_EQ(h2.criteria.size(), 2u);
  EXPECT_EQ(h2.criteria[0].values[0], "odd\xff\x01@example.com");
  EXPECT_EQ(h2.criteria[1].option, "--exclude-domain");
  ASSERT_EQ(e2.size(), 1u);
  EXPECT_EQ(e2[0].sender, e.sender);
  EXPECT_EQ(e2[0].path(), "deferred/A/A0278A74127");
  EXPECT_EQ(e2[0].inode, 42u);
}

TEST(PlanFileTest, RefusesPathsOutsideTheQueue) {
  std::string bad = R"({"qpurge_plan": 1, "created": 1, "host": "h", "queue_directory": "/q",
    "config_directory": "", "action": "delete", "mixed": "skip", "regex": false, "queues": [],
    "criteria": [], "messages": [{"queue_name": "deferred", "queue_id": "A0278A74127",
    "path": "deferred/../../etc/A0278A74127", "inode": 1, "arrival_time": 1,
    "message_size": 1, "sender": "", "sender_hex": "", "recipients": []}]})";
  PlanHeader h;
  std::vector<PlanEntry> e;
  std::string error;
  EXPECT_FALSE(load_plan(bad, h, e, error));
  EXPECT_NE(error.find("invalid path"), std::string::npos);
  EXPECT_FALSE(load_plan("{not json", h, e, error));
  EXPECT_NE(error.find("cannot read plan"), std::string::npos);
}

SyntheticMessage with_content(const std::string& sender, std::vector<std::string> headers,
                              std::vector<std::string> body) {
  SyntheticMessage m = message(sender, {"r@example.com"});
  m.header_lines = std::move(headers);
  m.body_lines = std::move(body);
  return m;
}

TEST(PlanTest, ContentSelectorsReadTheContentInTheScan) {
  TestSpool spool;
  spool.put_message(
      "deferred", "10278A74127",
      with_content("a@x.example", {"Subject: =?UTF-8?Q?Cheap_p=C3=ADlls?=", "Message-ID: <1@x>"}, {"buy now"}));
  spool.put_message("deferred", "20278A74127", with_content("b@x.example", {"Subject: minutes"}, {"see you"}));
  // A Milter-edited file: its Subject is reached only through pointers.
  std::ifstream in(std::string(QPURGE_TEST_DATA) + "/queue/milter.qf", std::ios::binary);
  spool.put("deferred", "2F138A766A6", std::string(std::istreambuf_iterator<char>(in), {}));
  Matcher m;
  CriterionGroup g;
  g.option = "--subject";
  g.values = {"p\xc3\xadlls|subject changed"};
  g.alternatives.push_back(make_subject("p\xc3\xadlls|subject changed"));
  m.add(std::move(g));
  PlanOptions opt;
  opt.detail = true;
  Planned p;
  plan(spool, m, opt, p);
  ASSERT_EQ(p.sink.entries.size(), 2u);
  EXPECT_EQ(p.sink.entries[0].id, "10278A74127");
  EXPECT_TRUE(p.sink.entries[0].has_content);
  EXPECT_EQ(p.sink.entries[0].subject, "Cheap p\xc3\xadlls");
  EXPECT_EQ(p.sink.entries[0].message_id, "1@x");
  EXPECT_EQ(p.sink.entries[1].id, "2F138A766A6");
  EXPECT_EQ(p.counts.undecided, 0u);

  QueueFileRereader rereader(spool.root());
  Verification v = reverify(rereader, spool.root(), p.sink.entries[0], m, opt);
  EXPECT_EQ(v.kind, Verification::kSame) << v.why;
}

TEST(PlanTest, AContentExclusionThatCannotBeParsedExcludes) {
  TestSpool spool;
  spool.put_message("deferred", "10278A74127",
                    with_content("a@x.example", {"Subject: s", "MIME-Version: 1.0", "Content-Type: multipart/mixed"},
                                 {"--x", "", "text", "--x--"}));
  spool.put_message("deferred", "20278A74127", with_content("b@x.example", {"Subject: s"}, {"text"}));
  spool.put_message("deferred", "30278A74127", with_content("c@x.example", {"Subject: s"}, {"keep me"}));
  Matcher m = exclusion("--exclude-body", make_body("keep me"));
  CriterionGroup all;
  all.option = "--all";
  all.alternatives.push_back(make_all());
  m.add(std::move(all));
  Planned p;
  plan(spool, m, PlanOptions{}, p);
  ASSERT_EQ(p.sink.entries.size(), 1u);
  EXPECT_EQ(p.sink.entries[0].id, "20278A74127");
  EXPECT_EQ(p.counts.undecided, 1u);
  EXPECT_EQ(m.undecided_criteria().size(), 1u);
  EXPECT_EQ(p.sink.content_problems,
            std::vector<std::string>{"deferred/1/10278A74127: multipart without a boundary: mixed"});
}

// --attachment reads the MIME structure, which --body-limit does not cut: a
// message with more text than the limit is decided, not counted as cut.
TEST(PlanTest, AttachmentSelectorsAreDecidedPastTheBodyLimit) {
  TestSpool spool;
  const std::vector<std::string> mime = {"Subject: s", "MIME-Version: 1.0",
                                         "Content-Type: multipart/mixed; boundary=b"};
  const std::vector<std::string> text = {"--b", "Content-Type: text/plain", "", std::string(500, 'x')};
  std::vector<std::string> body = text;
  body.push_back("--b--");
  spool.put_message("deferred", "10278A74127", with_content("a@x.example", mime, body));
  body = text;
  body.insert(body.end(), {"--b", "Content-Type: application/zip; name=\"a.zip\"", "", "UEsDBA==", "--b--"});
  spool.put_message("deferred", "20278A74127", with_content("b@x.example", mime, body));
  Matcher m;
  CriterionGroup g;
  g.option = "--attachment";
  g.values = {"*.zip"};
  g.alternatives.push_back(make_attachment("*.zip"));
  m.add(std::move(g));
  EXPECT_EQ(m.needs_content(), ContentNeed::kParts);
  PlanOptions opt;
  opt.body_limit = 100;
  Planned p;
  plan(spool, m, opt, p);
  ASSERT_EQ(p.sink.entries.size(), 1u);
  EXPECT_EQ(p.sink.entries[0].id, "20278A74127");
  EXPECT_EQ(p.counts.undecided, 0u);
  EXPECT_EQ(p.counts.content_cut, 0u);
  EXPECT_TRUE(p.sink.content_problems.empty());
}

}  // namespace
}  // namespace qpurge
