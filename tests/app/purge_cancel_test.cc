// SPDX-License-Identifier: MIT
// purge_cancel_test.cc - --mixed cancel through the whole command on a
// temporary spool with the fake postsuper: what a dry run shows and leaves
// alone, and what the acting twin changes, prints and records.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <set>

#include "qpurge/archive/manifest.h"
#include "qpurge/report/output.h"
#include "qpurge/spool/queue_file.h"
#include "support/cli_fixture.h"
#include "support/files.h"

namespace qpurge {
namespace {

class PurgeCancelTest : public testing::CliFixture {
 protected:
  // Mixed with one and two matching recipients (any case), all matching,
  // none matching, a lookalike domain, and mixed on hold.
  void fill_mixed() {
    put("deferred", "10278A74127", "s@x.test", {"a@dead.example", "b@ok.test"});
    put("deferred", "20278A74127", "s@x.test", {"A@DEAD.EXAMPLE", "c@dead.example", "d@ok.test"});
    put("deferred", "30278A74127", "s@x.test", {"e@dead.example", "f@dead.example"});
    put("deferred", "40278A74127", "s@x.test", {"g@ok.test"});
    put("deferred", "50278A74127", "s@x.test", {"h@notdead.example", "i@dead.example.org"});
    put("hold", "60278A74127", "s@x.test", {"j@dead.example", "k@ok.test"});
  }
  std::vector<std::string> pending(const std::string& rel) const {
    return testing::pending_recipients(spool.root() + "/" + rel);
  }
  void TearDown() override { std::filesystem::remove_all(archive); }
  std::string run_dir() const { return std::filesystem::directory_iterator(archive)->path(); }
  // The names of the files in hold.
  std::vector<std::string> hold_files() const {
    std::vector<std::string> out;
    for (const auto& f : std::filesystem::directory_iterator(spool.root() + "/hold"))
      out.push_back(f.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  // "first five characters of the name: pending recipients" of each file in `queue`.
  std::multiset<std::string> by_prefix(const std::string& queue) const {
    std::multiset<std::string> out;
    for (const auto& f : std::filesystem::recursive_directory_iterator(spool.root() + "/" + queue)) {
      if (!f.is_regular_file()) continue;
      std::string line = f.path().filename().string().substr(0, 5) + ":";
      for (const std::string& r : testing::pending_recipients(f.path())) line += " " + r;
      out.insert(line);
    }
    return out;
  }
  std::string snapshot() {
    std::string s;
    for (auto& f : std::filesystem::recursive_directory_iterator(spool.root()))
      if (f.is_regular_file()) s += f.path().string() + "\n" + testing::slurp(f.path()) + "\n";
    return s;
  }

  const std::string archive = spool.root() + "-archive";
};

using Rcpts = std::vector<std::string>;

// A disk that fills up while an archive copy is written: every write to a
// copy being made (a ".tmp" file of the archive) fails with ENOSPC.
ssize_t full_archive_write(int fd, const void* data, std::size_t size) {
  char link[4096];
  const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1);
  const std::string path(link, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (path.find("-archive/") != std::string::npos && path.ends_with(".tmp")) {
    errno = ENOSPC;
    return -1;
  }
  return SysCalls::real().write_fd(fd, data, size);
}
const SysCalls& full_archive() {
  static SysCalls calls = SysCalls::real();
  calls.write_fd = full_archive_write;
  return calls;
}

TEST_F(PurgeCancelTest, DryRunShowsWhatWouldBeCanceledAndKeptAndChangesNothing) {
  fill_mixed();
  const std::string before = snapshot();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(pf.postsuper_runs(), 0);
  const std::string o = out.str();
  EXPECT_NE(o.find("    cancels -> a@dead.example\n    mixed, keeps: b@ok.test\n"), std::string::npos) << o;
  EXPECT_NE(o.find("    cancels -> A@DEAD.EXAMPLE, c@dead.example\n    mixed, keeps: d@ok.test\n"), std::string::npos)
      << o;
  EXPECT_NE(o.find("-> e@dead.example, f@dead.example\n"), std::string::npos) << o;
  EXPECT_NE(o.find("(recipients to cancel in mixed 3)"), std::string::npos) << o;
  EXPECT_EQ(o.find("40278A74127"), std::string::npos);
  EXPECT_EQ(o.find("50278A74127"), std::string::npos);
}

TEST_F(PurgeCancelTest, DryRunInJsonMarksTheCancel) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--dry-run", "--format", "json"}), kExitDone);
  EXPECT_NE(out.str().find("\"mixed\": true, \"cancel\": true"), std::string::npos) << out.str();
}

TEST_F(PurgeCancelTest, CancelsTheMatchingRecipientsAndDeletesTheWholeMatches) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(pending("deferred/1/10278A74127"), Rcpts{"b@ok.test"});
  EXPECT_EQ(pending("deferred/2/20278A74127"), Rcpts{"d@ok.test"});
  EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});  // deleted
  EXPECT_EQ(pending("deferred/4/40278A74127"), Rcpts{"g@ok.test"});
  EXPECT_EQ(pending("deferred/5/50278A74127"), (Rcpts{"h@notdead.example", "i@dead.example.org"}));
  EXPECT_EQ(pending("hold/60278A74127"), Rcpts{"k@ok.test"});  // still on hold
  EXPECT_NE(out.str().find("; canceled 4 recipients in 3 messages (of 3 mixed; changed since planning 0; not done 0)"),
            std::string::npos)
      << out.str();
  // intent, one record per message whose recipients were canceled, result
  ASSERT_EQ(sys.audit_lines.size(), 5u);
  std::set<std::string> records;
  EXPECT_EQ(audit_field(4, "event"), "\"result\"");
  for (std::size_t i = 1; i < 4; ++i)
    records.insert(audit_field(i, "event") + audit_field(i, "canceled") + audit_field(i, "kept"));
  EXPECT_EQ(records, (std::set<std::string>{"\"cancel\"[\"A@DEAD.EXAMPLE\",\"c@dead.example\"][\"d@ok.test\"]",
                                            "\"cancel\"[\"a@dead.example\"][\"b@ok.test\"]",
                                            "\"cancel\"[\"j@dead.example\"][\"k@ok.test\"]"}));
}

