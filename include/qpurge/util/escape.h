// SPDX-License-Identifier: MIT
// escape.h - making strings from queue files safe to print.
//
// Queue files carry text that strangers wrote. Nothing from them reaches a
// terminal raw: text output escapes control characters (C0, DEL, C1),
// backslashes and bytes that are not UTF-8 as \xHH. JSON output is lossless:
// valid UTF-8 passes through, control characters become \uXXXX, and every
// byte that is not part of valid UTF-8 becomes the lone surrogate \uDCXX
// (XX = the byte), the "surrogateescape" convention, so the original bytes
// can always be recovered.
#ifndef QPURGE_UTIL_ESCAPE_H_
#define QPURGE_UTIL_ESCAPE_H_

#include <string>
#include <string_view>

namespace qpurge {

void append_text_escaped(std::string& out, std::string_view s);
std::string text_escaped(std::string_view s);
void append_json_string(std::string& out, std::string_view s);  // with the quotes

// Bytes as lower-case hex digits, and back (false on an odd length or a
// character that is not a hex digit).
std::string to_hex(std::string_view bytes);
bool from_hex(std::string_view hex, std::string& bytes);

// ASCII lower case of one byte; other bytes unchanged.
inline char ascii_lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ASCII lower case; other bytes unchanged (as Postfix and qshape compare).
std::string ascii_lower(std::string_view s);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

}  // namespace qpurge

#endif  // QPURGE_UTIL_ESCAPE_H_
