// SPDX-License-Identifier: MIT
// config_test.cc - from what the user typed to one RunConfig: every refusal,
// with its message, and the conflicts between options and a saved plan.
#include "qpurge/app/config.h"

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
  EXPECT_EQ(c.exec.action, Action::kDelete);
  EXPECT_EQ(c.plan.mixed, MixedPolicy::kSkip);
  EXPECT_EQ(c.scan.queues, (std::vector<std::string>{"incoming", "active", "deferred", "hold"}));
  EXPECT_EQ(c.max, 0u);
  EXPECT_TRUE(c.acting());
  EXPECT_EQ(config({"--all", "--action", "release"}).scan.queues, std::vector<std::string>{"hold"});
}

// Each bad value, and the whole message that refuses it.
struct BadValue {
  const char* label;
  std::vector<std::string> words;
  const char* message;
};
const BadValue kBadValues[] = {
    {"no selector",
     {"--yes"},
     "no selector given: name what to select (--sender, --recipient, --domain, ...) or say --all"},
    {"empty sender", {"--sender", ""}, "--sender '': empty address: use MAILER-DAEMON or <> for the null sender"},
    {"empty recipient", {"--recipient", ""}, "--recipient '': empty address"},
    {"negative CIDR",
     {"--client-address", "10.0.0.0/-1"},
     "--client-address '10.0.0.0/-1': bad prefix length: expected a number from 0 to 32"},
    // A hostile fail2ban <ip>: one clear line, the value escaped.
    {"client address with a command",
     {"--client-address", "x;touch /tmp/PWNED\x1b[2J"},
     "--client-address 'x;touch /tmp/PWNED\\x1b[2J': not an IP address or CIDR block: expected an IPv4 or IPv6 "
     "address (192.0.2.7, 2001:db8::7), optionally with /BITS (198.51.100.0/24)"},
    {"bad mixed", {"--all", "--mixed", "some"}, "--mixed must be skip, include or cancel, not 'some'"},
    {"bad format", {"--all", "--format", "xml"}, "--format must be text, ids, json or prometheus, not 'xml'"},
    {"bad action",
     {"--all", "--action", "nuke"},
     "--action must be delete, hold, release, requeue or expire, not 'nuke'"},
    {"bad queue",
     {"--all", "--queue", "corrupt"},
     "--queue 'corrupt': not a message queue (incoming, active, deferred, hold, maildrop)"},
    {"negative max", {"--all", "--max", "-1"}, "--max must be a whole number from 1 to 1000000000, not '-1'"},
    {"zero max", {"--all", "--max", "0"}, "--max must be a whole number from 1 to 1000000000, not '0'"},
    {"zero batch", {"--all", "--batch-size", "0"}, "--batch-size must be a whole number from 1 to 1000000, not '0'"},
    {"huge batch",
     {"--all", "--batch-size", "99999999999"},
     "--batch-size must be a whole number from 1 to 1000000, not '99999999999'"},
    {"zero threads", {"--all", "--threads", "0"}, "--threads must be a whole number from 1 to 256, not '0'"},
    {"too many threads", {"--all", "--threads", "257"}, "--threads must be a whole number from 1 to 256, not '257'"},
    {"text threads", {"--all", "--threads", "4x"}, "--threads must be a whole number from 1 to 256, not '4x'"},
    {"via hold with hold",
     {"--all", "--action", "hold", "--via-hold"},
     "--via-hold is a way to delete; it takes no other action"},
    {"pause without via hold", {"--all", "--hold-pause", "5"}, "--hold-pause goes with --via-hold"},
    {"bad shape", {"--all", "--shape", "x"}, "--shape takes nothing or 'sender', not 'x'"},
    {"shape with plan", {"--all", "--shape", "--save-plan", "p"}, "--shape only shows; it takes no plan file"},
    {"buckets", {"--all", "--shape", "--buckets", "61"}, "--buckets must be a whole number from 1 to 60, not '61'"},
    {"bucket option alone",
     {"--all", "--buckets", "5"},
     "--buckets, --bucket-minutes, --linear, --parents, --min-subdomains and --width go with --shape"},
    {"prometheus without shape",
     {"--all", "--format", "prometheus"},
     "--format prometheus shows a shape: it goes with --shape"},
    {"top without prometheus",
     {"--all", "--shape", "--top", "5"},
     "--top goes with --format prometheus (the table shows every domain)"},
    {"zero top",
     {"--all", "--shape", "--format", "prometheus", "--top", "0"},
     "--top must be a whole number from 1 to 100000, not '0'"},
    {"prometheus parents",
     {"--all", "--shape", "--format", "prometheus", "--parents"},
     "--parents, --min-subdomains and --width shape the table; they do not go with --format prometheus"},
    {"output without shape",
     {"--all", "--output", "f"},
     "--output writes a shape: it goes with --shape (plans and results go to standard output)"},
    {"output dry run",
     {"--all", "--dry-run", "--output", "f"},
     "--output writes a shape: it goes with --shape (plans and results go to standard output)"},
    {"empty output",
     {"--all", "--shape", "--output", ""},
     "an option that names a file or directory was given an empty value"},
    {"prometheus instances",
     {"--all", "--all-instances", "--shape", "--format", "prometheus"},
     "--format prometheus and --output show one instance: run once per instance with -c DIR"},
    {"instances with -c",
     {"--all", "--all-instances", "-c", "/etc/postfix"},
     "--all-instances takes no -c, --queue-dir, --save-plan or --apply-plan"},
    {"empty audit log",
     {"--all", "--audit-log", ""},
     "an option that names a file or directory was given an empty value"},
    {"bad duration", {"--older-than", "3 days"}, "--older-than '3 days': not a duration (e.g. 90m, 36h, 3d)"},
    {"bad size", {"--min-size", "big"}, "--min-size 'big': not a size (e.g. 500b, 10k, 2M)"},
    // A bare number has no unit: never seconds or bytes silently (issue 24).
    {"bare age", {"--older-than", "3"}, "--older-than '3': an age needs a unit: s, m, h, d or w (e.g. 90m, 36h, 3d)"},
    {"bare young age",
     {"--younger-than", "30"},
     "--younger-than '30': an age needs a unit: s, m, h, d or w (e.g. 90m, 36h, 3d)"},
    {"bare size",
     {"--min-size", "500"},
     "--min-size '500': a size needs a unit: b (bytes), k, M or G (e.g. 500b, 10k, 2M)"},
    {"bare max size",
     {"--max-size", "1"},
     "--max-size '1': a size needs a unit: b (bytes), k, M or G (e.g. 500b, 10k, 2M)"},
    {"bare prune age",
     {"--prune-archives", "/a", "--older-than", "30"},
     "--older-than '30': an age needs a unit: s, m, h, d or w (e.g. 90m, 36h, 3d)"},
    {"bare body limit",
     {"--body", "x", "--body-limit", "100"},
     "--body-limit must be a size from 1b to 1G (e.g. 512k, 4M), not '100'; a size needs a unit: b (bytes), k, M or G "
     "(e.g. 500b, 10k, 2M)"},
    {"zero rate", {"--all", "--rate", "0"}, "--rate must be a whole number from 1 to 100000, not '0'"},
    {"huge rate", {"--all", "--rate", "100001"}, "--rate must be a whole number from 1 to 100000, not '100001'"},
    {"text rate", {"--all", "--rate", "fast"}, "--rate must be a whole number from 1 to 100000, not 'fast'"},
    {"rate with restore",
     {"--restore", "/r", "--rate", "5"},
     "--rate paces the IDs handed to postsuper; --restore hands it none"},
    {"negative wait", {"--all", "--wait", "-1"}, "--wait must be a whole number from 0 to 86400, not '-1'"},
    {"long wait", {"--all", "--wait", "86401"}, "--wait must be a whole number from 0 to 86400, not '86401'"},
    {"empty attachment", {"--attachment", ""}, "--attachment '': empty file name pattern"},
    {"bad attachment type",
     {"--attachment-type", "zip"},
     "--attachment-type 'zip': not a MIME type: 'zip': expected TYPE/SUBTYPE or TYPE/* (application/zip, image/*)"},
    {"type family of all",
     {"--attachment-type", "*/*"},
     "--attachment-type '*/*': not a MIME type: '*/*': expected TYPE/SUBTYPE or TYPE/* (application/zip, image/*)"},
    {"empty message id", {"--message-id", "<>"}, "--message-id '<>': empty Message-ID"},
    {"bad recipient count",
     {"--min-recipients", "two"},
     "--min-recipients 'two': not a whole number from 0 to 999999999"},
    {"negative recipient count",
     {"--max-recipients", "-1"},
     "--max-recipients '-1': not a whole number from 0 to 999999999"},
    {"bad queue id", {"--id", "../x"}, "--id: not a queue ID: '../x'"},
    {"body limit alone",
     {"--subject", "x", "--body-limit", "2M"},
     "--body-limit goes with --body (--attachment and --attachment-type decode no text)"},
    {"body limit with attachments only",
     {"--attachment", "*.exe", "--attachment-type", "image/*", "--body-limit", "2M"},
     "--body-limit goes with --body (--attachment and --attachment-type decode no text)"},
    {"zero body limit",
     {"--body", "x", "--body-limit", "0b"},
     "--body-limit must be a size from 1b to 1G (e.g. 512k, 4M), not '0b'"},
    {"huge body limit",
     {"--body", "x", "--body-limit", "2G"},
     "--body-limit must be a size from 1b to 1G (e.g. 512k, 4M), not '2G'"},
    {"cancel with another action",
     {"--domain", "dead.example", "--mixed", "cancel", "--action", "hold"},
     "--mixed cancel cancels the matching recipients of a delete; it takes no other --action (it was hold)"},
    {"cancel with restore",
     {"--restore", "/srv/a/run", "--mixed", "cancel"},
     "--restore takes no --mixed: it puts back what an archive run holds"},
    {"decode without header",
     {"--subject", "x", "--decode-headers"},
     "--decode-headers goes with --header or --exclude-header"},
};

