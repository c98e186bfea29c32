// SPDX-License-Identifier: MIT
// idn_module.h - the table of the IDN module, qpurge_idn.so (module.h):
// libidn2's UTS #46 conversion of a Unicode domain to its A-label form,
// loaded the first time a run meets a domain that is not ASCII (typed by
// the operator or stored in a queue file), so that other runs neither load
// nor bind libidn2 and the libraries it brings (libunistring).
//
// idn_entry.cc is built into the module only; domain_ascii_form() of
// address.h, in the program, forwards to it. The function never throws
// across the boundary.
#ifndef QPURGE_SELECT_IDN_MODULE_H_
#define QPURGE_SELECT_IDN_MODULE_H_

#include <string>

#include "qpurge/util/module.h"

namespace qpurge {

extern "C" {
struct IdnModule {
  ModuleHeader header;
  // The lower-case A-label form of a UTF-8 domain with the non-transitional
  // mapping, or false when libidn2 cannot convert it (not UTF-8, not a
  // valid name) or memory ran out.
  bool (*to_ascii)(const std::string& domain, std::string& out);
};
const ModuleHeader* qpurge_idn_module();
}

}  // namespace qpurge

#endif  // QPURGE_SELECT_IDN_MODULE_H_
