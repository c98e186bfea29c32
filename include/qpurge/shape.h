// shape.h - the table Postfix's qshape prints, byte for byte, for any selection.
//
// qshape (Postfix auxiliary/qshape, /usr/sbin/qshape) shows recipient domains
// (or, with -s, sender domains) against message age. A Table takes messages
// as qpurge parsed them (arrival time, envelope sender, pending recipients)
// and, for the same messages, the same options and the same reference time,
// gives exactly the bytes qshape writes when its stdout is not a terminal:
// then qshape shows every domain and no interim tables (-n and -N have no
// effect), and that is the only behaviour reproduced here.
//
// Takes: Options (qshape's -s -b -t -l -p -m -w, and the reference time that
// qshape takes from time()); one add() per message, with why qshape would not
// show it (qshape_skip_reason()).
// Gives: render_text(): the table, then, only when qshape would not have
// shown some of the messages (or, see below, would have counted some as
// something else), an empty line and a one-line note such as
// "(2 messages not shown by qshape: 1 force-expired, 1 second record not T)".
// The table itself never contains an empty line, so everything before the
// first empty line is qshape's output; render_text(false) is the table alone.
// append_json(): the same table as data. summary(): a few numbers for the end
// of a dry run.
// Fails: the Table constructor throws std::invalid_argument when buckets or
// width exceed kMaxBuckets or kMaxWidth (qshape has no limit; these stop a
// typing mistake from allocating gigabytes). Every other input is valid: any
// byte string is an address, any time is an arrival time.
//
// What qshape does, and this module with it:
// - Options: -b, -t and -m are used only when > 0 and -w only when > 80;
//   otherwise the defaults (10, 5, 5, 80) stand. qshape also takes fractions
//   for -t and -b ("-t 2.5"); these Options are integers.
// - Counting: addresses, not messages. Each recipient (or the one sender)
//   adds 1 to TOTAL and to its domain, in the message's age bucket; two
//   recipients in one domain add 2.
// - Domain of an address, in this order: lower-case A-Z only (other bytes are
//   left alone); an empty address becomes MAILER-DAEMON (so "<>" shows in
//   upper case); everything through the last '@' is removed; each ".." becomes
//   "." once, left to right (so "..." becomes ".."); then one leading and one
//   trailing dot are removed while at least one character remains ("." stays
//   "."). An address with no '@' is its own domain ("postmaster"); "x@" gives
//   the empty domain, whose row is printed with a blank name. qshape does this
//   with Perl regular expressions whose '.' does not match a newline and whose
//   '$' also matches before a final newline; addresses with newlines are
//   treated as Perl treats them.
// - Age bucket: m = (now - arrival) / (60 * bucket_minutes) in doubles; m < 1
//   (including arrivals in the future) is bucket 1; otherwise geometric
//   2 + trunc(log(m) / log(2)), or linear trunc(m + 1); at most `buckets`.
//   The same double arithmetic as Perl's, with the same libm, so exact powers
//   of two and every other boundary fall the same way.
// - Columns: "T" (all ages), then each bucket's upper bound in minutes:
//   5 10 20 ... 1280 1280+ (geometric), 5 10 15 ... 45 45+ (linear); the last
//   repeats the one before with a '+'; "-b 1" gives "T 0+". Bounds above
//   2^64 are printed as Perl prints doubles ("2.30584300921369e+19").
//   A column is as wide as the longer of its heading and its TOTAL count,
//   plus 1 when that is more than 2, else 3. The domain column gets what is
//   left of the width, at least 18; a longer name is cut from the left to
//   '+' and its last width-1 bytes, a parent to ".+" and its last width-2.
//   Lengths are bytes, not characters.
// - Rows: the heading, then every row by total count, highest first, then
//   by shorter name. TOTAL is a row like the others: a domain that has every
//   address and a name shorter than 5 bytes ("a.de") comes before TOTAL.
//   Where count and length are equal, qshape's order is Perl's hash order,
//   which changes from run to run; here those rows are in byte order of the
//   name (and TOTAL, upper case, sorts before lower-case names).
// - Parents (-p): a.b.example.com also counts for .b.example.com and
//   .example.com, never for a top-level domain; a parent row is shown only
//   when it has at least min_subdomains distinct direct children (a child
//   is a domain or a parent row, counted once when first seen). Without -p,
//   too, a row whose name starts with '.' ("x@." gives ".") is shown only
//   with that many children, i.e. never: it counts in TOTAL but has no row.
// - Text: qshape prints names raw. Here bytes below 0x20 and 0x7f are printed
//   as '?', one for one, so widths do not change and nothing reaches a
//   terminal raw; real queues do not have them in addresses. Other bytes,
//   UTF-8 among them, pass as qshape passes them.
//
// Which files qshape shows at all (qshape_skip_reason): a name of 6 or more
// letters and digits; a regular file (lstat) whose mode & 0733 is 0700, so
// not force-expired (0710), not incomplete (0600) and not group or other
// writable (0744 is shown); a first record C followed by T (or, the old format, S, or F then
// S, the age then being the file's mtime); a sender (S) before the message
// content (M); at least one R record. qshape also drops a file with an
// envelope record of 2 MiB or more, or whose content length in the C record
// does not lead to the X record (Skip::kUnreadable, for the caller to judge).
// One quirk: for a file whose first record is not C, S or F (an empty file,
// a maildrop file that strayed into a queue), qshape's reader returns one
// undefined value instead of nothing, and qshape counts it as a message
// without recipients, with an undefined sender, that arrived at time 0. In
// recipient mode that adds nothing; with -s it adds one to TOTAL and to
// MAILER-DAEMON in the bucket of an arrival at time 0 (the last bucket
// unless -b is over 20 or so). add() does the same with Skip::kNotQueueFile,
// and the note says so instead of counting the file as not shown.
//
// JSON (append_json, format version 1; one object, no newline):
//   {"kind": "recipient"|"sender", "reference_time": secs, "buckets": N,
//    "bucket_minutes": N, "linear": bool, "parents": bool,
//    "min_subdomains": N, "columns": ["T", "5", ..., "1280+"],
//    "rows": [{"domain": "TOTAL", "counts": [total, bucket 1, ...]}, ...],
//    "not_shown_by_qshape": {"forced_expire": n, ...},
//    "counted_as_null_sender_by_qshape": n}
// Rows are those of the text table, in its order; counts[i] is column i.
// Domains are exact (escape.h: control characters as \u00XX, bytes that are
// not UTF-8 as \udcXX). not_shown_by_qshape has a key (skip_key()) for each
// reason that occurred, in Skip order, and is {} when there is none;
// counted_as_null_sender_by_qshape is the quirk above (0 without -s).
#ifndef QPURGE_SHAPE_H_
#define QPURGE_SHAPE_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