TEST(ConfigTest, RefusesEveryBadValue) {
  for (const BadValue& c : kBadValues) EXPECT_EQ(refusal(c.words), c.message) << c.label;
}

// One line naming the option and the position, then the regular
// expression library's own words, without its ">>>HERE>>>" dump.
TEST(ConfigTest, RefusesABadRegularExpression) {
  EXPECT_EQ(refusal({"--regex", "--sender", "(("}),
            "--sender '((': bad regular expression at position 2: Unmatched marking parenthesis ( or \\(");
  EXPECT_EQ(refusal({"--subject", "a(b"}),
            "--subject 'a(b': bad regular expression at position 3: Unmatched marking parenthesis ( or \\(");
}

// Read-only views need no selector: the whole queue, as qshape and mailq show it.
TEST(ConfigTest, ReadOnlyViewsNeedNoSelector) {
  for (const auto& words : std::vector<std::vector<std::string>>{{"-n"}, {"--shape"}, {"--count"}}) {
    RunConfig c = config(words);
    ASSERT_EQ(c.selection.criteria.size(), 1u) << words[0];
    EXPECT_EQ(c.selection.criteria[0].option, "--all") << words[0];
  }
  EXPECT_TRUE(config({"--count", "--sender", "x@y.test"}).dry_run);
  EXPECT_EQ(refusal({"--save-plan", "p.json"}),
            "no selector given: name what to select (--sender, --recipient, --domain, ...) or say --all");
  EXPECT_EQ(refusal({"--count", "--format", "ids"}),
            "--count prints one number: it takes no --format, --shape, --explain, plan file or --all-instances");
}

