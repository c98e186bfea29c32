// SPDX-License-Identifier: MIT
// put_back.h - writing archived copies back into the queue as a transaction:
// the restore's steps, each announced in the manifest of the run it restores
// (manifest.h) before it is taken, so that a restore killed at any instant
// never puts a message into the queue twice and never leaves one half there.
//
// The steps, for all the messages of one restore at once:
//   1. "restoring" records (the path each copy will be written at); synced.
//   2. Each copy written at its path under its old queue ID, created
//      exclusively with mode 0600, which Postfix treats as a file still being
//      written and never reads (mail_open_ok()); synced, owned like a queue
//      file.
//   3. "placed" records (the inode of each file written); synced.
//   4. Each file given its archived mode and times (0700: complete to
//      Postfix, the commit of that message); synced.
//   5. "queued" records; synced.
//   6. `postsuper -s` once, which renames each file to match its inode; each
//      is found again by its inode and gets its "restored" record.
// Why the old ID and not a temporary name: postsuper -s only renames files
// whose name is a valid queue ID whose inode part parses; see restore.h.
//
// What an interrupted restore left is settled first, by recover() (before a
// restore of the same run acts, and by the recovery of the next acting run
// on the instance): a message announced but not placed whose file is at its
// path, still 0600 with the archived bytes, is removed; a placed one found
// by its inode still 0600 is removed; one found complete, or queued and
// found nowhere (delivered since), is settled as restored (after
// postsuper -s). A message whose file was removed can be restored again.
#ifndef QPURGE_ARCHIVE_PUT_BACK_H_
#define QPURGE_ARCHIVE_PUT_BACK_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qpurge/archive/manifest.h"
#include "qpurge/postfix/process.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {

struct RestoredMessage {
  std::string old_id;
  std::string new_id;
  std::string queue;  // where it is after the restore (the queue its file was found in)
  // restored | already_restored | not_deleted | checksum_mismatch | exists |
  // failed | would_restore | undecided (the selectors could not judge it)
  std::string outcome;
  std::string detail;
  // A canceled-recipient copy (--mixed cancel, cancel_copy.h): the
  // recipients it is addressed to; empty for a whole message.
  std::vector<std::string> canceled;
};

// Where copies go and how: the instance's queue directory, the target
// queue (hold, deferred, incoming), the owner of queue files, postsuper.
struct PutBackTarget {
  std::string queue_dir;
  std::string target = "hold";
  uid_t uid = 0;
  gid_t gid = 0;
  std::string postsuper = "/usr/sbin/postsuper";
  std::string config_dir;
  std::string host;      // for the "restored" records
  std::int64_t now = 0;  // likewise
  const SysCalls* sys = &SysCalls::real();
};

// One message to put back: its manifest entry, the verified bytes of its
// copy, the times to give it, and its line of the report.
struct PutBackItem {
  const ArchivedMessage* message = nullptr;
  std::string name;  // the file name it is written under: its old ID, or a canceled-recipient copy's own
  std::string data;
  struct stat archived {};
  RestoredMessage* report = nullptr;
};

class PutBack {
 public:
  // `manifest_fd`: the run's manifest, open read-write for appending and
  // locked by the caller; named `manifest_path` in errors.
  PutBack(int manifest_fd, std::string manifest_path, PutBackTarget target, CommandRunner& runner);

  // Settles what an earlier restore left (see above), appending its
  // records; `manifest` is updated to match. Adds a report line for each
  // message it settled as restored.
  void recover(ArchiveManifest& manifest, std::vector<RestoredMessage>& report);
  // Puts `items` back (steps 1 to 6), filling their report lines.
  void put(std::vector<PutBackItem>& items);

  // The path a message's copy is written at in the target queue.
  std::string path_for(const std::string& queue_id) const;

 private:
  struct Written;
  bool append(const std::string& records, std::string& error);
  bool create(PutBackItem& item, Written& w);
  void settle(std::vector<Written>& written);

  int manifest_fd_;
  std::string manifest_path_;
  PutBackTarget t_;
  CommandRunner& runner_;
};

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_PUT_BACK_H_
