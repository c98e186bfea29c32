// SPDX-License-Identifier: MIT
// queue_file.cc - queue file parser; see queue_file.h for the contract.
#include "qpurge/spool/queue_file.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "qpurge/util/text.h"

namespace qpurge {
namespace {

constexpr std::size_t kMaxHeaderBytes = 1 << 20;  // --header reads at most this much

// A set of record types as a table: one load a record, not a memchr() call.
class TypeSet {
 public:
  constexpr explicit TypeSet(std::string_view types) {
    for (char t : types) in_[static_cast<unsigned char>(t)] = true;
  }
  constexpr bool has(char t) const { return in_[static_cast<unsigned char>(t)]; }

 private:
  bool in_[256] = {};
};

constexpr TypeSet kEnvelopeSet(kEnvelopeTypes), kContentSet(kContentTypes), kExtractedSet(kExtractedTypes);

bool allowed(const TypeSet& types, char t) { return types.has(t); }

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Without the blanks " \t\r\n" around it (a loop: two attribute records a
// message, no find_first_not_of() set searches).
inline std::string_view trim(std::string_view s) {
  if (s.empty() || (!blank(s.front()) && !blank(s.back()))) return s;
  std::size_t b = 0, e = s.size();
  while (b < e && blank(s[b])) ++b;
  while (e > b && blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// One decimal number, optionally negative, as std::from_chars() reads it
// (no '+', no blanks; false on overflow or no digit); `next` past it. Up to
// 19 digits cannot overflow the unsigned accumulator, so the range is
// checked once, after the digits.
bool parse_decimal(const char* p, const char* end, std::int64_t& out, const char*& next) {
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  const char* start = p;
  while (p < end && *p == '0') ++p;  // leading zeros do not count towards the 19
  const char* digits = p;
  std::uint64_t v = 0;
  for (; p < end && static_cast<unsigned>(*p - '0') <= 9; ++p) v = v * 10 + static_cast<unsigned>(*p - '0');
  if (p == start) return false;
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (p - digits > 19 || v > kMax + negative) return false;
  out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  next = p;
  return true;
}

// Skips spaces and tabs, the spaces eight bytes at a time (the size and
// pointer records pad their numbers to 15 columns).
const char* skip_blanks(const char* p, const char* end) {
  constexpr std::uint64_t kSpaces = 0x2020202020202020ULL;
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (const std::uint64_t x = w ^ kSpaces) {  // the first byte that is not a space
      p += (std::endian::native == std::endian::little ? std::countr_zero(x) : std::countl_zero(x)) / 8;
      break;
    }
    p += 8;
  }
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
  return p;
}

// Parses up to `max` whitespace-separated decimal numbers; returns how many.
int parse_numbers(std::string_view s, std::int64_t* out, int max) {
  int n = 0;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  while (n < max) {
    p = skip_blanks(p, end);
    if (p == end) break;
    const char* next = p;
    if (!parse_decimal(p, end, out[n], next) || (next < end && *next != ' ' && *next != '\t')) break;
    p = next;
    ++n;
  }
  return n;
}

struct Parser {
  Parser(ByteSource& s, RecordReader& r, Message& m, std::string& e, const ParseOptions& o)
      : source(s), reader(r), msg(m), error(e), options(o) {}

  ByteSource& source;
  RecordReader& reader;
  Message& msg;
  std::string& error;
  const ParseOptions& options;

  std::size_t records = 0;
  int reverse_jumps = 0;
  // Where the reading is: the segment, and whether the next record must be
  // the X marker a skip over the content landed on. kEnd: the E record was read.
  enum class Segment { kEnvelope, kContent, kExtracted, kEnd };
  Segment segment = Segment::kEnvelope;
  bool expect_xtra = false;
  // Recipient context: the O / dsn_orig_rcpt / notify_flags records that
  // describe the next R, D or /.
  Span pending_original;
  bool has_pending_original = false;
  Span pending_dsn;
  int pending_notify = 0;

  bool fail(std::string what, std::uint64_t offset) {
    error = std::move(what) + " at offset " + std::to_string(offset);
    return false;
  }

  // Reads the next logical record at `offset`: follows pointers, skips padding.
  // On success `offset` is the record's own offset.
  bool next(std::uint64_t& offset, Record& r) {
    for (;;) {
      if (++records > kMaxRecordsPerFile) return fail("too many records", offset);
      RecordStatus st = reader.read(offset, r);
      if (st == RecordStatus::kEof) return fail("premature end of file: no end record", offset);
      if (st == RecordStatus::kError) return fail(reader.error(), offset);
      if (r.type == rec::kDtxt) {
        offset = r.next_offset;
        continue;
      }
      if (r.type != rec::kPtr) return true;
      std::int64_t target = 0;
      if (parse_numbers(r.payload, &target, 1) != 1 || target < 0) return fail("bad pointer record", r.offset);
      if (target == 0) {  // a dummy pointer: go on in file order
        offset = r.next_offset;
        continue;
      }
      if (static_cast<std::uint64_t>(target) >= source.size())
        return fail("pointer " + std::to_string(target) + " past end of file", r.offset);
      if (static_cast<std::uint64_t>(target) <= r.offset && ++reverse_jumps > kMaxReverseJumps)
        return fail("pointer loop: too many backward jumps", r.offset);
      offset = static_cast<std::uint64_t>(target);
    }
  }

  void take_recipient(const Record& r) {
    Recipient rc;
    rc.address = msg.store(r.payload);
    rc.offset = r.offset;
    rc.original = pending_original;
    rc.has_original = has_pending_original;
    rc.dsn_orig_rcpt = pending_dsn;
    rc.notify_flags = pending_notify;
    if (r.type == rec::kRcpt)
      msg.recipients.push_back(rc);
    else if (r.type == rec::kDone)
      msg.done.push_back(rc);
    else
      msg.canceled.push_back(rc);
    has_pending_original = false;
    pending_original = {};
    pending_dsn = {};
    pending_notify = 0;
  }

  bool take_attribute(const Record& r) {
    std::string_view p = r.payload;
    std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) return fail("attribute record without '='", r.offset);
    std::string_view name = trim(p.substr(0, eq));
    std::string_view value = trim(p.substr(eq + 1));
    if (name.empty()) return fail("attribute record without a name", r.offset);
    // Per-recipient attributes describe the next recipient, as Postfix's
    // rec_attr_map() turns them into 'o' and 'n' records.
    if (name == "dsn_orig_rcpt") {
      pending_dsn = msg.store(value);
      return true;
    }
    if (name == "notify_flags") {
      std::int64_t v = 0;
      parse_numbers(value, &v, 1);
      pending_notify = static_cast<int>(v);
      return true;
    }
    msg.attributes.push_back(Attribute{msg.store(name), msg.store(value)});
    return true;
  }

  // A record of the envelope or extracted segment that both share.
  bool common(const Record& r) {
    switch (r.type) {
      case rec::kRcpt:
      case rec::kDone:
      case rec::kDrcp:
        take_recipient(r);
        return true;
      case rec::kOrcp:
        pending_original = msg.store(r.payload);
        has_pending_original = true;
        return true;
      case rec::kDsnOrcpt:
        pending_dsn = msg.store(r.payload);
        return true;
      case rec::kDsnNotify: {
        std::int64_t v = 0;
        parse_numbers(r.payload, &v, 1);
        pending_notify = static_cast<int>(v);
        return true;
      }
      case rec::kAttr:
        return take_attribute(r);
      case rec::kFilt:
        msg.content_filter = msg.store(r.payload);
        return true;
      case rec::kRdr:
        msg.redirect_to = msg.store(r.payload);
        msg.has_redirect = true;
        return true;
      default:  // F, I, K, r, e, P, V, <, i, c: known, not needed
        return true;
    }
  }

  bool size_record(const Record& r) {
    std::int64_t f[6] = {0, 0, 0, 0, 0, 0};
    int n = parse_numbers(r.payload, f, 6);
    if (n < 3 || f[0] <= 0 || f[1] <= 0) return fail("bad size record", r.offset);
    msg.has_size_record = true;
    msg.data_size = f[0];
    msg.data_offset = f[1];
    msg.rcpt_count = f[2];
    msg.qmgr_flags = f[3];
    msg.content_length = f[4];
    msg.smtputf8 = f[5];
    if (static_cast<std::uint64_t>(f[0]) + static_cast<std::uint64_t>(f[1]) >= source.size())
      return fail("size record points past end of file", r.offset);
    return true;
  }

  // Collects the header lines of the content that starts at `offset`.
  bool read_headers(std::uint64_t offset) {
    Record r;
    std::string line;
    bool partial = false;
    std::size_t total = 0;
    auto flush = [&]() {
      if (!line.empty()) msg.headers.push_back(HeaderLine{msg.store(line)});
      line.clear();
    };
    for (;;) {
      if (!next(offset, r)) return false;
      if (r.type == rec::kXtra) break;
      if (r.type != rec::kNorm && r.type != rec::kCont)
        return fail("unexpected record type " + record_type_name(r.type) + " in message content", r.offset);
      total += r.payload.size();
      if (total > kMaxHeaderBytes) break;
      if (partial) {
        line.append(r.payload);
      } else if (!r.payload.empty() && (r.payload[0] == ' ' || r.payload[0] == '\t') && !line.empty()) {
        line.push_back('\n');
        line.append(r.payload);
      } else {
        flush();
        if (r.payload.empty()) break;  // end of headers
        // A line that is not "name:" ends the headers (Postfix is_header()).
        std::size_t colon = r.payload.find(':');
        bool is_header = colon != std::string_view::npos && colon > 0;
        for (std::size_t i = 0; is_header && i < colon; ++i) {
          unsigned char c = static_cast<unsigned char>(r.payload[i]);
          if (c <= ' ' || c >= 0x7f) is_header = (c == ' ' || c == '\t') && i > 0;
        }
        if (!is_header) break;
        line.assign(r.payload);
      }
      partial = r.type == rec::kCont;
      offset = r.next_offset;
    }
    flush();
    return true;
  }

  // Plausibility: the first byte must be an envelope record type. Notes the
  // second record's type (for qshape_skip_reason).
  bool check_start() {
    if (source.size() == 0) return fail("empty file", 0);
    std::string_view first = reader.bytes(0, 1);
    if (first.empty()) return fail(reader.error().empty() ? "cannot read" : reader.error(), 0);
    if (!allowed(kEnvelopeSet, first[0]))
      return fail("not a queue file: first record type " + record_type_name(first[0]), 0);
    Record r;
    RecordStatus st = reader.read(0, r);
    if (st == RecordStatus::kError) return fail(reader.error(), 0);
    Record second;
    if (reader.read(r.next_offset, second) == RecordStatus::kOk) msg.second_record_type = second.type;
    return true;
  }

  bool time_record(const Record& r) {
    if (msg.has_arrival_time) return true;  // the first one counts
    std::int64_t f[2] = {0, 0};
    if (parse_numbers(r.payload, f, 2) < 1) return fail("bad arrival time record", r.offset);
    msg.has_arrival_time = true;
    msg.arrival_time = f[0];
    msg.arrival_usec = f[1];
    return true;
  }

  // The M record. With a size record the content is skipped: `offset` jumps
  // to its end, where the extracted segment's X marker must be. Without one
  // (a maildrop file) the content is read record by record.
  bool content_start(const Record& r, std::uint64_t& offset) {
    if (options.headers && !read_headers(r.next_offset)) return false;
    msg.content_offset = r.next_offset;
    if (options.content != ContentNeed::kNone)
      msg.has_content = read_content(source, reader, r.next_offset, options.content, options.content_limit, msg.content,
                                     msg.content_error);
    if (msg.has_size_record) {
      offset = static_cast<std::uint64_t>(msg.data_offset + msg.data_size);
      expect_xtra = true;
    } else {
      segment = Segment::kContent;
    }
    return true;
  }

  // One record of the envelope segment; `offset` is where the next one is.
  bool envelope_record(const Record& r, std::uint64_t& offset) {
    const char t = r.type;
    if (!allowed(kEnvelopeSet, t))
      return fail("unexpected record type " + record_type_name(t) + " in envelope segment", r.offset);
    if (t == rec::kSize) {
      if (r.offset != 0 || msg.has_size_record) return fail("misplaced size record", r.offset);
      return size_record(r);
    }
    if (t == rec::kTime) return time_record(r);
    if (t == rec::kFrom) {
      if (msg.has_sender) return fail("second sender record", r.offset);
      msg.has_sender = true;
      msg.sender = msg.store(r.payload);
      return true;
    }
    if (t == rec::kWarn) {
      std::int64_t w = 0;
      parse_numbers(r.payload, &w, 1);
      msg.warning_time = w;
      return true;
    }
    if (t == rec::kMesg) return content_start(r, offset);
    return common(r);
  }

  // One record of the message content (read only when there is no size record).
  bool content_record(const Record& r) {
    if (!allowed(kContentSet, r.type))
      return fail("unexpected record type " + record_type_name(r.type) + " in message content", r.offset);
    if (r.type == rec::kXtra) segment = Segment::kExtracted;
    return true;
  }

  // One record of the extracted segment; the E record ends the reading.
  bool extracted_record(const Record& r) {
    if (!allowed(kExtractedSet, r.type))
      return fail("unexpected record type " + record_type_name(r.type) + " in extracted segment", r.offset);
    if (r.type != rec::kEnd) return common(r);
    msg.end_offset = r.offset;
    if (!msg.has_sender) return fail("no sender record", r.offset);
    if (!msg.has_arrival_time) return fail("no arrival time record", r.offset);
    segment = Segment::kEnd;
    return true;
  }

  bool run() {
    if (!check_start()) return false;
    std::uint64_t offset = 0;
    Record r;
    while (segment != Segment::kEnd) {
      if (expect_xtra) {
        std::string_view at = reader.bytes(offset, 1);
        if (at.empty() || at[0] != rec::kXtra)
          return fail("content skip did not land on the extracted-segment marker", offset);
      }
      if (!next(offset, r)) return false;
      offset = r.next_offset;
      bool ok = true;
      if (expect_xtra) {  // the X marker itself
        expect_xtra = false;
        segment = Segment::kExtracted;
      } else if (segment == Segment::kEnvelope) {
        ok = envelope_record(r, offset);
      } else if (segment == Segment::kContent) {
        ok = content_record(r);
      } else {
        ok = extracted_record(r);
      }
      if (!ok) return false;
    }
    return true;
  }
};

}  // namespace

void Message::clear() {
  arena_.clear();
  has_size_record = false;
  data_size = data_offset = rcpt_count = qmgr_flags = content_length = smtputf8 = 0;
  has_arrival_time = false;
  arrival_time = arrival_usec = 0;
  has_sender = false;
  sender = {};
  recipients.clear();
  done.clear();
  canceled.clear();
  attributes.clear();
  headers.clear();
  content_filter = {};
  redirect_to = {};
  has_redirect = false;
  warning_time = 0;
  end_offset = 0;
  content_offset = 0;
  has_content = false;
  content.text.clear();
  content.truncated = false;
  content_error.clear();
  second_record_type = 0;
}

Span Message::store(std::string_view s) {
  Span span{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(s.size())};
  arena_.append(s);
  return span;
}

const Attribute* Message::attribute(std::string_view name) const {
  for (const Attribute& a : attributes)
    if (str(a.name) == name) return &a;
  return nullptr;
}

std::string_view Message::attribute_value(std::string_view name) const {
  const Attribute* a = attribute(name);
  return a ? str(a->value) : std::string_view();
}

bool parse_queue_file(ByteSource& source, RecordReader& reader, Message& out, std::string& error,
                      const ParseOptions& options) {
  out.clear();
  error.clear();
  reader.reset(&source);
  Parser parser(source, reader, out, error, options);
  return parser.run();
}

}  // namespace qpurge
