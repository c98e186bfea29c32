// SPDX-License-Identifier: MIT
// check.h - internal checks: a condition that only a bug in qpurge can
// break. A failed check throws InternalError naming the file and line; the
// command reports it as "internal error" and acts no further.
#ifndef QPURGE_UTIL_CHECK_H_
#define QPURGE_UTIL_CHECK_H_

#include <stdexcept>
#include <string>

namespace qpurge {

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

#define QPURGE_CHECK(cond)                                                                                           \
  do {                                                                                                               \
    if (!(cond)) throw ::qpurge::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #cond); \
  } while (0)

}  // namespace qpurge

#endif  // QPURGE_UTIL_CHECK_H_
