// match.cc - criteria and the AND/OR/mixed evaluation; see match.h.
#include "qpurge/match.h"

#include <boost/regex.hpp>
#include <stdexcept>

namespace qpurge {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

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
      lower_ = to_lower(v);
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
  domain_ = to_lower(p);
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

void Matcher::add(CriterionGroup group) {
  if (!group.alternatives.empty()) group.side = group.alternatives.front()->side();
  groups_.push_back(std::move(group));
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
