// SPDX-License-Identifier: MIT
// journal.h - what an acting run is about to do, on disk before it does it.
//
// Postfix's rule is the model: the queue file is the transaction, and a
// crash leaves nothing that `postsuper -s` cannot repair. qpurge's steps
// (hold, hand IDs to postsuper, write a file into the queue, release) live
// outside the queue file, so every acting run keeps a journal: one file per
// instance, JOURNAL_DIR/q-<device>-<inode>.journal (the queue directory's
// device and inode, as the run lock names the instance), JSON Lines, each
// record synced before the step it announces:
//   {"record": "run", "version": 1, "run": R, "pid": P, "started": T,
//    "host": H, "argv": [...], "mode": "purge"|"restore", "action": A,
//    "via_hold": B, "mixed": M, "regex": B, "decode_headers": B,
//    "body_limit": N, "queue_directory": D, "config_directory": C,
//    "archive": DIR?, "criteria": [...]}                  (first, once)
//   {"record": "hold", "ids": [{"id", "queue", "inode"}]}  (postsuper -h next)
//   {"record": "hand", "action": A, "ids": [...]}           (postsuper -A next)
//   {"record": "result", "results": [{"id", "queue", "result", "detail"?}]}
//   {"record": "release", "ids": [...]}                     (postsuper -H next)
//   {"record": "stop", "why": TEXT}        (the operator stopped the run)
//   {"record": "cancel", "ids": [...]}      (--mixed cancel: the message in
//                                           hold is about to be crossed off)
//   {"record": "crossed", "ids": [...]}     (its recipients are crossed off
//                                           and its logfiles edited)
// A run that has an archive announces its hand and result steps in the
// archive manifest instead (manifest.h, where restore reads them), and its
// journal names the archive; a restore announces the files it writes into
// the queue in the manifest of the run it restores.
//
// The journal exists only while a run acts: it is created (atomically, by
// rename) after the run takes the instance lock and before its first step,
// and removed when the run has recorded its result. One left behind belongs
// to a run that died; since runs take the same lock, the next one knows its
// writer is gone, and finishes or undoes what it announced (app/recover.h)
// before it plans anything of its own.
//
// The journal directory is JOURNAL_DIR = $QPURGE_STATE_DIR/journal, by
// default /var/lib/qpurge/journal (it must outlive a reboot: /run does not),
// made 0700 and trusted only when root alone can change it
// (util/posix_io.h's trusted_directory()).
//
// Failure: functions return false with `error` naming the file and the
// cause; a journal that cannot be written stops the run before the step.
#ifndef QPURGE_ACT_JOURNAL_H_
#define QPURGE_ACT_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qpurge/plan/plan.h"
#include "qpurge/plan/plan_file.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {

inline constexpr const char* kDefaultStateDir = "/var/lib/qpurge";
inline constexpr const char* kStateDirVariable = "QPURGE_STATE_DIR";
inline constexpr int kJournalVersion = 1;

// The run a journal belongs to: its first record.
struct JournalHeader {
  std::string run_id;
  long pid = 0;
  std::int64_t started = 0;
  std::string host;
  std::vector<std::string> argv;
  std::string mode = "purge";  // purge | restore
  std::string action = "delete";
  bool via_hold = false;
  std::string mixed = "skip";
  bool regex = false;
  bool decode_headers = false;
  std::uint64_t body_limit = 0;
  std::string queue_directory;
  std::string config_directory;
  std::string archive;  // the archive run directory the run writes (purge) or reads (restore); "" = none
  std::vector<PlanCriterion> criteria;
};

// A message named by a step: enough to find it again and to know it is the
// same file.
struct StepId {
  std::string id;
  std::string queue;
  std::uint64_t inode = 0;
};

// What a journal says, read back.
struct JournalContents {
  JournalHeader header;
  std::vector<StepId> held;       // announced for postsuper -h (via hold)
  std::vector<StepId> handed;     // announced for postsuper (any action)
  std::vector<IdResult> results;  // as postsuper's batches settled
  std::vector<StepId> released;   // announced for postsuper -H
  std::vector<StepId> canceling;  // about to be crossed off in hold (--mixed cancel)
  std::vector<StepId> crossed;    // crossed off, logfiles edited
  std::string stopped;            // why the operator stopped it; "" = not stopped
  bool torn = false;              // the last line was cut by the crash (ignored)
};

// Where steps are announced: the journal, or an archive's manifest.
class StepLog {
 public:
  virtual ~StepLog() = default;
  // Records that `ids` are about to be handed to postsuper for `action`
  // ("hold", "delete", "release", ...), or that a message in hold is
  // about to be crossed off ("cancel") or was ("crossed"). Durable when it returns true, or,
  // for a log whose durability is batched, after its next sync.
  virtual bool announce(std::string_view action, const std::vector<StepId>& ids, std::string& error) = 0;
  // Records how a batch settled.
  virtual bool settle(const std::vector<IdResult>& results, std::string& error) = 0;
};

// JOURNAL_DIR for `state_dir` ("" = $QPURGE_STATE_DIR or the default).
std::string journal_directory(const std::string& state_dir = "");
// The journal of the instance whose queue directory is `queue_directory`,
// in `journal_dir`; false with `error` when the queue directory cannot be
// examined.
bool journal_path(const std::string& journal_dir, const std::string& queue_directory, std::string& path,
                  std::string& error);

class Journal : public StepLog {
 public:
  // Makes the journal directory if missing (0700) and checks that it is
  // trusted, then writes the header to a new journal at `path` atomically.
  // Refuses when a journal is there already (a dead run's: recover first).
  static std::unique_ptr<Journal> begin(const std::string& path, const JournalHeader& header, std::string& error,
                                        const SysCalls& sys = SysCalls::real());
  // Opens the journal a dead run left, to go on announcing the steps that
  // recover it (so a recovery that dies too is recovered again).
  static std::unique_ptr<Journal> reopen(const std::string& path, std::string& error,
                                         const SysCalls& sys = SysCalls::real());
  ~Journal() override;

  bool announce(std::string_view action, const std::vector<StepId>& ids, std::string& error) override;
  bool settle(const std::vector<IdResult>& results, std::string& error) override;
  // The operator asked the run to stop: its held messages are to be released.
  bool stopped(const std::string& why, std::string& error);
  // The run is over and its result recorded: the journal is removed.
  bool finish(std::string& error);
  const std::string& path() const { return path_; }

 private:
  Journal(std::string path, Fd fd, const SysCalls& sys) : path_(std::move(path)), fd_(std::move(fd)), sys_(sys) {}
  bool append(const std::string& line, std::string& error);
  std::string path_;
  Fd fd_;
  const SysCalls& sys_;
};

// Reads the journal at `path`. False with `error` when it cannot be read or
// its header is not one; `exists` false (and true returned) when there is
// none. Records after a torn last line are not there; a torn last line is
// ignored (its step was not announced, so it was not taken).
bool read_journal(const std::string& path, JournalContents& out, bool& exists, std::string& error);
// Removes a journal that recovery has finished (and syncs its directory).
bool remove_journal(const std::string& path, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_ACT_JOURNAL_H_
