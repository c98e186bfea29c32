// SPDX-License-Identifier: MIT
// journal.cc - the journal of an acting run; see journal.h.
#include "qpurge/act/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "qpurge/util/escape.h"
#include "qpurge/util/json_fields.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxJournalSize = std::size_t{1} << 30;

std::string header_record(const JournalHeader& h) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "run").field("version", kJournalVersion).field("run", text_escaped(h.run_id));
  w.field("pid", static_cast<std::int64_t>(h.pid)).field("started", h.started).field("host", text_escaped(h.host));
  std::vector<std::string> argv;
  for (const std::string& a : h.argv) argv.push_back(text_escaped(a));
  w.field_strings("argv", argv).field("mode", h.mode).field("action", h.action).field("via_hold", h.via_hold);
  w.field("mixed", h.mixed).field("regex", h.regex).field("decode_headers", h.decode_headers);
  w.field("body_limit", h.body_limit).field("queue_directory", text_escaped(h.queue_directory));
  w.field("queue_directory_hex", to_hex(h.queue_directory));
  w.field("config_directory", text_escaped(h.config_directory))
      .field("config_directory_hex", to_hex(h.config_directory));
  write_exact_path(w, "archive", h.archive);
  write_criteria_exact(w, h.criteria);
  w.end_object();
  return line + "\n";
}

void write_ids(JsonWriter& w, const std::vector<StepId>& ids) {
  w.key("ids").begin_array();
  for (const StepId& s : ids)
    w.begin_object().field("id", s.id).field("queue", s.queue).field("inode", s.inode).end_object();
  w.end_array();
}

std::string step_record(std::string_view kind, std::string_view action, const std::vector<StepId>& ids) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", kind);
  if (!action.empty()) w.field("action", action);
  write_ids(w, ids);
  w.end_object();
  return line + "\n";
}

std::string result_record(const std::vector<IdResult>& results) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "result").key("results").begin_array();
  for (const IdResult& r : results) {
    w.begin_object().field("id", r.id).field("queue", r.queue).field("result", outcome_name(r.outcome));
    if (!r.detail.empty()) w.field("detail", text_escaped(r.detail));
    w.end_object();
  }
  w.end_array().end_object();
  return line + "\n";
}

void parse_header(const json& j, JournalHeader& h) {
  if (opt_string(j, "record") != "run") throw BadField("the first record is not the run header");
  if (get_int(j, "version") != kJournalVersion)
    throw BadField("journal version " + std::to_string(get_int(j, "version")));
  h.run_id = get_string(j, "run");
  h.pid = static_cast<long>(get_int(j, "pid"));
  h.started = get_int(j, "started");
  h.host = get_string(j, "host");
  h.argv = string_array(j, "argv", false);
  h.mode = get_string(j, "mode");
  h.action = get_string(j, "action");
  h.via_hold = get_bool(j, "via_hold");
  h.mixed = get_string(j, "mixed");
  h.regex = get_bool(j, "regex");
  h.decode_headers = get_bool(j, "decode_headers");
  h.body_limit = get_uint(j, "body_limit");
  h.queue_directory = exact_string(j, "queue_directory");
  h.config_directory = exact_string(j, "config_directory");
  if (j.contains("archive") && !j.at("archive").is_null()) h.archive = exact_string(j, "archive");
  h.criteria = read_criteria_exact(j);
}

std::vector<StepId> parse_ids(const json& j) {
  std::vector<StepId> out;
  const json& ids = field(j, "ids");
  if (!ids.is_array()) throw BadField("\"ids\" is not an array");
  for (const json& i : ids) out.push_back(StepId{get_string(i, "id"), get_string(i, "queue"), get_uint(i, "inode")});
  return out;
}

IdOutcome parse_outcome(const std::string& name) {
  for (IdOutcome o : {IdOutcome::kDone, IdOutcome::kNotFound, IdOutcome::kFailed, IdOutcome::kChanged,
                      IdOutcome::kNotAttempted, IdOutcome::kInvalid, IdOutcome::kAlready, IdOutcome::kNotArchived})
    if (outcome_name(o) == name) return o;
  throw BadField("unknown result \"" + name + "\"");
}

void parse_record(const json& j, JournalContents& out) {
  const std::string kind = get_string(j, "record");
  if (kind == "hold") {
    for (StepId& s : parse_ids(j)) out.held.push_back(std::move(s));
  } else if (kind == "hand") {
    for (StepId& s : parse_ids(j)) out.handed.push_back(std::move(s));
  } else if (kind == "release") {
    for (StepId& s : parse_ids(j)) out.released.push_back(std::move(s));
  } else if (kind == "cancel") {
    for (StepId& s : parse_ids(j)) out.canceling.push_back(std::move(s));
  } else if (kind == "crossed") {
    for (StepId& s : parse_ids(j)) out.crossed.push_back(std::move(s));
  } else if (kind == "result") {
    const json& rs = field(j, "results");
    if (!rs.is_array()) throw BadField("\"results\" is not an array");
    for (const json& r : rs)
      out.results.push_back(IdResult{get_string(r, "queue"), get_string(r, "id"),
                                     parse_outcome(get_string(r, "result")), opt_string(r, "detail")});
  } else if (kind == "stop") {
    out.stopped = get_string(j, "why");
  } else {
    throw BadField("unknown record \"" + kind + "\"");
  }
}

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string journal_directory(const std::string& state_dir) {
  std::string dir = state_dir;
  if (dir.empty()) {
    const char* env = std::getenv(kStateDirVariable);
    dir = env && *env ? env : kDefaultStateDir;
  }
  return dir + "/journal";
}

