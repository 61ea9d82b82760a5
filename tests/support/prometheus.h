#pragma once
// The one Prometheus text-format parser the tests use (/_eddy/metrics, the bridge's /metrics,
// render_prometheus): samples keyed "name{labels}" exactly as written, plus HELP/TYPE lines.
#include <map>
#include <set>
#include <string>
#include <vector>

namespace eddy::test {

struct PrometheusText {
  std::map<std::string, double> samples;     // "name{labels}" (or "name") -> value
  std::map<std::string, std::string> types;  // metric name -> "# TYPE" kind
  std::set<std::string> helped;              // metric names with a "# HELP" line
  std::vector<std::string> bad_lines;        // lines that are neither comments nor "key value"
  std::vector<std::string> undescribed;      // sample keys not preceded by their HELP and TYPE

  // The sample with this exact key, or `missing`.
  double value(const std::string& key, double missing = -1) const;
  // Sum of the samples of metric `name` whose label text contains every string in `labels`.
  double sum(const std::string& name, const std::vector<std::string>& labels = {}) const;
};

// Parses exposition text; an HTTP response (status line and headers first) is accepted and its
// head skipped.
PrometheusText parse_prometheus(const std::string& text);

}  // namespace eddy::test
