// SPDX-License-Identifier: MIT
// qpurge_gen.cc - qpurge-gen: write a synthetic Postfix queue for benchmarks
// and tests.
//
// Every file is what Postfix's cleanup writes for a sendmail submission,
// record for record (tests/support/queue_writer.h; checked byte for byte
// against real files of that shape), and is put where and how Postfix puts
// it:
//   - created under a temporary name in the queue directory, then renamed to
//     a short queue ID, "%05X" of the microseconds at rename time followed
//     by "%lX" of the file's own inode number (so `postfix start`, whose
//     postsuper structure check renames files whose ID does not match their
//     inode, leaves them alone);
//   - in QUEUE/X/ID for the hashed queue (deferred, hash depth 1, as
//     Postfix's default hash_queue_names), QUEUE/ID for the others;
//   - mode 0700 (complete), owned by the postfix user and group when they
//     exist (so a real instance can use the spool);
//   - in deferred, access and modification time set to the next retry time
//     (arrival plus one to twelve hours, but never before --now), as qmgr
//     does; elsewhere to the arrival time;
//   - with --defer-logs, a defer log defer/X/ID for deferred messages in the
//     format the bounce daemon appends (one entry per recipient, with the
//     offset of its R record), so postqueue -j shows a delay reason.
//
// The data: a fraction --select-fraction of the messages has all its
// recipients in example.com (one to three of them); the others go to
// lookalikes (notexample.com, sub.example.com, example.com.evil.net,
// example.co, example.org, ...) or to some fifty other domains. No envelope
// sender is ever in example.com, so `--domain example.com` selects exactly
// the messages marked "selected" in the manifest. A fraction
// --mixed-fraction of the others is mixed: its first recipient is in
// example.com, the one or two after it are not (as above), so `--domain
// example.com` skips it as mixed, or cancels that recipient with --mixed
// cancel (marked "mixed" in the manifest). Every message's From: header and
// body mention example.com, so a grep of the files selects them all. One
// message in ten has the null sender (as `sendmail -f ''`). Arrival times
// are spread evenly over --max-age seconds before --now. Every --large-every'th message
// has a body of about --large-size bytes. The same seed gives the same
// messages (not the same IDs: those come from the clock and the inodes).
//
// Usage: qpurge-gen --spool DIR --count N [options]; see usage() below.
// Output: the files; with --manifest FILE, one JSON object per message
// (queue_name, queue_id, path, arrival_time, message_size as postqueue -j
// reports it, sender with the null sender as "MAILER-DAEMON" as postqueue -j
// shows it, recipients [{"address"}], selected, mixed). On stdout: one line
// with the count and the time taken.
//
// Fails: a bad option: a message and exit 2, nothing written. A system call
// that fails: "qpurge-gen: PATH: what: errno text", exit 1; files already
// written stay (they are complete), the temporary file is removed.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/spool/record.h"
#include "qpurge/util/escape.h"
#include "support/queue_writer.h"

namespace {

constexpr char kSelectedDomain[] = "example.com";

// Names a grep for "example.com", or a careless domain match, confuses with
// the selected domain.
constexpr const char* kLookalikes[] = {
    "notexample.com", "sub.example.com",  "example.com.evil.net", "example.co",
    "example.org",    "mail.example.com", "example.community",    "myexample.com",
};

constexpr const char* kTlds[] = {".com", ".net", ".org", ".de", ".co.uk", ".io"};

constexpr const char* kReason = "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:9: Connection refused";

struct Options {
  std::string spool;
  std::string queue = "deferred";
  long count = 0;
  std::uint64_t seed = 1;
  double select_fraction = 0.1;
  double mixed_fraction = 0;  // of the messages not selected
  long large_every = 0;
  long large_size = 3 << 20;
  std::int64_t now = 0;
  std::int64_t max_age = 5 * 86400;
  std::string manifest;
  bool defer_logs = false;
  bool fixed_ids = false;  // IDs from the message number, not the clock and inode (scripts/perf-budget)
};

[[noreturn]] void usage(int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: qpurge-gen --spool DIR --count N [options]\n"
               "Writes N synthetic queue files into DIR/QUEUE, as Postfix's cleanup writes them.\n"
               "  --spool DIR            queue_directory root (created if missing)\n"
               "  --count N              messages to write\n"
               "  --queue NAME           deferred (hashed, default), hold, incoming, active\n"
               "  --seed S               random seed (default 1)\n"
               "  --select-fraction F    fraction with all recipients in example.com (default 0.1)\n"
               "  --mixed-fraction F     fraction of the others with the first of 2 or 3 recipients in\n"
               "                         example.com and the rest elsewhere (default 0)\n"
               "  --large-every N        every Nth message is large (default 0: none)\n"
               "  --large-size BYTES     body size of a large message (default 3145728)\n"
               "  --now EPOCH            the time arrival times are spread back from (default: now)\n"
               "  --max-age SECONDS      oldest arrival, before --now (default 432000, 5 days)\n"
               "  --defer-logs           write defer/X/ID logs for deferred messages\n"
               "  --fixed-ids            IDs from the message number: the same queue on every run\n"
               "  --manifest FILE        one JSON object per message written\n");
  std::exit(status);
}

