// SPDX-License-Identifier: MIT
// metrics.cc - the shape as Prometheus metrics; see metrics.h.
#include "qpurge/report/metrics.h"

#include <algorithm>
#include <stdexcept>

#include "metrics_module.h"
#include "qpurge/util/escape.h"

namespace qpurge {
namespace {

const char kAgeHelp[] =
    " and age bucket, as the --shape table counts them (age: the bucket's upper bound in minutes, +Inf for the "
    "last; domains beyond --top summed as domain=\"other\").";

std::string messages_help(bool senders) {
  return senders ? std::string("Messages in the queue by sender domain") + kAgeHelp
                 : std::string("Pending recipients in the queue by recipient domain") + kAgeHelp;
}

// A gauge family, as prometheus::BuildGauge() registers one; the metrics
// module hands them to prometheus-cpp (metrics_module.h).
GaugeFamily& gauge(GaugeFamilies& registry, const std::string& name, const std::string& help) {
  registry.push_back(std::make_unique<GaugeFamily>());
  registry.back()->name = name;
  registry.back()->help = help;
  return *registry.back();
}

const MetricsModule& metrics_module() { return module_table<MetricsModule>("metrics"); }

}  // namespace

QueueMetrics::QueueMetrics(const ShapeOptions& shape, std::size_t top)
    : buckets_(shape), columns_(buckets_.headings().size()), senders_(shape.senders), top_(top), now_(shape.now) {}

QueueMetrics::Queue& QueueMetrics::queue(std::string_view name) {
  auto it = queues_.find(name);
  if (it == queues_.end()) it = queues_.emplace(std::string(name), Queue{}).first;
  return it->second;
}

void QueueMetrics::add_queue(std::string_view name) { queue(name); }

void QueueMetrics::add_unreadable(std::string_view name) { ++queue(name).unreadable; }

void QueueMetrics::add(std::string_view name, std::int64_t arrival_time, std::string_view sender,
                       const std::vector<std::string_view>& recipients) {
  Queue& q = queue(name);
  ++q.messages;
  if (!q.oldest || arrival_time < *q.oldest) q.oldest = arrival_time;
  const auto b = static_cast<std::size_t>(buckets_.bucket(arrival_time));
  auto one = [&](std::string_view address) {
    std::string d = ShapeTable::normalise(address);
    std::vector<std::uint64_t>& counts = q.domains[d];
    if (counts.empty()) counts.assign(columns_, 0);
    ++counts[b];
    ++domain_totals_[d];
  };
  if (senders_) {
    one(sender);
  } else {
    for (std::string_view r : recipients) one(r);
  }
}

// The `top_` domains with most addresses; ties by name, so the choice does
// not depend on hash order.
std::set<std::string> QueueMetrics::kept_domains() const {
  std::vector<std::pair<std::uint64_t, const std::string*>> all;
  for (const auto& [d, n] : domain_totals_) all.emplace_back(n, &d);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  std::set<std::string> kept;
  for (std::size_t i = 0; i < all.size() && i < top_; ++i) kept.insert(*all[i].second);
  return kept;
}

void require_metrics_module() { metrics_module(); }

std::string QueueMetrics::render() const {
  GaugeFamilies registry;
  // Named for what they count, as qshape's columns are: recipients (or, by
  // sender domain, messages); the total is a gauge, not a counter, so no _total.
  auto& messages =
      gauge(registry, senders_ ? "qpurge_queue_sender_messages" : "qpurge_queue_recipients", messages_help(senders_));
  auto& total = gauge(registry, "qpurge_queue_messages", "Messages in the queue (in the selection).");
  auto& oldest = gauge(registry, "qpurge_queue_oldest_seconds",
                       "Age of the oldest message in the queue (in the selection) in seconds; 0 when there is none.");
  auto& unreadable = gauge(registry, "qpurge_scan_unreadable_files",
                           "Files in the queue skipped by the scan: unreadable, not regular files, or in an unreadable "
                           "subdirectory.");
  std::vector<std::string> ages = buckets_.headings();
  ages.back() = "+Inf";
  const std::set<std::string> kept = kept_domains();
  for (const auto& [name, q] : queues_) {
    total.Add({{"queue", name}}).Set(static_cast<double>(q.messages));
    oldest.Add({{"queue", name}}).Set(q.oldest ? static_cast<double>(std::max<std::int64_t>(0, now_ - *q.oldest)) : 0);
    unreadable.Add({{"queue", name}}).Set(static_cast<double>(q.unreadable));
    for (const auto& [domain, counts] : q.domains) {
      const std::string label = kept.count(domain) ? text_escaped(domain) : kOtherDomain;
      for (std::size_t b = 1; b < counts.size(); ++b)
        if (counts[b] > 0)
          messages.Add({{"queue", name}, {"domain", label}, {"age", ages[b]}})
              .Increment(static_cast<double>(counts[b]));
    }
  }
  std::string text, error;
  if (!metrics_module().serialize(registry, text, error)) throw std::runtime_error("metrics: " + error);
  return text;
}

}  // namespace qpurge
