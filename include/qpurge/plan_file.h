// SPDX-License-Identifier: MIT
// plan_file.h - saving a plan for review, and loading it to act on exactly
// those messages later (--save-plan / --apply-plan).
//
// A plan file is one JSON document (format version 1):
//   {"qpurge_plan": 1, "created": SECONDS, "host": NAME,
//    "queue_directory": DIR, "config_directory": DIR, "action": "delete",
//    "mixed": "skip"|"include", "regex": BOOL, "queues": [...],
//    "criteria": [{"option": "--domain", "values_hex": [...], "values": [...]}],
//    "messages": [{"queue_name", "queue_id", "path", "inode", "arrival_time",
//                  "sender", "sender_hex", "message_size",
//                  "recipients": [{"address", "matched"}]}]}
// Strings that identify a message exactly (sender, criteria values) are also
// stored as hex ("..._hex"), so bytes that are not UTF-8 survive the round
// trip; the plain fields are for people and are text-escaped.
//
// Failure: load_plan() returns false with a message naming what is wrong.
#ifndef QPURGE_PLAN_FILE_H_
#define QPURGE_PLAN_FILE_H_

#include <string>
#include <utility>
#include <vector>

#include "qpurge/json_writer.h"
#include "qpurge/plan.h"

namespace qpurge {

struct PlanCriterion {
  std::string option;               // "--domain", "--exclude-sender", ...
  std::vector<std::string> values;  // exact bytes
};

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
};

// "criteria": [{"option", "values" (text-escaped, for people), "values_hex"
// (the exact bytes)}], as plan files and archive manifests carry them.
void write_criteria_exact(JsonWriter& w, const std::vector<PlanCriterion>& criteria);

std::string plan_to_json(const PlanHeader& header, const std::vector<PlanEntry>& entries);
bool load_plan(const std::string& text, PlanHeader& header, std::vector<PlanEntry>& entries, std::string& error);

}  // namespace qpurge

#endif  // QPURGE_PLAN_FILE_H_
