// SPDX-License-Identifier: MIT
// outcome.cc - exit statuses; see outcome.h.
#include "qpurge/app/outcome.h"

namespace qpurge {

int exit_status(const Outcome& o) {
  switch (o.kind()) {
    case Outcome::Kind::kDone:
      return kExitDone;
    case Outcome::Kind::kNothing:
      return kExitNothing;
    case Outcome::Kind::kFatal:
      return o.changed() ? kExitPartial : kExitFatal;
    case Outcome::Kind::kPartial:
      return kExitPartial;
  }
  return kExitPartial;
}

Outcome combine_outcomes(const std::vector<Outcome>& all) {
  bool fatal = false, partial = false, done = false, changed = false;
  std::size_t planned = 0;
  for (const Outcome& x : all) {
    changed |= x.changed();
    planned += x.planned();
    fatal |= x.kind() == Outcome::Kind::kFatal;
    partial |= x.kind() == Outcome::Kind::kPartial;
    done |= x.kind() == Outcome::Kind::kDone;
  }
  Outcome::Kind kind = done ? Outcome::Kind::kDone : Outcome::Kind::kNothing;
  if (fatal && !changed && !partial)
    kind = Outcome::Kind::kFatal;
  else if (fatal || partial)
    kind = Outcome::Kind::kPartial;
  return Outcome::of(kind).with_planned(planned).with_changed(changed);
}

}  // namespace qpurge
