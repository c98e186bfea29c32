// SPDX-License-Identifier: MIT
// restore.h - putting archived messages back into the queue, and listing and
// pruning archive runs (qpurge --archive DIR writes them; see archive.h).
//
// An archive run is DIR/<UTC YYYYmmddTHHMMSSZ>-<host>-<run id>/ holding a
// byte-for-byte copy of each purged queue file (named by its queue ID, mode
// kept), optionally <ID>.defer and <ID>.bounce, and manifest.jsonl: one JSON
// object per line, "record" saying which kind:
//   run       (first line) version 1, created, host, run, queue_directory,
//             config_directory, action, criteria, argv
//   message   one per archived file: queue_name, queue_id, inode,
//             arrival_time, sender(_hex), recipients, message_size,
//             file_size, file, mode, logs, sha256 (of the file)
//   outcome   after the purge: queue_id, queue_name, result ("done" when
//             postsuper removed it), detail
//   restored  appended by restore_run(): queue_id, new_queue_id,
//             queue_name (where it went), time, host
//
// restore_run() takes the messages of one run that were deleted and not yet
// restored, checks each copy against its SHA-256, writes it into the target
// queue under its old queue ID (O_EXCL, never over anything; mode 0600 while
// it is written, so Postfix treats it as incomplete until the archived mode
// and times are set and it is on disk), runs `postsuper [-c DIR] -s` once,
// which renames each copy to match its new inode (keeping the first five
// characters, the microseconds of a short ID), finds each new ID by the inode
// of the file it created, and appends a "restored" record per message, so a
// second restore of the same run adds nothing.
//
// Why the old ID and not a temporary name: postsuper -s only renames files
// whose name is a valid queue ID whose inode part parses. A name with other
// characters ("tmp.X", "X#Y") or no hex after the 5th character is left
// where it is with "warning: bogus file name", and Postfix never reads it;
// any other name keeps its first five characters in the new ID ("qpurg1234"
// became "qpurgA72260"), which is not an ID Postfix would make, nor one
// qpurge would act on. Tried on Postfix 3.7.11; see the commit message.
//
// Failure: report.error when nothing may be done (an unreadable or torn
// manifest, a run from another host or queue directory without
// force_other_instance, a bad target, another restore of the run running);
// otherwise per message, in RestoredMessage::outcome, and nothing of one
// message stops the others. Logs (.defer, .bounce) are never restored:
// Postfix writes new delay information at the next delivery attempt.
#ifndef QPURGE_RESTORE_H_
#define QPURGE_RESTORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qpurge/match.h"
#include "qpurge/plan_file.h"
#include "qpurge/process.h"

namespace qpurge {

inline constexpr const char* kManifestName = "manifest.jsonl";

struct ArchivedRecipient {
  std::string address;   // exact bytes (from address_hex when present)
  std::string original;  // original_recipient, if any
  bool has_original = false;
};

struct ArchivedMessage {
  int line = 0;  // of its "message" record in manifest.jsonl
  std::string queue_name;
  std::string queue_id;
  std::string file;  // name of the copy in the run directory
  std::uint64_t inode = 0;
  std::int64_t arrival_time = 0;
  std::string sender;  // exact bytes; empty = null sender
  std::vector<ArchivedRecipient> recipients;
  std::int64_t message_size = 0;
  std::uint64_t file_size = 0;
  std::uint32_t mode = 0;
  std::vector<std::string> logs;
  std::string sha256;  // lower-case hex
  // From its "outcome" record, if any.
  bool has_outcome = false;
  std::string result;  // "done": postsuper removed it
  std::string result_detail;
  // From its last "restored" record, if any.
  bool restored = false;
  std::string new_queue_id;
  std::string restored_to;  // queue name
  std::int64_t restored_time = 0;

  bool deleted() const { return has_outcome && result == "done"; }
};

struct ArchiveManifest {
  int version = 0;
  std::int64_t created = 0;
  std::string host;
  std::string run;
  std::string queue_directory;
  std::string config_directory;
  std::string action;
  std::vector<PlanCriterion> criteria;
  std::vector<std::string> argv;
  std::vector<ArchivedMessage> messages;  // in manifest order
};

// Reads run_dir/manifest.jsonl. Every line must be a JSON object of a known
// record kind with the fields that kind needs; the first must be the run
// header (version 1); an outcome or restored record must name an archived
// message, and no queue ID is archived twice. A last line without its newline
// is torn (an append that did not finish): an error too. Errors read
// "DIR/manifest.jsonl:LINE: what".
bool read_manifest(const std::string& run_dir, ArchiveManifest& out, std::string& error);

struct RestoreOptions {
  std::string run_dir;     // the archive run
  std::string queue_dir;   // queue_directory of the instance to restore into
  std::string config_dir;  // for postsuper -c; "" = Postfix's default
  std::string postsuper = "/usr/sbin/postsuper";
  std::string target = "hold";  // hold | deferred | incoming
  std::string host;             // this host (compared with the run's)
  bool force_other_instance = false;
  bool dry_run = false;
  // Optional: only the archived messages it selects, read from the archived
  // files (message-side groups; a recipient-side group holds when any pending
  // recipient matches: mixed counts as selected). Delay reasons come from
  // the archived <ID>.defer; without one they are unknown, and a --reason
  // selector does not select (fail closed). Messages it does not select are
  // not in the report.
  const Matcher* matcher = nullptr;
  std::int64_t now = 0;  // for age criteria and the "restored" records (0: time(nullptr))
};

struct RestoredMessage {
  std::string old_id;
  std::string new_id;
  // restored | already_restored | not_deleted | checksum_mismatch | exists |
  // failed | would_restore
  std::string outcome;
  std::string detail;
};

struct RestoreReport {
  std::vector<RestoredMessage> messages;  // in manifest order
  std::string error;                      // fatal: nothing was done
};

RestoreReport restore_run(const RestoreOptions& options, CommandRunner& runner);

struct ArchiveRunInfo {
  std::string path;  // archive_dir/name
  std::string name;
  std::int64_t created = 0;  // from the header; from the name if it cannot be read
  std::string host;
  std::string queue_directory;
  std::vector<PlanCriterion> criteria;
  std::uint64_t messages = 0;  // archived
  std::uint64_t deleted = 0;   // of which postsuper removed
  std::uint64_t bytes = 0;     // sum of their file sizes
  std::uint64_t restored = 0;
  std::string error;  // the manifest could not be read: what read_manifest said
};

// The runs in archive_dir (subdirectories, not symbolic links, whose name is
// a run name or that hold a manifest.jsonl), oldest first (then by name). A
// run whose manifest cannot be read is listed with `error` set. Returns false
// only when archive_dir cannot be read.
bool list_archive_runs(const std::string& archive_dir, std::vector<ArchiveRunInfo>& out, std::string& error);

// Removes the runs created more than older_than_seconds before `now`: only
// real directories (never a symbolic link, never followed) whose
// manifest.jsonl begins with a qpurge run header (a torn later line does not
// keep an old run), holding only files. `removed` gets their paths (with
// dry_run: the paths that would go; nothing is removed). Returns false with
// `error` when archive_dir cannot be read or a run could not be removed
// (the others are still pruned).
bool prune_archive_runs(const std::string& archive_dir, std::int64_t older_than_seconds, std::int64_t now, bool dry_run,
                        std::vector<std::string>& removed, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_RESTORE_H_
