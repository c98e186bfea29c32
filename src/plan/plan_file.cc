// SPDX-License-Identifier: MIT
// plan_file.cc - plan files; see plan_file.h.
#include "qpurge/plan/plan_file.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "qpurge/spool/queue_id.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/json_fields.h"
#include "qpurge/util/json_writer.h"
#include "qpurge/util/sha256.h"

namespace qpurge {

namespace {

using nlohmann::json;

void write_header(JsonWriter& w, const PlanHeader& h, std::size_t messages) {
  w.field("qpurge_plan", kPlanVersion).field("created", h.created);
  w.field("host", text_escaped(h.host)).field("queue_directory", text_escaped(h.queue_directory));
  w.field("config_directory", text_escaped(h.config_directory));
  w.field("action", h.action).field("mixed", h.mixed).field("regex", h.regex).field_strings("queues", h.queues);
  w.field("decode_headers", h.decode_headers).field("body_limit", h.body_limit);
  write_exact_path(w, "archive", h.archive);
  w.field("messages", static_cast<std::uint64_t>(messages));
  if (h.has_counts) {
    const PlanCounts& c = h.counts;
    w.key("counts").begin_object().field("scanned", c.scan.messages).field("selected", c.selected);
    w.field("selected_recipients", c.selected_recipients).field("mixed_skipped", c.mixed_skipped);
    w.field("mixed_included", c.mixed_included).field("in_progress", c.scan.in_progress);
    w.field("unreadable", c.scan.unreadable + c.scan.not_regular + c.scan.bad_directories);
    w.field("undecided", c.undecided).field("reason_unknown", c.reason_unknown);
    w.field("content_cut", c.content_cut).end_object();
  }
  write_criteria_exact(w, h.criteria);
}

void write_recipient(JsonWriter& w, const PlanRecipient& r) {
  w.begin_object().field("address", text_escaped(r.address)).field("address_hex", to_hex(r.address));
  if (r.has_original)
    w.field("original_recipient", text_escaped(r.original)).field("original_recipient_hex", to_hex(r.original));
  w.field("offset", r.offset).field("matched", r.matched).field("excluded", r.excluded).end_object();
}

void write_message(JsonWriter& w, const PlanEntry& e) {
  w.begin_object().field("queue_name", e.queue).field("queue_id", e.id).field("path", e.path());
  w.field("inode", e.inode).field("file_size", e.file_size).field("arrival_time", e.arrival_time);
  w.field("message_size", e.message_size).field("forced_expire", e.forced_expire);
  w.field("sender", text_escaped(e.sender)).field("sender_hex", to_hex(e.sender)).field("mixed", e.mixed);
  w.key("recipients").begin_array();
  for (const PlanRecipient& r : e.recipients) write_recipient(w, r);
  w.end_array();
  if (e.cancel) w.field("cancel", true);
  w.end_object();
}

void read_counts(const json& j, PlanHeader& h) {
  auto it = j.find("counts");
  if (it == j.end() || it->is_null()) return;
  if (!it->is_object()) throw BadField("\"counts\" is not an object");
  PlanCounts& c = h.counts;
  c.scan.messages = get_uint(*it, "scanned");
  c.selected = get_uint(*it, "selected");
  c.selected_recipients = get_uint(*it, "selected_recipients");
  c.mixed_skipped = get_uint(*it, "mixed_skipped");
  c.mixed_included = get_uint(*it, "mixed_included");
  c.scan.in_progress = get_uint(*it, "in_progress");
  c.scan.unreadable = get_uint(*it, "unreadable");
  c.undecided = get_uint(*it, "undecided");
  c.reason_unknown = get_uint(*it, "reason_unknown");
  c.content_cut = get_uint(*it, "content_cut");
  h.has_counts = true;
}

void read_header(const json& j, PlanHeader& h) {
  h.created = get_int(j, "created");
  h.host = get_string(j, "host");
  h.queue_directory = get_string(j, "queue_directory");
  h.config_directory = get_string(j, "config_directory");
  h.action = get_string(j, "action");
  h.mixed = get_string(j, "mixed");
  h.regex = get_bool(j, "regex");
  h.queues = string_array(j, "queues", true);
  h.decode_headers = j.contains("decode_headers") && get_bool(j, "decode_headers");
  h.body_limit = j.contains("body_limit") ? get_uint(j, "body_limit") : kDefaultTextLimit;
  h.criteria = read_criteria_exact(j);
  if (j.contains("archive_hex")) h.archive = exact_string(j, "archive");
  read_counts(j, h);
}

// The message's place: its queue, its ID, and a path inside that queue.
void read_place(const json& m, PlanEntry& e) {
  e.queue = get_string(m, "queue_name");
  e.id = get_string(m, "queue_id");
  const std::string path = get_string(m, "path");
  if (!is_message_queue(e.queue) || !is_queue_id(e.id))
    throw BadField("invalid queue name or ID in plan: " + text_escaped(e.queue) + "/" + text_escaped(e.id));
  std::size_t slash = path.rfind('/');
  e.dir = slash == std::string::npos ? e.queue : path.substr(0, slash);
  // The path must be inside the message's own queue, with no way out.
  if (path != e.dir + "/" + e.id || e.dir.find("..") != std::string::npos ||
      (e.dir != e.queue && e.dir.rfind(e.queue + "/", 0) != 0))
    throw BadField("invalid path in plan: " + text_escaped(path));
}

// A message: version 1 keeps no more than what verifies it; version 2
// keeps what a dry run shows too.
PlanEntry read_message(const json& m, int version) {
  if (!m.is_object()) throw BadField("a message is not an object");
  PlanEntry e;
  read_place(m, e);
  e.inode = get_uint(m, "inode");
  e.arrival_time = get_int(m, "arrival_time");
  e.message_size = get_int(m, "message_size");
  std::string hex = get_string(m, "sender_hex");
  if (!from_hex(hex, e.sender)) throw BadField("bad sender_hex in plan");
  if (version == 1) return e;
  e.file_size = get_uint(m, "file_size");
  e.forced_expire = get_bool(m, "forced_expire");
  e.mixed = get_bool(m, "mixed");
  e.cancel = m.contains("cancel") && get_bool(m, "cancel");
  if (e.cancel && !e.mixed) throw BadField("a message to cancel recipients of is not mixed");
  const json& rcpts = field(m, "recipients");
  if (!rcpts.is_array()) throw BadField("\"recipients\" is not an array");
  for (const json& r : rcpts) {
    if (!r.is_object()) throw BadField("a recipient is not an object");
    PlanRecipient pr;
    pr.address = exact_string(r, "address");
    pr.has_original = r.contains("original_recipient_hex");
    if (pr.has_original) pr.original = exact_string(r, "original_recipient");
    pr.offset = get_uint(r, "offset");
    pr.matched = get_bool(r, "matched");
    pr.excluded = get_bool(r, "excluded");
    e.recipients.push_back(std::move(pr));
  }
  return e;
}

// Version 1: one JSON object, the messages in its "messages" array.
void load_v1(const json& j, PlanHeader& h, std::vector<PlanEntry>& entries) {
  read_header(j, h);
  const json& messages = field(j, "messages");
  if (!messages.is_array()) throw BadField("\"messages\" is not an array");
  for (const json& m : messages) entries.push_back(read_message(m, 1));
}

// Version 2: the header line, then one message a line, as many as it says.
void load_v2(const json& head, std::string_view rest, PlanHeader& h, std::vector<PlanEntry>& entries) {
  read_header(head, h);
  const std::uint64_t want = get_uint(head, "messages");
  std::size_t line = 1;
  for (std::string_view text; !rest.empty();) {
    ++line;
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) throw BadField("line " + std::to_string(line) + ": cut short (no newline)");
    text = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    try {
      entries.push_back(read_message(parse_object(text), 2));
    } catch (const BadField& e) {
      throw BadField("line " + std::to_string(line) + ": " + e.what());
    }
  }
  if (entries.size() != want)
    throw BadField("the header says " + std::to_string(want) + " messages, the file holds " +
                   std::to_string(entries.size()) + " (cut short?)");
}

}  // namespace

