// SPDX-License-Identifier: MIT
// archive.h - a purge that can be undone: copies of queue files taken before
// their IDs are handed to postsuper, for `qpurge --restore` to put back.
//
// One run writes one run directory, ARCHIVE_DIR/<UTC YYYYmmddTHHMMSSZ>-<host>-
// <short run id>/ (mode 0700, created new: an existing one is never reused),
// holding for each stored message
//   <queue_id>          the queue file, byte for byte, its mode and times kept
//   <queue_id>.defer    its defer log, if Postfix kept one (defer/[hash/]ID)
//   <queue_id>.bounce   its bounce log, likewise (trace logs are not kept)
// and manifest.jsonl, JSON Lines written with JsonWriter, format version 1.
// As in plan files, strings are text-escaped (escape.h: a byte that is not
// UTF-8 becomes the four characters \xHH) and the ones that identify a
// message exactly are also stored as hex ("..._hex"); a lone surrogate
// (JsonWriter's lossless form) would make nlohmann::json, and so restore,
// refuse the whole line. The archived files themselves are the exact bytes.
//   {"record": "run", "version": 1, "created": SECONDS, "host": H, "run": RUN_ID,
//    "queue_directory": D, "config_directory": C, "action": "delete",
//    "criteria": [{"option": O, "values": [...], "values_hex": [...]}],
//    "argv": [...]}
//   {"record": "message", "queue_name": Q, "queue_id": ID, "inode": N,
//    "arrival_time": T, "sender": S, "sender_hex": HEX,
//    "recipients": [{"address": A, "address_hex": HEX, "original_recipient": O?}],
//    "message_size": N, "file_size": BYTES, "file": ID, "mode": 700,
//    "logs": ["ID.defer", "ID.bounce"], "sha256": HEX}
//   {"record": "outcome", "queue_id": ID, "queue_name": Q, "result": R, "detail": T?}
// "recipients" are the entry's pending recipients; "original_recipient" is
// there only when the queue file has one. "mode" is the permission bits
// written in octal digits read as a decimal integer (0700 -> 700, as
// `stat -c %a` prints them). "file_size" is the number of bytes copied and
// "sha256" their digest. "logs" lists only the logs stored. "result" is
// outcome_name() (execute.h). Restore appends records of its own.
//
// Every file is written under a temporary name, fsynced, renamed into place
// and the directory fsynced; every manifest record is one write() of a whole
// line, fsynced, or is truncated away. A message is stored completely (its
// files and its manifest record) or not at all: when store() fails it
// removes what it wrote of that message, and the caller must not hand that
// ID to postsuper.
//
// Least privilege: queue files and logs are opened O_RDONLY | O_NOFOLLOW |
// O_NONBLOCK and must be regular files; nothing under the queue directory is
// written. The archive holds mail: directories are 0700, files keep their
// queue mode (0700 for a complete queue file) or 0600 while being written.
//
// Failure: every function returns false (or nullptr) with an error naming the
// path and the errno text.
#ifndef QPURGE_ARCHIVE_H_
#define QPURGE_ARCHIVE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/execute.h"
#include "qpurge/plan.h"
#include "qpurge/plan_file.h"

namespace qpurge {

inline constexpr const char* kArchiveManifest = "manifest.jsonl";
inline constexpr int kArchiveVersion = 1;

struct ArchiveHeader {
  std::int64_t created = 0;  // the run's clock (seconds); names the run directory (UTC)
  std::string host;
  std::string run_id;  // any short string, e.g. "1795344810.4242"; the directory uses a short form
  std::string queue_directory, config_directory, action = "delete";
  std::vector<PlanCriterion> criteria;
  std::vector<std::string> argv;
};

// The name of a run directory (no path): "20261122T083330Z-mx1-4242".
// Characters of the host and run id other than [A-Za-z0-9._-] become '_';
// the host is cut at 64 characters; the short run id is what follows the
// last '.' of the run id (the whole run id when there is none), cut at 32.
std::string archive_run_name(const ArchiveHeader& header);

class ArchiveRun {
 public:
  // write(2), or a stand-in with its contract, so tests can make writes fail
  // or come up short (copies and manifest records alike).
  using WriteFn = ssize_t (*)(int fd, const void* data, std::size_t size);

  // Creates ARCHIVE_DIR (and missing parents, 0700) and the run directory
  // (0700, never an existing one: mkdir failing is an error), writes
  // manifest.jsonl with the run record and fsyncs it and the directories.
  // Refuses an archive directory at or under header.queue_directory
  // (symlinks resolved). On failure the run directory is removed again.
  static std::unique_ptr<ArchiveRun> create(const std::string& archive_dir, const ArchiveHeader& header,
                                            std::string& error, WriteFn write = nullptr);
  ~ArchiveRun();
  ArchiveRun(const ArchiveRun&) = delete;
  ArchiveRun& operator=(const ArchiveRun&) = delete;

  const std::string& path() const { return path_; }

  // Copies QUEUE_DIR/<entry.path()> into the run directory as <queue_id>,
  // with its defer and bounce logs when they exist, and appends the message
  // record. Refuses an invalid queue ID or queue directory component, a file
  // that is not regular or is a symlink, a file whose inode is not the
  // planned one (entry.inode, when not 0), and an ID already stored in this
  // run. On failure nothing of that message is left and no record is
  // written: the caller must not delete that message.
  bool store(const std::string& queue_dir, const PlanEntry& entry, std::string& error);

  // After acting: one "outcome" record per result whose ID was stored
  // (queue name and ID), in one fsynced write. Results of IDs not stored
  // are left out. Nothing to write is success.
  bool record_outcomes(const std::vector<IdResult>& results, std::string& error);

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
  ArchiveRun(std::string path, int dir_fd, int manifest_fd, WriteFn write);
  bool append_manifest(const std::string& lines, std::string& error);
  bool defer_sync_ = false;

  std::string path_;
  int dir_fd_ = -1;
  int manifest_fd_ = -1;
  WriteFn write_;
  std::set<std::string> stored_ids_;
  std::uint64_t stored_messages_ = 0;
  std::uint64_t stored_bytes_ = 0;
};

// Whether `bytes` fit on the file system of ARCHIVE_DIR (or of its nearest
// existing parent, when it does not exist yet) with a margin of 10% + 1 MiB,
// against statvfs f_bavail * f_frsize. False with an error like "archive
// DIR: 12.0 MiB needed (with a margin), 3.2 MiB free on its file system;
// name another file system with --archive", or one naming what could not be
// examined.
bool archive_fits(const std::string& archive_dir, std::uint64_t bytes, std::string& error);

// The space archive_fits() asks for `bytes`: bytes + 10% + 1 MiB (saturating).
std::uint64_t archive_space_needed(std::uint64_t bytes);

// SHA-256 of a file's bytes as 64 lower-case hex digits. The file is opened
// without following a symlink and must be a regular file; false with
// "PATH: why" otherwise or when it cannot be read.
bool sha256_file(const std::string& path, std::string& hex, std::string& error);
// SHA-256 of bytes in memory (restore checks the very bytes it then writes).
bool sha256_hex(std::string_view data, std::string& hex);

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_H_
