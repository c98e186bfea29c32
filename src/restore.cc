// SPDX-License-Identifier: MIT
// restore.cc - restoring archived messages, listing and pruning archive runs;
// see restore.h.
#include "qpurge/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "qpurge/archive.h"
#include "qpurge/defer_log.h"
#include "qpurge/escape.h"
#include "qpurge/json_writer.h"
#include "qpurge/postfix_config.h"
#include "qpurge/queue_file.h"
#include "qpurge/queue_id.h"
#include "qpurge/record.h"
#include "qpurge/system.h"
#include "qpurge/text.h"

namespace qpurge {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxManifestSize = std::size_t{1} << 30;
constexpr std::size_t kMaxArchivedFile = std::size_t{1} << 31;

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Reads a regular file without following a symbolic link.
bool read_whole(const std::string& path, std::size_t limit, std::string& data, struct stat& st, std::string& error) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    error = sys_error(path);
    return false;
  }
  if (::fstat(fd.get(), &st) != 0) {
    error = sys_error(path);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    error = path + ": too large: " + std::to_string(st.st_size) + " bytes";
    return false;
  }
  data.clear();
  data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = sys_error(path);
      return false;
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > limit) {
      error = path + ": grew while read";
      return false;
    }
  }
  return true;
}

bool fsync_ok(int fd) { return ::fsync(fd) == 0 || errno == EINVAL || errno == EROFS; }

// ---- manifest fields -------------------------------------------------------

