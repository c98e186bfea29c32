// process.h - running a Postfix command without a shell.
//
// run_command() execs argv[0] directly (never through a shell), writes
// `input` to its standard input, and collects standard output and standard
// error. The child runs in its own process group, so a Ctrl-C at the
// terminal reaches qpurge, which decides when to stop, and not the postsuper
// that is in the middle of a batch.
#ifndef QPURGE_PROCESS_H_
#define QPURGE_PROCESS_H_

#include <string>
#include <string_view>
#include <vector>

namespace qpurge {

struct CommandResult {
  bool started = false;     // false: exec failed; see error
  bool exited = false;      // exited normally (else killed by a signal)
  int exit_status = 0;      // when exited
  int signal = 0;           // when killed
  std::string out;          // standard output
  std::string err;          // standard error
  std::string error;        // why it could not be run
};

// Interface so tests and the dry run can stand in for a real process.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual CommandResult run(const std::vector<std::string>& argv, std::string_view input) = 0;
};

class ProcessRunner : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv, std::string_view input) override;
};

}  // namespace qpurge

#endif  // QPURGE_PROCESS_H_
