// SPDX-License-Identifier: MIT
// match.cc - criteria and the AND/OR/mixed evaluation; see match.h.
#include "qpurge/match.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/regex.hpp>
#include <charconv>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "qpurge/escape.h"
#include "qpurge/mime.h"
#include "qpurge/queue_id.h"
#include "regex_truth.h"

namespace qpurge {
namespace {

Truth truth(bool b) { return b ? Truth::kYes : Truth::kNo; }

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// `domain` is `pattern` (lower case), or with `subdomains` one of its
// subdomains; ASCII case-insensitive.
bool domain_matches(std::string_view domain, std::string_view pattern, bool subdomains) {
  if (!subdomains) return iequals(domain, pattern);
  if (domain.size() <= pattern.size() + 1) return false;
  std::string_view tail = domain.substr(domain.size() - pattern.size());
  return domain[domain.size() - pattern.size() - 1] == '.' && iequals(tail, pattern);
}

// The same, trying the A-label forms too: `ascii` is the pattern's A-label
// form ("" when it has none), and a stored domain with non-ASCII bytes is
// converted (when libidn2 cannot, it is compared only as it is).
bool domain_matches_any_form(std::string_view domain, std::string_view pattern, std::string_view ascii,
                             bool subdomains) {
  if (domain_matches(domain, pattern, subdomains)) return true;
  if (!ascii.empty() && domain_matches(domain, ascii, subdomains)) return true;
  if (is_ascii(domain)) return false;
  std::string converted = domain_ascii_form(domain);
  if (converted.empty()) return false;
  return domain_matches(converted, pattern, subdomains) ||
         (!ascii.empty() && domain_matches(converted, ascii, subdomains));
}

// The A-label form of a lower-case domain pattern when it differs from it.
std::string other_form(std::string_view lower) {
  std::string a = domain_ascii_form(lower);
  return a == lower ? std::string() : a;
}

// "<addr>" -> "addr"; surrounding whitespace is a usage error, not trimmed.
std::string_view strip_brackets(std::string_view v) {
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') return v.substr(1, v.size() - 2);
  return v;
}

boost::regex compile(std::string_view pattern) { return detail::compile_regex(pattern); }

// Boost.Regex throws std::runtime_error when an expression is too complex for
// the input; that is no answer, so it is kUndecided, never kNo.
Truth search(const boost::regex& re, std::string_view text) { return detail::regex_search_truth(re, text); }

Truth whole_match(const boost::regex& re, std::string_view text) {
  try {
    return truth(boost::regex_match(text.begin(), text.end(), re));
  } catch (const std::runtime_error&) {
    return Truth::kUndecided;
  }
}

// An exact address in one typed form: the local part (any case) and the
// domain (any case, U-label or A-label).
struct ExactAddress {
  explicit ExactAddress(std::string_view a) {
    std::size_t at = a.rfind('@');
    if (at == std::string_view::npos) {
      local = std::string(a);
      return;
    }
    local = std::string(a.substr(0, at));
    has_domain = true;
    domain = ascii_lower(a.substr(at + 1));
    ascii = other_form(domain);
  }
  bool matches(std::string_view address) const {
    std::size_t at = address.rfind('@');
    if (!has_domain) return at == std::string_view::npos && iequals(address, local);
    return at != std::string_view::npos && iequals(address.substr(0, at), local) &&
           domain_matches_any_form(address.substr(at + 1), domain, ascii, false);
  }
  std::string local;
  bool has_domain = false;
  std::string domain;  // lower case
  std::string ascii;   // its A-label form when different
};

class AddressPattern {
 public:
  AddressPattern(std::string_view value, bool regex, bool allow_null) {
    if (value.empty())
      throw std::invalid_argument(allow_null ? "empty address: use MAILER-DAEMON or <> for the null sender"
                                             : "empty address");
    if (allow_null && is_null_sender_spelling(value)) {
      null_ = true;
      return;
    }
    std::string_view v = strip_brackets(value);
    if (v.empty()) throw std::invalid_argument("empty address");
    for (char c : v)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        throw std::invalid_argument("control character in address");
    if (regex) {
      re_ = compile(v);
      regex_ = true;
      return;
    }
    forms_.emplace_back(v);
    if (std::string stored = internal_address(v); stored != v) forms_.emplace_back(stored);
  }
  Truth matches(std::string_view address) const {
    if (null_) return truth(address.empty());
    if (regex_) return whole_match(re_, address);
    for (const ExactAddress& f : forms_)
      if (f.matches(address)) return Truth::kYes;
    return Truth::kNo;
  }

