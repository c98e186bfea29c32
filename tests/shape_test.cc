// shape_test.cc - qshape's table: normalisation, buckets, layout and order
// case by case, then the real /usr/sbin/qshape on synthetic spools.
//
// The comparison tests write queue files as cleanup writes them (C, T, A, S,
// O/R, M, content, X, E; the C record's first field the content length) into
// a temporary spool, point qshape at it with a main.cf that holds only
// queue_directory, and compare its output with render_text(false) for the
// same messages. Arrival times are whole minutes plus 30 seconds before the
// reference time, so the second or so between taking `now` and qshape's own
// time() cannot move a message across a bucket boundary. Rows with the same
// count and the same name length are compared as a set: that order is
// Perl's hash order in qshape. They are skipped when qshape or perl is
// missing. The expected tables written out in the unit tests are what qshape
// (Postfix 3.7.11) printed for the same messages.
#include "qpurge/shape.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace qpurge::shape {
namespace {

constexpr std::int64_t kNow = 1795344810;
constexpr const char* kQshape = "/usr/sbin/qshape";
constexpr const char* kPerl = "/usr/bin/perl";

Options with_now(Options o = {}) {
  o.now = kNow;
  return o;
}

std::int64_t ago(double minutes) { return kNow - static_cast<std::int64_t>(minutes * 60); }

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Synthetic queue files and the real qshape.

enum class Layout {
  kCleanup,     // C T A S (O R)... D... M content X E
  kSecondNotT,  // C L T ...: qshape ignores it
  kNoSender,    // C T A (O R)... M ...: no S record
  kOldFormat,   // S R... M content X E: no C, no T; qshape takes the mtime
  kMaildrop,    // T S R M content X E: first record T
  kEmpty,       // no records at all
};

struct TestMessage {
  double age_minutes = 0;
  std::string sender;
  std::vector<std::string> recipients;  // pending (R)
  std::vector<std::string> done;        // delivered (D)
  std::uint32_t mode = 0700;
  Layout layout = Layout::kCleanup;
  std::string name;  // "" for a generated queue ID
};

std::string record(char type, std::string_view payload) {
  std::string r(1, type);
  std::size_t len = payload.size();
  do {
    auto b = static_cast<unsigned char>(len & 0x7f);
    len >>= 7;
    if (len) b |= 0x80;
    r.push_back(static_cast<char>(b));
  } while (len);
  r += payload;
  return r;
}

std::string queue_file(const TestMessage& m, std::int64_t arrival) {
  std::string content = record('N', "Subject: test") + record('N', "") + record('N', "body");
  std::string rcpts;
  for (const std::string& r : m.recipients) rcpts += record('O', r) + record('R', r);
  for (const std::string& r : m.done) rcpts += record('O', r) + record('D', r);
  const std::string time = record('T', std::to_string(arrival) + " 0");
  const std::string tail = record('X', "") + record('E', "");
  switch (m.layout) {
    case Layout::kOldFormat:
      return record('S', m.sender) + rcpts + record('M', "") + content + tail;
    case Layout::kMaildrop:
      return time + record('S', m.sender) + rcpts + record('M', "") + content + tail;
    case Layout::kEmpty:
      return "";
    default:
      break;
  }
  std::string env;
  if (m.layout == Layout::kSecondNotT) env += record('L', "smtp:[127.0.0.1]:10025");
  env += time + record('A', "rewrite_context=local");
  if (m.layout != Layout::kNoSender) env += record('S', m.sender);
  env += rcpts + record('M', "");
  char size[128];
  const std::size_t c_len = 1 + 1 + 95;  // type, one length byte, six %15ld fields
  std::snprintf(size, sizeof size, "%15ld %15ld %15ld %15ld %15ld %15ld",
                static_cast<long>(content.size()), static_cast<long>(c_len + env.size()),
                static_cast<long>(m.recipients.size() + m.done.size()), 0L,
                static_cast<long>(content.size()), 0L);
  std::string c = record('C', size);
  if (c.size() != c_len) throw std::logic_error("C record length");
  return c + env + content + tail;
}

// Why qshape would not show it, from what was written.
Skip expected_skip(const TestMessage& m, const std::string& name) {
  if (!qshape_reads_name(name)) return Skip::kName;
  char first = 'C', second = 'T';
  switch (m.layout) {
    case Layout::kSecondNotT:
      second = 'L';
      break;
    case Layout::kOldFormat:
      first = 'S';
      second = 'O';
      break;
    case Layout::kMaildrop:
      first = 'T';
      second = 'S';
      break;
    case Layout::kEmpty:
      first = second = '\0';
      break;
    default:
      break;
  }
  return qshape_skip_reason(S_IFREG | m.mode, first, second, m.layout != Layout::kNoSender,
                            m.recipients.size());
}

bool executable(const char* path) { return ::access(path, X_OK) == 0; }

std::string read_pipe(const std::string& command, int* status) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("popen: " + command);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

// A private spool with a deferred queue, and a main.cf naming it.
class Spool {
 public:
  Spool() {
    char tmpl[] = "/tmp/qpurge-shape-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    root_ = tmpl;
    std::filesystem::create_directories(root_ + "/spool/deferred");
    std::filesystem::create_directories(root_ + "/conf");
    std::ofstream(root_ + "/conf/main.cf") << "queue_directory = " << root_ << "/spool\n";
    std::ofstream(root_ + "/conf/master.cf");  // postconf warns without one
  }
  ~Spool() { std::filesystem::remove_all(root_); }

