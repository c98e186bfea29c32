// SPDX-License-Identifier: MIT
// steps.cc - see steps.h.
#include "qpurge/app/steps.h"

#include "qpurge/spool/queue_scan.h"

namespace qpurge {
namespace {

std::vector<StepId> step_ids(const std::vector<const PlanEntry*>& group) {
  std::vector<StepId> ids;
  ids.reserve(group.size());
  for (const PlanEntry* e : group) ids.push_back(StepId{e->id, e->queue, e->inode});
  return ids;
}

}  // namespace

void attach_steps(ExecOptions& eo, Action action, const StepHooks& hooks) {
  const std::string name(action_info(action).name);
  ArchiveWriter* archive = action == Action::kDelete ? hooks.archive : nullptr;
  StepLog* log = archive ? static_cast<StepLog*>(archive) : hooks.journal;
  const std::string queue_dir = hooks.queue_dir;
  eo.before_hand_over = nullptr;
  if (archive) {
    archive->defer_sync();  // one syncfs per group of IDs, before the group is written
    eo.before_hand_over = [archive, queue_dir](const PlanEntry& e) {
      std::string error;
      return archive->store(queue_dir, e, error) ? std::string() : "not deleted: its copy could not be made: " + error;
    };
  }
  eo.before_write = [log, archive, name](const std::vector<const PlanEntry*>& group) {
    std::string error;
    if (log && !log->announce(name, step_ids(group), error))
      return WriteRefusal{"not attempted: its step could not be recorded: " + error, true};
    if (archive && !archive->sync(error))
      return WriteRefusal{"not deleted: its copy could not be synced to disk: " + error};
    return WriteRefusal{};
  };
  auto warn = hooks.warn;
  eo.after_batch = [log, warn](const std::vector<IdResult>& batch) {
    std::string error;
    if (log && !log->settle(batch, error) && warn)
      warn("what postsuper did could not be recorded: " + error + "; the next qpurge run on this instance settles it");
  };
  eo.where_now = [queue_dir](const PlanEntry& e) { return find_message(queue_dir, e.id, e.inode); };
}

}  // namespace qpurge
