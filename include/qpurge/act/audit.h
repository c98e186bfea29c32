// SPDX-License-Identifier: MIT
// audit.h - the record of every run that changes the queue.
//
// Before acting, qpurge appends an "intent" record (who, what command, the
// criteria, the IDs about to be handed to postsuper) to the audit log and
// syncs it; if that cannot be written, nothing is changed. After acting it
// appends the "result" record (the outcome of every ID). Both records are
// JSON Lines built by app/audit_record.h (a restore's record too); they
// share a run id (time and pid). AuditLog is the file; RealSystem opens it.
//
// A record is whole or absent: it is written with one write() of the whole
// line (O_APPEND, under an exclusive flock so two runs cannot interleave),
// then fsynced; when the write is short (a full disk, a file size limit) or
// fails, or the fsync fails, the file is truncated back to where the record
// began and append() fails, so the caller does not act. A file that does not
// end in a newline (torn by a crash or by an older qpurge) is not refused:
// the record starts on a fresh line, leaving the torn line, which no JSON
// reader takes for a record, as the evidence it is.
#ifndef QPURGE_ACT_AUDIT_H_
#define QPURGE_ACT_AUDIT_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "qpurge/util/posix_io.h"

namespace qpurge {

inline constexpr const char* kDefaultAuditLog = "/var/log/qpurge/audit.jsonl";

class AuditLog {
 public:
  // `sys`: the system calls it makes (posix_io.h), so tests can make a
  // write short or fail.
  explicit AuditLog(std::string path, const SysCalls& sys = SysCalls::real());
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  // Opens (creating the file and its directory, mode 0640/0750) for appending
  // (read-write: append() reads the last byte to find a torn line).
  bool open(std::string& error);
  // Appends one record (a newline is added when `json_line` has none) and
  // fsyncs it, or leaves the file as it was and returns false with `error`
  // naming the path and the cause ("audit log PATH: No space left on device:
  // the partial record was rolled back").
  bool append(const std::string& json_line, std::string& error);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const SysCalls* sys_;
  int fd_ = -1;
};

}  // namespace qpurge

#endif  // QPURGE_ACT_AUDIT_H_
