// SPDX-License-Identifier: MIT
// queue_writer.cc - cleanup-identical queue files; see queue_writer.h.
#include "support/queue_writer.h"

#include <cstdio>

#include "qpurge/spool/record.h"

namespace qpurge {
namespace {

void recipient_group(std::string& out, const SyntheticRecipient& r) {
  const std::string& orig = r.original.empty() ? r.address : r.original;
  append_record(out, 'A', "dsn_orig_rcpt=rfc822;" + r.address);
  append_record(out, 'O', orig);
  append_record(out, r.done ? 'D' : 'R', r.address);
}

std::string size_payload(long data_size, long data_offset, long nrcpt, long content) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%15ld %15ld %15ld %15ld %15ld %15ld", data_size, data_offset, nrcpt, 0L, content, 0L);
  return buf;
}

}  // namespace

std::string write_queue_file(const SyntheticMessage& m) {
  std::string out;
  append_record(out, 'C', size_payload(0, 0, 0, 0));  // placeholder, rewritten below
  append_record(out, 'T', std::to_string(m.arrival_time) + " " + std::to_string(m.arrival_usec));
  append_record(out, 'A', "create_time=" + std::to_string(m.arrival_time));
  append_record(out, 'A', "rewrite_context=local");
  if (!m.fullname.empty()) append_record(out, 'F', m.fullname);
  append_record(out, 'S', m.sender);
  long nrcpt = 0;
  for (const auto& r : m.recipients) {
    recipient_group(out, r);
    ++nrcpt;
  }
  append_record(out, 'M', "");
  const long data_offset = static_cast<long>(out.size());
  for (const auto& h : m.header_lines) append_record(out, 'N', h);
  append_record(out, 'N', "");
  for (const auto& b : m.body_lines) append_record(out, 'N', b);
  const long data_size = static_cast<long>(out.size()) - data_offset;
  append_record(out, 'X', "");
  for (const auto& r : m.extracted_recipients) {
    recipient_group(out, r);
    ++nrcpt;
  }
  append_record(out, 'E', "");
  std::string c;
  append_record(c, 'C', size_payload(data_size, data_offset, nrcpt, data_size));
  out.replace(0, c.size(), c);
  return out;
}

}  // namespace qpurge