  // Writes every message as arrived age_minutes before `now`; returns the
  // file names, in order.
  std::vector<std::string> write(const std::vector<TestMessage>& msgs, std::int64_t now) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      const TestMessage& m = msgs[i];
      std::string name = m.name;
      if (name.empty()) {
        char id[16];
        std::snprintf(id, sizeof id, "%05X%05X",
                      static_cast<unsigned>((i * 40503 + 0x1A2B3) & 0xFFFFF),
                      static_cast<unsigned>((i * 977 + 0xB5) & 0xFFFFF));
        name = id;
      }
      const std::string dir = root_ + "/spool/deferred/" + name.substr(0, 1);
      std::filesystem::create_directories(dir);
      const std::string path = dir + "/" + name;
      const std::int64_t arrival = now - static_cast<std::int64_t>(m.age_minutes * 60);
      std::ofstream(path, std::ios::binary) << queue_file(m, arrival);
      ::chmod(path.c_str(), m.mode);
      const struct timeval tv[2] = {{static_cast<time_t>(arrival), 0},
                                    {static_cast<time_t>(arrival), 0}};
      ::utimes(path.c_str(), tv);
      names.push_back(name);
    }
    return names;
  }

  std::string qshape(const std::string& args, int* status) const {
    return read_pipe("env PATH=/usr/sbin:/usr/bin:/sbin:/bin " + std::string(kQshape) + " -c " +
                         root_ + "/conf " + args + " deferred 2>/dev/null",
                     status);
  }

 private:
  std::string root_;
};

// qshape's raw bytes as render_text shows them: control characters as '?'.
// Names with a newline are replaced whole first (a newline is also the end
// of a line); they must be short enough not to be cut.
std::string as_shown(std::string raw, const std::vector<Row>& rows) {
  std::vector<std::string> names;
  for (const Row& r : rows)
    if (r.domain.find('\n') != std::string::npos) names.push_back(r.domain);
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& n : names) {
    std::string shown = n;
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    for (std::size_t p = raw.find(n); p != std::string::npos; p = raw.find(n, p + shown.size()))
      raw.replace(p, n.size(), shown);
  }
  for (char& c : raw)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) c = '?';
  return raw;
}

// Equal to qshape's table, except that rows with the same count and the same
// name length may be in any order. Returns how many such groups there were.
int expect_same_as_qshape(const Table& t, const std::string& qshape_out, const std::string& what) {
  const std::string ours = t.render_text(false);
  const std::vector<Row> rows = t.rows();
  const std::string theirs = as_shown(qshape_out, rows);
  const std::vector<std::string> a = lines_of(ours), b = lines_of(theirs);
  const std::string context = what + "\n--- qpurge:\n" + ours + "--- qshape:\n" + theirs;
  EXPECT_EQ(ours.back(), '\n') << context;
  EXPECT_EQ(theirs.back(), '\n') << context;
  if (a.size() != b.size() || a.size() != rows.size() + 1) {
    ADD_FAILURE() << "line count\n" << context;
    return 0;
  }
  EXPECT_EQ(a[0], b[0]) << context;
  int groups = 0;
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t j = i + 1;
    while (j < rows.size() && rows[j].counts[0] == rows[i].counts[0] &&
           rows[j].domain.size() == rows[i].domain.size())
      ++j;
    std::vector<std::string> x(a.begin() + 1 + i, a.begin() + 1 + j);
    std::vector<std::string> y(b.begin() + 1 + i, b.begin() + 1 + j);
    if (j - i > 1) {
      ++groups;
      std::sort(x.begin(), x.end());
      std::sort(y.begin(), y.end());
    }
    EXPECT_EQ(x, y) << "rows " << i << ".." << j << " of " << context;
    i = j;
  }
  return groups;
}

struct Variant {
  std::string args;  // qshape's options
  Options options;   // the same for Table
};

Options opts(void (*set)(Options&)) {
  Options o;
  set(o);
  return o;
}

// Writes the messages, and for each variant compares qshape with Table.
// Returns the tables, for further checks.
std::vector<Table> compare_with_qshape(const std::vector<TestMessage>& msgs,
                                       const std::vector<Variant>& variants, int* tie_groups,
                                       std::vector<std::string>* outputs = nullptr) {
  Spool spool;
  const std::int64_t written = std::time(nullptr);
  const std::vector<std::string> names = spool.write(msgs, written);
  std::vector<Table> tables;
  *tie_groups = 0;
  for (const Variant& v : variants) {
    Options o = v.options;
    o.now = std::time(nullptr);
    Table t(o);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      const TestMessage& m = msgs[i];
      t.add(written - static_cast<std::int64_t>(m.age_minutes * 60), m.sender, m.recipients,
            expected_skip(m, names[i]));
    }
    int status = 0;
    const std::string out = spool.qshape(v.args, &status);
    EXPECT_EQ(status, 0) << "qshape " << v.args;
    *tie_groups += expect_same_as_qshape(t, out, "qshape " + v.args);
    if (outputs) outputs->push_back(out);
    tables.push_back(std::move(t));
  }
  return tables;
}

// ---------------------------------------------------------------------------
// Unit tests.

TEST(ShapeTest, NormalisesLikeQshape) {
  struct Case {
    const char* label;
    std::string address, domain;
  };
  const Case cases[] = {
      {"lower case", "Bob@Example.COM", "example.com"},
      {"only A-Z lowered", "x@\xC0XAMPLE.\xC3\x89X", "\xC0xample.\xC3\x89x"},
      {"null sender", "", "MAILER-DAEMON"},
      {"a literal MAILER-DAEMON is lowered", "MAILER-DAEMON", "mailer-daemon"},
      {"no @: the whole address", "postmaster", "postmaster"},
      {"last @", "a@b@c.example", "c.example"},
      {"quoted @", "\"a@b\"@c.example", "c.example"},
      {"nothing after @", "user@", ""},
      {"only @", "@", ""},
      {".. collapsed", "x@a..b", "a.b"},
      {"... once, left to right", "x@a...b", "a..b"},
      {"...., twice", "x@a....b", "a..b"},
      {"leading and trailing dot", "x@.example.com.", "example.com"},
      {"one of each only", "x@..example.com..", "example.com"},
      {"three leading dots", "x@...sub.example", ".sub.example"},
      {"a lone dot stays", "x@.", "."},
      {"two dots give one", "x@..", "."},
      {"dot and a letter", "x@.a", "a"},
      {"letter and a dot", "x@a.", "a"},
      {"trailing dots after collapse", "x@a...", "a."},
  };
  for (const Case& c : cases) EXPECT_EQ(normalise_domain(c.address), c.domain) << c.label;
}