TEST(ConfigTest, PrometheusShapeOfASelection) {
  RunConfig c = config({"--domain", "x.test", "--shape", "sender", "--format", "prometheus", "--top", "3", "--output",
                        "/var/lib/prometheus/node-exporter/qpurge.prom"});
  ASSERT_TRUE(c.output.shape);
  EXPECT_TRUE(c.output.shape->senders);
  EXPECT_EQ(c.output.format, Format::kPrometheus);
  EXPECT_EQ(c.output.top, 3u);
  EXPECT_EQ(c.output.output_file, "/var/lib/prometheus/node-exporter/qpurge.prom");
  EXPECT_FALSE(c.acting());
  EXPECT_EQ(config({"--all", "--shape", "--format", "prometheus"}).output.top, 20u);
  EXPECT_EQ(config({"--all", "--shape", "--output", "t.txt"}).output.output_file, "t.txt");  // the table, to a file
}

TEST(ConfigTest, ContentSelectorsAndTheirOptions) {
  RunConfig c = config({"--body", "a", "--body", "b", "--exclude-attachment", "*.zip", "--body-limit", "512k"});
  EXPECT_EQ(c.plan.body_limit, 512u * 1024);
  EXPECT_EQ(c.selection.matcher->needs_content(), ContentNeed::kBody);
  ASSERT_EQ(c.selection.matcher->groups().size(), 2u);  // OR within --body, AND with the exclusion
  EXPECT_EQ(c.selection.matcher->groups()[0].alternatives.size(), 2u);
  EXPECT_TRUE(c.selection.matcher->groups()[1].exclude);
  EXPECT_EQ(config({"--subject", "x"}).selection.matcher->needs_content(), ContentNeed::kHeaders);
  EXPECT_EQ(config({"--attachment", "*.exe"}).selection.matcher->needs_content(), ContentNeed::kParts);
  EXPECT_EQ(config({"--subject", "x"}).plan.body_limit, kDefaultTextLimit);
  EXPECT_EQ(config({"--all", "--min-recipients", "2"}).selection.matcher->needs_content(), ContentNeed::kNone);
  EXPECT_TRUE(config({"--header", "Subject: x", "--decode-headers"}).selection.decode_headers);
  // Many IDs are one set, shown by their number.
  std::vector<std::string> words;
  for (int i = 0; i < 20; ++i) {
    words.push_back("--id");
    words.push_back(std::to_string(1000 + i));
    words.back().insert(words.back().begin(), 'A');
  }
  RunConfig ids = config(words);
  ASSERT_EQ(ids.selection.matcher->groups().size(), 1u);
  EXPECT_EQ(ids.selection.matcher->groups()[0].alternatives.size(), 1u);
  EXPECT_EQ(ids.selection.matcher->groups()[0].values, std::vector<std::string>{"20 queue IDs"});
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
  EXPECT_EQ(refused("A1\nnot-an-id\n"), "--ids-from g line 2: not a queue ID: 'not-an-id'");
  EXPECT_EQ(refused("# only a comment\n"), "--ids-from: no queue ID in g");
  EXPECT_EQ(refused("A1\n\x1b[2J\n"), "--ids-from g line 2: not a queue ID: '\\x1b[2J'");
}

