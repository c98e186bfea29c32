// SPDX-License-Identifier: MIT
// digest_module.h - the table of the digest module, qpurge_digest.so
// (module.h): OpenSSL's SHA-256, loaded the first time a run archives or
// restores, so that other runs do not load libcrypto (2.6 M instructions of
// relocation and binding at every start).
//
// digest_entry.cc is built into the module only; sha256.cc, in the program,
// forwards to it. A context is opaque; every function reports failure
// (out of memory, a FIPS refusal) as nullptr or false and never throws.
#ifndef QPURGE_UTIL_DIGEST_MODULE_H_
#define QPURGE_UTIL_DIGEST_MODULE_H_

#include <cstddef>

#include "qpurge/util/module.h"

namespace qpurge {

inline constexpr std::size_t kSha256Size = 32;

extern "C" {
struct DigestModule {
  ModuleHeader header;
  void* (*sha256_new)();
  bool (*sha256_update)(void* ctx, const void* data, std::size_t size);
  bool (*sha256_final)(void* ctx, unsigned char (&md)[kSha256Size]);
  void (*sha256_free)(void* ctx);
};
const ModuleHeader* qpurge_digest_module();
}

}  // namespace qpurge

#endif  // QPURGE_UTIL_DIGEST_MODULE_H_
