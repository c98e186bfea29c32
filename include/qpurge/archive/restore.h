// SPDX-License-Identifier: MIT
// restore.h - putting archived messages back into the queue (qpurge
// --restore RUNDIR; qpurge --archive DIR writes the runs, writer.h, in the
// format of manifest.h).
//
// restore_from_archive() takes the messages of one run that were deleted and not yet
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
// Trust: the run is read through run_reader.h, which refuses a run that
// anyone but root (or this user) could have changed: the archive directory
// above it and the run directory must be trusted along their whole path, and
// the manifest, each copy and each .defer log are opened relative to the run
// directory, never through a link, and checked by descriptor; the manifest
// read is the one locked. A dry run refuses the same way.
//
// Only a queue file cleanup wrote is put back (its first record the size
// record): a postdrop file archived from maildrop by an older qpurge is
// refused ("failed"), as qmgr would move it to corrupt/.
//
// Failure: report.error when nothing may be done (an untrusted run, an
// unreadable or torn manifest, a run from another host or queue directory
// without force_other_instance, a bad target, a purge still writing the run
// or another restore of it); otherwise per message, in
// RestoredMessage::outcome, and nothing of one message stops the others.
// Logs (.defer, .bounce) are never restored: Postfix writes new delay
// information at the next delivery attempt.
#ifndef QPURGE_ARCHIVE_RESTORE_H_
#define QPURGE_ARCHIVE_RESTORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qpurge/archive/manifest.h"
#include "qpurge/archive/put_back.h"
#include "qpurge/plan/plan_file.h"
#include "qpurge/postfix/process.h"
#include "qpurge/select/match.h"
#include "qpurge/select/mime.h"
#include "qpurge/spool/content.h"

namespace qpurge {

struct RestoreOptions {
  std::string run_dir;     // the archive run
  std::string queue_dir;   // queue_directory of the instance to restore into
  std::string config_dir;  // for postsuper -c; "" = Postfix's default
  std::string postsuper = "/usr/sbin/postsuper";
  std::string target = "hold";  // hold | deferred | incoming
  std::string host;             // this host (compared with the run's)
  bool force_other_instance = false;
  bool dry_run = false;
  // Optional: only the archived messages it selects, each judged from its
  // archived copy as the plan judged the queue file (select/evaluate.h):
  // under the queue ID it had when it was archived (--id, --exclude-id),
  // with its headers and content decoded as far as the matcher needs
  // (--subject, --body; at most content_limit bytes read, body_limit bytes of
  // text kept), its delay reasons from the archived <ID>.defer. A
  // recipient-side group holds when any pending recipient matches: mixed
  // counts as selected. Messages it does not select are not in the report;
  // a message it cannot judge (a selector or exclusion undecided, a delay
  // reason unknown, content that cannot be parsed: fail closed) is reported
  // "undecided", with which criterion and why, and is not restored.
  const Matcher* matcher = nullptr;
  std::size_t content_limit = kDefaultContentLimit;
  std::size_t body_limit = kDefaultTextLimit;
  std::int64_t now = 0;  // for age criteria and the "restored" records (0: time(nullptr))
  // Only settle what an interrupted purge or restore of this run left
  // (put_back.h, and messages handed to postsuper and gone from the queue),
  // restoring nothing: the recovery of a dead run.
  bool settle_only = false;
  const SysCalls* sys = &SysCalls::real();  // the system calls its writes make (util/posix_io.h)
};

struct RestoreReport {
  std::vector<RestoredMessage> messages;  // what was settled first, then the run's messages in manifest order
  std::vector<std::string> warnings;
  std::string error;  // fatal: nothing was done
};

RestoreReport restore_from_archive(const RestoreOptions& options, CommandRunner& runner);

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_RESTORE_H_
