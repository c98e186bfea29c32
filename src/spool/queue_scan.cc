// SPDX-License-Identifier: MIT
// queue_scan.cc - parallel, ordered queue walk; see queue_scan.h.
#include "qpurge/spool/queue_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_id.h"

namespace qpurge {
namespace {

constexpr std::size_t kChunk = 64;  // files per unit of parallel work

bool permission_denied(int err) { return err == EACCES || err == EPERM; }

// "PATH: Permission denied: run as root or as the mail_owner (postfix)",
// naming the owner of the directory (Postfix's queue directories belong to
// mail_owner) when it is someone other than root.
std::string denied_message(const std::string& path, int err) {
  std::string msg = path + ": " + std::strerror(err) + ": run as root or as the mail_owner";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_uid != 0)
    if (struct passwd* pw = ::getpwuid(st.st_uid)) msg += std::string(" (") + pw->pw_name + ")";
  return msg;
}

// A directory entry, ordered by name: `key` holds the name's first eight
// bytes big-endian (zero-padded), so most comparisons of a sort are one
// integer comparison, not a memcmp() call.
struct Entry {
  Entry(std::string_view n, unsigned char t) : name(n), type(t) {
    for (std::size_t i = 0; i < 8; ++i) key = key << 8 | (i < n.size() ? static_cast<unsigned char>(n[i]) : 0U);
  }
  bool operator<(const Entry& o) const { return key != o.key ? key < o.key : name < o.name; }

  std::string name;
  unsigned char type;
  std::uint64_t key = 0;
};

constexpr int kFileFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Per-thread scratch: reused for every file that thread reads.
struct Worker {
  RecordReader reader;
  Message msg;
};

void fill_info(FileInfo& info, const struct stat& st) {
  info.inode = st.st_ino;
  info.device = st.st_dev;
  info.file_size = static_cast<std::uint64_t>(st.st_size);
  info.mode = st.st_mode;
  info.mtime = st.st_mtime;
}

// Opens, checks and parses one file relative to dirfd.
FileStatus read_one(const SysCalls& sys, int dirfd, const char* name, FileInfo& info, RecordReader& reader,
                    Message& msg, std::string& error, const ParseOptions& parse) {
  int fd = sys.open_at(dirfd, name, kFileFlags, 0);
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
  bool ok = parse_queue_file(source, reader, msg, error, parse);
  ::close(fd);
  return ok ? FileStatus::kMessage : FileStatus::kUnreadable;
}

// An open directory shared by the jobs that read files in it.
struct DirHandle {
  DirHandle(int f, std::string_view q, std::shared_ptr<const std::string> p) : fd(f), queue(q), path(std::move(p)) {}
  ~DirHandle() {
    if (fd >= 0) ::close(fd);
  }
  int fd;
  std::string_view queue;
  std::shared_ptr<const std::string> path;
};

// A run of files of one directory, or one report about a directory.
struct Job {
  std::shared_ptr<DirHandle> dir;
  std::vector<Entry> entries;
  std::vector<ScanRecord> out;
  bool prefilled = false;  // a report made while listing: nothing to run
  bool done = false;       // set once by whoever ran it; guarded by Walker::mu_
};

// The main thread walks directories and queues jobs; workers (and the main
// thread, when it has nothing else to do) read and parse; the main thread
// hands finished jobs to the consumer strictly in queue order. Listing is
// held back while too many files are waiting, so memory stays bounded.
class Walker {
 public:
  Walker(const ScanOptions& o, const Evaluator& ev, const Consumer& co, ScanStats& st)
      : opt_(o), evaluate_(ev), consume_(co), stats_(st), sys_(o.sys ? *o.sys : SysCalls::real()) {
    main_worker_ = std::make_unique<Worker>();
  }

  // Stops the workers (those still queued jobs are dropped unless finish()
  // ran) and joins them: nothing may wait on mu_ or the condition variables
  // once they are destroyed.
  ~Walker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      listing_done_ = true;
      abandoned_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Starts the worker threads (the calling thread is the first of `n`).
  bool start(unsigned n, std::string& error) {
    for (unsigned i = 1; i < n; ++i) {
      workers_.push_back(std::make_unique<Worker>());
      Worker* w = workers_.back().get();
      try {
        threads_.push_back(sys_.spawn_thread([this, w] { worker_loop(*w); }));
      } catch (const std::system_error& e) {
        error = "cannot start scan thread " + std::to_string(i + 1) + " of " + std::to_string(n) + ": " +
                e.code().message();
        return false;
      }
    }
    return true;
  }

  // False with `error` set when permission to read the queue is denied.
  bool walk_queue(int rootfd, std::string_view queue, std::string& error) {
    auto path = std::make_shared<const std::string>(queue);
    int fd = sys_.open_at(rootfd, std::string(queue).c_str(), kDirFlags, 0);
    if (fd < 0) {
      int e = errno;
      if (e == ENOENT) {
        ++stats_.missing_queues;
        return true;
      }
      if (permission_denied(e)) {
        error = denied_message(opt_.queue_directory + "/" + std::string(queue), e);
        return false;
      }
      report_dir(queue, path, e);
      return true;
    }
    walk_dir(std::make_shared<DirHandle>(fd, queue, path));
    return true;
  }

