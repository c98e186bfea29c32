// shape.cc - qshape's table, reproduced byte for byte; see shape.h.
#include "qpurge/shape.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "qpurge/escape.h"

namespace qpurge::shape {
namespace {

const std::string kTotal = "TOTAL";

struct SkipName {
  std::string_view label, key;
};
constexpr SkipName kSkipNames[kSkipCount] = {
    {"", ""},
    {"name not a queue ID", "name"},
    {"force-expired", "forced_expire"},
    {"mode not 0700", "mode"},
    {"not a queue file", "not_queue_file"},
    {"second record not T", "second_record_not_time"},
    {"no sender", "no_sender"},
    {"no pending recipient", "no_recipients"},
    {"unreadable by qshape", "unreadable"},
};

// A column bound as Perl holds it: an exact unsigned integer while the sum
// fits in 64 bits, a double after that (printed with Perl's "%.15g").
struct PerlNumber {
  bool is_double = false;
  std::uint64_t u = 0;
  double d = 0;

  double as_double() const { return is_double ? d : static_cast<double>(u); }
  bool is_zero() const { return is_double ? d == 0 : u == 0; }
  PerlNumber plus(const PerlNumber& o) const {
    PerlNumber r;
    if (!is_double && !o.is_double && !__builtin_add_overflow(u, o.u, &r.u)) return r;
    r.is_double = true;
    r.d = as_double() + o.as_double();
    return r;
  }
  std::string str() const {
    if (!is_double) return std::to_string(u);
    if (std::isinf(d)) return d > 0 ? "Inf" : "-Inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", d);
    return buf;
  }
};

// qshape prints names raw; here control characters become '?', one byte
// for one, so the layout is the same.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

void pad_left(std::string& out, std::string_view s, std::size_t width) {
  if (s.size() < width) out.append(width - s.size(), ' ');
  out += s;
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  std::string out = std::to_string(n);
  out += ' ';
  out += n == 1 ? one : many;
  return out;
}

// "40s", "25m", "3h 5m", "3d 4h".
std::string age_text(std::int64_t s) {
  if (s < 0) s = 0;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

}  // namespace

std::string_view skip_label(Skip s) { return kSkipNames[static_cast<int>(s)].label; }
std::string_view skip_key(Skip s) { return kSkipNames[static_cast<int>(s)].key; }

Skip qshape_skip_reason(std::uint32_t st_mode, char first_record_type, char second_record_type,
                        bool has_sender, std::size_t pending_recipients) {
  if ((st_mode & S_IFMT) != 0 && !S_ISREG(st_mode)) return Skip::kMode;
  const std::uint32_t m = st_mode & 0733;
  if (m != 0700) return m == 0710 ? Skip::kForcedExpire : Skip::kMode;
  switch (first_record_type) {
    case 'C':
      if (second_record_type != 'T') return Skip::kSecondRecordNotTime;
      break;
    case 'S':
      break;
    case 'F':
      if (second_record_type != 'S') return Skip::kNotQueueFile;
      break;
    default:
      return Skip::kNotQueueFile;
  }
  if (!has_sender) return Skip::kNoSender;
  if (pending_recipients == 0) return Skip::kNoRecipients;
  return Skip::kNone;
}

bool qshape_reads_name(std::string_view name) {
  const std::size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  // Perl's '$' also matches before a final newline.
  if (!name.empty() && name.back() == '\n') name.remove_suffix(1);
  if (name.size() < 6) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

std::string normalise_domain(std::string_view address) {
  std::string a(address);
  for (char& c : a)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (a.empty()) return "MAILER-DAEMON";  // nothing below changes it

  // Through the last '@': the last one on the line of the first '@' (Perl's
  // '.' does not match a newline), from the start of that line.
  if (const std::size_t first = a.find('@'); first != std::string::npos) {
    const std::size_t nl_before = first == 0 ? std::string::npos : a.rfind('\n', first - 1);
    const std::size_t line_start = nl_before == std::string::npos ? 0 : nl_before + 1;
    const std::size_t line_end = a.find('\n', first);
    const std::size_t last = a.rfind('@', line_end == std::string::npos ? line_end : line_end - 1);
    a.erase(line_start, last + 1 - line_start);
  }

  std::string c;  // each ".." once, left to right
  c.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    c.push_back(a[i]);
    if (a[i] == '.' && i + 1 < a.size() && a[i + 1] == '.') ++i;
  }

  // One leading and one trailing dot, keeping at least one character. The
  // part worked on is the last line, before a final newline if there is one.
  std::size_t end = c.size();
  if (end > 0 && c[end - 1] == '\n') --end;
  if (end == 0) return c;
  const std::size_t nl = c.rfind('\n', end - 1);
  const std::size_t start = nl == std::string::npos ? 0 : nl + 1;
  std::size_t b = start, e = end;
  if (e - b >= 2 && c[b] == '.') ++b;
  if (e - b >= 2 && c[e - 1] == '.') --e;
  if (b == start && e == end) return c;
  return c.substr(0, start) + c.substr(b, e - b) + c.substr(end);
}

bool strip_first_label(std::string& d) {
  const std::size_t label = (!d.empty() && d[0] == '.') ? 1 : 0;
  const std::size_t dot = d.find('.', label);
  if (dot == std::string::npos || dot == label) return false;
  // A further dot is needed, and no newline before it.
  const std::size_t next = d.find('.', dot + 1);
  if (next == std::string::npos) return false;
  const std::size_t nl = d.find('\n', dot + 1);
  if (nl != std::string::npos && nl < next) return false;
  d = "." + d.substr(dot + 1);
  return true;
}

Table::Table(const Options& options) : opt_(options) {
  if (opt_.buckets <= 0) opt_.buckets = 10;
  if (opt_.bucket_minutes <= 0) opt_.bucket_minutes = 5;
  if (opt_.min_subdomains <= 0) opt_.min_subdomains = 5;
  if (opt_.width <= 80) opt_.width = 80;
  if (opt_.buckets > kMaxBuckets)
    throw std::invalid_argument("qshape table: more than " + std::to_string(kMaxBuckets) +
                                " buckets: " + std::to_string(opt_.buckets));
  if (opt_.width > kMaxWidth)
    throw std::invalid_argument("qshape table: width over " + std::to_string(kMaxWidth) + ": " +
                                std::to_string(opt_.width));
  total_.counts.assign(static_cast<std::size_t>(opt_.buckets) + 1, 0);
}

int Table::bucket(std::int64_t arrival_time) const {
  std::int64_t diff;
  const double age = __builtin_sub_overflow(opt_.now, arrival_time, &diff)
                         ? static_cast<double>(opt_.now) - static_cast<double>(arrival_time)
                         : static_cast<double>(diff);
  const double m = age / (60.0 * opt_.bucket_minutes);
  if (m < 1) return 1;
  const double b = opt_.linear ? std::trunc(m + 1) : 2 + std::trunc(std::log(m) / std::log(2.0));
  return b < opt_.buckets ? static_cast<int>(b) : opt_.buckets;
}

Table::Entry& Table::entry(const std::string& domain) {
  Entry& e = entries_[domain];
  if (e.counts.empty()) e.counts.assign(static_cast<std::size_t>(opt_.buckets) + 1, 0);
  return e;
}

void Table::count(std::size_t b, std::string d) {
  ++total_.counts[0];
  ++total_.counts[b];
  bool child_was_new = false;
  do {
    Entry& e = entry(d);
    const bool was_new = ++e.counts[0] == 1;
    ++e.counts[b];
    if (child_was_new) ++e.children;
    child_was_new = was_new;
  } while (opt_.parents && strip_first_label(d));
}

void Table::add(std::int64_t arrival_time, std::string_view sender,
                const std::vector<std::string_view>& recipients, Skip skip) {
  if (skip == Skip::kNone && recipients.empty()) skip = Skip::kNoRecipients;
  if (messages_ == 0 || arrival_time < oldest_) oldest_ = arrival_time;
  if (messages_ == 0 || arrival_time > newest_) newest_ = arrival_time;
  ++messages_;

  const bool shown = skip == Skip::kNone;
  if (skip == Skip::kNotQueueFile && opt_.senders) {
    // qshape's reader gives such a file back as one undefined value, taken
    // for a message with no recipients and an undefined sender and arrival
    // time: in sender mode, the null sender at time 0.
    ++null_senders_;
    count(static_cast<std::size_t>(bucket(0)), "MAILER-DAEMON");
  } else if (!shown) {
    ++skipped_[static_cast<int>(skip)];
  }
  const std::size_t b = shown ? static_cast<std::size_t>(bucket(arrival_time)) : 0;
  auto one = [&](std::string_view address) {
    std::string d = normalise_domain(address);
    ++addresses_;
    ++all_domains_[d];
    if (shown) count(b, std::move(d));
  };
  if (opt_.senders) {
    one(sender);
  } else {
    for (std::string_view r : recipients) one(r);
  }
}

void Table::add(std::int64_t arrival_time, std::string_view sender,
                const std::vector<std::string>& recipients, Skip skip) {
  add(arrival_time, sender, std::vector<std::string_view>(recipients.begin(), recipients.end()),
      skip);
}

void Table::add(std::int64_t arrival_time, std::string_view sender,
                std::initializer_list<std::string_view> recipients, Skip skip) {
  add(arrival_time, sender, std::vector<std::string_view>(recipients), skip);
}

std::vector<std::string> Table::columns() const {
  std::vector<std::string> heads;
  PerlNumber t;
  PerlNumber tick;
  tick.u = static_cast<std::uint64_t>(opt_.bucket_minutes);
  bool last = false;
  for (int i = 0; i <= opt_.buckets;) {
    heads.push_back(i == 0 ? std::string("T") : t.str() + (last ? "+" : ""));
    if (++i < opt_.buckets) {
      t = t.plus(!t.is_zero() && !opt_.linear ? t : tick);
    } else {
      last = true;
    }
  }
  return heads;
}

std::vector<std::pair<const std::string*, const Table::Entry*>> Table::ordered() const {
  std::vector<std::pair<const std::string*, const Entry*>> v;
  v.reserve(entries_.size() + 1);
  v.emplace_back(&kTotal, &total_);
  const auto min = static_cast<std::uint64_t>(opt_.min_subdomains);
  for (const auto& [name, e] : entries_) {
    if (!name.empty() && name[0] == '.' && e.children < min) continue;
    v.emplace_back(&name, &e);
  }
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
    if (x.second->counts[0] != y.second->counts[0])
      return x.second->counts[0] > y.second->counts[0];
    if (x.first->size() != y.first->size()) return x.first->size() < y.first->size();
    return *x.first < *y.first;  // qshape: Perl's hash order, i.e. none
  });
  return v;
}

