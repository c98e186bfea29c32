// SPDX-License-Identifier: MIT
// steps.h - the hooks that make every postsuper run of an acting run a step
// of its transaction (act/journal.h): each group of IDs announced before it
// is written, each batch recorded as it settles, and a fate postsuper did not
// report settled from the queue itself. With --archive, a message to delete
// is copied first and its steps go into the archive's manifest
// (archive/writer.h), where a restore reads them; every other step goes into
// the run's journal.
#ifndef QPURGE_APP_STEPS_H_
#define QPURGE_APP_STEPS_H_

#include <functional>
#include <string>

#include "qpurge/act/journal.h"
#include "qpurge/archive/writer.h"
#include "qpurge/postfix/postsuper.h"

namespace qpurge {

struct StepHooks {
  Journal* journal = nullptr;        // the run's journal
  ArchiveWriter* archive = nullptr;  // --archive: copies, and the steps of deletes
  std::string queue_dir;
  // A step that could not be recorded after the fact (a batch's results):
  // the run goes on (the next run settles it from the queue), but says so.
  std::function<void(const std::string&)> warn;
};

// Sets `eo`'s hooks for handing IDs to postsuper for `action`.
void attach_steps(ExecOptions& eo, Action action, const StepHooks& hooks);

}  // namespace qpurge

#endif  // QPURGE_APP_STEPS_H_
