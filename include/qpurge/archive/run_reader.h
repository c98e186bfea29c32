// SPDX-License-Identifier: MIT
// run_reader.h - one archive run opened for reading by --restore: only a run
// nobody but root could have written, and only through descriptors, so that
// what is checked is what is read.
//
// A restore runs as root and writes what the run holds into the queue: a
// run another user could change is a way to queue any mail as anyone
// (issue 19, item 7). So before anything of the run is read:
// - the archive directory above the run and the run directory must pass
//   util/posix_io.h's trusted_directory() (owned by root or this user,
//   writable by nobody else, and so every directory above them, a sticky
//   one such as /tmp excepted);
// - the run directory is opened relative to the archive directory, never
//   through a symbolic link, and its descriptor checked again (trusted_fd());
// - every file (the manifest, each copy, each .defer log) is opened relative
//   to the run directory's descriptor (openat, O_NOFOLLOW), must be a regular
//   file and pass trusted_fd();
// - the manifest is locked (flock, LOCK_EX | LOCK_NB: a purge still writing
//   the run holds it, and so does another restore) and read from the
//   descriptor that holds the lock, which stays open until the reader goes.
//
// Failure: open() false with an error that names the directory or file and
// why ("ARCHIVE: writable by everyone: another user could replace what
// qpurge writes or reads there"); read() false with an error naming the file.
#ifndef QPURGE_ARCHIVE_RUN_READER_H_
#define QPURGE_ARCHIVE_RUN_READER_H_

#include <sys/stat.h>

#include <cstddef>
#include <string>

#include "qpurge/archive/manifest.h"
#include "qpurge/select/evaluate.h"
#include "qpurge/util/posix_io.h"

namespace qpurge {

class RunReader {
 public:
  // Opens, checks, locks and reads the run at `run_dir` as described above.
  // `for_append`: the manifest is opened read-write, appending (to record
  // restores); otherwise read-only (a dry run).
  bool open(const std::string& run_dir, bool for_append, std::string& error);

  // What the manifest said when it was read; a restore updates it as it
  // appends records (put_back.h).
  const ArchiveManifest& manifest() const { return manifest_; }
  ArchiveManifest& manifest() { return manifest_; }
  int manifest_fd() const { return manifest_fd_.get(); }
  const std::string& manifest_path() const { return manifest_path_; }
  // `name` as errors and reports show it: RUN_DIR/name.
  std::string path_of(const std::string& name) const { return run_dir_ + "/" + name; }

  // The file `name` of the run (a name, not a path), at most `limit` bytes,
  // checked as described above; `st` gets its status. When `absent_ok` and
  // there is no such file: true, with `absent` set.
  bool read(const std::string& name, std::size_t limit, std::string& data, struct stat& st, bool absent_ok,
            bool& absent, std::string& error) const;

 private:
  bool open_directories(std::string& error);
  bool open_manifest(bool for_append, std::string& error);

  std::string run_dir_;
  std::string manifest_path_;
  Fd dir_;
  Fd manifest_fd_;
  ArchiveManifest manifest_;
};

// The defer log archived beside a copy (<file>.defer), for the evaluation of
// that copy (select/evaluate.h), read as every file of the run is: none, or
// one that cannot be read (`error` then says why), leaves the delay reasons
// unknown.
class ArchivedDeferLog final : public DeferLogSource {
 public:
  ArchivedDeferLog(const RunReader& run, const std::string& file) : run_(run), file_(file) {}
  bool read(const std::string& id, std::string& text) const override;
  mutable std::string error;

 private:
  const RunReader& run_;
  const std::string& file_;
};

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_RUN_READER_H_
