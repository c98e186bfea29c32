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
// Addresses compare exactly and case-insensitively (ASCII); the null sender
// is spelled MAILER-DAEMON, <> or the empty string. A domain is the text after
// the last '@'; "example.com" matches that domain only, ".example.com" its
// subdomains only, as in Postfix lookup tables.
//
// Matching knows nothing of files or output; compiling a criterion validates
// it and reports usage errors as std::invalid_argument.
#ifndef QPURGE_MATCH_H_
#define QPURGE_MATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/queue_file.h"

namespace qpurge {

// What a criterion can look at: the parsed file plus facts from outside it.
struct Subject {
  const Message& msg;
  std::uint64_t file_size = 0;
  std::int64_t now = 0;  // for age criteria
  // Delay reason per pending recipient (same index as msg.recipients); empty
  // when unknown. Filled only when a criterion needs it.
  const std::vector<std::string>* reasons = nullptr;
};

enum class Side { kMessage, kRecipient };

class Criterion {
 public:
  virtual ~Criterion() = default;
  virtual Side side() const = 0;
  virtual bool test_message(const Subject&) const { return false; }
  virtual bool test_recipient(const Subject&, std::size_t) const { return false; }
};

struct CriterionGroup {
  std::string option;  // "--domain", for --explain
  std::vector<std::string> values;
  std::vector<std::unique_ptr<Criterion>> alternatives;
  bool exclude = false;
  Side side = Side::kMessage;
};

// Address and domain primitives (exposed for tests and other layers).
bool is_null_sender_spelling(std::string_view value);
std::string_view address_domain(std::string_view address);  // after last '@'; empty if none
bool iequals(std::string_view a, std::string_view b);

class DomainPattern {
 public:
  explicit DomainPattern(std::string_view pattern);  // throws std::invalid_argument
  bool matches_domain(std::string_view domain) const;
  bool matches_address(std::string_view address) const {
    return matches_domain(address_domain(address));
  }

 private:
  std::string domain_;  // lower case, without the leading dot
  bool subdomains_ = false;
};

// Factories for the selectors. `regex` makes address patterns Boost.Regex
// expressions matched against the whole address, case-insensitively.
std::unique_ptr<Criterion> make_sender(std::string_view value, bool regex);
std::unique_ptr<Criterion> make_recipient(std::string_view value, bool regex);
std::unique_ptr<Criterion> make_sender_domain(std::string_view value);
std::unique_ptr<Criterion> make_recipient_domain(std::string_view value);
std::unique_ptr<Criterion> make_domain(std::string_view value);  // sender or recipient
std::unique_ptr<Criterion> make_all();

enum class VerdictKind { kNoMatch, kSelected, kMixed };

struct Verdict {
  VerdictKind kind = VerdictKind::kNoMatch;
  std::vector<bool> matched;         // per pending recipient
  std::vector<std::string> explain;  // one line per group, when asked for
};

class Matcher {
 public:
  Matcher() = default;
  void add(CriterionGroup group);
  bool empty() const { return groups_.empty(); }
  bool has_recipient_side() const;
  const std::vector<CriterionGroup>& groups() const { return groups_; }

  // Thread-safe. `explain` fills Verdict::explain.
  Verdict evaluate(const Subject& subject, bool explain = false) const;

 private:
  std::vector<CriterionGroup> groups_;
};

}  // namespace qpurge

#endif  // QPURGE_MATCH_H_
