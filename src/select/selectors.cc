// SPDX-License-Identifier: MIT
// selectors.cc - the table of selector options; see selectors.h.
#include "qpurge/select/selectors.h"

#include <stdexcept>

#include "qpurge/select/content_match.h"

namespace qpurge {
namespace {

std::int64_t duration_arg(const std::string& v) {
  std::int64_t s;
  if (!parse_duration(v, s))
    throw std::invalid_argument(bare_number(v) ? kAgeUnits : "not a duration (e.g. 90m, 36h, 3d)");
  return s;
}

std::int64_t size_arg(const std::string& v) {
  std::int64_t b;
  if (!parse_size(v, b)) throw std::invalid_argument(bare_number(v) ? kSizeUnits : "not a size (e.g. 500b, 10k, 2M)");
  return b;
}

std::int64_t count_arg(const std::string& v) {
  std::int64_t n = 0;
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 9)
    throw std::invalid_argument("not a whole number from 0 to 999999999");
  for (char c : v) n = n * 10 + (c - '0');
  return n;
}

// Selectors on the envelope and the named attributes.
std::vector<SelectorSpec> envelope_specs() {
  return {
      {"sender", "ADDR", "envelope sender (MAILER-DAEMON or <> = the null sender)",
       [](const std::string& v, bool re) { return make_sender(v, re); }, true},
      {"recipient", "ADDR", "pending recipient (as the queue file holds it, after virtual alias expansion)",
       [](const std::string& v, bool re) { return make_recipient(v, re); }, true},
      {"original-recipient", "ADDR",
       "pending recipient as it was before rewriting (the original recipient Postfix keeps)",
       [](const std::string& v, bool re) { return make_original_recipient(v, re); }, true},
      {"domain", "D", "sender or pending recipient domain (.D = subdomains of D)",
       [](const std::string& v, bool) { return make_domain(v); }, true},
      {"sender-domain", "D", "sender domain", [](const std::string& v, bool) { return make_sender_domain(v); }, true},
      {"recipient-domain", "D", "pending recipient domain",
       [](const std::string& v, bool) { return make_recipient_domain(v); }, true},
      {"older-than", "AGE", "arrived at least AGE ago (90m, 36h, 3d)",
       [](const std::string& v, bool) { return make_older_than(duration_arg(v)); }, false},
      {"younger-than", "AGE", "arrived less than AGE ago",
       [](const std::string& v, bool) { return make_younger_than(duration_arg(v)); }, false},
      {"min-size", "SIZE", "message size (as postqueue -j) at least SIZE (500b, 10k, 2M; k = 1024 bytes)",
       [](const std::string& v, bool) { return make_min_size(size_arg(v)); }, false},
      {"max-size", "SIZE", "message size at most SIZE",
       [](const std::string& v, bool) { return make_max_size(size_arg(v)); }, false},
      {"reason", "REGEX", "the recipient's delay reason in the defer log matches (search, any case)",
       [](const std::string& v, bool) { return make_reason(v); }, true},
      {"sasl-user", "LOGIN", "submitted by this SASL login (exact)",
       [](const std::string& v, bool) { return make_sasl_user(v); }, true},
      {"client-address", "IP[/BITS]", "SMTP client address or CIDR block, IPv4 or IPv6",
       [](const std::string& v, bool) { return make_client_address(v); }, true},
      {"client-name", "NAME", "SMTP client host name (.NAME = subdomains)",
       [](const std::string& v, bool) { return make_client_name(v); }, true},
      {"helo", "NAME", "HELO/EHLO name (.NAME = subdomains)", [](const std::string& v, bool) { return make_helo(v); },
       true},
      {"header", "'NAME: REGEX'",
       "a message header of that name matches (headers only, never the body; raw text unless --decode-headers)",
       [](const std::string& v, bool) { return make_header(v); }, true},
  };
}

// Selectors on what the message says (content_match.h), its recipient count
// and its queue ID.
std::vector<SelectorSpec> content_specs() {
  return {
      {"subject", "REGEX", "the Subject, RFC 2047 decoded to UTF-8, matches (search, any case)",
       [](const std::string& v, bool) { return make_subject(v); }, true},
      {"body", "REGEX",
       "a text/plain or text/html part, decoded to UTF-8, matches (search, any case; never headers or attachments)",
       [](const std::string& v, bool) { return make_body(v); }, true},
      {"attachment", "GLOB", "a MIME part's file name matches the shell pattern (any case): '*.zip'",
       [](const std::string& v, bool) { return make_attachment(v); }, true},
      {"attachment-type", "TYPE", "a MIME part's type is TYPE (application/zip) or in the family (image/*)",
       [](const std::string& v, bool) { return make_attachment_type(v); }, true},
      {"message-id", "ID", "the Message-ID header is ID (angle brackets optional)",
       [](const std::string& v, bool) { return make_message_id(v); }, true},
      {"min-recipients", "N", "at least N pending recipients",
       [](const std::string& v, bool) { return make_min_recipients(count_arg(v)); }, false},
      {"max-recipients", "N", "at most N pending recipients",
       [](const std::string& v, bool) { return make_max_recipients(count_arg(v)); }, false},
      {"id", "QUEUEID", "the queue ID is this one", [](const std::string& v, bool) { return make_queue_id({v}); },
       true},
      {"ids-from", "FILE",
       "the queue ID is one listed in FILE (- = standard input; one a line, blank lines and #comments ignored)",
       [](const std::string&, bool) -> std::unique_ptr<Criterion> {
         throw std::invalid_argument("the file must be read before the matcher is made");
       },
       true},
  };
}

}  // namespace

const std::vector<SelectorSpec>& selector_specs() {
  static const std::vector<SelectorSpec> kSpecs = [] {
    std::vector<SelectorSpec> all = envelope_specs();
    for (SelectorSpec& s : content_specs()) all.push_back(s);
    return all;
  }();
  return kSpecs;
}

const SelectorSpec* find_selector(std::string_view option, bool& exclude) {
  exclude = false;
  if (option.substr(0, 2) == "--") option.remove_prefix(2);
  if (option.substr(0, 8) == "exclude-") {
    exclude = true;
    option.remove_prefix(8);
  }
  for (const SelectorSpec& s : selector_specs())
    if (option == s.name && (!exclude || s.excludable)) return &s;
  return nullptr;
}

}  // namespace qpurge
