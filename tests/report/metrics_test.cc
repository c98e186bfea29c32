// SPDX-License-Identifier: MIT
// metrics_test.cc - the shape as Prometheus metrics: HELP and TYPE lines,
// counts by queue, domain and age bucket that add up, --top folding into
// domain="other", hostile bytes in domains escaped, and the engine writing
// it to the --output file (or failing whole).
#include "qpurge/report/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "qpurge/app/cli.h"
#include "qpurge/app/purge.h"
#include "qpurge/util/escape.h"
#include "support/fake_postfix.h"
#include "support/fake_system.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

constexpr std::int64_t kNow = 1795344810;

ShapeOptions shape(bool senders = false) {
  ShapeOptions so;
  so.senders = senders;
  so.now = kNow;
  return so;
}

// The samples of the text format: "name{labels}" -> value. Every line is
// either a comment or a sample.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double sum_of(const std::map<std::string, double>& s, const std::string& prefix) {
  double n = 0;
  for (const auto& [key, value] : s)
    if (key.compare(0, prefix.size(), prefix) == 0) n += value;
  return n;
}

TEST(MetricsTest, EveryMetricHasHelpAndTypeAndEveryQueueItsTotals) {
  QueueMetrics m(shape(), 20);
  m.add_queue("deferred");
  m.add_queue("hold");
  m.add("incoming", kNow, "s@s.test", {});  // no pending recipient: a message, no address
  m.add("hold", kNow, "s@s.test", {"r@x.test"});
  const std::string text = m.render();
  for (const char* name : {"qpurge_queue_recipients", "qpurge_queue_messages", "qpurge_queue_oldest_seconds",
                           "qpurge_scan_unreadable_files"}) {
    EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << name << "\n" << text;
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " gauge\n"), std::string::npos) << name;
  }
  auto s = samples(text);
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"deferred\"}"), 0);
  EXPECT_EQ(s.at("qpurge_queue_oldest_seconds{queue=\"deferred\"}"), 0);
  EXPECT_EQ(s.at("qpurge_scan_unreadable_files{queue=\"hold\"}"), 0);
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"incoming\"}"), 1);
  EXPECT_EQ(sum_of(s, "qpurge_queue_recipients{"), 1);
  EXPECT_NE(text.find("by recipient domain"), std::string::npos);
}

TEST(MetricsTest, AFamilyWithoutSamplesIsLeftOut) {
  QueueMetrics m(shape(), 20);
  m.add_queue("deferred");
  const std::string text = m.render();
  EXPECT_EQ(text.find("# TYPE qpurge_queue_recipients gauge"), std::string::npos) << text;  // prometheus-cpp's way
  EXPECT_NE(text.find("qpurge_queue_messages{queue=\"deferred\"} 0\n"), std::string::npos) << text;
}

TEST(MetricsTest, CountsAddressesByQueueDomainAndAgeAndTheyAddUp) {
  QueueMetrics m(shape(), 20);
  m.add("deferred", kNow - 60, "a@s.test", {"x@Example.COM", "y@example.com", "z@other.test"});
  m.add("deferred", kNow - 7 * 60, "a@s.test", {"x@example.com"});
  m.add("deferred", kNow - 30 * 86400, "a@s.test", {"x@example.com"});  // past the last bound
  m.add("hold", kNow - 3600, "a@s.test", {"h@example.com"});
  auto s = samples(m.render());
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"example.com\",queue=\"deferred\"}"), 2);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"other.test\",queue=\"deferred\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"10\",domain=\"example.com\",queue=\"deferred\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"+Inf\",domain=\"example.com\",queue=\"deferred\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"80\",domain=\"example.com\",queue=\"hold\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"deferred\"}"), 3);
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"hold\"}"), 1);
  EXPECT_EQ(sum_of(s, "qpurge_queue_recipients{"), 6);  // every pending recipient, once
  EXPECT_EQ(s.at("qpurge_queue_oldest_seconds{queue=\"deferred\"}"), 30 * 86400);
  EXPECT_EQ(s.at("qpurge_queue_oldest_seconds{queue=\"hold\"}"), 3600);
  EXPECT_EQ(s.size(), 5u + 2 * 3);  // no zero series
}

TEST(MetricsTest, SenderShapeCountsMessagesBySenderDomain) {
  QueueMetrics m(shape(true), 20);
  m.add("deferred", kNow, "", {"a@x.test", "b@x.test"});
  m.add("deferred", kNow, "bounce@Lists.Example", {"a@x.test"});
  const std::string text = m.render();
  auto s = samples(text);
  EXPECT_EQ(s.at("qpurge_queue_sender_messages{age=\"5\",domain=\"MAILER-DAEMON\",queue=\"deferred\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_sender_messages{age=\"5\",domain=\"lists.example\",queue=\"deferred\"}"), 1);
  EXPECT_EQ(sum_of(s, "qpurge_queue_sender_messages{"), s.at("qpurge_queue_messages{queue=\"deferred\"}"));
  EXPECT_NE(text.find("by sender domain"), std::string::npos);
}

