// SPDX-License-Identifier: MIT
// content_proxy.cc - mime.h's functions, forwarded to the content module;
// see content_module.h.
#include <stdexcept>

#include "content_module.h"

namespace qpurge {
namespace {

const ContentModule& content_module() { return module_table<ContentModule>("content"); }

}  // namespace

void require_content_module() { content_module(); }

void decode_content(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out) {
  const ContentModule* m = nullptr;
  try {
    m = &content_module();
  } catch (const ModuleError& e) {
    out = MessageContent{};
    out.error = e.what();
    return;
  }
  m->decode_content(raw, need, text_limit, out);
}

std::string decode_header_value(std::string_view raw) {
  std::string out, error;
  if (!content_module().decode_header_value(raw, out, error)) throw std::runtime_error(error);
  return out;
}

}  // namespace qpurge