 private:
  bool null_ = false;
  bool regex_ = false;
  std::vector<ExactAddress> forms_;  // as typed, and unquoted when that differs
  boost::regex re_;
};

class SenderCriterion : public Criterion {
 public:
  SenderCriterion(std::string_view v, bool regex) : p_(v, regex, true) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override { return p_.matches(s.msg.sender_str()); }

 private:
  AddressPattern p_;
};

class RecipientCriterion : public Criterion {
 public:
  RecipientCriterion(std::string_view v, bool regex, bool original) : p_(v, regex, false), original_(original) {}
  Side side() const override { return Side::kRecipient; }
  Truth test_recipient(const Subject& s, std::size_t i) const override {
    const Recipient& r = s.msg.recipients[i];
    // An empty O record says nothing either: the address was not rewritten.
    if (original_ && r.has_original && r.original.length > 0) return p_.matches(s.msg.str(r.original));
    return p_.matches(s.msg.str(r.address));
  }

 private:
  AddressPattern p_;
  bool original_;
};

class SenderDomainCriterion : public Criterion {
 public:
  explicit SenderDomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override { return truth(d_.matches_address(s.msg.sender_str())); }

 private:
  DomainPattern d_;
};

class RecipientDomainCriterion : public Criterion {
 public:
  explicit RecipientDomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kRecipient; }
  Truth test_recipient(const Subject& s, std::size_t i) const override {
    return truth(d_.matches_address(s.msg.str(s.msg.recipients[i].address)));
  }

 private:
  DomainPattern d_;
};

// --domain: the sender's domain or this recipient's domain.
class DomainCriterion : public Criterion {
 public:
  explicit DomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kRecipient; }
  Truth test_message(const Subject& s) const override { return truth(d_.matches_address(s.msg.sender_str())); }
  Truth test_recipient(const Subject& s, std::size_t i) const override {
    return truth(d_.matches_address(s.msg.sender_str()) || d_.matches_address(s.msg.str(s.msg.recipients[i].address)));
  }

 private:
  DomainPattern d_;
};

class AllCriterion : public Criterion {
 public:
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject&) const override { return Truth::kYes; }
};

class AgeCriterion : public Criterion {
 public:
  AgeCriterion(std::int64_t seconds, bool older) : seconds_(seconds), older_(older) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    std::int64_t age = s.now - s.msg.arrival_time;
    return truth(older_ ? age >= seconds_ : age < seconds_);
  }

 private:
  std::int64_t seconds_;
  bool older_;
};

class SizeCriterion : public Criterion {
 public:
  SizeCriterion(std::int64_t bytes, bool min) : bytes_(bytes), min_(min) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    std::int64_t size = reported_message_size(s.msg, s.file_size);
    return truth(min_ ? size >= bytes_ : size <= bytes_);
  }

 private:
  std::int64_t bytes_;
  bool min_;
};

class ReasonCriterion : public Criterion {
 public:
  explicit ReasonCriterion(std::string_view re) : re_(compile(re)) {}
  Side side() const override { return Side::kRecipient; }
  bool needs_reasons() const override { return true; }
  Truth test_recipient(const Subject& s, std::size_t i) const override {
    if (!s.reasons || i >= s.reasons->size() || (*s.reasons)[i].empty()) return Truth::kUnknown;
    return search(re_, (*s.reasons)[i]);
  }

 private:
  boost::regex re_;
};

class SaslUserCriterion : public Criterion {
 public:
  explicit SaslUserCriterion(std::string_view user) : user_(user) {
    if (user_.empty()) throw std::invalid_argument("empty SASL user name");
  }
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    const Attribute* a = s.msg.attribute("sasl_username");
    return truth(a && s.msg.str(a->value) == user_);
  }

 private:
  std::string user_;
};

