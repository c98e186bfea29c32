// SPDX-License-Identifier: MIT
// cancel_copy.cc - restoring and settling canceled recipients; see
// cancel_copy.h.
#include "qpurge/archive/cancel_copy.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <map>
#include <utility>
#include <vector>

#include "qpurge/spool/cross_off.h"
#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_file.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/spool/record.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {
namespace {

// The path of `id` in `queue` at a hash depth (Postfix's dir_forest, as
// defer_log_path() hashes the defer queue).
std::string queue_path(const std::string& queue_dir, std::string_view queue, const std::string& id, int depth) {
  const std::string rel = defer_log_path(id, depth);
  return queue_dir + "/" + std::string(queue) + rel.substr(rel.find('/'));
}

}  // namespace

bool canceled_recipients_copy(const ArchivedMessage& m, std::string& data, std::string& error) {
  Message msg;
  RecordReader reader;
  MemorySource source(data);
  if (!parse_queue_file(source, reader, msg, error)) return false;
  std::map<std::uint64_t, std::string> pending;
  for (const Recipient& r : msg.recipients) pending.emplace(r.offset, std::string(msg.str(r.address)));
  for (const ArchivedRecipient& c : m.canceled) {
    auto it = pending.find(c.offset);
    if (it == pending.end() || it->second != c.address) {
      error = "offset " + std::to_string(c.offset) + ": the canceled recipient is not pending there in the copy";
      return false;
    }
    pending.erase(it);
  }
  for (const auto& [offset, address] : pending)
    if (!cross_off_in(data, offset, address, error)) return false;
  return true;
}

bool restore_bytes(const ArchivedMessage& m, std::string archived, std::string& out, std::string& error) {
  out = std::move(archived);
  return !m.cancel || canceled_recipients_copy(m, out, error);
}

std::string existing_queue_file(const std::string& queue_dir, const std::string& id) {
  struct stat st;
  for (std::string_view q : kMessageQueues)
    for (int depth : {0, 1, 2})
      if (const std::string path = queue_path(queue_dir, q, id, depth); ::lstat(path.c_str(), &st) == 0) return path;
  return {};
}

std::string fresh_queue_name(const std::string& queue_dir, const std::string& old_id, std::uint64_t seed,
                             const std::set<std::string>& taken) {
  const std::size_t z = old_id.rfind('z');
  const std::string prefix =
      is_long_queue_id(old_id) && z != std::string::npos ? old_id.substr(0, z + 1) : old_id.substr(0, 5);
  for (std::uint64_t k = 0; k < 1000; ++k) {
    const std::string name = prefix + std::to_string(seed + k);
    if (name != old_id && is_queue_id(name) && !taken.count(name) && existing_queue_file(queue_dir, name).empty())
      return name;
  }
  return {};
}

bool settle_cancel(const std::string& queue_dir, const ArchivedMessage& m, std::string& result, std::string& detail) {
  Fd fd;
  for (int depth : {0, 1, 2}) {
    fd.reset(::open(queue_path(queue_dir, "hold", m.queue_id, depth).c_str(),
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.ok()) break;
  }
  struct stat st;
  if (!fd.ok() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_ino) != m.inode)
    return false;
  std::size_t crossed = 0, pending = 0;
  for (const ArchivedRecipient& c : m.canceled) {
    char type = 0;
    std::string address, error;
    if (!recipient_record_at(fd.get(), c.offset, type, address, error) || address != c.address) continue;
    crossed += type == rec::kDone;
    pending += type == rec::kRcpt;
  }
  const std::size_t n = m.canceled.size();
  result = crossed == n ? "done" : pending == n ? "not_attempted" : "failed";
  detail = crossed == n   ? "its canceled recipients are crossed off (settled from the queue file in hold)"
           : pending == n ? "the run stopped before its recipients were crossed off (settled from the queue file in "
                            "hold): the message keeps them"
                          : std::to_string(crossed) + " of its " + std::to_string(n) +
                                " canceled recipients are crossed off (settled from the queue file in hold)";
  return true;
}

}  // namespace qpurge
