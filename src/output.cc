// output.cc - text and JSON renderings of plan entries; see output.h.
#include "qpurge/output.h"

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
