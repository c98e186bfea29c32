// SPDX-License-Identifier: MIT
// json_writer.h - the one JSON writer: printers, plan files, audit records
// and the shape table all write through it.
//
// It appends to a std::string and keeps track of commas itself, so no caller
// splices text into an object already written. Strings are written losslessly
// (escape.h): valid UTF-8 passes through, control characters become \uXXXX,
// and each byte that is not UTF-8 becomes the lone surrogate \uDCXX
// ("surrogateescape"). Separators are ", " and ": ", as qpurge has always
// written them.
//
// Misuse (a value where a key is due, unbalanced ends) is a bug in qpurge:
// it fails a QPURGE_CHECK (check.h), reported as an internal error.
#ifndef QPURGE_UTIL_JSON_WRITER_H_
#define QPURGE_UTIL_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qpurge {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(long long n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& null();
  // Text that is already JSON, written by this writer (a nested document).
  JsonWriter& raw(std::string_view json);

  // key(name).value(v) in one call.
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }
  JsonWriter& field_strings(std::string_view name, const std::vector<std::string>& values);

  // True when every object and array begun has been ended.
  bool complete() const { return stack_.empty(); }

 private:
  void before_value();
  std::string& out_;
  struct Level {
    bool object;
    bool empty = true;
  };
  std::vector<Level> stack_;
  bool key_pending_ = false;
};

}  // namespace qpurge

#endif  // QPURGE_UTIL_JSON_WRITER_H_