std::vector<Row> Table::rows() const {
  std::vector<Row> out;
  for (const auto& [name, e] : ordered()) out.push_back({*name, e->counts});
  return out;
}

std::string Table::render_text(bool with_note) const {
  const std::vector<std::string> heads = columns();
  std::vector<std::size_t> widths;
  long dw = opt_.width;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    std::size_t l = std::max(std::to_string(total_.counts[i]).size(), heads[i].size());
    l = l > 2 ? l + 1 : 3;
    widths.push_back(l);
    dw -= static_cast<long>(l);
  }
  const std::size_t name_width = static_cast<std::size_t>(std::max(dw, 18L));

  std::string out;
  auto line = [&](std::string_view name, auto&& cell) {
    if (name.size() > name_width) {
      const std::size_t keep = name[0] == '.' ? name_width - 2 : name_width - 1;
      out += name[0] == '.' ? ".+" : "+";
      out += printable(name.substr(name.size() - keep));
    } else {
      pad_left(out, printable(name), name_width);
    }
    for (std::size_t i = 0; i < widths.size(); ++i) pad_left(out, cell(i), widths[i]);
    out += '\n';
  };
  line("", [&](std::size_t i) { return heads[i]; });
  for (const auto& [name, e] : ordered())
    line(*name, [&](std::size_t i) { return std::to_string(e->counts[i]); });
  if (with_note) {
    if (std::string n = note(); !n.empty()) out += "\n" + n + "\n";
  }
  return out;
}

