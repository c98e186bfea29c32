// SPDX-License-Identifier: MIT
// manifest.h - the archive's on-disk format, read and written here only.
//
// A purge with --archive DIR writes one run directory,
// DIR/<UTC YYYYmmddTHHMMSSZ>-<host>-<short run id>/ (run_directory_name();
// mode 0700, created new: an existing one is never reused), holding for each
// stored message
//   <queue_id>          the queue file, byte for byte, its mode and times kept
//   <queue_id>.defer    its defer log, if Postfix kept one (defer/[hash/]ID)
//   <queue_id>.bounce   its bounce log, likewise (trace logs are not kept)
// and manifest.jsonl: JSON Lines, format version 2 (1 is read too: it has
// no "handed" records), one object per line,
// "record" saying which kind:
//   {"record": "run", "version": 2, "created": SECONDS, "host": H, "run": RUN_ID,
//    "queue_directory": D, "config_directory": C, "action": "delete",
//    "criteria": [{"option": O, "values": [...], "values_hex": [...]}],
//    "argv": [...]}                                       (first line, once)
//   {"record": "message", "queue_name": Q, "queue_id": ID, "inode": N,
//    "arrival_time": T, "sender": S, "sender_hex": HEX,
//    "recipients": [{"address": A, "address_hex": HEX, "original_recipient": O?}],
//    "message_size": N, "file_size": BYTES, "file": ID, "mode": 700,
//    "logs": ["ID.defer", "ID.bounce"], "sha256": HEX,
//    "cancel": true?, "canceled": [{"address", "address_hex", "offset"}]?}
//                      (a stored copy; with "cancel", of a mixed message
//                      whose "canceled" recipients --mixed cancel was about
//                      to cross off: each recipient then has its "offset" too)
//   {"record": "handed", "queue_id": ID, "queue_name": Q, "inode": N}
//                                (about to be written to postsuper -d: the
//                                run's journal step, act/journal.h)
//   {"record": "outcome", "queue_id": ID, "queue_name": Q, "result": R,
//    "detail": T?}         (what postsuper did with it, as each batch settles)
//   {"record": "restoring", "queue_id": ID, "path": P, "path_hex": HEX}
//   {"record": "placed", "queue_id": ID, "inode": N}
//   {"record": "queued", "queue_id": ID}
//                     (a restore's journal steps: about to write the copy at
//                     P; written there, still incomplete to Postfix; made
//                     complete; see put_back.h)
//   {"record": "restored", "queue_id": ID, "new_queue_id": NEW,
//    "queue_name": Q, "time": SECONDS, "host": H}   (put back by --restore)
// Strings are text-escaped (util/escape.h: a byte that is not UTF-8 becomes
// the four characters \xHH), and the ones that identify a message exactly
// are also stored as hex ("..._hex"). "recipients" are the pending ones;
// "original_recipient" is there only when the queue file has one. "mode" is
// the permission bits in octal digits read as a decimal integer (0700 ->
// 700, as `stat -c %a` prints them). "file_size" is the number of bytes
// copied and "sha256" their digest. "logs" lists only the logs stored.
// "result" is outcome_name() (postfix/postsuper.h): "done" when postsuper
// removed it, or, for a "cancel" message, when its canceled recipients were
// crossed off (the message stays in the queue for the others). A cancel
// message's logs hold only the canceled recipients' entries (the others'
// stay in the queue's logfiles), and its "message" record is written right
// before the cross-off, so it is also that step's announcement: one without
// an outcome is settled from the queue file in hold, by the recipients at
// those offsets (archive/cancel_copy.h). A later record about a message overrides an earlier one of
// the same kind. A message handed to postsuper without an outcome (the run
// died), or whose outcome is not "done" because postsuper failed, is
// settled from the queue by the next run on the instance or by a restore:
// gone from every queue (same ID, same inode) means deleted.
//
// Every record is appended whole or not at all (util/posix_io.h's
// append_record()); a last line without its newline was torn by a crash.
// Writing the records is the writer's (writer.h) and the restore's
// (restore.h) business; what they write is built here.
#ifndef QPURGE_ARCHIVE_MANIFEST_H_
#define QPURGE_ARCHIVE_MANIFEST_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qpurge/plan/plan_file.h"

