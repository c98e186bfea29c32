// SPDX-License-Identifier: MIT
// plan.h - the plan: which queue files to act on, and why.
//
// build_plan() scans the chosen queues, evaluates the matcher on every
// parsed message (on the scan's worker threads; the content is read while
// the file is parsed and decoded there too, when a criterion needs it), and hands the caller, in
// scan order, one PlanEntry per selected message (and, when asked, per message
// skipped as mixed) plus every file that could not be read. The caller
// decides whether to stream entries out (dry run) or keep them (purge), so
// memory follows the selection, not the queue.
//
// A PlanEntry carries what is needed to show the message, to act on it
// (queue, ID) and to check before acting that it is still the same message
// (inode, arrival time, sender).
#ifndef QPURGE_PLAN_PLAN_H_
#define QPURGE_PLAN_PLAN_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "qpurge/select/match.h"
#include "qpurge/select/mime.h"
#include "qpurge/spool/queue_scan.h"

namespace qpurge {

// kCancel: a mixed message's matched recipients are canceled (act/cancel.h),
// the others keep it.
enum class MixedPolicy { kSkip, kInclude, kCancel };

struct PlanRecipient {
  std::string address;
  std::string original;
  bool has_original = false;
  std::uint64_t offset = 0;
  bool matched = false;
  bool excluded = false;    // an exclusion protected it (it is lost only with --mixed include)
  std::string reason = {};  // with PlanOptions::detail: its delay reason in the defer log ("" = none)
};

struct PlanEntry {
  std::string queue;
  std::string dir;  // relative to the queue directory, e.g. "deferred/A"
  std::string id;
  std::uint64_t inode = 0;
  std::uint32_t mode = 0;
  std::uint64_t file_size = 0;
  std::int64_t arrival_time = 0;
  std::int64_t message_size = 0;  // as postqueue -j reports it
  bool forced_expire = false;
  std::string sender;                     // empty = null sender
  std::vector<PlanRecipient> recipients;  // pending
  // Filled only with PlanOptions::detail:
  std::vector<PlanRecipient> done;
  std::vector<PlanRecipient> canceled;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string redirect_to;  // the > record, if any
  std::string qshape_skip;  // why qshape would not show this message; "" if it would
  // Filled with PlanOptions::detail when the content was decoded for the
  // matcher (Matcher::needs_content()) and parsed: the (first) Subject and
  // Message-ID (header level), the attachments (structure level).
  bool has_content = false;
  std::string subject;
  std::string message_id;
  std::vector<MessageContent::Attachment> attachments;
  bool mixed = false;
  bool cancel = false;  // --mixed cancel: only the matched recipients are canceled
  std::vector<std::string> explain;

  std::string path() const { return dir + "/" + id; }
  std::size_t matched_count() const;
};

// The size postqueue -j reports (see the Message form in match.h).
inline std::int64_t reported_message_size(const FileInfo& info, const Message& msg) {
  return reported_message_size(msg, info.file_size);
}

// Why qshape would not show a message; "" when it would.
// st_mode: the file's mode; first/second: its first two record types in
// file order; pending: its number of pending recipients.
std::string qshape_skip_reason(std::uint32_t st_mode, char first, char second, std::size_t pending);

PlanEntry make_plan_entry(const FileInfo& info, const Message& msg, const Verdict& v, bool detail);

struct PlanOptions {
  MixedPolicy mixed = MixedPolicy::kSkip;
  bool explain = false;  // keep Verdict::explain, and report skipped mixed messages
  bool detail = false;   // done/canceled recipients, attributes, subject and attachments in entries
  std::int64_t now = 0;  // reference time for age criteria (0: time(nullptr))
  // Content criteria (Matcher::needs_content()): the raw content read from
  // each file at most, and the decoded text kept at most (--body-limit). A
  // criterion that finds nothing in a content cut by either is undecided.
  std::size_t content_limit = kDefaultContentLimit;
  std::size_t body_limit = kDefaultTextLimit;
};

struct PlanCounts {
  std::uint64_t selected = 0;
  std::uint64_t selected_recipients = 0;
  std::uint64_t mixed_skipped = 0;
  std::uint64_t mixed_included = 0;
  std::uint64_t mixed_canceled = 0;  // --mixed cancel: messages whose matched recipients are canceled
  // Messages for which some evaluation was undecided (a pattern gave up) or
  // met an unknown delay reason, whatever the verdict: such a message was not
  // acted on for a criterion that could not be decided (a selector did not
  // select, an exclusion excluded), yet it may have been selected through
  // other recipients. Nonzero means the selection is incomplete: say so.
  std::uint64_t undecided = 0;
  std::uint64_t reason_unknown = 0;
  // Messages whose content a --body, --attachment or --attachment-type
  // criterion looked at was cut: the text --body searched (at
  // PlanOptions::body_limit or content_limit), the MIME structure the
  // others read (at content_limit only): what came after the cut was not
  // searched.
  std::uint64_t content_cut = 0;
  ScanStats scan;
};

class PlanSink {
 public:
  virtual ~PlanSink() = default;
  virtual void on_entry(PlanEntry&& entry) = 0;
  virtual void on_mixed_skipped(PlanEntry&&) {}           // only with PlanOptions::explain
  virtual void on_problem(const ScanRecord& record) = 0;  // unreadable, not regular, bad dir
  virtual void on_file() {}                               // every file, for progress
  // A message whose content a criterion needed could not be read or parsed
  // as MIME (`what`, e.g. "multipart without a boundary: mixed"): content
  // criteria were undecided for it. For a "path: what" warning.
  virtual void on_content_problem(const FileInfo&, const std::string& /*what*/) {}
  // The content a --body, --attachment or --attachment-type criterion
  // searched in this message was cut (`what`: "content: cut at --body-limit
  // ..."), whatever the verdict (PlanCounts::content_cut).
  virtual void on_content_cut(const FileInfo&, const std::string& /*what*/) {}
};

// Returns false with `error` set when the queue directory cannot be read.
bool build_plan(const ScanOptions& scan, const Matcher& matcher, const PlanOptions& options, PlanSink& sink,
                PlanCounts& counts, std::string& error);

// Re-reads one planned file and checks that it is the same message (inode,
// arrival time, sender) and still selected.
Verification reverify(QueueFileRereader& files, const std::string& queue_directory, const PlanEntry& entry,
                      const Matcher& matcher, const PlanOptions& options);

}  // namespace qpurge

#endif  // QPURGE_PLAN_PLAN_H_
