// output.cc - text and JSON renderings of plan entries; see output.h.
#include "qpurge/output.h"

#include <algorithm>
#include <ctime>

#include "qpurge/escape.h"

namespace qpurge {

std::string format_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  struct tm tm;
  char buf[32];
  if (!localtime_r(&tt, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
    return std::to_string(t);
  return buf;
}

void append_entry_json(std::string& out, const PlanEntry& e, bool detail) {
  out += "{\"queue_name\": ";
  append_json_string(out, e.queue);
  out += ", \"queue_id\": ";
  append_json_string(out, e.id);
  out += ", \"arrival_time\": " + std::to_string(e.arrival_time);
  out += ", \"message_size\": " + std::to_string(e.message_size);
  out += ", \"forced_expire\": ";
  out += e.forced_expire ? "true" : "false";
  out += ", \"sender\": ";
  append_json_string(out, e.sender);
  out += ", \"recipients\": [";
  for (std::size_t i = 0; i < e.recipients.size(); ++i) {
    const PlanRecipient& r = e.recipients[i];
    if (i) out += ", ";
    out += "{\"address\": ";
    append_json_string(out, r.address);
    if (r.has_original) {
      out += ", \"original_recipient\": ";
      append_json_string(out, r.original);
    }
    out += ", \"offset\": " + std::to_string(r.offset);
    out += ", \"matched\": ";
    out += r.matched ? "true" : "false";
    out += "}";
  }
  out += "], \"matched_recipients\": " + std::to_string(e.matched_count());
  out += ", \"mixed\": ";
  out += e.mixed ? "true" : "false";
  out += ", \"inode\": " + std::to_string(e.inode);
  out += ", \"file_size\": " + std::to_string(e.file_size);
  out += ", \"path\": ";
  append_json_string(out, e.path());
  if (detail) {
    for (auto [name, list] : {std::pair{"done_recipients", &e.done}, std::pair{"canceled_recipients", &e.canceled}}) {
      out += ", \"";
      out += name;
      out += "\": [";
      for (std::size_t i = 0; i < list->size(); ++i) {
        if (i) out += ", ";
        out += "{\"address\": ";
        append_json_string(out, (*list)[i].address);
        out += ", \"offset\": " + std::to_string((*list)[i].offset) + "}";
      }
      out += "]";
    }
    if (!e.redirect_to.empty()) {
      out += ", \"redirect_to\": ";
      append_json_string(out, e.redirect_to);
    }
    out += ", \"attributes\": {";
    for (std::size_t i = 0; i < e.attributes.size(); ++i) {
      if (i) out += ", ";
      append_json_string(out, e.attributes[i].first);
      out += ": ";
      append_json_string(out, e.attributes[i].second);
    }
    out += "}";
  }
  if (!e.explain.empty()) {
    out += ", \"explain\": [";
    for (std::size_t i = 0; i < e.explain.size(); ++i) {
      if (i) out += ", ";
      append_json_string(out, e.explain[i]);
    }
    out += "]";
  }
  out += "}\n";
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
    if (!r.matched) continue;
    std::size_t at = r.address.rfind('@');
    ++domains_[at == std::string::npos ? std::string("(no domain)") : ascii_lower(std::string_view(r.address).substr(at + 1))];
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
      out += " " + std::to_string(v[i].second);
    }
    if (v.size() > top) out += ", ... (" + std::to_string(v.size()) + " in all)";
    return out;
  };
  std::string out = "selection: " + std::to_string(messages_) + " messages, aged " + format_age(now - newest_) +
                    " to " + format_age(now - oldest_) + " (arrived " + format_time(oldest_) + " to " +
                    format_time(newest_) + ")\n";
  out += "top recipient domains:" + list(domains_) + "\n";
  out += "top senders:" + list(senders_) + "\n";
  return out;
}

void append_result_json(std::string& out, const IdResult& r) {
  out += "{\"queue_name\": ";
  append_json_string(out, r.queue);
  out += ", \"queue_id\": ";
  append_json_string(out, r.id);
  out += ", \"result\": \"";
  out += outcome_name(r.outcome);
  out += "\"";
  if (!r.detail.empty()) {
    out += ", \"detail\": ";
    append_json_string(out, r.detail);
  }
  out += "}";
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
  if (e.sender.empty()) out += "<>";
  else append_text_escaped(out, e.sender);
  out += "  ->";
  std::size_t shown = 0;
  for (const auto& r : e.recipients) {
    if (!r.matched) continue;
    out += shown++ ? ", " : " ";
    append_text_escaped(out, r.address);
  }
  if (e.mixed) out += "  (mixed: " + std::to_string(e.recipients.size() - e.matched_count()) + " other pending)";
  out += "\n";
  for (const auto& line : e.explain) {
    out += "    ";
    append_text_escaped(out, line);
    out += "\n";
  }
}

}  // namespace qpurge
