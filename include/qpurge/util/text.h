// SPDX-License-Identifier: MIT
// text.h - line splitting and trimming for the text qpurge reads from
// Postfix: postsuper's and postconf's output, the bounce daemon's defer logs.
//
// One place for what each parser used to do for itself: a line ends at "\n",
// a "\r" before it is not part of the line, and trailing newlines are not
// part of a value.
#ifndef QPURGE_UTIL_TEXT_H_
#define QPURGE_UTIL_TEXT_H_

#include <string_view>

namespace qpurge {

// Takes the next line off the front of `text` into `line`, without its "\n"
// or "\r\n"; false when `text` is empty. A last line without "\n" counts.
inline bool next_line(std::string_view& text, std::string_view& line) {
  if (text.empty()) return false;
  std::size_t nl = text.find('\n');
  line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

// `s` without any trailing characters from `chars` (by default newlines).
inline std::string_view trim_end(std::string_view s, std::string_view chars = "\r\n") {
  std::size_t end = s.find_last_not_of(chars);
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

// `s` without any leading or trailing characters from `chars`.
inline std::string_view trim(std::string_view s, std::string_view chars) {
  const std::size_t begin = s.find_first_not_of(chars);
  return begin == std::string_view::npos ? std::string_view() : s.substr(begin, s.find_last_not_of(chars) - begin + 1);
}

}  // namespace qpurge

#endif  // QPURGE_UTIL_TEXT_H_
