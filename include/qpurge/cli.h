// cli.h - the qpurge command: options in, exit status out.
//
// Two steps, as the house style asks: parse_options() reads what the user
// typed and validates all of it (compiled matchers, queue names, action)
// before any work starts; run() resolves the queue directory, plans, shows,
// asks, acts and reports. The command-line layer is only glue: everything it
// calls lives in the layers below.
//
// Exit status contract:
//   0  done: the plan was shown (dry run) or every planned ID was acted on
//   1  nothing matched (or the operator declined at the prompt); nothing changed
//   2  usage or fatal error; nothing changed
//   3  partial: some planned ID was not acted on (not found, changed, failed,
//      interrupted), or some file was skipped as unreadable
#ifndef QPURGE_CLI_H_
#define QPURGE_CLI_H_

#include <string>
#include <vector>

namespace qpurge {

inline constexpr int kExitDone = 0;
inline constexpr int kExitNothing = 1;
inline constexpr int kExitFatal = 2;
inline constexpr int kExitPartial = 3;

// The whole program; argv as main() gets it.
int run_cli(int argc, char** argv);

}  // namespace qpurge

#endif  // QPURGE_CLI_H_