namespace qpurge {

inline constexpr const char* kManifestName = "manifest.jsonl";
inline constexpr int kManifestVersion = 2;

// The "run" record: the first line.
struct ArchiveHeader {
  int version = kManifestVersion;
  std::int64_t created = 0;  // the run's clock (seconds); names the run directory (UTC)
  std::string host;
  std::string run_id;  // any short string, e.g. "1795344810.4242"; the directory uses a short form
  std::string queue_directory, config_directory, action = "delete";
  std::vector<PlanCriterion> criteria;
  std::vector<std::string> argv;
};

struct ArchivedRecipient {
  std::string address;   // exact bytes
  std::string original;  // original_recipient, if any
  bool has_original = false;
  std::uint64_t offset = 0;  // of its R record (a cancel message's recipients)
  bool has_offset = false;
};

// A "message" record, and what later records said about it.
struct ArchivedMessage {
  int line = 0;  // of its "message" record in manifest.jsonl (0: not read from one)
  std::string queue_name;
  std::string queue_id;
  std::string file;  // name of the copy in the run directory
  std::uint64_t inode = 0;
  std::int64_t arrival_time = 0;
  std::string sender;  // exact bytes; empty = null sender
  std::vector<ArchivedRecipient> recipients;
  std::int64_t message_size = 0;
  std::uint64_t file_size = 0;
  std::uint32_t mode = 0;  // permission bits
  std::vector<std::string> logs;
  std::string sha256;  // lower-case hex
  // --mixed cancel: the recipients crossed off (address and offset); the
  // message itself stayed in the queue for the others.
  bool cancel = false;
  std::vector<ArchivedRecipient> canceled;
  // A "handed" record: its ID was about to be written to postsuper.
  bool handed = false;
  // From its last "outcome" record, if any.
  bool has_outcome = false;
  std::string result;  // "done": postsuper removed it
  std::string result_detail;
  // A restore's steps since its last "restoring" record (which clears them),
  // while it has no "restored" record after them.
  std::string restoring_path;      // "" = none
  std::uint64_t placed_inode = 0;  // 0 = not placed
  bool queued = false;
  // From its last "restored" record, if any.
  bool restored = false;
  std::string new_queue_id;
  std::string restored_to;  // queue name
  std::int64_t restored_time = 0;

  bool deleted() const { return has_outcome && result == "done"; }
};

struct ArchiveManifest {
  ArchiveHeader header;
  std::vector<ArchivedMessage> messages;  // in manifest order
};

// The name of a run directory (no path): "20261122T083330Z-mx1-4242".
// Characters of the host and run id other than [A-Za-z0-9._-] become '_';
// the host is cut at 64 characters; the short run id is what follows the
// last '.' of the run id (the whole run id when there is none), cut at 32.
std::string run_directory_name(const ArchiveHeader& header);
// Whether `name` is one (YYYYmmddTHHMMSSZ-...), with its time in `t`.
bool parse_run_directory_name(const std::string& name, std::int64_t& t);

// Each record as one line, with its newline.
std::string run_record(const ArchiveHeader& header);
std::string message_record(const ArchivedMessage& message);
std::string handed_record(const std::string& queue_id, const std::string& queue_name, std::uint64_t inode);
std::string outcome_record(const std::string& queue_id, const std::string& queue_name, const std::string& result,
                           const std::string& detail);
std::string restoring_record(const std::string& queue_id, const std::string& path);
std::string placed_record(const std::string& queue_id, std::uint64_t inode);
std::string queued_record(const std::string& queue_id);
std::string restored_record(const std::string& queue_id, const std::string& new_queue_id, const std::string& queue_name,
                            std::int64_t time, const std::string& host);

// Reads run_dir/manifest.jsonl. Every line must be a JSON object of a known
// record kind with the fields that kind needs; the first must be the run
// header (version 1 or 2); a handed, outcome or restored record must name an archived
// message, and no queue ID is archived twice. A torn last line is an error
// too. Errors read "DIR/manifest.jsonl:LINE: what".
bool read_manifest(const std::string& run_dir, ArchiveManifest& out, std::string& error);
// The same from the manifest already open at `fd` (status `st`, named
// `path` in errors), read from its start: the very file the caller opened,
// checked and locked.
bool read_manifest_file(int fd, const struct stat& st, const std::string& path, ArchiveManifest& out,
                        std::string& error);
// Only the header, from the first line of the manifest in the directory
// open at `dirfd` (pruning reads no more); false when it is not one.
bool read_manifest_header(int dirfd, ArchiveHeader& out);

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_MANIFEST_H_