TEST(ShapeTest, NormalisesNewlinesAsPerlDoes) {
  // Perl's '.' does not match a newline, and its '$' matches before a final one.
  EXPECT_EQ(normalise_domain("a\nb@c.example"), "a\nc.example");
  EXPECT_EQ(normalise_domain("a@b\nc@d"), "b\nc@d");
  EXPECT_EQ(normalise_domain("x@a.b.\n"), "a.b\n");
  EXPECT_EQ(normalise_domain("x@.a.b\n"), "a.b\n");
  EXPECT_EQ(normalise_domain("x@.a\n.b."), ".a\nb");
  EXPECT_EQ(normalise_domain("x@a.\n\n"), "a.\n\n");
  EXPECT_EQ(normalise_domain("\n"), "\n");
}

TEST(ShapeTest, StripsFirstLabelForParents) {
  std::string d = "a.b.example.com";
  ASSERT_TRUE(strip_first_label(d));
  EXPECT_EQ(d, ".b.example.com");
  ASSERT_TRUE(strip_first_label(d));
  EXPECT_EQ(d, ".example.com");
  EXPECT_FALSE(strip_first_label(d));  // never a top-level domain
  EXPECT_EQ(d, ".example.com");
  d = "example.com";
  EXPECT_FALSE(strip_first_label(d));
  d = "a..b";
  ASSERT_TRUE(strip_first_label(d));
  EXPECT_EQ(d, "..b");
  EXPECT_FALSE(strip_first_label(d));
  d = "a.b\nc.d";  // no newline between the first dot and the next
  EXPECT_FALSE(strip_first_label(d));
  d = "a\nb.c.d";  // a newline in the first label is fine
  ASSERT_TRUE(strip_first_label(d));
  EXPECT_EQ(d, ".c.d");
  d = "";
  EXPECT_FALSE(strip_first_label(d));
}

TEST(ShapeTest, BucketsAtBoundaries) {
  const Table t(with_now());
  EXPECT_EQ(t.bucket(ago(0)), 1);
  EXPECT_EQ(t.bucket(ago(-10)), 1);  // arrived in the future
  EXPECT_EQ(t.bucket(kNow - 299), 1);
  EXPECT_EQ(t.bucket(ago(5)), 2);  // exactly 5 minutes: [5, 10)
  EXPECT_EQ(t.bucket(kNow - 599), 2);
  EXPECT_EQ(t.bucket(ago(10)), 3);
  EXPECT_EQ(t.bucket(kNow - 1199), 3);
  EXPECT_EQ(t.bucket(ago(20)), 4);
  EXPECT_EQ(t.bucket(ago(640)), 9);
  EXPECT_EQ(t.bucket(ago(1280)), 10);
  EXPECT_EQ(t.bucket(ago(1e6)), 10);
  EXPECT_EQ(t.bucket(INT64_MIN), 10);  // no overflow

  Options lin;
  lin.linear = true;
  const Table l(with_now(lin));
  EXPECT_EQ(l.bucket(ago(-1)), 1);
  EXPECT_EQ(l.bucket(kNow - 299), 1);
  EXPECT_EQ(l.bucket(ago(5)), 2);
  EXPECT_EQ(l.bucket(ago(10)), 3);
  EXPECT_EQ(l.bucket(ago(14.99)), 3);
  EXPECT_EQ(l.bucket(ago(45)), 10);
  EXPECT_EQ(l.bucket(ago(44.99)), 9);

  Options o;
  o.bucket_minutes = 10;
  o.buckets = 3;
  const Table s(with_now(o));
  EXPECT_EQ(s.bucket(ago(9.99)), 1);
  EXPECT_EQ(s.bucket(ago(10)), 2);
  EXPECT_EQ(s.bucket(ago(20)), 3);
  EXPECT_EQ(s.bucket(ago(1e5)), 3);
}

// The same arithmetic as Perl's, second by second and at every power of two.
TEST(ShapeTest, BucketsAsPerlComputesThem) {
  if (!executable(kPerl)) GTEST_SKIP() << kPerl << " missing";
  char tmpl[] = "/tmp/qpurge-shape-ages-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::vector<std::int64_t> ages;
  for (std::int64_t s = -120; s <= 4 * 3600; ++s) ages.push_back(s);
  for (int k = 0; k < 40; ++k)
    for (int tick : {1, 5, 7})
      for (int d : {-1, 0, 1}) ages.push_back((std::int64_t{60} * tick << k) + d);
  {
    std::ofstream f(tmpl);
    for (std::int64_t a : ages) f << kNow - a << "\n";
  }
  for (int tick : {1, 5, 7}) {
    for (bool linear : {false, true}) {
      Options o;
      o.bucket_minutes = tick;
      o.linear = linear;
      o.buckets = 60;
      const Table t(with_now(o));
      // qshape's bucket arithmetic, as a Perl one-liner.
      const std::string perl =
          std::string(kPerl) + " -ne 'chomp; my $m = (" + std::to_string(kNow) + " - $_) / (60 * " +
          std::to_string(tick) +
          "); my $b = $m < 1 ? 1 : " + (linear ? "int($m+1)" : "2 + int(log($m) / log(2))") +
          "; print(($b < 60 ? $b : 60), \"\\n\")' < " + tmpl;
      int status = 0;
      const std::vector<std::string> want = lines_of(read_pipe(perl, &status));
      ASSERT_EQ(status, 0);
      ASSERT_EQ(want.size(), ages.size());
      int wrong = 0;
      for (std::size_t i = 0; i < ages.size() && wrong < 5; ++i) {
        if (std::to_string(t.bucket(kNow - ages[i])) != want[i]) {
          ++wrong;
          ADD_FAILURE() << "age " << ages[i] << " s, tick " << tick << ", linear " << linear << ": "
                        << t.bucket(kNow - ages[i]) << ", Perl " << want[i];
        }
      }
    }
  }
  std::remove(tmpl);
}