[[noreturn]] void bad_option(const std::string& what) {
  std::fprintf(stderr, "qpurge-gen: %s\n", what.c_str());
  usage(2);
}

long parse_long(const std::string& opt, const std::string& v, long min) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || n < min)
    bad_option(opt + ": not a whole number >= " + std::to_string(min) + ": " + v);
  return static_cast<long>(n);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") usage(0);
    if (a == "--defer-logs" || a == "--fixed-ids") {
      (a == "--defer-logs" ? o.defer_logs : o.fixed_ids) = true;
      continue;
    }
    if (i + 1 >= argc) bad_option(a.rfind("--", 0) == 0 ? a + " needs a value" : "unexpected argument: " + a);
    const std::string v = argv[++i];
    if (a == "--spool")
      o.spool = v;
    else if (a == "--queue")
      o.queue = v;
    else if (a == "--count")
      o.count = parse_long(a, v, 1);
    else if (a == "--seed")
      o.seed = static_cast<std::uint64_t>(parse_long(a, v, 0));
    else if (a == "--large-every")
      o.large_every = parse_long(a, v, 0);
    else if (a == "--large-size")
      o.large_size = parse_long(a, v, 0);
    else if (a == "--now")
      o.now = parse_long(a, v, 1);
    else if (a == "--max-age")
      o.max_age = parse_long(a, v, 0);
    else if (a == "--manifest")
      o.manifest = v;
    else if (a == "--select-fraction" || a == "--mixed-fraction") {
      double& f = a == "--select-fraction" ? o.select_fraction : o.mixed_fraction;
      char* end = nullptr;
      f = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(f >= 0 && f <= 1)) bad_option(a + ": not a number from 0 to 1: " + v);
    } else {
      bad_option("unknown option: " + a);
    }
  }
  if (o.spool.empty()) bad_option("--spool is required");
  if (o.count <= 0) bad_option("--count is required");
  if (o.queue != "deferred" && o.queue != "hold" && o.queue != "incoming" && o.queue != "active")
    bad_option("--queue: deferred, hold, incoming or active: " + o.queue);
  if (o.now == 0) o.now = std::time(nullptr);
  return o;
}

// A system call failed: say where and why, and stop.
[[noreturn]] void die(const std::string& path, const char* what) {
  const int e = errno;
  std::fprintf(stderr, "qpurge-gen: %s: %s: %s\n", path.c_str(), what, std::strerror(e));
  std::exit(1);
}

struct Owner {
  uid_t uid = static_cast<uid_t>(-1);  // -1: leave as created
  gid_t gid = static_cast<gid_t>(-1);
};

// A directory Postfix's `postfix check` would create: mode 0700, postfix's.
void make_dir(const std::string& path, mode_t mode, const Owner& owner) {
  if (::mkdir(path.c_str(), mode) == 0) {
    if (::chown(path.c_str(), owner.uid, owner.gid) != 0) die(path, "chown");
  } else if (errno != EEXIST) {
    die(path, "mkdir");
  }
}

