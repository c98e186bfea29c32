// SPDX-License-Identifier: MIT
// config_test.cc - from what the user typed to one RunConfig: every refusal,
// with its message, and the conflicts between options and a saved plan.
#include "qpurge/config.h"

#include <gtest/gtest.h>

#include <map>

namespace qpurge {
namespace {

Args args(std::vector<std::string> words) {
  words.insert(words.begin(), "qpurge");
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

RunConfig config(std::vector<std::string> words, const PlanHeader* plan = nullptr) {
  return make_config(args(std::move(words)), plan);
}

std::string refusal(std::vector<std::string> words, const PlanHeader* plan = nullptr) {
  try {
    make_config(args(std::move(words)), plan);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ArgsTest, KeepsSelectorsInOrderOfFirstAppearance) {
  Args a = args({"--domain", "a.test", "--exclude-sender", "x@y", "--domain", "b.test", "--all"});
  ASSERT_EQ(a.criteria.size(), 3u);
  EXPECT_EQ(a.criteria[0].option, "--domain");
  EXPECT_EQ(a.criteria[0].values, (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(a.criteria[1].option, "--exclude-sender");
  EXPECT_EQ(a.criteria[2].option, "--all");
}

TEST(ArgsTest, ShapeTakesAnOptionalWord) {
  EXPECT_EQ(*args({"--all", "--shape"}).shape, "recipient");
  EXPECT_EQ(*args({"--shape", "sender", "--all"}).shape, "sender");
}

TEST(ArgsTest, HelpAndVersionAreRequestsNotRuns) {
  EXPECT_EQ(args({"--help"}).request, Args::Request::kHelp);
  EXPECT_NE(args({"--help"}).help_text.find("Exit status"), std::string::npos);
  EXPECT_EQ(args({"--version"}).request, Args::Request::kVersion);
}

TEST(ArgsTest, UnknownOptionIsAUsageError) { EXPECT_THROW(args({"--sendr", "x"}), UsageError); }

TEST(ConfigTest, DefaultsAreSafe) {
  RunConfig c = config({"--domain", "example.com"});
  EXPECT_EQ(c.action, Action::kDelete);
  EXPECT_EQ(c.mixed, MixedPolicy::kSkip);
  EXPECT_EQ(c.queues, (std::vector<std::string>{"incoming", "active", "deferred", "hold"}));
  EXPECT_EQ(c.max, 0u);
  EXPECT_TRUE(c.acting());
  EXPECT_EQ(config({"--all", "--action", "release"}).queues, std::vector<std::string>{"hold"});
}

TEST(ConfigTest, RefusesEveryBadValue) {
  struct Case {
    const char* label;
    std::vector<std::string> words;
    const char* message;
  } cases[] = {
      {"no selector", {"--dry-run"}, "no selector given"},
      {"empty sender", {"--sender", ""}, "--sender '': empty address"},
      {"empty recipient", {"--recipient", ""}, "--recipient ''"},
      {"bad regex", {"--regex", "--sender", "(("}, "bad regular expression"},
      {"negative CIDR", {"--client-address", "10.0.0.0/-1"}, "--client-address '10.0.0.0/-1'"},
      {"bad mixed", {"--all", "--mixed", "some"}, "--mixed must be skip or include"},
      {"bad format", {"--all", "--format", "xml"}, "--format must be text, ids, json or prometheus"},
      {"bad action", {"--all", "--action", "nuke"}, "--action must be delete"},
      {"bad queue", {"--all", "--queue", "corrupt"}, "not a message queue"},
      {"negative max", {"--all", "--max", "-1"}, "--max must be a whole number from 1"},
      {"zero max", {"--all", "--max", "0"}, "--max must be a whole number from 1"},
      {"zero batch", {"--all", "--batch-size", "0"}, "--batch-size must be a whole number from 1"},
      {"huge batch", {"--all", "--batch-size", "99999999999"}, "--batch-size must be a whole number from 1 to 1000000"},
      {"zero threads", {"--all", "--threads", "0"}, "--threads must be a whole number from 1 to 256"},
      {"too many threads", {"--all", "--threads", "257"}, "--threads must be a whole number from 1 to 256"},
      {"text threads", {"--all", "--threads", "4x"}, "--threads must be a whole number"},
      {"via hold with hold", {"--all", "--action", "hold", "--via-hold"}, "--via-hold is a way to delete"},
      {"pause without via hold", {"--all", "--hold-pause", "5"}, "--hold-pause goes with --via-hold"},
      {"bad shape", {"--all", "--shape", "x"}, "--shape takes nothing or 'sender'"},
      {"shape with plan", {"--all", "--shape", "--save-plan", "p"}, "--shape only shows"},
      {"buckets", {"--all", "--shape", "--buckets", "61"}, "--buckets must be a whole number from 1 to 60"},
      {"bucket option alone", {"--all", "--buckets", "5"}, "go with --shape"},
      {"prometheus without shape", {"--all", "--format", "prometheus"}, "--format prometheus shows a shape"},
      {"top without prometheus", {"--all", "--shape", "--top", "5"}, "--top goes with --format prometheus"},
      {"zero top", {"--all", "--shape", "--format", "prometheus", "--top", "0"}, "--top must be a whole number from 1"},
      {"prometheus parents", {"--all", "--shape", "--format", "prometheus", "--parents"}, "shape the table"},
      {"output without shape", {"--all", "--output", "f"}, "--output writes a shape"},
      {"output dry run", {"--all", "--dry-run", "--output", "f"}, "--output writes a shape"},
      {"empty output", {"--all", "--shape", "--output", ""}, "given an empty value"},
      {"prometheus instances", {"--all", "--all-instances", "--shape", "--format", "prometheus"}, "one instance"},
      {"instances with -c", {"--all", "--all-instances", "-c", "/etc/postfix"}, "--all-instances takes no -c"},
      {"empty audit log", {"--all", "--audit-log", ""}, "given an empty value"},
      {"bad duration", {"--older-than", "3 days"}, "not a duration"},
      {"bad size", {"--min-size", "big"}, "not a size"},
      {"zero rate", {"--all", "--rate", "0"}, "--rate must be a whole number from 1 to 100000"},
      {"huge rate", {"--all", "--rate", "100001"}, "--rate must be a whole number from 1 to 100000"},
      {"text rate", {"--all", "--rate", "fast"}, "--rate must be a whole number"},
      {"rate with restore", {"--restore", "/r", "--rate", "5"}, "--restore hands it none"},
      {"negative wait", {"--all", "--wait", "-1"}, "--wait must be a whole number from 0 to 86400"},
      {"long wait", {"--all", "--wait", "86401"}, "--wait must be a whole number from 0 to 86400"},
      {"bad subject regex", {"--subject", "(("}, "--subject '((': bad regular expression"},
      {"empty attachment", {"--attachment", ""}, "--attachment '': empty file name pattern"},
      {"bad attachment type", {"--attachment-type", "zip"}, "not a MIME type"},
      {"type family of all", {"--attachment-type", "*/*"}, "not a MIME type"},
      {"empty message id", {"--message-id", "<>"}, "empty Message-ID"},
      {"bad recipient count", {"--min-recipients", "two"}, "--min-recipients 'two': not a whole number"},
      {"negative recipient count", {"--max-recipients", "-1"}, "not a whole number"},
      {"bad queue id", {"--id", "../x"}, "--id: not a queue ID: '../x'"},
      {"body limit alone", {"--subject", "x", "--body-limit", "2M"}, "--body-limit goes with --body"},
      {"zero body limit", {"--body", "x", "--body-limit", "0"}, "--body-limit must be a size from 1 to 1G"},
      {"huge body limit", {"--body", "x", "--body-limit", "2G"}, "--body-limit must be a size from 1 to 1G"},
      {"decode without header", {"--subject", "x", "--decode-headers"}, "--decode-headers goes with --header"},
  };
  for (const Case& c : cases)
    EXPECT_NE(refusal(c.words).find(c.message), std::string::npos) << c.label << ": " << refusal(c.words);
}

TEST(ConfigTest, PrometheusShapeOfASelection) {
  RunConfig c = config({"--domain", "x.test", "--shape", "sender", "--format", "prometheus", "--top", "3", "--output",
                        "/var/lib/prometheus/node-exporter/qpurge.prom"});
  ASSERT_TRUE(c.shape);
  EXPECT_TRUE(c.shape->senders);
  EXPECT_EQ(c.format, Format::kPrometheus);
  EXPECT_EQ(c.top, 3u);
  EXPECT_EQ(c.output, "/var/lib/prometheus/node-exporter/qpurge.prom");
  EXPECT_FALSE(c.acting());
  EXPECT_EQ(config({"--all", "--shape", "--format", "prometheus"}).top, 20u);
  EXPECT_EQ(config({"--all", "--shape", "--output", "t.txt"}).output, "t.txt");  // the table, to a file
}

TEST(ConfigTest, ContentSelectorsAndTheirOptions) {
  RunConfig c = config({"--body", "a", "--body", "b", "--exclude-attachment", "*.zip", "--body-limit", "512k"});
  EXPECT_EQ(c.body_limit, 512u * 1024);
  EXPECT_EQ(c.matcher->needs_content(), ContentNeed::kBody);
  ASSERT_EQ(c.matcher->groups().size(), 2u);  // OR within --body, AND with the exclusion
  EXPECT_EQ(c.matcher->groups()[0].alternatives.size(), 2u);
  EXPECT_TRUE(c.matcher->groups()[1].exclude);
  EXPECT_EQ(config({"--subject", "x"}).matcher->needs_content(), ContentNeed::kHeaders);
  EXPECT_EQ(config({"--subject", "x"}).body_limit, kDefaultTextLimit);
  EXPECT_EQ(config({"--all", "--min-recipients", "2"}).matcher->needs_content(), ContentNeed::kNone);
  EXPECT_TRUE(config({"--header", "Subject: x", "--decode-headers"}).decode_headers);
  // Many IDs are one set, shown by their number.
  std::vector<std::string> words;
  for (int i = 0; i < 20; ++i) {
    words.push_back("--id");
    words.push_back(std::to_string(1000 + i));
    words.back().insert(words.back().begin(), 'A');
  }
  RunConfig ids = config(words);
  ASSERT_EQ(ids.matcher->groups().size(), 1u);
  EXPECT_EQ(ids.matcher->groups()[0].alternatives.size(), 1u);
  EXPECT_EQ(ids.matcher->groups()[0].values, std::vector<std::string>{"20 queue IDs"});
}

TEST(ConfigTest, IdListsBecomeIdValues) {
  Args a = args({"--id", "A1", "--ids-from", "f", "--exclude-ids-from", "-", "--domain", "x.test"});
  std::map<std::string, std::string> files = {{"f", "B2\n# c\n\n C3 \r\n"}, {"/dev/stdin", "D4\n"}};
  read_id_lists(a, [&](const std::string& p, std::string& t, std::string& e) {
    if (!files.count(p)) return e = p + ": missing", false;
    t = files[p];
    return true;
  });
  ASSERT_EQ(a.criteria.size(), 3u);
  EXPECT_EQ(a.criteria[0].option, "--id");
  EXPECT_EQ(a.criteria[0].values, (std::vector<std::string>{"A1", "B2", "C3"}));
  EXPECT_EQ(a.criteria[1].option, "--exclude-id");
  EXPECT_EQ(a.criteria[1].values, std::vector<std::string>{"D4"});
  EXPECT_EQ(a.criteria[2].option, "--domain");
  auto refused = [&](const std::string& text) {
    Args b = args({"--ids-from", "g"});
    try {
      read_id_lists(b, [&](const std::string&, std::string& t, std::string&) { return t = text, true; });
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(refused("A1\nnot-an-id\n").find("--ids-from g line 2: not a queue ID: 'not-an-id'"), std::string::npos);
  EXPECT_NE(refused("# only a comment\n").find("no queue ID"), std::string::npos);
  EXPECT_NE(refused("A1\n\x1b[2J\n").find("'\\x1b[2J'"), std::string::npos) << refused("A1\n\x1b[2J\n");
}

TEST(ConfigTest, PlanBringsBodyLimitAndDecodeHeaders) {
  PlanHeader plan;
  plan.criteria = {{"--header", {"Subject: x"}}};
  plan.decode_headers = true;
  plan.body_limit = 4096;
  RunConfig c = config({"--apply-plan", "p"}, &plan);
  EXPECT_TRUE(c.decode_headers);
  EXPECT_EQ(c.body_limit, 4096u);
  EXPECT_NE(refusal({"--apply-plan", "p", "--body-limit", "1M"}, &plan).find("give no selectors"), std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--decode-headers"}, &plan).find("give no selectors"), std::string::npos);
  plan.body_limit = 0;
  EXPECT_NE(refusal({"--apply-plan", "p"}, &plan).find("bad body_limit"), std::string::npos);
}

TEST(ConfigTest, NullSenderSpellingsAreKept) {
  EXPECT_EQ(refusal({"--sender", "MAILER-DAEMON"}), "(accepted)");
  EXPECT_EQ(refusal({"--sender", "<>"}), "(accepted)");
}

TEST(ConfigTest, ShapeImpliesADryRun) {
  RunConfig c = config({"--all", "--shape", "sender", "--buckets", "5"});
  ASSERT_TRUE(c.shape);
  EXPECT_TRUE(c.shape->senders);
  EXPECT_EQ(c.shape->buckets, 5);
  EXPECT_FALSE(c.acting());
}

PlanHeader plan_for(const std::string& action) {
  PlanHeader h;
  h.action = action;
  h.host = "mx.test";
  h.queue_directory = "/var/spool/postfix";
  h.queues = {"deferred"};
  h.criteria = {PlanCriterion{"--sender", {"q3@sender.test"}}};
  return h;
}

TEST(ConfigTest, PlanBringsItsActionCriteriaAndQueues) {
  PlanHeader h = plan_for("hold");
  RunConfig c = config({"--apply-plan", "p.json"}, &h);
  EXPECT_EQ(c.action, Action::kHold);
  EXPECT_EQ(c.queues, std::vector<std::string>{"deferred"});
  ASSERT_EQ(c.criteria.size(), 1u);
  EXPECT_EQ(config({"--apply-plan", "p.json", "--action", "hold"}, &h).action, Action::kHold);
}

TEST(ConfigTest, RefusesEveryConflictWithThePlan) {
  PlanHeader release = plan_for("release"), del = plan_for("delete");
  EXPECT_NE(refusal({"--apply-plan", "p", "--via-hold"}, &release)
                .find("--via-hold is a way to delete; it takes no "
                      "other action (the plan was saved to release)"),
            std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--action", "hold"}, &del).find("the plan was saved to delete, not to hold"),
            std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--sender", "x@y"}, &del).find("give no selectors"), std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--regex"}, &del).find("give no selectors"), std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--queue", "hold"}, &del).find("give no --queue"), std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--mixed", "include"}, &del).find("saved with --mixed skip"),
            std::string::npos);
  EXPECT_NE(refusal({"--apply-plan", "p", "--save-plan", "q"}, &del).find("do not go together"), std::string::npos);
  PlanHeader unknown = plan_for("obliterate");
  EXPECT_NE(refusal({"--apply-plan", "p"}, &unknown).find("unknown action"), std::string::npos);
  EXPECT_EQ(refusal({"--apply-plan", "p", "--via-hold"}, &del), "(accepted)");
}

}  // namespace
}  // namespace qpurge

namespace qpurge {
namespace {

TEST(ConfigTest, ArchiveGoesWithDeleteOnly) {
  EXPECT_EQ(config({"--all", "--archive", "/var/lib/qpurge"}).archive_dir, "/var/lib/qpurge");
  EXPECT_EQ(config({"--all", "--archive", "/a", "--via-hold"}).archive_dir, "/a");
  EXPECT_NE(refusal({"--all", "--archive", "/a", "--action", "hold"}).find("--archive keeps a copy of what is deleted"),
            std::string::npos);
  PlanHeader hold = plan_for("hold");
  EXPECT_NE(refusal({"--apply-plan", "p", "--archive", "/a"}, &hold).find("--archive keeps a copy"), std::string::npos);
  PlanHeader del = plan_for("delete");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--archive", "/a"}, &del), "(accepted)");
}

TEST(ConfigTest, RestoreTakesSelectorsButNoAction) {
  RunConfig c = config({"--restore", "/a/run", "--recipient", "x@y.test"});
  EXPECT_EQ(c.mode, Mode::kRestore);
  EXPECT_EQ(c.restore_to, "hold");
  EXPECT_EQ(config({"--restore", "/a/run"}).mode, Mode::kRestore);  // every message of the run
  EXPECT_EQ(config({"--restore", "/a/run", "--restore-to", "deferred"}).restore_to, "deferred");
  EXPECT_NE(refusal({"--restore", "/a/run", "--restore-to", "active"})
                .find("--restore-to must be hold, deferred or incoming"),
            std::string::npos);
  EXPECT_NE(refusal({"--restore", "/a/run", "--action", "delete"}).find("--restore takes no"), std::string::npos);
  EXPECT_NE(refusal({"--all", "--restore-to", "hold"}).find("--restore-to goes with --restore"), std::string::npos);
  EXPECT_NE(refusal({"--all", "--force-other-instance"}).find("goes with --restore"), std::string::npos);
}

TEST(ConfigTest, ArchiveListingAndPruning) {
  EXPECT_EQ(config({"--archives", "/a"}).mode, Mode::kListArchives);
  RunConfig p = config({"--prune-archives", "/a", "--older-than", "30d"});
  EXPECT_EQ(p.mode, Mode::kPruneArchives);
  EXPECT_EQ(p.prune_older_than, 30 * 86400);
  EXPECT_NE(refusal({"--prune-archives", "/a"}).find("needs one --older-than AGE"), std::string::npos);
  EXPECT_NE(refusal({"--archives", "/a", "--sender", "x@y"}).find("takes no selector"), std::string::npos);
}

}  // namespace
}  // namespace qpurge
