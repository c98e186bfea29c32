// SPDX-License-Identifier: MIT
// archive.cc - copies of queue files before they are deleted; see archive.h.
#include "qpurge/archive.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>

#include "qpurge/defer_log.h"
#include "qpurge/escape.h"
#include "qpurge/json_writer.h"
#include "qpurge/queue_id.h"

namespace qpurge {
namespace {

constexpr int kReadFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
constexpr std::uint64_t kMiB = 1024 * 1024;

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1; }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size) {
    if (ok_ && size > 0) ok_ = EVP_DigestUpdate(ctx_, data, size) == 1;
  }
  // False when libcrypto failed somewhere (out of memory, a FIPS refusal).
  bool finish(std::string& hex) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_, md, &len) != 1) return false;
    hex = to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
    return true;
  }

 private:
  EVP_MD_CTX* ctx_;
  bool ok_ = false;
};

// All of `size` bytes, or false with `why`. A short write is retried: the
// next write says why (ENOSPC, EFBIG), or a write of nothing ends it.
bool write_all(ArchiveRun::WriteFn write, int fd, const char* data, std::size_t size, std::string& why) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      return false;
    }
    if (n == 0) {
      why = "write wrote nothing";
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

ssize_t real_write(int fd, const void* data, std::size_t size) { return ::write(fd, data, size); }

// Reads `fd` to its end, feeding `sink`; false with `why`.
template <typename Sink>
bool read_all(int fd, Sink&& sink, std::string& why) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::string("read: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    if (!sink(buf, static_cast<std::size_t>(n))) return false;
  }
}

// The permission bits in octal digits, read as a decimal number: 0700 -> 700.
std::int64_t mode_digits(mode_t mode) {
  unsigned m = mode & 07777;
  std::int64_t out = 0, place = 1;
  for (; m != 0; m >>= 3, place *= 10) out += static_cast<std::int64_t>(m & 7) * place;
  return out;
}

