// SPDX-License-Identifier: MIT
// output.cc - text and JSON renderings of plan entries; see output.h.
#include "qpurge/report/output.h"

#include <algorithm>
#include <ctime>

#include "qpurge/select/address.h"
#include "qpurge/util/escape.h"

namespace qpurge {

constexpr std::size_t kColumns = 80;  // what a line of the listing and the digest fits in

std::string format_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  struct tm tm;
  char buf[32];
  if (!localtime_r(&tt, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm)) return std::to_string(t);
  return buf;
}

namespace {

// --detail: what the message says, decoded (null when it could not be).
void write_content_fields(JsonWriter& w, const PlanEntry& e) {
  if (!e.has_content) {
    w.key("subject").null();
    w.key("message_id").null();
    w.key("attachments").null();
    return;
  }
  w.field("subject", e.subject).field("message_id", e.message_id);
  w.key("attachments").begin_array();
  for (const auto& a : e.attachments) w.begin_object().field("filename", a.filename).field("type", a.type).end_object();
  w.end_array();
}

}  // namespace

void write_entry_fields(JsonWriter& w, const PlanEntry& e, bool detail) {
  w.field("queue_name", e.queue).field("queue_id", e.id);
  w.field("arrival_time", e.arrival_time).field("message_size", e.message_size);
  w.field("forced_expire", e.forced_expire).field("sender", external_address(e.sender));
  w.key("recipients").begin_array();
  for (const PlanRecipient& r : e.recipients) {
    w.begin_object().field("address", external_address(r.address));
    if (r.has_original) w.field("original_recipient", external_address(r.original));
    w.field("offset", r.offset).field("matched", r.matched);
    if (r.excluded) w.field("excluded", true);
    if (detail) w.field("delay_reason", r.reason);
    w.end_object();
  }
  w.end_array();
  w.field("matched_recipients", static_cast<std::uint64_t>(e.matched_count())).field("mixed", e.mixed);
  if (e.cancel) w.field("cancel", true);
  w.field("inode", e.inode).field("file_size", e.file_size).field("path", e.path());
  if (detail) {
    for (auto [name, list] : {std::pair{"done_recipients", &e.done}, std::pair{"canceled_recipients", &e.canceled}}) {
      w.key(name).begin_array();
      for (const PlanRecipient& r : *list)
        w.begin_object().field("address", external_address(r.address)).field("offset", r.offset).end_object();
      w.end_array();
    }
    if (!e.redirect_to.empty()) w.field("redirect_to", e.redirect_to);
    w.key("attributes").begin_object();
    for (const auto& [name, value] : e.attributes) w.field(name, value);
    w.end_object();
    write_content_fields(w, e);
  }
  if (!e.explain.empty()) w.field_strings("explain", e.explain);
}

void append_entry_json(std::string& out, const PlanEntry& e, bool detail) {
  JsonWriter w(out);
  w.begin_object();
  write_entry_fields(w, e, detail);
  w.end_object();
  out += '\n';
}

