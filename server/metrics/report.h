#pragma once
// The cost report: counters + stream layouts + the price table -> one JSON document, which the
// text and CSV forms, the Prometheus exposition, the dashboard and `eddy report` all read.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server/metrics/registry.h"

namespace eddy::kinesis { class StreamDirectory; }

namespace eddy::metrics {

inline constexpr double kMonthHours = 720.0;  // the 30-day month projections use

struct ShardLayout {
  uint32_t index = 0;
  int64_t created_ms = 0;
  std::optional<int64_t> closed_ms;
};

struct StreamLayout {
  std::string name;
  bool on_demand = false;
  uint32_t retention_hours = 24;
  int64_t created_ms = 0;
  std::vector<ShardLayout> shards;
  std::vector<int64_t> consumers_created_ms;  // enhanced fan-out consumers registered now
};

// Copies every live stream's shape (takes each stream's lock briefly; never call from a hook).
std::vector<StreamLayout> stream_layouts(const kinesis::StreamDirectory& kinesis);

nlohmann::json build_report(const MetricsRegistry& registry, const std::vector<StreamLayout>& layouts,
                            int64_t now_ms);

std::string render_text(const nlohmann::json& report);
std::string render_csv(const nlohmann::json& report);
// Prometheus text exposition format 0.0.4.
std::string render_prometheus(const MetricsRegistry& registry, const nlohmann::json& report);

// Prometheus label value escaping (backslash, double quote, newline).
std::string prometheus_escape(std::string_view v);

}  // namespace eddy::metrics
