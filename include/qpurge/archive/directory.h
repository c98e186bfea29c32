// SPDX-License-Identifier: MIT
// directory.h - where archive runs live: the archive directory, made when it
// is missing, trusted only when nobody but root can change it, never under
// the queue directory, and with room for what a run will copy.
//
// Failure: false with `error` naming the directory and the cause.
#ifndef QPURGE_ARCHIVE_DIRECTORY_H_
#define QPURGE_ARCHIVE_DIRECTORY_H_

#include <cstdint>
#include <string>

namespace qpurge {

// Makes ARCHIVE_DIR (and its missing parents, 0700, each synced into its
// parent). Refuses an archive directory at or under `queue_directory`
// (symbolic links resolved; "" = no queue to keep out of), and one that is
// not trusted (util/posix_io.h's trusted_directory(): owned by root, writable
// by nobody else, along the whole path).
bool make_archive_directory(const std::string& archive_dir, const std::string& queue_directory, std::string& error);

// Whether `bytes` fit on the file system of ARCHIVE_DIR (or of its nearest
// existing parent, when it does not exist yet) with a margin of 10% + 1 MiB,
// against statvfs f_bavail * f_frsize. False with an error like "archive
// DIR: 12.0 MiB needed (with a margin), 3.2 MiB free on its file system;
// name another file system with --archive", or one naming what could not be
// examined.
bool archive_fits(const std::string& archive_dir, std::uint64_t bytes, std::string& error);

// The space archive_fits() asks for `bytes`: bytes + 10% + 1 MiB (saturating).
std::uint64_t archive_space_needed(std::uint64_t bytes);

}  // namespace qpurge

#endif  // QPURGE_ARCHIVE_DIRECTORY_H_
