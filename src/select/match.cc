// SPDX-License-Identifier: MIT
// match.cc - the AND/OR/mixed evaluation of criteria groups; see match.h.
// The criteria themselves are criteria.cc.
#include "qpurge/select/match.h"

#include <string>
#include <vector>

#include "qpurge/select/mime.h"

namespace qpurge {
namespace {

struct GroupTruth {
  bool yes = false;
  bool undecided = false;                           // some alternative was, and none said yes
  UndecidedCause cause = UndecidedCause::kPattern;  // of the last undecided alternative
  bool unknown = false;
  bool plain_no() const { return !yes && !undecided && !unknown; }
  // A selector passes on yes only; an exclusion only on a plain no.
  bool passes(bool exclude) const { return exclude ? plain_no() : yes; }
};

std::string group_label(const CriterionGroup& g) {
  std::string out = g.option;
  for (std::size_t i = 0; i < g.values.size(); ++i) {
    out += i ? " | " : " ";
    out += g.values[i];
  }
  return out;
}

}  // namespace

struct Matcher::GaveUp {
  std::mutex mu;
  std::vector<UndecidedCriterion> labels;
};

Matcher::Matcher() : gave_up_(std::make_unique<GaveUp>()) {}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

void Matcher::add(CriterionGroup group) {
  if (!group.alternatives.empty()) group.side = group.alternatives.front()->side();
  groups_.push_back(std::move(group));
}

bool Matcher::needs_reasons() const {
  for (const auto& g : groups_)
    for (const auto& c : g.alternatives)
      if (c->needs_reasons()) return true;
  return false;
}

bool Matcher::needs_headers() const {
  for (const auto& g : groups_)
    for (const auto& c : g.alternatives)
      if (c->needs_headers()) return true;
  return false;
}

ContentNeed Matcher::needs_content() const {
  ContentNeed need = ContentNeed::kNone;
  for (const auto& g : groups_)
    for (const auto& c : g.alternatives) need = std::max(need, c->needs_content());
  return need;
}

bool Matcher::has_recipient_side() const {
  for (const auto& g : groups_)
    if (g.side == Side::kRecipient) return true;
  return false;
}

void Matcher::note_undecided(const CriterionGroup& g, std::size_t i, UndecidedCause cause) const {
  if (!gave_up_) return;
  std::string label = i < g.values.size() ? g.option + " " + g.values[i] : group_label(g);
  std::lock_guard<std::mutex> lock(gave_up_->mu);
  for (const auto& l : gave_up_->labels)
    if (l.label == label && l.cause == cause) return;
  gave_up_->labels.push_back(UndecidedCriterion{std::move(label), cause});
}

std::vector<UndecidedCriterion> Matcher::undecided_criteria() const {
  if (!gave_up_) return {};
  std::lock_guard<std::mutex> lock(gave_up_->mu);
  return gave_up_->labels;
}

std::string_view undecided_cause_text(UndecidedCause cause) {
  switch (cause) {
    case UndecidedCause::kContent:
      return "the content of some messages could not be read or parsed as MIME (each is named above)";
    case UndecidedCause::kCut:
      return "some messages were cut at --body-limit (or at the content read limit) before anything matched";
    case UndecidedCause::kNoIdn:
      return "a domain that is not ASCII could not be converted to its A-label form to compare it: "
             "the IDN module (qpurge_idn.so) cannot be loaded";
    case UndecidedCause::kPattern:
      break;
  }
  return "the pattern gave up on some input";
}

namespace {

void combine(GroupTruth& g, Truth t) {
  g.yes |= t == Truth::kYes;
  g.undecided |= t == Truth::kUndecided;
  g.unknown |= t == Truth::kUnknown;
}

// Why `c` answered undecided for `s`: a content criterion whose content is
// missing or unparsable, or was cut; otherwise its pattern gave up.
UndecidedCause undecided_cause(const Criterion& c, const Subject& s) {
  const ContentNeed need = c.needs_content();
  if (need == ContentNeed::kNone) return c.converts_domains() ? UndecidedCause::kNoIdn : UndecidedCause::kPattern;
  if (!s.content || !(need == ContentNeed::kHeaders ? s.content->headers_parsed : s.content->parsed))
    return UndecidedCause::kContent;
  const bool cut = need == ContentNeed::kHeaders ? s.content->headers_truncated
                   : need == ContentNeed::kParts ? s.content->parts_truncated
                                                 : s.content->truncated;
  return cut ? UndecidedCause::kCut : UndecidedCause::kPattern;
}

// Tests the alternatives of `g` (ORed) with `one`, up to the first yes;
// `note(i, cause)` hears of each alternative that could not decide. A yes
// outweighs an undecided or unknown alternative; what is left of those goes
// into `v`.
template <typename One, typename Note>
GroupTruth test_group(const CriterionGroup& g, const Subject& s, Verdict& v, One&& one, Note&& note) {
  GroupTruth t;
  for (std::size_t i = 0; i < g.alternatives.size() && !t.yes; ++i) {
    Truth r = one(*g.alternatives[i]);
    if (r == Truth::kUndecided) {
      t.cause = undecided_cause(*g.alternatives[i], s);
      note(i, t.cause);
    }
    combine(t, r);
  }
  if (t.yes) t.undecided = t.unknown = false;
  v.undecided |= t.undecided;
  v.reason_unknown |= t.unknown;
  return t;
}

// Why one message was undecided, for --explain.
const char* explained_cause(UndecidedCause cause) {
  switch (cause) {
    case UndecidedCause::kContent:
      return "undecided (the content could not be read or parsed as MIME)";
    case UndecidedCause::kCut:
      return "undecided (nothing matched before the cut at the limit)";
    case UndecidedCause::kNoIdn:
      return "undecided (a domain that is not ASCII, and no IDN module to convert it)";
    case UndecidedCause::kPattern:
      break;
  }
  return "undecided (the pattern gave up on this input)";
}

std::string message_explanation(const CriterionGroup& g, const GroupTruth& t, bool pass) {
  std::string line = group_label(g) + ": ";
  if (t.undecided)
    line += explained_cause(t.cause);
  else if (t.unknown)
    line += "reason unknown";
  else
    line += pass ? "passed" : "failed";
  return line;
}

std::string recipient_explanation(const CriterionGroup& g, std::size_t held, std::size_t n, std::size_t undecided,
                                  std::size_t unknown) {
  std::string line =
      group_label(g) + ": passed for " + std::to_string(held) + " of " + std::to_string(n) + " recipients";
  if (undecided) line += "; undecided for " + std::to_string(undecided) + " (the pattern gave up on this input)";
  if (unknown) line += "; reason unknown for " + std::to_string(unknown);
  return line;
}

}  // namespace

bool Matcher::evaluate_message_side(const Subject& s, bool explain, Verdict& v) const {
  bool ok = true;
  for (const auto& g : groups_) {
    if (g.side != Side::kMessage) continue;
    GroupTruth t = test_group(
        g, s, v, [&](const Criterion& c) { return c.test_message(s); },
        [&](std::size_t i, UndecidedCause cause) { note_undecided(g, i, cause); });
    bool pass = t.passes(g.exclude);
    if (explain) v.explain.push_back(message_explanation(g, t, pass));
    if (!pass) {
      ok = false;
      if (!explain) return false;
    }
  }
  return ok;
}

void Matcher::evaluate_recipient_side(const Subject& s, bool explain, bool ok, Verdict& v) const {
  const std::size_t n = s.msg.recipients.size();
  if (!has_recipient_side()) {
    if (ok) {
      v.kind = VerdictKind::kSelected;
      v.matched.assign(n, true);
    }
    return;
  }
  // Scratch kept by the thread: most messages match nothing, and then the
  // verdict needs no vector of its own (no allocation per message).
  thread_local std::vector<bool> matched, excluded;
  matched.assign(n, true);
  excluded.assign(n, false);
  for (const auto& g : groups_) {
    if (g.side != Side::kRecipient) continue;
    std::size_t held = 0, undecided = 0, unknown = 0;
    for (std::size_t i = 0; i < n; ++i) {
      GroupTruth t = test_group(
          g, s, v, [&](const Criterion& c) { return c.test_recipient(s, i); },
          [&](std::size_t alternative, UndecidedCause cause) { note_undecided(g, alternative, cause); });
      undecided += t.undecided;
      unknown += t.unknown;
      if (t.passes(g.exclude)) {
        ++held;
      } else {
        matched[i] = false;
        excluded[i] = excluded[i] || g.exclude;
      }
    }
    if (explain) v.explain.push_back(recipient_explanation(g, held, n, undecided, unknown));
  }
  std::size_t count = 0;
  for (bool m : matched) count += m;
  if (!ok || count == 0) return;
  v.kind = count == n ? VerdictKind::kSelected : VerdictKind::kMixed;
  v.matched = matched;
  v.excluded = excluded;
}

Verdict Matcher::evaluate(const Subject& s, bool explain) const {
  Verdict v;
  const bool ok = evaluate_message_side(s, explain, v);
  // A failed message-side group settles the verdict; explaining goes on.
  if (ok || explain) evaluate_recipient_side(s, explain, ok, v);
  return v;
}

}  // namespace qpurge