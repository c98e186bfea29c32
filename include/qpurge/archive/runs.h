// SPDX-License-Identifier: MIT
// runs.h - the runs of an archive directory: listed (--archives) and pruned
// (--prune-archives).
//
// A run is a subdirectory (never a symbolic link) whose name is a run
// directory name (manifest.h) or that holds a manifest. Pruning removes only
// runs whose manifest begins with a qpurge run header, that hold only files,
// and whose writer is done: a run still being written (its manifest locked
// by the purge or restore writing it) is left alone and named. A run is
// removed whole or not at all as far as a reader can tell: it is first
// renamed to ".pruning-NAME" (which no listing shows and the next prune
// finishes), then emptied and removed.
#ifndef QPURGE_ARCHIVE_RUNS_H_
#define QPURGE_ARCHIVE_RUNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qpurge/plan/plan_file.h"

namespace qpurge {

struct ArchiveRunInfo {
  std::string path;  // archive_dir/name
  std::string name;
  std::int64_t created = 0;  // from the header; from the name if it cannot be read
  std::string host;
  std::string queue_directory;
  std::vector<PlanCriterion> criteria;
  std::uint64_t messages = 0;  // archived
  std::uint64_t deleted = 0;   // of which postsuper removed
  std::uint64_t canceled = 0;  // of which only the canceled recipients' copies (--mixed cancel, done)
  std::uint64_t bytes = 0;     // sum of their file sizes
  std::uint64_t restored = 0;
  std::string error;  // the manifest could not be read: what read_manifest said
};

// The runs in archive_dir, oldest first (then by name). A run whose manifest
// cannot be read is listed with `error` set. Returns false only when
// archive_dir cannot be read.
bool list_archive_runs(const std::string& archive_dir, std::vector<ArchiveRunInfo>& out, std::string& error);

struct PruneReport {
  std::vector<std::string> removed;  // paths (with dry_run: the paths that would go)
  std::vector<std::string> busy;     // old enough, but still being written: left
  std::vector<std::string> failed;   // "PATH: why" for each that could not be removed
};

// Removes the runs created more than older_than_seconds before `now`.
// False with `error` when archive_dir cannot be read or is not trusted
// (util/posix_io.h's trusted_directory()); what happened to each run is in
// `report`.
bool prune_archive_runs(const std::string& archive_dir, std::int64_t older_than_seconds, std::int64_t now, bool dry_run,
                        PruneReport& report, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_RUNS_H_
