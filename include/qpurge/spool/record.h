// SPDX-License-Identifier: MIT
// record.h - the Postfix queue-file record layer.
//
// A queue file is a flat sequence of records: one type byte, a length as an
// LSB-first base-128 varint of at most 5 bytes, then that many payload bytes
// (Postfix global/record.c). This layer reads raw records at given offsets
// from a ByteSource; it knows nothing of what the records mean.
//
// Failure: every malformed record (EOF inside a record, a length of more than
// 5 bytes or above the limit) is reported as RecordStatus::kError with a short
// text; EOF exactly at a record boundary is kEof. Nothing here throws.
#ifndef QPURGE_SPOOL_RECORD_H_
#define QPURGE_SPOOL_RECORD_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qpurge {

// Record type bytes (Postfix global/rec_type.h).
namespace rec {
inline constexpr char kSize = 'C';
inline constexpr char kTime = 'T';
inline constexpr char kCtime = 'c';
inline constexpr char kFull = 'F';
inline constexpr char kInsp = 'I';
inline constexpr char kFilt = 'L';  // content_filter outside the content segment
inline constexpr char kCont = 'L';  // partial text line inside the content segment
inline constexpr char kFrom = 'S';
inline constexpr char kDone = 'D';
inline constexpr char kRcpt = 'R';
inline constexpr char kOrcp = 'O';
inline constexpr char kDrcp = '/';
inline constexpr char kWarn = 'W';
inline constexpr char kAttr = 'A';
inline constexpr char kKill = 'K';
inline constexpr char kRdr = '>';
inline constexpr char kMesg = 'M';
inline constexpr char kNorm = 'N';
inline constexpr char kDtxt = 'w';
inline constexpr char kXtra = 'X';
inline constexpr char kRrto = 'r';
inline constexpr char kErto = 'e';
inline constexpr char kPrio = 'P';
inline constexpr char kPtr = 'p';
inline constexpr char kVerp = 'V';
inline constexpr char kDsnRet = '<';
inline constexpr char kDsnEnvid = 'i';
inline constexpr char kDsnOrcpt = 'o';
inline constexpr char kDsnNotify = 'n';
inline constexpr char kEnd = 'E';
}  // namespace rec

// Types allowed in each segment, as Postfix's qmgr accepts them; 'p' and 'w'
// are handled by the reader before these checks.
inline constexpr std::string_view kEnvelopeTypes = "MCTcFILSDRO/WVA>K<ion";
inline constexpr std::string_view kContentTypes = "XLNw";
inline constexpr std::string_view kExtractedTypes = "EDRO/PreAFIL>Kon";

// Limits applied to every file (distrust every byte).
inline constexpr std::size_t kMaxRecordLength = 1 << 20;      // payload bytes outside content
inline constexpr std::size_t kMaxRecordsPerFile = 4'000'000;  // logical records read
inline constexpr int kMaxReverseJumps = 10'000;               // as Postfix REVERSE_JUMP_LIMIT

// Positioned reads from a queue file (or a buffer in tests). Implementations
// keep no position of their own.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes at offset; returns bytes read, 0 at EOF, -1 on error
  // (errno set).
  virtual ssize_t read_at(std::uint64_t offset, void* buf, std::size_t n) = 0;
  // The file size as known when it was opened.
  virtual std::uint64_t size() const = 0;
};

// A ByteSource over memory (tests, fuzzing).
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  ssize_t read_at(std::uint64_t offset, void* buf, std::size_t n) override;
  std::uint64_t size() const override { return data_.size(); }

 private:
  std::string_view data_;
};

// A ByteSource over an open file descriptor, using pread(2).
class FdSource : public ByteSource {
 public:
  FdSource(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ssize_t read_at(std::uint64_t offset, void* buf, std::size_t n) override;
  std::uint64_t size() const override { return size_; }

 private:
  int fd_;
  std::uint64_t size_;
};

enum class RecordStatus { kOk, kEof, kError };

struct Record {
  char type = 0;
  std::uint64_t offset = 0;       // offset of the type byte
  std::uint64_t next_offset = 0;  // offset just past the payload
  std::string_view payload;       // valid until the next read
};

// Reads records through a window buffer: small files cost one read, large
// ones a positioned read wherever the parser goes next (the content segment is
// never read unless asked for). The reader is reusable across files; its
// buffer is kept between them so a scan allocates nothing per record.
class RecordReader {
 public:
  RecordReader();

  // Starts on a new source; `first_window` bytes are read on first access.
  void reset(ByteSource* source);

  // Reads the record at `offset`. Payloads longer than max_length are errors.
  // Inline for the common case, a record under 128 bytes (one length byte)
  // whole in the window; read_slow() does everything else.
  RecordStatus read(std::uint64_t offset, Record& out, std::size_t max_length = kMaxRecordLength) {
    if (offset >= win_offset_ && offset + 2 <= win_offset_ + win_len_) {
      const auto at = static_cast<std::size_t>(offset - win_offset_);
      const auto len = static_cast<unsigned char>(buf_[at + 1]);
      if (len < 0x80 && len <= max_length && at + 2 + len <= win_len_) {
        out.type = buf_[at];
        out.offset = offset;
        out.payload = std::string_view(buf_.data() + at + 2, len);
        out.next_offset = offset + 2 + len;
        return RecordStatus::kOk;
      }
    }
    return read_slow(offset, out, max_length);
  }

  // Reads n bytes at offset into the returned view (valid until next call);
  // returns fewer at EOF.
  std::string_view bytes(std::uint64_t offset, std::size_t n);

  const std::string& error() const { return error_; }
  std::uint64_t reads() const { return reads_; }  // read(2) calls made, for tests

 private:
  RecordStatus read_slow(std::uint64_t offset, Record& out, std::size_t max_length);
  bool ensure(std::uint64_t offset, std::size_t n);
  // The window already holds [offset, offset + n): the common case, no call.
  bool in_window(std::uint64_t offset, std::size_t n) const {
    return offset >= win_offset_ && offset + n <= win_offset_ + win_len_;
  }

  ByteSource* source_ = nullptr;
  std::uint64_t size_ = 0;  // source_->size(), read once by reset()
  std::string buf_;
  std::uint64_t win_offset_ = 0;
  std::size_t win_len_ = 0;
  std::uint64_t reads_ = 0;
  std::string error_;
};

// Appends the varint length encoding of n (for writers in tests and the
// synthetic queue generator).
void append_record(std::string& out, char type, std::string_view payload);

// A record type for a message: 'N' when printable, else 0x0a.
std::string record_type_name(char type);

}  // namespace qpurge

#endif  // QPURGE_SPOOL_RECORD_H_
