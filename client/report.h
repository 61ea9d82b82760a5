#pragma once
// `eddy report`: fetches /_eddy/report and /_eddy/metrics/series from a running eddy, prints
// the cost table (or JSON/CSV) and draws the throughput-over-time chart as SVG.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace eddy::client {

struct ReportOptions {
  std::string endpoint = "http://127.0.0.1:4566";
  std::string format = "text";  // text | json | csv
  std::string output;           // file; empty: stdout
  std::string svg_file;         // chart; empty: none
  int64_t seconds = 3600;       // chart window
  // The admin API's token (--admin-token of eddy serve; docs/reliability.md, "Security"), sent as
  // Authorization: Bearer TOKEN; empty: none sent.
  std::string admin_token;
};

// Returns the process exit code (0 ok, 1 failure with a message on stderr).
int run_report(const ReportOptions& options);

// Per-stream user records/s and PUTs/s (Kinesis records/s) over time, from a
// /_eddy/metrics/series document: one <path> per stream per series, with a legend.
std::string render_throughput_svg(const nlohmann::json& series);

// GET http://host:port/target with Boost.Beast (with `bearer`, as Authorization: Bearer). False
// with a message on a transport error.
bool http_get(const std::string& endpoint, const std::string& target, int& status, std::string& body,
              std::string* error, const std::string& bearer = {});

}  // namespace eddy::client
