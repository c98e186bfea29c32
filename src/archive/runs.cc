// SPDX-License-Identifier: MIT
// runs.cc - listing and pruning archive runs; see runs.h.
#include "qpurge/archive/runs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "qpurge/archive/manifest.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {
namespace {

constexpr const char* kPruningPrefix = ".pruning-";

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

struct RunDir {
  std::string name;
  std::string path;
};

// The subdirectories of `archive_dir` that are runs; with `pruning`, also
// the ones a prune renamed and did not finish.
bool run_dirs(const std::string& archive_dir, bool pruning, std::vector<RunDir>& out, std::string& error) {
  DirPtr d(::opendir(archive_dir.c_str()));
  if (!d) {
    error = sys_error(archive_dir);
    return false;
  }
  while (const dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const bool half_pruned = name.starts_with(kPruningPrefix);
    if (half_pruned && !pruning) continue;
    std::string path = archive_dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    std::int64_t t;
    struct stat mst;
    if (half_pruned || parse_run_directory_name(name, t) || ::lstat((path + "/" + kManifestName).c_str(), &mst) == 0)
      out.push_back(RunDir{name, path});
  }
  return true;
}

// Empties and removes the directory open at `dfd` (named `path`), which
// must hold only files; never follows a link.
bool remove_files_and_dir(int dfd, const std::string& path, std::string& error) {
  int dup = ::dup(dfd);
  DirPtr d(dup >= 0 ? ::fdopendir(dup) : nullptr);
  if (!d) {
    if (dup >= 0) ::close(dup);
    error = sys_error(path);
    return false;
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      error = sys_error(path + "/" + name);
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      error = path + "/" + name + ": a directory in an archive run: not removed";
      return false;
    }
    names.push_back(name);
  }
  // The manifest last: a run interrupted halfway is still recognised as one.
  std::stable_partition(names.begin(), names.end(), [](const std::string& n) { return n != kManifestName; });
  for (const std::string& name : names)
    if (::unlinkat(dfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      error = sys_error(path + "/" + name);
      return false;
    }
  if (::rmdir(path.c_str()) != 0) {
    error = sys_error(path);
    return false;
  }
  return true;
}

// One run: renamed out of sight first, so that what a reader sees is the
// whole run or nothing; a failure after that is finished by the next prune.
bool remove_run(const std::string& archive_dir, const RunDir& run, Fd& dfd, std::string& error) {
  std::string hidden = run.path;
  if (!run.name.starts_with(kPruningPrefix)) {
    hidden = archive_dir + "/" + kPruningPrefix + run.name;
    if (::rename(run.path.c_str(), hidden.c_str()) != 0) {
      error = sys_error(run.path + ": rename");
      return false;
    }
    std::string ignored;  // the rename is done; a directory that cannot be synced holds it anyway
    sync_directory(archive_dir, ignored);
  }
  return remove_files_and_dir(dfd.get(), hidden, error);
}

}  // namespace

bool list_archive_runs(const std::string& archive_dir, std::vector<ArchiveRunInfo>& out, std::string& error) {
  out.clear();
  std::vector<RunDir> dirs;
  if (!run_dirs(archive_dir, false, dirs, error)) return false;
  for (const RunDir& d : dirs) {
    ArchiveRunInfo info;
    info.path = d.path;
    info.name = d.name;
    ArchiveManifest m;
    if (!read_manifest(d.path, m, info.error)) {
      parse_run_directory_name(d.name, info.created);
      out.push_back(std::move(info));
      continue;
    }
    info.created = m.header.created;
    info.host = m.header.host;
    info.queue_directory = m.header.queue_directory;
    info.criteria = m.header.criteria;
    for (const ArchivedMessage& am : m.messages) {
      ++info.messages;
      info.deleted += am.deleted() && !am.cancel;
      info.canceled += am.deleted() && am.cancel;
      info.bytes += am.file_size;
      info.restored += am.restored;
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const ArchiveRunInfo& a, const ArchiveRunInfo& b) {
    return a.created != b.created ? a.created < b.created : a.name < b.name;
  });
  return true;
}

bool prune_archive_runs(const std::string& archive_dir, std::int64_t older_than_seconds, std::int64_t now, bool dry_run,
                        PruneReport& report, std::string& error) {
  report = PruneReport{};
  if (!trusted_directory(archive_dir, error)) {
    error = "archive directory " + archive_dir + ": " + error;
    return false;
  }
  std::vector<RunDir> dirs;
  if (!run_dirs(archive_dir, !dry_run, dirs, error)) return false;
  std::sort(dirs.begin(), dirs.end(), [](const RunDir& a, const RunDir& b) { return a.name < b.name; });
  for (const RunDir& d : dirs) {
    Fd dfd(::open(d.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    ArchiveHeader h;
    if (!dfd.ok() || !read_manifest_header(dfd.get(), h)) continue;  // not a qpurge run: never ours to remove
    if (now - h.created <= older_than_seconds) continue;
    // A writer holds its manifest locked until it is done: ours while we prune.
    Fd manifest(::openat(dfd.get(), kManifestName, kReadOnlySafe));
    if (!manifest.ok() || ::flock(manifest.get(), LOCK_EX | LOCK_NB) != 0) {
      report.busy.push_back(d.path);
      continue;
    }
    std::string why;
    if (!dry_run && !remove_run(archive_dir, d, dfd, why)) {
      report.failed.push_back(why);
      continue;
    }
    report.removed.push_back(d.path);
  }
  return true;
}

}  // namespace qpurge