TEST(ShapeTest, ColumnsAreBucketUpperBounds) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Table(with_now()).columns(),
            (V{"T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"}));
  Options o;
  o.linear = true;
  EXPECT_EQ(Table(with_now(o)).columns(),
            (V{"T", "5", "10", "15", "20", "25", "30", "35", "40", "45", "45+"}));
  o = {};
  o.buckets = 1;
  o.bucket_minutes = 7;
  EXPECT_EQ(Table(with_now(o)).columns(), (V{"T", "0+"}));
  o.buckets = 2;
  EXPECT_EQ(Table(with_now(o)).columns(), (V{"T", "7", "7+"}));
  o.buckets = 66;  // past 2^64 Perl goes on in doubles
  const V heads = Table(with_now(o)).columns();
  ASSERT_EQ(heads.size(), 67u);
  EXPECT_EQ(heads[62], "16140901064495857664");  // 7 * 2^61
  EXPECT_EQ(heads[63], "3.22818021289917e+19");  // 7 * 2^62
  EXPECT_EQ(heads[65], "1.29127208515967e+20");  // 7 * 2^64
  EXPECT_EQ(heads[66], "1.29127208515967e+20+");
}

TEST(ShapeTest, OptionsFollowQshapesRules) {
  Options o;
  o.buckets = 0;
  o.bucket_minutes = -3;
  o.min_subdomains = 0;
  o.width = 79;
  const Options e = Table(o).options();
  EXPECT_EQ(e.buckets, 10);
  EXPECT_EQ(e.bucket_minutes, 5);
  EXPECT_EQ(e.min_subdomains, 5);
  EXPECT_EQ(e.width, 80);
  o.width = 81;
  EXPECT_EQ(Table(o).options().width, 81);
  o.buckets = kMaxBuckets + 1;
  EXPECT_THROW(Table{o}, std::invalid_argument);
  o.buckets = kMaxBuckets;
  o.width = kMaxWidth + 1;
  EXPECT_THROW(Table{o}, std::invalid_argument);
}

TEST(ShapeTest, EmptyTableIsHeadingAndTotal) {
  EXPECT_EQ(Table(with_now()).render_text(),
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                  TOTAL  0  0  0  0  0  0   0   0   0    0     0\n");
}

TEST(ShapeTest, CountsAddressesNotMessages) {
  Table t(with_now());
  t.add(ago(1), "a@x", {"r1@example.com", "r2@Example.com", "r3@b.example"});
  t.add(ago(30), "", {"r@b.example"});
  t.add(ago(30), "", {"r@aa.example"});
  EXPECT_EQ(t.render_text(),
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                  TOTAL  5  3  0  0  2  0   0   0   0    0     0\n"
            "                              b.example  2  1  0  0  1  0   0   0   0    0     0\n"
            "                            example.com  2  2  0  0  0  0   0   0   0    0     0\n"
            "                             aa.example  1  0  0  0  1  0   0   0   0    0     0\n");
}

TEST(ShapeTest, OrdersByCountThenShorterNameThenName) {
  Table t(with_now());
  t.add(ago(1), "s@x", {"a@zz.example", "b@yy.example", "c@x.example", "d@www.example"});
  t.add(ago(1), "s@x", {"a@zz.example", "b@yy.example"});
  std::vector<std::string> order;
  for (const Row& r : t.rows()) order.push_back(r.domain);
  // yy and zz: qshape's order is undefined; here by name.
  EXPECT_EQ(order, (std::vector<std::string>{"TOTAL", "yy.example", "zz.example", "x.example",
                                             "www.example"}));
}

TEST(ShapeTest, ShortDomainWithEveryAddressComesBeforeTotal) {
  Table t(with_now());
  t.add(ago(1), "s@x", {"u@a.de"});
  EXPECT_EQ(t.render_text(),
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                   a.de  1  1  0  0  0  0   0   0   0    0     0\n"
            "                                  TOTAL  1  1  0  0  0  0   0   0   0    0     0\n");
  Table u(with_now());
  u.add(ago(1), "s@x", {"u@ab.de"});
  EXPECT_EQ(u.rows()[0].domain, "TOTAL");  // same length: undefined in qshape, TOTAL here
}

TEST(ShapeTest, ColumnsWidenWithCountsAndNameColumnShrinks) {
  Table t(with_now());
  std::vector<std::string> many(1234, "u@bulk.example");
  t.add(ago(7), "s@x", many);
  t.add(ago(2000), "s@x", {"u@a-rather-long-domain-name-that-will-not-fit.example"});
  EXPECT_EQ(t.render_text(),
            "                                       T  5   10 20 40 80 160 320 640 1280 1280+\n"
            "                              TOTAL 1235  0 1234  0  0  0   0   0   0    0     1\n"
            "                       bulk.example 1234  0 1234  0  0  0   0   0   0    0     0\n"
            "+ain-name-that-will-not-fit.example    1  0    0  0  0  0   0   0   0    0     1\n");
}

TEST(ShapeTest, WidthOnlyWidensTheNameColumn) {
  Options o;
  o.width = 100;
  Table t(with_now(o));
  t.add(ago(1), "s@x", {"u@example.com"});
  const std::vector<std::string> lines = lines_of(t.render_text());
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& l : lines) EXPECT_EQ(l.size(), 100u) << l;
  o.width = 60;  // ignored: qshape takes -w only above 80
  Table n(with_now(o));
  EXPECT_EQ(lines_of(n.render_text())[0].size(), 80u);
}

