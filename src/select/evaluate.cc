// SPDX-License-Identifier: MIT
// evaluate.cc - one evaluation of one message; see evaluate.h.
#include "qpurge/select/evaluate.h"

#include <vector>

#include "qpurge/spool/defer_log.h"

namespace qpurge {
namespace {

// The delay reason of each pending recipient, joined by file offset; empty
// strings where the log says nothing (or there is no log).
void load_reasons(const Message& msg, const std::string& id, const DeferLogSource& logs,
                  std::vector<std::string>& reasons) {
  reasons.assign(msg.recipients.size(), std::string());
  std::string text;
  if (!logs.read(id, text)) return;
  for (const DeferEntry& e : parse_defer_log(text)) {
    if (!e.has_offset) continue;
    for (std::size_t i = 0; i < msg.recipients.size(); ++i)
      if (msg.recipients[i].offset == e.offset) reasons[i] = e.reason;
  }
}

// decode_message_content() for a level that is not kNone; here so that
// evaluate_message() makes no extra call per message.
void decode(const Message& msg, ContentNeed need, std::size_t body_limit, MessageContent& out) {
  if (msg.has_content) {
    decode_content(msg.content, need, body_limit, out);
    return;
  }
  out = MessageContent{};
  out.error = msg.content_error.empty() ? "content not read" : "content: " + msg.content_error;
}

}  // namespace

bool QueueDeferLogs::read(const std::string& id, std::string& text) const {
  return read_defer_log(queue_directory_, id, text);
}

ParseOptions parse_options_for(const Matcher& matcher, std::size_t content_limit) {
  ParseOptions parse;
  parse.headers = matcher.needs_headers();
  parse.content = matcher.needs_content();
  parse.content_limit = content_limit;
  return parse;
}

void decode_message_content(const Message& msg, ContentNeed need, std::size_t body_limit, MessageContent& out) {
  if (need != ContentNeed::kNone) decode(msg, need, body_limit, out);
}

void evaluate_message(const Matcher& matcher, const Message& msg, const std::string& id, std::uint64_t file_size,
                      const DeferLogSource& logs, const EvaluateOptions& options, Evaluation& out) {
  const ContentNeed need = matcher.needs_content();
  const bool reasons_needed = matcher.needs_reasons();
  std::vector<std::string> reasons;
  if (reasons_needed) load_reasons(msg, id, logs, reasons);
  out.content_need = need;
  out.content.reset();
  if (need != ContentNeed::kNone) decode(msg, need, options.body_limit, out.content.emplace());
  const MessageContent* content = out.content ? &*out.content : nullptr;
  out.verdict = matcher.evaluate(Subject{msg, file_size, options.now, reasons_needed ? &reasons : nullptr, content, id},
                                 options.explain);
  out.content_failed = content && !content->parsed;
  // Cut where the criteria looked: the text (--body) or the MIME structure.
  out.cut = content && content->parsed &&
            (need == ContentNeed::kBody ? content->truncated : need == ContentNeed::kParts && content->parts_truncated);
}

}  // namespace qpurge