TEST(ConfigTest, PlanBringsBodyLimitAndDecodeHeaders) {
  PlanHeader plan;
  plan.criteria = {{"--header", {"Subject: x"}}};
  plan.decode_headers = true;
  plan.body_limit = 4096;
  RunConfig c = config({"--apply-plan", "p"}, &plan);
  EXPECT_TRUE(c.selection.decode_headers);
  EXPECT_EQ(c.plan.body_limit, 4096u);
  EXPECT_EQ(
      refusal({"--apply-plan", "p", "--body-limit", "1M"}, &plan),
      "--apply-plan takes its criteria from the plan; give no selectors, --regex, --decode-headers or --body-limit");
  EXPECT_EQ(
      refusal({"--apply-plan", "p", "--decode-headers"}, &plan),
      "--apply-plan takes its criteria from the plan; give no selectors, --regex, --decode-headers or --body-limit");
  plan.body_limit = 0;
  EXPECT_EQ(refusal({"--apply-plan", "p"}, &plan), "the plan names a bad body_limit");
}

TEST(ConfigTest, NullSenderSpellingsAreKept) {
  EXPECT_EQ(refusal({"--sender", "MAILER-DAEMON"}), "(accepted)");
  EXPECT_EQ(refusal({"--sender", "<>"}), "(accepted)");
}

