// SPDX-License-Identifier: MIT
// json_writer.cc - the one JSON writer; see json_writer.h.
#include "qpurge/util/json_writer.h"

#include "qpurge/util/check.h"
#include "qpurge/util/escape.h"

namespace qpurge {

void JsonWriter::before_value() {
  if (key_pending_) {
    key_pending_ = false;
    return;
  }
  if (stack_.empty()) return;
  QPURGE_CHECK(!stack_.back().object);  // a value where a key is due
  if (!stack_.back().empty) out_ += ", ";
  stack_.back().empty = false;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  stack_.push_back(Level{true});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  QPURGE_CHECK(!stack_.empty() && stack_.back().object && !key_pending_);
  stack_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  stack_.push_back(Level{false});
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  QPURGE_CHECK(!stack_.empty() && !stack_.back().object);
  stack_.pop_back();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  QPURGE_CHECK(!stack_.empty() && stack_.back().object && !key_pending_);  // a key outside an object
  if (!stack_.back().empty) out_ += ", ";
  stack_.back().empty = false;
  append_json_string(out_, name);
  out_ += ": ";
  key_pending_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  append_json_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  before_value();
  out_ += std::to_string(n);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n) {
  before_value();
  out_ += std::to_string(n);
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

JsonWriter& JsonWriter::field_strings(std::string_view name, const std::vector<std::string>& values) {
  key(name);
  begin_array();
  for (const std::string& v : values) value(v);
  return end_array();
}

}  // namespace qpurge
