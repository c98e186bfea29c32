// SPDX-License-Identifier: MIT
// manifest.cc - the archive's format; see manifest.h.
#include "qpurge/archive/manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <map>

#include "qpurge/util/escape.h"
#include "qpurge/util/json_fields.h"
#include "qpurge/util/json_writer.h"
#include "qpurge/util/posix_io.h"
#include "qpurge/util/text.h"

namespace qpurge {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxManifestSize = std::size_t{1} << 30;
constexpr std::size_t kMaxHeaderLine = std::size_t{1} << 20;

std::string safe_name(const std::string& s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

// The permission bits in octal digits, read as a decimal number: 0700 -> 700.
std::int64_t mode_digits(std::uint32_t mode) {
  unsigned m = mode & 07777;
  std::int64_t out = 0, place = 1;
  for (; m != 0; m >>= 3, place *= 10) out += static_cast<std::int64_t>(m & 7) * place;
  return out;
}

std::uint32_t mode_from_digits(std::int64_t value) {
  const std::string digits = std::to_string(value);
  std::size_t used = 0;
  unsigned long mode = 0;
  try {
    mode = std::stoul(digits, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != digits.size() || mode > 07777) throw BadField("bad \"mode\": " + digits);
  return static_cast<std::uint32_t>(mode);
}

void parse_header(const json& j, ArchiveHeader& h) {
  if (opt_string(j, "record") != "run") throw BadField("the first record is not the run header");
  h.version = static_cast<int>(get_int(j, "version"));
  if (h.version != 1 && h.version != kManifestVersion)
    throw BadField("manifest version " + std::to_string(h.version) + " (this qpurge reads 1 and " +
                   std::to_string(kManifestVersion) + ")");
  h.created = get_int(j, "created");
  h.host = get_string(j, "host");
  h.run_id = get_string(j, "run");
  h.queue_directory = get_string(j, "queue_directory");
  h.config_directory = opt_string(j, "config_directory");
  h.action = opt_string(j, "action");
  h.criteria = read_criteria_exact(j);
  h.argv = string_array(j, "argv", false);
}

ArchivedRecipient parse_recipient(const json& r) {
  if (!r.is_object()) throw BadField("a recipient is not an object");
  ArchivedRecipient ar;
  ar.address = exact_string(r, "address");
  if (r.contains("original_recipient") && !r.at("original_recipient").is_null()) {
    ar.original = get_string(r, "original_recipient");
    ar.has_original = true;
  }
  if (r.contains("offset")) {
    ar.offset = get_uint(r, "offset");
    ar.has_offset = true;
  }
  return ar;
}

std::vector<ArchivedRecipient> parse_recipients(const json& j, const char* name) {
  const json& rcpts = field(j, name);
  if (!rcpts.is_array()) throw BadField("\"" + std::string(name) + "\" is not an array");
  std::vector<ArchivedRecipient> out;
  for (const json& r : rcpts) out.push_back(parse_recipient(r));
  return out;
}

// A cancel message's "canceled" recipients, each with its offset.
void parse_cancel(const json& j, ArchivedMessage& m) {
  m.cancel = j.contains("cancel") && get_bool(j, "cancel");
  if (!m.cancel) return;
  m.canceled = parse_recipients(j, "canceled");
  if (m.canceled.empty()) throw BadField("a \"cancel\" message with no \"canceled\" recipient");
  for (const ArchivedRecipient& r : m.canceled)
    if (!r.has_offset) throw BadField("a canceled recipient without its \"offset\"");
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
  m.recipients = parse_recipients(j, "recipients");
  m.message_size = get_int(j, "message_size");
  m.file_size = get_uint(j, "file_size");
  m.mode = mode_from_digits(get_int(j, "mode"));
  m.logs = string_array(j, "logs", false);
  m.sha256 = ascii_lower(get_string(j, "sha256"));
  if (m.sha256.size() != 64 || m.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw BadField("bad \"sha256\"");
  parse_cancel(j, m);
  return m;
}

// A "handed", "outcome" or "restored" record, onto the message it names.
void apply_later_record(const std::string& kind, const json& j, ArchivedMessage& m) {
  if (kind == "handed") {
    m.handed = true;
  } else if (kind == "outcome") {
    m.has_outcome = true;
    m.result = get_string(j, "result");
    m.result_detail = opt_string(j, "detail");
  } else if (kind == "restoring") {
    m.restoring_path = exact_string(j, "path");
    m.placed_inode = 0;
    m.queued = false;
  } else if (kind == "placed") {
    m.placed_inode = get_uint(j, "inode");
  } else if (kind == "queued") {
    m.queued = true;
  } else {
    m.restoring_path.clear();
    m.placed_inode = 0;
    m.queued = false;
    m.restored = true;
    m.new_queue_id = get_string(j, "new_queue_id");
    m.restored_to = get_string(j, "queue_name");
    m.restored_time = get_int(j, "time");
  }
}

bool split_lines(const std::string& text, const std::string& where, std::vector<std::string_view>& lines,
                 std::string& error) {
  std::string_view rest(text);
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      error = where + ":" + std::to_string(lines.size() + 1) + ": torn last line (no newline at its end)";
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

// One line after the header, into `out` (`by_id`: queue ID -> message index).
void read_record(std::string_view line, int n, ArchiveManifest& out, std::map<std::string, std::size_t>& by_id) {
  const json j = parse_object(line);
  const std::string kind = get_string(j, "record");
  if (kind == "message") {
    ArchivedMessage m = parse_message(j, n);
    if (!by_id.emplace(m.queue_id, out.messages.size()).second)
      throw BadField("queue ID " + m.queue_id + " archived twice");
    out.messages.push_back(std::move(m));
    return;
  }
  static const char* const kLater[] = {"handed", "outcome", "restoring", "placed", "queued", "restored"};
  if (std::find(std::begin(kLater), std::end(kLater), kind) == std::end(kLater)) {
    if (kind == "run") throw BadField("a second run header");
    throw BadField("unknown record \"" + kind + "\"");
  }
  const std::string id = get_string(j, "queue_id");
  auto it = by_id.find(id);
  if (it == by_id.end()) throw BadField("\"" + kind + "\" record for " + id + ", which is not archived");
  apply_later_record(kind, j, out.messages[it->second]);
}

void write_recipients(JsonWriter& w, const char* name, const std::vector<ArchivedRecipient>& rs) {
  w.key(name).begin_array();
  for (const ArchivedRecipient& r : rs) {
    w.begin_object().field("address", text_escaped(r.address)).field("address_hex", to_hex(r.address));
    if (r.has_original) w.field("original_recipient", text_escaped(r.original));
    if (r.has_offset) w.field("offset", r.offset);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string run_directory_name(const ArchiveHeader& header) {
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

bool parse_run_directory_name(const std::string& name, std::int64_t& t) {
  if (name.size() < 17 || name[8] != 'T' || name[15] != 'Z' || (name.size() > 16 && name[16] != '-')) return false;
  for (int i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14})
    if (name[static_cast<std::size_t>(i)] < '0' || name[static_cast<std::size_t>(i)] > '9') return false;
  struct tm tm {};
  if (!::strptime(name.substr(0, 16).c_str(), "%Y%m%dT%H%M%SZ", &tm)) return false;
  t = static_cast<std::int64_t>(::timegm(&tm));
  return true;
}

std::string run_record(const ArchiveHeader& h) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "run").field("version", kManifestVersion).field("created", h.created);
  w.field("host", text_escaped(h.host)).field("run", text_escaped(h.run_id));
  w.field("queue_directory", text_escaped(h.queue_directory));
  w.field("config_directory", text_escaped(h.config_directory));
  w.field("action", text_escaped(h.action));
  write_criteria_exact(w, h.criteria, true);  // a long list is in its own file (writer.h)
  std::vector<std::string> argv;
  for (const std::string& a : h.argv) argv.push_back(text_escaped(a));
  w.field_strings("argv", argv).end_object();
  return line + "\n";
}

std::string message_record(const ArchivedMessage& m) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "message").field("queue_name", text_escaped(m.queue_name));
  w.field("queue_id", m.queue_id);
  w.field("inode", m.inode).field("arrival_time", m.arrival_time);
  w.field("sender", text_escaped(m.sender)).field("sender_hex", to_hex(m.sender));
  write_recipients(w, "recipients", m.recipients);
  w.field("message_size", m.message_size).field("file_size", m.file_size).field("file", m.file);
  w.field("mode", mode_digits(m.mode)).field_strings("logs", m.logs);
  w.field("sha256", m.sha256);
  if (m.cancel) {
    w.field("cancel", true);
    write_recipients(w, "canceled", m.canceled);
  }
  w.end_object();
  return line + "\n";
}

std::string handed_record(const std::string& queue_id, const std::string& queue_name, std::uint64_t inode) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "handed").field("queue_id", queue_id).field("queue_name", text_escaped(queue_name));
  w.field("inode", inode).end_object();
  return line + "\n";
}

std::string outcome_record(const std::string& queue_id, const std::string& queue_name, const std::string& result,
                           const std::string& detail) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "outcome").field("queue_id", queue_id).field("queue_name", text_escaped(queue_name));
  w.field("result", result);
  if (!detail.empty()) w.field("detail", text_escaped(detail));
  w.end_object();
  return line + "\n";
}