  // Processes and hands over everything still queued.
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      listing_done_ = true;
    }
    work_cv_.notify_all();
    drain(0);
  }

 private:
  static constexpr std::size_t kMaxWaitingFiles = 32 * 1024;

  void report_dir(std::string_view queue, std::shared_ptr<const std::string> dir, int err) {
    auto job = std::make_unique<Job>();
    job->out.resize(1);
    ScanRecord& rec = job->out[0];
    rec.info.queue = queue;
    rec.info.dir = std::move(dir);
    rec.status = FileStatus::kBadDirectory;
    rec.error = std::string("open directory: ") + std::strerror(err);
    job->prefilled = true;
    push(std::move(job), 0);
  }

  void walk_dir(std::shared_ptr<DirHandle> dh) {
    int dupfd = ::fcntl(dh->fd, F_DUPFD_CLOEXEC, 0);
    DIR* d = dupfd >= 0 ? ::fdopendir(dupfd) : nullptr;
    if (!d) {
      int e = errno;
      if (dupfd >= 0) ::close(dupfd);
      report_dir(dh->queue, dh->path, e);
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
          is_dir = ::fstatat(dh->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) subdirs.emplace_back(name);
        continue;
      }
      if (!is_queue_id(name)) {
        ++stats_.ignored_names;
        continue;
      }
      files.emplace_back(name, de->d_type);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
    std::sort(subdirs.begin(), subdirs.end());
    for (std::size_t begin = 0; begin < files.size(); begin += kChunk) {
      auto job = std::make_unique<Job>();
      job->dir = dh;
      std::size_t end = std::min(files.size(), begin + kChunk);
      job->entries.assign(std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(begin)),
                          std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(end)));
      push(std::move(job), end - begin);
    }
    for (const std::string& sub : subdirs) {
      auto subpath = std::make_shared<const std::string>(*dh->path + "/" + sub);
      int sfd = sys_.open_at(dh->fd, sub.c_str(), kDirFlags, 0);
      if (sfd < 0) {
        report_dir(dh->queue, subpath, errno);
        continue;
      }
      walk_dir(std::make_shared<DirHandle>(sfd, dh->queue, subpath));
    }
  }

  void push(std::unique_ptr<Job> job, std::size_t files) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
      waiting_files_ += files;
    }
    work_cv_.notify_one();
    emit_ready();
    if (waiting_files_ > kMaxWaitingFiles) drain(kMaxWaitingFiles / 2);
  }

  // Takes the next job nobody runs yet; nullptr if none. Caller holds mu_.
  Job* claim() {
    if (abandoned_) return nullptr;
    if (next_run_ < jobs_.size()) return jobs_[next_run_++].get();
    return nullptr;
  }

  void run_job(Job& job, Worker& w) {
    if (job.prefilled) return;
    job.out.resize(job.entries.size());
    for (std::size_t i = 0; i < job.entries.size(); ++i) process(*job.dir, job.entries[i], w, job.out[i]);
  }

  void worker_loop(Worker& w) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      Job* job = claim();
      if (!job) {
        if (listing_done_) return;
        work_cv_.wait(lock);
        continue;
      }
      lock.unlock();
      run_job(*job, w);
      lock.lock();
      job->done = true;
      done_cv_.notify_all();
    }
  }

  // Hands finished jobs at the front to the consumer, without waiting.
  void emit_ready() {
    for (;;) {
      std::unique_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (jobs_.empty() || !jobs_.front()->done) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        --next_run_;
      }
      emit(*job);
    }
  }

  // Works and emits until at most `limit` files wait.
  void drain(std::size_t limit) {
    for (;;) {
      emit_ready();
      std::unique_lock<std::mutex> lock(mu_);
      if (jobs_.empty() || waiting_files_ <= limit) {
        if (jobs_.empty()) return;
        if (limit > 0) return;
      }
      Job* job = claim();
      if (job) {
        lock.unlock();
        run_job(*job, *main_worker_);
        lock.lock();
        job->done = true;
        continue;
      }
      done_cv_.wait(lock, [&] { return jobs_.front()->done; });
    }
  }

  void process(const DirHandle& dh, const Entry& e, Worker& w, ScanRecord& rec) {
    rec.info.queue = dh.queue;
    rec.info.dir = dh.path;
    rec.info.id = e.name;
    if (e.type != DT_REG && e.type != DT_UNKNOWN) {
      rec.status = FileStatus::kNotRegular;
      rec.error = "not a regular file";
      if (e.type == DT_DIR) rec.error = "a directory, not a queue file";
      if (e.type == DT_LNK) rec.error = "a symbolic link, not a queue file";
      if (e.type == DT_FIFO) rec.error = "a FIFO, not a queue file";
      return;
    }
    rec.status = read_one(sys_, dh.fd, e.name.c_str(), rec.info, w.reader, w.msg, rec.error, opt_.parse);
    if (rec.status == FileStatus::kMessage) rec.result = evaluate_(rec.info, w.msg);
  }

  void emit(Job& job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      waiting_files_ -= job.entries.size();
    }
    for (ScanRecord& rec : job.out) {
      switch (rec.status) {
        case FileStatus::kMessage:
          ++stats_.messages, ++stats_.files;
          break;
        case FileStatus::kInProgress:
          ++stats_.in_progress, ++stats_.files;
          break;
        case FileStatus::kUnreadable:
          ++stats_.unreadable, ++stats_.files;
          break;
        case FileStatus::kNotRegular:
          ++stats_.not_regular, ++stats_.files;
          break;
        case FileStatus::kVanished:
          ++stats_.vanished, ++stats_.files;
          break;
        case FileStatus::kBadDirectory:
          ++stats_.bad_directories;
          break;
      }
      consume_(rec);
    }
  }

  const ScanOptions& opt_;
  const Evaluator& evaluate_;
  const Consumer& consume_;
  ScanStats& stats_;
  const SysCalls& sys_;
  std::unique_ptr<Worker> main_worker_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::unique_ptr<Job>> jobs_;  // queued, in scan order
  std::size_t next_run_ = 0;               // jobs_[0, next_run_) are claimed
  std::size_t waiting_files_ = 0;
  bool listing_done_ = false;
  bool abandoned_ = false;  // the scan failed: run no more jobs
};

}  // namespace

