// SPDX-License-Identifier: MIT
// put_back.cc - writing archived copies back into the queue; see put_back.h.
#include "qpurge/archive/put_back.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>

#include "qpurge/archive/cancel_copy.h"
#include "qpurge/postfix/postconf.h"
#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/text.h"

namespace qpurge {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

struct Located {
  std::string name;
  std::string path;
  mode_t mode = 0;
};
using InodeIndex = std::map<std::uint64_t, Located>;

// Files of one queue (and its one-character hash subdirectories, as deep as
// Postfix makes them) by inode.
void index_queue(const std::string& dir, int depth, InodeIndex& out) {
  DirPtr d(::opendir(dir.c_str()));
  if (!d) return;
  while (const dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (name.size() == 1 && depth < 3) index_queue(path, depth + 1, out);
    } else if (S_ISREG(st.st_mode)) {
      out[static_cast<std::uint64_t>(st.st_ino)] = Located{name, path, st.st_mode};
    }
  }
}

InodeIndex index_queues(const std::string& queue_dir) {
  InodeIndex found;
  for (std::string_view q : {"incoming", "active", "deferred", "hold"})
    index_queue(queue_dir + "/" + std::string(q), 0, found);
  return found;
}

// Postfix reads a queue file only once its owner may execute it
// (mail_open_ok()): until then it is one being written.
bool complete(mode_t mode) { return (mode & S_IXUSR) != 0; }

// What went wrong with postsuper, or "" (its last line of standard error
// says why it stopped: "postsuper: fatal: ...").
std::string describe(const CommandResult& r) {
  if (!r.started) return r.error.empty() ? "could not be run" : r.error;
  std::string_view err = trim_end(r.err, "\r\n");
  std::string last(err.substr(err.rfind('\n') == std::string_view::npos ? 0 : err.rfind('\n') + 1));
  if (!r.exited) return "killed by signal " + std::to_string(r.signal);
  if (r.exit_status != 0) return "exit status " + std::to_string(r.exit_status) + (last.empty() ? "" : ": " + last);
  return {};
}

// Whether the file at `path` is a copy a restore began and did not finish:
// still 0600, holding the first bytes (or all) of what a restore writes
// from the archived copy at `archived` (cancel_copy.h's restore_bytes()).
bool our_unfinished_copy(const std::string& path, const std::string& archived, const ArchivedMessage& m) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || complete(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) > m.file_size)
    return false;
  std::string there, copy, bytes, error;
  return read_whole(path, m.file_size, there, error) && read_whole(archived, m.file_size, copy, error) &&
         restore_bytes(m, std::move(copy), bytes, error) && bytes.compare(0, there.size(), there) == 0;
}

}  // namespace

struct PutBack::Written {
  const ArchivedMessage* message = nullptr;
  struct stat archived {};  // the copy's times, given to the file
  RestoredMessage* report = nullptr;
  std::string path;
  std::uint64_t inode = 0;
  Fd fd;
};

PutBack::PutBack(int manifest_fd, std::string manifest_path, PutBackTarget target, CommandRunner& runner)
    : manifest_fd_(manifest_fd), manifest_path_(std::move(manifest_path)), t_(std::move(target)), runner_(runner) {}

std::string PutBack::path_for(const std::string& queue_id) const {
  std::string dir = t_.target;
  if (t_.target == "deferred") {
    const std::string hashed = defer_log_path(queue_id, 1);  // "defer/H/ID": Postfix's hash of the ID
    dir += hashed.substr(hashed.find('/'), 2);
  }
  return t_.queue_dir + "/" + dir + "/" + queue_id;
}

bool PutBack::append(const std::string& records, std::string& error) {
  return records.empty() || append_record(manifest_fd_, manifest_path_, records, true, error, *t_.sys);
}

void PutBack::recover(ArchiveManifest& manifest, std::vector<RestoredMessage>& report) {
  InodeIndex index;
  bool indexed = false;
  std::vector<std::size_t> lines;  // report lines of the messages found complete
  std::vector<Written> found;
  std::string records;
  for (ArchivedMessage& m : manifest.messages) {
    if (m.restored || m.restoring_path.empty()) continue;
    if (m.placed_inode == 0) {  // announced, perhaps written, never placed
      if (our_unfinished_copy(m.restoring_path, parent_directory(manifest_path_) + "/" + m.file, m))
        ::unlink(m.restoring_path.c_str());
      continue;
    }
    if (!indexed) index = index_queues(t_.queue_dir), indexed = true;
    auto it = index.find(m.placed_inode);
    if (it != index.end() && !complete(it->second.mode)) {
      if (our_unfinished_copy(it->second.path, parent_directory(manifest_path_) + "/" + m.file, m))
        ::unlink(it->second.path.c_str());
    } else if (it != index.end() || m.queued) {
      lines.push_back(report.size());
      std::vector<std::string> canceled;
      for (const ArchivedRecipient& c : m.canceled) canceled.push_back(c.address);
      report.push_back(RestoredMessage{m.queue_id, "", "", "restored", "by an earlier restore that was interrupted",
                                       std::move(canceled)});
      Written w;
      w.message = &m;
      w.path = it != index.end() ? it->second.path : m.restoring_path;
      w.inode = m.placed_inode;
      found.push_back(std::move(w));
    }
  }
  for (std::size_t i = 0; i < found.size(); ++i) found[i].report = &report[lines[i]];
  if (!found.empty()) settle(found);
  for (Written& w : found) const_cast<ArchivedMessage*>(w.message)->restored = w.report->outcome == "restored";
}

