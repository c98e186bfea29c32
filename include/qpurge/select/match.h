// SPDX-License-Identifier: MIT
// match.h - selection criteria and their evaluation against one message.
//
// A criterion is one value of one selector option (--sender X, --domain Y).
// Values of the same option form a group and are ORed; groups are ANDed. A
// group is message-side (the sender, the age, the client: it holds for the
// whole message) or recipient-side (it holds per pending recipient). A
// message is selected when every message-side group holds and, if there are
// recipient-side groups, at least one pending recipient satisfies all of them.
// When only some pending recipients do, the message is "mixed": acting on it
// also drops mail for the others (the caller decides, --mixed).
// Exclusion groups invert this: a message-side exclusion that holds rejects
// the message, a recipient-side one rejects that recipient.
//
// Fail closed: a criterion answers yes, no, undecided (a regular expression
// gave up on this input) or unknown (a fact it needs is gone: the delay
// reason of a recipient in the active queue). Both undecided and unknown are
// "no" for a selector and "yes" for an exclusion, so a decision that cannot
// be made never lets a message through; the Verdict says that it happened.
//
// Addresses compare exactly and case-insensitively (ASCII), in the stored
// form or the quoted form mailq shows ("a b"@example.com; see address.h); the
// null sender is spelled MAILER-DAEMON or <>, an empty value is refused. A
// domain is the text after the last '@'; "example.com" matches that domain
// only, ".example.com" its subdomains only, as in Postfix lookup tables. A
// domain typed or stored as a U-label matches its A-label and back
// (bücher.example = xn--bcher-kva.example), for every domain criterion and
// the domain of an exact address.
//
// Content criteria (content_match.h) look at the decoded message content
// (mime.h), which the caller reads only when Matcher::needs_content() says
// so; a content that is missing, cannot be read or cannot be parsed, or a
// search that did not see all of it and found nothing, is undecided.
//
// Matching knows nothing of files or output; compiling a criterion validates
// it and reports usage errors as std::invalid_argument.
#ifndef QPURGE_SELECT_MATCH_H_
#define QPURGE_SELECT_MATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/select/address.h"
#include "qpurge/spool/queue_file.h"

namespace qpurge {

struct MessageContent;  // mime.h

// What a criterion can look at: the parsed file plus facts from outside it.
struct Subject {
  const Message& msg;
  std::uint64_t file_size = 0;
  std::int64_t now = 0;  // for age criteria
  // Delay reason per pending recipient (same index as msg.recipients); empty
  // when unknown. Filled only when a criterion needs it.
  const std::vector<std::string>* reasons = nullptr;
  // The decoded content, at the level Matcher::needs_content() asked for;
  // nullptr when not read (a content criterion is then undecided).
  const MessageContent* content = nullptr;
  std::string_view id = {};  // the queue ID (the file name), for --id
};

enum class Side { kMessage, kRecipient };

// What one criterion says of one message or recipient. kUndecided: a
// regular expression exceeded Boost's complexity bound on this input, or the
// content a content criterion needs could not be read, parsed or wholly
// searched.
// kUnknown: the delay reason it needs is not known.
enum class Truth { kNo, kYes, kUndecided, kUnknown };

class Criterion {
 public:
  virtual ~Criterion() = default;
  virtual Side side() const = 0;
  virtual Truth test_message(const Subject&) const { return Truth::kNo; }
  virtual Truth test_recipient(const Subject&, std::size_t) const { return Truth::kNo; }
  virtual bool needs_reasons() const { return false; }                      // Subject::reasons
  virtual bool needs_headers() const { return false; }                      // Message::headers
  virtual ContentNeed needs_content() const { return ContentNeed::kNone; }  // Subject::content
  // Compares domains in their A-label form too: undecided only when the IDN
  // module that converts a domain that is not ASCII cannot be loaded.
  virtual bool converts_domains() const { return false; }
};

struct CriterionGroup {
  std::string option;               // "--domain", for --explain
  std::vector<std::string> values;  // values[i] typed for alternatives[i]
  std::vector<std::unique_ptr<Criterion>> alternatives;
  bool exclude = false;
  Side side = Side::kMessage;
};

// The size postqueue -j reports (bytes): the size record's data size, or
// the file size when there is none (maildrop files).
std::int64_t reported_message_size(const Message& msg, std::uint64_t file_size);

class DomainPattern {
 public:
  explicit DomainPattern(std::string_view pattern);  // throws std::invalid_argument
  // Undecided when the domain is not ASCII and the IDN module that would
  // convert it cannot be loaded (select/address.h).
  Truth matches_domain(std::string_view domain) const;
  Truth matches_address(std::string_view address) const { return matches_domain(address_domain(address)); }

