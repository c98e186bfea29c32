// SPDX-License-Identifier: MIT
// rfc2047.h - header text with RFC 2047 encoded words decoded one word at a
// time (a detail of mime.cc).
//
// GMime's g_mime_utils_header_decode_text() joins the payloads of adjacent
// encoded words in the same charset and encoding before it decodes them (it
// rescues mailers that split a quoted-printable triplet or a base64 quantum
// between words), so a base64 word that ends in padding swallows the words
// after it: "=?UTF-8?B?YWI=?= =?UTF-8?B?Y2QucGRm?=" comes out "ab". RFC 2047
// decodes each encoded word on its own and ignores the white space between
// two adjacent ones (section 6.2), which gives "abcd.pdf".
//
// decode_header_text() finds the encoded words as GMime's tokenizer does
// (its default, loose mode: a word may start inside another), undoes each
// word's B or Q encoding on its own (GLib's base64, GMime's quoted-printable
// decoder), and joins the bytes of adjacent words in the same charset, so
// a multibyte character split across two words stays whole. Each such run
// goes back to GMime as one base64 encoded word, so the conversion to UTF-8
// (the charset's converter, GMime's fallback charsets for an unknown one,
// '?' for bytes that are not in the charset) and everything outside encoded
// words (8-bit text, white space) are exactly GMime's.
//
// Input: one header value, unfolded (g_mime_utils_header_unfold()). Output:
// UTF-8. Thread-safe, as GMime's utils functions are. Never fails.
#ifndef QPURGE_SELECT_RFC2047_H_
#define QPURGE_SELECT_RFC2047_H_

#include <string>
#include <string_view>

namespace qpurge::detail {

std::string decode_header_text(std::string_view unfolded);

}  // namespace qpurge::detail

#endif  // QPURGE_SELECT_RFC2047_H_
