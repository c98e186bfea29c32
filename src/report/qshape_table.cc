// SPDX-License-Identifier: MIT
// qshape_table.cc - qshape's table, reproduced; see qshape_table.h.
#include "qpurge/report/qshape_table.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qpurge/util/escape.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {
namespace {

const std::string kTotal = "TOTAL";

// qshape prints names raw; control characters are shown as '?' here so
// they never reach a terminal (real queues do not have them in domains).
std::string printable(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

// qshape -p: s/^(?:\.)?[^.]+\.(.*\.)/.$1/ -- the parent of a.b.example.com
// is .b.example.com, of that .example.com; a TLD alone is never a parent.
bool parent(std::string& d) {
  std::size_t pos = (!d.empty() && d[0] == '.') ? 1 : 0;
  std::size_t j = d.find('.', pos);
  if (j == std::string::npos || j == pos) return false;
  std::size_t k = d.rfind('.');
  if (k == std::string::npos || k < j + 1) return false;
  d.erase(0, j);  // d[j] is the '.' the parent starts with
  return true;
}

}  // namespace

ShapeTable::ShapeTable(const ShapeOptions& options) : opt_(options) {
  if (opt_.buckets <= 0) opt_.buckets = 10;
  if (opt_.bucket_minutes <= 0) opt_.bucket_minutes = 5;
  if (opt_.min_subdomains <= 0) opt_.min_subdomains = 5;
  if (opt_.width <= 80) opt_.width = 80;
  rows_[kTotal].counts.assign(static_cast<std::size_t>(opt_.buckets) + 1, 0);
}

std::string ShapeTable::normalise(std::string_view address) {
  std::string a = ascii_lower(address);
  if (a.empty()) a = "MAILER-DAEMON";
  std::size_t at = a.rfind('@');
  if (at != std::string::npos) a.erase(0, at + 1);
  std::string collapsed;  // s/\.\././g
  for (std::size_t i = 0; i < a.size(); ++i) {
    collapsed.push_back(a[i]);
    if (a[i] == '.' && i + 1 < a.size() && a[i + 1] == '.') ++i;
  }
  a = collapsed;
  if (a.size() >= 2 && a.front() == '.') a.erase(0, 1);  // s/\.?(.+?)\.?$/$1/
  if (a.size() >= 2 && a.back() == '.') a.pop_back();
  return a;
}

int ShapeTable::bucket(std::int64_t arrival_time) const {
  double m = static_cast<double>(opt_.now - arrival_time) / (60.0 * opt_.bucket_minutes);
  if (m < 1) return 1;
  double b = opt_.linear ? std::trunc(m + 1) : 2 + std::trunc(std::log(m) / std::log(2.0));
  return b < opt_.buckets ? static_cast<int>(b) : opt_.buckets;
}

void ShapeTable::count(const std::string& key, int b, bool& was_new) {
  Row& r = rows_[key];
  if (r.counts.empty()) r.counts.assign(static_cast<std::size_t>(opt_.buckets) + 1, 0);
  bool old = ++r.counts[0] > 1;
  ++r.counts[static_cast<std::size_t>(b)];
  if (was_new) ++r.subdomains;
  was_new = !old;
}

void ShapeTable::add(std::int64_t arrival_time, std::string_view sender,
                     const std::vector<std::string_view>& recipients, const std::string& skip) {
  if (!skip.empty()) {
    ++skipped_[skip];
    return;
  }
  const int b = bucket(arrival_time);
  auto one = [&](std::string_view address) {
    Row& total = rows_[kTotal];
    ++total.counts[0];
    ++total.counts[static_cast<std::size_t>(b)];
    std::string d = normalise(address);
    bool was_new = false;
    do {
      count(d, b, was_new);
    } while (opt_.parents && parent(d));
  };
  if (opt_.senders) {
    one(sender);
  } else {
    for (std::string_view r : recipients) one(r);
  }
}

// Bucket upper bounds as qshape labels them: T 5 10 20 ... 1280 1280+.
std::vector<std::string> ShapeTable::headings() const {
  std::vector<std::string> heads;
  long t = 0;
  bool plus = false;
  for (int i = 0; i <= opt_.buckets;) {
    heads.push_back(i == 0 ? "T" : std::to_string(t) + (plus ? "+" : ""));
    if (++i < opt_.buckets)
      t += (t && !opt_.linear) ? t : opt_.bucket_minutes;
    else
      plus = true;
  }
  return heads;
}

std::vector<std::pair<const std::string*, const ShapeTable::Row*>> ShapeTable::ordered_rows() const {
  std::vector<std::pair<const std::string*, const Row*>> v;
  for (const auto& [name, row] : rows_) {
    if (!name.empty() && name[0] == '.' && row.subdomains < static_cast<std::uint64_t>(opt_.min_subdomains)) continue;
    v.emplace_back(&name, &row);
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.second->counts[0] != b.second->counts[0]) return a.second->counts[0] > b.second->counts[0];
    if (a.first->size() != b.first->size()) return a.first->size() < b.first->size();
    return *a.first < *b.first;  // qshape: Perl hash order
  });
  return v;
}