bool scan_queues(const ScanOptions& options, const Evaluator& evaluate, const Consumer& consume, ScanStats& stats,
                 std::string& error) {
  if (options.threads > kMaxScanThreads) {
    error = "internal error: " + std::to_string(options.threads) + " scan threads requested (at most " +
            std::to_string(kMaxScanThreads) + ")";
    return false;
  }
  const SysCalls& sys = options.sys ? *options.sys : SysCalls::real();
  int root = sys.open_at(AT_FDCWD, options.queue_directory.c_str(), kDirFlags & ~O_NOFOLLOW, 0);
  if (root < 0) {
    int e = errno;
    error = permission_denied(e) ? denied_message(options.queue_directory, e)
                                 : options.queue_directory + ": " + std::strerror(e);
    return false;
  }
  bool ok = true;
  {
    const unsigned n =
        options.threads ? options.threads : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxScanThreads);
    Walker walker(options, evaluate, consume, stats);
    ok = walker.start(n, error);
    for (std::string_view q : kMessageQueues)
      if (ok && std::find(options.queues.begin(), options.queues.end(), q) != options.queues.end())
        ok = walker.walk_queue(root, q, error);
    if (ok) walker.finish();
  }
  ::close(root);
  return ok;
}

QueueFileRereader::~QueueFileRereader() {
  for (auto& d : dirs_) ::close(d.second);
}

FileStatus QueueFileRereader::read(const std::string& relpath, FileInfo& info, const Message*& msg, std::string& error,
                                   const ParseOptions& parse) {
  std::size_t slash = relpath.rfind('/');
  std::string dir = slash == std::string::npos ? "" : relpath.substr(0, slash);
  std::string name = slash == std::string::npos ? relpath : relpath.substr(slash + 1);
  int dfd = -1;
  for (auto& d : dirs_)
    if (d.first == dir) dfd = d.second;
  if (dfd < 0) {
    dfd = ::open((queue_directory_ + "/" + dir).c_str(), kDirFlags & ~O_NOFOLLOW);
    if (dfd < 0) {
      if (errno == ENOENT) return FileStatus::kVanished;
      error = std::string("open directory: ") + std::strerror(errno);
      return FileStatus::kUnreadable;
    }
    dirs_.emplace_back(dir, dfd);
  }
  FileStatus st = read_one(SysCalls::real(), dfd, name.c_str(), info, reader_, msg_, error, parse);
  msg = &msg_;
  return st;
}

std::optional<std::string> find_message(const std::string& queue_directory, const std::string& id,
                                        std::uint64_t inode) {
  std::optional<std::string> found = std::string();
  for (std::string_view queue : kMessageQueues) {
    for (int depth : {0, 1, 2}) {
      // defer_log_path() hashes as Postfix's dir_forest does: "defer/H[/H]/ID".
      const std::string rel = defer_log_path(id, depth);
      const std::string path = queue_directory + "/" + std::string(queue) + rel.substr(rel.find('/'));
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0) {
        if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_ino) == inode) return std::string(queue);
      } else if (errno != ENOENT && errno != ENOTDIR) {
        found = std::nullopt;  // unless it turns up elsewhere, it cannot be told
      }
    }
  }
  return found;
}

}  // namespace qpurge
