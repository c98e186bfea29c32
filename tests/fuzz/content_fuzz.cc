// SPDX-License-Identifier: MIT
// content_fuzz.cc - libFuzzer target: queue file -> content -> GMime.
//
// Any input must either parse or be rejected with a reason, at every stage:
// no crash, no hang, no sanitizer report. A content that was read is
// decoded at both levels; a decoding that fails must say why, and one that
// succeeds must respect the text limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "qpurge/select/mime.h"
#include "qpurge/spool/queue_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qpurge::RecordReader reader;
  static qpurge::Message msg;
  constexpr std::size_t kTextLimit = 4096;
  std::string error;
  qpurge::MemorySource src(std::string_view(reinterpret_cast<const char*>(data), size));
  qpurge::ParseOptions opt;
  opt.content = qpurge::ContentNeed::kBody;
  opt.content_limit = 1 << 16;
  if (!qpurge::parse_queue_file(src, reader, msg, error, opt)) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (!msg.has_content) {
    if (msg.content_error.empty()) std::abort();
    return 0;
  }
  if (msg.content.text.size() > opt.content_limit) std::abort();
  for (qpurge::ContentNeed need :
       {qpurge::ContentNeed::kHeaders, qpurge::ContentNeed::kParts, qpurge::ContentNeed::kBody}) {
    qpurge::MessageContent content;
    qpurge::decode_content(msg.content, need, kTextLimit, content);
    if (!content.parsed && content.error.empty()) std::abort();
    std::size_t kept = 0;
    for (const auto& t : content.texts) kept += t.size();
    if (kept > kTextLimit) std::abort();
  }
  return 0;
}
