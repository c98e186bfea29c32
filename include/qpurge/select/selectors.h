// SPDX-License-Identifier: MIT
// selectors.h - the table of selector options: one entry drives the
// command-line option, its help, its --exclude- twin and the rebuilding of a
// matcher from a saved plan.
//
// args.cc uses the names and help; config.cc the factories. A factory
// validates its value and throws std::invalid_argument with what is wrong.
#ifndef QPURGE_SELECT_SELECTORS_H_
#define QPURGE_SELECT_SELECTORS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/select/match.h"

namespace qpurge {

struct SelectorSpec {
  const char* name;  // option without "--"
  const char* arg;   // value name in the help
  const char* help;
  std::unique_ptr<Criterion> (*make)(const std::string& value, bool regex);
  bool excludable;
};

const std::vector<SelectorSpec>& selector_specs();

// "--exclude-sender" -> the sender spec with exclude = true; nullptr when the
// option is no selector (or names an exclusion the selector does not have).
const SelectorSpec* find_selector(std::string_view option, bool& exclude);

}  // namespace qpurge

#endif  // QPURGE_SELECT_SELECTORS_H_
