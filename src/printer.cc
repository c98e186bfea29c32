// SPDX-License-Identifier: MIT
// printer.cc - the printers; see printer.h.
#include "qpurge/printer.h"

#include <optional>

#include "qpurge/check.h"
#include "qpurge/escape.h"
#include "qpurge/json_writer.h"
#include "qpurge/metrics.h"

namespace qpurge {
namespace {

class TextPrinter : public Printer {
 public:
  using Printer::Printer;
  void entry(const PlanEntry& e) override {
    std::string s = text_prefix();
    append_entry_text(s, e);
    write_out(s);
  }
  void mixed_skipped(const PlanEntry& e) override {
    std::string s = text_prefix() + "skipped as mixed: ";
    append_entry_text(s, e);
    write_out(s);
  }
  void result(const IdResult& r, const ActionInfo& action) override {
    const bool fine = r.outcome == IdOutcome::kDone || r.outcome == IdOutcome::kAlready;
    if (fine && !config_.verbose) return;
    std::string s = text_prefix() + r.id + "  " + r.queue + "  ";
    s += r.outcome == IdOutcome::kDone ? action.past : outcome_name(r.outcome);
    if (!r.detail.empty()) {
      s += ": ";
      append_text_escaped(s, r.detail);
    }
    write_out(s + "\n");
  }
};

class IdsPrinter : public Printer {
 public:
  using Printer::Printer;
  void entry(const PlanEntry& e) override { write_out(id_line(e.id)); }
  void result(const IdResult& r, const ActionInfo&) override {
    if (r.outcome == IdOutcome::kDone) write_out(id_line(r.id));
  }

 private:
  std::string id_line(const std::string& id) const {
    return config_.instance.empty() ? id + "\n" : config_.instance + " " + id + "\n";
  }
};

class JsonPrinter : public Printer {
 public:
  using Printer::Printer;
  void entry(const PlanEntry& e) override { write_entry(e, false); }
  void mixed_skipped(const PlanEntry& e) override { write_entry(e, true); }
  void result(const IdResult& r, const ActionInfo&) override {
    std::string s;
    JsonWriter w(s);
    begin(w);
    write_result_fields(w, r);
    w.end_object();
    write_out(s + "\n");
  }

 private:
  void begin(JsonWriter& w) const {
    w.begin_object();
    if (!config_.instance.empty()) w.field("instance", config_.instance);
  }
  void write_entry(const PlanEntry& e, bool skipped_as_mixed) {
    std::string s;
    JsonWriter w(s);
    begin(w);
    if (skipped_as_mixed) w.field("skipped_as_mixed", true);
    write_entry_fields(w, e, config_.detail);
    w.end_object();
    write_out(s + "\n");
  }
};

// What the shape printers have in common: no plan lines, no results, the
// shape options with qshape's time() (the ages are counted from the run's
// clock), and a message's pending recipients as addresses.
class ShapeBase : public Printer {
 public:
  using Printer::Printer;
  bool shows_plan_lines() const override { return false; }
  void result(const IdResult&, const ActionInfo&) override {}

 protected:
  ShapeOptions shape_at(std::int64_t now) const {
    ShapeOptions so = *config_.shape;
    so.now = now;
    return so;
  }
  static std::vector<std::string_view> addresses(const PlanEntry& e) {
    std::vector<std::string_view> rcpts;
    for (const auto& r : e.recipients) rcpts.push_back(r.address);
    return rcpts;
  }
};

class ShapePrinter : public ShapeBase {
 public:
  using ShapeBase::ShapeBase;
  void begin_plan(std::int64_t now) override { table_.emplace(shape_at(now)); }
  void entry(const PlanEntry& e) override {
    QPURGE_CHECK(table_.has_value());
    table_->add(e.arrival_time, e.sender, addresses(e), e.qshape_skip);
  }
  std::string shape_output() override {
    if (!table_) return "";
    if (config_.format == Format::kJson) return table_->render_json();
    std::string prefix = text_prefix();
    std::string t = table_->render_text();
    if (!prefix.empty()) t.insert(0, prefix + "\n");
    return t;
  }
  void finish_plan(const std::string& summary) override {
    if (!table_) return;
    std::string n = config_.format == Format::kJson ? "" : table_->note();
    if (!n.empty()) note(n);
    note("shape of: " + summary);
  }

 private:
  std::optional<ShapeTable> table_;
};

class MetricsPrinter : public ShapeBase {
 public:
  using ShapeBase::ShapeBase;
  void begin_plan(std::int64_t now) override {
    metrics_.emplace(shape_at(now), config_.top);
    for (const std::string& q : config_.queues) metrics_->add_queue(q);
  }
  void entry(const PlanEntry& e) override {
    QPURGE_CHECK(metrics_.has_value());
    metrics_->add(e.queue, e.arrival_time, e.sender, addresses(e));
  }
  void scan_problem(std::string_view queue) override {
    if (metrics_) metrics_->add_unreadable(queue);
  }
  std::string shape_output() override { return metrics_ ? metrics_->render() : ""; }
  void finish_plan(const std::string& summary) override {
    if (metrics_) note("shape of: " + summary);
  }