std::uint64_t Table::not_shown() const {
  std::uint64_t n = 0;
  for (std::uint64_t c : skipped_) n += c;
  return n;
}

std::uint64_t Table::not_shown(Skip reason) const { return skipped_[static_cast<int>(reason)]; }

std::string Table::note() const {
  std::string out;
  if (const std::uint64_t n = not_shown(); n > 0) {
    out = plural(n, "message", "messages") + " not shown by qshape: ";
    bool first = true;
    for (int i = 1; i < kSkipCount; ++i) {
      if (skipped_[i] == 0) continue;
      if (!first) out += ", ";
      first = false;
      out += std::to_string(skipped_[i]) + " ";
      out += skip_label(static_cast<Skip>(i));
    }
  }
  if (null_senders_ > 0) {
    if (!out.empty()) out += "; ";
    out += std::to_string(null_senders_) + " " + std::string(skip_label(Skip::kNotQueueFile)) +
           ", counted by qshape as MAILER-DAEMON from 1970";
  }
  return out.empty() ? out : "(" + out + ")";
}

void Table::append_json(std::string& out) const {
  out += "{\"kind\": ";
  out += opt_.senders ? "\"sender\"" : "\"recipient\"";
  out += ", \"reference_time\": " + std::to_string(opt_.now);
  out += ", \"buckets\": " + std::to_string(opt_.buckets);
  out += ", \"bucket_minutes\": " + std::to_string(opt_.bucket_minutes);
  out += ", \"linear\": ";
  out += opt_.linear ? "true" : "false";
  out += ", \"parents\": ";
  out += opt_.parents ? "true" : "false";
  out += ", \"min_subdomains\": " + std::to_string(opt_.min_subdomains);
  out += ", \"columns\": [";
  const std::vector<std::string> heads = columns();
  for (std::size_t i = 0; i < heads.size(); ++i) {
    if (i) out += ", ";
    append_json_string(out, heads[i]);
  }
  out += "], \"rows\": [";
  bool first = true;
  for (const auto& [name, e] : ordered()) {
    if (!first) out += ", ";
    first = false;
    out += "{\"domain\": ";
    append_json_string(out, *name);
    out += ", \"counts\": [";
    for (std::size_t i = 0; i < e->counts.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(e->counts[i]);
    }
    out += "]}";
  }
  out += "], \"not_shown_by_qshape\": {";
  first = true;
  for (int i = 1; i < kSkipCount; ++i) {
    if (skipped_[i] == 0) continue;
    if (!first) out += ", ";
    first = false;
    append_json_string(out, skip_key(static_cast<Skip>(i)));
    out += ": " + std::to_string(skipped_[i]);
  }
  out += "}, \"counted_as_null_sender_by_qshape\": " + std::to_string(null_senders_) + "}";
}

