// qpurge_gen.cc - write a synthetic Postfix queue for benchmarks.
//
// Each file is written record for record as Postfix's cleanup writes a
// local submission (queue_writer.h), named like a real short queue ID whose
// inode part is the file's own inode (so postsuper, postcat -q and a
// `postfix start` accept the names as they are), with mode 0700 (complete)
// and, when the postfix user exists, its ownership, in the hashed layout
// (QUEUE/X/ID). A fraction of the messages has its recipients in
// example.com; the others go to lookalikes (notexample.com, sub.example.com,
// example.com.evil.net) and some fifty other domains. Every body and From:
// header mentions example.com, so a grep of the files selects them all.
//
// Usage: qpurge-gen --spool DIR --count N [--queue deferred] [--seed S]
//                   [--select-fraction F] [--large-every N] [--manifest FILE]
// Fails with a message and exit 2 on a bad option, 1 on a write error.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "qpurge/escape.h"
#include "qpurge/queue_writer.h"

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "qpurge-gen: %s\n", what.c_str());
  return 1;
}

const char* const kLookalikes[] = {"notexample.com", "sub.example.com", "example.com.evil.net", "example.co",
                                   "EXAMPLE.org"};

}  // namespace

int main(int argc, char** argv) {
  std::string spool, queue = "deferred", manifest;
  long count = 0, large_every = 0;
  unsigned seed = 1;
  double fraction = 0.1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "qpurge-gen: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--spool") spool = next();
    else if (a == "--count") count = std::atol(next().c_str());
    else if (a == "--queue") queue = next();
    else if (a == "--seed") seed = static_cast<unsigned>(std::atol(next().c_str()));
    else if (a == "--select-fraction") fraction = std::atof(next().c_str());
    else if (a == "--large-every") large_every = std::atol(next().c_str());
    else if (a == "--manifest") manifest = next();
    else {
      std::fprintf(stderr, "usage: qpurge-gen --spool DIR --count N [--queue Q] [--seed S] "
                           "[--select-fraction F] [--large-every N] [--manifest FILE]\n");
      return 2;
    }
  }
  if (spool.empty() || count <= 0) {
    std::fprintf(stderr, "qpurge-gen: --spool and --count are required\n");
    return 2;
  }
  uid_t uid = 0;
  gid_t gid = 0;
  if (struct passwd* pw = ::getpwnam("postfix")) uid = pw->pw_uid, gid = pw->pw_gid;
  ::mkdir(spool.c_str(), 0755);
  const std::string qdir = spool + "/" + queue;
  ::mkdir(qdir.c_str(), 0700);
  ::chown(qdir.c_str(), uid, gid);
  const char kHex[] = "0123456789ABCDEF";
  for (int h = 0; h < 16; ++h) {
    std::string d = qdir + "/" + kHex[h];
    ::mkdir(d.c_str(), 0700);
    ::chown(d.c_str(), uid, gid);
  }
  FILE* man = manifest.empty() ? nullptr : std::fopen(manifest.c_str(), "w");
  std::mt19937 rnd(seed);
  std::vector<std::string> others;
  for (int i = 0; i < 50; ++i) others.push_back("domain" + std::to_string(i) + (i % 3 ? ".net" : ".com"));
  const std::int64_t now = std::time(nullptr);
  const std::string tmp = qdir + "/qpurge-gen.tmp";
  for (long n = 0; n < count; ++n) {
    qpurge::SyntheticMessage m;
    m.arrival_time = now - static_cast<std::int64_t>(rnd() % (5 * 86400));
    m.arrival_usec = rnd() % 1000000;
    const bool selected = (rnd() % 1000000) < fraction * 1000000;
    m.sender = (rnd() % 10 == 0) ? std::string() : "sender" + std::to_string(rnd() % 5000) + "@" + others[rnd() % others.size()];
    m.fullname = "root";
    const int nrcpt = 1 + static_cast<int>(rnd() % 3);
    for (int r = 0; r < nrcpt; ++r) {
      std::string domain = selected ? "example.com" : (rnd() % 4 == 0 ? kLookalikes[rnd() % 5] : others[rnd() % others.size()]);
      m.recipients.push_back({"user" + std::to_string(rnd() % 100000) + "@" + domain, "", false});
    }
    m.header_lines = {"Received: by mx.test.invalid (Postfix, from userid 0)",
                      "\tid 0; Sun, 22 Nov 2026 11:28:37 +0000 (UTC)",
                      "Subject: message " + std::to_string(n),
                      "Message-Id: <" + std::to_string(n) + "@mx.test.invalid>",
                      "From: Example <news@example.com>"};
    m.body_lines = {"This body mentions example.com, as spam does.", ""};
    const int body = (large_every > 0 && n % large_every == large_every - 1) ? 50000 : 10;
    for (int b = 0; b < body; ++b)
      m.body_lines.push_back("Lorem ipsum dolor sit amet, consectetur adipiscing elit, example.com sed do eiusmod.");
    const std::string data = qpurge::write_queue_file(m);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0600);
    if (fd < 0) return fail(tmp + ": " + std::strerror(errno));
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return fail(tmp + ": write failed");
    struct stat st;
    ::fstat(fd, &st);
    ::fchown(fd, uid, gid);
    ::fchmod(fd, 0700);
    ::close(fd);
    char id[40];
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    std::snprintf(id, sizeof id, "%05X%lX", static_cast<unsigned>(tv.tv_usec), static_cast<unsigned long>(st.st_ino));
    const std::string path = qdir + "/" + id[0] + "/" + id;
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path + ": " + std::strerror(errno));
    if (man) {
      std::string line = "{\"queue_id\": \"" + std::string(id) + "\", \"arrival_time\": " + std::to_string(m.arrival_time) +
                         ", \"sender\": ";
      qpurge::append_json_string(line, m.sender.empty() ? "MAILER-DAEMON" : m.sender);
      line += ", \"recipients\": [";
      for (std::size_t r = 0; r < m.recipients.size(); ++r) {
        if (r) line += ", ";
        qpurge::append_json_string(line, m.recipients[r].address);
      }
      line += "], \"selected\": " + std::string(selected ? "true" : "false") + "}\n";
      std::fputs(line.c_str(), man);
    }
  }
  if (man) std::fclose(man);
  return 0;
}
