// SPDX-License-Identifier: MIT
// plan_file.cc - plan files; see plan_file.h.
#include "qpurge/plan_file.h"

#include <nlohmann/json.hpp>

#include "qpurge/escape.h"
#include "qpurge/json_writer.h"
#include "qpurge/queue_id.h"

namespace qpurge {

namespace {

void write_header(JsonWriter& w, const PlanHeader& h) {
  w.field("qpurge_plan", 1).field("created", h.created);
  w.field("host", text_escaped(h.host)).field("queue_directory", text_escaped(h.queue_directory));
  w.field("config_directory", text_escaped(h.config_directory));
  w.field("action", h.action).field("mixed", h.mixed).field("regex", h.regex).field_strings("queues", h.queues);
  w.field("decode_headers", h.decode_headers).field("body_limit", h.body_limit);
  write_criteria_exact(w, h.criteria);
}

void write_message(JsonWriter& w, const PlanEntry& e) {
  w.begin_object().field("queue_name", e.queue).field("queue_id", e.id).field("path", e.path());
  w.field("inode", e.inode).field("arrival_time", e.arrival_time).field("message_size", e.message_size);
  w.field("sender", text_escaped(e.sender)).field("sender_hex", to_hex(e.sender));
  w.key("recipients").begin_array();
  for (const PlanRecipient& r : e.recipients)
    w.begin_object().field("address", text_escaped(r.address)).field("matched", r.matched).end_object();
  w.end_array().end_object();
}

bool read_criteria(const nlohmann::json& criteria, PlanHeader& h, std::string& error) {
  for (const auto& c : criteria) {
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
  return true;
}

}  // namespace

void write_criteria_exact(JsonWriter& w, const std::vector<PlanCriterion>& criteria) {
  w.key("criteria").begin_array();
  for (const PlanCriterion& c : criteria) {
    std::vector<std::string> shown, hex;
    for (const std::string& v : c.values) {
      shown.push_back(text_escaped(v));
      hex.push_back(to_hex(v));
    }
    w.begin_object().field("option", text_escaped(c.option)).field_strings("values", shown);
    w.field_strings("values_hex", hex).end_object();
  }
  w.end_array();
}

std::string plan_to_json(const PlanHeader& h, const std::vector<PlanEntry>& entries) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  write_header(w, h);
  w.key("messages").begin_array();
  for (const PlanEntry& e : entries) write_message(w, e);
  w.end_array().end_object();
  out += '\n';
  return out;
}

bool load_plan(const std::string& text, PlanHeader& h, std::vector<PlanEntry>& entries, std::string& error) {
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
    h.decode_headers = j.value("decode_headers", false);
    h.body_limit = j.value("body_limit", static_cast<std::uint64_t>(kDefaultTextLimit));
    if (!read_criteria(j.at("criteria"), h, error)) return false;
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
