// SPDX-License-Identifier: MIT
// mime.cc - decoding a message with GMime 3; see mime.h. Built into the
// content module only (content_module.h).
#include "qpurge/select/mime.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "content_module.h"
#include "qpurge/util/text.h"
#include "rfc2047.h"

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
  bool empty_body = false;  // a header block alone (or blank lines after it): no structure to miss
  std::string fatal;        // the first issue that makes the message unparsable
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

// What a message without a body cannot help: there is no structure to read.
bool about_structure(GMimeParserWarning w) {
  return w == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY || w == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT ||
         w == GMIME_WARN_MALFORMED_MULTIPART || w == GMIME_WARN_TRUNCATED_MESSAGE ||
         w == GMIME_WARN_MALFORMED_MESSAGE || w == GMIME_WARN_PART_WITHOUT_CONTENT;
}

// Two different values of a header that says how a part is read (its type
// and names, its transfer encoding) leave it ambiguous; of any other header
// they do not matter here (every Subject and Message-ID is read).
bool decides_reading(const gchar* name) {
  for (const char* h : {"Content-Type", "Content-Disposition", "Content-Transfer-Encoding"})
    if (name && g_ascii_strcasecmp(name, h) == 0) return true;
  return false;
}

void on_issue(gint64, GMimeParserWarning w, const gchar* item, gpointer data) {
  Issues& issues = *static_cast<Issues*>(data);
  if (issues.empty_body && about_structure(w)) return;
  if (w == GMIME_CRIT_CONFLICTING_HEADER && !decides_reading(item)) return;
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

// g_mime_utils_header_unfold(): a value on one line (no CR, no LF) only
// loses the spaces and tabs around it (mime_test.cc checks that against
// GMime), so that is done here, without a call and a copy in C.
std::string unfolded(const char* raw) {
  const std::string_view v = raw ? raw : "";
  if (v.find_first_of("\r\n") == std::string_view::npos) return std::string(trim(v, " \t"));
  std::unique_ptr<char, GFree> u(g_mime_utils_header_unfold(raw));
  return u ? std::string(u.get()) : std::string();
}

// GMime parses Content-Type and Content-Disposition from their value RFC
// 2047 decoded as a whole, adjacent encoded words merged. When the header
// `name` of `obj` has encoded words, its value decoded one word at a time
// (rfc2047.h), for GMime to parse again the same way; else false, and
// GMime's own parse stands.
bool redecoded(GMimeObject* obj, const char* name, std::string& value) {
  GMimeHeader* h = g_mime_header_list_get_header(g_mime_object_get_header_list(obj), name);
  const char* raw = h ? g_mime_header_get_raw_value(h) : nullptr;
  if (!raw || !std::strstr(raw, "=?")) return false;
  value = detail::decode_header_text(unfolded(raw));
  return true;
}

std::string or_empty(const char* s) { return s ? s : ""; }

// A parameter of Content-Type (name=) or Content-Disposition (filename=),
// RFC 2231 undone by GMime, RFC 2047 one word at a time.
std::string type_parameter(GMimeObject* obj, const char* param) {
  std::string value;
  if (!redecoded(obj, "Content-Type", value)) return or_empty(g_mime_object_get_content_type_parameter(obj, param));
  GPtr<GMimeContentType> ct(g_mime_content_type_parse(nullptr, value.c_str()));
  return ct ? or_empty(g_mime_content_type_get_parameter(ct.get(), param)) : "";
}

std::string disposition_parameter(GMimeObject* obj, const char* param) {
  std::string value;
  if (!redecoded(obj, "Content-Disposition", value))
    return or_empty(g_mime_object_get_content_disposition_parameter(obj, param));
  GPtr<GMimeContentDisposition> cd(g_mime_content_disposition_parse(nullptr, value.c_str()));
  return cd ? or_empty(g_mime_content_disposition_get_parameter(cd.get(), param)) : "";
}

// Collects texts and attachments, depth first, in message order.
struct ContentCollector {
  MessageContent& out;
  std::size_t limit;
  bool want_text;
  std::size_t kept = 0;
  // The last leaf part seen (the one a cut of the raw content falls in),
  // and its attachment, if it is one.
  GMimeObject* last_leaf = nullptr;
  std::size_t last_attachment = std::string::npos;

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

  // A leaf part with a file name or that is not text/plain or text/html.
  void add_if_attachment(GMimeObject* obj, std::string type, bool text) {
    MessageContent::Attachment a;
    a.filename = disposition_parameter(obj, "filename");
    std::string name = type_parameter(obj, "name");
    if (a.filename.empty())
      a.filename = std::move(name);
    else if (name != a.filename)
      a.other_name = std::move(name);
    if (text && a.filename.empty()) return;
    a.type = std::move(type);
    out.attachments.push_back(std::move(a));
    last_attachment = out.attachments.size() - 1;
  }

  void walk(GMimeObject* obj) {
    if (!obj) return;
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      for (int i = 0, n = g_mime_multipart_get_count(mp); i < n; ++i) walk(g_mime_multipart_get_part(mp, i));
      return;
    }
    last_leaf = obj;
    last_attachment = std::string::npos;
    std::string type = mime_type(obj);
    const bool text = type == "text/plain" || type == "text/html";
    add_if_attachment(obj, std::move(type), text);
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner) walk(g_mime_message_get_mime_part(inner));
      return;
    }
    if (want_text && text && GMIME_IS_TEXT_PART(obj) && !out.truncated) {
      std::unique_ptr<char, GFree> decoded(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
      if (decoded) add_text(decoded.get());
    }
  }
};

