// SPDX-License-Identifier: MIT
// recover.h - what the next acting run on an instance does first: finish or
// undo what a dead run left, as its journal (act/journal.h) says.
//
// A run that takes the instance lock knows that the writer of a journal it
// finds there is gone (runs take the same lock). It says so on standard
// error ("run R (pid P, started T) did not finish: ...") and, before it plans
// anything of its own:
// - settles what the dead run handed to postsuper and never heard back
//   about, from the queue itself: gone from every queue (same ID, same inode)
//   is deleted, and with --archive the manifest records it so a restore puts
//   it back (archive/restore.h, settle_only);
// - with --via-hold, takes each message the dead run held and did not delete
//   or release (in hold, same inode): verified again against the dead run's
//   own criteria, it is deleted (copied first into the dead run's archive,
//   when it had one), or released when it no longer matches - or released
//   outright when the operator had stopped that run;
// - for a restore, settles the files it was writing into the queue
//   (archive/put_back.h): none is ever put there twice;
// - writes an audit record naming the run it recovered, then removes the
//   journal.
// A dry run reports the unfinished run and changes nothing.
//
// Failure: a journal that cannot be read or trusted, or a step that cannot
// be taken, is reported and leaves the journal in place (the next run tries
// again); the caller acts on nothing of its own then.
#ifndef QPURGE_APP_RECOVER_H_
#define QPURGE_APP_RECOVER_H_

#include <string>
#include <vector>

#include "qpurge/act/journal.h"
#include "qpurge/app/config.h"
#include "qpurge/app/outcome.h"
#include "qpurge/postfix/process.h"
#include "qpurge/report/printer.h"
#include "qpurge/util/system.h"

namespace qpurge {

struct RecoveryContext {
  std::string queue_dir;          // the instance's
  std::string postsuper;          // this run's postsuper
  std::string audit_log;          // this run's audit log
  std::vector<std::string> argv;  // this run's command line, for the audit record
  bool dry_run = false;
};

struct Recovery {
  bool found = false;    // a dead run's journal was there
  bool settled = false;  // and it is settled now (the journal is gone)
  bool changed = false;  // the queue was changed
  std::string error;     // why it could not be settled
};

Recovery recover_instance(const RecoveryContext& context, System& sys, CommandRunner& runner, Printer& printer);

// qpurge --recover: the instance's queue (postconf), the superuser, the
// lock (--wait), then recover_instance(). Done when it settled a dead run,
// nothing when there was none, fatal when one could not be settled.
Outcome recover_mode(const RunConfig& config, System& sys, CommandRunner& runner, Printer& printer);

// This run's journal, begun once recover_instance() found nothing left
// (`mode`: "purge" or "restore"; `archive`: the run directory it writes or
// restores, "" for none). nullptr with `error` when it cannot be written:
// the run then changes nothing.
std::unique_ptr<Journal> begin_journal(const RunConfig& config, System& sys, const std::string& queue_dir,
                                       const std::string& mode, const std::string& archive, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_APP_RECOVER_H_
