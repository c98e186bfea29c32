// SPDX-License-Identifier: MIT
// module.h - the parts of qpurge a run loads only when it needs them.
//
// Some features bring large libraries whose mere loading costs more than a
// whole dry run of a small queue (GMime and GLib for the content selectors,
// prometheus-cpp for --format prometheus, OpenSSL for the archive's
// SHA-256): each is built as a module, a shared object qpurge_NAME.so that
// qpurge loads with dlopen() the first time a run needs it, so that a run
// that does not need it neither loads nor binds any of its libraries.
//
// Where: one directory fixed when qpurge is built (kModuleDir, CMake's
// QPURGE_MODULE_DIR, /usr/lib/qpurge/modules in the packages). The environment
// variable QPURGE_MODULE_DIR overrides it for the build tree and the tests,
// read with secure_getenv(), so never in a set-uid or set-gid process.
//
// Trust: the directory and the file must be owned by root or by the
// effective user and writable by neither group nor others, and the file must
// be a regular file (lstat(): a symbolic link is refused). Whoever can
// replace a module can run code as qpurge, which runs as root.
//
// The entry point: a module exports one C function, qpurge_NAME_module(),
// returning its table, a struct whose first member is a ModuleHeader. The
// header names the ABI (kModuleAbi), the table's size and the qpurge version
// the module was built with: a module from another build is refused, since
// the tables pass C++ objects (std::string, the content structs) across.
//
// Failure: ModuleError, one line naming the module's path and the cause
// ("/usr/lib/qpurge/modules/qpurge_content.so: cannot load: ... No such file or
// directory"); the program reports it as fatal (exit 2) before it changes
// anything, as for a missing postsuper. A module that loaded stays loaded.
//
// Thread-safety: load_module() may be called from several threads at once.
#ifndef QPURGE_UTIL_MODULE_H_
#define QPURGE_UTIL_MODULE_H_

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace qpurge {

// Raised by a change in any module table's layout or meaning.
inline constexpr std::uint32_t kModuleAbi = 1;

extern "C" {
struct ModuleHeader {
  std::uint32_t abi;    // kModuleAbi
  std::uint32_t size;   // sizeof the whole table
  const char* version;  // the qpurge version it was built with (kVersion)
};
}

class ModuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The directory modules are loaded from: QPURGE_MODULE_DIR from the
// environment when set (and the process is not set-uid), else kModuleDir.
std::string module_directory();

// The table of module `name` ("content"), checked to be `size` bytes of the
// current ABI and version; loaded from module_directory() the first time,
// or the one provide_module() registered. Throws ModuleError.
const ModuleHeader& load_module(const char* name, std::uint32_t size);

// The same from `directory`, without the cache (tests of the checks).
const ModuleHeader& load_module_from(const std::string& directory, const char* name, std::uint32_t size);

// load_module() as the table's type T (a struct whose first member is its
// ModuleHeader), without the lock once loaded: for a call per message.
template <typename T>
const T& module_table(const char* name) {
  static std::atomic<const T*> cached{nullptr};
  const T* t = cached.load(std::memory_order_acquire);
  if (!t) {
    t = reinterpret_cast<const T*>(&load_module(name, sizeof(T)));
    cached.store(t, std::memory_order_release);
  }
  return *t;
}

// Registers a table linked into the program itself (the unit tests and the
// fuzzers link the modules' objects): load_module(name) then returns it.
void provide_module(const char* name, const ModuleHeader* table);

}  // namespace qpurge

#endif  // QPURGE_UTIL_MODULE_H_