// Writes all of data to fd.
void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      die(path, "write");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), rnd_(o.seed) {
    for (int i = 0; i < 50; ++i)
      others_.push_back(std::string(kNames[i % kNamesCount]) + std::to_string(i) + kTlds[i % std::size(kTlds)]);
    body_line_ = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; see https://www.example.com/offer now.";
  }

  // The next message; whether its recipients are in the selected domain,
  // and whether only its first one is (mixed).
  qpurge::SyntheticMessage next(long n, bool& selected, bool& mixed) {
    qpurge::SyntheticMessage m;
    m.arrival_time = o_.now - (o_.max_age ? static_cast<std::int64_t>(rnd_() % (o_.max_age + 1)) : 0);
    m.arrival_usec = static_cast<std::int64_t>(rnd_() % 1000000);
    selected = static_cast<double>(rnd_() % 1000000) < o_.select_fraction * 1e6;
    // Drawn only when asked for: without --mixed-fraction, a seed gives the
    // messages it always gave (scripts/perf-budget counts on it).
    mixed = !selected && o_.mixed_fraction > 0 && static_cast<double>(rnd_() % 1000000) < o_.mixed_fraction * 1e6;
    // sendmail run by root: F is "root" whatever -f says (also for -f '').
    m.fullname = "root";
    if (rnd_() % 10 != 0)
      m.sender = pick_user() + "@" + (rnd_() % 8 == 0 ? kLookalikes[rnd_() % std::size(kLookalikes)] : pick_other());
    const int nrcpt = mixed ? 2 + static_cast<int>(rnd_() % 2) : 1 + static_cast<int>(rnd_() % 3);
    for (int r = 0; r < nrcpt; ++r) {
      std::string domain;
      if (selected || (mixed && r == 0))
        domain = kSelectedDomain;
      else if (rnd_() % 4 == 0)
        domain = kLookalikes[rnd_() % std::size(kLookalikes)];
      else
        domain = pick_other();
      const std::string address = pick_user() + std::to_string(r) + "@" + domain;
      m.recipients.push_back({address, "", false});
    }
    char date[64];
    const std::time_t t = static_cast<std::time_t>(m.arrival_time);
    struct tm tm;
    ::gmtime_r(&t, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000 (UTC)", &tm);
    m.header_lines = {
        "Received: by mx.test.invalid (Postfix, from userid 0)",
        std::string("\tid ") + std::to_string(n) + "; " + date,
        "From: Example News <news@example.com>",
        "Reply-To: offers@example.com",
        "Subject: message " + std::to_string(n) + " about example.com",
        "To: " + m.recipients.front().address,
        "Message-Id: <" + std::to_string(n) + "." + std::to_string(m.arrival_time) + "@mx.test.invalid>",
        std::string("Date: ") + date,
    };
    m.body_lines = {"Hello,", "", "This body mentions example.com, sub.example.com and notexample.com, as spam does."};
    const bool large = o_.large_every > 0 && n % o_.large_every == o_.large_every - 1;
    const long lines =
        large ? o_.large_size / static_cast<long>(body_line_.size() + 2) : 3 + static_cast<long>(rnd_() % 12);
    for (long b = 0; b < lines; ++b) m.body_lines.push_back(body_line_);
    m.body_lines.push_back("-- ");
    m.body_lines.push_back("the sender");
    return m;
  }

 private:
  static constexpr const char* kNames[] = {"acme",  "globex", "initech", "umbrella", "hooli",
                                           "stark", "wayne",  "wonka",   "tyrell",   "cyberdyne"};
  static constexpr std::size_t kNamesCount = std::size(kNames);

  std::string pick_other() { return others_[rnd_() % others_.size()]; }
  std::string pick_user() {
    static constexpr const char* kUsers[] = {"info", "alice", "bob", "sales", "noreply", "carol", "news", "dave"};
    return kUsers[rnd_() % std::size(kUsers)] + std::to_string(rnd_() % 1000);
  }

  const Options& o_;
  std::mt19937_64 rnd_;
  std::vector<std::string> others_;
  std::string body_line_;
};

// What postqueue -j will report for a written file, read back from its
// records: message_size (the C record's first field) and the offset of each
// R record, in file order (the defer log names them).
struct Layout {
  long message_size = 0;
  std::vector<std::uint64_t> rcpt_offsets;
};

Layout layout_of(std::string_view data) {
  Layout l;
  qpurge::MemorySource src(data);
  qpurge::RecordReader reader;
  reader.reset(&src);
  qpurge::Record r;
  std::uint64_t off = 0;
  while (reader.read(off, r, data.size()) == qpurge::RecordStatus::kOk) {
    if (r.type == qpurge::rec::kSize) l.message_size = std::strtol(std::string(r.payload).c_str(), nullptr, 10);
    if (r.type == qpurge::rec::kRcpt) l.rcpt_offsets.push_back(r.offset);
    if (r.type == qpurge::rec::kEnd) break;
    off = r.next_offset;
  }
  return l;
}

