// SPDX-License-Identifier: MIT
// cross_off.cc - in-place recipient cross-off; see cross_off.h.
#include "qpurge/spool/cross_off.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qpurge/spool/record.h"

namespace qpurge {

bool recipient_record_at(int fd, std::uint64_t offset, char& type, std::string& address, std::string& error) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = std::string("fstat: ") + std::strerror(errno);
    return false;
  }
  FdSource source(fd, static_cast<std::uint64_t>(st.st_size));
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

bool cross_off(int fd, std::uint64_t offset, std::string_view address, std::string& error) {
  char type = 0;
  std::string found;
  if (!recipient_record_at(fd, offset, type, found, error)) return false;
  const std::string where = "offset " + std::to_string(offset);
  if (type != rec::kRcpt) {
    error = where + ": not a pending recipient (" + record_type_name(type) + ")";
    return false;
  }
  if (found != address) {
    error = where + ": recipient is not the one planned";
    return false;
  }
  const char done = rec::kDone;
  ssize_t n = ::pwrite(fd, &done, 1, static_cast<off_t>(offset));
  if (n != 1) {
    error = where + ": write: " + (n < 0 ? std::strerror(errno) : "wrote nothing");
    return false;
  }
  return true;
}

}  // namespace qpurge
