// SPDX-License-Identifier: MIT
// defer_log_fuzz.cc - libFuzzer target for the defer log parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qpurge/spool/defer_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto entries = qpurge::parse_defer_log(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)entries;
  return 0;
}
