// SPDX-License-Identifier: MIT
// writer.h - a purge that can be undone: copies of queue files taken before
// their IDs are handed to postsuper, for `qpurge --restore` to put back.
//
// ArchiveWriter writes one run directory in the format of manifest.h: the
// copies of the messages it stores and the manifest's records about them.
// Every file is written under a temporary name, fsynced, renamed into place
// and the directory fsynced; every manifest record is appended whole or not
// at all. A message is stored completely (its files and its manifest
// record) or not at all: when store() fails it removes what it wrote of
// that message, and the caller must not hand that ID to postsuper.
//
// Least privilege: queue files and logs are opened read-only, never
// through a symbolic link, never blocking, and must be regular files;
// nothing under the queue directory is written. The archive holds mail:
// directories are 0700, files keep their queue mode (0700 for a complete
// queue file) or 0600 while being written.
//
// Failure: every function returns false (or nullptr) with an error naming
// the path and the errno text.
#ifndef QPURGE_ARCHIVE_WRITER_H_
#define QPURGE_ARCHIVE_WRITER_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "qpurge/act/journal.h"
#include "qpurge/archive/manifest.h"
#include "qpurge/plan/plan.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {

// The run's journal steps go into its manifest (StepLog, act/journal.h):
// "handed" before each group of IDs is written to postsuper, "outcome" as
// each batch settles, so that what happened to every stored message is on
// disk whatever becomes of the run.
class ArchiveWriter : public StepLog {
 public:
  // Creates ARCHIVE_DIR (and missing parents, 0700) and the run directory
  // (0700, never an existing one: mkdir failing is an error), writes
  // manifest.jsonl with the run record and fsyncs it and the directories.
  // Refuses an archive directory at or under header.queue_directory
  // (symlinks resolved). On failure the run directory is removed again.
  // `sys`: the system calls its copies and records make (util/posix_io.h).
  static std::unique_ptr<ArchiveWriter> create(const std::string& archive_dir, const ArchiveHeader& header,
                                               std::string& error, const SysCalls& sys = SysCalls::real());
  // Opens the run directory `run_dir` of a run that died, to go on writing
  // it (the recovery of that run, app/recover.h): its manifest is locked and
  // read, so a message it stored already is not stored twice.
  static std::unique_ptr<ArchiveWriter> reopen(const std::string& run_dir, std::string& error,
                                               const SysCalls& sys = SysCalls::real());
  ~ArchiveWriter() override;
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  const std::string& path() const { return path_; }

  // Copies QUEUE_DIR/<entry.path()> into the run directory as <queue_id>,
  // with its defer and bounce logs when they exist, and appends the message
  // record. Refuses an invalid queue ID or queue directory component, a file
  // that is not regular or is a symlink, a file whose inode is not the
  // planned one (entry.inode, when not 0), a file that is not a queue file
  // cleanup wrote (its first record not the size record 'C': a postdrop file
  // from maildrop, which --restore could not put back), and an ID already
  // stored in this run. On failure nothing of that message is left and no record is
  // written: the caller must not delete that message.
  //
  // With `canceled` (--mixed cancel: the recipients about to be crossed off
  // in the message, which stays in the queue), the record says so and names
  // them with their offsets, and the logs copied hold only their entries
  // (manifest.h); it is synced before store() returns, whatever
  // defer_sync() said. The caller stores it while it holds the message
  // locked in hold, and crosses off only once this returned true.
  bool store(const std::string& queue_dir, const PlanEntry& entry, std::string& error,
             const std::vector<PlanRecipient>* canceled = nullptr);

  // "handed" records for the stored ones of `ids` (an ID not stored is not
  // the archive's business), made durable by the sync() that must follow
  // before they are written to postsuper (only "delete" is recorded).
  bool announce(std::string_view action, const std::vector<StepId>& ids, std::string& error) override;
  // One "outcome" record per result whose ID was stored, in one fsynced
  // write. Nothing to write is success.
  bool settle(const std::vector<IdResult>& results, std::string& error) override;

  // Batched durability, for speed: from now on store() leaves syncing to
  // sync(), which makes everything stored so far durable at once (syncfs on
  // the archive's file system). The caller must call sync() and see it
  // succeed before it deletes anything stored since the last sync().
  void defer_sync() { defer_sync_ = true; }
  bool sync(std::string& error);

  std::uint64_t stored_messages() const { return stored_messages_; }
  // Bytes written into the run directory for stored messages: queue files and logs.
  std::uint64_t stored_bytes() const { return stored_bytes_; }

 private:
  ArchiveWriter(std::string path, Fd dir, Fd manifest, const SysCalls& sys);
  bool append_manifest(const std::string& lines, bool sync, std::string& error);

  std::string path_;
  Fd dir_;
  Fd manifest_;
  const SysCalls& sys_;
  bool defer_sync_ = false;
  std::set<std::string> stored_ids_;
  std::uint64_t stored_messages_ = 0;
  std::uint64_t stored_bytes_ = 0;
};

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_WRITER_H_
