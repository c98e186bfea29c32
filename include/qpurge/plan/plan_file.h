// SPDX-License-Identifier: MIT
// plan_file.h - saving a plan for review, and loading it to act on exactly
// those messages later (--save-plan / --apply-plan).
//
// A plan file is JSON Lines (format version 2), so that it can be read
// with less, diffed, and taken apart with jq one message a line:
//   {"qpurge_plan": 2, "created": SECONDS, "host": NAME,
//    "queue_directory": DIR, "config_directory": DIR, "action": "delete",
//    "mixed": "skip"|"include"|"cancel", "regex": BOOL, "queues": [...],
//    "decode_headers": BOOL, "body_limit": N, "archive": DIR|null,
//    "archive_hex": HEX, "messages": COUNT,
//    "counts": {"scanned", "selected", "selected_recipients", "mixed_skipped",
//               "mixed_included", "in_progress", "unreadable", "undecided",
//               "reason_unknown", "content_cut"},          (what the scan saw)
//    "criteria": [{"option": "--domain", "values_hex": [...], "values": [...]}]}
//                                                          (the header, line 1)
//   {"queue_name", "queue_id", "path", "inode", "file_size", "arrival_time",
//    "message_size", "forced_expire", "sender", "sender_hex", "mixed",
//    "recipients": [{"address", "address_hex", "original_recipient"?,
//                    "original_recipient_hex"?, "offset", "matched",
//                    "excluded"}], "cancel"?: true} (one line per message;
//    "cancel": a mixed message whose matching recipients --mixed cancel
//    crosses off, each at its "offset", checked again by the apply)
// The header's "messages" must be the number of message lines: a plan cut
// short is refused. Version 1 (one JSON object, the messages in its
// "messages" array, with no counts and no recipients read back) is still
// read. Strings that identify a message exactly (sender, addresses,
// criteria values) are also stored as hex ("..._hex"), so bytes that are
// not UTF-8 survive the round trip; the plain fields are for people and are
// text-escaped.
//
// Failure: load_plan() returns false with a message naming what is wrong.
#ifndef QPURGE_PLAN_PLAN_FILE_H_
#define QPURGE_PLAN_PLAN_FILE_H_

#include <string>
#include <utility>
#include <vector>

#include "qpurge/plan/plan.h"
#include "qpurge/util/json_fields.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {

struct PlanCriterion {
  PlanCriterion() = default;
  PlanCriterion(std::string o, std::vector<std::string> v) : option(std::move(o)), values(std::move(v)) {}
  std::string option;               // "--domain", "--exclude-sender", ...
  std::vector<std::string> values;  // exact bytes
  // Read back from a record that keeps a long list by its count and digest
  // (values empty): see criterion_by_digest().
  std::uint64_t count = 0;
  std::string sha256;
};

// A criterion with more values than this (a long --ids-from list, say) is
// recorded in archive run headers and the audit log by its count and the
// SHA-256 of its list file, not value by value: a header stays short
// (--prune-archives reads at most 1 MiB of it) and a log line readable.
inline constexpr std::size_t kMaxInlineValues = 8;
// Whether `c` is recorded so: more than kMaxInlineValues values, none of
// which holds a newline (the list file has one value a line).
bool criterion_by_digest(const PlanCriterion& c);
// The list file's name in a run directory, "criterion-id.list" for --id;
// its text, each value and a newline (for --id, an --ids-from file); and
// the SHA-256 of that text, as 64 lower-case hex digits ("" if OpenSSL fails).
std::string criterion_list_name(const std::string& option);
std::string criterion_list_text(const PlanCriterion& c);
std::string criterion_list_sha256(const PlanCriterion& c);

inline constexpr int kPlanVersion = 2;

struct PlanHeader {
  std::int64_t created = 0;
  std::string host;
  std::string queue_directory;
  std::string config_directory;
  std::string action = "delete";
  std::string mixed = "skip";
  bool regex = false;
  bool decode_headers = false;                   // "decode_headers" (absent: false)
  std::uint64_t body_limit = kDefaultTextLimit;  // "body_limit" (absent: the default)
  std::vector<std::string> queues;
  std::vector<PlanCriterion> criteria;
  // --archive DIR given with --save-plan, made absolute: --apply-plan
  // archives there ("archive": DIR, or null / absent: none).
  std::string archive;
  // What the scan that made the plan saw ("counts"; absent in version 1):
  // an --apply-plan dry run shows the same summary.
  bool has_counts = false;
  PlanCounts counts;
};

// "criteria": [{"option", "values" (text-escaped, for people), "values_hex"
// (the exact bytes)}], as plan files and archive manifests carry them.
// With `digests`, a criterion_by_digest() one is {"option", "count",
// "sha256", "list"} instead.
void write_criteria_exact(JsonWriter& w, const std::vector<PlanCriterion>& criteria, bool digests = false);
// Reads them back from the object holding "criteria" (absent: none): the
// exact bytes from "values_hex", or "values" when there is no hex, or a
// count and digest (no values). Throws
// BadField (util/json_fields.h).
std::vector<PlanCriterion> read_criteria_exact(const nlohmann::json& holder);

// "NAME": the path text-escaped (null when it is ""), and "NAME_hex": its
// exact bytes, as plans and journals record a directory.
void write_exact_path(JsonWriter& w, const std::string& name, const std::string& path);

std::string plan_to_json(const PlanHeader& header, const std::vector<PlanEntry>& entries);
bool load_plan(const std::string& text, PlanHeader& header, std::vector<PlanEntry>& entries, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_PLAN_PLAN_FILE_H_
