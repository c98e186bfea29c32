// SPDX-License-Identifier: MIT
// mime.h - what a message says: its content decoded with GMime 3.
//
// decode_content() hands the raw content (content.h) to GMime's parser and
// keeps what the content selectors look at: the Subject (RFC 2047 decoded to
// UTF-8), the Message-ID (without angle brackets), and, when the body is
// wanted, the text of every text/plain and text/html part (transfer encoding
// undone, charset converted to UTF-8, HTML as its source) and every
// attachment (a leaf part with a file name or that is not text/plain or
// text/html) with its file name (RFC 2231 and RFC 2047 decoded) and its
// lower-case type. Parts of attached messages (message/rfc822) count too:
// what a recipient can open is what a spam campaign says.
//
// Failure, fail closed: GMime repairs almost anything, so "cannot be parsed"
// is decided here: no message at all, or any issue GMime calls critical
// (GMIME_CRIT_*: parts of the input may have been skipped or misread, as a
// multipart without a boundary or a nesting overflow), or a multipart whose
// parts GMime could not find, or a message GMime says is truncated or
// malformed when the raw content was not cut by us. Then `parsed` is false
// and `error` says why; a content selector must then answer "undecided".
//
// Thread-safety: decode_content() may run on several threads at once. GMime
// is initialised once (std::call_once around g_mime_init(), which is not
// thread-safe itself); each call makes its own parser, parser options and
// objects and shares none (GMime's GObjects are not thread-safe; its charset,
// iconv and utils functions are).
#ifndef QPURGE_MIME_H_
#define QPURGE_MIME_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/content.h"

namespace qpurge {

// Decoded text kept by default (--body-limit).
inline constexpr std::size_t kDefaultTextLimit = 1 << 20;

struct MessageContent {
  bool parsed = false;
  std::string error;       // why not parsed
  std::string subject;     // RFC 2047 decoded, UTF-8; "" when none
  std::string message_id;  // without angle brackets; "" when none
  // Only when the body is wanted (ContentNeed::kBody):
  std::vector<std::string> texts;  // decoded text/plain and text/html parts, in message order
  // The text limit was reached (texts hold `text_limit` bytes in all), or
  // the raw content was cut (RawContent::truncated): a search that found
  // nothing did not see everything.
  bool truncated = false;
  // The raw content was cut before the header block ended: a Subject or
  // Message-ID that did not match may not have been seen.
  bool headers_truncated = false;
  struct Attachment {
    std::string filename;  // "" when the part has none
    std::string type;      // lower case "type/subtype"
  };
  std::vector<Attachment> attachments;
};

// A header value unfolded and RFC 2047 decoded to UTF-8 by GMime (words in
// an unknown charset are converted as GMime's fallback charsets say);
// --header with --decode-headers. Thread-safe.
std::string decode_header_value(std::string_view raw);

// Decodes `raw` into `out` (cleared first). `need` kHeaders fills subject
// and message_id only, without building a GMime message (the first Subject
// and Message-ID lines of the header block, with their continuation lines,
// decoded by GMime's header utilities): a header block always "parses";
// kBody parses the whole message as described above.
void decode_content(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out);

}  // namespace qpurge

#endif  // QPURGE_MIME_H_
