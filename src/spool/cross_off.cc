// SPDX-License-Identifier: MIT
// cross_off.cc - in-place recipient cross-off; see cross_off.h.
#include "qpurge/spool/cross_off.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "qpurge/spool/record.h"

namespace qpurge {

namespace {

bool record_at(ByteSource& source, std::uint64_t offset, char& type, std::string& address, std::string& error) {
  RecordReader reader;
  reader.reset(&source);
  Record r;
  if (reader.read(offset, r) != RecordStatus::kOk) {
    error = "offset " + std::to_string(offset) + ": no record there" +
            (reader.error().empty() ? std::string() : " (" + reader.error() + ")");
    return false;
  }
  type = r.type;
  address.assign(r.payload);
  return true;
}

// Whether the record at `offset` of `source` is the pending recipient
// `address`.
bool pending_recipient_at(ByteSource& source, std::uint64_t offset, std::string_view address, std::string& error) {
  char type = 0;
  std::string found;
  if (!record_at(source, offset, type, found, error)) return false;
  const std::string where = "offset " + std::to_string(offset);
  if (type != rec::kRcpt) {
    error = where + ": not a pending recipient (" + record_type_name(type) + ")";
    return false;
  }
  if (found != address) {
    error = where + ": recipient is not the one planned";
    return false;
  }
  return true;
}

// The open file `fd` as a source of its current size.
bool file_source(int fd, std::optional<FdSource>& source, std::string& error) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = std::string("fstat: ") + std::strerror(errno);
    return false;
  }
  source.emplace(fd, static_cast<std::uint64_t>(st.st_size));
  return true;
}

}  // namespace

bool recipient_record_at(int fd, std::uint64_t offset, char& type, std::string& address, std::string& error) {
  std::optional<FdSource> source;
  return file_source(fd, source, error) && record_at(*source, offset, type, address, error);
}

bool recipient_record_in(std::string_view data, std::uint64_t offset, char& type, std::string& address,
                         std::string& error) {
  MemorySource source(data);
  return record_at(source, offset, type, address, error);
}

bool cross_off(int fd, std::uint64_t offset, std::string_view address, std::string& error) {
  std::optional<FdSource> source;
  if (!file_source(fd, source, error) || !pending_recipient_at(*source, offset, address, error)) return false;
  const char done = rec::kDone;
  ssize_t n = ::pwrite(fd, &done, 1, static_cast<off_t>(offset));
  if (n != 1) {
    error = "offset " + std::to_string(offset) + ": write: " + (n < 0 ? std::strerror(errno) : "wrote nothing");
    return false;
  }
  return true;
}

bool cross_off_in(std::string& data, std::uint64_t offset, std::string_view address, std::string& error) {
  MemorySource source(data);
  if (!pending_recipient_at(source, offset, address, error)) return false;
  data[static_cast<std::size_t>(offset)] = rec::kDone;
  return true;
}

}  // namespace qpurge
