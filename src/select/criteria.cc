// SPDX-License-Identifier: MIT
// criteria.cc - the criteria, one class per selector, and the values they
// take (durations, sizes); see match.h. The AND/OR/mixed evaluation is
// match.cc.
#include <algorithm>
#include <boost/regex.hpp>
#include <charconv>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "qpurge/select/match.h"
#include "qpurge/select/mime.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/module.h"
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
// converted (when libidn2 cannot, it is compared only as it is). Undecided
// when it would need converting and the IDN module cannot be loaded.
Truth domain_matches_any_form(std::string_view domain, std::string_view pattern, std::string_view ascii,
                              bool subdomains) {
  if (domain_matches(domain, pattern, subdomains)) return Truth::kYes;
  if (!ascii.empty() && domain_matches(domain, ascii, subdomains)) return Truth::kYes;
  if (is_ascii(domain)) return Truth::kNo;
  std::string converted;
  try {
    converted = domain_ascii_form(domain);
  } catch (const ModuleError&) {
    return Truth::kUndecided;
  }
  if (converted.empty()) return Truth::kNo;
  return truth(domain_matches(converted, pattern, subdomains) ||
               (!ascii.empty() && domain_matches(converted, ascii, subdomains)));
}

// Either of two answers: yes when one is yes, else undecided when one is.
Truth either(Truth a, Truth b) {
  if (a == Truth::kYes || b == Truth::kYes) return Truth::kYes;
  if (a == Truth::kNo) return b;
  return a;
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
  Truth matches(std::string_view address) const {
    std::size_t at = address.rfind('@');
    if (!has_domain) return truth(at == std::string_view::npos && iequals(address, local));
    if (at == std::string_view::npos || !iequals(address.substr(0, at), local)) return Truth::kNo;
    return domain_matches_any_form(address.substr(at + 1), domain, ascii, false);
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
    Truth t = Truth::kNo;
    for (const ExactAddress& f : forms_) t = either(t, f.matches(address));
    return t;
  }

  bool regex() const { return regex_; }

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
  bool converts_domains() const override { return !p_.regex(); }

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
  bool converts_domains() const override { return !p_.regex(); }

 private:
  AddressPattern p_;
  bool original_;
};

class SenderDomainCriterion : public Criterion {
 public:
  explicit SenderDomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override { return d_.matches_address(s.msg.sender_str()); }
  bool converts_domains() const override { return true; }

 private:
  DomainPattern d_;
};

class RecipientDomainCriterion : public Criterion {
 public:
  explicit RecipientDomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kRecipient; }
  Truth test_recipient(const Subject& s, std::size_t i) const override {
    return d_.matches_address(s.msg.str(s.msg.recipients[i].address));
  }
  bool converts_domains() const override { return true; }

 private:
  DomainPattern d_;
};

// --domain: the sender's domain or this recipient's domain.
class DomainCriterion : public Criterion {
 public:
  explicit DomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kRecipient; }
  Truth test_message(const Subject& s) const override { return d_.matches_address(s.msg.sender_str()); }
  Truth test_recipient(const Subject& s, std::size_t i) const override {
    return either(d_.matches_address(s.msg.sender_str()), d_.matches_address(s.msg.str(s.msg.recipients[i].address)));
  }
  bool converts_domains() const override { return true; }

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

// A host name criterion on one or more attributes, compared like a domain.
class HostAttributeCriterion : public Criterion {
 public:
  HostAttributeCriterion(std::string_view name, std::vector<const char*> attrs)
      : pattern_(name), attrs_(std::move(attrs)) {}
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    Truth t = Truth::kNo;
    for (const char* name : attrs_)
      if (const Attribute* a = s.msg.attribute(name)) t = either(t, pattern_.matches_domain(s.msg.str(a->value)));
    return t;
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

Truth DomainPattern::matches_domain(std::string_view domain) const {
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
  // The unit is required: a bare number is refused (issue 24: "--older-than
  // 3" once meant three seconds, silently).
  std::int64_t scale = 0;
  for (auto [c, v] : units)
    if (c == text.back()) scale = v;
  if (scale == 0) return false;
  text.remove_suffix(1);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || n < 0) return false;
  if (n > INT64_MAX / scale) return false;
  out = n * scale;
  return true;
}

}  // namespace

bool bare_number(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

bool parse_duration(std::string_view text, std::int64_t& seconds) {
  return parse_scaled(text, seconds, {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}});
}

bool parse_size(std::string_view text, std::int64_t& bytes) {
  return parse_scaled(text, bytes,
                      {{'b', 1}, {'k', 1024}, {'K', 1024}, {'M', 1024 * 1024}, {'G', 1024LL * 1024 * 1024}});
}
}  // namespace qpurge