TEST(ShapeTest, CutsLongNamesFromTheLeft) {
  Options o;
  o.parents = true;
  o.min_subdomains = 1;
  Table t(with_now(o));
  // Longer than the 39 bytes of the name column at width 80.
  const std::string d = "abcdefghijklmnopqrstuvwxyz0123.example.com";
  ASSERT_EQ(d.size(), 42u);
  t.add(ago(1), "s@x", {"u@x." + d});
  EXPECT_EQ(t.render_text(),
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                  TOTAL  1  1  0  0  0  0   0   0   0    0     0\n"
            "                           .example.com  1  1  0  0  0  0   0   0   0    0     0\n"
            ".+fghijklmnopqrstuvwxyz0123.example.com  1  1  0  0  0  0   0   0   0    0     0\n"
            "+efghijklmnopqrstuvwxyz0123.example.com  1  1  0  0  0  0   0   0   0    0     0\n");
}

TEST(ShapeTest, ParentsNeedMinSubdomains) {
  Options o;
  o.parents = true;
  o.min_subdomains = 2;
  Table t(with_now(o));
  t.add(ago(1), "s@x", {"x@a.mx.example.com", "y@b.mx.example.com", "z@c.example.com"});
  t.add(ago(1), "s@x", {"x@a.mx.example.com", "w@other.net"});
  std::vector<std::pair<std::string, std::uint64_t>> got;
  for (const Row& r : t.rows()) got.emplace_back(r.domain, r.counts[0]);
  // .mx.example.com: a.mx and b.mx (a.mx once, though twice seen);
  // .example.com: .mx.example.com and c.example.com; no .com, no .net.
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::uint64_t>>{
                     {"TOTAL", 5},
                     {".example.com", 4},
                     {".mx.example.com", 3},
                     {"a.mx.example.com", 2},
                     {"other.net", 1},
                     {"c.example.com", 1},
                     {"b.mx.example.com", 1},
                 }));
  o.min_subdomains = 3;
  Table u(with_now(o));
  u.add(ago(1), "s@x", {"x@a.mx.example.com", "y@b.mx.example.com", "z@c.example.com"});
  for (const Row& r : u.rows()) EXPECT_NE(r.domain[0], '.') << r.domain;
}

TEST(ShapeTest, DotNamesHaveNoRowEvenWithoutParents) {
  Table t(with_now());
  t.add(ago(1), "s@x", {"x@.", "y@...sub.example", "z@sub.example"});
  std::vector<std::string> order;
  for (const Row& r : t.rows()) order.push_back(r.domain);
  EXPECT_EQ(order, (std::vector<std::string>{"TOTAL", "sub.example"}));
  EXPECT_EQ(t.rows()[0].counts[0], 3u);
}

TEST(ShapeTest, SenderModeCountsTheNullSenderAsMailerDaemon) {
  Options o;
  o.senders = true;
  Table t(with_now(o));
  t.add(ago(1), "", {"x@y", "z@y"});
  t.add(ago(6), "Bob@Example.com", {"x@y", "z@y", "w@y"});
  t.add(ago(6), "MAILER-DAEMON", {"x@y"});
  EXPECT_EQ(t.render_text(),
            "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
            "                                  TOTAL  3  1  2  0  0  0   0   0   0    0     0\n"
            "                            example.com  1  0  1  0  0  0   0   0   0    0     0\n"
            "                          MAILER-DAEMON  1  1  0  0  0  0   0   0   0    0     0\n"
            "                          mailer-daemon  1  0  1  0  0  0   0   0   0    0     0\n");
}

TEST(ShapeTest, EmptyDomainHasABlankName) {
  Table t(with_now());
  t.add(ago(1), "s@x", {"user@", "user2@example.com"});
  const std::vector<std::string> lines = lines_of(t.render_text());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], std::string(39, ' ') + "  1  1  0  0  0  0   0   0   0    0     0");
}

TEST(ShapeTest, ControlCharactersArePrintedAsQuestionMarks) {
  Table t(with_now());
  t.add(ago(1), "s@x", {"u@a\x1b[2J.example", "u@b\x7f.example"});
  const std::string s = t.render_text();
  EXPECT_EQ(s.find('\x1b'), std::string::npos);
  EXPECT_EQ(s.find('\x7f'), std::string::npos);
  EXPECT_NE(s.find("   a?[2j.example  1"), std::string::npos) << s;  // lower case too
  EXPECT_NE(s.find("    b?.example  1"), std::string::npos) << s;
  EXPECT_EQ(t.rows()[1].domain, "b\x7f.example");  // the data keeps the bytes
}