// True when the last header of `obj` ended before the end of `text`: a
// line that is not its continuation starts after it.
bool last_header_complete(GMimeObject* obj, std::string_view text) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  gint64 last = -1;
  for (int i = 0, n = list ? g_mime_header_list_get_count(list) : 0; i < n; ++i)
    last = std::max(last, g_mime_header_get_offset(g_mime_header_list_get_header_at(list, i)));
  if (last < 0) return false;
  for (std::size_t nl = text.find('\n', static_cast<std::size_t>(last)); nl != std::string_view::npos;
       nl = text.find('\n', nl + 1)) {
    if (nl + 1 >= text.size()) return false;
    if (text[nl + 1] != ' ' && text[nl + 1] != '\t') return true;
  }
  return false;
}

}  // namespace

std::string detail::gmime_decode_header_value(std::string_view raw) {
  init_gmime();
  return detail::decode_header_text(unfolded(std::string(raw).c_str()));
}

namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

// The length of the header name `line` starts with, as Postfix's
// is_header() takes it (ASCII that is no control character, space or ":",
// then optional blanks, then ":"); 0 when the line is no header.
std::size_t header_name_length(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] > ' ' && line[n] < 0x7f && line[n] != ':') ++n;
  std::size_t i = n;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return n > 0 && i < line.size() && line[i] == ':' ? n : 0;
}

// The header block as Postfix reads it: it ends at the first empty line
// or at the first line that is neither a header nor the continuation of
// one (Postfix takes that line for the first of the body).
struct HeaderBlock {
  std::vector<std::string> subjects;     // raw values, continuation lines kept
  std::vector<std::string> message_ids;  // raw values
  bool mime = false;                     // a Content-Type or Content-Transfer-Encoding header
  bool clean = true;                     // ended by an empty line or by the end of the text
  std::size_t body = 0;                  // where the body starts (text.size(): no body)
  bool ended = false;                    // an empty line or a line that is no header ended it
};

HeaderBlock read_header_block(std::string_view text) {
  HeaderBlock b;
  std::string* value = nullptr;  // the header whose continuation lines follow
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.empty() || line == "\r") {
      b.body = std::min(end + 1, text.size());
      b.ended = true;
      return b;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (value) value->append("\n").append(line);
      pos = end + 1;
      continue;
    }
    const std::size_t n = header_name_length(line);
    if (n == 0) {
      b.body = pos;
      b.clean = false;
      b.ended = true;
      return b;
    }
    const std::string_view name = line.substr(0, n);
    value = nullptr;
    if (same_name(name, "Subject")) value = &b.subjects.emplace_back();
    if (same_name(name, "Message-ID")) value = &b.message_ids.emplace_back();
    if (value) value->assign(line.substr(line.find(':') + 1));
    b.mime |= same_name(name, "Content-Type") || same_name(name, "Content-Transfer-Encoding");
    pos = end + 1;
  }
  b.body = text.size();
  return b;
}

bool atext(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

// RFC 5322's dot-atom: atext, single dots between, none at either end.
bool dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '.' ? s[i + 1] == '.' : !atext(s[i])) return false;
  return true;
}