TEST_F(PurgeCancelTest, IdsOutputNeverListsAMessageThatKeepsMail) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes", "--format", "ids"}), kExitDone);
  EXPECT_EQ(out.str(), "30278A74127\n");
}

TEST_F(PurgeCancelTest, MaxCountsTheMessagesTouched) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes", "--max", "3"}), kExitFatal);
  EXPECT_NE(err.str().find("the plan has 4 messages, more than --max 3"), std::string::npos) << err.str();
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

TEST_F(PurgeCancelTest, ViaHoldDeletesTheWholeMatchesThroughHold) {
  fill_mixed();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--via-hold", "--yes"}), kExitDone) << err.str();
  EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});
  EXPECT_EQ(pending("deferred/1/10278A74127"), Rcpts{"b@ok.test"});
}

// A saved plan carries the recipients to cancel; applying it cancels them,
// and refuses a message whose recipients changed since.
TEST_F(PurgeCancelTest, APlanCarriesTheRecipientsToCancel) {
  fill_mixed();
  const std::string before = snapshot();
  ASSERT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--save-plan", "p.json"}), kExitDone) << err.str();
  EXPECT_EQ(snapshot(), before);
  put("deferred", "10278A74127", "s@x.test", {"b@ok.test", "a@dead.example"});  // rewritten: offsets moved
  EXPECT_EQ(run({"--apply-plan", "p.json", "--yes"}), kExitPartial) << err.str();
  EXPECT_EQ(pending("deferred/1/10278A74127"), (Rcpts{"b@ok.test", "a@dead.example"}));
  EXPECT_EQ(pending("deferred/2/20278A74127"), Rcpts{"d@ok.test"});
  EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});
  EXPECT_EQ(pending("hold/60278A74127"), Rcpts{"k@ok.test"});
  EXPECT_NE(out.str().find("canceled 3 recipients in 2 messages (of 3 mixed; changed since planning 1"),
            std::string::npos)
      << out.str();
}

