// SPDX-License-Identifier: MIT
// via_hold.h - the two-phase delete (--via-hold).
//
// Phase 1 puts the planned messages that are not on hold yet on hold (each
// verified right before it is handed over, as every action). Phase 2 finds
// the candidates in the hold queue, verifies each again there, deletes the
// ones still selected and releases the ones qpurge itself held that no
// longer are; messages that were already on hold before the run stay there.
//
// Whatever qpurge held and did not delete is released: a message no longer
// selected, one whose copy could not be archived (--archive), one not
// reached because the operator stopped the run. A stop request (SIGINT,
// SIGTERM) in either phase hands no further ID to be held or deleted; what
// qpurge held and did not delete is then released (said first through
// ViaHoldJob::on_stop, so that a journal knows to release rather than
// delete if the run dies while releasing).
//
// Fail closed: when the hold queue cannot be scanned, or a postsuper run
// fails in a way qpurge cannot explain, nothing more is deleted and nothing
// released (no further postsuper is started); ViaHoldReport::left_on_hold
// lists what qpurge left on hold, with release_command() to take it back.
#ifndef QPURGE_ACT_VIA_HOLD_H_
#define QPURGE_ACT_VIA_HOLD_H_

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "qpurge/plan/plan.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/select/match.h"

namespace qpurge {

// Finds which of `ids` are in the hold queue: fills id -> directory
// ("hold/A"). False with `error` when the hold queue cannot be read.
using HoldFinder = std::function<bool(const std::set<std::string>& ids, std::map<std::string, std::string>& found,
                                      std::string& error)>;

// The real finder: scans DIR/hold.
HoldFinder scan_hold_queue(const std::string& queue_directory);

struct ViaHoldJob {
  // The three phases' postsuper options (the action is set by each phase):
  // their hooks announce each group in the run's journal (and, to delete,
  // the archive), and settle each batch. `del.stop` is the stop request.
  ExecOptions hold, del, release;
  Verify verify;  // before holding
  // Verifies a message found in hold again; the entry's queue and dir are hold's.
  Verify verify_held;
  HoldFinder find_held;
  unsigned pause = 0;
  std::function<void(unsigned)> sleep;
  // Told once, with why, when a stop request is seen: before anything is
  // released because of it.
  std::function<void(const std::string&)> on_stop;
  std::function<void(std::size_t handed, std::size_t done, std::size_t total, std::string_view what)> progress;
};

struct ViaHoldReport {
  ExecReport report;                      // one result per planned ID
  std::vector<std::string> left_on_hold;  // held by qpurge, neither deleted nor released
};

ViaHoldReport purge_via_hold(CommandRunner& runner, const ViaHoldJob& job, const std::vector<PlanEntry>& plan);

// "printf '%s\n' ID... | postsuper [-c DIR] -H -".
std::string release_command(const ExecOptions& exec, const std::vector<std::string>& ids);

}  // namespace qpurge

#endif  // QPURGE_ACT_VIA_HOLD_H_
