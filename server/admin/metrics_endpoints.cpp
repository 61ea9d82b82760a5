#include "server/admin/metrics_endpoints.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "server/admin/admin.h"
#include "server/app.h"
#include "server/kinesis/kinesis_service.h"
#include "server/metrics/embedded.h"
#include "server/metrics/registry.h"
#include "server/metrics/report.h"
#include "server/router.h"
#include "wire/text.h"

namespace eddy::admin {

using nlohmann::json;

namespace {

std::string percent_decode(std::string_view in) { return wire::text::percent_decode(in, true); }

// The first value of a query parameter, decoded; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    size_t eq = part.find('=');
    if (percent_decode(part.substr(0, eq)) == name)
      return eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

int64_t int_param(std::string_view query, std::string_view name, int64_t fallback) {
  auto v = query_param(query, name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  return ec == std::errc() && p == v->data() + v->size() ? out : fallback;
}

http::Response text_response(int status, std::string content_type, std::string body) {
  http::Response res;
  res.status = status;
  res.headers.add("Content-Type", std::move(content_type));
  res.headers.add("Cache-Control", "no-store");
  res.body = std::move(body);
  return res;
}

http::Dispatch immediate(http::Response r) { return http::Immediate{std::move(r)}; }

http::Dispatch method_not_allowed(const char* allowed) {
  auto r = json_response(405, json{{"error", std::string("use ") + allowed}}.dump() + "\n");
  r.headers.add("Allow", allowed);
  return immediate(std::move(r));
}

http::Dispatch not_found() { return immediate(json_response(404, "{\"error\":\"no such admin endpoint\"}\n")); }

bool is_get(const http::Request& req) { return req.method == "GET" || req.method == "HEAD"; }

// HEAD answers with GET's headers and no body.
http::Dispatch answer(const http::Request& req, http::Response r) {
  if (req.method == "HEAD") {
    r.content_length = r.body.size();
    r.head = true;
  }
  return immediate(std::move(r));
}

json current_report(App& app) {
  auto layouts = metrics::stream_layouts(app.kinesis());
  return metrics::build_report(app.metrics(), layouts, app.clock().now_ms());
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

void register_metrics_endpoints(Router& router, App& app) {
  router.add_admin("/_eddy/metrics", [&app](http::Request& req) -> http::Dispatch {
    if (req.path == "/_eddy/metrics") {
      if (!is_get(req)) return method_not_allowed("GET");
      json report = current_report(app);
      return answer(req, text_response(200, "text/plain; version=0.0.4; charset=utf-8",
                                       metrics::render_prometheus(app.metrics(), report)));
    }
    if (req.path == "/_eddy/metrics/reset") {
      if (req.method != "POST") return method_not_allowed("POST");
      return http::BufferBody{64 * 1024,
                              [&app](http::Request&) {
                                auto st = app.metrics().reset();
                                if (!st) return json_response(500, dump(json{{"error", st.message}}) + "\n");
                                return json_response(200, dump(json{{"reset", true},
                                                                    {"epoch_ms", app.metrics().epoch_ms()}}) +
                                                              "\n");
                              },
                              [](http::Request&) { return json_response(413, "{\"error\":\"body too large\"}\n"); }};
    }
    if (req.path == "/_eddy/metrics/series") {
      if (!is_get(req)) return method_not_allowed("GET");
      json out;
      app.metrics().series_json(int_param(req.query, "seconds", 300), query_param(req.query, "stream").value_or(""),
                                out);
      return answer(req, json_response(200, dump(out) + "\n"));
    }
    if (req.path == "/_eddy/metrics/recent") {
      if (!is_get(req)) return method_not_allowed("GET");
      auto stream = query_param(req.query, "stream");
      if (!stream || stream->empty())
        return immediate(json_response(400, "{\"error\":\"stream=NAME is required\"}\n"));
      json records;
      app.metrics().recent_json(*stream, static_cast<size_t>(std::clamp<int64_t>(int_param(req.query, "limit", 20), 1, 1000)),
                                records);
      return answer(req, json_response(200, dump(json{{"stream", *stream}, {"records", std::move(records)}}) + "\n"));
    }
    return not_found();
  });

  router.add_admin("/_eddy/report", [&app](http::Request& req) -> http::Dispatch {
    if (req.path != "/_eddy/report") return not_found();
    if (!is_get(req)) return method_not_allowed("GET");
    const std::string format = query_param(req.query, "format").value_or("text");
    json report = current_report(app);
    if (format == "json") return answer(req, json_response(200, dump(report) + "\n"));
    if (format == "csv") return answer(req, text_response(200, "text/csv; charset=utf-8", metrics::render_csv(report)));
    if (format == "text") return answer(req, text_response(200, "text/plain; charset=utf-8", metrics::render_text(report)));
    return immediate(json_response(400, dump(json{{"error", "format must be text, json or csv, not '" + format + "'"}}) + "\n"));
  });

  // The dashboard. "/_eddy/" is the shortest admin prefix, so it also sees unknown paths.
  router.add_admin("/_eddy/", [](http::Request& req) -> http::Dispatch {
    std::string_view name;
    if (req.path == "/_eddy/" || req.path == "/_eddy/index.html") name = "index.html";
    else if (req.path == "/_eddy/dashboard/app.js") name = "app.js";
    else if (req.path == "/_eddy/dashboard/style.css") name = "style.css";
    else return not_found();
    if (!is_get(req)) return method_not_allowed("GET");
    const embedded::Asset* a = embedded::find_asset(name);
    if (!a) return not_found();
    return answer(req, text_response(200, std::string(a->content_type), std::string(a->data)));
  });
}

}  // namespace eddy::admin
