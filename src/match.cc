// match.cc - criteria and the AND/OR/mixed evaluation; see match.h.
#include "qpurge/match.h"

#include "qpurge/escape.h"

#include <arpa/inet.h>

#include <boost/regex.hpp>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace qpurge {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }


// "<addr>" -> "addr"; surrounding whitespace is a usage error, not trimmed.
std::string_view strip_brackets(std::string_view v) {
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') return v.substr(1, v.size() - 2);
  return v;
}

class AddressPattern {
 public:
  AddressPattern(std::string_view value, bool regex, bool allow_null) {
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
      try {
        re_ = boost::regex(std::string(v), boost::regex::perl | boost::regex::icase);
      } catch (const boost::regex_error& e) {
        throw std::invalid_argument(std::string("bad regular expression: ") + e.what());
      }
      regex_ = true;
    } else {
      lower_ = ascii_lower(v);
    }
  }
  bool matches(std::string_view address) const {
    if (null_) return address.empty();
    if (regex_) {
      try {
        return boost::regex_match(address.begin(), address.end(), re_);
      } catch (const std::runtime_error&) {  // expression too complex for this input
        return false;
      }
    }
    return iequals(address, lower_);
  }

 private:
  bool null_ = false;
  bool regex_ = false;
  std::string lower_;
  boost::regex re_;
};

class SenderCriterion : public Criterion {
 public:
  SenderCriterion(std::string_view v, bool regex) : p_(v, regex, true) {}
  Side side() const override { return Side::kMessage; }
  bool test_message(const Subject& s) const override { return p_.matches(s.msg.sender_str()); }

 private:
  AddressPattern p_;
};

class RecipientCriterion : public Criterion {
 public:
  RecipientCriterion(std::string_view v, bool regex) : p_(v, regex, false) {}
  Side side() const override { return Side::kRecipient; }
  bool test_recipient(const Subject& s, std::size_t i) const override {
    return p_.matches(s.msg.str(s.msg.recipients[i].address));
  }

 private:
  AddressPattern p_;
};

class SenderDomainCriterion : public Criterion {
 public:
  explicit SenderDomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kMessage; }
  bool test_message(const Subject& s) const override { return d_.matches_address(s.msg.sender_str()); }

 private:
  DomainPattern d_;
};

class RecipientDomainCriterion : public Criterion {
 public:
  explicit RecipientDomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kRecipient; }
  bool test_recipient(const Subject& s, std::size_t i) const override {
    return d_.matches_address(s.msg.str(s.msg.recipients[i].address));
  }

 private:
  DomainPattern d_;
};

// --domain: the sender's domain or this recipient's domain.
class DomainCriterion : public Criterion {
 public:
  explicit DomainCriterion(std::string_view v) : d_(v) {}
  Side side() const override { return Side::kRecipient; }
  bool test_message(const Subject& s) const override { return d_.matches_address(s.msg.sender_str()); }
  bool test_recipient(const Subject& s, std::size_t i) const override {
    return test_message(s) || d_.matches_address(s.msg.str(s.msg.recipients[i].address));
  }

 private:
  DomainPattern d_;
};

class AllCriterion : public Criterion {
 public:
  Side side() const override { return Side::kMessage; }
  bool test_message(const Subject&) const override { return true; }
};

boost::regex compile_search(std::string_view pattern) {
  try {
    return boost::regex(std::string(pattern), boost::regex::perl | boost::regex::icase);
  } catch (const boost::regex_error& e) {
    throw std::invalid_argument(std::string("bad regular expression: ") + e.what());
  }
}

bool search(const boost::regex& re, std::string_view text) {
  try {
    return boost::regex_search(text.begin(), text.end(), re);
  } catch (const std::runtime_error&) {
    return false;
  }
}

class AgeCriterion : public Criterion {
 public:
  AgeCriterion(std::int64_t seconds, bool older) : seconds_(seconds), older_(older) {}
  Side side() const override { return Side::kMessage; }
  bool test_message(const Subject& s) const override {
    std::int64_t age = s.now - s.msg.arrival_time;
    return older_ ? age >= seconds_ : age < seconds_;
  }

