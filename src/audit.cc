// audit.cc - audit log and syslog; see audit.h.
#include "qpurge/audit.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "qpurge/escape.h"

namespace qpurge {

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

bool AuditLog::open(std::string& error) {
  std::size_t slash = path_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path_.substr(0, slash);
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      error = "audit log directory " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd_ < 0) {
    error = "audit log " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool AuditLog::append(const std::string& line, std::string& error) {
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "audit log " + path_ + ": " + std::strerror(errno);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    error = "audit log " + path_ + ": fsync: " + std::strerror(errno);
    return false;
  }
  return true;
}

std::string audit_common_fields(const std::vector<std::string>& argv) {
  static const std::string run = std::to_string(std::time(nullptr)) + "." + std::to_string(::getpid());
  std::string out = "\"time\": " + std::to_string(std::time(nullptr)) + ", \"run\": \"" + run + "\"";
  struct passwd* pw = ::getpwuid(::getuid());
  out += ", \"user\": ";
  append_json_string(out, pw ? pw->pw_name : std::to_string(::getuid()));
  const char* sudo = std::getenv("SUDO_USER");
  out += ", \"sudo_user\": ";
  if (sudo) append_json_string(out, sudo);
  else out += "null";
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  out += ", \"host\": ";
  append_json_string(out, host);
  out += ", \"argv\": [";
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ", ";
    append_json_string(out, argv[i]);
  }
  out += "]";
  return out;
}

void syslog_summary(const std::string& line) {
  ::openlog("qpurge", LOG_PID, LOG_MAIL);
  ::syslog(LOG_INFO, "%s", line.c_str());
  ::closelog();
}

}  // namespace qpurge
