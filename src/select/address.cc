// SPDX-License-Identifier: MIT
// address.cc - internal and external address forms, IDN; see address.h.
#include "qpurge/select/address.h"

#include <cstdlib>

#include "idn_module.h"
#include "qpurge/util/escape.h"

namespace qpurge {
namespace {

// Where the local part starts and ends, as Postfix's quote_822_local finds
// them: after a source route, before the last '@'.
struct LocalPart {
  std::size_t start = 0;
  std::size_t end = 0;
};

LocalPart local_part(std::string_view a) {
  LocalPart p;
  if (!a.empty() && a.front() == '@') {
    if (std::size_t colon = a.find(':'); colon != std::string_view::npos) p.start = colon + 1;
  }
  std::size_t at = a.rfind('@');
  p.end = (at == std::string_view::npos || at < p.start) ? a.size() : at;
  return p;
}

bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '.' && i + 1 < s.size() && s[i + 1] == '.') return false;
    if (c < 0x20 || c == 0x7f || c == ' ') return false;
    switch (c) {
      case '(':
      case ')':
      case '<':
      case '>':
      case '@':
      case ',':
      case ';':
      case ':':
      case '\\':
      case '"':
      case '[':
      case ']':
        return false;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower_char(a[i]) != ascii_lower_char(b[i])) return false;
  return true;
}

bool is_null_sender_spelling(std::string_view v) { return v == "<>" || iequals(v, "MAILER-DAEMON"); }

std::string_view address_domain(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return address.substr(at + 1);
}

std::string external_address(std::string_view a) {
  if (a.empty()) return {};
  LocalPart p = local_part(a);
  std::string_view local = a.substr(p.start, p.end - p.start);
  if (is_dot_string(local)) return std::string(a);
  std::string out(a.substr(0, p.start));
  out += '"';
  for (char c : local) {
    if (c == '"' || c == '\\' || c == '\r') out += '\\';
    out += c;
  }
  out += '"';
  out += a.substr(p.end);
  return out;
}

std::string internal_address(std::string_view typed) {
  LocalPart p = local_part(typed);
  std::string_view local = typed.substr(p.start, p.end - p.start);
  if (local.size() < 2 || local.front() != '"' || local.back() != '"') return std::string(typed);
  std::string inner;
  for (std::size_t i = 1; i + 1 < local.size(); ++i) {
    char c = local[i];
    if (c == '"') return std::string(typed);  // a quote inside: not one quoted-string
    if (c == '\\') {
      if (i + 2 >= local.size()) return std::string(typed);  // escapes the closing quote
      c = local[++i];
    }
    inner += c;
  }
  std::string out(typed.substr(0, p.start));
  out += inner;
  out += typed.substr(p.end);
  return out;
}

std::string domain_ascii_form(std::string_view domain) {
  bool ascii = true;
  for (char c : domain) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii) return ascii_lower(domain);
  std::string in(domain);
  if (in.find('\0') != std::string::npos) return {};
  const IdnModule& idn = module_table<IdnModule>("idn");  // throws ModuleError
  std::string out;
  if (!idn.to_ascii(in, out)) return {};
  return ascii_lower(out);
}

}  // namespace qpurge
