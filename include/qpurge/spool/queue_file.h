// SPDX-License-Identifier: MIT
// queue_file.h - one Postfix queue file, read the way Postfix reads it.
//
// parse_queue_file() starts at offset 0, follows every non-zero pointer
// record, skips padding, skips the message content with the size record
// (data offset + data size must land on the extracted-segment marker), and
// stops at the end record without ever reading past it, as qmgr and showq do
// (Postfix qmgr/qmgr_message.c, showq/showq.c). Files without a size record
// (maildrop files written by postdrop) are read through their content.
//
// It yields a Message: arrival time, the size record, the envelope sender, the
// pending recipients (R records only, wherever they are reached: envelope,
// extracted segment or the heap after E) each with its original recipient and
// file offset, done and canceled recipients kept apart, and named attributes.
//
// With ParseOptions::content it also reads the message content (content.h)
// in logical order, so a Milter-edited file gives the content Postfix will
// deliver.
//
// Failure: any doubt (truncation, bad length, pointer loop, a record type not
// allowed where it stands, a second sender, no end record) makes the whole
// file unparsable: the function returns false with a short text, and the
// caller must not act on that file. A content that cannot be read (asked for
// with ParseOptions::content; Postfix itself passes over it with the size
// record) does not: Message::content_error says why, and whatever needed
// the content must treat it as undecided.
#ifndef QPURGE_SPOOL_QUEUE_FILE_H_
#define QPURGE_SPOOL_QUEUE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qpurge/spool/content.h"
#include "qpurge/spool/record.h"

namespace qpurge {

// A string stored in a Message's arena: [offset, offset + length).
struct Span {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

struct Recipient {
  Span address;              // the R (or D, /) payload: the rewritten recipient
  Span original;             // the preceding O record, if any
  Span dsn_orig_rcpt;        // the preceding A dsn_orig_rcpt / o record, if any
  int notify_flags = 0;      // the preceding A notify_flags / n record, 0 if none
  std::uint64_t offset = 0;  // file offset of the R record (joins the defer log)
  bool has_original = false;
};

struct Attribute {
  Span name;
  Span value;
};

// One header line of the message content (only with ParseOptions::headers).
struct HeaderLine {
  Span text;  // the whole logical header line, folded continuation lines joined by "\n"
};

// What a queue file says. Strings live in one arena so that a Message reused
// across files allocates nothing once its buffers have grown.
class Message {
 public:
  void clear();

  std::string_view str(Span s) const { return std::string_view(arena_).substr(s.offset, s.length); }
  Span store(std::string_view s);

  // Size record (C), fields 1..6; has_size_record false for maildrop files.
  bool has_size_record = false;
  std::int64_t data_size = 0;
  std::int64_t data_offset = 0;
  std::int64_t rcpt_count = 0;
  std::int64_t qmgr_flags = 0;
  std::int64_t content_length = 0;
  std::int64_t smtputf8 = 0;

  bool has_arrival_time = false;
  std::int64_t arrival_time = 0;  // seconds, first T record
  std::int64_t arrival_usec = 0;

  bool has_sender = false;
  Span sender;                        // empty = null sender
  std::vector<Recipient> recipients;  // pending (R)
  std::vector<Recipient> done;        // D
  std::vector<Recipient> canceled;    // /
  std::vector<Attribute> attributes;  // A records in reading order
  std::vector<HeaderLine> headers;    // only with ParseOptions::headers
  Span content_filter;
  Span redirect_to;
  bool has_redirect = false;
  std::int64_t warning_time = 0;
  std::uint64_t end_offset = 0;      // offset of the E record
  std::uint64_t content_offset = 0;  // just past the M record (0: none read yet)
  // Only with ParseOptions::content: the content as read (has_content), or
  // why it could not be read (content_error).
  bool has_content = false;
  RawContent content;
  std::string content_error;
  // Type of the second record in file order (qshape ignores files whose
  // second record is not T).
  char second_record_type = 0;

  // The first attribute with this name, or nullptr.
  const Attribute* attribute(std::string_view name) const;
  std::string_view attribute_value(std::string_view name) const;
  std::string_view sender_str() const { return str(sender); }

 private:
  std::string arena_;
};

struct ParseOptions {
  bool headers = false;                              // also collect the message header lines (costs a read of them)
  ContentNeed content = ContentNeed::kNone;          // also read the raw content (content.h)
  std::size_t content_limit = kDefaultContentLimit;  // bytes of it at most
};

// Parses the queue file in `source` into `out`. Returns false and sets `error`
// when the file does not parse cleanly. `reader` is scratch state, reusable.
bool parse_queue_file(ByteSource& source, RecordReader& reader, Message& out, std::string& error,
                      const ParseOptions& options = {});

}  // namespace qpurge

#endif  // QPURGE_SPOOL_QUEUE_FILE_H_
