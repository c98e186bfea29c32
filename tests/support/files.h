// SPDX-License-Identifier: MIT
// files.h - reading and writing a whole file in a test, byte for byte.
// A file that cannot be read reads as "" (the test's expectation fails).
#ifndef QPURGE_TESTS_SUPPORT_FILES_H_
#define QPURGE_TESTS_SUPPORT_FILES_H_

#include <fstream>
#include <sstream>
#include <string>

namespace qpurge::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replaces the file's content with `text`.
inline void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_FILES_H_
