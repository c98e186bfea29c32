// SPDX-License-Identifier: MIT
// content.cc - reading a queue file's message content; see content.h.
#include "qpurge/spool/content.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace qpurge {
namespace {

std::string at(std::string what, std::uint64_t offset) {
  return std::move(what) + " at offset " + std::to_string(offset);
}

// The pointer value: leading blanks, then decimal (rec_goto; padding
// pointers have a variable-width payload).
bool pointer_target(std::string_view p, std::int64_t& target) {
  std::size_t i = p.find_first_not_of(" \t");
  if (i == std::string_view::npos) return false;
  auto [end, ec] = std::from_chars(p.data() + i, p.data() + p.size(), target);
  return ec == std::errc() && end == p.data() + p.size() && target >= 0;
}

// A pointer record: go to its target (or past it when the target is 0),
// within the parser's limits. False with *error set on a bad pointer.
bool follow_pointer(const Record& r, std::uint64_t size, int& reverse_jumps, std::uint64_t& offset,
                    std::string& error) {
  std::int64_t target = 0;
  if (!pointer_target(r.payload, target)) return error = at("bad pointer record", r.offset), false;
  if (target == 0) {
    offset = r.next_offset;
    return true;
  }
  if (static_cast<std::uint64_t>(target) >= size)
    return error = at("pointer " + std::to_string(target) + " past end of file", r.offset), false;
  if (static_cast<std::uint64_t>(target) <= r.offset && ++reverse_jumps > kMaxReverseJumps)
    return error = at("pointer loop: too many backward jumps", r.offset), false;
  offset = static_cast<std::uint64_t>(target);
  return true;
}

}  // namespace

bool read_content(ByteSource& source, RecordReader& reader, std::uint64_t start, ContentNeed need, std::size_t limit,
                  RawContent& out, std::string& error) {
  out.text.clear();
  out.truncated = false;
  error.clear();
  const bool headers_only = need == ContentNeed::kHeaders;
  // The content is at most the rest of the file: one allocation, no regrowth.
  if (!headers_only && start < source.size())
    out.text.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(limit, source.size() - start)));
  // The same walk as the queue-file parser's (queue_file.cc, Parser::next)
  // with the same limits: follow non-zero pointers, skip padding, count
  // records and backward jumps.
  std::uint64_t offset = start;
  std::size_t records = 0;
  int reverse_jumps = 0;
  bool partial = false;  // the previous record was an L: this one continues its line
  Record r;
  for (;;) {
    if (++records > kMaxRecordsPerFile) return error = at("too many records", offset), false;
    RecordStatus st = reader.read(offset, r);
    if (st == RecordStatus::kEof) return error = at("premature end of file in message content", offset), false;
    if (st == RecordStatus::kError) return error = at(reader.error(), offset), false;
    if (r.type == rec::kDtxt) {
      offset = r.next_offset;
      continue;
    }
    if (r.type == rec::kPtr) {
      if (!follow_pointer(r, source.size(), reverse_jumps, offset, error)) return false;
      continue;
    }
    if (r.type == rec::kXtra) {
      // Headers that never ended (a message with no body, no empty line):
      // the whole content is the header block.
      return true;
    }
    if (r.type != rec::kNorm && r.type != rec::kCont)
      return error = at("unexpected record type " + record_type_name(r.type) + " in message content", r.offset), false;
    const bool end_of_headers = headers_only && !partial && r.type == rec::kNorm && r.payload.empty();
    const std::size_t add = r.payload.size() + (r.type == rec::kNorm ? 1 : 0);
    if (out.text.size() + add > limit) {
      out.text.append(r.payload.substr(0, limit - out.text.size()));
      out.truncated = true;
      return true;
    }
    out.text.append(r.payload);
    if (r.type == rec::kNorm) out.text.push_back('\n');
    if (end_of_headers) return true;
    partial = r.type == rec::kCont;
    offset = r.next_offset;
  }
}

}  // namespace qpurge
