// SPDX-License-Identifier: MIT
// queue_id.cc - queue ID forms; see queue_id.h.
#include "qpurge/spool/queue_id.h"

namespace qpurge {
namespace {

constexpr std::string_view kLongAlphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int long_value(char c, std::size_t radix) {
  std::size_t pos = kLongAlphabet.substr(0, radix).find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Position of the separator 'z' of a long ID, or npos.
std::size_t long_separator(std::string_view id) {
  std::size_t z = id.rfind('z');
  if (z == std::string_view::npos || z < 10 || z + 1 >= id.size()) return std::string_view::npos;
  return z;
}

// The 4 base-52 microsecond digits before a long ID's separator `z`.
std::uint64_t long_microseconds(std::string_view id, std::size_t z) {
  std::uint64_t usec = 0;
  for (std::size_t i = z - 4; i < z; ++i) usec = usec * 52 + static_cast<std::uint64_t>(long_value(id[i], 52));
  return usec;
}

// Letters, digits and "_" (Postfix's mail_queue_id_ok()), as a table: one
// load a character, for every file name of every scan.
struct IdChars {
  bool ok[256] = {};
  constexpr IdChars() {
    for (int c = 0; c < 256; ++c)
      ok[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
};
constexpr IdChars kIdChars;

}  // namespace

bool queue_id_ok(std::string_view id) {
  if (id.empty() || id.size() > 255) return false;
  for (char c : id)
    if (!kIdChars.ok[static_cast<unsigned char>(c)]) return false;
  return true;
}

bool is_short_queue_id(std::string_view id) {
  if (id.size() < 6 || id.size() > 5 + 16) return false;
  std::uint32_t usec = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    int v = hex_value(id[i]);
    if (v < 0) return false;
    if (i < 5) usec = usec * 16 + static_cast<std::uint32_t>(v);
  }
  return usec < 1000000;
}

bool is_long_queue_id(std::string_view id) {
  std::size_t z = long_separator(id);
  if (z == std::string_view::npos) return false;
  for (std::size_t i = 0; i < z; ++i)
    if (long_value(id[i], 52) < 0) return false;
  if (long_microseconds(id, z) >= 1000000) return false;
  if (id.size() - z - 1 > 12) return false;
  for (std::size_t i = z + 1; i < id.size(); ++i)
    if (long_value(id[i], 51) < 0) return false;
  return true;
}

std::optional<std::uint32_t> queue_id_microseconds(std::string_view id) {
  std::uint32_t usec = 0;
  if (is_short_queue_id(id)) {
    for (std::size_t i = 0; i < 5; ++i) usec = usec * 16 + static_cast<std::uint32_t>(hex_value(id[i]));
    return usec;
  }
  if (is_long_queue_id(id)) return static_cast<std::uint32_t>(long_microseconds(id, long_separator(id)));
  return std::nullopt;
}

std::optional<std::uint64_t> queue_id_inode(std::string_view id) {
  std::uint64_t ino = 0;
  if (is_short_queue_id(id)) {
    for (std::size_t i = 5; i < id.size(); ++i) ino = ino * 16 + static_cast<std::uint64_t>(hex_value(id[i]));
    return ino;
  }
  if (is_long_queue_id(id)) {
    for (std::size_t i = long_separator(id) + 1; i < id.size(); ++i)
      ino = ino * 51 + static_cast<std::uint64_t>(long_value(id[i], 51));
    return ino;
  }
  return std::nullopt;
}

bool is_message_queue(std::string_view name) {
  for (std::string_view q : kMessageQueues)
    if (q == name) return true;
  return false;
}

}  // namespace qpurge
