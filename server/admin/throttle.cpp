// /_eddy/throttle: the throttle mode, per-stream limits and how much was throttled.
//   GET  /_eddy/throttle                 everything, with counters
//   PUT  /_eddy/throttle                 {"mode": "aws" | "off"} for streams without an override
//   GET  /_eddy/throttle/streams/<name>  one stream
//   PUT  /_eddy/throttle/streams/<name>  {"mode", "write_bytes_per_sec", "write_records_per_sec",
//                                         "read_calls_per_sec", "read_bytes_per_sec"} (persisted)
//   DELETE /_eddy/throttle/streams/<name> drop the stream's runtime override
#include <nlohmann/json.hpp>

#include "server/admin/admin.h"
#include "server/admin/limits_endpoints.h"
#include "server/app.h"
#include "server/kinesis/kinesis_service.h"
#include "server/limits/limits.h"
#include "server/router.h"
#include "wire/text.h"

namespace eddy::admin {

using nlohmann::json;

namespace {

constexpr std::string_view kStreamsPrefix = "/_eddy/throttle/streams/";

http::Response error(int status, const std::string& message) {
  return json_response(status, json{{"error", message}}.dump() + "\n");
}

json limits_json(const limits::ThrottleLimits& l) {
  return json{{"write_bytes_per_sec", l.write_bytes_per_sec},
              {"write_records_per_sec", l.write_records_per_sec},
              {"read_calls_per_sec", l.read_calls_per_sec},
              {"read_bytes_per_sec", l.read_bytes_per_sec}};
}

json stream_json(limits::ShardLimiter& shards, const kinesis::Stream& s) {
  limits::ThrottlePolicy p;
  json runtime = nullptr;
  uint32_t id;
  {
    std::lock_guard lk(s.mu);
    p = shards.policy_for(s);
    id = s.id;
    if (!s.throttle_json.empty()) {
      runtime = json::parse(s.throttle_json, nullptr, false);
      if (runtime.is_discarded()) runtime = nullptr;
    }
  }
  json j = {{"name", s.name},
            {"mode", p.aws ? "aws" : "off"},
            {"scope", p.stream_level ? "stream" : "shard"},
            {"limits", limits_json(p.limits)},
            {"override", runtime}};
  if (auto* c = shards.config_override(s.name)) j["config_override"] = c->to_json();
  j.update(shards.stream_counters(id));
  return j;
}

json everything(App& app) {
  auto& l = app.limits();
  json streams = json::array();
  for (const auto& s : app.kinesis().streams_snapshot()) streams.push_back(stream_json(l.shards, *s));
  json ops = json::array();
  size_t n = 0;
  const auto* table = limits::operation_limits(&n);
  for (size_t i = 0; i < n; ++i) {
    const auto& o = table[i];
    ops.push_back(json{{"operation", o.operation},
                       {"calls", o.amount},
                       {"period_ms", o.period_ms},
                       {"window", o.rolling ? "rolling" : "token_bucket"},
                       {"scope", o.scope == limits::LimitScope::account  ? "account"
                                 : o.scope == limits::LimitScope::stream ? "stream"
                                                                         : "shard"}});
  }
  return json{{"mode", l.shards.global_aws() ? "aws" : "off"},
              {"throttled",
               {{"write_records", l.shards.write_throttled()},
                {"read_calls", l.shards.read_throttled()},
                {"control_plane", l.control.throttled()}}},
              {"streams", std::move(streams)},
              {"operation_limits", std::move(ops)}};
}

http::Response put_global(App& app, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("mode") || j.size() != 1 || !j["mode"].is_string() ||
      (j["mode"] != "aws" && j["mode"] != "off"))
    return error(400, "expected {\"mode\": \"aws\"} or {\"mode\": \"off\"}");
  app.limits().shards.set_global_aws(j["mode"] == "aws");
  return json_response(200, everything(app).dump() + "\n");
}

http::Response put_stream(App& app, const std::string& name, const std::string& body) {
  auto s = app.kinesis().find_stream_by_name(name);
  if (!s) return error(404, "stream " + name + " not found");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return error(400, "body is not valid JSON");
  limits::ThrottleOverride o;
  std::string why;
  if (!limits::ThrottleOverride::from_json(j, o, &why)) return error(400, why);
  {
    std::lock_guard lk(s->mu);
    if (!app.kinesis().change_stream(*s, [&] { s->throttle_json = o.empty() ? std::string() : o.to_json().dump(); }))
      return error(500, "could not persist the override");
  }
  return json_response(200, stream_json(app.limits().shards, *s).dump() + "\n");
}

http::Response delete_stream(App& app, const std::string& name) {
  auto s = app.kinesis().find_stream_by_name(name);
  if (!s) return error(404, "stream " + name + " not found");
  {
    std::lock_guard lk(s->mu);
    if (!app.kinesis().change_stream(*s, [&] { s->throttle_json.clear(); }))
      return error(500, "could not persist the change");
  }
  return json_response(200, stream_json(app.limits().shards, *s).dump() + "\n");
}

}  // namespace

void register_throttle_endpoints(Router& router, App& app) {
  router.add_admin("/_eddy/throttle", [&app](http::Request& req) -> http::Dispatch {
    if (req.path == "/_eddy/throttle" || req.path == "/_eddy/throttle/") {
      if (req.method == "GET" || req.method == "HEAD")
        return http::Immediate{json_response(200, everything(app).dump() + "\n")};
      if (req.method != "PUT") return http::Immediate{error(405, "use GET or PUT")};
      return http::BufferBody{64 * 1024, [&app](http::Request& r) { return put_global(app, r.body); },
                              [](http::Request&) { return error(413, "body too large"); }};
    }
    if (req.path.rfind(kStreamsPrefix, 0) != 0 || req.path.size() == kStreamsPrefix.size())
      return http::Immediate{error(404, "no such admin endpoint")};
    std::string name = wire::text::percent_decode(std::string_view(req.path).substr(kStreamsPrefix.size()));
    if (req.method == "GET" || req.method == "HEAD") {
      auto s = app.kinesis().find_stream_by_name(name);
      if (!s) return http::Immediate{error(404, "stream " + name + " not found")};
      return http::Immediate{json_response(200, stream_json(app.limits().shards, *s).dump() + "\n")};
    }
    if (req.method == "DELETE") return http::Immediate{delete_stream(app, name)};
    if (req.method != "PUT") return http::Immediate{error(405, "use GET, PUT or DELETE")};
    return http::BufferBody{64 * 1024, [&app, name](http::Request& r) { return put_stream(app, name, r.body); },
                            [](http::Request&) { return error(413, "body too large"); }};
  });
}

}  // namespace eddy::admin
