// SPDX-License-Identifier: MIT
// restore.cc - putting archived messages back; see restore.h.
#include "qpurge/archive/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "qpurge/archive/cancel_copy.h"
#include "qpurge/archive/manifest.h"
#include "qpurge/archive/run_reader.h"
#include "qpurge/postfix/postconf.h"
#include "qpurge/select/evaluate.h"
#include "qpurge/spool/defer_log.h"
#include "qpurge/spool/queue_file.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/spool/queue_scan.h"
#include "qpurge/spool/record.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/posix_io.h"
#include "qpurge/util/sha256.h"
#include "qpurge/util/text.h"

namespace qpurge {

namespace {

constexpr std::size_t kMaxArchivedFile = std::size_t{1} << 31;

// ---- restoring --------------------------------------------------------------

bool is_target(const std::string& q) { return q == "hold" || q == "deferred" || q == "incoming"; }

// The owner Postfix gives queue files: the owner of the queue's directory
// (mail_owner) and that user's group.
void queue_owner(const struct stat& dir, uid_t& uid, gid_t& gid) {
  uid = dir.st_uid;
  gid = dir.st_gid;
  struct passwd pw, *found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) gid = pw.pw_gid;
}

// Ends one message's restore with `outcome` and `detail`; false, so that a
// check can return it.
bool stop(RestoredMessage& r, const char* outcome, std::string detail) {
  r.outcome = outcome;
  r.detail = std::move(detail);
  return false;
}

// An archived queue file, read once (for selection or for restoring).
struct ArchivedCopy {
  std::string path;
  std::string data;  // for a cancel message, the copy made for the canceled recipients (cancel_copy.h)
  struct stat st {};
  bool read = false;
  bool checked = false;  // its SHA-256 checked already (before a cancel copy was made from it)
  std::string name;      // the name it is written under in the queue ("" = its old ID)
};

// One restore_from_archive(): its steps, and the state they share. The manifest stays
// open (and locked) from before it is read until the object is destroyed,
// after the "restored" records are written.
class Restorer {
 public:
  Restorer(const RestoreOptions& options, CommandRunner& runner)
      : options_(options), runner_(runner), target_dir_(options.queue_dir + "/" + options.target) {}
  RestoreReport run();

 private:
  enum class Selection { kSelected, kNotSelected, kUnjudged };

  bool check_instance();
  bool check_target();
  void restore_message(const ArchivedMessage& m);
  Selection select(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r);
  bool name_free(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r);
  void put_back(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r);
  void settle_handed();
  PutBack put_back_engine();

