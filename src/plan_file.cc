// plan_file.cc - plan files; see plan_file.h.
#include "qpurge/plan_file.h"

#include <nlohmann/json.hpp>

#include "qpurge/escape.h"
#include "qpurge/queue_id.h"

namespace qpurge {
namespace {

void field(std::string& out, const char* name, std::string_view value, bool comma = true) {
  if (comma) out += ", ";
  out += '"';
  out += name;
  out += "\": ";
  append_json_string(out, value);
}

void number(std::string& out, const char* name, long long value) {
  out += ", \"";
  out += name;
  out += "\": " + std::to_string(value);
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool from_hex(std::string_view hex, std::string& bytes) {
  auto val = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return false;
  bytes.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string plan_to_json(const PlanHeader& h, const std::vector<PlanEntry>& entries) {
  std::string out = "{\"qpurge_plan\": 1";
  number(out, "created", h.created);
  field(out, "host", text_escaped(h.host));
  field(out, "queue_directory", text_escaped(h.queue_directory));
  field(out, "config_directory", text_escaped(h.config_directory));
  field(out, "action", h.action);
  field(out, "mixed", h.mixed);
  out += ", \"regex\": ";
  out += h.regex ? "true" : "false";
  out += ", \"queues\": [";
  for (std::size_t i = 0; i < h.queues.size(); ++i) {
    if (i) out += ", ";
    append_json_string(out, h.queues[i]);
  }
  out += "],\n \"criteria\": [";
  for (std::size_t i = 0; i < h.criteria.size(); ++i) {
    const PlanCriterion& c = h.criteria[i];
    out += i ? ",\n  {" : "\n  {";
    field(out, "option", c.option, false);
    out += ", \"values\": [";
    for (std::size_t k = 0; k < c.values.size(); ++k) {
      if (k) out += ", ";
      append_json_string(out, text_escaped(c.values[k]));
    }
    out += "], \"values_hex\": [";
    for (std::size_t k = 0; k < c.values.size(); ++k) {
      if (k) out += ", ";
      append_json_string(out, to_hex(c.values[k]));
    }
    out += "]}";
  }
  out += "],\n \"messages\": [";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const PlanEntry& e = entries[i];
    out += i ? ",\n  {" : "\n  {";
    field(out, "queue_name", e.queue, false);
    field(out, "queue_id", e.id);
    field(out, "path", e.path());
    number(out, "inode", static_cast<long long>(e.inode));
    number(out, "arrival_time", e.arrival_time);
    number(out, "message_size", e.message_size);
    field(out, "sender", text_escaped(e.sender));
    field(out, "sender_hex", to_hex(e.sender));
    out += ", \"recipients\": [";
    for (std::size_t k = 0; k < e.recipients.size(); ++k) {
      if (k) out += ", ";
      out += "{";
      field(out, "address", text_escaped(e.recipients[k].address), false);
      out += ", \"matched\": ";
      out += e.recipients[k].matched ? "true" : "false";
      out += "}";
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

bool load_plan(const std::string& text, PlanHeader& h, std::vector<PlanEntry>& entries,
               std::string& error) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("qpurge_plan", 0) != 1) {
      error = "not a qpurge plan (version 1)";
      return false;
    }
    h.created = j.at("created").get<std::int64_t>();
    h.host = j.at("host").get<std::string>();
    h.queue_directory = j.at("queue_directory").get<std::string>();
    h.config_directory = j.at("config_directory").get<std::string>();
    h.action = j.at("action").get<std::string>();
    h.mixed = j.at("mixed").get<std::string>();
    h.regex = j.at("regex").get<bool>();
    h.queues = j.at("queues").get<std::vector<std::string>>();
    for (const auto& c : j.at("criteria")) {
      PlanCriterion pc;
      pc.option = c.at("option").get<std::string>();
      for (const auto& v : c.at("values_hex")) {
        std::string bytes;
        if (!from_hex(v.get<std::string>(), bytes)) {
          error = "bad hex value in criteria";
          return false;
        }
        pc.values.push_back(bytes);
      }
      h.criteria.push_back(std::move(pc));
    }
    for (const auto& m : j.at("messages")) {
      PlanEntry e;
      e.queue = m.at("queue_name").get<std::string>();
      e.id = m.at("queue_id").get<std::string>();
      std::string path = m.at("path").get<std::string>();
      if (!is_message_queue(e.queue) || !is_queue_id(e.id)) {
        error = "invalid queue name or ID in plan: " + text_escaped(e.queue) + "/" + text_escaped(e.id);
        return false;
      }
      std::size_t slash = path.rfind('/');
      e.dir = slash == std::string::npos ? e.queue : path.substr(0, slash);
      // The path must be inside the message's own queue, with no way out.
      if (path != e.dir + "/" + e.id || e.dir.find("..") != std::string::npos ||
          (e.dir != e.queue && e.dir.rfind(e.queue + "/", 0) != 0)) {
        error = "invalid path in plan: " + text_escaped(path);
        return false;
      }
      e.inode = m.at("inode").get<std::uint64_t>();
      e.arrival_time = m.at("arrival_time").get<std::int64_t>();
      e.message_size = m.at("message_size").get<std::int64_t>();
      if (!from_hex(m.at("sender_hex").get<std::string>(), e.sender)) {
        error = "bad sender_hex in plan";
        return false;
      }
      entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& ex) {
    error = std::string("cannot read plan: ") + ex.what();
    return false;
  }
  return true;
}

}  // namespace qpurge
