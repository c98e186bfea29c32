// SPDX-License-Identifier: MIT
// writer.cc - copies of queue files before they are deleted; see writer.h.
#include "qpurge/archive/writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qpurge/archive/directory.h"
#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/defer_log_edit.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/spool/record.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/sha256.h"

namespace qpurge {
namespace {

constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

// A queue subdirectory as a plan names it ("deferred/A"): components of
// letters, digits and '_' only, so it cannot leave the queue directory.
bool queue_dir_ok(const std::string& dir) {
  if (dir.empty()) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = dir.find('/', start);
    std::string_view part =
        std::string_view(dir).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!queue_id_ok(part)) return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// One file being copied into the run directory: a temporary name, then the
// final one. Removes whichever of them exists unless kept.
class Copy {
 public:
  Copy(int dir_fd, std::string dir_path, std::string name)
      : dir_fd_(dir_fd), dir_path_(std::move(dir_path)), name_(std::move(name)), tmp_("." + name_ + ".tmp") {}
  ~Copy() {
    if (!keep_) discard();
  }
  Copy(const Copy&) = delete;
  Copy& operator=(const Copy&) = delete;

  // Copies the open regular file `src` (stat `st`, named `src_path` in
  // errors), keeping its permission bits and times. `sha` may be null.
  bool run(int src, const struct stat& st, const std::string& src_path, const SysCalls& sys, Sha256* sha, bool sync,
           std::string& error) {
    Fd out;
    return start(out, error) && copy_bytes(src, out.get(), src_path, dir_path_ + "/" + tmp_, sys, sha, error) &&
           finish(out, st, sys, sync, error);
  }

  // Writes `text` as the copy, with the permission bits and times of `st`.
  bool run_text(std::string_view text, const struct stat& st, const SysCalls& sys, bool sync, std::string& error) {
    Fd out;
    if (!start(out, error)) return false;
    if (!write_all(out.get(), text, error, sys)) {
      error = dir_path_ + "/" + tmp_ + ": " + error;
      return false;
    }
    bytes_ += text.size();
    return finish(out, st, sys, sync, error);
  }

  void keep() { keep_ = true; }
  void discard() {
    if (have_tmp_) ::unlinkat(dir_fd_, tmp_.c_str(), 0);
    if (have_final_) ::unlinkat(dir_fd_, name_.c_str(), 0);
    have_tmp_ = have_final_ = false;
  }
  const std::string& name() const { return name_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  bool start(Fd& out, std::string& error) {
    out.reset(::openat(dir_fd_, tmp_.c_str(), kCreateFlags, 0600));
    if (!out.ok()) {
      error = sys_error(dir_path_ + "/" + tmp_);
      return false;
    }
    have_tmp_ = true;
    return true;
  }

  bool finish(Fd& out, const struct stat& st, const SysCalls& sys, bool sync, std::string& error) {
    const std::string tmp_path = dir_path_ + "/" + tmp_;
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::fchmod(out.get(), st.st_mode & 07777) != 0) {
      error = sys_error(tmp_path + ": fchmod");
      return false;
    }
    if (::futimens(out.get(), times) != 0) {
      error = sys_error(tmp_path + ": futimens");
      return false;
    }
    if (sync && sys.fsync_fd(out.get()) != 0) {
      error = sys_error(tmp_path + ": fsync");
      return false;
    }
    if (::close(out.release()) != 0) {
      error = sys_error(tmp_path + ": close");
      return false;
    }
    if (::renameat2(dir_fd_, tmp_.c_str(), dir_fd_, name_.c_str(), RENAME_NOREPLACE) != 0) {
      error = sys_error(tmp_path + ": rename to " + name_);
      return false;
    }
    have_tmp_ = false;
    have_final_ = true;
    return true;
  }

