// SPDX-License-Identifier: MIT
// json_fields.h - strict reading of the JSON records qpurge writes itself
// (archive manifests, journals, plan files), with nlohmann::json: a field
// that is missing or of the wrong type throws BadField naming it, so a
// reader reports "FILE:LINE: no \"queue_id\"" and trusts nothing it did not
// check. Writing is json_writer.h's.
#ifndef QPURGE_UTIL_JSON_FIELDS_H_
#define QPURGE_UTIL_JSON_FIELDS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace qpurge {

struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One line of JSON Lines as an object; BadField "not JSON" / "not a JSON object".
nlohmann::json parse_object(std::string_view line);

const nlohmann::json& field(const nlohmann::json& j, const char* name);
std::string get_string(const nlohmann::json& j, const char* name);
std::int64_t get_int(const nlohmann::json& j, const char* name);
std::uint64_t get_uint(const nlohmann::json& j, const char* name);
bool get_bool(const nlohmann::json& j, const char* name);
// "" when absent or null.
std::string opt_string(const nlohmann::json& j, const char* name);
// The exact bytes: from NAME_hex when it is there, else NAME.
std::string exact_string(const nlohmann::json& j, const char* name);
// An array of strings; absent is empty unless `required`.
std::vector<std::string> string_array(const nlohmann::json& j, const char* name, bool required);

}  // namespace qpurge

#endif  // QPURGE_UTIL_JSON_FIELDS_H_