// g_mime_utils_decode_message_id(): the common "<dot-atom@dot-atom>" (blanks
// around it) is its inside, as GMime makes of it (mime_test.cc checks that
// on a corpus); anything else (comments, quoted strings, domain literals,
// no angle brackets) goes to GMime.
std::string decoded_message_id(const std::string& v) {
  const std::string_view t = trim(v, " \t");
  const std::string_view in = t.size() >= 5 && t.front() == '<' && t.back() == '>' ? t.substr(1, t.size() - 2) : "";
  const std::size_t at = in.find('@');
  if (at != std::string_view::npos && in.find('@', at + 1) == std::string_view::npos && dot_atom(in.substr(0, at)) &&
      dot_atom(in.substr(at + 1)))
    return std::string(in);
  std::unique_ptr<char, GFree> id(g_mime_utils_decode_message_id(v.c_str()));
  return id ? id.get() : "";
}

// Every Subject and Message-ID, decoded as GMime's g_mime_message_get_subject()
// and _get_message_id() would, but each encoded word on its own.
void read_header_fields(const RawContent& raw, const HeaderBlock& block, MessageContent& out) {
  for (const std::string& v : block.subjects) out.subjects.push_back(detail::decode_header_text(unfolded(v.c_str())));
  for (const std::string& v : block.message_ids) out.message_ids.push_back(decoded_message_id(v));
  if (!out.subjects.empty()) out.subject = out.subjects.front();
  if (!out.message_ids.empty()) out.message_id = out.message_ids.front();
  out.headers_truncated = raw.truncated && !block.ended;
  out.headers_parsed = true;
}

// A message that is not MIME at all: no Content-Type and no
// Content-Transfer-Encoding header, so (RFC 2045) one text/plain part in
// US-ASCII, 7bit, with no charset to convert: its text is the body as it is,
// the bytes g_mime_text_part_get_text() would hand back. Saves building a
// GMime message for the common plain mail.
void decode_plain_message(const RawContent& raw, const HeaderBlock& block, ContentNeed need, std::size_t text_limit,
                          MessageContent& out) {
  ContentCollector collector{out, text_limit, need == ContentNeed::kBody};
  if (collector.want_text) collector.add_text(std::string_view(raw.text).substr(block.body));
  out.truncated = out.truncated || raw.truncated;
  out.parts_truncated = raw.truncated && !block.ended;  // a whole header block without MIME: no parts
  out.parsed = true;
}

// What the parser said, as one verdict: empty when the message parsed.
std::string parse_failure(Issues& issues, const RawContent& raw) {
  // Our own cut explains a message that ends too early; otherwise it is damage.
  if (issues.fatal.empty() && !raw.truncated) {
    if (issues.malformed_multipart)
      issues.fatal = "multipart without parts";
    else if (issues.truncated)
      issues.fatal = "truncated or malformed message";
  }
  return issues.fatal;
}

}  // namespace

void detail::gmime_decode_content(const RawContent& raw, ContentNeed need, std::size_t text_limit,
                                  MessageContent& out) {
  out = MessageContent{};
  init_gmime();
  const HeaderBlock block = read_header_block(raw.text);
  read_header_fields(raw, block, out);
  if (need < ContentNeed::kParts) {
    out.truncated = raw.truncated;
    out.parsed = true;
    return;
  }
  if (block.clean && !block.mime) return decode_plain_message(raw, block, need, text_limit, out);
  Issues issues;
  issues.empty_body = !raw.truncated && raw.text.find_first_not_of(" \t\r\n", block.body) == std::string::npos;
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
  ContentCollector collector{out, text_limit, need == ContentNeed::kBody};
  collector.walk(g_mime_message_get_mime_part(message.get()));
  out.truncated = out.truncated || raw.truncated;
  out.parts_truncated = raw.truncated;
  // The part the cut fell in: a name or type from a header the cut fell in is not sure.
  if (raw.truncated && collector.last_attachment != std::string::npos &&
      !last_header_complete(collector.last_leaf, raw.text))
    out.attachments[collector.last_attachment].cut = true;
  out.error = parse_failure(issues, raw);
  if (!out.error.empty()) {
    out.texts.clear();
    out.attachments.clear();
    return;
  }
  out.parsed = true;
}

}  // namespace qpurge