// Step 2 for one message: its file, 0600, with the archived bytes, synced.
bool PutBack::create(PutBackItem& item, Written& w) {
  RestoredMessage& r = *item.report;
  w.message = item.message;
  w.archived = item.archived;
  w.report = item.report;
  w.path = path_for(item.name.empty() ? item.message->queue_id : item.name);
  const std::string dir = parent_directory(w.path);
  if (dir != t_.queue_dir + "/" + t_.target && ::mkdir(dir.c_str(), 0700) == 0 &&
      ::chown(dir.c_str(), t_.uid, t_.gid) != 0) {
    r.outcome = "failed";
    r.detail = sys_error(dir + ": chown");
    return false;
  }
  w.fd.reset(::open(w.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!w.fd.ok()) {
    r.outcome = errno == EEXIST ? "exists" : "failed";
    r.detail = errno == EEXIST ? w.path + " exists: not overwritten" : sys_error(w.path);
    return false;
  }
  struct stat st;
  std::string why;
  if (::fstat(w.fd.get(), &st) != 0) why = sys_error(w.path + ": fstat");
  if (why.empty() && !write_all(w.fd.get(), item.data, why, *t_.sys)) why = w.path + ": write: " + why;
  if (why.empty() && (st.st_uid != t_.uid || st.st_gid != t_.gid) && ::fchown(w.fd.get(), t_.uid, t_.gid) != 0)
    why = sys_error(w.path + ": chown");
  if (why.empty() && !sync_fd(w.fd.get(), *t_.sys)) why = sys_error(w.path + ": fsync");
  if (!why.empty()) {
    ::unlink(w.path.c_str());
    r.outcome = "failed";
    r.detail = why;
    return false;
  }
  w.inode = static_cast<std::uint64_t>(st.st_ino);
  return true;
}

void PutBack::put(std::vector<PutBackItem>& items) {
  auto fail_all = [](std::vector<Written>& ws, const std::string& why) {
    for (Written& w : ws) {
      ::unlink(w.path.c_str());  // still 0600: never read by Postfix
      w.report->outcome = "failed";
      w.report->detail = why;
    }
  };
  std::string records, error;
  for (const PutBackItem& item : items)
    records +=
        restoring_record(item.message->queue_id, path_for(item.name.empty() ? item.message->queue_id : item.name));
  if (!append(records, error)) {
    for (PutBackItem& item : items) item.report->outcome = "failed", item.report->detail = error;
    return;
  }
  std::vector<Written> written;
  for (PutBackItem& item : items) {
    Written w;
    if (create(item, w)) written.push_back(std::move(w));
  }
  std::string ignored;  // a directory that cannot be synced still holds the file
  for (const Written& w : written) sync_directory(parent_directory(w.path), ignored, *t_.sys);
  records.clear();
  for (const Written& w : written) records += placed_record(w.message->queue_id, w.inode);
  if (!append(records, error)) return fail_all(written, error);
  records.clear();
  std::vector<Written> queued;
  for (Written& w : written) {
    const struct timespec when[2] = {w.archived.st_atim, w.archived.st_mtim};
    if (::fchmod(w.fd.get(), static_cast<mode_t>(w.message->mode & 07777)) != 0 || ::futimens(w.fd.get(), when) != 0 ||
        !sync_fd(w.fd.get(), *t_.sys)) {
      std::vector<Written> one;
      one.push_back(std::move(w));
      fail_all(one, sys_error(one[0].path + ": making it complete"));
      continue;
    }
    w.fd.reset();
    records += queued_record(w.message->queue_id);
    queued.push_back(std::move(w));
  }
  if (!append(records, error))
    for (Written& w : queued) w.report->detail = "its \"queued\" record was not written (" + error + "); ";
  settle(queued);
}

// Step 6: postsuper -s, each file found again by its inode, and its
// "restored" record.
void PutBack::settle(std::vector<Written>& written) {
  if (written.empty()) return;
  std::vector<std::string> argv = postfix_argv(t_.postsuper, t_.config_dir);
  argv.push_back("-s");
  const std::string problem = describe(runner_.run(argv, ""));
  const InodeIndex found = index_queues(t_.queue_dir);
  std::string records;
  for (Written& w : written) {
    RestoredMessage& r = *w.report;
    auto it = found.find(w.inode);
    std::string where = t_.target;
    const std::string before = r.detail;
    if (it == found.end()) {
      // It was put back: recorded, so that it is never put back twice.
      r.outcome = "restored";
      r.detail = before + "written as " + w.path + ", but no file in the queue has its inode now (delivered already?)";
    } else {
      const std::string rel = it->second.path.substr(t_.queue_dir.size() + 1);
      where = rel.substr(0, rel.find('/'));
      r.new_id = it->second.name;
      r.queue = where;
      const bool renamed = is_queue_id(it->second.name) && problem.empty();
      r.outcome = renamed ? "restored" : "failed";
      r.detail = renamed ? before + it->second.path
                         : "in the queue as " + it->second.path + ", but postsuper -s " +
                               (problem.empty() ? std::string("did not rename it") : "failed: " + problem) +
                               ": run postsuper -s";
    }
    if (!problem.empty() && r.outcome == "restored") r.detail += "; postsuper -s failed: " + problem;
    records += restored_record(w.message->queue_id, r.new_id, where, t_.now, t_.host);
  }
  std::string error;
  if (append(records, error)) return;
  for (Written& w : written) {
    w.report->outcome = "failed";
    w.report->detail += "; put back, but not recorded: " + error + "; the next restore of this run settles it";
  }
}

}  // namespace qpurge
