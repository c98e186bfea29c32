// SPDX-License-Identifier: MIT
// outcome.h - what a run of any mode comes to (purge, restore, listing and
// pruning archive runs), and the exit status it gives.
//
// An Outcome is made by naming what it holds: Outcome::of(kind), then
// with_planned(messages) and with_changed(flag). The count and the flag
// cannot be swapped: with_planned() refuses a bool and with_changed()
// anything but a bool, at compile time. An Outcome says nothing changed and
// nothing was planned unless it is told otherwise.
//
// Exit status contract: 0 done, 1 nothing to do (or declined), 2 fatal
// (nothing changed), 3 partial.
#ifndef QPURGE_APP_OUTCOME_H_
#define QPURGE_APP_OUTCOME_H_

#include <concepts>
#include <cstddef>
#include <vector>

namespace qpurge {

inline constexpr int kExitDone = 0;
inline constexpr int kExitNothing = 1;
inline constexpr int kExitFatal = 2;
inline constexpr int kExitPartial = 3;

class Outcome {
 public:
  enum class Kind { kDone, kNothing, kFatal, kPartial };

  static Outcome of(Kind kind) { return Outcome(kind); }
  static Outcome fatal() { return Outcome(Kind::kFatal); }
  static Outcome nothing() { return Outcome(Kind::kNothing); }

  // Messages in the plan (selected, on a dry run; to restore, on a restore).
  Outcome with_planned(std::size_t messages) const {
    Outcome o = *this;
    o.planned_ = messages;
    return o;
  }
  template <std::same_as<bool> T>
  Outcome with_planned(T) const = delete;
  // Whether this run changed the queue (or an archive).
  Outcome with_changed(bool changed) const {
    Outcome o = *this;
    o.changed_ = changed;
    return o;
  }
  template <typename T>
  Outcome with_changed(T) const = delete;

  Kind kind() const { return kind_; }
  std::size_t planned() const { return planned_; }
  bool changed() const { return changed_; }

 private:
  explicit Outcome(Kind kind) : kind_(kind) {}
  Kind kind_;
  std::size_t planned_ = 0;
  bool changed_ = false;
};

// 0 done, 1 nothing to do (or declined), 2 fatal (nothing changed), 3
// partial (a fatal condition after something changed is partial too).
int exit_status(const Outcome& outcome);
// Over instances: 0 only if every instance did all it planned, 1 if none had
// anything to do, 2 only if a fatal error stopped the run and nothing changed
// anywhere, 3 otherwise. The planned counts add up.
Outcome combine_outcomes(const std::vector<Outcome>& outcomes);

}  // namespace qpurge

#endif  // QPURGE_APP_OUTCOME_H_
