// SPDX-License-Identifier: MIT
// queue_scan.h - walk Postfix message queues and parse every queue file.
//
// The scan opens each queue directory once and works with openat()/fstat()
// relative to directory descriptors, so no path string is built per file. A
// file is opened read-only without following links and without blocking
// (O_NOFOLLOW | O_NONBLOCK): a symlink, FIFO or directory where a queue file
// should be is reported and never read. Hashed subdirectories (every
// one-character name, as Postfix's scanners treat them) are entered at any
// depth. Names that are not Postfix queue IDs are ignored and counted.
//
// Parsing and the caller's evaluation run on all cores; the caller's consumer
// sees every file on its own thread in a deterministic order (queues in
// Postfix order; in each directory files by name, then subdirectories by
// name), as soon as it is ready, so memory grows with what the consumer keeps,
// not with the queue.
//
// Failure: a file or hashed subdirectory that cannot be read is reported to
// the consumer (status and "what") and the scan goes on. scan_queues() itself
// fails, and hands nothing more to the consumer, when the queue directory
// cannot be opened, when permission is denied on it or on a queue (deferred,
// hold, ...): the run lacks the privilege and would see only part of the
// queue; when a worker thread cannot be started; or, as a guard against a
// bug in the caller, when more than kMaxScanThreads are asked for.
#ifndef QPURGE_SPOOL_QUEUE_SCAN_H_
#define QPURGE_SPOOL_QUEUE_SCAN_H_

#include <sys/stat.h>

#include <any>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "qpurge/spool/queue_file.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {

enum class FileStatus {
  kMessage,       // complete and parsed; the evaluator ran
  kInProgress,    // owner mode bits not all set: still being written
  kUnreadable,    // does not parse cleanly, or cannot be opened or read
  kNotRegular,    // symlink, FIFO, socket, directory... where a queue file should be
  kVanished,      // gone between listing and opening (delivered, moved)
  kBadDirectory,  // a queue subdirectory that cannot be read
};

struct FileInfo {
  std::string_view queue;                  // one of kMessageQueues
  std::shared_ptr<const std::string> dir;  // directory relative to the queue directory
  std::string id;                          // file name = queue ID
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  std::uint64_t file_size = 0;
  std::uint32_t mode = 0;
  std::int64_t mtime = 0;

  // "deferred/A/ABC123", for messages and reports.
  std::string path() const { return *dir + "/" + id; }
  bool forced_expire() const { return (mode & S_IXGRP) != 0; }
};

struct ScanRecord {
  FileInfo info;
  FileStatus status = FileStatus::kMessage;
  std::string error;  // for kUnreadable, kNotRegular, kBadDirectory
  std::any result;    // what the evaluator returned (kMessage only)
};

inline constexpr unsigned kMaxScanThreads = 256;

struct ScanOptions {
  std::string queue_directory;
  std::vector<std::string> queues;  // subset of kMessageQueues; scanned in Postfix order
  unsigned threads = 0;             // 0: one per core; at most kMaxScanThreads
  ParseOptions parse;
  // The system calls it makes (util/posix_io.h; open_at is also used for
  // the queue directory itself, dirfd AT_FDCWD); nullptr: the real ones.
  const SysCalls* sys = nullptr;
};

struct ScanStats {
  std::uint64_t files = 0;  // names that are queue IDs
  std::uint64_t messages = 0;
  std::uint64_t in_progress = 0;
  std::uint64_t unreadable = 0;
  std::uint64_t not_regular = 0;
  std::uint64_t vanished = 0;
  std::uint64_t ignored_names = 0;
  std::uint64_t bad_directories = 0;
  std::uint64_t missing_queues = 0;
};

// Runs on worker threads for each parsed message; must be thread-safe.
using Evaluator = std::function<std::any(const FileInfo&, const Message&)>;
// Runs on the calling thread, once per file, in scan order.
using Consumer = std::function<void(ScanRecord&)>;

// Scans; returns false with `error` set in the fatal cases above, e.g.
// "/var/spool/postfix/deferred: Permission denied: run as root or as the
// mail_owner (postfix)" or "cannot start scan thread 5 of 16: Resource
// temporarily unavailable".
bool scan_queues(const ScanOptions& options, const Evaluator& evaluate, const Consumer& consume, ScanStats& stats,
                 std::string& error);

// What re-reading a planned file right before acting found: the same
// message, still selected (kSame); no file any more (kVanished); or a file
// that is not, or no longer, what was planned (kChanged, with `why`, e.g.
// "different message (sender changed)", "no longer matches").
struct Verification {
  enum Kind { kSame, kVanished, kChanged };
  Kind kind = kSame;
  std::string why;
};

// Reads single queue files the same way the scan does, for re-verification
// right before an action. Directory descriptors are kept open between
// reads, and the Message it returns is reused, so verifying a whole plan
// costs about what scanning it did.
// Where the queue file named `id` with inode `inode` is now: the message
// queue that holds it (flat, or hashed one or two levels deep as
// hash_queue_depth makes them), "" when none does (a file of that name with
// another inode is another message), nullopt when a queue could not be
// searched (an error other than "no such file"). For settling what became
// of a message a dead run or a dead postsuper was acting on.
std::optional<std::string> find_message(const std::string& queue_directory, const std::string& id, std::uint64_t inode);

class QueueFileRereader {
 public:
  explicit QueueFileRereader(std::string queue_directory) : queue_directory_(std::move(queue_directory)) {}
  ~QueueFileRereader();
  QueueFileRereader(const QueueFileRereader&) = delete;
  QueueFileRereader& operator=(const QueueFileRereader&) = delete;

  // relpath like "deferred/A/ABC123". `msg` is valid until the next read.
  FileStatus read(const std::string& relpath, FileInfo& info, const Message*& msg, std::string& error,
                  const ParseOptions& parse = {});

 private:
  std::string queue_directory_;
  std::vector<std::pair<std::string, int>> dirs_;  // relative dir -> fd
  RecordReader reader_;
  Message msg_;
};

}  // namespace qpurge

#endif  // QPURGE_SPOOL_QUEUE_SCAN_H_
