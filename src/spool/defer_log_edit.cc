// SPDX-License-Identifier: MIT
// defer_log_edit.cc - dropping canceled recipients' logfile entries; see
// defer_log_edit.h.
#include "qpurge/spool/defer_log_edit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {
namespace {

// The offset an entry (a block of lines) names, if any.
bool entry_offset(std::string_view block, std::uint64_t& offset) {
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t end = block.find('\n', pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 7) != "offset=") continue;
    std::string_view v = line.substr(7);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), offset);
    return ec == std::errc() && p == v.data() + v.size();
  }
  return false;
}

// The entries of `text` whose offset is (`listed`) or is not (!`listed`)
// in `offsets`; `matched` counts those whose offset is.
std::string filter_entries(std::string_view text, const std::set<std::uint64_t>& offsets, bool listed,
                           std::size_t& matched) {
  std::string out;
  out.reserve(text.size());
  matched = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // An entry runs to the blank line that ends it, which it keeps.
    std::size_t end = text.find("\n\n", pos);
    end = end == std::string_view::npos ? text.size() : end + 2;
    std::string_view block = text.substr(pos, end - pos);
    pos = end;
    std::uint64_t offset = 0;
    const bool in = entry_offset(block, offset) && offsets.count(offset);
    matched += in;
    if (in == listed) out.append(block);
  }
  return out;
}

}  // namespace

std::string drop_log_entries(std::string_view text, const std::set<std::uint64_t>& offsets, std::size_t& dropped) {
  return filter_entries(text, offsets, false, dropped);
}

std::string keep_log_entries(std::string_view text, const std::set<std::uint64_t>& offsets, std::size_t& kept) {
  return filter_entries(text, offsets, true, kept);
}

bool edit_logfile(const std::string& path, const std::set<std::uint64_t>& offsets, std::size_t& dropped,
                  std::string& error) {
  dropped = 0;
  Fd fd;
  struct stat st;
  if (!open_regular(path, true, fd, st, error)) return false;
  if (!fd.ok()) return true;
  std::string text;
  if (!read_open_file(fd.get(), st, path, kMaxDeferLogSize, text, error)) return false;
  if (text.size() >= kMaxDeferLogSize) {
    error = path + ": larger than " + std::to_string(kMaxDeferLogSize) + " bytes; not edited";
    return false;
  }
  std::string kept = drop_log_entries(text, offsets, dropped);
  if (dropped == 0) return true;
  if (kept.find_first_not_of('\n') == std::string::npos) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      error = sys_error(path);
      return false;
    }
    return sync_directory(parent_directory(path), error);
  }
  // The bounce daemon, running as the mail owner, appends to it.
  return replace_file_owned(path, kept, st.st_mode & 07777, static_cast<long>(st.st_uid), static_cast<long>(st.st_gid),
                            error);
}

std::set<std::string> message_logfiles(const std::string& queue_directory, const std::string& id) {
  std::set<std::string> found;
  if (!queue_id_ok(id)) return found;
  for (const char* log : {"defer", "bounce"})
    for (int depth : {1, 0, 2}) {
      std::string rel = defer_log_path(id, depth);
      rel.replace(0, 5, log);  // defer_log_path() names defer/...
      std::string path = queue_directory + "/" + rel;
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) found.insert(path);
    }
  return found;
}

}  // namespace qpurge
