// SPDX-License-Identifier: MIT
// printer.cc - the printers; see printer.h.
#include "qpurge/report/printer.h"

#include <optional>

#include "qpurge/report/metrics.h"
#include "qpurge/util/check.h"
#include "qpurge/util/escape.h"
#include "qpurge/util/json_writer.h"

namespace qpurge {
namespace {

std::string comma_list(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

class TextPrinter : public Printer {
 public:
  using Printer::Printer;
  void begin_plan(std::int64_t now, const std::vector<std::string>&) override { now_ = now; }
  void entry(const PlanEntry& e) override { write_out(header() + lines_of(e)); }
  void mixed_skipped(const PlanEntry& e) override {
    write_out(header() + lines_of(e) + text_prefix() + "    skipped as mixed: not selected\n");
  }
  void result(const IdResult& r, const ActionInfo& action) override {
    const bool fine = r.outcome == IdOutcome::kDone || r.outcome == IdOutcome::kAlready;
    if (fine && !options_.verbose) return;
    std::string s = text_prefix() + r.id + "  " + r.queue + "  ";
    s += r.outcome == IdOutcome::kDone ? action.past : outcome_name(r.outcome);
    if (!r.detail.empty()) {
      s += ": ";
      append_text_escaped(s, r.detail);
    }
    write_out(s + "\n");
  }
  void restored(const RestoredMessage& m, const std::string& queue) override {
    std::string s = text_prefix() + text_escaped(m.old_id) + "  " + m.outcome;
    if (!m.new_id.empty()) s += " as " + text_escaped(m.new_id) + (queue.empty() ? "" : " in " + queue);
    if (!m.canceled.empty()) s += " (canceled-recipient copy, to " + text_escaped(comma_list(m.canceled)) + ")";
    if (!m.detail.empty()) s += ": " + text_escaped(m.detail);
    write_out(s + "\n");
  }
  void archive_run(const ArchiveRunInfo& r) override {
    std::string criteria;
    for (const PlanCriterion& k : r.criteria) {
      if (!k.sha256.empty()) {  // a long list, kept in the run's list file
        criteria += (criteria.empty() ? "" : " ") + k.option + " (" + std::to_string(k.count) + " values, sha256 " +
                    k.sha256.substr(0, 16) + ")";
        continue;
      }
      for (const std::string& v : k.values.empty() ? std::vector<std::string>{""} : k.values)
        criteria += (criteria.empty() ? "" : " ") + k.option + (v.empty() ? "" : " " + v);
    }
    write_out(text_prefix() + text_escaped(r.name) + "  " + format_time(r.created) + "  " + std::to_string(r.messages) +
              " messages  " + std::to_string(r.bytes) + " bytes  " + std::to_string(r.restored) + " restored  " +
              (r.canceled ? std::to_string(r.canceled) + " canceled-recipient copies  " : "") + text_escaped(criteria) +
              "\n");
  }
  void pruned(const std::string& path, bool removed) override {
    if (!removed) write_out(text_prefix() + text_escaped(path) + "\n");
  }

 private:
  // The column names, once, before the first message.
  std::string header() {
    if (headed_) return "";
    headed_ = true;
    return text_prefix() + entry_text_header();
  }
  // The message's lines, each after "[instance] " with --all-instances.
  std::string lines_of(const PlanEntry& e) const {
    std::string s, out;
    append_entry_text(s, e, now_, options_.verbose || options_.detail);
    for (std::size_t at = 0, nl; (nl = s.find('\n', at)) != std::string::npos; at = nl + 1)
      out += text_prefix() + s.substr(at, nl + 1 - at);
    return out;
  }
  std::int64_t now_ = 0;
  bool headed_ = false;
};

// --count: no line per message; the engine prints the number.
class CountPrinter : public Printer {
 public:
  using Printer::Printer;
  void entry(const PlanEntry&) override {}
  void mixed_skipped(const PlanEntry&) override {}
  void result(const IdResult&, const ActionInfo&) override {}
  void restored(const RestoredMessage&, const std::string&) override {}
  void archive_run(const ArchiveRunInfo&) override {}
  void pruned(const std::string&, bool) override {}
};

class IdsPrinter : public Printer {
 public:
  using Printer::Printer;
  void entry(const PlanEntry& e) override { write_out(id_line(e.id)); }
  // A message whose recipients were canceled is not listed: these IDs are
  // ready for postsuper -d, and that one keeps mail for others.
  void result(const IdResult& r, const ActionInfo& action) override {
    if (r.outcome == IdOutcome::kDone && action.name != "cancel") write_out(id_line(r.id));
  }
  void restored(const RestoredMessage& m, const std::string&) override {
    if (!m.new_id.empty()) write_out(id_line(text_escaped(m.new_id)));
  }
  void archive_run(const ArchiveRunInfo& r) override { write_out(id_line(text_escaped(r.path))); }
  void pruned(const std::string& path, bool) override { write_out(id_line(text_escaped(path))); }

 private:
  std::string id_line(const std::string& id) const {
    return instance_.empty() ? id + "\n" : instance_ + " " + id + "\n";
  }
};

class JsonPrinter : public Printer {
 public:
  using Printer::Printer;
  void entry(const PlanEntry& e) override { write_entry(e); }
  void result(const IdResult& r, const ActionInfo&) override {
    std::string s;
    JsonWriter w(s);
    begin(w);
    write_result_fields(w, r);
    w.end_object();
    write_out(s + "\n");
  }
  void restored(const RestoredMessage& m, const std::string& queue) override {
    std::string s;
    JsonWriter w(s);
    begin(w);
    w.field("queue_id", m.old_id).field("result", m.outcome);
    if (!m.new_id.empty()) w.field("new_queue_id", m.new_id);
    if (!queue.empty()) w.field("queue_name", queue);
    if (!m.canceled.empty()) w.field_strings("canceled_recipients", m.canceled);
    if (!m.detail.empty()) w.field("detail", m.detail);
    w.end_object();
    write_out(s + "\n");
  }
  void archive_run(const ArchiveRunInfo& r) override {
    std::string s;
    JsonWriter w(s);
    begin(w);
    w.field("run", r.name).field("path", r.path).field("created", r.created);
    w.field("host", r.host).field("queue_directory", r.queue_directory).key("criteria").begin_array();
    for (const PlanCriterion& k : r.criteria) {
      w.begin_object().field("option", k.option);
      if (!k.sha256.empty())
        w.field("count", k.count).field("sha256", k.sha256);
      else
        w.field_strings("values", k.values);
      w.end_object();
    }
    w.end_array().field("messages", r.messages).field("deleted", r.deleted).field("bytes", r.bytes);
    w.field("restored", r.restored).field("canceled", r.canceled);
    if (!r.error.empty()) w.field("error", r.error);
    w.end_object();
    write_out(s + "\n");
  }
  void pruned(const std::string& path, bool removed) override {
    std::string s;
    JsonWriter w(s);
    begin(w);
    w.field("path", path).field("result", removed ? "removed" : "would_remove").end_object();
    write_out(s + "\n");
  }

 private:
  void begin(JsonWriter& w) const {
    w.begin_object();
    if (!instance_.empty()) w.field("instance", instance_);
  }
  void write_entry(const PlanEntry& e) {
    std::string s;
    JsonWriter w(s);
    begin(w);
    write_entry_fields(w, e, options_.detail);
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
  // The archive modes take no --shape (app/config.h).
  void restored(const RestoredMessage&, const std::string&) override {}
  void archive_run(const ArchiveRunInfo&) override {}
  void pruned(const std::string&, bool) override {}

 protected:
  ShapeOptions shape_at(std::int64_t now) const {
    ShapeOptions so = *options_.shape;
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
  void begin_plan(std::int64_t now, const std::vector<std::string>&) override { table_.emplace(shape_at(now)); }
  void entry(const PlanEntry& e) override {
    QPURGE_CHECK(table_.has_value());
    table_->add(e.arrival_time, e.sender, addresses(e), e.qshape_skip);
  }
  std::string shape_output() override {
    if (!table_) return "";
    if (options_.format == Format::kJson) return table_->render_json();
    std::string prefix = text_prefix();
    std::string t = table_->render_text();
    if (!prefix.empty()) t.insert(0, prefix + "\n");
    return t;
  }
  void finish_plan(const std::string& summary) override {
    if (!table_) return;
    std::string n = options_.format == Format::kJson ? "" : table_->note();
    if (!n.empty()) note(n);
    note("the table counts the selection: " + summary);
  }

 private:
  std::optional<ShapeTable> table_;
};

class MetricsPrinter : public ShapeBase {
 public:
  using ShapeBase::ShapeBase;
  void begin_plan(std::int64_t now, const std::vector<std::string>& queues) override {
    metrics_.emplace(shape_at(now), options_.top);
    for (const std::string& q : queues) metrics_->add_queue(q);
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
    if (metrics_) note("the metrics count the selection: " + summary);
  }

 private:
  std::optional<QueueMetrics> metrics_;
};

}  // namespace

Printer::Printer(const OutputOptions& options, std::string instance, std::ostream& out, std::ostream& err,
                 bool progress)
    : options_(options),
      instance_(std::move(instance)),
      out_(out),
      err_(err),
      progress_(progress && !options.quiet),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Printer::~Printer() { clear_progress(); }

std::string Printer::text_prefix() const { return instance_.empty() ? "" : "[" + instance_ + "] "; }

void Printer::write_out(const std::string& s) { out_ << s; }

void Printer::write_err(const std::string& s) {
  clear_progress();
  err_ << s;
  err_.flush();
}

namespace {

// `line` after `prefix`, broken at "; " into lines of at most 80 columns
// (a part longer than that stays whole), each after the first indented.
std::string fit_80(const std::string& prefix, const std::string& line) {
  constexpr std::size_t kWidth = 80;
  std::string out = prefix, indent = prefix + "  ";
  std::size_t col = prefix.size(), from = 0;
  while (from <= line.size()) {
    std::size_t end = line.find("; ", from);
    const bool last = end == std::string::npos;
    std::string part = line.substr(from, last ? std::string::npos : end + 1 - from);
    if (col > indent.size() && col + 1 + part.size() > kWidth) {
      out += "\n" + indent;
      col = indent.size();
    } else if (from > 0) {
      out += ' ';
      ++col;
    }
    out += part;
    col += part.size();
    if (last) break;
    from = end + 2;
  }
  return out + "\n";
}

}  // namespace

void Printer::summary(const std::string& line) {
  if (options_.quiet) return;
  if (options_.format == Format::kText && !options_.shape && !options_.count)
    write_out(out_terminal_ ? fit_80(text_prefix(), line) : text_prefix() + line + "\n");
  else
    write_err(err_terminal_ ? fit_80("qpurge: " + text_prefix(), line) : "qpurge: " + text_prefix() + line + "\n");
}

// IDs and JSON on standard output are the selection and nothing else: a
// message skipped as mixed is explained on standard error.
void Printer::mixed_skipped(const PlanEntry& e) {
  std::string s;
  append_entry_text(s, e, 0);
  note("skipped as mixed, not selected: " + s.substr(0, s.find(' ')) +
       s.substr(s.find('\n'), s.size() - s.find('\n') - 1));
}

void Printer::note(const std::string& line) {
  if (!options_.quiet) write_err("qpurge: " + text_prefix() + line + "\n");
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

void Printer::purge_progress(std::size_t handed, std::size_t done, std::size_t total, std::string_view what,
                             unsigned rate) {
  if (!progress_) return;
  auto now = std::chrono::steady_clock::now();
  if (rate && drawn_ && handed < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  err_ << "\r\033[K" << what << ": " << handed << " of " << total << " IDs handed to postsuper, " << done << " done";
  if (rate) err_ << rate_progress(rate, total - std::min(handed, total));
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

std::unique_ptr<Printer> make_printer(const OutputOptions& options, const std::string& instance, std::ostream& out,
                                      std::ostream& err, bool progress) {
  if (options.shape && options.format == Format::kPrometheus)
    return std::make_unique<MetricsPrinter>(options, instance, out, err, progress);
  if (options.shape) return std::make_unique<ShapePrinter>(options, instance, out, err, progress);
  if (options.count) return std::make_unique<CountPrinter>(options, instance, out, err, progress);
  switch (options.format) {
    case Format::kIds:
      return std::make_unique<IdsPrinter>(options, instance, out, err, progress);
    case Format::kJson:
      return std::make_unique<JsonPrinter>(options, instance, out, err, progress);
    case Format::kText:
    case Format::kPrometheus:  // only with a shape (app/config.h)
      break;
  }
  return std::make_unique<TextPrinter>(options, instance, out, err, progress);
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
