// SPDX-License-Identifier: MIT
// mime.h - what a message says: its content decoded with GMime 3.
//
// decode_content() reads the header block as Postfix does (it ends at the
// first empty line or at the first line that is no header) and keeps every
// Subject, RFC 2047 decoded to UTF-8, and every Message-ID (without angle
// brackets). When the MIME structure is wanted it hands the raw content
// (content.h) to GMime's parser and keeps every attachment (a leaf part with
// a file name or that is not text/plain or text/html) with its file names
// (Content-Disposition filename= and Content-Type name=, RFC 2231 and RFC
// 2047 decoded) and its lower-case type; when the body is wanted, also the
// text of every text/plain and text/html part (transfer encoding undone,
// charset converted to UTF-8, HTML as its source). Parts of attached
// messages (message/rfc822) count too: what a recipient can open is what a
// spam campaign says.
//
// RFC 2047 encoded words are decoded one word at a time (rfc2047.h), in the
// Subject, in --decode-headers values and in the Content-Type and
// Content-Disposition headers the file names come from; GMime's own decoder
// merges adjacent words before decoding them.
//
// Failure, fail closed: GMime repairs almost anything, so "cannot be parsed"
// is decided here: no message at all, or any issue GMime calls critical
// (GMIME_CRIT_*: parts of the input may have been skipped or misread, as a
// multipart without a boundary, a nesting overflow, two different
// Content-Type, Content-Disposition or Content-Transfer-Encoding headers in
// one part), or a multipart whose parts GMime could not find, or a message
// GMime says is truncated or malformed when the raw content was not cut by
// us and the message has a body (a header block alone, which RFC 5322
// allows, is a message with an empty body). Then `parsed` is false and
// `error` says why; a content selector that needs the structure must then
// answer "undecided". The header fields do not depend on the MIME parse.
//
// GMime is not linked into qpurge: these functions run in the content module
// (module.h), loaded when a run first needs them.
//
// Thread-safety: decode_content() may run on several threads at once. GMime
// is initialised once (std::call_once around g_mime_init(), which is not
// thread-safe itself); each call makes its own parser, parser options and
// objects and shares none (GMime's GObjects are not thread-safe; its charset,
// iconv and utils functions are).
#ifndef QPURGE_SELECT_MIME_H_
#define QPURGE_SELECT_MIME_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/spool/content.h"

namespace qpurge {

// Decoded text kept by default (--body-limit).
inline constexpr std::size_t kDefaultTextLimit = 1 << 20;

struct MessageContent {
  // The header block was read (always, once the raw content was read);
  // `subjects` and `message_ids` are all there is.
  bool headers_parsed = false;
  // The MIME structure was parsed (for kHeaders: the header block was read).
  bool parsed = false;
  std::string error;                     // why not parsed
  std::vector<std::string> subjects;     // every Subject, decoded, UTF-8, in order
  std::vector<std::string> message_ids;  // every Message-ID, without angle brackets
  std::string subject;                   // the first Subject; "" when none
  std::string message_id;                // the first Message-ID; "" when none
  // Only when the body is wanted (ContentNeed::kBody):
  std::vector<std::string> texts;  // decoded text/plain and text/html parts, in message order
  // The text limit was reached (texts hold `text_limit` bytes in all), or
  // the raw content was cut (RawContent::truncated): a search of the texts
  // that found nothing did not see everything.
  bool truncated = false;
  // The raw content was cut: the parts after the cut were not seen, and the
  // one the cut fell in may be incomplete (Attachment::cut).
  bool parts_truncated = false;
  // The raw content was cut before the header block ended: a Subject or
  // Message-ID that did not match may not have been seen.
  bool headers_truncated = false;
  // When the structure is wanted (kParts, kBody):
  struct Attachment {
    std::string filename;      // Content-Disposition filename=, else Content-Type name=; "" when none
    std::string type;          // lower case "type/subtype"
    std::string other_name{};  // Content-Type name= when it is not `filename` (a client may show either)
    // The raw content was cut inside the header that gave a name or the
    // type: they may be incomplete and decide nothing.
    bool cut = false;
  };
  std::vector<Attachment> attachments;
};

// A header value unfolded and RFC 2047 decoded to UTF-8, each encoded word on
// its own (words in an unknown charset are converted as GMime's fallback
// charsets say); --header with --decode-headers. Thread-safe.
std::string decode_header_value(std::string_view raw);

// Decodes `raw` into `out` (cleared first). Every `need` fills the header
// fields, read from the header block without building a GMime message: a
// header block always "parses". kParts adds the attachments (the MIME
// structure, no text decoded), kBody the attachments and the texts.
void decode_content(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out);

// Loads the content module now (the two functions above run in it: GMime is
// not linked into the program, content_module.h), so that a run that will
// need it fails before it starts: throws ModuleError (module.h). When it
// cannot be loaded later all the same, decode_content() gives a content that
// is not parsed (content criteria are undecided) and decode_header_value()
// throws ModuleError.
void require_content_module();

}  // namespace qpurge

#endif  // QPURGE_SELECT_MIME_H_