bool journal_path(const std::string& journal_dir, const std::string& queue_directory, std::string& path,
                  std::string& error) {
  struct stat st;
  if (::stat(queue_directory.c_str(), &st) != 0) {
    error = sys_error("queue directory " + queue_directory);
    return false;
  }
  path = journal_dir + "/q-" + hex(st.st_dev) + "-" + hex(st.st_ino) + ".journal";
  return true;
}

std::unique_ptr<Journal> Journal::begin(const std::string& path, const JournalHeader& header, std::string& error,
                                        const SysCalls& sys) {
  const std::string dir = parent_directory(path);
  const std::string state = parent_directory(dir);
  for (const std::string& d : {state, dir})
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) {
      error = sys_error("journal directory " + d);
      return nullptr;
    }
  if (!trusted_directory(dir, error)) {
    error = "journal directory " + dir + ": " + error;
    return nullptr;
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    error = path + ": a journal of an unfinished run is there; it must be recovered first";
    return nullptr;
  }
  if (!replace_file(path, header_record(header), 0600, error, sys)) return nullptr;
  Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) {
    error = sys_error(path);
    return nullptr;
  }
  return std::unique_ptr<Journal>(new Journal(path, std::move(fd), sys));
}

std::unique_ptr<Journal> Journal::reopen(const std::string& path, std::string& error, const SysCalls& sys) {
  Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) {
    error = sys_error(path);
    return nullptr;
  }
  if (!trusted_fd(fd.get(), path, error)) return nullptr;
  return std::unique_ptr<Journal>(new Journal(path, std::move(fd), sys));
}

Journal::~Journal() = default;

bool Journal::append(const std::string& line, std::string& error) {
  return append_record(fd_.get(), path_, line, true, error, sys_);
}

bool Journal::announce(std::string_view action, const std::vector<StepId>& ids, std::string& error) {
  if (ids.empty()) return true;
  if (action == "hold") return append(step_record("hold", "", ids), error);
  if (action == "release") return append(step_record("release", "", ids), error);
  if (action == "cancel" || action == "crossed") return append(step_record(action, "", ids), error);
  return append(step_record("hand", action, ids), error);
}

bool Journal::settle(const std::vector<IdResult>& results, std::string& error) {
  if (results.empty()) return true;
  return append(result_record(results), error);
}

bool Journal::stopped(const std::string& why, std::string& error) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "stop").field("why", text_escaped(why)).end_object();
  return append(line + "\n", error);
}

bool Journal::finish(std::string& error) {
  fd_.reset();
  return remove_journal(path_, error);
}

bool read_journal(const std::string& path, JournalContents& out, bool& exists, std::string& error) {
  out = JournalContents{};
  struct stat st;
  exists = ::lstat(path.c_str(), &st) == 0;
  if (!exists) return errno == ENOENT || (error = sys_error(path), false);
  // It tells root what to delete and release: only one nobody else can have
  // written is read.
  struct stat fst;
  if (!trusted_directory(parent_directory(path), error)) {
    error = "journal directory " + parent_directory(path) + ": " + error;
    return false;
  }
  std::string text;
  if (!read_whole(path, kMaxJournalSize, text, error, &fst)) return false;
  if ((fst.st_uid != 0 && fst.st_uid != ::geteuid()) || (fst.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    error = path + ": not a journal of root's (owner uid " + std::to_string(fst.st_uid) + ", mode " +
            std::to_string(fst.st_mode & 07777) + "): not read";
    return false;
  }
  std::string_view rest(text);
  for (int n = 1; !rest.empty(); ++n) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {  // torn by the crash: that step was not announced
      out.torn = true;
      break;
    }
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    try {
      const json j = parse_object(line);
      if (n == 1)
        parse_header(j, out.header);
      else
        parse_record(j, out);
    } catch (const std::exception& e) {
      error = path + ":" + std::to_string(n) + ": " + e.what();
      return false;
    }
  }
  if (out.header.run_id.empty()) {
    error = path + ": no run header";
    return false;
  }
  return true;
}

bool remove_journal(const std::string& path, std::string& error) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    error = sys_error(path);
    return false;
  }
  return sync_directory(parent_directory(path), error);
}

}  // namespace qpurge
