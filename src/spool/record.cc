// SPDX-License-Identifier: MIT
// record.cc - raw record reading through a window buffer; see record.h.
#include "qpurge/spool/record.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace qpurge {
namespace {

// Files up to this size are read whole with one read(2).
constexpr std::size_t kWholeFileLimit = 64 * 1024;
// Otherwise the window read at each new place.
constexpr std::size_t kWindow = 16 * 1024;

}  // namespace

ssize_t MemorySource::read_at(std::uint64_t offset, void* buf, std::size_t n) {
  if (offset >= data_.size()) return 0;
  std::size_t len = std::min<std::uint64_t>(n, data_.size() - offset);
  std::memcpy(buf, data_.data() + offset, len);
  return static_cast<ssize_t>(len);
}

ssize_t FdSource::read_at(std::uint64_t offset, void* buf, std::size_t n) {
  ssize_t got;
  do {
    got = ::pread(fd_, buf, n, static_cast<off_t>(offset));
  } while (got < 0 && errno == EINTR);
  return got;
}

// Room for a small file, not filled: ensure() grows the buffer to what it
// reads (zeroing once what it has not used before), so a reader that only
// sees small files never writes 64 KiB of zeros.
RecordReader::RecordReader() { buf_.reserve(kWholeFileLimit); }

void RecordReader::reset(ByteSource* source) {
  source_ = source;
  size_ = source ? source->size() : 0;
  win_offset_ = 0;
  win_len_ = 0;
  reads_ = 0;
  error_.clear();
}

bool RecordReader::ensure(std::uint64_t offset, std::size_t n) {
  if (in_window(offset, n)) return true;
  const std::uint64_t size = size_;
  if (offset >= size) return false;
  std::size_t want = size <= kWholeFileLimit ? size : std::max(n, kWindow);
  std::uint64_t start = size <= kWholeFileLimit ? 0 : offset;
  want = static_cast<std::size_t>(std::min<std::uint64_t>(want, size - start));
  if (buf_.size() < want) buf_.resize(want);
  std::size_t have = 0;
  while (have < want) {
    ssize_t got = source_->read_at(start + have, buf_.data() + have, want - have);
    ++reads_;
    if (got < 0) {
      error_ = std::string("read error: ") + std::strerror(errno);
      win_len_ = 0;
      return false;
    }
    if (got == 0) break;  // the file shrank since it was opened
    have += static_cast<std::size_t>(got);
  }
  win_offset_ = start;
  win_len_ = have;
  return offset + n <= win_offset_ + win_len_;
}

std::string_view RecordReader::bytes(std::uint64_t offset, std::size_t n) {
  const std::uint64_t size = size_;
  if (offset >= size) return {};
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size - offset));
  if (!ensure(offset, n)) {
    if (offset < win_offset_ || offset >= win_offset_ + win_len_) return {};
    n = static_cast<std::size_t>(win_offset_ + win_len_ - offset);
  }
  return std::string_view(buf_.data() + (offset - win_offset_), n);
}

RecordStatus RecordReader::read_slow(std::uint64_t offset, Record& out, std::size_t max_length) {
  const std::uint64_t size = size_;
  if (offset == size) return RecordStatus::kEof;
  if (offset > size) {
    error_ = "offset " + std::to_string(offset) + " past end of file";
    return RecordStatus::kError;
  }
  // Type byte plus at most 5 length bytes.
  std::size_t head = static_cast<std::size_t>(std::min<std::uint64_t>(6, size - offset));
  if (!in_window(offset, head) && !ensure(offset, head)) {
    if (error_.empty()) error_ = "premature end of file";
    return RecordStatus::kError;
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(buf_.data() + (offset - win_offset_));
  out.type = static_cast<char>(p[0]);
  out.offset = offset;
  std::uint64_t len = 0;
  std::size_t i = 1;
  for (int shift = 0;; shift += 7) {
    if (shift >= 35) {
      error_ = "record length has more than 5 bytes";
      return RecordStatus::kError;
    }
    if (i >= head) {
      error_ = "premature end of file in record length";
      return RecordStatus::kError;
    }
    unsigned char b = p[i++];
    len |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (len > 0x7fffffff) {
    error_ = "record length out of range";
    return RecordStatus::kError;
  }
  if (len > max_length) {
    error_ = "record length " + std::to_string(len) + " exceeds limit " + std::to_string(max_length);
    return RecordStatus::kError;
  }
  std::uint64_t payload_offset = offset + i;
  if (payload_offset + len > size) {
    error_ = "premature end of file in record payload";
    return RecordStatus::kError;
  }
  if (!in_window(payload_offset, static_cast<std::size_t>(len)) &&
      !ensure(payload_offset, static_cast<std::size_t>(len))) {
    if (error_.empty()) error_ = "premature end of file in record payload";
    return RecordStatus::kError;
  }
  out.payload = std::string_view(buf_.data() + (payload_offset - win_offset_), static_cast<std::size_t>(len));
  out.next_offset = payload_offset + len;
  return RecordStatus::kOk;
}

void append_record(std::string& out, char type, std::string_view payload) {
  out.push_back(type);
  std::size_t len = payload.size();
  do {
    unsigned char b = len & 0x7f;
    len >>= 7;
    if (len != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (len != 0);
  out.append(payload);
}

std::string record_type_name(char t) {
  unsigned char c = static_cast<unsigned char>(t);
  if (c >= 0x21 && c < 0x7f) return std::string("'") + t + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

}  // namespace qpurge