std::string ShapeTable::render_text() const {
  const std::vector<std::string> heads = headings();
  const Row& total = rows_.at(kTotal);
  std::vector<int> widths;
  int dw = opt_.width;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    int l = static_cast<int>(std::to_string(total.counts[i]).size());
    if (static_cast<int>(heads[i].size()) >= l) l = static_cast<int>(heads[i].size());
    l = l > 2 ? l + 1 : 3;
    widths.push_back(l);
    dw -= l;
  }
  if (dw < 18) dw = 18;
  auto field = [dw](const std::string& d) {
    std::string out;
    const int len = static_cast<int>(d.size());
    if (len > dw) {
      // Appended, not "+" + d.substr(): GCC 12 -O2 warns falsely (-Wrestrict,
      // GCC bug 105651) on a literal plus a temporary string.
      const std::size_t keep = static_cast<std::size_t>(d[0] == '.' ? dw - 2 : dw - 1);
      out = d[0] == '.' ? ".+" : "+";
      out.append(d, d.size() - keep, keep);
    } else {
      out = std::string(static_cast<std::size_t>(dw - len), ' ') + d;
    }
    return out;
  };
  auto cells = [&widths](const std::vector<std::string>& values) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string& v = values[i];
      if (static_cast<int>(v.size()) < widths[i]) out.append(static_cast<std::size_t>(widths[i]) - v.size(), ' ');
      out += v;
    }
    return out;
  };
  std::string out = field("") + cells(heads) + "\n";
  for (const auto& [name, row] : ordered_rows()) {
    std::vector<std::string> values;
    for (std::uint64_t c : row->counts) values.push_back(std::to_string(c));
    out += field(printable(*name)) + cells(values) + "\n";
  }
  return out;
}

std::string ShapeTable::note() const {
  std::uint64_t n = 0;
  std::string parts;
  for (const auto& [reason, count] : skipped_) {
    n += count;
    if (!parts.empty()) parts += ", ";
    parts += std::to_string(count) + " " + reason;
  }
  if (n == 0) return "";
  std::string out = "(";
  out += std::to_string(n) + (n == 1 ? " message" : " messages") + " not shown by qshape: " + parts + ")";
  return out;
}

std::string ShapeTable::render_json() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("kind", opt_.senders ? "sender" : "recipient")
      .field("bucket_minutes", opt_.bucket_minutes)
      .field("linear", opt_.linear)
      .field("reference_time", opt_.now)
      .field_strings("columns", headings());
  w.key("rows").begin_array();
  for (const auto& [name, row] : ordered_rows()) {
    w.begin_object().field("domain", *name).key("counts").begin_array();
    for (std::uint64_t c : row->counts) w.value(c);
    w.end_array().end_object();
  }
  w.end_array();
  w.key("not_shown_by_qshape").begin_object();
  for (const auto& [reason, count] : skipped_) w.field(reason, count);
  w.end_object().end_object();
  out += '\n';
  return out;
}

}  // namespace qpurge
