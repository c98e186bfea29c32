// SPDX-License-Identifier: MIT
// process.cc - posix_spawn with pipes and a poll loop; see process.h.
#include "qpurge/postfix/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

extern char** environ;

namespace qpurge {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Collects the input and runs the command at finish(): the default session
// for runners that only know run().
class BufferedSession : public CommandSession {
 public:
  BufferedSession(CommandRunner& runner, std::vector<std::string> argv) : runner_(runner), argv_(std::move(argv)) {}
  bool write(std::string_view data) override {
    input_.append(data);
    return true;
  }
  CommandResult finish() override { return runner_.run(argv_, input_); }

 private:
  CommandRunner& runner_;
  std::vector<std::string> argv_;
  std::string input_;
};

class ProcessSession : public CommandSession {
 public:
  ~ProcessSession() override {
    if (pid_ > 0) finish();
  }

  bool start(const std::vector<std::string>& argv) {
    if (argv.empty()) {
      res_.error = "no command";
      return false;
    }
    if (::access(argv[0].c_str(), X_OK) != 0) {
      res_.error = argv[0] + ": " + std::strerror(errno);
      return false;
    }
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return fail("pipe");
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]), ::close(in[1]);
      return fail("pipe");
    }
    if (::pipe2(err, O_CLOEXEC) != 0) {
      ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
      return fail("pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);  // a Ctrl-C reaches qpurge, not the child
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv[0].c_str(), &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]), ::close(out[1]), ::close(err[1]);
    in_ = in[1], out_ = out[0], err_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      res_.error = argv[0] + ": " + std::strerror(rc);
      close_fd(in_), close_fd(out_), close_fd(err_);
      return false;
    }
    ::fcntl(in_, F_SETFL, O_NONBLOCK);
    res_.started = true;
    return true;
  }

  bool write(std::string_view data) override {
    while (!data.empty()) {
      if (in_ < 0) return false;
      pump(&data);
    }
    return in_ >= 0;
  }

  CommandResult finish() override {
    close_fd(in_);
    while (out_ >= 0 || err_ >= 0) pump(nullptr);
    if (pid_ > 0) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      if (WIFEXITED(status)) {
        res_.exited = true;
        res_.exit_status = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        res_.signal = WTERMSIG(status);
      }
    }
    return res_;
  }

  CommandResult result() const { return res_; }

 private:
  bool fail(const char* what) {
    res_.error = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  // One poll round: write what the child takes of *data (when given), read
  // what it printed, so neither side can block the other on a full pipe.
  void pump(std::string_view* data) {
    struct pollfd p[3];
    int n = 0, ii = -1, io = -1, ie = -1;
    if (data && in_ >= 0) ii = n, p[n++] = {in_, POLLOUT, 0};
    if (out_ >= 0) io = n, p[n++] = {out_, POLLIN, 0};
    if (err_ >= 0) ie = n, p[n++] = {err_, POLLIN, 0};
    if (n == 0) return;
    if (::poll(p, static_cast<nfds_t>(n), -1) < 0) return;  // EINTR: the caller loops
    if (ii >= 0 && p[ii].revents) {
      ssize_t w = ::write(in_, data->data(), data->size());
      if (w > 0)
        data->remove_prefix(static_cast<std::size_t>(w));
      else if (w < 0 && errno != EAGAIN && errno != EINTR)
        close_fd(in_);  // EPIPE: it stopped reading
    }
    char buf[8192];
    for (auto [idx, fd, sink] : {std::tuple{io, &out_, &res_.out}, std::tuple{ie, &err_, &res_.err}}) {
      if (idx < 0 || !p[idx].revents) continue;
      ssize_t r = ::read(*fd, buf, sizeof buf);
      if (r > 0)
        sink->append(buf, static_cast<std::size_t>(r));
      else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        close_fd(*fd);
    }
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  CommandResult res_;
};

// A session whose command never started: every write fails, finish() says why.
class FailedSession : public CommandSession {
 public:
  explicit FailedSession(CommandResult r) : res_(std::move(r)) {}
  bool write(std::string_view) override { return false; }
  CommandResult finish() override { return res_; }

 private:
  CommandResult res_;
};

}  // namespace

std::unique_ptr<CommandSession> CommandRunner::start(const std::vector<std::string>& argv) {
  return std::make_unique<BufferedSession>(*this, argv);
}

std::unique_ptr<CommandSession> ProcessRunner::start(const std::vector<std::string>& argv) {
  auto s = std::make_unique<ProcessSession>();
  if (!s->start(argv)) return std::make_unique<FailedSession>(s->result());
  return s;
}

CommandResult ProcessRunner::run(const std::vector<std::string>& argv, std::string_view input) {
  auto s = start(argv);
  s->write(input);
  return s->finish();
}

}  // namespace qpurge
