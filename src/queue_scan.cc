// queue_scan.cc - parallel, ordered queue walk; see queue_scan.h.
#include "qpurge/queue_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "qpurge/queue_id.h"

namespace qpurge {
namespace {

constexpr std::size_t kChunk = 64;  // files per unit of parallel work

int real_open_at(int dirfd, const char* name, int flags) {
  int fd;
  do {
    fd = ::openat(dirfd, name, flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}
int real_fstat(int fd, struct stat* st) { return ::fstat(fd, st); }

struct Entry {
  std::string name;
  unsigned char type;
};

constexpr int kFileFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Per-thread scratch: reused for every file that thread reads.
struct Worker {
  RecordReader reader;
  Message msg;
  std::string error;
};

void fill_info(FileInfo& info, const struct stat& st) {
  info.inode = st.st_ino;
  info.device = st.st_dev;
  info.file_size = static_cast<std::uint64_t>(st.st_size);
  info.mode = st.st_mode;
  info.mtime = st.st_mtime;
}

// Opens, checks and parses one file relative to dirfd.
FileStatus read_one(const ScanSys& sys, int dirfd, const char* name, FileInfo& info,
                    Worker& w, std::string& error, const ParseOptions& parse) {
  int fd = sys.open_at(dirfd, name, kFileFlags);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return FileStatus::kVanished;
    error = std::string("open: ") + std::strerror(e);
    return e == ELOOP ? FileStatus::kNotRegular : FileStatus::kUnreadable;
  }
  struct stat st;
  if (sys.fstat_fd(fd, &st) < 0) {
    error = std::string("fstat: ") + std::strerror(errno);
    ::close(fd);
    return FileStatus::kUnreadable;
  }
  fill_info(info, st);
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    ::close(fd);
    return FileStatus::kNotRegular;
  }
  if ((st.st_mode & S_IRWXU) != S_IRWXU) {
    ::close(fd);
    return FileStatus::kInProgress;
  }
  FdSource source(fd, static_cast<std::uint64_t>(st.st_size));
  bool ok = parse_queue_file(source, w.reader, w.msg, error, parse);
  ::close(fd);
  return ok ? FileStatus::kMessage : FileStatus::kUnreadable;
}

class Walker {
 public:
  Walker(const ScanOptions& o, const Evaluator& ev, const Consumer& co, ScanStats& st)
      : opt_(o), evaluate_(ev), consume_(co), stats_(st),
        sys_(o.sys ? *o.sys : ScanSys::real()) {
    unsigned n = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    workers_.resize(n);
    for (auto& w : workers_) w = std::make_unique<Worker>();
  }

  void walk_queue(int rootfd, std::string_view queue) {
    int fd = sys_.open_at(rootfd, std::string(queue).c_str(), kDirFlags);
    if (fd < 0) {
      if (errno == ENOENT) {
        ++stats_.missing_queues;
        return;
      }
      report_dir(queue, std::make_shared<const std::string>(queue), errno);
      return;
    }
    walk_dir(fd, queue, std::make_shared<const std::string>(queue));
  }

 private:
  void report_dir(std::string_view queue, std::shared_ptr<const std::string> dir, int err) {
    ScanRecord rec;
    rec.info.queue = queue;
    rec.info.dir = std::move(dir);
    rec.status = FileStatus::kBadDirectory;
    rec.error = std::string("open directory: ") + std::strerror(err);
    ++stats_.bad_directories;
    consume_(rec);
  }

  // Takes ownership of fd.
  void walk_dir(int fd, std::string_view queue, std::shared_ptr<const std::string> dir) {
    DIR* d = ::fdopendir(fd);
    if (!d) {
      int e = errno;
      ::close(fd);
      report_dir(queue, dir, e);
      return;
    }
    std::vector<Entry> files;
    std::vector<std::string> subdirs;
    while (struct dirent* de = ::readdir(d)) {
      std::string_view name = de->d_name;
      if (name == "." || name == "..") continue;
      if (name.size() == 1) {
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
          struct stat st;
          is_dir = ::fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) subdirs.emplace_back(name);
        continue;
      }
      if (!is_queue_id(name)) {
        ++stats_.ignored_names;
        continue;
      }
      files.push_back(Entry{std::string(name), de->d_type});
    }
    std::sort(files.begin(), files.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    std::sort(subdirs.begin(), subdirs.end());
    run_files(::dirfd(d), queue, dir, files);
    for (const std::string& sub : subdirs) {
      auto subpath = std::make_shared<const std::string>(*dir + "/" + sub);
      int sfd = sys_.open_at(::dirfd(d), sub.c_str(), kDirFlags);
      if (sfd < 0) {
        report_dir(queue, subpath, errno);
        continue;
      }
      walk_dir(sfd, queue, subpath);
    }
    ::closedir(d);
  }

