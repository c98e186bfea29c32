// SPDX-License-Identifier: MIT
// cli.h - the qpurge command: argv in, exit status out.
//
// The thin entry: refuse set-uid, read the arguments (args.h), load a plan
// file, make the configuration (config.h), run the engine (purge.h) on one
// instance or on every instance postmulti lists, and turn the Outcome into
// the exit status. Errors are reported once, here or by the Printer. A bug
// in qpurge (an internal check that fails) is reported as "qpurge: internal
// error: WHERE: WHAT" and changes nothing that was not already changed.
//
// Exit status contract (outcome.h): 0 done, 1 nothing matched or declined,
// 2 usage or fatal error (nothing changed), 3 partial.
#ifndef QPURGE_APP_CLI_H_
#define QPURGE_APP_CLI_H_

#include <ostream>

#include "qpurge/app/outcome.h"
#include "qpurge/postfix/process.h"
#include "qpurge/util/system.h"

namespace qpurge {

// The whole program; argv as main() gets it.
int run_cli(int argc, char** argv);

// The same with its side effects given (tests).
int run_cli(int argc, const char* const* argv, System& system, CommandRunner& runner, std::ostream& out,
            std::ostream& err);

}  // namespace qpurge

#endif  // QPURGE_APP_CLI_H_