class ClientAddressCriterion : public Criterion {
 public:
  explicit ClientAddressCriterion(std::string_view spec) {
    std::string text(spec);
    std::string_view prefix;
    bool has_prefix = false;
    if (std::size_t slash = text.find('/'); slash != std::string::npos) {
      prefix = spec.substr(slash + 1);
      has_prefix = true;
      text.resize(slash);
    }
    if (text.size() > 1 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (::inet_pton(AF_INET, text.c_str(), addr_) == 1) {
      len_ = 4;
    } else if (::inet_pton(AF_INET6, text.c_str(), addr_) == 1) {
      len_ = 16;
    } else {
      throw std::invalid_argument("not an IPv4 or IPv6 address or CIDR block: '" + std::string(spec) + "'");
    }
    const int max = static_cast<int>(len_ * 8);
    bits_ = max;
    if (!has_prefix) return;
    // Digits only: from_chars would take a '-', and "-1" must not mean "all".
    bool digits = !prefix.empty() && prefix.size() <= 3;
    for (char c : prefix) digits &= c >= '0' && c <= '9';
    int bits = -1;
    if (digits) std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (!digits || bits > max)
      throw std::invalid_argument("bad prefix length in '" + std::string(spec) + "': expected a number from 0 to " +
                                  std::to_string(max));
    bits_ = bits;
  }
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    for (const char* name : {"client_address", "log_client_address"}) {
      const Attribute* a = s.msg.attribute(name);
      if (a && matches(s.msg.str(a->value))) return Truth::kYes;
    }
    return Truth::kNo;
  }

 private:
  bool matches(std::string_view value) const {
    std::string v(value);
    if (v.compare(0, 5, "IPv6:") == 0) v = v.substr(5);  // log_client_address form
    unsigned char a[16];
    std::size_t len;
    if (::inet_pton(AF_INET, v.c_str(), a) == 1)
      len = 4;
    else if (::inet_pton(AF_INET6, v.c_str(), a) == 1)
      len = 16;
    else
      return false;
    if (len != len_) return false;
    int bits = bits_;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
      unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
      if ((a[i] & mask) != (addr_[i] & mask)) return false;
    }
    return true;
  }
  unsigned char addr_[16] = {0};
  std::size_t len_ = 0;
  int bits_ = 0;
};

// A host name criterion on one or more attributes, compared like a domain.
class HostAttributeCriterion : public Criterion {
 public:
  HostAttributeCriterion(std::string_view name, std::vector<const char*> attrs)
      : pattern_(name), attrs_(std::move(attrs)) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    for (const char* name : attrs_) {
      const Attribute* a = s.msg.attribute(name);
      if (a && pattern_.matches_domain(s.msg.str(a->value))) return Truth::kYes;
    }
    return Truth::kNo;
  }

 private:
  DomainPattern pattern_;
  std::vector<const char*> attrs_;
};

class HeaderCriterion : public Criterion {
 public:
  HeaderCriterion(std::string_view spec, bool decode) : decode_(decode) {
    std::size_t colon = spec.find(':');
    if (colon == std::string_view::npos || colon == 0) throw std::invalid_argument("expected 'Name: REGEX'");
    name_ = std::string(spec.substr(0, colon));
    for (char c : name_)
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) throw std::invalid_argument("bad header name");
    std::string_view re = spec.substr(colon + 1);
    while (!re.empty() && (re.front() == ' ' || re.front() == '\t')) re.remove_prefix(1);
    re_ = compile(re);
  }
  Side side() const override { return Side::kMessage; }
  bool needs_headers() const override { return true; }
  Truth test_message(const Subject& s) const override {
    bool undecided = false;
    for (const HeaderLine& h : s.msg.headers) {
      std::string_view line = s.msg.str(h.text);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      if (!iequals(name, name_)) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      Truth t = decode_ ? search(re_, decode_header_value(value)) : search(re_, value);
      if (t == Truth::kYes) return t;
      undecided |= t == Truth::kUndecided;
    }
    return undecided ? Truth::kUndecided : Truth::kNo;
  }

 private:
  std::string name_;
  boost::regex re_;
  bool decode_ = false;
};

class RecipientCountCriterion : public Criterion {
 public:
  RecipientCountCriterion(std::int64_t n, bool min) : n_(n), min_(min) {
    if (n < 0) throw std::invalid_argument("negative number of recipients");
  }
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    const auto count = static_cast<std::int64_t>(s.msg.recipients.size());
    return truth(min_ ? count >= n_ : count <= n_);
  }

 private:
  std::int64_t n_;
  bool min_;
};

class QueueIdCriterion : public Criterion {
 public:
  explicit QueueIdCriterion(const std::vector<std::string>& ids) : ids_(ids) {
    if (ids_.empty()) throw std::invalid_argument("no queue IDs");
    for (const std::string& id : ids_)
      if (!queue_id_ok(id)) throw std::invalid_argument("not a queue ID: '" + text_escaped(id) + "'");
    std::sort(ids_.begin(), ids_.end());
  }
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    return truth(std::binary_search(ids_.begin(), ids_.end(), s.id));
  }

 private:
  std::vector<std::string> ids_;
};