  const RestoreOptions& options_;
  CommandRunner& runner_;
  const std::string target_dir_;
  RestoreReport report_;
  RunReader run_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::int64_t now_ = 0;
  std::vector<std::pair<std::size_t, PutBackItem>> to_put_;  // report line, item
  std::set<std::string> names_;                              // given to canceled-recipient copies
  Message msg_;
  RecordReader reader_;
  Evaluation evaluation_;
};

RestoreReport Restorer::run() {
  if (!is_target(options_.target)) {
    report_.error = "cannot restore into the " + options_.target + " queue (hold, deferred or incoming)";
    return std::move(report_);
  }
  // One restore of a run at a time, and none while a purge still writes
  // it: the manifest is locked before it is read, so what it says about
  // restored messages is current (run_reader.h).
  if (!run_.open(options_.run_dir, !options_.dry_run, report_.error) || !check_instance() || !check_target())
    return std::move(report_);
  now_ = options_.now ? options_.now : static_cast<std::int64_t>(std::time(nullptr));
  // What an interrupted purge or restore of this run left is settled first.
  settle_handed();
  if (!options_.dry_run) put_back_engine().recover(run_.manifest(), report_.messages);
  if (options_.settle_only) return std::move(report_);
  for (const ArchivedMessage& m : run_.manifest().messages) restore_message(m);
  if (to_put_.empty()) return std::move(report_);
  std::vector<PutBackItem> items;
  for (auto& [line, item] : to_put_) {
    item.report = &report_.messages[line];
    items.push_back(std::move(item));
  }
  put_back_engine().put(items);
  return std::move(report_);
}

// The run must come from this host and queue directory, unless forced.
bool Restorer::check_instance() {
  if (options_.force_other_instance) return true;
  const ArchiveHeader& header = run_.manifest().header;
  if (header.host != options_.host) {
    report_.error = options_.run_dir + ": archived on host " + text_escaped(header.host) + ", this is " +
                    text_escaped(options_.host) + " (force it to restore here)";
    return false;
  }
  if (!same_directory(header.queue_directory, options_.queue_dir)) {
    report_.error = options_.run_dir + ": archived from queue directory " + text_escaped(header.queue_directory) +
                    ", not " + text_escaped(options_.queue_dir) + " (force it to restore here)";
    return false;
  }
  return true;
}

// The target queue must be a directory; its owner owns what is put back.
bool Restorer::check_target() {
  struct stat tst;
  if (::lstat(target_dir_.c_str(), &tst) != 0) {
    report_.error = sys_error(target_dir_);
    return false;
  }
  if (!S_ISDIR(tst.st_mode)) {
    report_.error = target_dir_ + ": not a directory";
    return false;
  }
  queue_owner(tst, uid_, gid_);
  return true;
}

bool named_safely(const ArchivedMessage& m, const ArchivedCopy& copy, RestoredMessage& r) {
  if (is_queue_id(m.queue_id) && queue_id_ok(m.file)) return true;
  return stop(r, "failed", copy.path + ": not a queue ID: " + text_escaped(m.queue_id));
}

// The copy must be what was archived: its SHA-256 and size as the manifest says.
bool verified(const ArchivedMessage& m, const ArchivedCopy& copy, RestoredMessage& r) {
  if (copy.checked) return true;
  std::string sum;
  if (!sha256_hex(copy.data, sum)) return stop(r, "failed", copy.path + ": SHA-256 could not be computed");
  if (sum != m.sha256 || copy.data.size() != m.file_size)
    return stop(r, "checksum_mismatch",
                copy.path + ": sha256 " + sum + " (" + std::to_string(copy.data.size()) +
                    " bytes), the manifest says " + m.sha256 + " (" + std::to_string(m.file_size) + " bytes)");
  return true;
}

// The copy, read as every file of the run is (run_reader.h).
bool read_copy(const RunReader& run, const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r) {
  if (copy.read) return true;
  std::string read_error;
  bool absent = false;
  if (!run.read(m.file, kMaxArchivedFile, copy.data, copy.st, false, absent, read_error))
    return stop(r, "failed", read_error);
  copy.read = true;
  if (!m.cancel) return true;
  // Judged and put back as the copy for the canceled recipients only.
  if (!verified(m, copy, r)) return false;
  copy.checked = true;
  std::string why;
  if (!canceled_recipients_copy(m, copy.data, why))
    return stop(r, "failed", copy.path + ": cannot make the copy for the canceled recipients: " + why);
  return true;
}

// Only a queue file cleanup wrote can go back into a queue: its first
// record is the size record. A postdrop file (from maildrop: no size
// record, raw addresses) is taken for a corrupt queue file by qmgr.
bool written_by_cleanup(const ArchivedCopy& copy, RestoredMessage& r) {
  if (!copy.data.empty() && copy.data[0] == rec::kSize) return true;
  return stop(r, "failed",
              copy.path + ": not a queue file cleanup wrote (its first record is not the size record 'C'; a " +
                  "postdrop file from maildrop?): Postfix would take it for a corrupt file; not restored");
}

// Whether an explanation line (match.h, --explain) says its group could not
// decide: "--body X: undecided (...)", "... reason unknown", "...; undecided
// for 1 (...)".
bool undecided_line(const std::string& line) {
  for (const char* cause : {"(the pattern gave up on this input)", "(the content could not be read or parsed as MIME)",
                            "(nothing matched before the cut at the limit)"})
    if (line.ends_with(std::string("undecided ") + cause)) return true;
  return line.ends_with(": reason unknown") || line.find("; undecided for ") != std::string::npos ||
         line.find("; reason unknown for ") != std::string::npos;
}

// Why the selectors could not judge a message (its evaluation explained):
// the groups that could not decide, and what stopped them.
std::string undecided_detail(const Evaluation& e, const std::string& log_error) {
  std::string why;
  auto add = [&why](const std::string& part) { why += (why.empty() ? "" : "; ") + part; };
  for (const std::string& line : e.verdict.explain)
    if (undecided_line(line)) add(line);
  if (e.content_failed) add(e.content->error);
  if (!log_error.empty()) add(log_error);
  if (why.empty()) add("a selector could not decide");
  return why + "; not restored";
}

// Only a message the purge deleted, and that is not restored yet.
bool restorable(const ArchivedMessage& m, RestoredMessage& r) {
  if (!m.deleted())
    return stop(
        r, "not_deleted",
        m.has_outcome
            ? "the purge did not delete it (" + m.result + (m.result_detail.empty() ? "" : ": " + m.result_detail) + ")"
            : "no outcome recorded: the purge may have stopped before it; look for " + m.queue_id + " in the queue");
  if (m.restored) {
    r.new_id = m.new_queue_id;
    return stop(r, "already_restored",
                "restored into " + m.restored_to + (m.new_queue_id.empty() ? "" : " as " + m.new_queue_id));
  }
  return true;
}

void Restorer::restore_message(const ArchivedMessage& m) {
  RestoredMessage r;
  r.old_id = m.queue_id;
  for (const ArchivedRecipient& c : m.canceled) r.canceled.push_back(c.address);
  ArchivedCopy copy;
  copy.path = options_.run_dir + "/" + m.file;
  if (options_.matcher) {
    // Selection first: the report holds only the messages asked for.
    const Selection s = select(m, copy, r);
    if (s == Selection::kNotSelected) return;
    if (s == Selection::kUnjudged) {
      report_.messages.push_back(std::move(r));
      return;
    }
  }
  if (restorable(m, r) && named_safely(m, copy, r) && read_copy(run_, m, copy, r) && verified(m, copy, r) &&
      written_by_cleanup(copy, r) && name_free(m, copy, r))
    put_back(m, copy, r);
  report_.messages.push_back(std::move(r));
}

// Whether the matcher selects `m`, judged from its archived copy as the
// plan judged the queue file (select/evaluate.h), under the ID the plan saw,
// with the content the matcher needs and the archived defer log. A copy
// that cannot be read or parsed, or that the selectors cannot judge (fail
// closed: a selector does not select, an exclusion excludes), is reported,
// not restored, and never silently left out.
Restorer::Selection Restorer::select(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r) {
  if (!named_safely(m, copy, r) || !read_copy(run_, m, copy, r)) return Selection::kUnjudged;
  const Matcher& matcher = *options_.matcher;
  MemorySource source(copy.data);
  std::string parse_error;
  if (!parse_queue_file(source, reader_, msg_, parse_error, parse_options_for(matcher, options_.content_limit))) {
    stop(r, "failed", copy.path + ": " + parse_error);
    return Selection::kUnjudged;
  }
  const ArchivedDeferLog log(run_, m.file);
  EvaluateOptions how{now_, options_.body_limit, false};
  evaluate_message(matcher, msg_, m.queue_id, copy.data.size(), log, how, evaluation_);
  const Verdict& v = evaluation_.verdict;
  if (v.kind != VerdictKind::kNoMatch) return Selection::kSelected;
  if (!v.undecided && !v.reason_unknown) return Selection::kNotSelected;
  how.explain = true;  // again, to say which criterion could not decide
  evaluate_message(matcher, msg_, m.queue_id, copy.data.size(), log, how, evaluation_);
  stop(r, "undecided", undecided_detail(evaluation_, log.error));
  return Selection::kUnjudged;
}

// Queue IDs are unique across the queues: the old name must be free in
// every one of them, not only in the target.
// A canceled-recipient copy gets a name of its own: the original ID is the
// message that kept the other recipients (cancel_copy.h).
bool Restorer::name_free(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r) {
  if (m.cancel) {
    copy.name = fresh_queue_name(options_.queue_dir, m.queue_id, m.inode, names_);
    if (copy.name.empty()) return stop(r, "failed", "no free queue file name for the copy of " + m.queue_id);
    names_.insert(copy.name);
    return true;
  }
  if (std::string there = existing_queue_file(options_.queue_dir, m.queue_id); !there.empty())
    return stop(r, "exists", there + " exists: not overwritten");
  return true;
}

// Queues the copy to be written into the target queue under its old ID (in
// a dry run, only says where it would go).
void Restorer::put_back(const ArchivedMessage& m, ArchivedCopy& copy, RestoredMessage& r) {
  const std::string name = copy.name.empty() ? m.queue_id : copy.name;
  if (options_.dry_run) {
    stop(r, "would_restore", put_back_engine().path_for(name));
    return;
  }
  PutBackItem item;
  item.message = &m;
  item.name = name;
  item.data = std::move(copy.data);
  item.archived = copy.st;
  to_put_.emplace_back(report_.messages.size(), std::move(item));
}

// Issue 19: a message handed to postsuper whose outcome was never recorded
// (the run died), or recorded as failed (postsuper died after acting), is
// deleted when its file is in no queue now. Settled from the queue the
// purge acted on, and recorded (not in a dry run).
void Restorer::settle_handed() {
  if (!same_directory(run_.manifest().header.queue_directory, options_.queue_dir)) return;
  std::string records;
  for (ArchivedMessage& m : run_.manifest().messages) {
    if (m.cancel && (!m.has_outcome || m.result == "failed")) {
      if (settle_cancel(options_.queue_dir, m, m.result, m.result_detail)) {
        m.has_outcome = true;
        records += outcome_record(m.queue_id, m.queue_name, m.result, m.result_detail);
      }
      continue;
    }
    if (!m.handed || m.deleted()) continue;
    std::optional<std::string> now = find_message(options_.queue_dir, m.queue_id, m.inode);
    if (!now || !now->empty()) continue;
    m.has_outcome = true;
    m.result = "done";
    m.result_detail = "handed to postsuper and gone from every queue (settled by a restore)";
    records += outcome_record(m.queue_id, m.queue_name, m.result, m.result_detail);
  }
  std::string error;
  if (!options_.dry_run && !records.empty() &&
      !append_record(run_.manifest_fd(), run_.manifest_path(), records, true, error, *options_.sys))
    report_.warnings.push_back("could not record what was settled: " + error);
}

PutBack Restorer::put_back_engine() {
  PutBackTarget t;
  t.queue_dir = options_.queue_dir;
  t.target = options_.target;
  t.uid = uid_;
  t.gid = gid_;
  t.postsuper = options_.postsuper;
  t.config_dir = options_.config_dir;
  t.host = options_.host;
  t.now = now_;
  t.sys = options_.sys;
  return PutBack(run_.manifest_fd(), run_.manifest_path(), t, runner_);
}

}  // namespace

RestoreReport restore_from_archive(const RestoreOptions& options, CommandRunner& runner) {
  return Restorer(options, runner).run();
}

}  // namespace qpurge
