// SPDX-License-Identifier: MIT
// consent.h - asking before a run changes anything.
//
// An acting run (a purge, a restore, a prune) goes on with --yes; else it
// asks on the terminal, the digest of what it would do right above the
// question; and with no terminal on standard input (a cron line, ssh without
// -t, a pipe) it refuses, as apt-get and terraform do: nothing changed, and
// the refusal says to add --yes.
#ifndef QPURGE_APP_CONSENT_H_
#define QPURGE_APP_CONSENT_H_

#include <cstddef>
#include <string>

#include "qpurge/util/system.h"

namespace qpurge {

enum class Consent { kGiven, kDeclined, kNoTerminal };

// `digest`: lines shown on the terminal above `question` ("" = none).
Consent ask_consent(System& sys, bool yes, const std::string& digest, const std::string& question);

// The fatal line of kNoTerminal: "standard input is not a terminal, so
// qpurge cannot ask before it WHAT: ...".
std::string no_terminal_refusal(const std::string& what);

// "1 message", "3 messages": `noun` takes an "s" unless n is 1.
std::string count_of(std::size_t n, const std::string& noun);
// "this 1 message", "these 3 messages".
std::string these(std::size_t n, const std::string& noun);

}  // namespace qpurge

#endif  // QPURGE_APP_CONSENT_H_