void write_exact_path(JsonWriter& w, const std::string& name, const std::string& path) {
  w.key(name);
  if (path.empty())
    w.null();
  else
    w.value(text_escaped(path));
  w.field(name + "_hex", to_hex(path));
}

bool criterion_by_digest(const PlanCriterion& c) {
  if (c.values.size() <= kMaxInlineValues) return false;
  for (const std::string& v : c.values)
    if (v.find('\n') != std::string::npos) return false;
  return true;
}

std::string criterion_list_name(const std::string& option) {
  std::string name = option;
  name.erase(0, name.find_first_not_of('-'));
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') ch = '_';
  return "criterion-" + name + ".list";
}

std::string criterion_list_text(const PlanCriterion& c) {
  std::string text;
  for (const std::string& v : c.values) text.append(v).append(1, '\n');
  return text;
}

std::string criterion_list_sha256(const PlanCriterion& c) {
  std::string hex;
  return sha256_hex(criterion_list_text(c), hex) ? hex : std::string();
}

void write_criteria_exact(JsonWriter& w, const std::vector<PlanCriterion>& criteria, bool digests) {
  w.key("criteria").begin_array();
  for (const PlanCriterion& c : criteria) {
    if (digests && criterion_by_digest(c)) {
      w.begin_object().field("option", text_escaped(c.option));
      w.field("count", static_cast<std::uint64_t>(c.values.size())).field("sha256", criterion_list_sha256(c));
      w.field("list", criterion_list_name(c.option)).end_object();
      continue;
    }
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

std::vector<PlanCriterion> read_criteria_exact(const nlohmann::json& holder) {
  std::vector<PlanCriterion> out;
  auto it = holder.find("criteria");
  if (it == holder.end()) return out;
  if (!it->is_array()) throw BadField("\"criteria\" is not an array");
  for (const nlohmann::json& c : *it) {
    if (!c.is_object()) throw BadField("a criterion is not an object");
    PlanCriterion pc;
    pc.option = get_string(c, "option");
    if (c.contains("sha256") && !c.contains("values_hex") && !c.contains("values")) {
      pc.count = get_uint(c, "count");
      pc.sha256 = get_string(c, "sha256");
    } else if (c.contains("values_hex")) {
      for (const std::string& h : string_array(c, "values_hex", true)) {
        std::string bytes;
        if (!from_hex(h, bytes)) throw BadField("bad \"values_hex\" in criteria");
        pc.values.push_back(std::move(bytes));
      }
    } else {
      pc.values = string_array(c, "values", false);
    }
    out.push_back(std::move(pc));
  }
  return out;
}

std::string plan_to_json(const PlanHeader& h, const std::vector<PlanEntry>& entries) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object();
    write_header(w, h, entries.size());
    w.end_object();
  }
  out += '\n';
  for (const PlanEntry& e : entries) {
    JsonWriter w(out);
    write_message(w, e);
    out += '\n';
  }
  return out;
}

bool load_plan(const std::string& text, PlanHeader& h, std::vector<PlanEntry>& entries, std::string& error) {
  h = PlanHeader{};
  entries.clear();
  try {
    const std::size_t nl = text.find('\n');
    json first = json::parse(text.substr(0, nl), nullptr, false);
    const bool v2 = first.is_object() && first.value("qpurge_plan", json()) == json(kPlanVersion);
    if (!v2) first = json::parse(text);  // version 1 is one object, on one line or pretty-printed
    if (!first.is_object() || (!v2 && first.value("qpurge_plan", json()) != json(1))) {
      error = "not a qpurge plan (version 1 or " + std::to_string(kPlanVersion) + ")";
      return false;
    }
    if (v2)
      load_v2(first, nl == std::string::npos ? std::string_view() : std::string_view(text).substr(nl + 1), h, entries);
    else
      load_v1(first, h, entries);
  } catch (const std::exception& ex) {
    error = std::string("cannot read plan: ") + ex.what();
    entries.clear();
    return false;
  }
  return true;
}

}  // namespace qpurge
