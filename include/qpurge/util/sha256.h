// SPDX-License-Identifier: MIT
// sha256.h - SHA-256 digests (OpenSSL's libcrypto), as 64 lower-case hex
// digits: of the archived copies of queue files, checked again before a
// restore writes them back.
//
// libcrypto is not linked into qpurge: it is in the digest module
// (module.h), loaded by the first digest. When it cannot be loaded, a digest
// fails (finish() is false); require_digest_module() loads it early and
// says why it cannot.
#ifndef QPURGE_UTIL_SHA256_H_
#define QPURGE_UTIL_SHA256_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace qpurge {

// A digest fed piece by piece.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  // False when libcrypto failed somewhere (out of memory, a FIPS refusal).
  bool finish(std::string& hex);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the digest module now, so that a run that will need it fails before
// it starts: throws ModuleError (module.h) with the reason.
void require_digest_module();

// Of bytes in memory (restore checks the very bytes it then writes).
bool sha256_hex(std::string_view data, std::string& hex);
// Of a regular file's bytes (never through a symbolic link); false with
// "PATH: why" when it cannot be read.
bool sha256_file(const std::string& path, std::string& hex, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_UTIL_SHA256_H_
