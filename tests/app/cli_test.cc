// SPDX-License-Identifier: MIT
// cli_test.cc - the qpurge command (cli.h): the ID lists it reads before the
// configuration is made, and the instance loop of --all-instances (every
// queue locked before any plans, --max over all of them, one exit status).
#include "qpurge/app/cli.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/cli_fixture.h"
#include "support/files.h"

namespace qpurge {
namespace {

class CliTest : public testing::CliFixture {};

TEST_F(CliTest, IdsFromAFileOrStandardInput) {
  fill();
  sys.files["ids.txt"] = "# from the SIEM\n10278A74127\n\n  11278A74127  \n";
  EXPECT_EQ(run({"--ids-from", "ids.txt", "--id", "F0278A74127", "--dry-run", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "10278A74127\n11278A74127\nF0278A74127\n");
  sys.files["/dev/stdin"] = "10278A74127\n";
  EXPECT_EQ(run({"--domain", "example.com", "--exclude-ids-from", "-", "--dry-run", "--format", "ids"}), kExitDone);
  std::string rest;
  for (const std::string& id : bob_ids())
    if (id != "10278A74127") rest += id + "\n";
  EXPECT_EQ(out.str(), rest);
  EXPECT_EQ(run({"--exclude-ids-from", "-", "--domain", "example.com"}), kExitFatal);  // cannot ask
  EXPECT_EQ(err.str(),
            "qpurge: --ids-from - reads standard input, so qpurge cannot ask before acting: add --yes (after a "
            "--dry-run)\nTry 'qpurge --help' for more information.\n");
  sys.files["bad.txt"] = "10278A74127\n../../etc/passwd\n";
  EXPECT_EQ(run({"--ids-from", "bad.txt", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: --ids-from bad.txt line 2: not a queue ID: '../../etc/passwd'\nTry 'qpurge --help' for more "
            "information.\n");
  EXPECT_EQ(run({"--ids-from", "missing.txt", "--yes"}), kExitFatal);
  EXPECT_EQ(err.str(),
            "qpurge: --ids-from missing.txt: missing.txt: No such file or directory\nTry 'qpurge --help' for more "
            "information.\n");
  EXPECT_EQ(pf.postsuper_runs(), 0);
  ASSERT_EQ(run({"--ids-from", "ids.txt", "--save-plan", "p.json"}), kExitDone);
  const nlohmann::json criteria = nlohmann::json::parse(lines(sys.files["p.json"]).at(0))["criteria"];
  ASSERT_EQ(criteria.size(), 1u) << criteria;
  EXPECT_EQ(criteria[0]["option"], "--id");
  EXPECT_EQ(criteria[0]["values"], nlohmann::json({"10278A74127", "11278A74127"})) << "the IDs themselves";
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(files_in("deferred"), 19u);
}

class InstancesTest : public testing::CliFixture {
 protected:
  void SetUp() override {
    pf.spools["/etc/postfix"] = spool.root();
    pf.spools["/etc/postfix-out"] = second.root();
    pf.postmulti_output =
        "-               -               y         /etc/postfix\n"
        "postfix-out     mta             y         /etc/postfix-out\n";
  }
  testing::TestSpool second;
};

TEST_F(InstancesTest, MaxCapsTheTotalBeforeAnyInstanceActs) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  put("deferred", "20278A74127", "s@x.test", {"bob@example.com"});
  put("deferred", "30278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  second.put_message("deferred", "50278A74127", testing::message("s@x.test", {"bob@example.com"}));
  second.put_message("deferred", "60278A74127", testing::message("s@x.test", {"bob@example.com"}));
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--max", "5", "--yes"}), kExitFatal);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(err.str(),
            "qpurge: fatal: the plan has 6 messages, more than --max 5; nothing changed (over all instances)\n");
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--max", "6", "--yes"}), kExitDone)
      << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 2);
}

TEST_F(InstancesTest, SecondInstanceFailingIsPartialAndNamed) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  pf.fail_exit_on_run = 2;
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--yes"}), kExitPartial);
  const std::string one =
      "scanned 1 messages; selected 1 (1 matching recipients); skipped as mixed 0; in progress 0; unreadable 0\n";
  EXPECT_EQ(out.str(), "[default] " + one +
                           "[default] placed on hold 1 of 1 planned; not found 0; changed since planning 0; failed 0\n"
                           "[postfix-out] 40278A74127  deferred  failed: postsuper exited with status 1\n"
                           "[postfix-out] " +
                           one +
                           "[postfix-out] placed on hold 0 of 1 planned; not found 0; changed since planning 0; "
                           "failed 1; not attempted 0\n");
  EXPECT_EQ(err.str(),
            "qpurge: warning: [postfix-out] postsuper said: postsuper: fatal: scan_dir_push: open directory defer: "
            "Permission denied\n"
            "qpurge: warning: [postfix-out] postsuper said: postsuper exited with status 1\n"
            "qpurge: warning: [postfix-out] stopped: postsuper exited with status 1 (deferred, batch 1); no further "
            "postsuper run was started\n");
}

TEST_F(InstancesTest, EveryFormatNamesTheInstance) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  run({"--all-instances", "--domain", "example.com", "--dry-run", "--format", "ids"});
  EXPECT_EQ(out.str(), "default 10278A74127\npostfix-out 40278A74127\n");
  run({"--all-instances", "--domain", "example.com", "--dry-run", "--format", "json"});
  ASSERT_EQ(lines(out.str()).size(), 2u) << out.str();
  EXPECT_EQ(lines(out.str())[0].substr(0, 24), "{\"instance\": \"default\", ") << "first";
  EXPECT_EQ(nlohmann::json::parse(lines(out.str())[0])["instance"], "default");
  EXPECT_EQ(nlohmann::json::parse(lines(out.str())[1])["instance"], "postfix-out");
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--action", "hold", "--yes", "--format", "json"}),
            kExitDone);
  EXPECT_EQ(out.str(),
            "{\"instance\": \"default\", \"queue_name\": \"deferred\", \"queue_id\": \"10278A74127\", \"result\": "
            "\"done\"}\n{\"instance\": \"postfix-out\", \"queue_name\": \"deferred\", \"queue_id\": \"40278A74127\", "
            "\"result\": \"done\"}\n");
}

TEST_F(InstancesTest, ArchiveKeepsOneRunPerInstance) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  std::size_t runs = 0;
  for (const auto& d : std::filesystem::directory_iterator(archive)) runs += d.is_directory();
  EXPECT_EQ(runs, 2u);
  std::filesystem::remove_all(archive);
}