// One defer log entry per recipient, as bounce_append_service writes it
// (with backwards_bounce_logfile_compatibility=yes, the default).
std::string defer_log(const qpurge::SyntheticMessage& m, const Layout& l) {
  std::string out;
  for (std::size_t i = 0; i < m.recipients.size() && i < l.rcpt_offsets.size(); ++i) {
    const std::string& a = m.recipients[i].address;
    out += "\n<" + a + ">: " + kReason + "\n";
    out += "recipient=" + a + "\n";
    out += "offset=" + std::to_string(l.rcpt_offsets[i]) + "\n";
    out += "dsn_orig_rcpt=rfc822;" + a + "\n";
    out += "status=4.4.1\naction=delayed\n";
    out += std::string("reason=") + kReason + "\n\n";  // a blank line ends an entry
  }
  return out;
}

// The postfix user and group, when they exist (else files keep the creator's).
Owner postfix_owner() {
  Owner owner;
  if (const struct passwd* pw = ::getpwnam("postfix")) {
    owner.uid = pw->pw_uid;
    owner.gid = pw->pw_gid;
    if (const struct group* gr = ::getgrnam("postfix")) owner.gid = gr->gr_gid;
  }
  return owner;
}

// Where the files go.
struct Spool {
  std::string qdir;         // SPOOL/QUEUE
  std::string ddir;         // SPOOL/defer
  bool hashed = false;      // QUEUE/X/ID (deferred) rather than QUEUE/ID
  bool defer_logs = false;  // --defer-logs, for the hashed (deferred) queue only
};

// Creates the spool root, the queue directory with its hash levels, and with
// --defer-logs the defer directory with its own.
Spool make_spool(const Options& o, const Owner& owner) {
  const char kHex[] = "0123456789ABCDEF";
  Spool s;
  s.hashed = o.queue == "deferred";
  s.defer_logs = o.defer_logs && s.hashed;
  s.qdir = o.spool + "/" + o.queue;
  s.ddir = o.spool + "/defer";
  if (::mkdir(o.spool.c_str(), 0755) != 0 && errno != EEXIST) die(o.spool, "mkdir");
  // Queue directories are postfix's with group root, hash levels postfix's
  // with group postfix, as `postfix check` leaves them.
  make_dir(s.qdir, 0700, {owner.uid, 0});
  if (s.hashed)
    for (int h = 0; h < 16; ++h) make_dir(s.qdir + "/" + kHex[h], 0700, owner);
  if (s.defer_logs) {
    make_dir(s.ddir, 0700, {owner.uid, 0});
    for (int h = 0; h < 16; ++h) make_dir(s.ddir + "/" + kHex[h], 0700, owner);
  }
  return s;
}

// The file's access and modification time: in deferred the next retry time,
// as qmgr sets it; elsewhere the arrival time.
std::int64_t file_time(const Options& o, const qpurge::SyntheticMessage& m, std::mt19937_64& retry) {
  std::int64_t ftime = m.arrival_time;
  if (o.queue == "deferred") {
    ftime = m.arrival_time + 3600 + static_cast<std::int64_t>(retry() % (11 * 3600));
    if (ftime < o.now) ftime = o.now + 300 + static_cast<std::int64_t>(retry() % 3600);
  }
  return ftime;
}

// Writes the temporary file as cleanup leaves it (mode 0700, postfix's, with
// its times); returns its inode number.
ino_t write_temporary(const std::string& tmp, std::string_view data, const Owner& owner, std::int64_t ftime) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (fd < 0) die(tmp, "open");
  write_all(fd, data, tmp);
  struct stat st;
  if (::fstat(fd, &st) != 0) die(tmp, "fstat");
  if (::fchown(fd, owner.uid, owner.gid) != 0) die(tmp, "fchown");
  const struct timespec times[2] = {{static_cast<time_t>(ftime), 0}, {static_cast<time_t>(ftime), 0}};
  if (::futimens(fd, times) != 0) die(tmp, "futimens");
  if (::close(fd) != 0) die(tmp, "close");
  return st.st_ino;
}

