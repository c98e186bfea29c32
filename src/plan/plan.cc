// SPDX-License-Identifier: MIT
// plan.cc - planning and re-verification; see plan.h.
#include "qpurge/plan/plan.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "qpurge/select/evaluate.h"
#include "qpurge/spool/defer_log.h"

namespace qpurge {
namespace {

PlanRecipient plan_recipient(const Message& msg, const Recipient& r, bool matched) {
  PlanRecipient p;
  p.address = std::string(msg.str(r.address));
  p.has_original = r.has_original;
  if (r.has_original) p.original = std::string(msg.str(r.original));
  p.offset = r.offset;
  p.matched = matched;
  return p;
}

void add_content(PlanEntry& e, const MessageContent& c) {
  if (!c.parsed) return;
  e.has_content = true;
  e.subject = c.subject;
  e.message_id = c.message_id;
  e.attachments = c.attachments;
}

// --detail: each pending recipient's delay reason, what --reason matches,
// from the defer log (joined by the recipient's record offset).
void add_reasons(PlanEntry& e, const DeferLogSource& logs) {
  std::string text;
  if (!logs.read(e.id, text)) return;
  for (const DeferEntry& d : parse_defer_log(text))
    for (PlanRecipient& r : e.recipients)
      if (r.offset == d.offset) r.reason = d.reason;
}

// What a worker thread hands the consumer for one message (in
// ScanRecord::result; an empty result is a plain no-match).
struct Evaluated {
  VerdictKind kind = VerdictKind::kNoMatch;
  bool undecided = false;
  bool reason_unknown = false;
  std::string content_error;  // the content was needed and could not be read or parsed
  std::string cut;            // the content the matcher searched was cut at a limit: how
  bool has_entry = false;     // entry is filled (a selection, or a mixed one to report)
  PlanEntry entry;
};

// "content: cut at ..." for --explain: the matcher saw only part of the text.
std::string cut_explanation(const Message& msg, const PlanOptions& options) {
  if (msg.content.truncated)
    return "content: cut at the read limit of " + std::to_string(options.content_limit) +
           " bytes; the rest was not searched";
  return "content: cut at --body-limit (" + std::to_string(options.body_limit) +
         " bytes of decoded text); the rest was not searched";
}

// One message on a worker thread: its content decoded as far as the matcher
// needs, the verdict, and the entry to show when selected.
std::any evaluate_one(const std::string& queue_directory, const Matcher& matcher, const PlanOptions& options,
                      std::int64_t now, const FileInfo& info, const Message& msg) {
  Evaluation e;
  evaluate_message(matcher, msg, info.id, info.file_size, QueueDeferLogs(queue_directory),
                   EvaluateOptions{now, options.body_limit, options.explain}, e);
  Verdict& v = e.verdict;
  if (v.kind == VerdictKind::kNoMatch && !v.undecided && !v.reason_unknown && !e.content_failed && !e.cut) return {};
  Evaluated ev;
  if (e.cut) ev.cut = cut_explanation(msg, options);
  if (e.content_failed) ev.content_error = std::move(e.content->error);
  ev.kind = v.kind;
  ev.undecided = v.undecided;
  ev.reason_unknown = v.reason_unknown;
  if (e.cut && options.explain) v.explain.push_back(ev.cut);
  ev.has_entry = v.kind == VerdictKind::kSelected ||
                 (v.kind == VerdictKind::kMixed && (options.mixed != MixedPolicy::kSkip || options.explain));
  if (!ev.has_entry) return std::any(std::move(ev));
  ev.entry = make_plan_entry(info, msg, v, options.detail);
  ev.entry.cancel = ev.entry.mixed && options.mixed == MixedPolicy::kCancel;
  if (options.detail) add_reasons(ev.entry, QueueDeferLogs(queue_directory));
  if (options.detail) {
    if (!e.content) e.content.emplace();
    if (e.content_need < ContentNeed::kParts)  // --detail shows the attachments, never the text
      decode_message_content(msg, ContentNeed::kParts, options.body_limit, *e.content);
    add_content(ev.entry, *e.content);
  }
  return std::any(std::move(ev));
}

}  // namespace

std::string qshape_skip_reason(std::uint32_t st_mode, char first, char second, std::size_t pending) {
  if ((st_mode & 0733) != 0700) {
    if ((st_mode & 0733) == 0710) return "force-expired";
    char mode[16];
    std::snprintf(mode, sizeof mode, "mode %04o", static_cast<unsigned>(st_mode & 07777));
    return mode;
  }
  if (first != 'C') return "maildrop file";
  if (second != 'T') return "second record not the arrival time";
  if (pending == 0) return "no pending recipient";
  return "";
}

std::size_t PlanEntry::matched_count() const {
  std::size_t n = 0;
  for (const auto& r : recipients) n += r.matched;
  return n;
}

PlanEntry make_plan_entry(const FileInfo& info, const Message& msg, const Verdict& v, bool detail) {
  PlanEntry e;
  e.queue = std::string(info.queue);
  e.dir = *info.dir;
  e.id = info.id;
  e.inode = info.inode;
  e.mode = info.mode;
  e.file_size = info.file_size;
  e.arrival_time = msg.arrival_time;
  e.message_size = reported_message_size(info, msg);
  e.forced_expire = info.forced_expire();
  e.sender = std::string(msg.sender_str());
  e.recipients.reserve(msg.recipients.size());
  for (std::size_t i = 0; i < msg.recipients.size(); ++i) {
    e.recipients.push_back(plan_recipient(msg, msg.recipients[i], i < v.matched.size() && v.matched[i]));
    e.recipients.back().excluded = i < v.excluded.size() && v.excluded[i];
  }
  if (detail) {
    for (const auto& r : msg.done) e.done.push_back(plan_recipient(msg, r, false));
    for (const auto& r : msg.canceled) e.canceled.push_back(plan_recipient(msg, r, false));
    for (const auto& a : msg.attributes)
      e.attributes.emplace_back(std::string(msg.str(a.name)), std::string(msg.str(a.value)));
    if (msg.has_redirect) e.redirect_to = std::string(msg.str(msg.redirect_to));
  }
  e.qshape_skip =
      qshape_skip_reason(info.mode, msg.has_size_record ? 'C' : 'T', msg.second_record_type, msg.recipients.size());
  e.mixed = v.kind == VerdictKind::kMixed;
  e.explain = v.explain;
  return e;
}

namespace {

// --mixed cancel: a message planned whole is still wholly selected; one
// planned mixed still is, with the same recipients matched at the same
// offsets, and is not in the active queue.
//
// A file in active/ is the queue manager's: qmgr_message_alloc() read its
// recipients into memory, and the delivery agents qmgr starts later open it
// by its active/ path (deliver_request_get() in deliver_request.c). Holding
// it there pulls the file out from under that in-core copy: a request for it
// finds no file ("open active ID: No such file or directory"), and once it is
// released and fed into active again, two in-core copies of one message
// share one file, and the stale one's verdict (defer, or "all done": remove)
// lands on the live one; a kept recipient's mail was lost that way
// (tests/integration/it_cancel_live.py). No lock tells it: qmgr holds none
// while it waits for an agent. Such a message is left alone.
Verification same_cancel(const PlanEntry& entry, const Message& msg, const Verdict& v) {
  auto changed = [](std::string why) { return Verification{Verification::kChanged, std::move(why)}; };
  if (!entry.cancel) return v.kind == VerdictKind::kMixed ? changed("now mixed") : Verification{};
  if (entry.queue == "active") return changed("in the active queue: the queue manager is delivering it");
  if (v.kind != VerdictKind::kMixed) return changed("every pending recipient matches now");
  if (msg.recipients.size() != entry.recipients.size()) return changed("its pending recipients changed");
  for (std::size_t i = 0; i < msg.recipients.size(); ++i) {
    const PlanRecipient& p = entry.recipients[i];
    if (msg.recipients[i].offset != p.offset || msg.str(msg.recipients[i].address) != p.address ||
        (i < v.matched.size() && v.matched[i]) != p.matched)
      return changed("its pending recipients changed");
  }
  return Verification{};
}

}  // namespace

bool build_plan(const ScanOptions& scan, const Matcher& matcher, const PlanOptions& options, PlanSink& sink,
                PlanCounts& counts, std::string& error) {
  const std::int64_t now = options.now ? options.now : static_cast<std::int64_t>(std::time(nullptr));
  const ContentNeed content = matcher.needs_content();
  Evaluator evaluate = [&](const FileInfo& info, const Message& msg) -> std::any {
    return evaluate_one(scan.queue_directory, matcher, options, now, info, msg);
  };
  Consumer consume = [&](ScanRecord& rec) {
    sink.on_file();
    if (rec.status != FileStatus::kMessage) {
      if (rec.status == FileStatus::kUnreadable || rec.status == FileStatus::kNotRegular ||
          rec.status == FileStatus::kBadDirectory)
        sink.on_problem(rec);
      return;
    }
    Evaluated* ev = std::any_cast<Evaluated>(&rec.result);
    if (!ev) return;
    if (!ev->content_error.empty()) sink.on_content_problem(rec.info, ev->content_error);
    if (!ev->cut.empty()) {
      ++counts.content_cut;
      sink.on_content_cut(rec.info, ev->cut);
    }
    counts.undecided += ev->undecided;
    counts.reason_unknown += ev->reason_unknown;
    if (ev->kind == VerdictKind::kNoMatch) return;
    if (ev->kind == VerdictKind::kMixed && options.mixed == MixedPolicy::kSkip) {
      ++counts.mixed_skipped;
      if (ev->has_entry) sink.on_mixed_skipped(std::move(ev->entry));
      return;
    }
    if (ev->kind == VerdictKind::kMixed)
      ++(options.mixed == MixedPolicy::kCancel ? counts.mixed_canceled : counts.mixed_included);
    ++counts.selected;
    counts.selected_recipients += ev->entry.matched_count();
    sink.on_entry(std::move(ev->entry));
  };
  ScanOptions with_headers = scan;
  with_headers.parse.headers = scan.parse.headers || matcher.needs_headers();
  with_headers.parse.content = std::max({scan.parse.content, content, options.detail ? ContentNeed::kParts : content});
  with_headers.parse.content_limit = options.content_limit;
  return scan_queues(with_headers, evaluate, consume, counts.scan, error);
}

Verification reverify(QueueFileRereader& files, const std::string& queue_directory, const PlanEntry& entry,
                      const Matcher& matcher, const PlanOptions& options) {
  auto changed = [](std::string why) { return Verification{Verification::kChanged, std::move(why)}; };
  FileInfo info;
  const Message* read = nullptr;
  std::string error;
  const ParseOptions parse = parse_options_for(matcher, options.content_limit);
  FileStatus st = files.read(entry.path(), info, read, error, parse);
  switch (st) {
    case FileStatus::kMessage:
      break;
    case FileStatus::kVanished:
      return Verification{Verification::kVanished, "vanished"};
    case FileStatus::kInProgress:
      return changed("being rewritten");
    default:
      return changed(error.empty() ? "unreadable" : error);
  }
  const Message& msg = *read;
  if (info.inode != entry.inode) return changed("different file (inode changed)");
  if (msg.arrival_time != entry.arrival_time) return changed("different message (arrival time changed)");
  if (msg.sender_str() != entry.sender) return changed("different message (sender changed)");
  const std::int64_t now = options.now ? options.now : static_cast<std::int64_t>(std::time(nullptr));
  Evaluation e;
  evaluate_message(matcher, msg, entry.id, info.file_size, QueueDeferLogs(queue_directory),
                   EvaluateOptions{now, options.body_limit, false}, e);
  const Verdict& v = e.verdict;
  if (v.kind == VerdictKind::kNoMatch) return changed("no longer matches");
  if (v.kind == VerdictKind::kMixed && options.mixed == MixedPolicy::kSkip)
    return changed("no longer matches (now mixed)");
  if (options.mixed == MixedPolicy::kCancel) return same_cancel(entry, msg, v);
  return Verification{};
}

}  // namespace qpurge
