// SPDX-License-Identifier: MIT
// archive_modes.h - the modes that take a purge back: --restore, --archives and
// --prune-archives (the archive itself is written by the purge engine,
// purge.h, through archive/writer.h).
//
// Each takes the validated RunConfig and its side effects as interfaces, as
// the purge engine does, prints through the Printer (every --format), and
// returns an Outcome (outcome.h) for the exit status: a
// restore that cannot start (another host's run, no such run, not root) is
// fatal with nothing changed; a message that could not be put back makes it
// partial.
#ifndef QPURGE_APP_ARCHIVE_MODES_H_
#define QPURGE_APP_ARCHIVE_MODES_H_

#include "qpurge/app/config.h"
#include "qpurge/app/outcome.h"
#include "qpurge/postfix/process.h"
#include "qpurge/report/printer.h"
#include "qpurge/util/system.h"

namespace qpurge {

Outcome restore_mode(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer);
Outcome list_archives_mode(const RunConfig& config, System& system, Printer& printer);
Outcome prune_archives_mode(const RunConfig& config, System& system, Printer& printer);

}  // namespace qpurge

#endif  // QPURGE_APP_ARCHIVE_MODES_H_
