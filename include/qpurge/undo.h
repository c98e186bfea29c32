// SPDX-License-Identifier: MIT
// undo.h - the modes that take a purge back: --restore, --archives and
// --prune-archives (the archive itself is written by the purge engine,
// purge.h, through archive.h).
//
// Each takes the validated RunConfig and its side effects as interfaces, as
// the purge engine does, and returns an Outcome for the exit status: a
// restore that cannot start (another host's run, no such run, not root) is
// fatal with nothing changed; a message that could not be put back makes it
// partial.
#ifndef QPURGE_UNDO_H_
#define QPURGE_UNDO_H_

#include "qpurge/config.h"
#include "qpurge/printer.h"
#include "qpurge/process.h"
#include "qpurge/purge.h"
#include "qpurge/system.h"

namespace qpurge {

Outcome run_restore(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer);
Outcome run_list_archives(const RunConfig& config, System& system, Printer& printer);
Outcome run_prune_archives(const RunConfig& config, System& system, Printer& printer);

}  // namespace qpurge

#endif  // QPURGE_UNDO_H_