// What a group of alternatives (ORed) says.
struct GroupTruth {
  bool yes = false;
  bool undecided = false;                           // some alternative was, and none said yes
  UndecidedCause cause = UndecidedCause::kPattern;  // of the last undecided alternative
  bool unknown = false;
  bool plain_no() const { return !yes && !undecided && !unknown; }
  // A selector passes on yes only; an exclusion only on a plain no.
  bool passes(bool exclude) const { return exclude ? plain_no() : yes; }
};

std::string group_label(const CriterionGroup& g) {
  std::string out = g.option;
  for (std::size_t i = 0; i < g.values.size(); ++i) {
    out += i ? " | " : " ";
    out += g.values[i];
  }
  return out;
}

}  // namespace

std::int64_t reported_message_size(const Message& msg, std::uint64_t file_size) {
  return msg.has_size_record ? msg.data_size : static_cast<std::int64_t>(file_size);
}

DomainPattern::DomainPattern(std::string_view pattern) {
  std::string_view p = pattern;
  if (!p.empty() && p.front() == '.') {
    subdomains_ = true;
    p.remove_prefix(1);
  }
  if (p.empty()) throw std::invalid_argument("empty domain");
  for (char c : p) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '@' || c == '<' || c == '>' || c == ',')
      throw std::invalid_argument("not a domain name: '" + std::string(pattern) + "'");
  }
  if (p.front() == '.' || p.find("..") != std::string_view::npos)
    throw std::invalid_argument("not a domain name: '" + std::string(pattern) + "'");
  domain_ = ascii_lower(p);
  ascii_ = other_form(domain_);
}

bool DomainPattern::matches_domain(std::string_view domain) const {
  return domain_matches_any_form(domain, domain_, ascii_, subdomains_);
}

std::unique_ptr<Criterion> make_sender(std::string_view v, bool regex) {
  return std::make_unique<SenderCriterion>(v, regex);
}
std::unique_ptr<Criterion> make_recipient(std::string_view v, bool regex) {
  return std::make_unique<RecipientCriterion>(v, regex, false);
}
std::unique_ptr<Criterion> make_original_recipient(std::string_view v, bool regex) {
  return std::make_unique<RecipientCriterion>(v, regex, true);
}
std::unique_ptr<Criterion> make_sender_domain(std::string_view v) { return std::make_unique<SenderDomainCriterion>(v); }
std::unique_ptr<Criterion> make_recipient_domain(std::string_view v) {
  return std::make_unique<RecipientDomainCriterion>(v);
}
std::unique_ptr<Criterion> make_domain(std::string_view v) { return std::make_unique<DomainCriterion>(v); }
std::unique_ptr<Criterion> make_all() { return std::make_unique<AllCriterion>(); }
std::unique_ptr<Criterion> make_older_than(std::int64_t s) { return std::make_unique<AgeCriterion>(s, true); }
std::unique_ptr<Criterion> make_younger_than(std::int64_t s) { return std::make_unique<AgeCriterion>(s, false); }
std::unique_ptr<Criterion> make_min_size(std::int64_t b) { return std::make_unique<SizeCriterion>(b, true); }
std::unique_ptr<Criterion> make_max_size(std::int64_t b) { return std::make_unique<SizeCriterion>(b, false); }
std::unique_ptr<Criterion> make_reason(std::string_view re) { return std::make_unique<ReasonCriterion>(re); }
std::unique_ptr<Criterion> make_sasl_user(std::string_view u) { return std::make_unique<SaslUserCriterion>(u); }
std::unique_ptr<Criterion> make_client_address(std::string_view a) {
  return std::make_unique<ClientAddressCriterion>(a);
}
std::unique_ptr<Criterion> make_client_name(std::string_view n) {
  return std::make_unique<HostAttributeCriterion>(
      n, std::vector<const char*>{"client_name", "reverse_client_name", "log_client_name"});
}
std::unique_ptr<Criterion> make_helo(std::string_view n) {
  return std::make_unique<HostAttributeCriterion>(n, std::vector<const char*>{"helo_name", "log_helo_name"});
}
std::unique_ptr<Criterion> make_header(std::string_view spec, bool decode) {
  return std::make_unique<HeaderCriterion>(spec, decode);
}
std::unique_ptr<Criterion> make_min_recipients(std::int64_t n) {
  return std::make_unique<RecipientCountCriterion>(n, true);
}
std::unique_ptr<Criterion> make_max_recipients(std::int64_t n) {
  return std::make_unique<RecipientCountCriterion>(n, false);
}
std::unique_ptr<Criterion> make_queue_id(const std::vector<std::string>& ids) {
  return std::make_unique<QueueIdCriterion>(ids);
}

