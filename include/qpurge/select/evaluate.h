// SPDX-License-Identifier: MIT
// evaluate.h - one evaluation of one message: the Subject the matcher sees,
// built in one place for planning, for the re-verification before acting
// and for a restore (which judges an archived copy).
//
// The caller parses the queue file with parse_options_for() (the headers and
// the content the matcher needs) and hands evaluate_message() the message,
// its queue ID (the file name, for --id), its file size, the clock, where
// its defer log is (the queue's defer/[hash/]ID, or a copy archived beside
// the message) and the limit on decoded text (--body-limit).
// evaluate_message() loads the delay reasons only when a criterion needs
// them, decodes the content only to the level the matcher needs, evaluates
// and gives back the verdict with what the caller reports: the decoded
// content (for --detail), whether the content a criterion needed could not
// be read or parsed (its error), and whether what it searched was cut.
//
// Fail closed (match.h): a defer log that is missing or cannot be read
// leaves the reasons unknown; a content that cannot be read or parsed is
// given to the matcher as not parsed, and content criteria are undecided.
// Nothing here throws or allocates beyond what the evaluation needs.
#ifndef QPURGE_SELECT_EVALUATE_H_
#define QPURGE_SELECT_EVALUATE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "qpurge/select/match.h"
#include "qpurge/select/mime.h"
#include "qpurge/spool/queue_file.h"

namespace qpurge {

// Where a message's defer log is read from.
class DeferLogSource {
 public:
  virtual ~DeferLogSource() = default;
  // The defer log text of the message `id` into `text`; false when there is
  // none or it cannot be read (the delay reasons are then unknown).
  virtual bool read(const std::string& id, std::string& text) const = 0;
};

// The defer logs of a queue directory (defer/[hash/]ID, spool/defer_log.h).
class QueueDeferLogs final : public DeferLogSource {
 public:
  explicit QueueDeferLogs(const std::string& queue_directory) : queue_directory_(queue_directory) {}
  bool read(const std::string& id, std::string& text) const override;

 private:
  const std::string& queue_directory_;
};

// What the parser must read of a queue file for `matcher`: the header lines
// when a criterion looks at headers, the raw content (at most
// `content_limit` bytes) at the level a content criterion needs.
ParseOptions parse_options_for(const Matcher& matcher, std::size_t content_limit);

// How one message is evaluated.
struct EvaluateOptions {
  std::int64_t now = 0;                        // for age criteria
  std::size_t body_limit = kDefaultTextLimit;  // decoded text kept at most (--body-limit)
  bool explain = false;                        // fill Verdict::explain
};

// What evaluating one message gave.
struct Evaluation {
  Verdict verdict;
  // The content decoded at the level the matcher needed (`content_need`);
  // none when it needed none, so that a message costs nothing for it.
  std::optional<MessageContent> content;
  ContentNeed content_need = ContentNeed::kNone;
  // The matcher needed the content and it could not be read or parsed:
  // content->error says why (content criteria were undecided).
  bool content_failed = false;
  // A content criterion looked at something cut at a limit: a --body text
  // (at the read limit when the message's RawContent::truncated, else at
  // --body-limit), or the MIME structure --attachment and
  // --attachment-type read (at the read limit only).
  bool cut = false;
};

// Evaluates `matcher` on `msg` (parsed with parse_options_for()), the
// message named `id` with a file of `file_size` bytes, its defer log in
// `logs`; into `out`, whose previous content is replaced.
void evaluate_message(const Matcher& matcher, const Message& msg, const std::string& id, std::uint64_t file_size,
                      const DeferLogSource& logs, const EvaluateOptions& options, Evaluation& out);

// The content of `msg` decoded at `need` into `out` (kNone: nothing); when
// the content was not read, `out` is not parsed and its error says why.
void decode_message_content(const Message& msg, ContentNeed need, std::size_t body_limit, MessageContent& out);

}  // namespace qpurge

#endif  // QPURGE_SELECT_EVALUATE_H_