  void process(int dirfd, std::string_view queue, const std::shared_ptr<const std::string>& dir,
               const Entry& e, Worker& w, ScanRecord& rec) {
    rec.info.queue = queue;
    rec.info.dir = dir;
    rec.info.id = e.name;
    if (e.type != DT_REG && e.type != DT_UNKNOWN) {
      rec.status = FileStatus::kNotRegular;
      rec.error = "not a regular file";
      if (e.type == DT_DIR) rec.error = "a directory, not a queue file";
      if (e.type == DT_LNK) rec.error = "a symbolic link, not a queue file";
      if (e.type == DT_FIFO) rec.error = "a FIFO, not a queue file";
      return;
    }
    rec.status = read_one(sys_, dirfd, e.name.c_str(), rec.info, w, rec.error, opt_.parse);
    if (rec.status == FileStatus::kMessage) rec.result = evaluate_(rec.info, w.msg);
  }

  void emit(ScanRecord& rec) {
    ++stats_.files;
    switch (rec.status) {
      case FileStatus::kMessage: ++stats_.messages; break;
      case FileStatus::kInProgress: ++stats_.in_progress; break;
      case FileStatus::kUnreadable: ++stats_.unreadable; break;
      case FileStatus::kNotRegular: ++stats_.not_regular; break;
      case FileStatus::kVanished: ++stats_.vanished; break;
      case FileStatus::kBadDirectory: ++stats_.bad_directories; break;
    }
    consume_(rec);
  }

  void run_files(int dirfd, std::string_view queue, const std::shared_ptr<const std::string>& dir,
                 const std::vector<Entry>& files) {
    if (files.empty()) return;
    const std::size_t nchunks = (files.size() + kChunk - 1) / kChunk;
    std::vector<std::vector<ScanRecord>> out(nchunks);
    std::unique_ptr<std::atomic<bool>[]> done(new std::atomic<bool>[nchunks]);
    for (std::size_t i = 0; i < nchunks; ++i) done[i] = false;
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;

    auto work = [&](Worker& w) {
      for (;;) {
        std::size_t c = next.fetch_add(1);
        if (c >= nchunks) return c;
        std::size_t begin = c * kChunk, end = std::min(files.size(), begin + kChunk);
        out[c].resize(end - begin);
        for (std::size_t i = begin; i < end; ++i) process(dirfd, queue, dir, files[i], w, out[c][i - begin]);
        {
          std::lock_guard<std::mutex> lock(mu);
          done[c] = true;
        }
        cv.notify_all();
        return c;
      }
    };

    const std::size_t nthreads = std::min<std::size_t>(workers_.size(), nchunks);
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < nthreads; ++t)
      threads.emplace_back([&, t] {
        while (work(*workers_[t]) < nchunks) {
        }
      });

    // The calling thread works too, and hands finished chunks to the
    // consumer in order as soon as they are ready.
    std::size_t emitted = 0;
    bool more = true;
    while (emitted < nchunks) {
      if (more) more = work(*workers_[0]) < nchunks;
      for (;;) {
        if (emitted >= nchunks) break;
        if (!done[emitted]) {
          if (more) break;
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return done[emitted].load(); });
        }
        for (ScanRecord& rec : out[emitted]) emit(rec);
        std::vector<ScanRecord>().swap(out[emitted]);
        ++emitted;
      }
    }
    for (auto& th : threads) th.join();
  }

  const ScanOptions& opt_;
  const Evaluator& evaluate_;
  const Consumer& consume_;
  ScanStats& stats_;
  const ScanSys& sys_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace

const ScanSys& ScanSys::real() {
  static const ScanSys sys{real_open_at, real_fstat};
  return sys;
}

bool scan_queues(const ScanOptions& options, const Evaluator& evaluate, const Consumer& consume,
                 ScanStats& stats, std::string& error) {
  int root = ::open(options.queue_directory.c_str(), kDirFlags & ~O_NOFOLLOW);
  if (root < 0) {
    error = options.queue_directory + ": " + std::strerror(errno);
    return false;
  }
  Walker walker(options, evaluate, consume, stats);
  for (std::string_view q : kMessageQueues)
    if (std::find(options.queues.begin(), options.queues.end(), q) != options.queues.end())
      walker.walk_queue(root, q);
  ::close(root);
  return true;
}

FileStatus read_queue_file(const std::string& queue_directory, const std::string& relpath,
                           FileInfo& info, Message& msg, std::string& error,
                           const ParseOptions& parse) {
  std::size_t slash = relpath.rfind('/');
  std::string dir = queue_directory + "/" + (slash == std::string::npos ? "" : relpath.substr(0, slash));
  std::string name = slash == std::string::npos ? relpath : relpath.substr(slash + 1);
  int dfd = ::open(dir.c_str(), kDirFlags & ~O_NOFOLLOW);
  if (dfd < 0) {
    if (errno == ENOENT) return FileStatus::kVanished;
    error = std::string("open directory: ") + std::strerror(errno);
    return FileStatus::kUnreadable;
  }
  static thread_local Worker w;
  FileStatus st = read_one(ScanSys::real(), dfd, name.c_str(), info, w, error, parse);
  ::close(dfd);
  if (st == FileStatus::kMessage) msg = w.msg;
  return st;
}

}  // namespace qpurge
