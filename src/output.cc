// SPDX-License-Identifier: MIT
// output.cc - text and JSON renderings of plan entries; see output.h.
#include "qpurge/output.h"

#include <algorithm>
#include <ctime>

#include "qpurge/address.h"
#include "qpurge/escape.h"

namespace qpurge {

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
    w.end_object();
  }
  w.end_array();
  w.field("matched_recipients", static_cast<std::uint64_t>(e.matched_count())).field("mixed", e.mixed);
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
  ++senders_[e.sender.empty() ? std::string("MAILER-DAEMON") : ascii_lower(e.sender)];
  for (const auto& r : e.recipients) {
    if (!r.matched && !e.mixed) continue;  // acting on a mixed message drops them all
    std::size_t at = r.address.rfind('@');
    ++domains_[at == std::string::npos ? std::string("(no domain)")
                                       : ascii_lower(std::string_view(r.address).substr(at + 1))];
  }
}

std::string SelectionView::render(std::int64_t now, std::size_t top) const {
  if (messages_ == 0) return "";
  auto list = [top](const std::unordered_map<std::string, std::uint64_t>& m) {
    std::vector<std::pair<std::string, std::uint64_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    std::string out;
    for (std::size_t i = 0; i < v.size() && i < top; ++i) {
      out += i ? ", " : " ";
      append_text_escaped(out, v[i].first);
      out += ' ';
      out += std::to_string(v[i].second);
    }
    if (v.size() > top) out += ", ... (" + std::to_string(v.size()) + " in all)";
    return out;
  };
  std::string out = "selection: ";
  out += std::to_string(messages_);
  out += " messages, aged ";
  out += format_age(now - newest_);
  out += " to ";
  out += format_age(now - oldest_);
  out += " (arrived ";
  out += format_time(oldest_);
  out += " to ";
  out += format_time(newest_);
  out += ")\n";
  out += "top recipient domains:" + list(domains_) + "\n";
  out += "top senders:" + list(senders_) + "\n";
  return out;
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

void append_entry_text(std::string& out, const PlanEntry& e) {
  out += e.id;
  out += "  ";
  out += e.queue;
  out += "  ";
  out += format_time(e.arrival_time);
  out += "  ";
  out += std::to_string(e.message_size);
  out += "  ";
  if (e.sender.empty())
    out += "<>";
  else
    append_text_escaped(out, external_address(e.sender));
  out += "  ->";
  std::size_t shown = 0;
  for (const auto& r : e.recipients) {
    if (!r.matched) continue;
    out += shown++ ? ", " : " ";
    append_text_escaped(out, external_address(r.address));
  }
  if (e.mixed) {
    out += "  (mixed: also drops";
    shown = 0;
    for (const auto& r : e.recipients) {
      if (r.matched) continue;
      out += shown++ ? ", " : " ";
      append_text_escaped(out, external_address(r.address));
      if (r.excluded) out += " [excluded]";
    }
    out += ")";
  }
  out += "\n";
  for (const auto& line : e.explain) {
    out += "    ";
    append_text_escaped(out, line);
    out += "\n";
  }
}

}  // namespace qpurge