// Its own namespace: qshape_table.h already declares qpurge::ShapeOptions
// and qpurge::ShapeTable.
namespace qpurge::shape {

inline constexpr int kMaxBuckets = 1000;
inline constexpr int kMaxWidth = 10000;

struct Options {
  bool senders = false;    // qshape -s: sender domains instead of recipient domains
  int buckets = 10;        // -b (used when > 0)
  int bucket_minutes = 5;  // -t (used when > 0)
  bool linear = false;     // -l
  bool parents = false;    // -p
  int min_subdomains = 5;  // -m (used when > 0)
  int width = 80;          // -w (used when > 80)
  std::int64_t now = 0;    // reference time, seconds since the epoch: qshape's time()
};

// Why qshape would not show a message. The order is the order of the note.
enum class Skip {
  kNone,
  kName,                 // file name not 6+ letters and digits
  kForcedExpire,         // mode & 0733 == 0710 (postsuper -e)
  kMode,                 // any other mode & 0733 but 0700 (incomplete, writable)
  kNotQueueFile,         // first record neither C nor S nor F (then S)
  kSecondRecordNotTime,  // first record C, second not T
  kNoSender,             // no S record before the content
  kNoRecipients,         // no R record
  kUnreadable,           // what qshape's reader gives up on (see above)
};
inline constexpr int kSkipCount = 9;

// "force-expired", "second record not T", ...: the note's words.
std::string_view skip_label(Skip s);
// "forced_expire", "second_record_not_time", ...: the JSON keys.
std::string_view skip_key(Skip s);

// Would qshape show a file with this lstat() mode (without type bits, or a
// regular file's; any other type is kMode), these first two record types
// ('\0' when there is none), a sender before the content (has_sender) and this
// many R records? kNone if so, else the first reason qshape stops at.
Skip qshape_skip_reason(std::uint32_t st_mode, char first_record_type, char second_record_type,
                        bool has_sender, std::size_t pending_recipients);
// Does qshape look at a file of this name (the last path component) at all?
bool qshape_reads_name(std::string_view file_name);

// The domain qshape counts an address under (see above).
std::string normalise_domain(std::string_view address);
// One -p step: "a.b.example.com" -> ".b.example.com" -> ".example.com";
// false, and `domain` unchanged, when there is no parent to go to.
bool strip_first_label(std::string& domain);

struct Row {
  std::string domain;                 // "TOTAL" for the total
  std::vector<std::uint64_t> counts;  // [0] all ages, [i] bucket i
};

// For the end of a dry run. Unlike the table, it counts every message added,
// shown by qshape or not: it is about what was selected.
struct Summary {
  std::uint64_t messages = 0;
  std::uint64_t not_shown = 0;      // of those, how many qshape would not show
  std::uint64_t addresses = 0;      // recipients (senders with -s) of all messages
  std::int64_t oldest_arrival = 0;  // both 0 when there are no messages
  std::int64_t newest_arrival = 0;
  std::vector<std::pair<std::string, std::uint64_t>> top_domains;  // table order, no parents
};

class Table {
 public:
  // Applies qshape's rules to the options (see above); throws
  // std::invalid_argument for buckets > kMaxBuckets or width > kMaxWidth.
  explicit Table(const Options& options);