// Renames the temporary file to its queue ID, "%05X" of the microseconds now
// and "%lX" of its inode number; returns the ID and sets `path`. With a
// `fixed` message number, both come from it instead (--fixed-ids: the IDs
// do not match the inodes, for a queue that is read, never started).
std::string rename_to_id(const std::string& tmp, ino_t ino, const Spool& spool, std::string& path, long fixed) {
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  if (fixed >= 0) {
    tv.tv_usec = (fixed * 40503) % 1000000;
    ino = static_cast<ino_t>(0x100000 + fixed);
  }
  char id[32];
  std::snprintf(id, sizeof id, "%05X%lX", static_cast<unsigned>(tv.tv_usec), static_cast<unsigned long>(ino));
  path = spool.qdir + "/";
  if (spool.hashed) path += std::string(1, id[0]) + "/";
  path += id;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    die(path, "rename");
  }
  return id;
}

void write_defer_log(const Spool& spool, const std::string& id, const Owner& owner, const qpurge::SyntheticMessage& m,
                     const Layout& layout) {
  const std::string log_path = spool.ddir + "/" + id[0] + "/" + id;
  const int lfd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (lfd < 0) die(log_path, "open");
  write_all(lfd, defer_log(m, layout), log_path);
  if (::fchown(lfd, owner.uid, owner.gid) != 0) die(log_path, "fchown");
  if (::close(lfd) != 0) die(log_path, "close");
}

// The manifest's line for one message (see the top of this file).
std::string manifest_line(const Options& o, const std::string& id, const std::string& path,
                          const qpurge::SyntheticMessage& m, const Layout& layout, bool selected, bool mixed) {
  std::string line = "{\"queue_name\": ";
  qpurge::append_json_string(line, o.queue);
  line += ", \"queue_id\": \"" + id + "\", \"path\": ";
  qpurge::append_json_string(line, path);
  line += ", \"arrival_time\": " + std::to_string(m.arrival_time);
  line += ", \"message_size\": " + std::to_string(layout.message_size) + ", \"sender\": ";
  qpurge::append_json_string(line, m.sender.empty() ? "MAILER-DAEMON" : m.sender);
  line += ", \"recipients\": [";
  for (std::size_t r = 0; r < m.recipients.size(); ++r) {
    line += r ? ", {\"address\": " : "{\"address\": ";
    qpurge::append_json_string(line, m.recipients[r].address);
    line += "}";
  }
  line += std::string("], \"selected\": ") + (selected ? "true" : "false");
  line += std::string(", \"mixed\": ") + (mixed ? "true" : "false") + "}\n";
  return line;
}

// Writes the --count messages (and their defer logs and manifest lines);
// returns how many were selected.
long generate(const Options& o, const Spool& spool, const Owner& owner, FILE* manifest) {
  // Postfix's own temporary name is QUEUE/USEC.PID: not a valid queue ID,
  // so every scanner (and qpurge) passes it by.
  const std::string tmp = spool.qdir + "/0." + std::to_string(::getpid());
  Generator gen(o);
  std::mt19937_64 retry(o.seed ^ 0x9e3779b97f4a7c15ULL);
  std::string path;
  long selected_count = 0;
  for (long n = 0; n < o.count; ++n) {
    bool selected = false, mixed = false;
    const qpurge::SyntheticMessage m = gen.next(n, selected, mixed);
    selected_count += selected;
    const std::string data = qpurge::write_queue_file(m);
    const ino_t ino = write_temporary(tmp, data, owner, file_time(o, m, retry));
    const std::string id = rename_to_id(tmp, ino, spool, path, o.fixed_ids ? n : -1);
    Layout layout;
    if (spool.defer_logs || manifest) layout = layout_of(data);
    if (spool.defer_logs) write_defer_log(spool, id, owner, m, layout);
    if (manifest && std::fputs(manifest_line(o, id, path, m, layout, selected, mixed).c_str(), manifest) == EOF)
      die(o.manifest, "write");
  }
  return selected_count;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  const auto start = std::chrono::steady_clock::now();
  ::umask(077);
  const Owner owner = postfix_owner();
  const Spool spool = make_spool(o, owner);
  FILE* manifest = nullptr;
  if (!o.manifest.empty() && !(manifest = std::fopen(o.manifest.c_str(), "w"))) die(o.manifest, "fopen");
  const long selected_count = generate(o, spool, owner, manifest);
  if (manifest && std::fclose(manifest) != 0) die(o.manifest, "close");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("qpurge-gen: %ld messages (%ld selected) in %s in %.1f s\n", o.count, selected_count, spool.qdir.c_str(),
              secs);
  return 0;
}