std::string restoring_record(const std::string& queue_id, const std::string& path) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "restoring").field("queue_id", queue_id).field("path", text_escaped(path));
  w.field("path_hex", to_hex(path)).end_object();
  return line + "\n";
}

std::string placed_record(const std::string& queue_id, std::uint64_t inode) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "placed").field("queue_id", queue_id).field("inode", inode).end_object();
  return line + "\n";
}

std::string queued_record(const std::string& queue_id) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "queued").field("queue_id", queue_id).end_object();
  return line + "\n";
}

std::string restored_record(const std::string& queue_id, const std::string& new_queue_id, const std::string& queue_name,
                            std::int64_t time, const std::string& host) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("record", "restored").field("queue_id", queue_id);
  w.field("new_queue_id", new_queue_id).field("queue_name", queue_name).field("time", time);
  w.field("host", text_escaped(host)).end_object();
  return line + "\n";
}

bool read_manifest(const std::string& run_dir, ArchiveManifest& out, std::string& error) {
  out = ArchiveManifest{};
  const std::string where = run_dir + "/" + kManifestName;
  Fd fd;
  struct stat st;
  return open_regular(where, false, fd, st, error) && read_manifest_file(fd.get(), st, where, out, error);
}

bool read_manifest_file(int fd, const struct stat& st, const std::string& where, ArchiveManifest& out,
                        std::string& error) {
  out = ArchiveManifest{};
  std::string text;
  if (!read_open_file(fd, st, where, kMaxManifestSize, text, error)) return false;
  std::vector<std::string_view> lines;
  if (!split_lines(text, where, lines, error)) return false;
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int n = static_cast<int>(i + 1);
    try {
      if (i == 0)
        parse_header(parse_object(lines[i]), out.header);
      else
        read_record(lines[i], n, out, by_id);
    } catch (const std::exception& e) {
      error = where + ":" + std::to_string(n) + ": " + e.what();
      return false;
    }
  }
  return true;
}

bool read_manifest_header(int dirfd, ArchiveHeader& out) {
  Fd fd(::openat(dirfd, kManifestName, kReadOnlySafe));
  struct stat st;
  if (!fd.ok() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::string first, why;
  bool whole = false;
  read_fd(
      fd.get(),
      [&](const char* p, std::size_t n) {
        first.append(p, n);
        std::size_t nl = first.find('\n');
        if (nl != std::string::npos) {
          first.resize(nl);
          whole = true;
          return false;
        }
        return first.size() <= kMaxHeaderLine;
      },
      why);
  if (!whole) return false;
  try {
    parse_header(parse_object(first), out);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace qpurge
