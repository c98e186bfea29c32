// audit.h - the record of every run that changes the queue.
//
// Before acting, qpurge appends an "intent" record (who, what command, the
// criteria, the IDs about to be handed to postsuper) to the audit log and
// syncs it; if that cannot be written, nothing is changed. After acting it
// appends the "result" record (the outcome of every ID) and logs a one-line
// summary to syslog (facility mail, ident qpurge), as postsuper logs its own.
// Both records are JSON Lines; they share a run id (time and pid).
#ifndef QPURGE_AUDIT_H_
#define QPURGE_AUDIT_H_

#include <string>
#include <vector>

namespace qpurge {

inline constexpr const char* kDefaultAuditLog = "/var/log/qpurge/audit.jsonl";

class AuditLog {
 public:
  explicit AuditLog(std::string path) : path_(std::move(path)) {}
  ~AuditLog();
  // Opens (creating the file and its directory, mode 0640/0750) for appending.
  bool open(std::string& error);
  // Appends one line and fsyncs it.
  bool append(const std::string& json_line, std::string& error);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// Fields every record carries: time, run id, user, SUDO_USER, host, argv.
std::string audit_common_fields(const std::vector<std::string>& argv);

void syslog_summary(const std::string& line);

}  // namespace qpurge

#endif  // QPURGE_AUDIT_H_
