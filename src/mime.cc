// SPDX-License-Identifier: MIT
// mime.cc - decoding a message with GMime 3; see mime.h.
#include "qpurge/mime.h"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>

namespace qpurge {
namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct Unref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, Unref>;

struct GFree {
  void operator()(char* p) const { g_free(p); }
};

// What the parser complained of (its warning callback).
struct Issues {
  bool headers_only = false;
  std::string fatal;  // the first issue that makes the message unparsable
  bool malformed_multipart = false;
  bool truncated = false;  // GMime: truncated or malformed message
};

const char* issue_text(GMimeParserWarning w) {
  switch (w) {
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting header parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart without a boundary";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "MIME nesting too deep";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "MIME part without headers or content";
    default:
      return nullptr;
  }
}

// The multipart structure is not read in headers-only mode: the body is not there.
bool about_structure(GMimeParserWarning w) {
  return w == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY || w == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT ||
         w == GMIME_WARN_MALFORMED_MULTIPART || w == GMIME_WARN_TRUNCATED_MESSAGE ||
         w == GMIME_WARN_MALFORMED_MESSAGE || w == GMIME_WARN_PART_WITHOUT_CONTENT;
}

void on_issue(gint64, GMimeParserWarning w, const gchar* item, gpointer data) {
  Issues& issues = *static_cast<Issues*>(data);
  if (issues.headers_only && about_structure(w)) return;
  if (const char* text = issue_text(w); text && issues.fatal.empty()) {
    issues.fatal = text;
    std::string_view what = item ? item : "";
    while (!what.empty() && (what.back() == '\n' || what.back() == '\r')) what.remove_suffix(1);
    if (!what.empty()) issues.fatal.append(": ").append(what);
  }
  if (w == GMIME_WARN_MALFORMED_MULTIPART) issues.malformed_multipart = true;
  if (w == GMIME_WARN_TRUNCATED_MESSAGE || w == GMIME_WARN_MALFORMED_MESSAGE) issues.truncated = true;
}

std::string lower(const char* s) {
  std::string out = s ? s : "";
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string mime_type(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (!ct) return "application/octet-stream";
  return lower(g_mime_content_type_get_media_type(ct)) + "/" + lower(g_mime_content_type_get_media_subtype(ct));
}

// The file name from Content-Disposition, else Content-Type's name (GMime
// has undone RFC 2231 and RFC 2047 while parsing).
std::string filename(GMimeObject* obj) {
  const char* f = g_mime_object_get_content_disposition_parameter(obj, "filename");
  if (!f || !*f) f = g_mime_object_get_content_type_parameter(obj, "name");
  return f ? f : "";
}

// Collects texts and attachments, depth first, in message order.
struct Walker {
  MessageContent& out;
  std::size_t limit;
  std::size_t kept = 0;

  void add_text(std::string_view t) {
    if (kept + t.size() > limit) {
      std::size_t n = limit - kept;
      // Never cut a UTF-8 sequence in two.
      while (n > 0 && n < t.size() && (static_cast<unsigned char>(t[n]) & 0xc0) == 0x80) --n;
      t = t.substr(0, n);
      out.truncated = true;
    }
    kept += t.size();
    out.texts.emplace_back(t);
  }

  void walk(GMimeObject* obj) {
    if (!obj) return;
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      for (int i = 0, n = g_mime_multipart_get_count(mp); i < n; ++i) walk(g_mime_multipart_get_part(mp, i));
      return;
    }
    std::string type = mime_type(obj);
    std::string name = filename(obj);
    const bool text = type == "text/plain" || type == "text/html";
    if (!text || !name.empty()) out.attachments.push_back(MessageContent::Attachment{name, type});
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner) walk(g_mime_message_get_mime_part(inner));
      return;
    }
    if (text && GMIME_IS_TEXT_PART(obj) && !out.truncated) {
      std::unique_ptr<char, GFree> decoded(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
      if (decoded) add_text(decoded.get());
    }
  }
};

}  // namespace

std::string decode_header_value(std::string_view raw) {
  init_gmime();
  const std::string text(raw);
  std::unique_ptr<char, GFree> unfolded(g_mime_utils_header_unfold(text.c_str()));
  if (!unfolded) return text;
  std::unique_ptr<char, GFree> decoded(g_mime_utils_header_decode_text(nullptr, unfolded.get()));
  return decoded ? std::string(decoded.get()) : std::string(unfolded.get());
}

namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