TEST(ShapeTest, SkipReasonsInQshapesOrder) {
  const std::uint32_t f = S_IFREG;
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'C', 'T', true, 1), Skip::kNone);
  EXPECT_EQ(qshape_skip_reason(0700, 'C', 'T', true, 1), Skip::kNone);  // no type bits
  EXPECT_EQ(qshape_skip_reason(f | 0744, 'C', 'T', true, 1), Skip::kNone);
  EXPECT_EQ(qshape_skip_reason(f | 0710, 'C', 'T', true, 1), Skip::kForcedExpire);
  EXPECT_EQ(qshape_skip_reason(f | 0754, 'C', 'T', true, 1), Skip::kForcedExpire);
  EXPECT_EQ(qshape_skip_reason(f | 0600, 'C', 'T', true, 1), Skip::kMode);
  EXPECT_EQ(qshape_skip_reason(f | 0720, 'C', 'T', true, 1), Skip::kMode);
  EXPECT_EQ(qshape_skip_reason(f | 0701, 'C', 'T', true, 1), Skip::kMode);
  EXPECT_EQ(qshape_skip_reason(S_IFDIR | 0700, 'C', 'T', true, 1), Skip::kMode);
  EXPECT_EQ(qshape_skip_reason(f | 0710, 'C', 'L', false, 0), Skip::kForcedExpire);  // mode first
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'C', 'L', true, 1), Skip::kSecondRecordNotTime);
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'S', 'R', true, 1), Skip::kNone);  // old format
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'F', 'S', true, 1), Skip::kNone);
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'F', 'R', true, 1), Skip::kNotQueueFile);
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'T', 'S', true, 1), Skip::kNotQueueFile);  // maildrop
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'C', 'T', false, 1), Skip::kNoSender);
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'C', 'T', true, 0), Skip::kNoRecipients);
  EXPECT_EQ(qshape_skip_reason(f | 0700, 'C', 'T', false, 0), Skip::kNoSender);
}

TEST(ShapeTest, ReadsNamesLikeQshape) {
  EXPECT_TRUE(qshape_reads_name("0A1B2C3D4E"));
  EXPECT_TRUE(qshape_reads_name("4Xyz1234abcdeAz"));
  EXPECT_TRUE(qshape_reads_name("deferred/0/0A1B2C3D4E"));
  EXPECT_TRUE(qshape_reads_name("ABCDEF"));
  EXPECT_TRUE(qshape_reads_name("ABCDEF\n"));  // Perl's '$'
  EXPECT_FALSE(qshape_reads_name("ABCDE"));
  EXPECT_FALSE(qshape_reads_name("0A1B2C3D4E.tmp"));
  EXPECT_FALSE(qshape_reads_name("0A1B2C-3D4E"));
  EXPECT_FALSE(qshape_reads_name("0A1B2C3D4E/"));
}

TEST(ShapeTest, NoteCountsWhatQshapeWouldNotShow) {
  Table t(with_now());
  t.add(ago(1), "a@b", {"r@x.example"});
  const std::string table = t.render_text();
  t.add(ago(1), "a@b", {"r@expired.example"}, Skip::kForcedExpire);
  t.add(ago(1), "a@b", {"r@y.example"}, Skip::kSecondRecordNotTime);
  t.add(ago(1), "a@b", {"r@z.example"}, Skip::kForcedExpire);
  EXPECT_EQ(t.render_text(false), table);
  EXPECT_EQ(t.note(), "(3 messages not shown by qshape: 2 force-expired, 1 second record not T)");
  EXPECT_EQ(t.render_text(), table + "\n" + t.note() + "\n");
  EXPECT_EQ(t.not_shown(), 3u);
  EXPECT_EQ(t.not_shown(Skip::kForcedExpire), 2u);

  Table u(with_now());
  u.add(ago(1), "a@b", {});  // no recipients: not shown, whatever the caller says
  EXPECT_EQ(u.note(), "(1 message not shown by qshape: 1 no pending recipient)");
  EXPECT_EQ(u.render_text(false), Table(with_now()).render_text());
  EXPECT_EQ(Table(with_now()).note(), "");
}

TEST(ShapeTest, NotQueueFilesAreNullSendersFrom1970InSenderMode) {
  Options o;
  o.senders = true;
  o.buckets = 30;
  Table t(with_now(o));
  t.add(ago(1), "a@b", {"r@x"}, Skip::kNotQueueFile);
  t.add(ago(1), "a@b", {"r@x"}, Skip::kForcedExpire);
  const std::vector<Row> rows = t.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].domain, "MAILER-DAEMON");
  EXPECT_EQ(t.bucket(0), 24);  // 2 + int(log2(1795344810 / 300))
  EXPECT_EQ(rows[1].counts[0], 1u);
  EXPECT_EQ(rows[1].counts[24], 1u);
  EXPECT_EQ(t.not_shown(), 1u);
  EXPECT_EQ(t.counted_as_null_sender(), 1u);
  EXPECT_EQ(t.note(),
            "(1 message not shown by qshape: 1 force-expired; 1 not a queue file, "
            "counted by qshape as MAILER-DAEMON from 1970)");

  Table r(with_now());  // recipient mode: nothing to count
  r.add(ago(1), "a@b", {"r@x"}, Skip::kNotQueueFile);
  EXPECT_EQ(r.render_text(false), Table(with_now()).render_text());
  EXPECT_EQ(r.note(), "(1 message not shown by qshape: 1 not a queue file)");
}

TEST(ShapeTest, JsonHasTheSameRowsExactly) {
  Options o;
  o.buckets = 3;
  Table t(with_now(o));
  t.add(ago(1), "a@b", {"r@example.com", "r@\"q\\\x01\xff.example"});
  t.add(ago(12), "a@b", {"r@example.com"});
  t.add(ago(1), "a@b", {"r@x"}, Skip::kForcedExpire);
  std::string j;
  t.append_json(j);
  EXPECT_EQ(j,
            "{\"kind\": \"recipient\", \"reference_time\": 1795344810, \"buckets\": 3, "
            "\"bucket_minutes\": 5, \"linear\": false, \"parents\": false, "
            "\"min_subdomains\": 5, \"columns\": [\"T\", \"5\", \"10\", \"10+\"], "
            "\"rows\": [{\"domain\": \"TOTAL\", \"counts\": [3, 2, 0, 1]}, "
            "{\"domain\": \"example.com\", \"counts\": [2, 1, 0, 1]}, "
            "{\"domain\": \"\\\"q\\\\\\u0001\\udcff.example\", \"counts\": [1, 1, 0, 0]}], "
            "\"not_shown_by_qshape\": {\"forced_expire\": 1}, "
            "\"counted_as_null_sender_by_qshape\": 0}");
  Options s;
  s.senders = true;
  std::string k;
  Table(with_now(s)).append_json(k);
  EXPECT_NE(k.find("{\"kind\": \"sender\""), std::string::npos) << k;
  EXPECT_NE(k.find("\"not_shown_by_qshape\": {}, "), std::string::npos) << k;
}

