// SPDX-License-Identifier: MIT
// digest_entry.cc - the entry point of qpurge_digest.so: SHA-256 with
// OpenSSL's libcrypto; see digest_module.h.
#include <openssl/evp.h>

#include "digest_module.h"
#include "qpurge/version.h"

namespace qpurge {
namespace {

void* sha256_new() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1) return ctx;
  EVP_MD_CTX_free(ctx);
  return nullptr;
}

bool sha256_update(void* ctx, const void* data, std::size_t size) {
  return EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx), data, size) == 1;
}

bool sha256_final(void* ctx, unsigned char (&md)[kSha256Size]) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx), out, &len) != 1 || len != kSha256Size) return false;
  for (std::size_t i = 0; i < kSha256Size; ++i) md[i] = out[i];
  return true;
}

void sha256_free(void* ctx) { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx)); }

const DigestModule kTable{
    {kModuleAbi, sizeof(DigestModule), kVersion}, sha256_new, sha256_update, sha256_final, sha256_free};

}  // namespace

extern "C" const ModuleHeader* qpurge_digest_module() { return &kTable.header; }

}  // namespace qpurge
