// SPDX-License-Identifier: MIT
// idn_entry.cc - the entry point of qpurge_idn.so: libidn2; see
// idn_module.h.
#include <idn2.h>

#include <new>

#include "idn_module.h"
#include "qpurge/version.h"

namespace qpurge {
namespace {

bool to_ascii(const std::string& domain, std::string& out) {
  char* converted = nullptr;
  if (idn2_to_ascii_8z(domain.c_str(), &converted, IDN2_NONTRANSITIONAL) != IDN2_OK) return false;
  bool ok = true;
  try {
    out.assign(converted);
  } catch (const std::bad_alloc&) {
    ok = false;
  }
  idn2_free(converted);
  return ok;
}

const IdnModule kTable{{kModuleAbi, sizeof(IdnModule), kVersion}, to_ascii};

}  // namespace

extern "C" const ModuleHeader* qpurge_idn_module() { return &kTable.header; }

}  // namespace qpurge