TEST(ShapeTest, SummaryCountsEverySelectedMessage) {
  Table t(with_now());
  EXPECT_EQ(t.render_summary(), "");
  t.add(ago(2), "a@b", {"r@example.com", "s@Example.com", "t@b.example"});
  t.add(ago(60 * 26), "a@b", {"r@b.example"}, Skip::kForcedExpire);
  t.add(ago(30), "a@b", {"r@c\x1b.example"});
  const Summary s = t.summary(2);
  EXPECT_EQ(s.messages, 3u);
  EXPECT_EQ(s.not_shown, 1u);
  EXPECT_EQ(s.addresses, 5u);
  EXPECT_EQ(s.oldest_arrival, ago(60 * 26));
  EXPECT_EQ(s.newest_arrival, ago(2));
  EXPECT_EQ(s.top_domains, (std::vector<std::pair<std::string, std::uint64_t>>{
                               {"b.example", 2}, {"example.com", 2}}));
  EXPECT_EQ(t.render_summary(3),
            "3 messages (1 not shown by qshape), 5 recipients, ages 2m to 1d 2h\n"
            "top recipient domains: b.example 2, example.com 2, c\\x1b.example 1\n");
  Options o;
  o.senders = true;
  Table u(with_now(o));
  u.add(ago(0.5), "", {"r@x"});
  EXPECT_EQ(u.render_summary(),
            "1 message, 1 sender, age 30s\ntop sender domains: MAILER-DAEMON 1\n");
}

// ---------------------------------------------------------------------------
// Against the real qshape.

std::vector<TestMessage> mixed_queue() {
  std::vector<TestMessage> m;
  auto add = [&](double age, std::string sender, std::vector<std::string> rcpts) {
    TestMessage t;
    t.age_minutes = age + 0.5;
    t.sender = std::move(sender);
    t.recipients = std::move(rcpts);
    m.push_back(std::move(t));
  };
  add(2, "alice@Example.COM", {"bob@example.com", "carol@example.com", "dave@b.example.org"});
  add(7, "", {"postmaster", "x@mx1.big.example.net", "y@mx2.big.example.net"});
  add(15, "Bounce@Lists.Example.ORG",
      {"a@mx3.big.example.net", "b@mx4.big.example.net", "c@mx5.big.example.net",
       "d@mx1.big.example.net"});
  add(30, "alice@example.com",
      {"e@trailing.example.", "f@.leading.example", "g@double..dot.example",
       "h@triple...dot.example"});
  add(60, "x@y",
      {"r@very-long-subdomain-name-for-truncation.department.example.com",
       "s@another.very-long-subdomain-name-for-truncation.department.example.com"});
  add(100, "", {"u@a.b.c.d.e.example.com", "v@b.c.d.e.example.com", "w@c.d.e.example.com"});
  add(200, "MAILER-DAEMON", {"q@example.com", "\"quoted@name\"@example.com"});
  add(500, "bob@example.com", {"x@.", "y@...sub.example.com", "z@sub.example.com"});
  add(1000, "carol@b.example.org", {"z@EXAMPLE.com", "empty@"});
  add(2000, "", {"p@mx2.big.example.net"});
  add(5000, "list@lists.example.org", {"k@example.com"});
  add(-10.5, "list@lists.example.org", {"k@example.com"});
  std::vector<std::string> bulk;
  for (int i = 0; i < 120; ++i) bulk.push_back("user" + std::to_string(i) + "@bulk.example");
  add(30, "news@lists.example.org", bulk);
  add(45, "old@oldformat.example", {"r@oldformat.example"});
  m.back().layout = Layout::kOldFormat;  // qshape shows it, aged by mtime
  add(3, "r@readable.example", {"r@readable.example"});
  m.back().mode = 0744;  // group and other may read: qshape shows it

  // Files qshape does not show; their domains must not appear.
  add(3, "s@x", {"r@expired.example"});
  m.back().mode = 0710;
  add(3, "s@x", {"r@writable.example"});
  m.back().mode = 0720;
  add(3, "s@x", {"r@incomplete.example"});
  m.back().mode = 0600;
  add(3, "s@x", {"r@second-not-t.example"});
  m.back().layout = Layout::kSecondNotT;
  add(3, "s@x", {"r@nosender.example"});
  m.back().layout = Layout::kNoSender;
  add(3, "s@done.example", {});
  m.back().done = {"r@done.example"};
  add(3, "s@x", {"r@maildrop.example"});
  m.back().layout = Layout::kMaildrop;
  add(3, "s@x", {"r@shortname.example"});
  m.back().name = "ABCDE";
  add(3, "s@x", {"r@empty.example"});
  m.back().layout = Layout::kEmpty;
  return m;
}

std::vector<Variant> variants() {
  return {
      {"", {}},
      {"-s", opts([](Options& o) { o.senders = true; })},
      {"-b 5", opts([](Options& o) { o.buckets = 5; })},
      {"-t 10", opts([](Options& o) { o.bucket_minutes = 10; })},
      {"-l", opts([](Options& o) { o.linear = true; })},
      {"-l -b 4 -t 7",
       opts([](Options& o) { o.linear = true, o.buckets = 4, o.bucket_minutes = 7; })},
      {"-b 1", opts([](Options& o) { o.buckets = 1; })},
      {"-b 66", opts([](Options& o) { o.buckets = 66; })},
      {"-p", opts([](Options& o) { o.parents = true; })},
      {"-p -m 2", opts([](Options& o) { o.parents = true, o.min_subdomains = 2; })},
      {"-s -p -m 1",
       opts([](Options& o) { o.senders = true, o.parents = true, o.min_subdomains = 1; })},
      {"-w 120", opts([](Options& o) { o.width = 120; })},
      {"-w 60", opts([](Options& o) { o.width = 60; })},
      {"-p -m 1 -w 100 -t 3", opts([](Options& o) {
         o.parents = true, o.min_subdomains = 1, o.width = 100, o.bucket_minutes = 3;
       })},
  };
}

