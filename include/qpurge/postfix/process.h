// SPDX-License-Identifier: MIT
// process.h - running a Postfix command without a shell.
//
// run_command() execs argv[0] directly (never through a shell), writes
// `input` to its standard input, and collects standard output and standard
// error. The child runs in its own process group, so a Ctrl-C at the
// terminal reaches qpurge, which decides when to stop, and not the postsuper
// that is in the middle of a batch.
#ifndef QPURGE_POSTFIX_PROCESS_H_
#define QPURGE_POSTFIX_PROCESS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qpurge {

struct CommandResult {
  bool started = false;  // false: exec failed; see error
  bool exited = false;   // exited normally (else killed by a signal)
  int exit_status = 0;   // when exited
  int signal = 0;        // when killed
  std::string out;       // standard output
  std::string err;       // standard error
  std::string error;     // why it could not be run
};

// A command that is running: its standard input is written piece by piece
// (so each piece can be checked right before it goes), its output is
// collected all along, and finish() closes the input and waits.
class CommandSession {
 public:
  virtual ~CommandSession() = default;
  // False when the command can no longer take input (it exited, or closed it).
  virtual bool write(std::string_view data) = 0;
  virtual CommandResult finish() = 0;
};

// Interface so tests can stand in for a real process.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual CommandResult run(const std::vector<std::string>& argv, std::string_view input) = 0;
  // Starts argv for streamed input. The default collects the input and
  // hands it to run() at finish(), for runners that only implement run().
  virtual std::unique_ptr<CommandSession> start(const std::vector<std::string>& argv);
};

class ProcessRunner : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv, std::string_view input) override;
  std::unique_ptr<CommandSession> start(const std::vector<std::string>& argv) override;
};

}  // namespace qpurge

#endif  // QPURGE_POSTFIX_PROCESS_H_