struct BadLine : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const json& field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw BadLine(std::string("no \"") + name + "\"");
  return *it;
}
std::string get_string(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_string()) throw BadLine(std::string("\"") + name + "\" is not a string");
  return v.get<std::string>();
}
std::int64_t get_int(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_integer()) throw BadLine(std::string("\"") + name + "\" is not an integer");
  return v.get<std::int64_t>();
}
std::uint64_t get_uint(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_unsigned()) throw BadLine(std::string("\"") + name + "\" is not an unsigned integer");
  return v.get<std::uint64_t>();
}
std::string opt_string(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw BadLine(std::string("\"") + name + "\" is not a string");
  return it->get<std::string>();
}
// The exact bytes: NAME_hex when present, else NAME.
std::string exact_string(const json& j, const char* name) {
  std::string hex_name = std::string(name) + "_hex";
  auto it = j.find(hex_name);
  if (it == j.end()) return get_string(j, name);
  std::string bytes;
  if (!it->is_string() || !from_hex(it->get<std::string>(), bytes)) throw BadLine("bad \"" + hex_name + "\"");
  return bytes;
}
std::vector<std::string> string_array(const json& j, const char* name, bool required) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) throw BadLine(std::string("no \"") + name + "\"");
    return out;
  }
  if (!it->is_array()) throw BadLine(std::string("\"") + name + "\" is not an array");
  for (const json& v : *it) {
    if (!v.is_string()) throw BadLine(std::string("\"") + name + "\" holds a value that is not a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<PlanCriterion> parse_criteria(const json& j) {
  std::vector<PlanCriterion> out;
  auto it = j.find("criteria");
  if (it == j.end()) return out;
  if (!it->is_array()) throw BadLine("\"criteria\" is not an array");
  for (const json& c : *it) {
    if (!c.is_object()) throw BadLine("a criterion is not an object");
    PlanCriterion pc;
    pc.option = get_string(c, "option");
    if (c.contains("values_hex")) {
      for (const std::string& h : string_array(c, "values_hex", true)) {
        std::string bytes;
        if (!from_hex(h, bytes)) throw BadLine("bad \"values_hex\" in criteria");
        pc.values.push_back(bytes);
      }
    } else {
      pc.values = string_array(c, "values", false);
    }
    out.push_back(std::move(pc));
  }
  return out;
}

void parse_header(const json& j, ArchiveManifest& m) {
  if (opt_string(j, "record") != "run") throw BadLine("the first record is not the run header");
  m.version = static_cast<int>(get_int(j, "version"));
  if (m.version != 1) throw BadLine("manifest version " + std::to_string(m.version) + " (this qpurge reads 1)");
  m.created = get_int(j, "created");
  m.host = get_string(j, "host");
  m.run = get_string(j, "run");
  m.queue_directory = get_string(j, "queue_directory");
  m.config_directory = opt_string(j, "config_directory");
  m.action = opt_string(j, "action");
  m.criteria = parse_criteria(j);
  m.argv = string_array(j, "argv", false);
}

ArchivedMessage parse_message(const json& j, int line) {
  ArchivedMessage m;
  m.line = line;
  m.queue_name = get_string(j, "queue_name");
  m.queue_id = get_string(j, "queue_id");
  m.file = get_string(j, "file");
  m.inode = get_uint(j, "inode");
  m.arrival_time = get_int(j, "arrival_time");
  m.sender = exact_string(j, "sender");
  const json& rcpts = field(j, "recipients");
  if (!rcpts.is_array()) throw BadLine("\"recipients\" is not an array");
  for (const json& r : rcpts) {
    if (!r.is_object()) throw BadLine("a recipient is not an object");
    ArchivedRecipient ar;
    ar.address = exact_string(r, "address");
    if (r.contains("original_recipient") && !r.at("original_recipient").is_null()) {
      ar.original = get_string(r, "original_recipient");
      ar.has_original = true;
    }
    m.recipients.push_back(std::move(ar));
  }
  m.message_size = get_int(j, "message_size");
  m.file_size = get_uint(j, "file_size");
  // The archive writes the mode as `stat -c %a` prints it: octal digits (700).
  const std::string digits = std::to_string(get_int(j, "mode"));
  std::size_t used = 0;
  unsigned long mode = 0;
  try {
    mode = std::stoul(digits, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != digits.size() || mode > 07777) throw BadLine("bad \"mode\": " + digits);
  m.mode = static_cast<std::uint32_t>(mode);
  if (j.contains("logs") && j.at("logs").is_array())
    for (const json& l : j.at("logs"))
      if (l.is_string()) m.logs.push_back(l.get<std::string>());
  m.sha256 = ascii_lower(get_string(j, "sha256"));
  if (m.sha256.size() != 64 || m.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw BadLine("bad \"sha256\"");
  return m;
}

bool split_lines(const std::string& text, const std::string& where, std::vector<std::string_view>& lines,
                 std::string& error) {
  std::string_view rest(text);
  int n = 0;
  while (!rest.empty()) {
    ++n;
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      error = where + ":" + std::to_string(n) + ": torn last line (no newline at its end)";
      return false;
    }
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.empty()) {
    error = where + ": empty";
    return false;
  }
  return true;
}

// The run header alone (for pruning): the first line must be one.
bool read_header_only(int dirfd, ArchiveManifest& m) {
  Fd fd(::openat(dirfd, kManifestName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  struct stat st;
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::string first;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    first.append(buf, static_cast<std::size_t>(n));
    std::size_t nl = first.find('\n');
    if (nl != std::string::npos) {
      first.resize(nl);
      break;
    }
    if (first.size() > (std::size_t{1} << 20)) return false;
  }
  try {
    json j = json::parse(first);
    if (!j.is_object()) return false;
    parse_header(j, m);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// ---- restoring --------------------------------------------------------------

bool is_target(const std::string& q) { return q == "hold" || q == "deferred" || q == "incoming"; }

// Postfix's hash subdirectory (depth 1) of an ID: the first character of a
// short ID, of a long ID's microseconds as %05X (dir_forest).
std::string hash_dir(const std::string& id) {
  std::string p = defer_log_path(id, 1);  // "defer/H/ID"
  return p.substr(6, 1);
}

std::string queue_subdir(const std::string& queue, const std::string& id) {
  return queue == "deferred" ? queue + "/" + hash_dir(id) : queue;
}

// A file with this name in any message queue (flat or hashed).
std::string existing_copy(const std::string& queue_dir, const std::string& id) {
  struct stat st;
  for (std::string_view q : kMessageQueues) {
    for (const std::string& rel : {std::string(q) + "/" + id, std::string(q) + "/" + hash_dir(id) + "/" + id}) {
      std::string path = queue_dir + "/" + rel;
      if (::lstat(path.c_str(), &st) == 0) return path;
    }
  }
  return {};
}

struct Located {
  std::string name;
  std::string path;
};

// Files of one queue (and its one-character hash subdirectories, as deep as
// Postfix makes them) by inode.
void index_queue(const std::string& dir, int depth, std::map<std::uint64_t, Located>& out) {
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
      out[static_cast<std::uint64_t>(st.st_ino)] = Located{name, path};
    }
  }
}

// The owner Postfix gives queue files: the owner of the queue's directory
// (mail_owner) and that user's group.
void queue_owner(const struct stat& dir, uid_t& uid, gid_t& gid) {
  uid = dir.st_uid;
  gid = dir.st_gid;
  struct passwd pw, *found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) gid = pw.pw_gid;
}

struct Created {
  std::size_t report_index = 0;
  const ArchivedMessage* message = nullptr;
  std::uint64_t inode = 0;
  std::string path;
};

// Writes `data` at `path` as a queue file: O_EXCL, never through a symbolic
// link, mode 0600 (incomplete to Postfix) until everything is on disk.
// Returns "" or why not; `exists` when something is there already.
std::string create_copy(const std::string& path, std::string_view data, const ArchivedMessage& m,
                        const struct stat& archived, uid_t uid, gid_t gid, std::uint64_t& inode, bool& exists) {
  exists = false;
  int raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  if (raw < 0) {
    exists = errno == EEXIST;
    return sys_error(path);
  }
  Fd fd(raw);
  struct stat st;
  std::string why;
  if (::fstat(fd.get(), &st) != 0) why = sys_error(path + ": fstat");
  if (why.empty() && !write_all(fd.get(), data)) why = sys_error(path + ": write");
  if (why.empty() && !fsync_ok(fd.get())) why = sys_error(path + ": fsync");
  if (why.empty() && (st.st_uid != uid || st.st_gid != gid) && ::fchown(fd.get(), uid, gid) != 0)
    why = sys_error(path + ": chown");
  if (why.empty() && ::fchmod(fd.get(), static_cast<mode_t>(m.mode & 07777)) != 0) why = sys_error(path + ": chmod");
  const struct timespec times[2] = {archived.st_atim, archived.st_mtim};
  if (why.empty() && ::futimens(fd.get(), times) != 0) why = sys_error(path + ": set times");
  if (why.empty() && !fsync_ok(fd.get())) why = sys_error(path + ": fsync");
  if (!why.empty()) {
    ::unlink(path.c_str());
    return why;
  }
  inode = static_cast<std::uint64_t>(st.st_ino);
  return {};
}

void fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) (void)::fsync(fd.get());
}

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

}  // namespace

