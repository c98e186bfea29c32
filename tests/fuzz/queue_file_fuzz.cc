// SPDX-License-Identifier: MIT
// queue_file_fuzz.cc - libFuzzer target for the queue file parser.
//
// Any input must either parse or be rejected with a reason: no crash, no
// hang, no sanitizer report, and a parse that succeeds must hold a sender
// and an arrival time (what the caller relies on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "qpurge/spool/queue_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qpurge::RecordReader reader;
  static qpurge::Message msg;
  std::string error;
  qpurge::MemorySource src(std::string_view(reinterpret_cast<const char*>(data), size));
  qpurge::ParseOptions opt;
  opt.headers = size % 2 == 0;  // exercise the header reader on half the inputs
  if (qpurge::parse_queue_file(src, reader, msg, error, opt)) {
    if (!msg.has_sender || !msg.has_arrival_time) std::abort();
    for (const auto& r : msg.recipients)
      if (r.offset >= size || data[r.offset] != 'R') std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  return 0;
}