Summary Table::summary(std::size_t top) const {
  Summary s;
  s.messages = messages_;
  s.not_shown = not_shown();
  s.addresses = addresses_;
  s.oldest_arrival = oldest_;
  s.newest_arrival = newest_;
  std::vector<std::pair<const std::string*, std::uint64_t>> v;
  v.reserve(all_domains_.size());
  for (const auto& [name, n] : all_domains_) v.emplace_back(&name, n);
  const std::size_t n = std::min(top, v.size());
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(),
                    [](const auto& x, const auto& y) {
                      if (x.second != y.second) return x.second > y.second;
                      if (x.first->size() != y.first->size())
                        return x.first->size() < y.first->size();
                      return *x.first < *y.first;
                    });
  for (std::size_t i = 0; i < n; ++i) s.top_domains.emplace_back(*v[i].first, v[i].second);
  return s;
}

std::string Table::render_summary(std::size_t top) const {
  const Summary s = summary(top);
  if (s.messages == 0) return "";
  std::string out = plural(s.messages, "message", "messages");
  if (s.not_shown) out += " (" + std::to_string(s.not_shown) + " not shown by qshape)";
  out += ", " + plural(s.addresses, opt_.senders ? "sender" : "recipient",
                       opt_.senders ? "senders" : "recipients");
  const std::string young = age_text(opt_.now - s.newest_arrival);
  const std::string old = age_text(opt_.now - s.oldest_arrival);
  out += young == old ? ", age " + old : ", ages " + young + " to " + old;
  out += "\n";
  if (!s.top_domains.empty()) {
    out += opt_.senders ? "top sender domains: " : "top recipient domains: ";
    for (std::size_t i = 0; i < s.top_domains.size(); ++i) {
      if (i) out += ", ";
      append_text_escaped(out, s.top_domains[i].first);
      out += " " + std::to_string(s.top_domains[i].second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace qpurge::shape
