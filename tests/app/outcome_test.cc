// SPDX-License-Identifier: MIT
// outcome_test.cc - an Outcome's exit status, alone and over instances, and
// that its count and its flag cannot be given in each other's place.
#include "qpurge/app/outcome.h"

#include <gtest/gtest.h>

#include <cstddef>

namespace qpurge {
namespace {

template <typename T>
concept PlannedTakes = requires(Outcome o, T v) {
  o.with_planned(v);
};
template <typename T>
concept ChangedTakes = requires(Outcome o, T v) {
  o.with_changed(v);
};

// The old positional outcome(kind, planned, changed) took a swapped call.
static_assert(PlannedTakes<std::size_t> && !PlannedTakes<bool>);
static_assert(ChangedTakes<bool> && !ChangedTakes<std::size_t> && !ChangedTakes<int>);
static_assert(!std::is_constructible_v<Outcome, Outcome::Kind, bool, std::size_t>);

TEST(OutcomeTest, SaysNothingChangedUnlessTold) {
  const Outcome o = Outcome::of(Outcome::Kind::kDone);
  EXPECT_EQ(o.kind(), Outcome::Kind::kDone);
  EXPECT_EQ(o.planned(), 0u);
  EXPECT_FALSE(o.changed());
  const Outcome p = o.with_planned(7).with_changed(true);
  EXPECT_EQ(p.planned(), 7u);
  EXPECT_TRUE(p.changed());
  EXPECT_EQ(Outcome::fatal().kind(), Outcome::Kind::kFatal);
  EXPECT_EQ(Outcome::nothing().kind(), Outcome::Kind::kNothing);
}

TEST(OutcomeTest, ExitStatusOfEachKind) {
  EXPECT_EQ(exit_status(Outcome::of(Outcome::Kind::kDone)), kExitDone);
  EXPECT_EQ(exit_status(Outcome::nothing()), kExitNothing);
  EXPECT_EQ(exit_status(Outcome::fatal()), kExitFatal);
  EXPECT_EQ(exit_status(Outcome::fatal().with_changed(true)), kExitPartial) << "fatal after a change is partial";
  EXPECT_EQ(exit_status(Outcome::of(Outcome::Kind::kPartial)), kExitPartial);
}

TEST(OutcomeTest, OverInstances) {
  using K = Outcome::Kind;
  auto o = [](K k, bool changed) { return Outcome::of(k).with_changed(changed); };
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kDone, true), o(K::kDone, true)})), kExitDone);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kDone, true), o(K::kNothing, false)})), kExitDone);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kNothing, false), o(K::kNothing, false)})), kExitNothing);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kFatal, false), o(K::kNothing, false)})), kExitFatal);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kDone, true), o(K::kFatal, false)})), kExitPartial);
  EXPECT_EQ(exit_status(combine_outcomes({o(K::kPartial, true), o(K::kDone, true)})), kExitPartial);
  const Outcome sum = combine_outcomes({Outcome::nothing().with_planned(2), Outcome::fatal().with_planned(3)});
  EXPECT_EQ(sum.planned(), 5u);
  EXPECT_FALSE(sum.changed());
}

}  // namespace
}  // namespace qpurge
