// SPDX-License-Identifier: MIT
// metrics_entry.cc - the entry point of qpurge_metrics.so: the gauges in
// prometheus-cpp's registry, serialized by its TextSerializer; see
// metrics_module.h.
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>

#include "metrics_module.h"
#include "qpurge/version.h"

namespace qpurge {
namespace {

bool serialize(const GaugeFamilies& families, std::string& out, std::string& error) {
  try {
    prometheus::Registry registry;
    for (const auto& f : families) {
      auto& family = prometheus::BuildGauge().Name(f->name).Help(f->help).Register(registry);
      for (const GaugeValue& g : f->gauges) family.Add(g.labels).Set(g.value);
    }
    out = prometheus::TextSerializer().Serialize(registry.Collect());
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

const MetricsModule kTable{{kModuleAbi, sizeof(MetricsModule), kVersion}, serialize};

}  // namespace

extern "C" const ModuleHeader* qpurge_metrics_module() { return &kTable.header; }

}  // namespace qpurge
