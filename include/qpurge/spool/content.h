// SPDX-License-Identifier: MIT
// content.h - the message content of a queue file, as raw RFC 5322 text.
//
// The content is the concatenation of the text records between the message
// content marker (M) and the extracted-segment marker (X): an N record is a
// line and gets a "\n", an L record is part of a line that goes on in the
// next record (Postfix global/rec_type.h, REC_TYPE_NORM and REC_TYPE_CONT).
// It is read in logical order: pointer records are followed and padding is
// skipped, exactly as the envelope is read, so a file a Milter edited (header
// and body records moved to the heap after E, chained by pointers) reads as
// the message Postfix will deliver, not as its bytes in file order.
//
// Two levels: the header block only (up to and including the first empty
// line) or the whole content, both cut at a byte limit (the result then says
// it was truncated; the cut falls on a record boundary or inside one).
//
// Nothing here knows MIME: mime.h decodes what this reads.
//
// Failure: a record that is not N, L, w or p before X, a pointer out of the
// file or looping, a truncated record: read_content() returns false with a
// short text ("unexpected record type 'R' in message content at offset 812").
// Nothing here throws.
#ifndef QPURGE_SPOOL_CONTENT_H_
#define QPURGE_SPOOL_CONTENT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "qpurge/spool/record.h"

namespace qpurge {

// How much of the content a criterion needs; ordered, so the most any
// criterion needs is the max. kHeaders: the header block; kParts: the whole
// content for its MIME structure (each part's type and file names, not its
// decoded text); kBody: the whole content with its text decoded. kParts and
// kBody read the same bytes.
enum class ContentNeed { kNone = 0, kHeaders = 1, kParts = 2, kBody = 3 };

// Raw bytes read by default: Postfix's default message_size_limit
// (10240000), so a message Postfix accepted with default settings is read
// whole.
inline constexpr std::size_t kDefaultContentLimit = 10'240'000;

struct RawContent {
  std::string text;        // the content, lines ending in "\n"
  bool truncated = false;  // the limit cut it (kBody), or the headers did not end within it
};

// Reads the content starting at `start`, the offset just past the M record
// (Message::content_offset), into `out`. `need` must not be kNone.
// `reader` must already be reset() to `source` and may be the one the
// queue file is being parsed with.
bool read_content(ByteSource& source, RecordReader& reader, std::uint64_t start, ContentNeed need, std::size_t limit,
                  RawContent& out, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_SPOOL_CONTENT_H_