// The raw value of the first header `name` in the header block, with its
// continuation lines (folding is undone by GMime); false when there is none.
bool raw_header(std::string_view block, std::string_view name, std::string& value) {
  for (std::size_t pos = 0; pos < block.size();) {
    std::size_t end = block.find('\n', pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) return false;  // the end of the headers
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line[0] == ' ' || line[0] == '\t') continue;
    std::string_view n = line.substr(0, colon);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
    if (!same_name(n, name)) continue;
    value.assign(line.substr(colon + 1));
    while (pos < block.size() && (block[pos] == ' ' || block[pos] == '\t')) {
      end = block.find('\n', pos);
      if (end == std::string_view::npos) end = block.size();
      value.append("\n").append(block.substr(pos, end - pos));
      pos = end + 1;
    }
    return true;
  }
  return false;
}

// Headers only (--subject, --message-id): no MIME structure to parse, so
// no GMime message is built; GMime decodes the two values, as
// g_mime_message_get_subject() and _get_message_id() would.
void decode_headers_only(const RawContent& raw, MessageContent& out) {
  std::string value;
  if (raw_header(raw.text, "Subject", value)) {
    std::unique_ptr<char, GFree> unfolded(g_mime_utils_header_unfold(value.c_str()));
    std::unique_ptr<char, GFree> decoded(unfolded ? g_mime_utils_header_decode_text(nullptr, unfolded.get()) : nullptr);
    out.subject = decoded ? decoded.get() : "";
  }
  if (raw_header(raw.text, "Message-ID", value)) {
    std::unique_ptr<char, GFree> id(g_mime_utils_decode_message_id(value.c_str()));
    out.message_id = id ? id.get() : "";
  }
  out.headers_truncated =
      raw.truncated && raw.text.find("\n\n") == std::string::npos && (raw.text.empty() || raw.text.front() != '\n');
  out.truncated = raw.truncated;
  out.parsed = true;
}

// Where the body starts when the header block is plain "Name: value" lines
// and continuations up to an empty line (or the end); npos otherwise.
std::size_t plain_header_block(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) return std::min(pos, text.size());
    if (line[0] == ' ' || line[0] == '\t') continue;
    std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return std::string_view::npos;
    for (char c : line.substr(0, colon))
      if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f) return std::string_view::npos;
  }
  return text.size();
}

// A message that is not MIME at all: no Content-Type and no
// Content-Transfer-Encoding header, so (RFC 2045) one text/plain part in
// US-ASCII, 7bit, with no charset to convert: its text is the body as it is,
// the bytes g_mime_text_part_get_text() would hand back. Saves building a
// GMime message for the common plain mail. False: not such a message.
bool decode_plain_message(const RawContent& raw, std::size_t text_limit, MessageContent& out) {
  std::string value;
  const std::size_t body = plain_header_block(raw.text);
  if (body == std::string_view::npos || raw_header(raw.text, "Content-Type", value) ||
      raw_header(raw.text, "Content-Transfer-Encoding", value))
    return false;
  decode_headers_only(raw, out);
  Walker walker{out, text_limit};
  walker.add_text(std::string_view(raw.text).substr(body));
  out.truncated = out.truncated || raw.truncated;
  return true;
}

}  // namespace

void decode_content(const RawContent& raw, ContentNeed need, std::size_t text_limit, MessageContent& out) {
  out = MessageContent{};
  init_gmime();
  if (need != ContentNeed::kBody) return decode_headers_only(raw, out);
  if (decode_plain_message(raw, text_limit, out)) return;
  Issues issues;
  issues.headers_only = need != ContentNeed::kBody;
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.text.data(), raw.text.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  std::unique_ptr<GMimeParserOptions, void (*)(GMimeParserOptions*)> options(g_mime_parser_options_new(),
                                                                             g_mime_parser_options_free);
  g_mime_parser_options_set_warning_callback(options.get(), on_issue, &issues);
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), options.get()));
  if (!message) {
    out.error = "not a MIME message";
    return;
  }
  if (need == ContentNeed::kBody) {
    Walker walker{out, text_limit};
    walker.walk(g_mime_message_get_mime_part(message.get()));
  }
  out.truncated = out.truncated || raw.truncated;
  out.headers_truncated =
      raw.truncated && raw.text.find("\n\n") == std::string::npos && (raw.text.empty() || raw.text.front() != '\n');
  // Our own cut explains a message that ends too early; otherwise it is damage.
  if (issues.fatal.empty() && !raw.truncated) {
    if (issues.malformed_multipart)
      issues.fatal = "multipart without parts";
    else if (issues.truncated)
      issues.fatal = "truncated or malformed message";
  }
  if (!issues.fatal.empty()) {
    out.error = issues.fatal;
    out.texts.clear();
    out.attachments.clear();
    return;
  }
  const char* subject = g_mime_message_get_subject(message.get());
  const char* id = g_mime_message_get_message_id(message.get());
  out.subject = subject ? subject : "";
  out.message_id = id ? id : "";
  out.parsed = true;
}

}  // namespace qpurge
