// SPDX-License-Identifier: MIT
// content_entry.cc - the entry point of qpurge_content.so; see
// content_module.h.
#include <exception>

#include "content_module.h"
#include "qpurge/version.h"

namespace qpurge {
namespace {

bool decode_content_entry(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out) {
  try {
    detail::gmime_decode_content(raw, need, text_limit, out);
    return true;
  } catch (const std::exception& e) {
    out = MessageContent{};
    out.error = std::string("content module: ") + e.what();
    return false;
  }
}

bool decode_header_value_entry(std::string_view raw, std::string& out, std::string& error) {
  try {
    out = detail::gmime_decode_header_value(raw);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

const ContentModule kTable{
    {kModuleAbi, sizeof(ContentModule), kVersion}, decode_content_entry, decode_header_value_entry};

}  // namespace

extern "C" const ModuleHeader* qpurge_content_module() { return &kTable.header; }

}  // namespace qpurge