std::string format_age(std::int64_t s) {
  if (s < 0) s = 0;
  if (s >= 86400) return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
  if (s >= 3600) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

void SelectionView::add(const PlanEntry& e) {
  if (messages_ == 0 || e.arrival_time < oldest_) oldest_ = e.arrival_time;
  if (messages_ == 0 || e.arrival_time > newest_) newest_ = e.arrival_time;
  ++messages_;
  ++senders_[e.sender.empty() ? std::string("<>") : ascii_lower(e.sender)];  // as the listing spells it
  for (const auto& r : e.recipients) {
    if (!r.matched && (!e.mixed || e.cancel)) continue;  // acting on a mixed message drops them all
    std::size_t at = r.address.rfind('@');
    ++domains_[at == std::string::npos ? std::string("(no domain)")
                                       : ascii_lower(std::string_view(r.address).substr(at + 1))];
  }
}

// Each line within 80 columns: the top lists keep as many as fit.
std::string SelectionView::render(std::int64_t now, std::size_t top) const {
  if (messages_ == 0) return "";
  auto list = [top](const std::string& title, const std::unordered_map<std::string, std::uint64_t>& m) {
    std::vector<std::pair<std::string, std::uint64_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    const std::string all = " (" + std::to_string(v.size()) + " in all)";
    std::string out = title;
    std::size_t i = 0;
    for (; i < v.size() && i < top; ++i) {
      std::string one = (i ? ", " : " ");
      append_text_escaped(one, v[i].first);
      one += ' ' + std::to_string(v[i].second);
      if (i > 0 && out.size() + one.size() + 5 + all.size() > kColumns) break;
      out += one;
    }
    if (i < v.size()) out += ", ..." + all;
    return out + "\n";
  };
  std::string out = "selection: " + std::to_string(messages_) + (messages_ == 1 ? " message" : " messages") +
                    ", aged " + format_age(now - newest_) + " to " + format_age(now - oldest_) + "\n";
  out += "arrived " + format_time(oldest_) + " to " + format_time(newest_) + "\n";
  return out + list("top recipient domains:", domains_) + list("top senders:", senders_);
}

void write_result_fields(JsonWriter& w, const IdResult& r) {
  w.field("queue_name", r.queue).field("queue_id", r.id).field("result", outcome_name(r.outcome));
  if (!r.detail.empty()) w.field("detail", r.detail);
}

void append_result_json(std::string& out, const IdResult& r) {
  JsonWriter w(out);
  w.begin_object();
  write_result_fields(w, r);
  w.end_object();
}

namespace {

// "    -> a@x, b@y (+58 more)": as many as fit in 80 columns, then how many
// more; with `all`, one a line, every one.
void append_addresses(std::string& out, const std::string& lead, const std::vector<const PlanRecipient*>& list,
                      bool all) {
  if (list.empty()) return;
  std::string line = lead;
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string a;
    append_text_escaped(a, external_address(list[i]->address));
    if (list[i]->excluded) a += " [excluded]";
    if (all && !list[i]->reason.empty()) {
      a += "  (";
      append_text_escaped(a, list[i]->reason);
      a += ")";
    }
    if (all) {
      out += (i ? std::string(lead.size(), ' ') : lead) + a + "\n";
      continue;
    }
    const std::string more = i + 1 < list.size() ? " (+" + std::to_string(list.size() - i - 1) + " more)" : "";
    if (i > 0 && line.size() + 2 + a.size() + more.size() > kColumns) {
      line += " (+" + std::to_string(list.size() - i) + " more)";
      break;
    }
    line += (i ? ", " : "") + a;
  }
  if (!all) out += line + "\n";
}

std::string padded(std::string s, std::size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

// The columns: ID, queue, age, size, sender (the widths of both below).
std::string columns(const std::string& id, const std::string& queue, const std::string& age, const std::string& size) {
  return padded(id, 12, false) + " " + padded(queue, 8, false) + " " + padded(age, 8, true) + " " +
         padded(size, 7, true) + "  ";
}

}  // namespace

std::string entry_text_header() { return columns("QUEUE ID", "QUEUE", "AGE", "SIZE") + "SENDER, then -> RECIPIENTS\n"; }

void append_entry_text(std::string& out, const PlanEntry& e, std::int64_t now, bool all) {
  out += columns(e.id, e.queue, format_age(now - e.arrival_time), std::to_string(e.message_size));
  if (e.sender.empty())
    out += "<>";
  else
    append_text_escaped(out, external_address(e.sender));
  out += "\n";
  std::vector<const PlanRecipient*> matched, also;
  for (const auto& r : e.recipients) (r.matched ? matched : also).push_back(&r);
  append_addresses(out, e.cancel ? "    cancels -> " : "    -> ", matched, all);
  if (e.cancel)
    append_addresses(out, "    mixed, keeps: ", also, all);
  else if (e.mixed)
    append_addresses(out, "    mixed, also drops: ", also, all);
  for (const auto& line : e.explain) {
    out += "    ";
    append_text_escaped(out, line);
    out += "\n";
  }
}

}  // namespace qpurge
