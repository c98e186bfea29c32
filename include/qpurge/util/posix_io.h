// SPDX-License-Identifier: MIT
// posix_io.h - the POSIX calls every reader and writer of qpurge needs,
// written once: an owned file descriptor, reading a whole file, writing all
// of a buffer, syncing a file and its directory, appending a record that is
// whole or absent, and replacing a file atomically.
//
// One seam for tests: every call that changes a file or can fail in a way
// a test wants to provoke goes through SysCalls, whose real() members are
// the system's own. A test copies real(), replaces one member (a write that
// comes up short, an fsync that fails) and passes its copy.
//
// Failure: functions return false with `error` naming the path and the cause
// with its errno text ("/var/log/qpurge/audit.jsonl: No space left on
// device"); nothing here throws.
#ifndef QPURGE_UTIL_POSIX_IO_H_
#define QPURGE_UTIL_POSIX_IO_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace qpurge {

// The system calls qpurge makes where a test may want them to fail.
struct SysCalls {
  int (*open_at)(int dirfd, const char* name, int flags, mode_t mode) = nullptr;
  int (*fstat_fd)(int fd, struct stat* st) = nullptr;
  ssize_t (*write_fd)(int fd, const void* data, std::size_t size) = nullptr;
  int (*fsync_fd)(int fd) = nullptr;
  int (*rename_path)(const char* from, const char* to) = nullptr;
  // Starts a thread; throws std::system_error as std::thread does.
  std::thread (*spawn_thread)(std::function<void()> body) = nullptr;
  static const SysCalls& real();
};

// Owns a file descriptor: closed when it goes, unless released.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_;
};

// Flags for reading a file that someone else may have put there: never
// through a symbolic link, never blocking on a FIFO, never a controlling
// terminal.
inline constexpr int kReadOnlySafe = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

// "what: <strerror(errno)>".
std::string sys_error(const std::string& what);

// The directory part of `path` ("." when there is none, "/" for "/x").
std::string parent_directory(const std::string& path);

// Writes all of `data` to `fd`, retrying short and interrupted writes. False
// with `why` when a write fails: the errno text (or "write wrote nothing"),
// and "after K of N bytes" when part of it was written.
bool write_all(int fd, std::string_view data, std::string& why, const SysCalls& sys = SysCalls::real());
// The same, with errno set on failure.
bool write_all(int fd, std::string_view data);

// Reads from `fd` to its end, handing each piece to `sink`, which returns
// false to stop (read_fd then returns false with `why` empty). False with
// `why` when a read fails.
bool read_fd(int fd, const std::function<bool(const char*, std::size_t)>& sink, std::string& why);

// Opens `path` with kReadOnlySafe and checks it is a regular file; `st` gets
// its status. `absent_ok`: a missing file is no error (true, fd not ok()).
bool open_regular(const std::string& path, bool absent_ok, Fd& fd, struct stat& st, std::string& error);

// open_regular() for `name` in the directory open at `dirfd` (AT_FDCWD:
// the working directory; `name` is then a path), named `path` in errors,
// with `flags` (kReadOnlySafe, or O_RDWR | O_APPEND for a file to append
// to); O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC and O_NOCTTY are always added.
bool open_regular_at(int dirfd, const std::string& name, const std::string& path, int flags, bool absent_ok, Fd& fd,
                     struct stat& st, std::string& error);

// A whole regular file (opened as open_regular() does), at most `limit`
// bytes; `st` gets its status when not null.
bool read_whole(const std::string& path, std::size_t limit, std::string& data, std::string& error,
                struct stat* st = nullptr);
// The same for the regular file already open at `fd` (status `st`, named
// `path` in errors), read from its start: the very file that was opened
// (and checked, or locked), not whatever has its name now.
bool read_open_file(int fd, const struct stat& st, const std::string& path, std::size_t limit, std::string& data,
                    std::string& error);

// fsync(2) that accepts a file system which cannot sync (EINVAL, EROFS).
bool sync_fd(int fd, const SysCalls& sys = SysCalls::real());
// Syncs the directory `dir` (after a rename or a new name in it).
bool sync_directory(const std::string& dir, std::string& error, const SysCalls& sys = SysCalls::real());

// Appends `record` (one or more whole lines) to `fd`, opened read-write with
// O_APPEND (its last byte is read) and named `path` in errors, and syncs it unless `sync` is false. When the
// write is short or fails, or the sync fails, the file is truncated back to
// where the record began: the record is whole or absent. A file that does
// not end in a newline (torn by a crash) gets one first, so the new record
// starts on a line of its own. The caller serialises appends (a lock, or
// one writer).
bool append_record(int fd, const std::string& path, std::string_view record, bool sync, std::string& error,
                   const SysCalls& sys = SysCalls::real());

// Writes a new file or replaces one atomically, with permissions `mode`: a
// temporary file beside it, created exclusively, written, given its mode,
// synced and renamed over `path`, then the directory synced. A symbolic
// link at `path` is replaced, never followed; on failure the old file is
// untouched and the temporary file removed.
bool replace_file(const std::string& path, std::string_view data, unsigned mode, std::string& error,
                  const SysCalls& sys = SysCalls::real());
// The same, the new file given owner `uid` and group `gid` too (a file
// another user's process writes, such as a Postfix logfile; -1 keeps ours).
bool replace_file_owned(const std::string& path, std::string_view data, unsigned mode, long uid, long gid,
                        std::string& error, const SysCalls& sys = SysCalls::real());

// Whether only root (and this process's user) can change what `path`
// names, as Postfix's safe_open() asks of the files it trusts: the
// directory itself, symbolic links resolved, must be owned by root or the
// effective uid and writable by nobody else, and so must every directory
// above it, except that one with the sticky bit (/tmp) may be writable by
// others, who cannot rename or remove what is not theirs in it. False with
// `error` naming the first directory that fails and why ("/srv/archive:
// owned by uid 65534, not by root: another user could replace what qpurge
// writes or reads there").
bool trusted_directory(const std::string& path, std::string& error);
// The same for a file or directory open at `fd` (named `path` in errors):
// owned by root or the effective uid, and writable by nobody else.
bool trusted_fd(int fd, const std::string& path, std::string& error);

// `path` made absolute against the working directory (when it is
// relative), without its trailing slashes; symbolic links are not resolved
// (the directory need not exist yet). "" when the working directory is
// unknown.
std::string absolute_path(const std::string& path);
// Whether `a` and `b` name the same directory: the same absolute path, or
// both exist and are the same device and inode.
bool same_path(const std::string& a, const std::string& b);

}  // namespace qpurge

#endif  // QPURGE_UTIL_POSIX_IO_H_
