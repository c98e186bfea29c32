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
#ifndef QPURGE_PRINTER_H_
#define QPURGE_PRINTER_H_

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "qpurge/config.h"
#include "qpurge/execute.h"
#include "qpurge/output.h"
#include "qpurge/plan.h"
#include "qpurge/qshape_table.h"

namespace qpurge {

class Printer {
 public:
  Printer(const RunConfig& config, std::ostream& out, std::ostream& err, bool progress);
  virtual ~Printer();

  // The plan. begin_plan() comes first, with the run's clock.
  virtual void begin_plan(std::int64_t now) { (void)now; }
  virtual void entry(const PlanEntry& e) = 0;
  virtual void mixed_skipped(const PlanEntry&) {}  // with --explain, on dry runs
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

  // Text: on standard output with the plan; else on standard error.
  void summary(const std::string& line);
  // One line of a listing (archive runs, restored messages) on standard output.
  void line(const std::string& text);
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
  void purge_progress(std::size_t handed, std::size_t done, std::size_t total, std::string_view what);
  void clear_progress();
  void flush();

 protected:
  void write_out(const std::string& s);
  std::string text_prefix() const;  // "[instance] " or ""
  const RunConfig& config_;

 private:
  void write_err(const std::string& s);
  std::ostream& out_;
  std::ostream& err_;
  bool progress_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

std::unique_ptr<Printer> make_printer(const RunConfig& config, std::ostream& out, std::ostream& err, bool progress);

// The progress line's end with --rate: "; --rate 5 IDs/s, about 12 s left".
std::string rate_progress(unsigned rate, std::size_t ids_left);

// "removed 3 of 4 planned; not found 1; ..." after acting.
std::string result_summary(const ExecReport& report, const ActionInfo& action);

}  // namespace qpurge

#endif  // QPURGE_PRINTER_H_