// --mixed cancel --archive over every instance: each instance keeps its own
// run, whose manifest holds the original of its mixed message; each mixed
// message keeps only its other recipient, under its own ID, in its queue.
TEST_F(InstancesTest, CancelWithArchiveKeepsTheOriginalsOfEachInstance) {
  put("deferred", "10278A74127", "s@x.test", {"a@example.com", "keep@ok.test"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"b@example.com", "kept@ok.test"}));
  second.put_message("deferred", "50278A74127", testing::message("s@x.test", {"c@example.com"}));
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--mixed", "cancel", "--archive", archive, "--yes"}),
            kExitDone)
      << err.str();
  EXPECT_EQ(testing::pending_recipients(spool.root() + "/deferred/1/10278A74127"),
            std::vector<std::string>{"keep@ok.test"});
  EXPECT_EQ(testing::pending_recipients(second.root() + "/deferred/4/40278A74127"),
            std::vector<std::string>{"kept@ok.test"});
  EXPECT_FALSE(std::filesystem::exists(second.root() + "/deferred/5/50278A74127")) << "a whole match is deleted";
  std::map<std::string, std::string> manifests;  // instance part of the run name: manifest
  for (const auto& d : std::filesystem::directory_iterator(archive))
    manifests[d.path().filename().string()] = testing::slurp(d.path() / "manifest.jsonl");
  ASSERT_EQ(manifests.size(), 2u);
  std::size_t cancels = 0;
  for (const auto& [name, manifest] : manifests) {
    const bool second_instance = name.find("postfix-out") != std::string::npos;
    EXPECT_NE(manifest.find(second_instance ? "40278A74127" : "10278A74127"), std::string::npos) << name;
    EXPECT_EQ(manifest.find(second_instance ? "10278A74127" : "40278A74127"), std::string::npos) << name;
    for (const std::string& line : lines(manifest)) cancels += line.find("\"cancel\": true") != std::string::npos;
  }
  EXPECT_EQ(cancels, 2u) << "one canceled original a run";
  std::filesystem::remove_all(archive);
}

// Regression (issue 19, M_allinst_archive): with a dot in an instance's name
// the run directory lost the process ID, and the second instance's collided.
TEST_F(InstancesTest, ArchiveRunNamesKeepTheInstanceAndTheProcessWhateverTheDots) {
  pf.postmulti_output =
      "mx.a            mta             y         /etc/postfix\n"
      "mx.b            mta             y         /etc/postfix-out\n";
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  const std::string archive = spool.root() + "-archive";
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--archive", archive, "--yes"}), kExitDone) << err.str();
  std::vector<std::string> names;
  for (const auto& d : std::filesystem::directory_iterator(archive)) names.push_back(d.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"20261123T105330Z-mx.test-mx_a-4242", "20261123T105330Z-mx.test-mx_b-4242"}));
  std::filesystem::remove_all(archive);
}

// --all-instances: every queue is locked, in sorted order, before any instance plans.
TEST_F(InstancesTest, LocksEveryQueueBeforeAnyPlans) {
  put("deferred", "10278A74127", "s@x.test", {"bob@example.com"});
  second.put_message("deferred", "40278A74127", testing::message("s@x.test", {"bob@example.com"}));
  std::vector<std::string> sorted = {spool.root(), second.root()};
  std::sort(sorted.begin(), sorted.end());
  sys.busy = {sorted[1]};
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--yes", "--rate", "3"}), kExitFatal);
  EXPECT_EQ(sys.lock_tries, sorted);
  EXPECT_EQ(sys.locks_held, 0) << "the first lock is let go";
  EXPECT_EQ(err.str(), "qpurge: fatal: [default] another qpurge is acting on " + sorted[1] +
                           " (PID 4242: qpurge --all --yes; lock file " + sys.lock_path(sorted[1]) +
                           "); nothing changed (--wait SECONDS waits for it); no instance was acted on\n");
  EXPECT_EQ(out.str(), "") << "nothing planned";
  EXPECT_EQ(pf.postsuper_runs(), 0);
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--dry-run"}), kExitDone) << err.str();
  sys.busy.clear();
  sys.lock_tries.clear();
  sys.locked.clear();
  EXPECT_EQ(run({"--all-instances", "--domain", "example.com", "--yes", "--rate", "3"}), kExitDone) << err.str();
  EXPECT_EQ(sys.locked, sorted);
  EXPECT_EQ(sys.locks_held, 0);
  EXPECT_EQ(pf.postsuper_runs(), 2);
}

}  // namespace
}  // namespace qpurge
