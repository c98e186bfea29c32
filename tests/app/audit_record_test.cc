// SPDX-License-Identifier: MIT
// audit_record_test.cc - the audit log's records, field by field: every
// mode's record begins the same way.
#include "qpurge/app/audit_record.h"

#include <gtest/gtest.h>

#include "support/fake_system.h"

namespace qpurge {
namespace {

class AuditRecordTest : public ::testing::Test {
 protected:
  AuditRecordTest() {
    c.argv = {"qpurge", "--domain", "example.com", "--yes"};
    c.selection.criteria = {{"--domain", {"example.com"}}};
    sys.clock = 1700000000;
  }
  AuditContext at(std::string archive = "") { return audit_context(c, sys, "/var/spool/postfix", std::move(archive)); }

  RunConfig c;
  testing::FakeSystem sys;
};

// The fields every record begins with; `sudo_user` as JSON.
std::string common(const std::string& event, const std::string& sudo_user = "null") {
  return "{\"event\": \"" + event +
         "\", \"time\": 1700000000, \"run\": \"1.2\", \"user\": \"root\", \"sudo_user\": " + sudo_user +
         ", \"host\": \"mx.test\", \"argv\": [\"qpurge\", \"--domain\", \"example.com\", \"--yes\"], ";
}

TEST_F(AuditRecordTest, IntentNamesEveryIdAboutToBeHandedOver) {
  PlanEntry a, b;
  a.queue = "deferred", a.id = "10278A74127";
  b.queue = "hold", b.id = "20278A74127";
  EXPECT_EQ(intent_record(at(), AuditAction{"delete", false}, {a, b}),
            common("intent") +
                "\"action\": \"delete\", \"via_hold\": false, \"queue_directory\": \"/var/spool/postfix\", "
                "\"criteria\": [{\"option\": \"--domain\", \"values\": [\"example.com\"]}], "
                "\"ids\": [\"deferred/10278A74127\", \"hold/20278A74127\"]}\n");
}

TEST_F(AuditRecordTest, ResultHasEveryIdsOutcomeAndTheArchive) {
  c.instance = "postfix-out";
  sys.sudo = "alice";
  const std::vector<IdResult> results = {{"deferred", "10278A74127", IdOutcome::kDone, ""},
                                         {"deferred", "20278A74127", IdOutcome::kNotFound, "gone"}};
  EXPECT_EQ(
      result_record(at("/a/20261127T030512Z-mx-1.2"), AuditAction{"delete", true}, "removed 1 of 2 planned", results),
      common("result", "\"alice\"") +
          "\"instance\": \"postfix-out\", \"action\": \"delete\", \"via_hold\": true, "
          "\"queue_directory\": \"/var/spool/postfix\", \"archive\": \"/a/20261127T030512Z-mx-1.2\", "
          "\"criteria\": [{\"option\": \"--domain\", \"values\": [\"example.com\"]}], "
          "\"summary\": \"removed 1 of 2 planned\", \"results\": ["
          "{\"queue_name\": \"deferred\", \"queue_id\": \"10278A74127\", \"result\": \"done\"}, "
          "{\"queue_name\": \"deferred\", \"queue_id\": \"20278A74127\", \"result\": \"not_found\", "
          "\"detail\": \"gone\"}]}\n");
}

TEST_F(AuditRecordTest, RestoreBeginsAsAPurgeRecordDoes) {
  const RestoredMessage put_back{.old_id = "10278A74127",
                                 .new_id = "1027812345",
                                 .queue = "deferred",
                                 .outcome = "restored",
                                 .detail = "/var/spool/postfix/deferred/1/1027812345",
                                 .canceled = {}};
  const RestoredMessage kept{.old_id = "20278A74127",
                             .new_id = "",
                             .queue = "",
                             .outcome = "not_deleted",
                             .detail = "the purge did not delete it (failed)",
                             .canceled = {}};
  EXPECT_EQ(restore_record(at("/a/run"), "deferred", "archive /a/run: 2 messages", {put_back, kept}),
            common("restore") +
                "\"restore_to\": \"deferred\", \"queue_directory\": \"/var/spool/postfix\", \"archive\": \"/a/run\", "
                "\"criteria\": [{\"option\": \"--domain\", \"values\": [\"example.com\"]}], "
                "\"summary\": \"archive /a/run: 2 messages\", \"results\": ["
                "{\"queue_id\": \"10278A74127\", \"result\": \"restored\", \"new_queue_id\": \"1027812345\", "
                "\"queue_name\": \"deferred\"}, "
                "{\"queue_id\": \"20278A74127\", \"result\": \"not_deleted\"}]}\n");
}

// A run that settles what a dead run left names it, with the dead run's
// action, archive and criteria.
TEST_F(AuditRecordTest, RecoverNamesTheDeadRun) {
  const AuditContext dead{sys, c.argv, "", "/var/spool/postfix", "/a/run", {{"--sender", {"x@y.test"}}}};
  EXPECT_EQ(recover_record(dead, "1700000000.77", 77, AuditAction{"delete", true}, "recovered run 1700000000.77",
                           {{"hold", "10278A74127", IdOutcome::kDone, ""}}),
            common("recover") +
                "\"recovered_run\": \"1700000000.77\", \"recovered_pid\": 77, \"action\": \"delete\", "
                "\"via_hold\": true, \"queue_directory\": \"/var/spool/postfix\", \"archive\": \"/a/run\", "
                "\"criteria\": [{\"option\": \"--sender\", \"values\": [\"x@y.test\"]}], "
                "\"summary\": \"recovered run 1700000000.77\", \"results\": ["
                "{\"queue_name\": \"hold\", \"queue_id\": \"10278A74127\", \"result\": \"done\"}]}\n");
}

TEST_F(AuditRecordTest, CriteriaForTheSyslogLine) {
  EXPECT_EQ(criteria_json({{"--all", {}}, {"--exclude-sender", {"a@b.test", "c@d.test"}}}),
            "{\"criteria\": [{\"option\": \"--all\", \"values\": []}, "
            "{\"option\": \"--exclude-sender\", \"values\": [\"a@b.test\", \"c@d.test\"]}]}");
}

// Issue 19 item 9: a long list is its count and digest, in the audit log
// and on the syslog line alike, not a line of 40,000 IDs.
TEST_F(AuditRecordTest, ALongListIsItsCountAndDigest) {
  PlanCriterion ids{"--id", {}};
  for (int i = 0; i < 9; ++i) ids.values.push_back("1027" + std::to_string(i) + "A74127");
  EXPECT_EQ(criteria_json({ids}), "{\"criteria\": [{\"option\": \"--id\", \"count\": 9, \"sha256\": \"" +
                                      criterion_list_sha256(ids) + "\"}]}");
  ids.values.pop_back();
  EXPECT_NE(criteria_json({ids}).find("\"values\": [\"10270A74127\""), std::string::npos) << "8 stay inline";
}

}  // namespace
}  // namespace qpurge