namespace {

bool parse_scaled(std::string_view text, std::int64_t& out,
                  std::initializer_list<std::pair<char, std::int64_t>> units) {
  if (text.empty()) return false;
  std::int64_t scale = 1;
  char last = text.back();
  if (last < '0' || last > '9') {
    bool known = false;
    for (auto [c, v] : units)
      if (c == last) scale = v, known = true;
    if (!known) return false;
    text.remove_suffix(1);
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || n < 0) return false;
  if (n > INT64_MAX / scale) return false;
  out = n * scale;
  return true;
}

}  // namespace

bool parse_duration(std::string_view text, std::int64_t& seconds) {
  return parse_scaled(text, seconds, {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}});
}

bool parse_size(std::string_view text, std::int64_t& bytes) {
  return parse_scaled(text, bytes, {{'k', 1024}, {'K', 1024}, {'M', 1024 * 1024}, {'G', 1024LL * 1024 * 1024}});
}

struct Matcher::GaveUp {
  std::mutex mu;
  std::vector<UndecidedCriterion> labels;
};

Matcher::Matcher() : gave_up_(std::make_unique<GaveUp>()) {}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

void Matcher::add(CriterionGroup group) {
  if (!group.alternatives.empty()) group.side = group.alternatives.front()->side();
  groups_.push_back(std::move(group));
}

bool Matcher::needs_reasons() const {
  for (const auto& g : groups_)
    for (const auto& c : g.alternatives)
      if (c->needs_reasons()) return true;
  return false;
}

bool Matcher::needs_headers() const {
  for (const auto& g : groups_)
    for (const auto& c : g.alternatives)
      if (c->needs_headers()) return true;
  return false;
}

ContentNeed Matcher::needs_content() const {
  ContentNeed need = ContentNeed::kNone;
  for (const auto& g : groups_)
    for (const auto& c : g.alternatives) need = std::max(need, c->needs_content());
  return need;
}

bool Matcher::has_recipient_side() const {
  for (const auto& g : groups_)
    if (g.side == Side::kRecipient) return true;
  return false;
}

void Matcher::note_undecided(const CriterionGroup& g, std::size_t i, UndecidedCause cause) const {
  if (!gave_up_) return;
  std::string label = i < g.values.size() ? g.option + " " + g.values[i] : group_label(g);
  std::lock_guard<std::mutex> lock(gave_up_->mu);
  for (const auto& l : gave_up_->labels)
    if (l.label == label && l.cause == cause) return;
  gave_up_->labels.push_back(UndecidedCriterion{std::move(label), cause});
}

std::vector<UndecidedCriterion> Matcher::undecided_criteria() const {
  if (!gave_up_) return {};
  std::lock_guard<std::mutex> lock(gave_up_->mu);
  return gave_up_->labels;
}

std::string_view undecided_cause_text(UndecidedCause cause) {
  switch (cause) {
    case UndecidedCause::kContent:
      return "the content of some messages could not be read or parsed as MIME (each is named above)";
    case UndecidedCause::kCut:
      return "some messages were cut at --body-limit (or at the content read limit) before anything matched";
    case UndecidedCause::kPattern:
      break;
  }
  return "the pattern gave up on some input";
}

