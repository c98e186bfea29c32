// SPDX-License-Identifier: MIT
// consent.cc - asking before acting; see consent.h.
#include "qpurge/app/consent.h"

namespace qpurge {

Consent ask_consent(System& sys, bool yes, const std::string& digest, const std::string& question) {
  if (yes) return Consent::kGiven;
  if (!sys.stdin_is_terminal()) return Consent::kNoTerminal;
  return sys.confirm(digest + question) ? Consent::kGiven : Consent::kDeclined;
}

std::string no_terminal_refusal(const std::string& what) {
  return "standard input is not a terminal, so qpurge cannot ask before it " + what +
         ": add --yes to go on without asking (after a --dry-run); nothing changed";
}

std::string count_of(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string these(std::size_t n, const std::string& noun) { return (n == 1 ? "this " : "these ") + count_of(n, noun); }

}  // namespace qpurge