  // One message: arrival time in seconds (the T record; mtime for the old
  // format), envelope sender ("" for the null sender), pending recipients in
  // file order, and why qshape would not show it. With kNone and no
  // recipients it is kNoRecipients (qshape needs an R record, with -s too).
  void add(std::int64_t arrival_time, std::string_view sender,
           const std::vector<std::string_view>& recipients, Skip skip = Skip::kNone);
  void add(std::int64_t arrival_time, std::string_view sender,
           const std::vector<std::string>& recipients, Skip skip = Skip::kNone);
  void add(std::int64_t arrival_time, std::string_view sender,
           std::initializer_list<std::string_view> recipients, Skip skip = Skip::kNone);

  // The options in effect, after qshape's rules.
  const Options& options() const { return opt_; }
  // The bucket (1 .. buckets) of a message that arrived then.
  int bucket(std::int64_t arrival_time) const;
  // "T", "5", "10", ..., "1280+".
  std::vector<std::string> columns() const;
  // The rows of the table in its order, TOTAL among them, hidden parents not.
  std::vector<Row> rows() const;

  // The table as qshape prints it, then with_note and note() not empty, an
  // empty line and the note.
  std::string render_text(bool with_note = true) const;
  // "(N messages not shown by qshape: ...)" without a newline, or "". With
  // -s, files that are not queue files get a part of their own:
  // "...; 1 not a queue file, counted by qshape as MAILER-DAEMON from 1970)".
  std::string note() const;
  std::uint64_t not_shown() const;
  std::uint64_t not_shown(Skip reason) const;
  // Files that are not queue files, which qshape -s counts as null senders
  // from 1970 (see above); in recipient mode they are not shown.
  std::uint64_t counted_as_null_sender() const { return null_senders_; }
  // The table as one JSON object (see above), appended without a newline.
  void append_json(std::string& out) const;

  Summary summary(std::size_t top = 5) const;
  // "12 messages (2 not shown by qshape), 20 recipients, ages 2m to 1d 9h\n"
  // "top recipient domains: example.com 5, b.example 3\n"; names escaped as
  // text (escape.h). "" when nothing was added.
  std::string render_summary(std::size_t top = 5) const;

 private:
  struct Entry {
    std::vector<std::uint64_t> counts;  // [0] all ages, [1 .. buckets]
    std::uint64_t children = 0;         // -p: distinct direct subdomains seen
  };
  Entry& entry(const std::string& domain);
  void count(std::size_t bucket, std::string domain);  // one address qshape counts
  std::vector<std::pair<const std::string*, const Entry*>> ordered() const;

  Options opt_;
  Entry total_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t skipped_[kSkipCount] = {};
  std::uint64_t null_senders_ = 0;  // kNotQueueFile files qshape -s counts
  // For summary(): every message, normalised domains without parents.
  std::uint64_t messages_ = 0;
  std::uint64_t addresses_ = 0;
  std::int64_t oldest_ = 0, newest_ = 0;
  std::unordered_map<std::string, std::uint64_t> all_domains_;
};

}  // namespace qpurge::shape

#endif  // QPURGE_SHAPE_H_