TEST(ShapeTest, SameAsQshapeOnAMixedQueue) {
  if (!executable(kQshape)) GTEST_SKIP() << kQshape << " missing";
  const std::vector<TestMessage> msgs = mixed_queue();
  int ties = 0;
  std::vector<std::string> outputs;
  const std::vector<Table> tables = compare_with_qshape(msgs, variants(), &ties, &outputs);
  for (const std::string& out : outputs) {
    for (const char* hidden : {"expired.", "writable.", "incomplete.", "second-not-t.", "nosender.",
                               "done.", "maildrop.", "shortname.", "empty."})
      EXPECT_EQ(out.find(hidden), std::string::npos) << hidden << " in\n" << out;
  }
  ASSERT_FALSE(outputs.empty());
  EXPECT_NE(outputs[0].find("oldformat.example"), std::string::npos);
  EXPECT_NE(outputs[0].find("readable.example"), std::string::npos);
  EXPECT_EQ(tables[0].note(),
            "(9 messages not shown by qshape: 1 name not a queue ID, 1 force-expired, "
            "2 mode not 0700, 2 not a queue file, 1 second record not T, 1 no sender, "
            "1 no pending recipient)");
  // With -s qshape counts the maildrop and the empty file as null senders.
  EXPECT_EQ(tables[1].note(),
            "(7 messages not shown by qshape: 1 name not a queue ID, 1 force-expired, "
            "2 mode not 0700, 1 second record not T, 1 no sender, 1 no pending recipient; "
            "2 not a queue file, counted by qshape as MAILER-DAEMON from 1970)");
}

TEST(ShapeTest, SameAsQshapeWhereOnlyTheOrderOfTiesDiffers) {
  if (!executable(kQshape)) GTEST_SKIP() << kQshape << " missing";
  std::vector<TestMessage> msgs;
  TestMessage m;
  m.age_minutes = 12.5;
  m.sender = "s@lists.example";
  for (int i = 0; i < 9; ++i) {
    const std::string d = "t" + std::to_string(i) + ".example";
    m.recipients.push_back("a@" + d);
    m.recipients.push_back("b@" + d);
    m.recipients.push_back("c@" + std::string(1, static_cast<char>('p' + i)) + ".example");
  }
  msgs.push_back(m);
  m.age_minutes = 100.5;
  m.recipients = {"x@t0.example", "y@t1.example", "z@longer-name.example"};
  msgs.push_back(m);
  int ties = 0;
  compare_with_qshape(msgs, {{"", {}}, {"-s", opts([](Options& o) { o.senders = true; })}}, &ties);
  EXPECT_GE(ties, 2);  // t2..t8, p..x (and the one sender is alone)

  // TOTAL and a five-byte domain that has every address: either order.
  msgs = {m};
  msgs[0].recipients = {"x@ab.cd", "y@ab.cd"};
  compare_with_qshape(msgs, {{"", {}}}, &ties);
  EXPECT_EQ(ties, 1);
}

TEST(ShapeTest, SameAsQshapeForShortNamesLargeCountsAndCutNames) {
  if (!executable(kQshape)) GTEST_SKIP() << kQshape << " missing";
  int ties = 0;
  TestMessage m;
  m.age_minutes = 1.5;
  m.sender = "s@x.example";
  m.recipients = {"u@a.de"};  // before TOTAL
  compare_with_qshape({m}, {{"", {}}}, &ties);

  std::vector<TestMessage> msgs;
  m.age_minutes = 7.5;
  m.recipients.assign(1234, "u@bulk.example");
  msgs.push_back(m);
  m.age_minutes = 2000.5;
  m.recipients = {"u@a-rather-long-domain-name-that-will-not-fit.example",
                  "u@x.abcdefghijklmnopqrstuvwxyz0123.example.com", "user@"};
  msgs.push_back(m);
  m.age_minutes = 30000.5;
  m.recipients = {"v@a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example"};
  msgs.push_back(m);
  compare_with_qshape(
      msgs,
      {{"", {}},
       {"-p -m 1", opts([](Options& o) { o.parents = true, o.min_subdomains = 1; })},
       {"-w 81 -b 12", opts([](Options& o) { o.width = 81, o.buckets = 12; })},
       {"-l -b 20 -t 1",
        opts([](Options& o) { o.linear = true, o.buckets = 20, o.bucket_minutes = 1; })}},
      &ties);
}

TEST(ShapeTest, SameAsQshapeForControlCharactersAndNewlines) {
  if (!executable(kQshape)) GTEST_SKIP() << kQshape << " missing";
  TestMessage m;
  m.age_minutes = 3.5;
  m.sender = "s\n@x.example\n";
  m.recipients = {"a\nbb@cc.de",        "x@tab\t.example",   "x@cr\r.example.",
                  "x@del\x7f.example",  "x@nl.example.\n",   "x@.lead\n.trail.",
                  "q@w\ne.a.b.example", "x@esc\x1b.example", "f@a.b\nc.example"};
  int ties = 0;
  compare_with_qshape(
      {m},
      {{"", {}},
       {"-s", opts([](Options& o) { o.senders = true; })},
       {"-p -m 1", opts([](Options& o) { o.parents = true, o.min_subdomains = 1; })}},
      &ties);
}

}  // namespace
}  // namespace qpurge::shape