 private:
  bool matches_form(std::string_view domain) const;
  std::string domain_;  // lower case, without the leading dot
  std::string ascii_;   // its A-label form; "" when not convertible or the same
  bool subdomains_ = false;
};

// Factories for the selectors. `regex` makes address patterns Boost.Regex
// expressions matched against the whole stored address, case-insensitively.
// An empty value is refused (std::invalid_argument).
std::unique_ptr<Criterion> make_sender(std::string_view value, bool regex);
std::unique_ptr<Criterion> make_recipient(std::string_view value, bool regex);
// The recipient as it was before rewriting (virtual aliases, canonical maps):
// the O record before the pending R record, or the R address itself when
// there is none (or it is empty). --recipient looks at the rewritten address.
// postqueue -j does not show original recipients (tests/data/queue/dup_rcpt).
std::unique_ptr<Criterion> make_original_recipient(std::string_view value, bool regex);
std::unique_ptr<Criterion> make_sender_domain(std::string_view value);
std::unique_ptr<Criterion> make_recipient_domain(std::string_view value);
std::unique_ptr<Criterion> make_domain(std::string_view value);  // sender or recipient
std::unique_ptr<Criterion> make_all();

// Age from the arrival time: older-than holds when age >= d, younger-than
// when age < d.
std::unique_ptr<Criterion> make_older_than(std::int64_t seconds);
std::unique_ptr<Criterion> make_younger_than(std::int64_t seconds);
// On the size postqueue -j reports (bytes): min holds when size >= n, max when <= n.
std::unique_ptr<Criterion> make_min_size(std::int64_t bytes);
std::unique_ptr<Criterion> make_max_size(std::int64_t bytes);
// The recipient's delay reason from the defer log (regex search, any case).
// Unknown when the defer log has none for the recipient (qmgr removes it
// when the message enters the active queue).
std::unique_ptr<Criterion> make_reason(std::string_view regex);
// Named attributes written by smtpd. sasl_username compares exactly (case
// matters, as in most SASL databases); the client address is an IPv4 or IPv6
// address or CIDR block matched against client_address or log_client_address;
// client name and HELO name compare like domains (exact or .suffix, any case)
// against client_name / reverse_client_name / log_client_name and helo_name /
// log_helo_name.
std::unique_ptr<Criterion> make_sasl_user(std::string_view user);
std::unique_ptr<Criterion> make_client_address(std::string_view address_or_cidr);
std::unique_ptr<Criterion> make_client_name(std::string_view name);
std::unique_ptr<Criterion> make_helo(std::string_view name);
// "Name: REGEX": a header of that name (any case) whose value matches (regex
// search, any case). Headers only, never the body. With `decode` the value
// is unfolded and RFC 2047 decoded to UTF-8 (GMime) before the search
// (--decode-headers).
std::unique_ptr<Criterion> make_header(std::string_view spec, bool decode = false);
// The number of pending recipients (R records): min holds when it is >= n,
// max when <= n.
std::unique_ptr<Criterion> make_min_recipients(std::int64_t n);
std::unique_ptr<Criterion> make_max_recipients(std::int64_t n);
// The queue ID is one of `ids` (--id, --ids-from): exact, case matters as
// in Postfix. Every ID must pass queue_id_ok() and the set must not be
// empty (std::invalid_argument naming the first bad one).
std::unique_ptr<Criterion> make_queue_id(const std::vector<std::string>& ids);

// "90m", "36h", "3d", "2w", "45s": the unit is required.
bool parse_duration(std::string_view text, std::int64_t& seconds);
// "500b", "10k", "2M", "1G" (b = bytes, k = 1024 bytes): the unit is required.
bool parse_size(std::string_view text, std::int64_t& bytes);
// Digits alone, "3": what parse_duration() and parse_size() refuse for want
// of a unit (a usage error with a hint naming the units).
bool bare_number(std::string_view text);
// The hints: "an age needs a unit: ...", "a size needs a unit: ...".
inline constexpr const char* kAgeUnits = "an age needs a unit: s, m, h, d or w (e.g. 90m, 36h, 3d)";
inline constexpr const char* kSizeUnits = "a size needs a unit: b (bytes), k, M or G (e.g. 500b, 10k, 2M)";

enum class VerdictKind { kNoMatch, kSelected, kMixed };

struct Verdict {
  VerdictKind kind = VerdictKind::kNoMatch;
  std::vector<bool> matched;         // per pending recipient
  std::vector<bool> excluded;        // per pending recipient: an exclusion rejected it (selected or mixed only)
  std::vector<std::string> explain;  // one line per group, when asked for
  // Some evaluation for this message was undecided / met an unknown delay
  // reason (and so counted against acting). Groups after a failed
  // message-side group may not have been evaluated.
  bool undecided = false;
  bool reason_unknown = false;
};

// Why a criterion could not decide (for a warning and --explain): a regular
// expression gave up, the content it needs could not be read or parsed as
// MIME, or nothing matched in a content cut at a limit (--body-limit).
enum class UndecidedCause { kPattern, kContent, kCut, kNoIdn };

// One criterion that was undecided at least once, and why.
struct UndecidedCriterion {
  std::string label;  // "--body REGEX"
  UndecidedCause cause = UndecidedCause::kPattern;
};

// "the pattern gave up on some input", ... for the run's warning.
std::string_view undecided_cause_text(UndecidedCause cause);

class Matcher {
 public:
  Matcher();
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;
  void add(CriterionGroup group);
  bool empty() const { return groups_.empty(); }
  bool has_recipient_side() const;
  bool needs_reasons() const;
  bool needs_headers() const;
  ContentNeed needs_content() const;  // the most any criterion needs
  const std::vector<CriterionGroup>& groups() const { return groups_; }

  // Thread-safe. `explain` fills Verdict::explain.
  Verdict evaluate(const Subject& subject, bool explain = false) const;

  // The criteria ("--sender REGEX") that were undecided at least once so far,
  // with why, in the order they first were; for one warning each (per cause).
  // Thread-safe.
  std::vector<UndecidedCriterion> undecided_criteria() const;

 private:
  struct GaveUp;
  void note_undecided(const CriterionGroup& g, std::size_t alternative, UndecidedCause cause) const;
  // The message-side groups, in order, into `v`; false when one failed (the
  // rest are then evaluated only when explaining).
  bool evaluate_message_side(const Subject& s, bool explain, Verdict& v) const;
  // The recipient-side groups, recipient by recipient, into `v`; `ok` is
  // what the message side said, which the verdict depends on as well.
  void evaluate_recipient_side(const Subject& s, bool explain, bool ok, Verdict& v) const;
  std::vector<CriterionGroup> groups_;
  std::unique_ptr<GaveUp> gave_up_;
};

}  // namespace qpurge

#endif  // QPURGE_SELECT_MATCH_H_
