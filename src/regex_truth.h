// SPDX-License-Identifier: MIT
// regex_truth.h - Boost.Regex for criteria, failing closed (private to src/).
//
// compile() turns a bad expression into the usage error the criteria report
// (std::invalid_argument); search() turns Boost's "too complex for this
// input" (std::runtime_error) into Truth::kUndecided, never kNo.
#ifndef QPURGE_SRC_REGEX_TRUTH_H_
#define QPURGE_SRC_REGEX_TRUTH_H_

#include <boost/regex.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "qpurge/match.h"

namespace qpurge::detail {

// Perl syntax, any case (ASCII).
inline boost::regex compile_regex(std::string_view pattern) {
  try {
    return boost::regex(std::string(pattern), boost::regex::perl | boost::regex::icase);
  } catch (const boost::regex_error& e) {
    throw std::invalid_argument(std::string("bad regular expression: ") + e.what());
  }
}

inline Truth regex_search_truth(const boost::regex& re, std::string_view text) {
  try {
    return boost::regex_search(text.begin(), text.end(), re) ? Truth::kYes : Truth::kNo;
  } catch (const std::runtime_error&) {
    return Truth::kUndecided;
  }
}

}  // namespace qpurge::detail

#endif  // QPURGE_SRC_REGEX_TRUTH_H_
