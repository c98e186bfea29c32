// SPDX-License-Identifier: MIT
// modules.cc - the modules' tables (util/module.h), linked into the test
// program and registered before any test runs, so the tests of what a
// module does need no module directory.
#include "qpurge/util/module.h"

extern "C" const qpurge::ModuleHeader* qpurge_content_module();
extern "C" const qpurge::ModuleHeader* qpurge_digest_module();
extern "C" const qpurge::ModuleHeader* qpurge_idn_module();
extern "C" const qpurge::ModuleHeader* qpurge_metrics_module();

namespace {

[[maybe_unused]] const bool registered = [] {
  qpurge::provide_module("content", qpurge_content_module());
  qpurge::provide_module("digest", qpurge_digest_module());
  qpurge::provide_module("idn", qpurge_idn_module());
  qpurge::provide_module("metrics", qpurge_metrics_module());
  return true;
}();

}  // namespace