TEST(ConfigTest, ShapeImpliesADryRun) {
  RunConfig c = config({"--all", "--shape", "sender", "--buckets", "5"});
  ASSERT_TRUE(c.output.shape);
  EXPECT_TRUE(c.output.shape->senders);
  EXPECT_EQ(c.output.shape->buckets, 5);
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
  EXPECT_EQ(c.exec.action, Action::kHold);
  EXPECT_EQ(c.scan.queues, std::vector<std::string>{"deferred"});
  ASSERT_EQ(c.selection.criteria.size(), 1u);
  EXPECT_EQ(config({"--apply-plan", "p.json", "--action", "hold"}, &h).exec.action, Action::kHold);
}

TEST(ConfigTest, RefusesEveryConflictWithThePlan) {
  PlanHeader release = plan_for("release"), del = plan_for("delete");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--via-hold"}, &release),
            "--via-hold is a way to delete; it takes no other action (the plan was saved to release)");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--action", "hold"}, &del),
            "the plan was saved to delete, not to hold; nothing changed (save a new plan with --action hold)");
  EXPECT_EQ(
      refusal({"--apply-plan", "p", "--sender", "x@y"}, &del),
      "--apply-plan takes its criteria from the plan; give no selectors, --regex, --decode-headers or --body-limit");
  EXPECT_EQ(
      refusal({"--apply-plan", "p", "--regex"}, &del),
      "--apply-plan takes its criteria from the plan; give no selectors, --regex, --decode-headers or --body-limit");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--queue", "hold"}, &del),
            "--apply-plan acts on the plan's own queues; give no --queue");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--mixed", "include"}, &del),
            "the plan was saved with --mixed skip; give no other --mixed");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--save-plan", "q"}, &del),
            "--apply-plan and --save-plan do not go together");
  PlanHeader unknown = plan_for("obliterate");
  EXPECT_EQ(refusal({"--apply-plan", "p"}, &unknown), "the plan names an unknown action 'obliterate'");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--via-hold"}, &del), "(accepted)");
}

}  // namespace
}  // namespace qpurge