TEST(MetricsTest, TopKeepsTheBiggestDomainsOverAllQueuesAndSumsTheRestAsOther) {
  QueueMetrics m(shape(), 2);
  for (int i = 0; i < 3; ++i) m.add("deferred", kNow, "s@s.test", {"r@big.test"});
  m.add("hold", kNow, "s@s.test", {"r@second.test", "q@second.test"});  // 2, in another queue
  m.add("deferred", kNow, "s@s.test", {"r@b-small.test", "r@a-small.test"});
  m.add("hold", kNow, "s@s.test", {"r@a-small.test"});  // a-small: 2, as second.test; ties by name
  auto s = samples(m.render());
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"big.test\",queue=\"deferred\"}"), 3);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"a-small.test\",queue=\"deferred\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"a-small.test\",queue=\"hold\"}"), 1);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"other\",queue=\"deferred\"}"), 1);  // b-small
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"5\",domain=\"other\",queue=\"hold\"}"), 2);      // second
  EXPECT_EQ(s.count("qpurge_queue_recipients{age=\"5\",domain=\"second.test\",queue=\"hold\"}"), 0u);
  EXPECT_EQ(sum_of(s, "qpurge_queue_recipients{"), 8);  // folding loses nothing
}

TEST(MetricsTest, HostileBytesInADomainAreEscapedAndTheFileStaysValidUtf8) {
  QueueMetrics m(shape(), 20);
  const std::string domain = "a\"b\\c\nd\xff}e.test";
  m.add("deferred", kNow, "s@s.test", {"r@" + domain});
  const std::string text = m.render();
  // Our escaping first (the backslash doubled, the newline and the byte that
  // is not UTF-8 as \xHH), then prometheus-cpp's ('"' and '\').
  EXPECT_NE(text.find(R"(domain="a\"b\\\\c\\x0ad\\xff}e.test")"), std::string::npos) << text;
  for (std::size_t i = 0; i < text.size(); i += utf8_sequence_length(text, i))
    ASSERT_NE(utf8_sequence_length(text, i), 0u) << "not UTF-8 at " << i;
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 4u * 2 + 4);  // HELP and TYPE for 4 metrics, 4 samples: no line broken
}

TEST(MetricsTest, UnreadableFilesAndFutureArrivalsPerQueue) {
  QueueMetrics m(shape(), 20);
  m.add_unreadable("deferred");
  m.add_unreadable("deferred");
  m.add("incoming", kNow + 100, "s@s.test", {"r@x.test"});  // clock skew: never a negative age
  auto s = samples(m.render());
  EXPECT_EQ(s.at("qpurge_scan_unreadable_files{queue=\"deferred\"}"), 2);
  EXPECT_EQ(s.at("qpurge_scan_unreadable_files{queue=\"incoming\"}"), 0);
  EXPECT_EQ(s.at("qpurge_queue_oldest_seconds{queue=\"incoming\"}"), 0);
}

// The whole run: arguments, configuration, engine, printer, System.
class MetricsRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pf.spools[""] = spool.root();
    for (int i = 0; i < 3; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "%02X278A74127", 0x10 + i);
      spool.put_message("deferred", id, testing::message("spam@bad.test", {"bob@example.com"}));
    }
    spool.put_message("hold", "F0278A74127", testing::message("friend@good.test", {"a@other.test", "b@other.test"}));
  }
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "qpurge");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return run_cli(static_cast<int>(argv.size()), argv.data(), sys, pf, out, err);
  }
  testing::TestSpool spool;
  testing::FakeSystem sys;
  testing::FakePostfix pf;
  std::ostringstream out, err;
};

TEST_F(MetricsRunTest, ShapeOfASelectionGoesToTheOutputFileWorldReadable) {
  EXPECT_EQ(run({"--domain", "example.com", "--shape", "--format", "prometheus", "--output", "/m/qpurge.prom"}),
            kExitDone)
      << err.str();
  EXPECT_EQ(out.str(), "");
  ASSERT_EQ(sys.files.count("/m/qpurge.prom"), 1u);
  EXPECT_EQ(sys.file_modes["/m/qpurge.prom"], 0644u);
  auto s = samples(sys.files["/m/qpurge.prom"]);
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"deferred\"}"), 3);
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"hold\"}"), 0);  // only the selection
  EXPECT_EQ(s.at("qpurge_queue_messages{queue=\"incoming\"}"), 0);
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(MetricsRunTest, WithoutOutputItGoesToStandardOutput) {
  EXPECT_EQ(run({"--all", "--shape", "--format", "prometheus", "--top", "1", "-q"}), kExitDone) << err.str();
  auto s = samples(out.str());  // the messages are a day old: past the last bound
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"+Inf\",domain=\"example.com\",queue=\"deferred\"}"), 3);
  EXPECT_EQ(s.at("qpurge_queue_recipients{age=\"+Inf\",domain=\"other\",queue=\"hold\"}"), 2);
  EXPECT_EQ(s.at("qpurge_queue_oldest_seconds{queue=\"deferred\"}"), 86400);
  EXPECT_EQ(err.str(), "");
}

TEST_F(MetricsRunTest, OutputThatCannotBeWrittenIsFatalAndSaysSo) {
  sys.write_fails = true;
  EXPECT_EQ(run({"--all", "--shape", "--format", "prometheus", "--output", "/m/qpurge.prom"}), kExitFatal);
  EXPECT_NE(err.str().find("qpurge: fatal: cannot write the shape: /m/qpurge.prom: No space left on device"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(out.str(), "");
}

TEST_F(MetricsRunTest, TheTableGoesToTheOutputFileToo) {
  EXPECT_EQ(run({"--all", "--shape", "--output", "/m/shape.txt"}), kExitDone) << err.str();
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(sys.files["/m/shape.txt"].find("example.com"), std::string::npos);
}

}  // namespace
}  // namespace qpurge