// Issue 22: --archive with --mixed cancel. The dry run says what would be
// kept, and makes nothing, not even the archive directory.
TEST_F(PurgeCancelTest, ArchiveDryRunSaysTheOriginalsWouldBeKeptAndChangesNothing) {
  fill_mixed();
  const std::string before = snapshot();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--dry-run"}), kExitDone)
      << err.str();
  EXPECT_NE(out.str().find("dry run: --archive " + archive +
                           " would keep 4 messages (1 before they are deleted, the originals of 3 mixed before "
                           "their recipients are canceled)\n"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(snapshot(), before);
  EXPECT_FALSE(std::filesystem::exists(archive));
  EXPECT_EQ(pf.postsuper_runs(), 0);
}

// The acting twin: the originals are archived before the cross-off, their
// outcome recorded; a restore gives back copies addressed to the canceled
// recipients only, on hold, under new IDs; the originals keep their kept
// recipients; a second restore adds nothing.
TEST_F(PurgeCancelTest, ArchiveThenRestoreGivesBackOnlyTheCanceledRecipients) {
  fill_mixed();
  const std::string original = testing::slurp(spool.root() + "/deferred/1/10278A74127");
  ASSERT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--yes"}), kExitDone)
      << err.str();
  EXPECT_NE(out.str().find("canceled 4 recipients in 3 messages"), std::string::npos) << out.str();
  const std::string rundir = run_dir();
  EXPECT_EQ(testing::slurp(rundir + "/10278A74127"), original);  // the original, before the cross-off
  ArchiveManifest m;
  std::string error;
  ASSERT_TRUE(read_manifest(rundir, m, error)) << error;
  ASSERT_EQ(m.messages.size(), 4u);
  std::map<std::string, std::string> kinds;
  for (const ArchivedMessage& a : m.messages)
    kinds[a.queue_id] = std::string(a.cancel ? "cancel " : "whole ") + (a.deleted() ? "done" : a.result);
  EXPECT_EQ(kinds, (std::map<std::string, std::string>{{"10278A74127", "cancel done"},
                                                       {"20278A74127", "cancel done"},
                                                       {"30278A74127", "whole done"},
                                                       {"60278A74127", "cancel done"}}));

  ASSERT_EQ(run({"--restore", rundir, "--dry-run"}), kExitDone) << err.str();
  EXPECT_NE(out.str().find("10278A74127  would_restore (canceled-recipient copy, to a@dead.example): " + spool.root() +
                           "/hold/10278"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(hold_files(), Rcpts{"60278A74127"});

  ASSERT_EQ(run({"--restore", rundir, "--yes", "--format", "json"}), kExitDone) << err.str();
  EXPECT_NE(out.str().find("\"canceled_recipients\": [\"A@DEAD.EXAMPLE\", \"c@dead.example\"]"), std::string::npos)
      << out.str();
  // The fake postsuper -s renames every file whose name is not its inode,
  // so messages are known by their first five characters and recipients.
  EXPECT_EQ(by_prefix("hold"),
            (std::multiset<std::string>{"10278: a@dead.example", "20278: A@DEAD.EXAMPLE c@dead.example",
                                        "30278: e@dead.example f@dead.example", "60278: j@dead.example",
                                        "60278: k@ok.test"}));
  // The originals still hold their kept recipients.
  EXPECT_EQ(by_prefix("deferred"),
            (std::multiset<std::string>{"10278: b@ok.test", "20278: d@ok.test", "40278: g@ok.test",
                                        "50278: h@notdead.example i@dead.example.org"}));
  const std::size_t in_hold = hold_files().size();
  EXPECT_EQ(run({"--restore", rundir, "--yes"}), kExitNothing) << err.str();
  EXPECT_EQ(hold_files().size(), in_hold);
  EXPECT_EQ(run({"--archives", archive}), kExitDone);
  EXPECT_NE(out.str().find("  4 messages  "), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("  4 restored  3 canceled-recipient copies  --domain dead.example"), std::string::npos)
      << out.str();
}

// Restore selectors judge the copy that would go back: addressed to the
// canceled recipients only, under the queue ID the purge saw.
TEST_F(PurgeCancelTest, RestoreSelectorsJudgeTheCanceledRecipientsCopy) {
  fill_mixed();
  ASSERT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--yes"}), kExitDone);
  const std::string rundir = run_dir();
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--recipient", "b@ok.test"}), kExitNothing) << err.str();
  EXPECT_EQ(hold_files(), Rcpts{"60278A74127"});
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--recipient", "a@dead.example", "--exclude-id", "20278A74127"}),
            kExitDone)
      << err.str();
  EXPECT_EQ(hold_files().size(), 2u);
  EXPECT_EQ(run({"--restore", rundir, "--yes", "--id", "20278A74127"}), kExitDone) << err.str();
  EXPECT_EQ(hold_files().size(), 3u);
}

// Fail closed: a copy that cannot be made (the archive's disk is full)
// leaves the message as it was, released, reported not_archived, exit 3.
TEST_F(PurgeCancelTest, AMessageWhoseCopyCannotBeMadeIsNotChanged) {
  fill_mixed();
  sys.calls = &full_archive();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--yes", "--format", "json"}),
            kExitPartial)
      << err.str();
  sys.calls = &SysCalls::real();
  EXPECT_NE(out.str().find("{\"queue_name\": \"hold\", \"queue_id\": \"10278A74127\", \"result\": "
                           "\"not_archived\", \"detail\": \"not canceled: its copy could not be made: "),
            std::string::npos)
      << out.str();
  EXPECT_EQ(pending("deferred/1/10278A74127"), (Rcpts{"a@dead.example", "b@ok.test"}));
  EXPECT_EQ(pending("deferred/2/20278A74127"), (Rcpts{"A@DEAD.EXAMPLE", "c@dead.example", "d@ok.test"}));
  EXPECT_EQ(pending("deferred/3/30278A74127"), (Rcpts{"e@dead.example", "f@dead.example"}));  // not deleted
  EXPECT_EQ(pending("hold/60278A74127"), (Rcpts{"j@dead.example", "k@ok.test"}));
  EXPECT_EQ(hold_files(), Rcpts{"60278A74127"});  // nothing qpurge held is left there
  EXPECT_NE(err.str().find("not done 3"), std::string::npos) << err.str() << out.str();
}

// The options that go with both: through hold, a saved plan, a cap, a rate.
TEST_F(PurgeCancelTest, ArchiveGoesWithViaHoldAPlanMaxAndRate) {
  for (const std::vector<std::string>& more :
       {std::vector<std::string>{"--via-hold"}, {"--max", "4", "--rate", "50"}, {"--plan"}}) {
    SCOPED_TRACE(more[0]);
    std::filesystem::remove_all(archive);
    std::filesystem::remove_all(spool.root() + "/deferred");
    std::filesystem::remove_all(spool.root() + "/hold");
    fill_mixed();
    std::vector<std::string> args{"--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--yes"};
    if (more[0] == "--plan") {
      args.pop_back();
      args.insert(args.end(), {"--save-plan", "p.json"});
      ASSERT_EQ(run(args), kExitDone) << err.str();
      args = {"--apply-plan", "p.json", "--yes"};
    } else {
      args.insert(args.end(), more.begin(), more.end());
    }
    ASSERT_EQ(run(args), kExitDone) << err.str();
    EXPECT_EQ(pending("deferred/1/10278A74127"), Rcpts{"b@ok.test"});
    EXPECT_EQ(pending("deferred/3/30278A74127"), Rcpts{"(none)"});
    ArchiveManifest m;
    std::string error;
    ASSERT_TRUE(read_manifest(run_dir(), m, error)) << error;
    std::size_t done = 0;
    for (const ArchivedMessage& a : m.messages) done += a.deleted();
    EXPECT_EQ(done, 4u);
  }
  std::filesystem::remove_all(archive);
  std::filesystem::remove_all(spool.root() + "/deferred");
  std::filesystem::remove_all(spool.root() + "/hold");
  fill_mixed();
  const std::string before = snapshot();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--yes", "--max", "3"}),
            kExitFatal);
  EXPECT_EQ(snapshot(), before);
  EXPECT_FALSE(std::filesystem::exists(archive));
}

// A mixed message in the active queue is the queue manager's (it_cancel_live
// lost mail when qpurge held one): it is not held, not changed, and reported
// changed; the dry run plans it, as it plans everything it reads.
TEST_F(PurgeCancelTest, AMixedMessageInTheActiveQueueIsLeftToTheQueueManager) {
  put("active", "A0278A74127", "s@x.test", {"a@dead.example", "b@ok.test"});
  put("deferred", "10278A74127", "s@x.test", {"c@dead.example", "d@ok.test"});
  const std::string before = snapshot();
  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--dry-run"}), kExitDone) << err.str();
  EXPECT_EQ(snapshot(), before);
  EXPECT_NE(out.str().find("(recipients to cancel in mixed 2)"), std::string::npos) << out.str();

  EXPECT_EQ(run({"--domain", "dead.example", "--mixed", "cancel", "--yes", "--format", "json"}), kExitPartial)
      << err.str();
  EXPECT_EQ(pending("active/A0278A74127"), (Rcpts{"a@dead.example", "b@ok.test"}));
  EXPECT_EQ(pending("deferred/1/10278A74127"), Rcpts{"d@ok.test"});
  for (const auto& c : pf.calls) EXPECT_EQ(c.input.find("A0278A74127"), std::string::npos) << c.argv[1];
  EXPECT_NE(out.str().find("\"queue_id\": \"A0278A74127\", \"result\": \"changed\", \"detail\": \"in the active "
                           "queue: the queue manager is delivering it\""),
            std::string::npos)
      << out.str();
  EXPECT_NE(err.str().find("canceled 1 recipients in 1 messages (of 2 mixed; changed since planning 1; not done 0)"),
            std::string::npos)
      << err.str();
}

}  // namespace
}  // namespace qpurge