bool read_manifest(const std::string& run_dir, ArchiveManifest& out, std::string& error) {
  out = ArchiveManifest{};
  const std::string where = run_dir + "/" + kManifestName;
  std::string text;
  struct stat st;
  if (!read_whole(where, kMaxManifestSize, text, st, error)) return false;
  std::vector<std::string_view> lines;
  if (!split_lines(text, where, lines, error)) return false;
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int n = static_cast<int>(i + 1);
    try {
      json j;
      try {
        j = json::parse(lines[i]);
      } catch (const json::parse_error&) {
        throw BadLine("not JSON");
      }
      if (!j.is_object()) throw BadLine("not a JSON object");
      if (i == 0) {
        parse_header(j, out);
        continue;
      }
      const std::string kind = get_string(j, "record");
      if (kind == "message") {
        ArchivedMessage m = parse_message(j, n);
        if (!by_id.emplace(m.queue_id, out.messages.size()).second)
          throw BadLine("queue ID " + m.queue_id + " archived twice");
        out.messages.push_back(std::move(m));
        continue;
      }
      if (kind != "outcome" && kind != "restored") {
        if (kind == "run") throw BadLine("a second run header");
        throw BadLine("unknown record \"" + kind + "\"");
      }
      const std::string id = get_string(j, "queue_id");
      auto it = by_id.find(id);
      if (it == by_id.end()) throw BadLine("\"" + kind + "\" record for " + id + ", which is not archived");
      ArchivedMessage& m = out.messages[it->second];
      if (kind == "outcome") {
        m.has_outcome = true;
        m.result = get_string(j, "result");
        m.result_detail = opt_string(j, "detail");
      } else {
        m.restored = true;
        m.new_queue_id = get_string(j, "new_queue_id");
        m.restored_to = get_string(j, "queue_name");
        m.restored_time = get_int(j, "time");
      }
    } catch (const std::exception& e) {
      error = where + ":" + std::to_string(n) + ": " + e.what();
      return false;
    }
  }
  return true;
}