 private:
  std::optional<QueueMetrics> metrics_;
};

}  // namespace

Printer::Printer(const RunConfig& config, std::ostream& out, std::ostream& err, bool progress)
    : config_(config),
      out_(out),
      err_(err),
      progress_(progress && !config.quiet),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Printer::~Printer() { clear_progress(); }

std::string Printer::text_prefix() const { return config_.instance.empty() ? "" : "[" + config_.instance + "] "; }

void Printer::write_out(const std::string& s) { out_ << s; }

void Printer::write_err(const std::string& s) {
  clear_progress();
  err_ << s;
  err_.flush();
}

void Printer::summary(const std::string& line) {
  if (config_.quiet) return;
  if (config_.format == Format::kText && !config_.shape)
    write_out(text_prefix() + line + "\n");
  else
    write_err("qpurge: " + text_prefix() + line + "\n");
}

void Printer::line(const std::string& text) { write_out(text_prefix() + text + "\n"); }

void Printer::note(const std::string& line) {
  if (!config_.quiet) write_err("qpurge: " + text_prefix() + line + "\n");
}

void Printer::command(const std::string& line) { write_err("    " + line + "\n"); }

void Printer::warning(const std::string& what) {
  write_err("qpurge: warning: " + text_prefix() + text_escaped(what) + "\n");
}

void Printer::problem(const std::string& path, const std::string& what) {
  write_err("qpurge: warning: " + text_prefix() + text_escaped(path) + ": " + text_escaped(what) + "\n");
}

void Printer::fatal(const std::string& what) {
  write_err("qpurge: fatal: " + text_prefix() + text_escaped(what) + "\n");
}

void Printer::flush() { out_.flush(); }

// The first call draws, then at most every 100 ms.
void Printer::scan_progress(std::uint64_t files) {
  if (!progress_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  err_ << "\r\033[Kscanning: " << files << " files read (" << static_cast<long>(secs > 0 ? files / secs : 0) << "/s)";
  err_.flush();
  drawn_ = true;
}

void Printer::purge_progress(std::size_t handed, std::size_t done, std::size_t total, std::string_view what) {
  if (!progress_) return;
  auto now = std::chrono::steady_clock::now();
  if (config_.rate && drawn_ && handed < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  err_ << "\r\033[K" << what << ": " << handed << " of " << total << " IDs handed to postsuper, " << done << " done";
  if (config_.rate) err_ << rate_progress(config_.rate, total - std::min(handed, total));
  err_.flush();
  drawn_ = true;
}

void Printer::clear_progress() {
  if (!drawn_) return;
  err_ << "\r\033[K";
  err_.flush();
  drawn_ = false;
}

std::string rate_progress(unsigned rate, std::size_t left) {
  const std::size_t seconds = rate ? (left + rate - 1) / rate : 0;
  return "; --rate " + std::to_string(rate) + " IDs/s, about " + std::to_string(seconds) + " s left";
}

std::unique_ptr<Printer> make_printer(const RunConfig& config, std::ostream& out, std::ostream& err, bool progress) {
  if (config.shape && config.format == Format::kPrometheus)
    return std::make_unique<MetricsPrinter>(config, out, err, progress);
  if (config.shape) return std::make_unique<ShapePrinter>(config, out, err, progress);
  switch (config.format) {
    case Format::kIds:
      return std::make_unique<IdsPrinter>(config, out, err, progress);
    case Format::kJson:
      return std::make_unique<JsonPrinter>(config, out, err, progress);
    case Format::kText:
    case Format::kPrometheus:  // only with --shape (config.h)
      break;
  }
  return std::make_unique<TextPrinter>(config, out, err, progress);
}

std::string result_summary(const ExecReport& rep, const ActionInfo& action) {
  std::string s(action.past);
  s += ' ';
  s += std::to_string(rep.count(IdOutcome::kDone));
  s += " of " + std::to_string(rep.results.size()) + " planned";
  s += "; not found " + std::to_string(rep.count(IdOutcome::kNotFound));
  s += "; changed since planning " + std::to_string(rep.count(IdOutcome::kChanged));
  s += "; failed " + std::to_string(rep.count(IdOutcome::kFailed) + rep.count(IdOutcome::kInvalid));
  if (std::size_t n = rep.count(IdOutcome::kAlready))
    s += (action.action == Action::kRelease ? "; not on hold " : "; already on hold ") + std::to_string(n);
  if (std::size_t n = rep.count(IdOutcome::kNotAttempted); n || rep.interrupted || !rep.stopped.empty())
    s += std::string(rep.interrupted ? "; interrupted" : "") + "; not attempted " + std::to_string(n);
  return s;
}

}  // namespace qpurge
