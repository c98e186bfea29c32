// SPDX-License-Identifier: MIT
// defer_log.cc - defer log parsing and lookup; see defer_log.h.
#include "qpurge/spool/defer_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "qpurge/spool/queue_id.h"
#include "qpurge/util/text.h"

namespace qpurge {
namespace {

void finish(std::vector<DeferEntry>& out, DeferEntry& e, bool& any) {
  if (any) out.push_back(std::move(e));
  e = DeferEntry();
  any = false;
}

// The name dir_forest() hashes: the ID itself, or for a long ID its
// microseconds as %05X.
std::string hash_name(const std::string& id) {
  if (!is_long_queue_id(id)) return id;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05X", static_cast<unsigned>(queue_id_microseconds(id).value_or(0)));
  return buf;
}

}  // namespace

std::vector<DeferEntry> parse_defer_log(std::string_view text) {
  std::vector<DeferEntry> out;
  DeferEntry e;
  bool any = false;
  std::string_view line;
  while (next_line(text, line)) {
    if (line.empty()) {
      finish(out, e, any);
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || line.front() == '<') continue;  // old-style line
    std::string_view name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name == "recipient")
      e.recipient = value;
    else if (name == "original_recipient")
      e.original_recipient = value;
    else if (name == "offset") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), e.offset);
      e.has_offset = ec == std::errc() && p == value.data() + value.size();
    } else if (name == "status")
      e.status = value;
    else if (name == "action")
      e.action = value;
    else if (name == "reason")
      e.reason = value;
    else
      continue;
    any = true;
  }
  finish(out, e, any);
  return out;
}

std::string defer_log_path(const std::string& id, int depth) {
  std::string path = "defer/";
  std::string h = hash_name(id);
  for (int i = 0; i < depth; ++i) {
    path += i < static_cast<int>(h.size()) ? h[static_cast<std::size_t>(i)] : '_';
    path += '/';
  }
  return path + id;
}

bool read_defer_log(const std::string& queue_directory, const std::string& id, std::string& text) {
  if (!queue_id_ok(id)) return false;
  for (int depth : {1, 0, 2}) {
    std::string path = queue_directory + "/" + defer_log_path(id, depth);
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) continue;
    text.clear();
    char buf[16384];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < kMaxDeferLogSize)
      text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return true;
  }
  return false;
}

}  // namespace qpurge
