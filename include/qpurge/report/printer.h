// SPDX-License-Identifier: MIT
// printer.h - what a run shows: plan lines, per-ID results, summaries,
// warnings and the progress line.
//
// Interchangeable printers, one per --format: Text (a line per message and
// the summary on standard output), Ids (queue IDs only, ready for `postsuper
// -d -`; the summary on standard error), Json (JSON Lines, output.h's
// fields; the summary on standard error), Shape (a qshape table of the
// selection, text or JSON) and Metrics (the shape as Prometheus metrics,
// metrics.h). A shape comes in one piece from shape_output(), for the engine
// to print or to write to the --output file. With --all-instances every line of every format
// names the instance: "[name] " before a text line or a message, "name ID"
// for IDs, an "instance" field first in JSON.
//
// Everything from a queue file is escaped (escape.h). Warnings and fatal
// errors go to standard error as "qpurge: warning: ..." / "qpurge: fatal: ...".
// The progress line is drawn on standard error only when it is a terminal,
// and cleared before anything else is written there.
#ifndef QPURGE_REPORT_PRINTER_H_
#define QPURGE_REPORT_PRINTER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "qpurge/archive/restore.h"
#include "qpurge/archive/runs.h"
#include "qpurge/plan/plan.h"
#include "qpurge/postfix/postsuper.h"
#include "qpurge/report/output.h"
#include "qpurge/report/qshape_table.h"

namespace qpurge {

enum class Format { kText, kIds, kJson, kPrometheus };  // kPrometheus: with a shape only

// How a run shows what it does: --format, --shape (a qshape table instead of
// the plan) and its --top and --output, --detail, --quiet, --verbose.
struct OutputOptions {
  Format format = Format::kText;
  std::optional<ShapeOptions> shape;
  std::size_t top = 20;     // --format prometheus: domains with a label of their own
  std::string output_file;  // --output: the shape goes to this file, atomically
  bool detail = false;
  bool count = false;  // --count: the number of selected messages alone on standard output
  bool quiet = false;
  bool verbose = false;
};

class Printer {
 public:
  // `instance`: with --all-instances, the name every line carries ("" = none).
  Printer(const OutputOptions& options, std::string instance, std::ostream& out, std::ostream& err, bool progress);
  virtual ~Printer();
  // Which of standard output and standard error are terminals: a summary
  // written to one is wrapped at "; " to fit 80 columns (a person reads
  // it); to a pipe or a file it stays one line (a script reads it).
  void set_terminals(bool out, bool err) {
    out_terminal_ = out;
    err_terminal_ = err;
  }

  // The plan. begin_plan() comes first, with the run's clock and the queues
  // it scans.
  virtual void begin_plan(std::int64_t now, const std::vector<std::string>& queues) {
    (void)now;
    (void)queues;
  }
  virtual void entry(const PlanEntry& e) = 0;
  // With --explain, on dry runs: a message skipped as mixed. Text: on
  // standard output, "skipped as mixed: " and its line; the others: on
  // standard error, never in the stream of IDs or JSON (the selection).
  virtual void mixed_skipped(const PlanEntry& e);
  // A file or directory of `queue` skipped by the scan (after problem()).
  virtual void scan_problem(std::string_view queue) { (void)queue; }
  // After the scan, for the shape printers: the table, JSON or metrics, in
  // one piece; "" otherwise.
  virtual std::string shape_output() { return ""; }
  // After the scan (and the shape): notes that go with it.
  virtual void finish_plan(const std::string& summary) { (void)summary; }
  virtual bool shows_plan_lines() const { return true; }

  // One ID's outcome after acting. Text shows the ones not done (all with
  // --verbose), Ids the ones done, Json all.
  virtual void result(const IdResult& r, const ActionInfo& action) = 0;

  // --restore: one archived message's outcome; `queue` is the queue it is
  // in now (put back, or restored before) or would go to (a dry run), "" if
  // none. Text: "OLD  RESULT[ as NEW[ in QUEUE]][: DETAIL]"; Ids: its new
  // queue ID, if it has one; Json: {queue_id, result,
  // new_queue_id?, queue_name?, detail?}.
  virtual void restored(const RestoredMessage& m, const std::string& queue) = 0;
  // --archives: one archive run. Text: "NAME  CREATED  N messages  B bytes
  // R restored  CRITERIA"; Ids: its path (what --restore takes); Json:
  // {run, path, created, host, queue_directory, criteria, messages,
  // deleted, bytes, restored, error?}.
  virtual void archive_run(const ArchiveRunInfo& r) = 0;
  // --prune-archives: a run old enough to go (`removed` false: on a dry run,
  // and in text before the prompt) or removed. Text: its path, for a run
  // that would go (the summary counts the removed); Ids: its path; Json:
  // {path, result: "would_remove" | "removed"}.
  virtual void pruned(const std::string& path, bool removed) = 0;

  // Text: on standard output with the plan; else on standard error.
  void summary(const std::string& line);
  // Text as it is (a shape_output()) on standard output.
  void print(const std::string& text) { write_out(text); }
  void warning(const std::string& what);
  void problem(const std::string& path, const std::string& what);  // "path: what"
  void fatal(const std::string& what);
  void note(const std::string& line);  // "qpurge: line" on standard error, unless --quiet
  // A shell command for the operator to run, on a line of its own, not
  // escaped: built only from queue IDs that were validated and from paths
  // the operator gave, shell-quoted.
  void command(const std::string& line);

  void scan_progress(std::uint64_t files);
  // `rate`: --rate, for the time left (0: none).
  void purge_progress(std::size_t handed, std::size_t done, std::size_t total, std::string_view what,
                      unsigned rate = 0);
  void clear_progress();
  void flush();

 protected:
  void write_out(const std::string& s);
  std::string text_prefix() const;  // "[instance] " or ""
  const OutputOptions& options_;
  const std::string instance_;

 private:
  void write_err(const std::string& s);
  std::ostream& out_;
  std::ostream& err_;
  bool progress_;
  bool out_terminal_ = false;
  bool err_terminal_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

std::unique_ptr<Printer> make_printer(const OutputOptions& options, const std::string& instance, std::ostream& out,
                                      std::ostream& err, bool progress);

// The progress line's end with --rate: "; --rate 5 IDs/s, about 12 s left".
std::string rate_progress(unsigned rate, std::size_t ids_left);

// "removed 3 of 4 planned; not found 1; ..." after acting.
std::string result_summary(const ExecReport& report, const ActionInfo& action);

}  // namespace qpurge

#endif  // QPURGE_REPORT_PRINTER_H_