namespace {

// Ends one message's restore with `outcome` and `detail`; false, so that a
// check can return it.
bool stop(RestoredMessage& r, const char* outcome, std::string detail) {
  r.outcome = outcome;
  r.detail = std::move(detail);
  return false;
}

// An archived queue file, read once (for selection or for restoring).
struct ArchivedCopy {
  std::string path;
  std::string data;
  struct stat st {};
  bool read = false;
};

// One restore_run(): its steps, and the state they share. The manifest stays
// open (and locked) from before it is read until the object is destroyed,
// after the "restored" records are written.
class RestoreRun {
 public:
  RestoreRun(const RestoreOptions& options, CommandRunner& runner)
      : options_(options),
        runner_(runner),
        manifest_path_(options.run_dir + "/" + kManifestName),
        target_dir_(options.queue_dir + "/" + options.target) {}
  RestoreReport run();

 private:
  enum class Selection { kSelected, kNotSelected, kUnjudged };

  bool lock_manifest();
  bool check_instance();
  bool check_target();
  void restore_message(const ArchivedMessage& m);
  Selection select(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r);
  std::vector<std::string> delay_reasons(const ArchivedMessage& m) const;
  bool name_free(const ArchivedMessage& m, RestoredMessage& r) const;
  void put_back(const ArchivedMessage& m, const ArchivedCopy& copy, RestoredMessage& r);
  void finish();
  std::string run_postsuper();
  std::map<std::uint64_t, Located> locate_created() const;
  std::string settle(const Created& c, const std::map<std::uint64_t, Located>& found,
                     const std::string& postsuper_problem);
  std::string restored_record(const Created& c, const RestoredMessage& r, const std::string& where) const;
  void record(const std::string& records);