namespace qpurge {
namespace {

TEST(ConfigTest, ArchiveGoesWithDeleteOnly) {
  EXPECT_EQ(config({"--all", "--archive", "/var/lib/qpurge"}).archive.dir, "/var/lib/qpurge");
  EXPECT_EQ(config({"--all", "--archive", "/a", "--via-hold"}).archive.dir, "/a");
  EXPECT_EQ(refusal({"--all", "--archive", "/a", "--action", "hold"}),
            "--archive keeps a copy of what is deleted; it takes no other action");
  PlanHeader hold = plan_for("hold");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--archive", "/a"}, &hold),
            "--archive keeps a copy of what is deleted; it takes no other action");
  PlanHeader del = plan_for("delete");
  EXPECT_EQ(refusal({"--apply-plan", "p", "--archive", "/a"}, &del), "(accepted)");
}

// Issue 19 item 3 (F_maildrop_restore): a maildrop file is postdrop's, and
// --restore could not put it back.
// Issue 22: the original of a message whose recipients are canceled is
// archived first, so --mixed cancel goes with --archive (and the options
// that go with both).
TEST(ConfigTest, CancelGoesWithArchive) {
  for (const std::vector<std::string>& more :
       {std::vector<std::string>{}, {"--via-hold"}, {"--max", "5"}, {"--rate", "10"}, {"--dry-run"}}) {
    std::vector<std::string> words{"--domain", "dead.example", "--mixed", "cancel", "--archive", "/srv/a"};
    words.insert(words.end(), more.begin(), more.end());
    RunConfig c = config(words);
    EXPECT_EQ(c.plan.mixed, MixedPolicy::kCancel);
    EXPECT_EQ(c.archive.dir, "/srv/a");
  }
  EXPECT_EQ(refusal({"--domain", "dead.example", "--mixed", "cancel", "--archive", "/srv/a", "--action", "hold"}),
            "--archive keeps a copy of what is deleted; it takes no other action");
}

TEST(ConfigTest, ArchiveRefusesTheMaildropQueue) {
  const std::string why =
      "--archive cannot keep maildrop messages: they are postdrop files, not queue files, and --restore could not "
      "put them back";
  EXPECT_EQ(refusal({"--all", "--queue", "maildrop", "--archive", "/a"}), why + "; leave maildrop out of --queue");
  EXPECT_EQ(refusal({"--all", "--queue", "deferred", "--queue", "maildrop", "--archive", "/a", "--dry-run"}),
            why + "; leave maildrop out of --queue");
  PlanHeader del = plan_for("delete");
  del.queues = {"deferred", "maildrop"};
  EXPECT_EQ(refusal({"--apply-plan", "p", "--archive", "/a"}, &del), why + " (the plan's queues include maildrop)");
  EXPECT_EQ(refusal({"--all", "--queue", "maildrop", "--yes"}), "(accepted)");  // without --archive
  EXPECT_EQ(config({"--all", "--queue", "deferred", "--archive", "/a"}).archive.dir, "/a");
}

TEST(ConfigTest, RestoreTakesSelectorsButNoAction) {
  RunConfig c = config({"--restore", "/a/run", "--recipient", "x@y.test"});
  EXPECT_EQ(c.mode, Mode::kRestore);
  EXPECT_EQ(c.archive.restore_to, "hold");
  EXPECT_EQ(config({"--restore", "/a/run"}).mode, Mode::kRestore);  // every message of the run
  EXPECT_EQ(config({"--restore", "/a/run", "--restore-to", "deferred"}).archive.restore_to, "deferred");
  EXPECT_EQ(refusal({"--restore", "/a/run", "--restore-to", "active"}),
            "--restore-to must be hold, deferred or incoming, not 'active'");
  EXPECT_EQ(refusal({"--restore", "/a/run", "--action", "delete"}),
            "--restore takes no --archive, plan file, --via-hold, --shape, --action or --all-instances");
  EXPECT_EQ(refusal({"--all", "--restore-to", "hold"}), "--restore-to goes with --restore");
  EXPECT_EQ(refusal({"--all", "--force-other-instance"}), "--force-other-instance goes with --restore");
}

TEST(ConfigTest, ArchiveListingAndPruning) {
  EXPECT_EQ(config({"--archives", "/a"}).mode, Mode::kListArchives);
  RunConfig p = config({"--prune-archives", "/a", "--older-than", "30d"});
  EXPECT_EQ(p.mode, Mode::kPruneArchives);
  EXPECT_EQ(p.archive.prune_older_than, 30 * 86400);
  EXPECT_EQ(refusal({"--prune-archives", "/a"}),
            "--prune-archives needs one --older-than AGE: the runs older than that are removed");
  EXPECT_EQ(refusal({"--archives", "/a", "--sender", "x@y"}),
            "--archives takes no selector, plan, --archive or --restore");
}

}  // namespace
}  // namespace qpurge
