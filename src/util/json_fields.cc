// SPDX-License-Identifier: MIT
// json_fields.cc - see json_fields.h.
#include "qpurge/util/json_fields.h"

#include "qpurge/util/escape.h"

namespace qpurge {

using nlohmann::json;

json parse_object(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error&) {
    throw BadField("not JSON");
  }
  if (!j.is_object()) throw BadField("not a JSON object");
  return j;
}

const json& field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw BadField(std::string("no \"") + name + "\"");
  return *it;
}

std::string get_string(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_string()) throw BadField(std::string("\"") + name + "\" is not a string");
  return v.get<std::string>();
}

std::int64_t get_int(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_integer()) throw BadField(std::string("\"") + name + "\" is not an integer");
  return v.get<std::int64_t>();
}

std::uint64_t get_uint(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_unsigned()) throw BadField(std::string("\"") + name + "\" is not an unsigned integer");
  return v.get<std::uint64_t>();
}

bool get_bool(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_boolean()) throw BadField(std::string("\"") + name + "\" is not true or false");
  return v.get<bool>();
}

std::string opt_string(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw BadField(std::string("\"") + name + "\" is not a string");
  return it->get<std::string>();
}

std::string exact_string(const json& j, const char* name) {
  const std::string hex_name = std::string(name) + "_hex";
  auto it = j.find(hex_name);
  if (it == j.end()) return get_string(j, name);
  std::string bytes;
  if (!it->is_string() || !from_hex(it->get<std::string>(), bytes)) throw BadField("bad \"" + hex_name + "\"");
  return bytes;
}

std::vector<std::string> string_array(const json& j, const char* name, bool required) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) throw BadField(std::string("no \"") + name + "\"");
    return out;
  }
  if (!it->is_array()) throw BadField(std::string("\"") + name + "\" is not an array");
  for (const json& v : *it) {
    if (!v.is_string()) throw BadField(std::string("\"") + name + "\" holds a value that is not a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace qpurge
