// SPDX-License-Identifier: MIT
// metrics_module.h - the table of the metrics module, qpurge_metrics.so
// (module.h): prometheus-cpp's registry and text serializer, loaded only by
// --format prometheus, so that no other run loads libprometheus-cpp-core.
//
// metrics.cc gathers the gauges as GaugeFamilies (the same calls it would
// make on a prometheus::Registry: Add(labels) then Set() or Increment());
// metrics_entry.cc, in the module, registers them in that order in a
// prometheus::Registry and serializes it with prometheus::TextSerializer.
// The text format is prometheus-cpp's own; nothing here writes it.
#ifndef QPURGE_REPORT_METRICS_MODULE_H_
#define QPURGE_REPORT_METRICS_MODULE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qpurge/util/module.h"

namespace qpurge {

using MetricLabels = std::map<std::string, std::string>;

// One gauge of a family: its labels and its value.
struct GaugeValue {
  MetricLabels labels;
  double value = 0;
  void Set(double v) { value = v; }
  void Increment(double v) { value += v; }
};

// A gauge family, its gauges in the order they were first added.
struct GaugeFamily {
  std::string name;
  std::string help;
  std::vector<GaugeValue> gauges;
  std::map<MetricLabels, std::size_t> index;  // labels -> gauges[i]
  GaugeValue& Add(const MetricLabels& labels) {
    auto [it, added] = index.emplace(labels, gauges.size());
    if (added) gauges.push_back(GaugeValue{labels});
    return gauges[it->second];
  }
};

// Families in the order they were registered (each behind a pointer, so the
// references render() holds stay valid).
using GaugeFamilies = std::vector<std::unique_ptr<GaugeFamily>>;

extern "C" {
struct MetricsModule {
  ModuleHeader header;
  // The families in the Prometheus text format; false with `error` (never throws).
  bool (*serialize)(const GaugeFamilies& families, std::string& out, std::string& error);
};
const ModuleHeader* qpurge_metrics_module();
}

}  // namespace qpurge

#endif  // QPURGE_REPORT_METRICS_MODULE_H_
