// SPDX-License-Identifier: MIT
// output.h - printers for plans and reports.
//
// Interchangeable sinks: human text, IDs only (ready for `postsuper -d -`),
// and JSON Lines (one object per message, postqueue -j's field names where
// they overlap). All of them escape what queue files contain (escape.h).
//
// JSON object per message (format version 1):
//   queue_name, queue_id, arrival_time, message_size, forced_expire: as
//     postqueue -j, except that the null sender is "" (postqueue -j prints
//     MAILER-DAEMON, which a literal local MAILER-DAEMON sender also prints);
//   sender: the envelope sender, "" for the null sender;
//   recipients: [{address, original_recipient?, offset, matched}] (pending);
//   matched_recipients: how many of them matched;
//   mixed: true when only some pending recipients matched;
//   cancel: true (present only then) when the message is mixed and --mixed
//     cancel cancels its matched recipients only: the others keep it;
//   inode, file_size, path;
//   with detail: done_recipients, canceled_recipients ([{address, offset}]),
//     redirect_to (when there is a > record) and attributes ({name: value});
//   with --explain: explain: [strings].
// A mixed message that is acted on (--mixed include) loses every pending
// recipient: its text line lists them all, those an exclusion protected
// marked "[excluded]", and the dry run's view counts all their domains.
// With --mixed cancel the text line lists the recipients canceled and then
// "(mixed: cancels only these, keeps ...)", and the view counts only the
// canceled recipients' domains.
#ifndef QPURGE_REPORT_OUTPUT_H_
#define QPURGE_REPORT_OUTPUT_H_

#include <cstdio>
#include <string>
#include <unordered_map>

#include "qpurge/plan/plan.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {

// The entry's fields, written into an object the caller has begun (so a
// printer can put its own fields, such as the instance, first).
void write_entry_fields(JsonWriter& w, const PlanEntry& e, bool detail);
// One whole object and a newline.
void append_entry_json(std::string& out, const PlanEntry& e, bool detail);
// The text listing: a message in lines that fit 80 columns (the null sender
// spelled "<>", as in the top senders): "ID  QUEUE  AGE  SIZE  SENDER", then
// "    -> " and the matched recipients, as many as fit and "(+N more)" (all,
// one a line, with `all`: --verbose, --detail), "    mixed, also drops: "
// and the others of a mixed message, then its --explain lines. `now` for
// the age. entry_text_header() names the columns.
void append_entry_text(std::string& out, const PlanEntry& e, std::int64_t now, bool all = false);
std::string entry_text_header();
// {queue_name, queue_id, result, detail?}: one ID's outcome after acting.
void write_result_fields(JsonWriter& w, const IdResult& r);
void append_result_json(std::string& out, const IdResult& r);

// The short view a dry run ends with: how many, how old, and the top
// recipient domains (of the recipients that matched) and senders.
class SelectionView {
 public:
  void add(const PlanEntry& e);
  // A few lines, or "" when nothing was added. `now` for the ages.
  std::string render(std::int64_t now, std::size_t top = 5) const;

 private:
  std::uint64_t messages_ = 0;
  std::int64_t oldest_ = 0, newest_ = 0;
  std::unordered_map<std::string, std::uint64_t> domains_, senders_;
};

// "3d 4h", "25m", "40s".
std::string format_age(std::int64_t seconds);

// Arrival time as "2026-11-22 11:17:10" in local time.
std::string format_time(std::int64_t t);

}  // namespace qpurge

#endif  // QPURGE_REPORT_OUTPUT_H_
