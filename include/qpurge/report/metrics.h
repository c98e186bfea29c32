// SPDX-License-Identifier: MIT
// metrics.h - the shape of a selection as Prometheus metrics, for
// node_exporter's textfile collector (qpurge --shape --format prometheus).
//
// QueueMetrics counts what the shape table counts (qshape_table.h: the same
// domain normalisation, the same age buckets, addresses rather than
// messages), per queue, and renders it in the Prometheus text format with
// prometheus-cpp's registry and text serializer:
//
//   qpurge_queue_recipients{queue,domain,age}  pending recipients by
//       recipient domain and age (with --shape sender, instead:
//       qpurge_queue_sender_messages{queue,domain,age}, messages by sender
//       domain and age)
//   qpurge_queue_messages{queue}             messages
//   qpurge_queue_oldest_seconds{queue}       age of the oldest message, 0 when
//                                            the queue has none
//   qpurge_scan_unreadable_files{queue}      files skipped: unreadable, not a
//                                            regular file, or in a
//                                            subdirectory that cannot be read
//
// `age` is the bucket's upper bound in minutes, as the table's column
// headings ("5", "10", ... "1280"); the last, open-ended bucket is "+Inf".
// Each address is in exactly one bucket (they are not cumulative, unlike a
// histogram's "le"). Only nonzero per-domain series are written;
// the three per-queue gauges are written for every queue scanned, 0 included.
// Unlike the table, every message of the selection counts: qshape's silent
// skips (force-expired, maildrop files) do not apply, those messages are in
// the queue.
//
// Label cardinality is bounded: the `top` domains with most addresses over
// all queues keep their own label (ties broken by name), the rest are summed
// under domain="other" (a domain literally named "other" is summed with
// them). Domain labels are escaped as qpurge's text output escapes
// (escape.h: a backslash doubled, control characters and bytes that are not
// UTF-8 as \xHH), so the file is always valid UTF-8, which the collector
// requires, and no line is broken; prometheus-cpp then escapes '"' and '\'
// as the format wants.
// prometheus-cpp is not linked into qpurge: render() hands the gauges to the
// metrics module (module.h), loaded by the first render() or by
// require_metrics_module(), which throws ModuleError when it cannot be.
#ifndef QPURGE_REPORT_METRICS_H_
#define QPURGE_REPORT_METRICS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "qpurge/report/qshape_table.h"

namespace qpurge {

inline constexpr const char* kOtherDomain = "other";

// Loads the metrics module now, so that --format prometheus fails before
// the scan when it cannot: throws ModuleError (module.h).
void require_metrics_module();

class QueueMetrics {
 public:
  // `shape.now` is the reference time of the ages.
  QueueMetrics(const ShapeOptions& shape, std::size_t top);

  // A queue that was scanned: its per-queue gauges are written even when 0.
  void add_queue(std::string_view queue);
  // One message of the selection.
  void add(std::string_view queue, std::int64_t arrival_time, std::string_view sender,
           const std::vector<std::string_view>& recipients);
  // One file or directory of that queue skipped as unreadable.
  void add_unreadable(std::string_view queue);

  // The text format, HELP and TYPE lines included.
  std::string render() const;

 private:
  struct Queue {
    std::uint64_t messages = 0;
    std::uint64_t unreadable = 0;
    std::optional<std::int64_t> oldest;                         // arrival time
    std::map<std::string, std::vector<std::uint64_t>> domains;  // normalised domain -> [bucket]
  };
  Queue& queue(std::string_view name);
  std::set<std::string> kept_domains() const;

  ShapeTable buckets_;   // the table's bucket arithmetic and headings
  std::size_t columns_;  // "T" and the buckets
  bool senders_;
  std::size_t top_;
  std::int64_t now_;
  std::map<std::string, Queue, std::less<>> queues_;
  std::unordered_map<std::string, std::uint64_t> domain_totals_;
};

}  // namespace qpurge

#endif  // QPURGE_REPORT_METRICS_H_
