// SPDX-License-Identifier: MIT
// sha256.cc - see sha256.h; libcrypto is in the digest module
// (digest_module.h).
#include "qpurge/util/sha256.h"

#include "digest_module.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {
namespace {

const DigestModule& digest_module() { return module_table<DigestModule>("digest"); }

}  // namespace

void require_digest_module() { digest_module(); }

struct Sha256::Impl {
  const DigestModule* module = nullptr;
  void* ctx = nullptr;
  bool ok = false;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  try {
    impl_->module = &digest_module();
  } catch (const ModuleError&) {
    return;  // not ok: finish() fails, as for any libcrypto failure
  }
  impl_->ctx = impl_->module->sha256_new();
  impl_->ok = impl_->ctx != nullptr;
}

Sha256::~Sha256() {
  if (impl_->ctx) impl_->module->sha256_free(impl_->ctx);
}

void Sha256::update(const void* data, std::size_t size) {
  if (impl_->ok && size > 0) impl_->ok = impl_->module->sha256_update(impl_->ctx, data, size);
}

bool Sha256::finish(std::string& hex) {
  unsigned char md[kSha256Size];
  if (!impl_->ok || !impl_->module->sha256_final(impl_->ctx, md)) return false;
  hex = to_hex(std::string_view(reinterpret_cast<const char*>(md), kSha256Size));
  return true;
}

bool sha256_hex(std::string_view data, std::string& hex) {
  Sha256 sha;
  sha.update(data.data(), data.size());
  return sha.finish(hex);
}

bool sha256_file(const std::string& path, std::string& hex, std::string& error) {
  Fd fd;
  struct stat st;
  if (!open_regular(path, false, fd, st, error)) return false;
  Sha256 sha;
  std::string why;
  if (!read_fd(
          fd.get(),
          [&](const char* data, std::size_t n) {
            sha.update(data, n);
            return true;
          },
          why)) {
    error = path + ": " + why;
    return false;
  }
  if (!sha.finish(hex)) {
    error = path + ": SHA-256 failed (libcrypto)";
    return false;
  }
  return true;
}

}  // namespace qpurge
