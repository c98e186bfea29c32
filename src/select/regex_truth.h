// SPDX-License-Identifier: MIT
// regex_truth.h - Boost.Regex for criteria, failing closed (private to src/).
//
// compile() turns a bad expression into the usage error the criteria report
// (std::invalid_argument); search() turns Boost's "too complex for this
// input" (std::runtime_error) into Truth::kUndecided, never kNo.
#ifndef QPURGE_SELECT_REGEX_TRUTH_H_
#define QPURGE_SELECT_REGEX_TRUTH_H_

#include <algorithm>
#include <boost/regex.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "qpurge/select/match.h"

namespace qpurge::detail {

// Perl syntax, any case (ASCII).
inline boost::regex compile_regex(std::string_view pattern) {
  try {
    return boost::regex(std::string(pattern), boost::regex::perl | boost::regex::icase);
  } catch (const boost::regex_error& e) {
    // One line: Boost's own text, without the copy of the pattern it marks
    // with ">>>HERE>>>" (the caller names the option and the pattern).
    std::string what = e.what();
    what.resize(std::min(what.size(), what.find("  The error occurred")));
    while (!what.empty() && (what.back() == '.' || what.back() == ' ')) what.pop_back();
    throw std::invalid_argument("bad regular expression at position " + std::to_string(e.position()) + ": " + what);
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

#endif  // QPURGE_SELECT_REGEX_TRUTH_H_