namespace {

void combine(GroupTruth& g, Truth t) {
  g.yes |= t == Truth::kYes;
  g.undecided |= t == Truth::kUndecided;
  g.unknown |= t == Truth::kUnknown;
}

// Why `c` answered undecided for `s`: a content criterion whose content is
// missing or unparsable, or was cut; otherwise its pattern gave up.
UndecidedCause undecided_cause(const Criterion& c, const Subject& s) {
  const ContentNeed need = c.needs_content();
  if (need == ContentNeed::kNone) return UndecidedCause::kPattern;
  if (!s.content || !s.content->parsed) return UndecidedCause::kContent;
  if (need == ContentNeed::kBody ? s.content->truncated : s.content->headers_truncated) return UndecidedCause::kCut;
  return UndecidedCause::kPattern;
}

// Tests the alternatives of `g` (ORed) with `one`, up to the first yes;
// `note(i, cause)` hears of each alternative that could not decide. A yes
// outweighs an undecided or unknown alternative; what is left of those goes
// into `v`.
template <typename One, typename Note>
GroupTruth test_group(const CriterionGroup& g, const Subject& s, Verdict& v, One&& one, Note&& note) {
  GroupTruth t;
  for (std::size_t i = 0; i < g.alternatives.size() && !t.yes; ++i) {
    Truth r = one(*g.alternatives[i]);
    if (r == Truth::kUndecided) {
      t.cause = undecided_cause(*g.alternatives[i], s);
      note(i, t.cause);
    }
    combine(t, r);
  }
  if (t.yes) t.undecided = t.unknown = false;
  v.undecided |= t.undecided;
  v.reason_unknown |= t.unknown;
  return t;
}

// Why one message was undecided, for --explain.
const char* explained_cause(UndecidedCause cause) {
  switch (cause) {
    case UndecidedCause::kContent:
      return "undecided (the content could not be read or parsed as MIME)";
    case UndecidedCause::kCut:
      return "undecided (nothing matched before the cut at the limit)";
    case UndecidedCause::kPattern:
      break;
  }
  return "undecided (the pattern gave up on this input)";
}

std::string message_explanation(const CriterionGroup& g, const GroupTruth& t, bool pass) {
  std::string line = group_label(g) + ": ";
  if (t.undecided)
    line += explained_cause(t.cause);
  else if (t.unknown)
    line += "reason unknown";
  else
    line += pass ? "passed" : "failed";
  return line;
}

std::string recipient_explanation(const CriterionGroup& g, std::size_t held, std::size_t n, std::size_t undecided,
                                  std::size_t unknown) {
  std::string line =
      group_label(g) + ": passed for " + std::to_string(held) + " of " + std::to_string(n) + " recipients";
  if (undecided) line += "; undecided for " + std::to_string(undecided) + " (the pattern gave up on this input)";
  if (unknown) line += "; reason unknown for " + std::to_string(unknown);
  return line;
}

}  // namespace

bool Matcher::evaluate_message_side(const Subject& s, bool explain, Verdict& v) const {
  bool ok = true;
  for (const auto& g : groups_) {
    if (g.side != Side::kMessage) continue;
    GroupTruth t = test_group(
        g, s, v, [&](const Criterion& c) { return c.test_message(s); },
        [&](std::size_t i, UndecidedCause cause) { note_undecided(g, i, cause); });
    bool pass = t.passes(g.exclude);
    if (explain) v.explain.push_back(message_explanation(g, t, pass));
    if (!pass) {
      ok = false;
      if (!explain) return false;
    }
  }
  return ok;
}

void Matcher::evaluate_recipient_side(const Subject& s, bool explain, bool ok, Verdict& v) const {
  const std::size_t n = s.msg.recipients.size();
  if (!has_recipient_side()) {
    if (ok) {
      v.kind = VerdictKind::kSelected;
      v.matched.assign(n, true);
    }
    return;
  }
  std::vector<bool> matched(n, true), excluded(n, false);
  for (const auto& g : groups_) {
    if (g.side != Side::kRecipient) continue;
    std::size_t held = 0, undecided = 0, unknown = 0;
    for (std::size_t i = 0; i < n; ++i) {
      GroupTruth t = test_group(
          g, s, v, [&](const Criterion& c) { return c.test_recipient(s, i); },
          [&](std::size_t alternative, UndecidedCause cause) { note_undecided(g, alternative, cause); });
      undecided += t.undecided;
      unknown += t.unknown;
      if (t.passes(g.exclude)) {
        ++held;
      } else {
        matched[i] = false;
        excluded[i] = excluded[i] || g.exclude;
      }
    }
    if (explain) v.explain.push_back(recipient_explanation(g, held, n, undecided, unknown));
  }
  std::size_t count = 0;
  for (bool m : matched) count += m;
  if (!ok || count == 0) return;
  v.kind = count == n ? VerdictKind::kSelected : VerdictKind::kMixed;
  v.matched = std::move(matched);
  v.excluded = std::move(excluded);
}

Verdict Matcher::evaluate(const Subject& s, bool explain) const {
  Verdict v;
  const bool ok = evaluate_message_side(s, explain, v);
  // A failed message-side group settles the verdict; explaining goes on.
  if (ok || explain) evaluate_recipient_side(s, explain, ok, v);
  return v;
}

}  // namespace qpurge