  const RestoreOptions& options_;
  CommandRunner& runner_;
  const std::string manifest_path_;
  const std::string target_dir_;
  RestoreReport report_;
  Fd manifest_fd_;
  ArchiveManifest manifest_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::int64_t now_ = 0;
  std::vector<Created> created_;
  std::vector<std::string> touched_dirs_;
  Message msg_;
  RecordReader reader_;
};

RestoreReport RestoreRun::run() {
  if (!is_target(options_.target)) {
    report_.error = "cannot restore into the " + options_.target + " queue (hold, deferred or incoming)";
    return std::move(report_);
  }
  if (!lock_manifest() || !read_manifest(options_.run_dir, manifest_, report_.error) || !check_instance() ||
      !check_target())
    return std::move(report_);
  now_ = options_.now ? options_.now : static_cast<std::int64_t>(std::time(nullptr));
  for (const ArchivedMessage& m : manifest_.messages) restore_message(m);
  if (!created_.empty()) finish();
  return std::move(report_);
}

// One restore of a run at a time: the lock is taken before the manifest is
// read, so what it says about restored messages is current.
bool RestoreRun::lock_manifest() {
  manifest_fd_.reset(::open(manifest_path_.c_str(),
                            (options_.dry_run ? O_RDONLY : O_WRONLY | O_APPEND) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (manifest_fd_.get() < 0) {
    report_.error = sys_error(manifest_path_);
    return false;
  }
  if (::flock(manifest_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    report_.error = errno == EWOULDBLOCK ? manifest_path_ + ": another restore of this run is running"
                                         : sys_error(manifest_path_ + ": lock");
    return false;
  }
  return true;
}

// The run must come from this host and queue directory, unless forced.
bool RestoreRun::check_instance() {
  if (options_.force_other_instance) return true;
  if (manifest_.host != options_.host) {
    report_.error = options_.run_dir + ": archived on host " + text_escaped(manifest_.host) + ", this is " +
                    text_escaped(options_.host) + " (force it to restore here)";
    return false;
  }
  if (!same_directory(manifest_.queue_directory, options_.queue_dir)) {
    report_.error = options_.run_dir + ": archived from queue directory " + text_escaped(manifest_.queue_directory) +
                    ", not " + text_escaped(options_.queue_dir) + " (force it to restore here)";
    return false;
  }
  return true;
}

// The target queue must be a directory; its owner owns what is put back.
bool RestoreRun::check_target() {
  struct stat tst;
  if (::lstat(target_dir_.c_str(), &tst) != 0) {
    report_.error = sys_error(target_dir_);
    return false;
  }
  if (!S_ISDIR(tst.st_mode)) {
    report_.error = target_dir_ + ": not a directory";
    return false;
  }
  queue_owner(tst, uid_, gid_);
  return true;
}

bool named_safely(const ArchivedMessage& m, const ArchivedCopy& copy, RestoredMessage& r) {
  if (is_queue_id(m.queue_id) && queue_id_ok(m.file)) return true;
  return stop(r, "failed", copy.path + ": not a queue ID: " + text_escaped(m.queue_id));
}

bool read_copy(ArchivedCopy& copy, RestoredMessage& r) {
  if (copy.read) return true;
  std::string read_error;
  if (!read_whole(copy.path, kMaxArchivedFile, copy.data, copy.st, read_error)) return stop(r, "failed", read_error);
  copy.read = true;
  return true;
}

// Only a message the purge deleted, and that is not restored yet.
bool restorable(const ArchivedMessage& m, RestoredMessage& r) {
  if (!m.deleted())
    return stop(
        r, "not_deleted",
        m.has_outcome
            ? "the purge did not delete it (" + m.result + (m.result_detail.empty() ? "" : ": " + m.result_detail) + ")"
            : "no outcome recorded: the purge may have stopped before it; look for " + m.queue_id + " in the queue");
  if (m.restored) {
    r.new_id = m.new_queue_id;
    return stop(r, "already_restored",
                "restored into " + m.restored_to + (m.new_queue_id.empty() ? "" : " as " + m.new_queue_id));
  }
  return true;
}

// The copy must be what was archived: its SHA-256 and size as the manifest says.
bool verified(const ArchivedMessage& m, const ArchivedCopy& copy, RestoredMessage& r) {
  std::string sum;
  if (!sha256_hex(copy.data, sum)) return stop(r, "failed", copy.path + ": SHA-256 could not be computed");
  if (sum != m.sha256 || copy.data.size() != m.file_size)
    return stop(r, "checksum_mismatch",
                copy.path + ": sha256 " + sum + " (" + std::to_string(copy.data.size()) +
                    " bytes), the manifest says " + m.sha256 + " (" + std::to_string(m.file_size) + " bytes)");
  return true;
}

void RestoreRun::restore_message(const ArchivedMessage& m) {
  RestoredMessage r;
  r.old_id = m.queue_id;
  ArchivedCopy copy;
  copy.path = options_.run_dir + "/" + m.file;
  if (options_.matcher) {
    // Selection first: the report holds only the messages asked for.
    const Selection s = select(m, copy, r);
    if (s == Selection::kNotSelected) return;
    if (s == Selection::kUnjudged) {
      report_.messages.push_back(std::move(r));
      return;
    }
  }
  if (restorable(m, r) && named_safely(m, copy, r) && read_copy(copy, r) && verified(m, copy, r) && name_free(m, r))
    put_back(m, copy, r);
  report_.messages.push_back(std::move(r));
}

// Whether the matcher selects `m`, judged from its archived copy. A copy
// that cannot be read or parsed cannot be judged: reported, not restored.
RestoreRun::Selection RestoreRun::select(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r) {
  if (!named_safely(m, copy, r) || !read_copy(copy, r)) return Selection::kUnjudged;
  ParseOptions parse;
  parse.headers = options_.matcher->needs_headers();
  MemorySource source(copy.data);
  std::string parse_error;
  if (!parse_queue_file(source, reader_, msg_, parse_error, parse)) {
    stop(r, "failed", copy.path + ": " + parse_error);
    return Selection::kUnjudged;
  }
  std::vector<std::string> reasons = delay_reasons(m);
  Verdict v = options_.matcher->evaluate(
      Subject{msg_, copy.data.size(), now_, options_.matcher->needs_reasons() ? &reasons : nullptr});
  return v.kind == VerdictKind::kNoMatch ? Selection::kNotSelected : Selection::kSelected;
}

// Delay reasons of the parsed message's recipients, from the archived
// <file>.defer when the matcher needs them; empty when unknown.
std::vector<std::string> RestoreRun::delay_reasons(const ArchivedMessage& m) const {
  std::vector<std::string> reasons(msg_.recipients.size());
  if (!options_.matcher->needs_reasons()) return reasons;
  std::string log;
  struct stat lst;
  std::string ignored;
  if (read_whole(options_.run_dir + "/" + m.file + ".defer", kMaxDeferLogSize, log, lst, ignored))
    for (const DeferEntry& e : parse_defer_log(log))
      for (std::size_t i = 0; i < msg_.recipients.size(); ++i)
        if (e.has_offset && msg_.recipients[i].offset == e.offset) reasons[i] = e.reason;
  return reasons;
}

// Queue IDs are unique across the queues: the old name must be free in
// every one of them, not only in the target.
bool RestoreRun::name_free(const ArchivedMessage& m, RestoredMessage& r) const {
  if (std::string there = existing_copy(options_.queue_dir, m.queue_id); !there.empty())
    return stop(r, "exists", there + " exists: not overwritten");
  return true;
}

// Writes the copy into the target queue under its old ID (in a dry run,
// only says where); a message written waits in created_ for postsuper -s.
void RestoreRun::put_back(const ArchivedMessage& m, const ArchivedCopy& copy, RestoredMessage& r) {
  const std::string dir = options_.queue_dir + "/" + queue_subdir(options_.target, m.queue_id);
  const std::string path = dir + "/" + m.queue_id;
  if (options_.dry_run) {
    stop(r, "would_restore", path);
    return;
  }
  if (dir != target_dir_ && ::mkdir(dir.c_str(), 0700) == 0 && ::chown(dir.c_str(), uid_, gid_) != 0) {
    stop(r, "failed", sys_error(dir + ": chown"));
    return;
  }
  std::uint64_t inode = 0;
  bool exists = false;
  if (std::string why = create_copy(path, copy.data, m, copy.st, uid_, gid_, inode, exists); !why.empty()) {
    stop(r, exists ? "exists" : "failed", exists ? path + " exists: not overwritten" : why);
    return;
  }
  if (std::find(touched_dirs_.begin(), touched_dirs_.end(), dir) == touched_dirs_.end()) touched_dirs_.push_back(dir);
  created_.push_back(Created{report_.messages.size(), &m, inode, path});
}

// After every message is written: their directories on disk, one
// postsuper -s, the new IDs by inode, and one "restored" record each.
void RestoreRun::finish() {
  for (const std::string& d : touched_dirs_) fsync_dir(d);
  const std::string postsuper_problem = run_postsuper();
  const std::map<std::uint64_t, Located> found = locate_created();
  std::string records;
  for (const Created& c : created_) records += settle(c, found, postsuper_problem);
  record(records);
}

std::string RestoreRun::run_postsuper() {
  std::vector<std::string> argv = postfix_argv(options_.postsuper, options_.config_dir);
  argv.push_back("-s");
  return describe(runner_.run(argv, ""));
}

// The new IDs, by inode: in the target queue, or wherever Postfix has
// taken the message since (qmgr moves incoming mail on at once).
std::map<std::uint64_t, Located> RestoreRun::locate_created() const {
  std::map<std::uint64_t, Located> found;
  index_queue(target_dir_, 0, found);
  const bool all_found =
      std::all_of(created_.begin(), created_.end(), [&](const Created& c) { return found.count(c.inode) > 0; });
  if (!all_found)
    for (std::string_view q : {"incoming", "active", "deferred", "hold"})
      if (q != options_.target) index_queue(options_.queue_dir + "/" + std::string(q), 0, found);
  return found;
}

// The outcome of a message put back, from where its inode is now; returns
// its "restored" record.
std::string RestoreRun::settle(const Created& c, const std::map<std::uint64_t, Located>& found,
                               const std::string& postsuper_problem) {
  RestoredMessage& r = report_.messages[c.report_index];
  auto it = found.find(c.inode);
  std::string where = options_.target;
  if (it == found.end()) {
    // It was put back: recorded, so that it is never put back twice.
    r.outcome = "restored";
    r.detail = "written as " + c.path + ", but no file in the queue has its inode now (delivered already?)";
  } else {
    const std::string rel = it->second.path.substr(options_.queue_dir.size() + 1);
    where = rel.substr(0, rel.find('/'));
    r.new_id = it->second.name;
    if (is_queue_id(it->second.name) && postsuper_problem.empty()) {
      r.outcome = "restored";
      r.detail = it->second.path;
    } else {
      r.outcome = "failed";
      r.detail = "in the queue as " + it->second.path + ", but postsuper -s " +
                 (postsuper_problem.empty() ? std::string("did not rename it") : "failed: " + postsuper_problem) +
                 ": run postsuper -s";
    }
  }
  if (!postsuper_problem.empty() && r.outcome == "restored") r.detail += "; postsuper -s failed: " + postsuper_problem;
  return restored_record(c, r, where);
}

std::string RestoreRun::restored_record(const Created& c, const RestoredMessage& r, const std::string& where) const {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "restored").field("queue_id", c.message->queue_id);
  w.field("new_queue_id", r.new_id).field("queue_name", where).field("time", now_);
  w.field("host", text_escaped(options_.host)).end_object();
  return line + "\n";
}

// Appends the "restored" records in one write; when that fails, every
// message put back is reported as failed (it is in the queue, unrecorded).
void RestoreRun::record(const std::string& records) {
  if (write_all(manifest_fd_.get(), records) && fsync_ok(manifest_fd_.get())) return;
  const std::string why = sys_error(manifest_path_);
  for (const Created& c : created_) {
    RestoredMessage& r = report_.messages[c.report_index];
    r.outcome = "failed";
    r.detail += "; put back, but not recorded in " + why + ": restoring this run again would queue it twice";
  }
}

}  // namespace

RestoreReport restore_run(const RestoreOptions& options, CommandRunner& runner) {
  return RestoreRun(options, runner).run();
}

namespace {

// A run directory name: YYYYmmddTHHMMSSZ-..., its time in `t`.
bool run_name_time(const std::string& name, std::int64_t& t) {
  if (name.size() < 17 || name[8] != 'T' || name[15] != 'Z' || (name.size() > 16 && name[16] != '-')) return false;
  for (int i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14})
    if (name[static_cast<std::size_t>(i)] < '0' || name[static_cast<std::size_t>(i)] > '9') return false;
  struct tm tm {};
  if (!::strptime(name.substr(0, 16).c_str(), "%Y%m%dT%H%M%SZ", &tm)) return false;
  t = static_cast<std::int64_t>(::timegm(&tm));
  return true;
}

struct RunDir {
  std::string name;
  std::string path;
};

bool run_dirs(const std::string& archive_dir, std::vector<RunDir>& out, std::string& error) {
  DirPtr d(::opendir(archive_dir.c_str()));
  if (!d) {
    error = sys_error(archive_dir);
    return false;
  }
  while (const dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = archive_dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    std::int64_t t;
    struct stat mst;
    if (run_name_time(name, t) || ::lstat((path + "/" + kManifestName).c_str(), &mst) == 0)
      out.push_back(RunDir{name, path});
  }
  return true;
}

// Removes a run directory that holds only files, without following links.
bool remove_run(const std::string& path, std::string& error) {
  Fd dfd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dfd.get() < 0) {
    error = sys_error(path);
    return false;
  }
  int dup = ::dup(dfd.get());
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
    if (::fstatat(dfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
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
    if (::unlinkat(dfd.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      error = sys_error(path + "/" + name);
      return false;
    }
  if (::rmdir(path.c_str()) != 0) {
    error = sys_error(path);
    return false;
  }
  return true;
}

}  // namespace

bool list_archive_runs(const std::string& archive_dir, std::vector<ArchiveRunInfo>& out, std::string& error) {
  out.clear();
  std::vector<RunDir> dirs;
  if (!run_dirs(archive_dir, dirs, error)) return false;
  for (const RunDir& d : dirs) {
    ArchiveRunInfo info;
    info.path = d.path;
    info.name = d.name;
    ArchiveManifest m;
    if (!read_manifest(d.path, m, info.error)) {
      run_name_time(d.name, info.created);
      out.push_back(std::move(info));
      continue;
    }
    info.created = m.created;
    info.host = m.host;
    info.queue_directory = m.queue_directory;
    info.criteria = m.criteria;
    for (const ArchivedMessage& am : m.messages) {
      ++info.messages;
      info.deleted += am.deleted();
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
                        std::vector<std::string>& removed, std::string& error) {
  removed.clear();
  std::vector<RunDir> dirs;
  if (!run_dirs(archive_dir, dirs, error)) return false;
  std::sort(dirs.begin(), dirs.end(), [](const RunDir& a, const RunDir& b) { return a.name < b.name; });
  std::vector<std::string> failures;
  for (const RunDir& d : dirs) {
    Fd dfd(::open(d.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    ArchiveManifest m;
    if (dfd.get() < 0 || !read_header_only(dfd.get(), m)) continue;  // not a qpurge run: never ours to remove
    if (now - m.created <= older_than_seconds) continue;
    if (!dry_run) {
      std::string why;
      if (!remove_run(d.path, why)) {
        failures.push_back(why);
        continue;
      }
    }
    removed.push_back(d.path);
  }
  if (!failures.empty()) {
    error.clear();
    for (const std::string& f : failures) error += (error.empty() ? "" : "; ") + f;
    return false;
  }
  return true;
}

}  // namespace qpurge