std::string safe_name(const std::string& s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

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

std::string human_size(std::uint64_t bytes) {
  static const char* const kUnits[] = {"MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / static_cast<double>(kMiB);
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
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
  bool run(int src, const struct stat& st, const std::string& src_path, ArchiveRun::WriteFn write, Sha256* sha,
           bool sync, std::string& error) {
    const std::string tmp_path = dir_path_ + "/" + tmp_;
    Fd out(::openat(dir_fd_, tmp_.c_str(), kCreateFlags, 0600));
    if (out.get() < 0) {
      error = sys_error(tmp_path);
      return false;
    }
    have_tmp_ = true;
    std::string why;
    bool write_failed = false;
    bool ok = read_all(
        src,
        [&](const char* data, std::size_t n) {
          if (!write_all(write, out.get(), data, n, why)) {
            write_failed = true;
            return false;
          }
          if (sha) sha->update(data, n);
          bytes_ += n;
          return true;
        },
        why);
    if (!ok) {
      error = write_failed ? tmp_path + ": " + why : src_path + ": " + why;
      return false;
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::fchmod(out.get(), st.st_mode & 07777) != 0) {
      error = sys_error(tmp_path + ": fchmod");
      return false;
    }
    if (::futimens(out.get(), times) != 0) {
      error = sys_error(tmp_path + ": futimens");
      return false;
    }
    if (sync && ::fsync(out.get()) != 0) {
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

  void keep() { keep_ = true; }
  void discard() {
    if (have_tmp_) ::unlinkat(dir_fd_, tmp_.c_str(), 0);
    if (have_final_) ::unlinkat(dir_fd_, name_.c_str(), 0);
    have_tmp_ = have_final_ = false;
  }
  const std::string& name() const { return name_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  int dir_fd_;
  std::string dir_path_, name_, tmp_;
  bool have_tmp_ = false, have_final_ = false, keep_ = false;
  std::uint64_t bytes_ = 0;
};

// Opens a queue file or log read-only, without following a symlink, and
// checks that it is a regular file. `absent_ok`: ENOENT is not an error
// (returns true with fd -1).
bool open_regular(const std::string& path, bool absent_ok, Fd& fd, struct stat& st, std::string& error) {
  fd.reset(::open(path.c_str(), kReadFlags));
  if (fd.get() < 0) {
    if (absent_ok && errno == ENOENT) return true;
    error = errno == ELOOP ? path + ": is a symbolic link, not copied" : sys_error(path);
    return false;
  }
  if (::fstat(fd.get(), &st) != 0) {
    error = sys_error(path + ": fstat");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  return true;
}

// The log Postfix keeps for `id` under `kind` ("defer", "bounce"): hashed
// one level deep by default, flat or two deep with other settings. Absent
// is true with fd -1; anything else that stops the open is an error.
bool open_log(const std::string& queue_dir, const std::string& kind, const std::string& id, Fd& fd, struct stat& st,
              std::string& path, std::string& error) {
  for (int depth : {1, 0, 2}) {
    // defer_log_path() hashes as Postfix's dir_forest does; only the top
    // directory differs between defer and bounce.
    std::string rel = defer_log_path(id, depth);
    path = queue_dir + "/" + kind + rel.substr(rel.find('/'));
    if (!open_regular(path, true, fd, st, error)) return false;
    if (fd.get() >= 0) return true;
  }
  return true;
}

void write_run_record(JsonWriter& w, const ArchiveHeader& h) {
  w.begin_object().field("record", "run").field("version", kArchiveVersion).field("created", h.created);
  w.field("host", text_escaped(h.host)).field("run", text_escaped(h.run_id));
  w.field("queue_directory", text_escaped(h.queue_directory));
  w.field("config_directory", text_escaped(h.config_directory));
  w.field("action", text_escaped(h.action));
  write_criteria_exact(w, h.criteria);
  std::vector<std::string> argv;
  for (const std::string& a : h.argv) argv.push_back(text_escaped(a));
  w.field_strings("argv", argv).end_object();
}

// mkdir -p, each new directory 0700; `created` gets those made, parents first.
bool make_dirs(const std::string& dir, std::vector<std::string>& created, std::string& error) {
  std::size_t pos = 0;
  for (;;) {
    pos = dir.find('/', pos + 1);
    std::string prefix = dir.substr(0, pos);
    if (!prefix.empty() && prefix != "." && prefix != "..") {
      if (::mkdir(prefix.c_str(), 0700) == 0) {
        created.push_back(prefix);
      } else if (errno != EEXIST) {
        error = sys_error("archive directory " + prefix);
        return false;
      }
    }
    if (pos == std::string::npos) return true;
  }
}

std::string parent_of(const std::string& path) {
  std::size_t slash = path.find_last_not_of('/');
  if (slash == std::string::npos) return "/";
  slash = path.rfind('/', slash);
  if (slash == std::string::npos) return ".";
  std::size_t end = path.find_last_not_of('/', slash);
  return end == std::string::npos ? "/" : path.substr(0, end + 1);
}

// The canonical path of `path`, which need not exist yet: its nearest
// existing ancestor resolved, the rest appended as written. "" when even
// that cannot be resolved.
std::string resolved(const std::string& path) {
  std::string head = path, tail;
  for (;;) {
    if (char* real = ::realpath(head.c_str(), nullptr)) {
      std::string out = real;
      std::free(real);
      return tail.empty() ? out : (out == "/" ? "" : out) + "/" + tail;
    }
    if (errno != ENOENT || head == "/" || head == ".") return "";
    std::string name = head.substr(0, head.find_last_not_of('/') + 1);
    name = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    tail = tail.empty() ? name : name + "/" + tail;
    head = parent_of(head);
  }
}

bool fsync_dir(const std::string& dir, std::string& error) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    error = sys_error(dir + ": fsync");
    return false;
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
  if (!open_regular(src_path, false, src, st, error)) return false;
  if (entry.inode != 0 && static_cast<std::uint64_t>(st.st_ino) != entry.inode) {
    error = src_path + ": inode " + std::to_string(st.st_ino) + ", planned " + std::to_string(entry.inode) +
            ": not the planned message";
    return false;
  }
  return true;
}

// Where store() puts its copies: the run directory, the write function,
// and whether each copy is fsynced.
struct CopyTarget {
  int dir_fd;
  const std::string& dir_path;
  ArchiveRun::WriteFn write;
  bool sync;
};

// Copies the defer and bounce logs of `id` that exist, as <id>.defer and
// <id>.bounce, into `logs` (which removes them again unless kept).
bool copy_logs(const std::string& queue_dir, const std::string& id, const CopyTarget& to,
               std::vector<std::unique_ptr<Copy>>& logs, std::string& error) {
  for (const char* kind : {"defer", "bounce"}) {
    Fd log;
    struct stat log_st;
    std::string log_path;
    if (!open_log(queue_dir, kind, id, log, log_st, log_path, error)) return false;
    if (log.get() < 0) continue;
    logs.push_back(std::make_unique<Copy>(to.dir_fd, to.dir_path, id + "." + kind));
    if (!logs.back()->run(log.get(), log_st, log_path, to.write, nullptr, to.sync, error)) return false;
  }
  return true;
}

// The manifest's "message" record of a stored queue file (stat `st`,
// `file_size` bytes copied), with its newline.
std::string message_record(const PlanEntry& entry, const struct stat& st, std::uint64_t file_size,
                           const std::vector<std::unique_ptr<Copy>>& logs, const std::string& sha256) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "message").field("queue_name", text_escaped(entry.queue));
  w.field("queue_id", entry.id);
  w.field("inode", static_cast<std::uint64_t>(st.st_ino)).field("arrival_time", entry.arrival_time);
  w.field("sender", text_escaped(entry.sender)).field("sender_hex", to_hex(entry.sender));
  w.key("recipients").begin_array();
  for (const PlanRecipient& r : entry.recipients) {
    w.begin_object().field("address", text_escaped(r.address)).field("address_hex", to_hex(r.address));
    if (r.has_original) w.field("original_recipient", text_escaped(r.original));
    w.end_object();
  }
  w.end_array();
  w.field("message_size", entry.message_size).field("file_size", file_size).field("file", entry.id);
  w.field("mode", mode_digits(st.st_mode));
  w.key("logs").begin_array();
  for (const auto& log : logs) w.value(log->name());
  w.end_array();
  w.field("sha256", sha256).end_object();
  line += '\n';
  return line;
}

// Makes ARCHIVE_DIR (and its missing parents, synced), refusing one under the
// queue directory.
bool make_archive_dir(const std::string& archive_dir, const std::string& queue_directory, std::string& error) {
  // Least privilege: nothing is written under the queue directory, where
  // Postfix would take our files for its own. Checked before anything is
  // made, and again once the directory exists (when a path could not be
  // resolved before, it is an error now).
  const std::string queue_real = queue_directory.empty() ? "" : resolved(queue_directory);
  auto inside_queue = [&](bool must_resolve) {
    if (queue_real.empty()) return false;
    std::string archive_real = resolved(archive_dir);
    if (archive_real.empty()) {
      if (must_resolve) error = sys_error("archive directory " + archive_dir);
      return must_resolve;
    }
    if (archive_real != queue_real && !archive_real.starts_with(queue_real + "/")) return false;
    error = "archive directory " + archive_dir + ": inside the queue directory " + queue_directory +
            "; name one outside it with --archive";
    return true;
  };
  if (inside_queue(false)) return false;
  std::vector<std::string> created;
  if (!make_dirs(archive_dir, created, error)) return false;
  for (const std::string& dir : created)
    if (!fsync_dir(parent_of(dir), error)) return false;
  if (inside_queue(true)) return false;

  return true;
}

// Creates the run's manifest with its header record, and syncs it, the run
// directory and the archive directory.
bool start_manifest(int top_fd, int dir_fd, const std::string& archive_dir, const std::string& path,
                    const ArchiveHeader& header, ArchiveRun::WriteFn write, Fd& manifest, bool& have_manifest,
                    std::string& error) {
  const std::string manifest_path = path + "/" + kArchiveManifest;
  manifest.reset(::openat(dir_fd, kArchiveManifest, kCreateFlags | O_APPEND, 0600));
  if (manifest.get() < 0) {
    error = sys_error(manifest_path);
    return false;
  }
  have_manifest = true;
  std::string line;
  JsonWriter w(line);
  write_run_record(w, header);
  line += '\n';
  std::string why;
  if (!write_all(write, manifest.get(), line.data(), line.size(), why)) {
    error = manifest_path + ": " + why;
    return false;
  }
  if (::fsync(manifest.get()) != 0) {
    error = sys_error(manifest_path + ": fsync");
    return false;
  }
  if (::fsync(dir_fd) != 0) {
    error = sys_error(path + ": fsync");
    return false;
  }
  if (::fsync(top_fd) != 0) {
    error = sys_error(archive_dir + ": fsync");
    return false;
  }
  return true;
}

}  // namespace

std::string archive_run_name(const ArchiveHeader& header) {
  char stamp[32] = "";
  std::time_t t = static_cast<std::time_t>(header.created);
  struct tm tm;
  if (::gmtime_r(&t, &tm) == nullptr || std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
    std::snprintf(stamp, sizeof stamp, "%" PRId64, header.created);
  std::string run = header.run_id;
  if (std::size_t dot = run.rfind('.'); dot != std::string::npos && dot + 1 < run.size()) run = run.substr(dot + 1);
  std::string host = safe_name(header.host, 64);
  run = safe_name(run, 32);
  return std::string(stamp) + "-" + (host.empty() ? "localhost" : host) + "-" + (run.empty() ? "run" : run);
}

ArchiveRun::ArchiveRun(std::string path, int dir_fd, int manifest_fd, WriteFn write)
    : path_(std::move(path)), dir_fd_(dir_fd), manifest_fd_(manifest_fd), write_(write) {}

ArchiveRun::~ArchiveRun() {
  if (manifest_fd_ >= 0) ::close(manifest_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::unique_ptr<ArchiveRun> ArchiveRun::create(const std::string& archive_dir, const ArchiveHeader& header,
                                               std::string& error, WriteFn write) {
  if (!write) write = real_write;
  if (archive_dir.empty()) {
    error = "archive directory: empty name";
    return nullptr;
  }
  if (!make_archive_dir(archive_dir, header.queue_directory, error)) return nullptr;

  Fd top(::open(archive_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (top.get() < 0) {
    error = sys_error("archive directory " + archive_dir);
    return nullptr;
  }
  const std::string name = archive_run_name(header);
  const std::string path = archive_dir + (archive_dir.back() == '/' ? "" : "/") + name;
  if (::mkdirat(top.get(), name.c_str(), 0700) != 0) {
    error = errno == EEXIST ? path + ": already exists; a run directory is never reused" : sys_error(path);
    return nullptr;
  }
  // From here on a failure removes the run directory again.
  bool done = false;
  bool have_manifest = false;
  struct Cleanup {
    int top;
    const std::string& name;
    bool& done;
    bool& have_manifest;
    ~Cleanup() {
      if (done) return;
      if (have_manifest) ::unlinkat(top, (name + "/" + kArchiveManifest).c_str(), 0);
      ::unlinkat(top, name.c_str(), AT_REMOVEDIR);
    }
  } cleanup{top.get(), name, done, have_manifest};

  Fd dir(::openat(top.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) {
    error = sys_error(path);
    return nullptr;
  }
  if (::fchmod(dir.get(), 0700) != 0) {  // mkdir's mode went through the umask
    error = sys_error(path + ": fchmod");
    return nullptr;
  }
  Fd manifest;
  if (!start_manifest(top.get(), dir.get(), archive_dir, path, header, write, manifest, have_manifest, error))
    return nullptr;
  done = true;
  return std::unique_ptr<ArchiveRun>(new ArchiveRun(path, dir.release(), manifest.release(), write));
}

bool ArchiveRun::append_manifest(const std::string& lines, std::string& error) {
  const std::string where = path_ + "/" + kArchiveManifest;
  struct stat st;
  if (::fstat(manifest_fd_, &st) != 0) {
    error = sys_error(where + ": fstat");
    return false;
  }
  std::string why;
  if (write_all(write_, manifest_fd_, lines.data(), lines.size(), why)) {
    if (defer_sync_ || ::fsync(manifest_fd_) == 0) return true;
    why = std::string("fsync: ") + std::strerror(errno);
  }
  if (::ftruncate(manifest_fd_, st.st_size) != 0) {
    error = where + ": " + why + "; truncating the partial record away failed too: " + std::strerror(errno);
    return false;
  }
  ::fsync(manifest_fd_);
  error = where + ": " + why + ": the partial record was rolled back";
  return false;
}

bool ArchiveRun::store(const std::string& queue_dir, const PlanEntry& entry, std::string& error) {
  if (!entry_ok(entry, stored_ids_, path_, error)) return false;
  const std::string src_path = queue_dir + "/" + entry.path();
  Fd src;
  struct stat st;
  if (!open_planned(src_path, entry, src, st, error)) return false;

  const CopyTarget to{dir_fd_, path_, write_, !defer_sync_};
  Sha256 sha;
  Copy file(to.dir_fd, to.dir_path, entry.id);
  if (!file.run(src.get(), st, src_path, to.write, &sha, to.sync, error)) return false;
  std::string hex;
  if (!sha.finish(hex)) {
    error = src_path + ": SHA-256 failed (libcrypto)";
    return false;
  }
  std::vector<std::unique_ptr<Copy>> logs;
  if (!copy_logs(queue_dir, entry.id, to, logs, error)) return false;
  if (!defer_sync_ && ::fsync(dir_fd_) != 0) {
    error = sys_error(path_ + ": fsync");
    return false;
  }
  if (!append_manifest(message_record(entry, st, file.bytes(), logs, hex), error)) return false;

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

bool ArchiveRun::sync(std::string& error) {
  if (::syncfs(dir_fd_) == 0) return true;
  error = sys_error(path_ + ": syncfs");
  return false;
}

bool ArchiveRun::record_outcomes(const std::vector<IdResult>& results, std::string& error) {
  std::string lines;
  for (const IdResult& r : results) {
    if (!stored_ids_.count(r.id)) continue;
    JsonWriter w(lines);
    w.begin_object().field("record", "outcome").field("queue_id", r.id).field("queue_name", text_escaped(r.queue));
    w.field("result", outcome_name(r.outcome));
    if (!r.detail.empty()) w.field("detail", text_escaped(r.detail));
    w.end_object();
    lines += '\n';
  }
  if (lines.empty()) return true;
  return append_manifest(lines, error);
}

std::uint64_t archive_space_needed(std::uint64_t bytes) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t margin = bytes / 10 + kMiB;
  return bytes > kMax - margin ? kMax : bytes + margin;
}

bool archive_fits(const std::string& archive_dir, std::uint64_t bytes, std::string& error) {
  std::string dir = archive_dir.empty() ? "." : archive_dir;
  struct stat st;
  while (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || dir == "/" || dir == ".") {
      error = sys_error("archive " + archive_dir + ": " + dir);
      return false;
    }
    dir = parent_of(dir);
  }
  struct statvfs vfs;
  if (::statvfs(dir.c_str(), &vfs) != 0) {
    error = sys_error("archive " + archive_dir + ": statvfs " + dir);
    return false;
  }
  const std::uint64_t avail = vfs.f_bavail, frsize = vfs.f_frsize;
  const std::uint64_t free_bytes = frsize != 0 && avail > std::numeric_limits<std::uint64_t>::max() / frsize
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : avail * frsize;
  const std::uint64_t needed = archive_space_needed(bytes);
  if (needed <= free_bytes) return true;
  error = "archive " + archive_dir + ": " + human_size(needed) + " needed (with a margin), " + human_size(free_bytes) +
          " free on its file system; name another file system with --archive";
  return false;
}

bool sha256_hex(std::string_view data, std::string& hex) {
  Sha256 sha;
  sha.update(data.data(), data.size());
  return sha.finish(hex);
}

bool sha256_file(const std::string& path, std::string& hex, std::string& error) {
  Fd fd;
  struct stat st;
  if (!open_regular(path, false, fd, st, error)) return false;
  Sha256 sha;
  std::string why;
  if (!read_all(
          fd.get(),
          [&](const char* data, std::size_t n) {
            sha.update(data, n);
            return true;
          },
          why)) {
    error = path + ": " + why;
    return false;
  }
  if (!sha.finish(hex)) {
    error = path + ": SHA-256 failed (libcrypto)";
    return false;
  }
  return true;
}

}  // namespace qpurge
