// SPDX-License-Identifier: MIT
// rfc2047.cc - encoded words decoded one at a time; see rfc2047.h.
#include "rfc2047.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace qpurge::detail {
namespace {

constexpr std::size_t npos = std::string_view::npos;

struct GFree {
  void operator()(char* p) const { g_free(p); }
};

// GMime's linear white space.
bool lwsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool opens_word(std::string_view t, std::size_t i) { return i + 1 < t.size() && t[i] == '=' && t[i + 1] == '?'; }

// Where the word at `i` ends, as GMime's loose tokenizer cuts words: one
// that looks like "=?charset?X?...?=" runs to its "?=", any other to white
// space or to the next "=?", even inside a word.
std::size_t word_end(std::string_view t, std::size_t i) {
  std::size_t p = i;
  if (opens_word(t, i)) {
    p = i + 2;
    while (p < t.size() && t[p] != '?') ++p;
    if (p + 2 < t.size() && std::string_view("BbQq").find(t[p + 1]) != npos && t[p + 2] == '?') {
      const std::size_t end = t.find("?=", p + 3);
      if (end != npos) return end + 2;
    }
    p = i + 2;  // not an encoded word after all: text up to the next one
  }
  while (p < t.size() && !lwsp(t[p]) && !opens_word(t, p)) ++p;
  return p;
}

struct EncodedWord {
  std::string charset;  // as written, without an RFC 2231 language
  char encoding = 0;    // 'B' or 'Q'
  std::string_view payload;
};

// "=?charset[*language]?B|Q?payload?=", with the checks GMime makes before
// it takes a word for an encoded one.
bool parse_encoded_word(std::string_view w, EncodedWord& out) {
  if (w.size() < 7 || w.substr(0, 2) != "=?" || w.substr(w.size() - 2) != "?=") return false;
  const std::size_t q = w.find('?', 2);
  if (q == npos || q == 2 || w[2] == '*' || q + 2 >= w.size() || w[q + 2] != '?') return false;
  const char e = static_cast<char>(w[q + 1] & ~0x20);
  if (e != 'B' && e != 'Q') return false;
  if (q + 3 > w.size() - 2) return false;
  std::string_view charset = w.substr(2, q - 2);
  out.charset = std::string(charset.substr(0, charset.find('*')));
  out.encoding = e;
  out.payload = w.substr(q + 3, w.size() - 2 - (q + 3));
  return true;
}

// The bytes of one word's payload, its B or Q encoding undone on its own.
void append_payload(const EncodedWord& w, std::string& bytes) {
  const std::size_t at = bytes.size();
  if (w.payload.empty()) return;
  if (w.encoding == 'B') {
    bytes.resize(at + w.payload.size() / 4 * 3 + 3);
    gint state = 0;
    guint save = 0;
    const gsize n = g_base64_decode_step(w.payload.data(), w.payload.size(),
                                         reinterpret_cast<guchar*>(bytes.data() + at), &state, &save);
    bytes.resize(at + n);
    return;
  }
  std::string in(w.payload);
  for (char& c : in)
    if (c == '_') c = ' ';  // RFC 2047 4.2 (2): "_" is a space; "=5F" is "_"
  bytes.resize(at + in.size() + 3);
  int state = 0;
  guint32 save = 0;
  const std::size_t n =
      g_mime_encoding_quoted_decode_step(reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                                         reinterpret_cast<unsigned char*>(bytes.data() + at), &state, &save);
  bytes.resize(at + n);
}

std::string gmime_decode(const std::string& text) {
  std::unique_ptr<char, GFree> decoded(g_mime_utils_header_decode_text(nullptr, text.c_str()));
  return decoded ? std::string(decoded.get()) : text;
}

// The decoded bytes of a run of adjacent encoded words in one charset.
class Run {
 public:
  bool open() const { return charset_ != nullptr; }
  bool takes(const char* iconv_name) const { return open() && std::strcmp(iconv_name, charset_) == 0; }
  void start(const EncodedWord& w, const char* iconv_name) {
    written_ = w.charset;
    charset_ = iconv_name;
  }
  void add(const EncodedWord& w) { append_payload(w, bytes_); }
  // The run as one base64 encoded word, for GMime to convert.
  void flush(std::string& out) {
    if (!open()) return;
    std::unique_ptr<char, GFree> b64(g_base64_encode(reinterpret_cast<const guchar*>(bytes_.data()), bytes_.size()));
    out.append("=?").append(written_).append("?B?").append(b64.get()).append("?=");
    bytes_.clear();
    charset_ = nullptr;
  }

 private:
  std::string written_;
  const char* charset_ = nullptr;  // GMime's iconv name, how GMime tells charsets apart
  std::string bytes_;
};

}  // namespace

std::string decode_header_text(std::string_view t) {
  if (t.find("=?") == npos) {
    // 7-bit text with no encoded word: GMime gives it back unchanged
    // (mime_test.cc checks that on a corpus), so no call and no copy in C.
    if (std::all_of(t.begin(), t.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
      return std::string(t);
    return gmime_decode(std::string(t));
  }
  std::string out;
  out.reserve(t.size() + 16);
  Run run;
  bool after_encoded = false;
  for (std::size_t i = 0; i < t.size();) {
    const std::size_t space = i;
    while (i < t.size() && lwsp(t[i])) ++i;
    const std::string_view blank = t.substr(space, i - space);
    if (i == t.size()) {
      run.flush(out);
      out.append(blank);
      break;
    }
    const std::size_t end = word_end(t, i);
    const std::string_view word = t.substr(i, end - i);
    i = end;
    EncodedWord w;
    if (!parse_encoded_word(word, w)) {
      run.flush(out);
      out.append(blank).append(word);
      after_encoded = false;
      continue;
    }
    const char* iconv_name = g_mime_charset_iconv_name(w.charset.c_str());
    if (!after_encoded) {
      out.append(blank);  // white space between encoded words goes, elsewhere it stays
    } else if (!run.takes(iconv_name)) {
      run.flush(out);
    }
    if (!run.open()) run.start(w, iconv_name);
    run.add(w);
    after_encoded = true;
  }
  run.flush(out);
  return gmime_decode(out);
}

}  // namespace qpurge::detail
