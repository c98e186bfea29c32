// process.cc - posix_spawn with pipes and a poll loop; see process.h.
#include "qpurge/process.h"

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

struct Pipe {
  int fd[2] = {-1, -1};
  bool open() { return ::pipe2(fd, O_CLOEXEC) == 0; }
  void close_all() {
    for (int& f : fd)
      if (f >= 0) ::close(f), f = -1;
  }
};

}  // namespace

CommandResult ProcessRunner::run(const std::vector<std::string>& argv, std::string_view input) {
  CommandResult res;
  if (argv.empty()) {
    res.error = "no command";
    return res;
  }
  if (::access(argv[0].c_str(), X_OK) != 0) {
    res.error = argv[0] + ": " + std::strerror(errno);
    return res;
  }
  Pipe in, out, err;
  if (!in.open() || !out.open() || !err.open()) {
    res.error = std::string("pipe: ") + std::strerror(errno);
    in.close_all(), out.close_all(), err.close_all();
    return res;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  // The child starts with default dispositions (qpurge may catch SIGINT).
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in.fd[0]), in.fd[0] = -1;
  ::close(out.fd[1]), out.fd[1] = -1;
  ::close(err.fd[1]), err.fd[1] = -1;
  if (rc != 0) {
    res.error = argv[0] + ": " + std::strerror(rc);
    in.close_all(), out.close_all(), err.close_all();
    return res;
  }
  res.started = true;

  // Write input and read both outputs at once, so neither side can block
  // the other on a full pipe.
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  if (input.empty()) ::close(in.fd[1]), in.fd[1] = -1;
  char buf[8192];
  while (out.fd[0] >= 0 || err.fd[0] >= 0 || in.fd[1] >= 0) {
    struct pollfd p[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) idx_in = n, p[n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) idx_out = n, p[n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) idx_err = n, p[n++] = {err.fd[0], POLLIN, 0};
    if (::poll(p, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (idx_in >= 0 && p[idx_in].revents) {
      ssize_t w = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size() ||
          (p[idx_in].revents & (POLLERR | POLLHUP))) {
        ::close(in.fd[1]);
        in.fd[1] = -1;
      }
    }
    for (auto [idx, pipe, sink] : {std::tuple{idx_out, &out, &res.out}, std::tuple{idx_err, &err, &res.err}}) {
      if (idx < 0 || !p[idx].revents) continue;
      ssize_t r = ::read(pipe->fd[0], buf, sizeof buf);
      if (r > 0) {
        sink->append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(pipe->fd[0]);
        pipe->fd[0] = -1;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    res.exited = true;
    res.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
  }
  return res;
}

}  // namespace qpurge
