// SPDX-License-Identifier: MIT
// module.cc - loading qpurge's modules; see module.h.
#include "qpurge/util/module.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "qpurge/version.h"

#ifndef QPURGE_MODULE_DIR
#error "QPURGE_MODULE_DIR must be defined (CMakeLists.txt)"
#endif

namespace qpurge {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, const ModuleHeader*, std::less<>> tables;
};

Registry& registry() {
  static Registry r;
  return r;
}

// `path` (the module or its directory) owned by root or by us, and writable
// by neither group nor others; else ModuleError naming the module.
void check_trusted(const std::string& module, const std::string& path, bool directory) {
  const std::string what = directory ? "directory " + path + " " : "";
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    const int e = errno;
    throw ModuleError(module + ": cannot load: " + (directory ? path + ": " : "") + std::strerror(e));
  }
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    throw ModuleError(module + ": not loaded: " + what + "not a " + (directory ? "directory" : "regular file"));
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    throw ModuleError(module + ": not loaded: " + what + "owned by uid " + std::to_string(st.st_uid) +
                      ", neither root nor us");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    throw ModuleError(module + ": not loaded: " + what + "writable by group or others");
}

}  // namespace

std::string module_directory() {
  const char* env = ::secure_getenv("QPURGE_MODULE_DIR");
  return env && *env ? env : QPURGE_MODULE_DIR;
}

const ModuleHeader& load_module_from(const std::string& directory, const char* name, std::uint32_t size) {
  const std::string path = directory + "/qpurge_" + name + ".so";
  check_trusted(path, directory, true);
  check_trusted(path, path, false);
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw ModuleError(path + ": cannot load: " + ::dlerror());
  const std::string entry = std::string("qpurge_") + name + "_module";
  auto* get = reinterpret_cast<const ModuleHeader* (*)()>(::dlsym(handle, entry.c_str()));
  const ModuleHeader* table = get ? get() : nullptr;
  if (!table) throw ModuleError(path + ": not a qpurge module (no " + entry + ")");
  if (table->abi != kModuleAbi || table->size != size || std::strcmp(table->version, kVersion) != 0)
    throw ModuleError(path + ": not loaded: built for qpurge " + table->version + " (module ABI " +
                      std::to_string(table->abi) + "), this is qpurge " + kVersion + " (ABI " +
                      std::to_string(kModuleAbi) + ")");
  return *table;
}

const ModuleHeader& load_module(const char* name, std::uint32_t size) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.tables.find(name);
  if (it == r.tables.end()) it = r.tables.emplace(name, &load_module_from(module_directory(), name, size)).first;
  if (it->second->size != size) throw ModuleError(std::string("module ") + name + ": table of the wrong size");
  return *it->second;
}

void provide_module(const char* name, const ModuleHeader* table) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.tables[name] = table;
}

}  // namespace qpurge
