#pragma once
// /_eddy/metrics (Prometheus), /_eddy/metrics/reset, /_eddy/metrics/series,
// /_eddy/metrics/recent, /_eddy/report and the dashboard at /_eddy/ (docs/metrics.md).
namespace eddy {

class App;
class Router;

namespace admin {

void register_metrics_endpoints(Router& router, App& app);

}  // namespace admin
}  // namespace eddy