  bool copy_bytes(int src, int out, const std::string& src_path, const std::string& tmp_path, const SysCalls& sys,
                  Sha256* sha, std::string& error) {
    std::string why;
    bool write_failed = false;
    bool ok = read_fd(
        src,
        [&](const char* data, std::size_t n) {
          if (!write_all(out, std::string_view(data, n), why, sys)) {
            write_failed = true;
            return false;
          }
          if (sha) sha->update(data, n);
          bytes_ += n;
          return true;
        },
        why);
    if (!ok) error = write_failed ? tmp_path + ": " + why : src_path + ": " + why;
    return ok;
  }

  int dir_fd_;
  std::string dir_path_, name_, tmp_;
  bool have_tmp_ = false, have_final_ = false, keep_ = false;
  std::uint64_t bytes_ = 0;
};

// open_regular() for a file to copy: a symbolic link is named as one not copied.
bool open_to_copy(const std::string& path, bool absent_ok, Fd& fd, struct stat& st, std::string& error) {
  if (open_regular(path, absent_ok, fd, st, error)) return true;
  if (error.ends_with(": is a symbolic link")) error += ", not copied";
  return false;
}

// The log Postfix keeps for `id` under `kind` ("defer", "bounce"): hashed
// one level deep by default, flat or two deep with other settings. Absent
// is true with fd not ok(); anything else that stops the open is an error.
bool open_log(const std::string& queue_dir, const std::string& kind, const std::string& id, Fd& fd, struct stat& st,
              std::string& path, std::string& error) {
  for (int depth : {1, 0, 2}) {
    // defer_log_path() hashes as Postfix's dir_forest does; only the top
    // directory differs between defer and bounce.
    std::string rel = defer_log_path(id, depth);
    path = queue_dir + "/" + kind + rel.substr(rel.find('/'));
    if (!open_to_copy(path, true, fd, st, error)) return false;
    if (fd.ok()) return true;
  }
  return true;
}

// What store() checks before it opens anything: an ID and a queue
// subdirectory that cannot leave the queue directory, and an ID not yet
// stored in this run (at `run_path`).
bool entry_ok(const PlanEntry& entry, const std::set<std::string>& stored_ids, const std::string& run_path,
              std::string& error) {
  if (!queue_id_ok(entry.id)) {
    error = "archive: not a queue ID: " + text_escaped(entry.id);
    return false;
  }
  if (!queue_dir_ok(entry.dir)) {
    error = "archive: " + entry.id + ": not a queue subdirectory: " + text_escaped(entry.dir);
    return false;
  }
  if (stored_ids.count(entry.id)) {
    error = "archive: " + entry.id + ": already stored in " + run_path;
    return false;
  }
  return true;
}

// Opens the queue file a plan entry names, as open_regular() does, and
// refuses it unless it has the planned inode (when the plan gives one).
bool open_planned(const std::string& src_path, const PlanEntry& entry, Fd& src, struct stat& st, std::string& error) {
  if (!open_to_copy(src_path, false, src, st, error)) return false;
  if (entry.inode != 0 && static_cast<std::uint64_t>(st.st_ino) != entry.inode) {
    error = src_path + ": inode " + std::to_string(st.st_ino) + ", planned " + std::to_string(entry.inode) +
            ": not the planned message";
    return false;
  }
  return true;
}

// Only a queue file cleanup wrote can be put back by --restore: its first
// record is the size record. A postdrop file (maildrop: no size record, raw
// addresses) would be taken for a corrupt file by qmgr once restored, so it
// is not archived, and so not deleted.
bool written_by_cleanup(int src, const std::string& src_path, std::string& error) {
  char first = 0;
  const ssize_t n = ::pread(src, &first, 1, 0);
  if (n < 0) {
    error = sys_error(src_path + ": read");
    return false;
  }
  if (n == 1 && first == rec::kSize) return true;
  error = src_path + ": " +
          (n == 0 ? std::string("empty")
                  : "its first record is '" + text_escaped(std::string(1, first)) + "', not the size record 'C'") +
          ": not a queue file cleanup wrote (a postdrop file from maildrop?), which --restore could not put back";
  return false;
}

// Where store() puts its copies: the run directory, the system calls, and
// whether each copy is fsynced.
struct CopyTarget {
  int dir_fd;
  const std::string& dir_path;
  const SysCalls& sys;
  bool sync;
};

// Copies the defer and bounce logs of `id` that exist, as <id>.defer and
// <id>.bounce, into `logs` (which removes them again unless kept). With
// `only` (a cancel: the canceled recipients' offsets), a copy holds only
// the entries of those recipients, and a log with none is not copied.
bool copy_logs(const std::string& queue_dir, const std::string& id, const CopyTarget& to,
               const std::set<std::uint64_t>* only, std::vector<std::unique_ptr<Copy>>& logs, std::string& error) {
  for (const char* kind : {"defer", "bounce"}) {
    Fd log;
    struct stat log_st;
    std::string log_path;
    if (!open_log(queue_dir, kind, id, log, log_st, log_path, error)) return false;
    if (!log.ok()) continue;
    std::string kept;
    if (only) {
      std::string text;
      std::size_t entries = 0;
      if (!read_open_file(log.get(), log_st, log_path, kMaxDeferLogSize, text, error)) return false;
      kept = keep_log_entries(text, *only, entries);
      if (entries == 0) continue;
    }
    logs.push_back(std::make_unique<Copy>(to.dir_fd, to.dir_path, id + "." + kind));
    const bool ok = only ? logs.back()->run_text(kept, log_st, to.sys, to.sync, error)
                         : logs.back()->run(log.get(), log_st, log_path, to.sys, nullptr, to.sync, error);
    if (!ok) return false;
  }
  return true;
}

// What the manifest says of a stored queue file (stat `st`, `file_size`
// bytes copied).
ArchivedMessage archived(const PlanEntry& entry, const struct stat& st, std::uint64_t file_size,
                         const std::vector<std::unique_ptr<Copy>>& logs, const std::string& sha256,
                         const std::vector<PlanRecipient>* canceled) {
  ArchivedMessage m;
  m.queue_name = entry.queue;
  m.queue_id = entry.id;
  m.file = entry.id;
  m.inode = static_cast<std::uint64_t>(st.st_ino);
  m.arrival_time = entry.arrival_time;
  m.sender = entry.sender;
  for (const PlanRecipient& r : entry.recipients)
    m.recipients.push_back({r.address, r.original, r.has_original, r.offset, canceled != nullptr});
  if (canceled) {
    m.cancel = true;
    for (const PlanRecipient& r : *canceled)
      m.canceled.push_back({r.address, r.original, r.has_original, r.offset, true});
  }
  m.message_size = entry.message_size;
  m.file_size = file_size;
  m.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  for (const auto& log : logs) m.logs.push_back(log->name());
  m.sha256 = sha256;
  return m;
}

// Each long criterion's list (manifest.h), in its own file of the run
// directory, synced before the header that names it by its digest.
bool write_criterion_lists(int dir_fd, const std::string& path, const ArchiveHeader& header, const SysCalls& sys,
                           std::string& error) {
  for (const PlanCriterion& c : header.criteria) {
    if (!criterion_by_digest(c)) continue;
    const std::string name = criterion_list_name(c.option);
    Fd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    std::string why;
    if (!fd.ok() || !write_all(fd.get(), criterion_list_text(c), why, sys) || !sync_fd(fd.get(), sys)) {
      error = path + "/" + name + ": " + (why.empty() ? std::strerror(errno) : why);
      return false;
    }
  }
  return true;
}

// Creates the run's manifest with its header record, and syncs it, the run
// directory and the archive directory.
bool start_manifest(int top_fd, int dir_fd, const std::string& archive_dir, const std::string& path,
                    const ArchiveHeader& header, const SysCalls& sys, Fd& manifest, std::string& error) {
  const std::string manifest_path = path + "/" + kManifestName;
  if (!write_criterion_lists(dir_fd, path, header, sys, error)) return false;
  // Read-write: append_record() reads the last byte to find a torn line.
  manifest.reset(::openat(dir_fd, kManifestName, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!manifest.ok()) {
    error = sys_error(manifest_path);
    return false;
  }
  if (!append_record(manifest.get(), manifest_path, run_record(header), true, error, sys)) return false;
  if (!sync_fd(dir_fd, sys)) {
    error = sys_error(path + ": fsync");
    return false;
  }
  if (!sync_fd(top_fd, sys)) {
    error = sys_error(archive_dir + ": fsync");
    return false;
  }
  return true;
}

// The run directory made in the archive directory open at `top`: 0700
// whatever the umask. On failure nothing of it is left.
bool make_run_directory(int top, const std::string& name, const std::string& path, Fd& dir, std::string& error) {
  if (::mkdirat(top, name.c_str(), 0700) != 0) {
    error = errno == EEXIST ? path + ": already exists; a run directory is never reused" : sys_error(path);
    return false;
  }
  dir.reset(::openat(top, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.ok() && ::fchmod(dir.get(), 0700) == 0) return true;  // mkdir's mode went through the umask
  error = sys_error(path);
  dir.reset();
  ::unlinkat(top, name.c_str(), AT_REMOVEDIR);
  return false;
}

}  // namespace

ArchiveWriter::ArchiveWriter(std::string path, Fd dir, Fd manifest, const SysCalls& sys)
    : path_(std::move(path)), dir_(std::move(dir)), manifest_(std::move(manifest)), sys_(sys) {}

ArchiveWriter::~ArchiveWriter() = default;

std::unique_ptr<ArchiveWriter> ArchiveWriter::create(const std::string& archive_dir, const ArchiveHeader& header,
                                                     std::string& error, const SysCalls& sys) {
  if (!make_archive_directory(archive_dir, header.queue_directory, error)) return nullptr;
  Fd top(::open(archive_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!top.ok()) {
    error = sys_error("archive directory " + archive_dir);
    return nullptr;
  }
  const std::string name = run_directory_name(header);
  const std::string path = archive_dir + (archive_dir.back() == '/' ? "" : "/") + name;
  Fd dir;
  if (!make_run_directory(top.get(), name, path, dir, error)) return nullptr;
  Fd manifest;
  // The manifest stays locked while it is written: a prune or a restore of
  // this run waits for the writer to be done (runs.h, restore.h).
  if (!start_manifest(top.get(), dir.get(), archive_dir, path, header, sys, manifest, error) ||
      ::flock(manifest.get(), LOCK_EX | LOCK_NB) != 0) {
    if (error.empty()) error = sys_error(path + "/" + kManifestName + ": lock");
    if (manifest.ok()) ::unlinkat(dir.get(), kManifestName, 0);
    for (const PlanCriterion& c : header.criteria)
      if (criterion_by_digest(c)) ::unlinkat(dir.get(), criterion_list_name(c.option).c_str(), 0);
    ::unlinkat(top.get(), name.c_str(), AT_REMOVEDIR);
    return nullptr;
  }
  return std::unique_ptr<ArchiveWriter>(new ArchiveWriter(path, std::move(dir), std::move(manifest), sys));
}

std::unique_ptr<ArchiveWriter> ArchiveWriter::reopen(const std::string& run_dir, std::string& error,
                                                     const SysCalls& sys) {
  if (!trusted_directory(run_dir, error)) {
    error = "archive run " + run_dir + ": " + error;
    return nullptr;
  }
  Fd dir(::open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  Fd manifest(dir.ok() ? ::openat(dir.get(), kManifestName, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC) : -1);
  const std::string manifest_path = run_dir + "/" + kManifestName;
  if (!manifest.ok()) {
    error = sys_error(dir.ok() ? manifest_path : run_dir);
    return nullptr;
  }
  if (::flock(manifest.get(), LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK ? manifest_path + ": being written by a running qpurge" : sys_error(manifest_path);
    return nullptr;
  }
  ArchiveManifest m;
  if (!trusted_fd(manifest.get(), manifest_path, error) || !read_manifest(run_dir, m, error)) return nullptr;
  std::unique_ptr<ArchiveWriter> w(new ArchiveWriter(run_dir, std::move(dir), std::move(manifest), sys));
  for (const ArchivedMessage& a : m.messages) {
    w->stored_ids_.insert(a.queue_id);
    ++w->stored_messages_;
    w->stored_bytes_ += a.file_size;
  }
  return w;
}

bool ArchiveWriter::append_manifest(const std::string& lines, bool sync, std::string& error) {
  return append_record(manifest_.get(), path_ + "/" + kManifestName, lines, sync, error, sys_);
}

bool ArchiveWriter::store(const std::string& queue_dir, const PlanEntry& entry, std::string& error,
                          const std::vector<PlanRecipient>* canceled) {
  if (!entry_ok(entry, stored_ids_, path_, error)) return false;
  const std::string src_path = queue_dir + "/" + entry.path();
  Fd src;
  struct stat st;
  if (!open_planned(src_path, entry, src, st, error) || !written_by_cleanup(src.get(), src_path, error)) return false;

  // A cancel's copy must be durable before its cross-off, which follows at
  // once: it is synced file by file, never left to a batched sync().
  const bool sync_now = !defer_sync_ || canceled != nullptr;
  const CopyTarget to{dir_.get(), path_, sys_, sync_now};
  Sha256 sha;
  Copy file(to.dir_fd, to.dir_path, entry.id);
  if (!file.run(src.get(), st, src_path, to.sys, &sha, to.sync, error)) return false;
  std::string hex;
  if (!sha.finish(hex)) {
    error = src_path + ": SHA-256 failed (libcrypto)";
    return false;
  }
  std::vector<std::unique_ptr<Copy>> logs;
  std::set<std::uint64_t> offsets;
  if (canceled)
    for (const PlanRecipient& r : *canceled) offsets.insert(r.offset);
  if (!copy_logs(queue_dir, entry.id, to, canceled ? &offsets : nullptr, logs, error)) return false;
  if (sync_now && !sync_fd(dir_.get(), sys_)) {
    error = sys_error(path_ + ": fsync");
    return false;
  }
  const std::string record = message_record(archived(entry, st, file.bytes(), logs, hex, canceled));
  if (!append_manifest(record, sync_now, error)) return false;

  // Recorded: from now on the copies are the archive's.
  file.keep();
  stored_bytes_ += file.bytes();
  for (auto& log : logs) {
    log->keep();
    stored_bytes_ += log->bytes();
  }
  stored_ids_.insert(entry.id);
  ++stored_messages_;
  return true;
}

bool ArchiveWriter::sync(std::string& error) {
  if (::syncfs(dir_.get()) == 0) return true;
  error = sys_error(path_ + ": syncfs");
  return false;
}

bool ArchiveWriter::announce(std::string_view action, const std::vector<StepId>& ids, std::string& error) {
  if (action != "delete") return true;
  std::string lines;
  for (const StepId& s : ids)
    if (stored_ids_.count(s.id)) lines += handed_record(s.id, s.queue, s.inode);
  if (lines.empty()) return true;
  return append_manifest(lines, !defer_sync_, error);
}

bool ArchiveWriter::settle(const std::vector<IdResult>& results, std::string& error) {
  std::string lines;
  for (const IdResult& r : results)
    if (stored_ids_.count(r.id)) lines += outcome_record(r.id, r.queue, std::string(outcome_name(r.outcome)), r.detail);
  if (lines.empty()) return true;
  return append_manifest(lines, true, error);
}

}  // namespace qpurge