 private:
  std::int64_t seconds_;
  bool older_;
};

class SizeCriterion : public Criterion {
 public:
  SizeCriterion(std::int64_t bytes, bool min) : bytes_(bytes), min_(min) {}
  Side side() const override { return Side::kMessage; }
  bool test_message(const Subject& s) const override {
    std::int64_t size = s.msg.has_size_record ? s.msg.data_size : static_cast<std::int64_t>(s.file_size);
    return min_ ? size >= bytes_ : size <= bytes_;
  }

 private:
  std::int64_t bytes_;
  bool min_;
};

class ReasonCriterion : public Criterion {
 public:
  explicit ReasonCriterion(std::string_view re) : re_(compile_search(re)) {}
  Side side() const override { return Side::kRecipient; }
  bool needs_reasons() const override { return true; }
  bool test_recipient(const Subject& s, std::size_t i) const override {
    if (!s.reasons || i >= s.reasons->size() || (*s.reasons)[i].empty()) return false;
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
  bool test_message(const Subject& s) const override {
    const Attribute* a = s.msg.attribute("sasl_username");
    return a && s.msg.str(a->value) == user_;
  }

 private:
  std::string user_;
};

class ClientAddressCriterion : public Criterion {
 public:
  explicit ClientAddressCriterion(std::string_view spec) {
    std::string text(spec);
    int bits = -1;
    if (std::size_t slash = text.find('/'); slash != std::string::npos) {
      std::string_view b = std::string_view(text).substr(slash + 1);
      auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
      if (ec != std::errc() || p != b.data() + b.size() || b.empty())
        throw std::invalid_argument("bad prefix length");
      text.resize(slash);
    }
    if (text.size() > 1 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (::inet_pton(AF_INET, text.c_str(), addr_) == 1) {
      len_ = 4;
    } else if (::inet_pton(AF_INET6, text.c_str(), addr_) == 1) {
      len_ = 16;
    } else {
      throw std::invalid_argument("not an IPv4 or IPv6 address or CIDR block");
    }
    bits_ = bits < 0 ? static_cast<int>(len_ * 8) : bits;
    if (bits_ > static_cast<int>(len_ * 8)) throw std::invalid_argument("prefix length too long");
  }
  Side side() const override { return Side::kMessage; }
  bool test_message(const Subject& s) const override {
    for (const char* name : {"client_address", "log_client_address"}) {
      const Attribute* a = s.msg.attribute(name);
      if (a && matches(s.msg.str(a->value))) return true;
    }
    return false;
  }

 private:
  bool matches(std::string_view value) const {
    std::string v(value);
    if (v.compare(0, 5, "IPv6:") == 0) v = v.substr(5);  // log_client_address form
    unsigned char a[16];
    std::size_t len;
    if (::inet_pton(AF_INET, v.c_str(), a) == 1) len = 4;
    else if (::inet_pton(AF_INET6, v.c_str(), a) == 1) len = 16;
    else return false;
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
  bool test_message(const Subject& s) const override {
    for (const char* name : attrs_) {
      const Attribute* a = s.msg.attribute(name);
      if (a && pattern_.matches_domain(s.msg.str(a->value))) return true;
    }
    return false;
  }

 private:
  DomainPattern pattern_;
  std::vector<const char*> attrs_;
};

class HeaderCriterion : public Criterion {
 public:
  explicit HeaderCriterion(std::string_view spec) {
    std::size_t colon = spec.find(':');
    if (colon == std::string_view::npos || colon == 0)
      throw std::invalid_argument("expected 'Name: REGEX'");
    name_ = std::string(spec.substr(0, colon));
    for (char c : name_)
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
        throw std::invalid_argument("bad header name");
    std::string_view re = spec.substr(colon + 1);
    while (!re.empty() && (re.front() == ' ' || re.front() == '\t')) re.remove_prefix(1);
    re_ = compile_search(re);
  }
  Side side() const override { return Side::kMessage; }
  bool needs_headers() const override { return true; }
  bool test_message(const Subject& s) const override {
    for (const HeaderLine& h : s.msg.headers) {
      std::string_view line = s.msg.str(h.text);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      if (!iequals(name, name_)) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      if (search(re_, value)) return true;
    }
    return false;
  }

 private:
  std::string name_;
  boost::regex re_;
};

bool group_holds_message(const CriterionGroup& g, const Subject& s) {
  for (const auto& c : g.alternatives)
    if (c->test_message(s)) return true;
  return false;
}

bool group_holds_recipient(const CriterionGroup& g, const Subject& s, std::size_t i) {
  for (const auto& c : g.alternatives)
    if (c->test_recipient(s, i)) return true;
  return false;
}

std::string group_label(const CriterionGroup& g) {
  std::string out = g.option;
  for (std::size_t i = 0; i < g.values.size(); ++i) {
    out += i ? " | " : " ";
    out += g.values[i];
  }
  return out;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_null_sender_spelling(std::string_view v) {
  return v.empty() || v == "<>" || iequals(v, "MAILER-DAEMON");
}

std::string_view address_domain(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return address.substr(at + 1);
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
}

bool DomainPattern::matches_domain(std::string_view domain) const {
  if (!subdomains_) return iequals(domain, domain_);
  if (domain.size() <= domain_.size() + 1) return false;
  std::string_view tail = domain.substr(domain.size() - domain_.size());
  return domain[domain.size() - domain_.size() - 1] == '.' && iequals(tail, domain_);
}

std::unique_ptr<Criterion> make_sender(std::string_view v, bool regex) {
  return std::make_unique<SenderCriterion>(v, regex);
}
std::unique_ptr<Criterion> make_recipient(std::string_view v, bool regex) {
  return std::make_unique<RecipientCriterion>(v, regex);
}
std::unique_ptr<Criterion> make_sender_domain(std::string_view v) {
  return std::make_unique<SenderDomainCriterion>(v);
}
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
std::unique_ptr<Criterion> make_header(std::string_view spec) { return std::make_unique<HeaderCriterion>(spec); }

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

bool Matcher::has_recipient_side() const {
  for (const auto& g : groups_)
    if (g.side == Side::kRecipient) return true;
  return false;
}

Verdict Matcher::evaluate(const Subject& s, bool explain) const {
  Verdict v;
  bool ok = true;
  for (const auto& g : groups_) {
    if (g.side != Side::kMessage) continue;
    bool holds = group_holds_message(g, s);
    bool pass = g.exclude ? !holds : holds;
    if (explain)
      v.explain.push_back((g.exclude ? "exclude " : "") + group_label(g) + ": " +
                          (pass ? "passed" : "failed"));
    if (!pass) {
      ok = false;
      if (!explain) return v;
    }
  }
  const std::size_t n = s.msg.recipients.size();
  bool recipient_side = false;
  for (const auto& g : groups_) recipient_side |= g.side == Side::kRecipient;
  if (!recipient_side) {
    if (ok) {
      v.kind = VerdictKind::kSelected;
      v.matched.assign(n, true);
    }
    return v;
  }
  std::vector<bool> matched(n, true);
  for (const auto& g : groups_) {
    if (g.side != Side::kRecipient) continue;
    std::size_t held = 0;
    for (std::size_t i = 0; i < n; ++i) {
      bool holds = group_holds_recipient(g, s, i);
      bool pass = g.exclude ? !holds : holds;
      if (pass) ++held;
      if (!pass) matched[i] = false;
    }
    if (explain)
      v.explain.push_back((g.exclude ? "exclude " : "") + group_label(g) + ": passed for " +
                          std::to_string(held) + " of " + std::to_string(n) + " recipients");
  }
  std::size_t count = 0;
  for (bool m : matched) count += m;
  if (!ok || count == 0) return v;
  v.kind = count == n ? VerdictKind::kSelected : VerdictKind::kMixed;
  v.matched = std::move(matched);
  return v;
}

}  // namespace qpurge
