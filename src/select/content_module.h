// SPDX-License-Identifier: MIT
// content_module.h - the table of the content module, qpurge_content.so
// (module.h): the GMime reader of mime.h, loaded on first use so that a run
// without a content selector loads none of GMime, GLib, GIO and their
// libraries.
//
// mime.cc and rfc2047.cc are built into the module only (content_entry.cc
// exports the table); decode_content() and decode_header_value() of mime.h,
// in the program, forward to it (content_proxy.cc). The unit tests and the
// fuzzer link the module's objects and register the table with
// provide_module().
//
// The functions never throw across the boundary: a failure (out of memory)
// comes back as false, with the reason in MessageContent::error or `error`.
#ifndef QPURGE_SELECT_CONTENT_MODULE_H_
#define QPURGE_SELECT_CONTENT_MODULE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "qpurge/select/mime.h"
#include "qpurge/util/module.h"

namespace qpurge {

extern "C" {
struct ContentModule {
  ModuleHeader header;
  bool (*decode_content)(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out);
  bool (*decode_header_value)(std::string_view raw, std::string& out, std::string& error);
};
// The module's entry point (module.h).
const ModuleHeader* qpurge_content_module();
}

namespace detail {

// mime.cc: what mime.h's functions of the same names do, in the module.
void gmime_decode_content(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out);
std::string gmime_decode_header_value(std::string_view raw);

}  // namespace detail

}  // namespace qpurge

#endif  // QPURGE_SELECT_CONTENT_MODULE_H_
