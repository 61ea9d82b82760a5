// GET /_eddy/clock: the time every rule reads. POST /_eddy/clock: set or advance it (only with
// --clock manual), so tests and demos move time instead of sleeping.
#include <nlohmann/json.hpp>

#include <cmath>

#include "server/admin/admin.h"
#include "server/admin/limits_endpoints.h"
#include "server/app.h"
#include "server/kinesis/kinesis_service.h"
#include "server/router.h"

namespace eddy::admin {

using nlohmann::json;

namespace {

http::Response error(int status, const std::string& message) {
  return json_response(status, json{{"error", message}}.dump() + "\n");
}

json clock_state(App& app) {
  return json{{"clock", app.clock().is_manual() ? "manual" : "system"}, {"now_ms", app.clock().now_ms()}};
}

using TrimSoon = std::function<void(std::function<void()>)>;

http::Response post_clock(App& app, const TrimSoon& trim_soon, const std::string& body, http::Loop* loop) {
  ManualClock* manual = app.manual_clock();
  if (!manual) return error(409, "the clock is not manual (start eddy with --clock manual)");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error(400, "expected a JSON object: {\"set_ms\": N}, {\"advance_ms\": N} or {\"advance_s\": N}");
  int given = 0;
  for (const char* k : {"set_ms", "advance_ms", "advance_s"}) given += j.contains(k) ? 1 : 0;
  if (given != 1 || j.size() != 1)
    return error(400, "give exactly one of \"set_ms\", \"advance_ms\", \"advance_s\"");
  const int64_t now = manual->now_ms();
  int64_t target;
  if (auto it = j.find("set_ms"); it != j.end()) {
    if (!it->is_number_integer()) return error(400, "\"set_ms\" must be an integer (epoch milliseconds)");
    target = it->get<int64_t>();
  } else {
    int64_t delta;
    if (auto a = j.find("advance_ms"); a != j.end()) {
      if (!a->is_number_integer()) return error(400, "\"advance_ms\" must be an integer");
      delta = a->get<int64_t>();
    } else {
      auto s = j.find("advance_s");
      if (!s->is_number() || !std::isfinite(s->get<double>()) || std::fabs(s->get<double>()) > 1e12)
        return error(400, "\"advance_s\" must be a number of seconds");
      delta = std::llround(s->get<double>() * 1000.0);
    }
    if (delta < 0) return error(400, "the clock only moves forward");
    target = now + delta;
  }
  // Moving back would let iterators and buckets see time run backwards; AWS's clock doesn't.
  if (target < now) return error(400, "the clock only moves forward (now_ms is " + std::to_string(now) + ")");
  manual->set_ms(target);
  http::Response answer = json_response(200, clock_state(app).dump() + "\n");
  // Retention applies at once, as it would have while the time passed: the answer waits for
  // the trim, which runs on the maintenance thread so that this loop's other connections do
  // not wait too (in-process calls, without a loop, trim on the caller's thread).
  if (!loop) {
    app.kinesis().trim_expired();
    return answer;
  }
  auto pending = std::make_shared<http::Pending>();
  trim_soon([loop, pending, answer = std::make_shared<http::Response>(std::move(answer))] {
    loop->post([pending, answer] { pending->complete(std::move(*answer)); });
  });
  http::Response later;
  later.pending = pending;
  return later;
}

}  // namespace

void register_clock_endpoints(Router& router, App& app, TrimSoon trim_soon) {
  router.add_admin("/_eddy/clock", [&app, trim_soon = std::move(trim_soon)](http::Request& req) -> http::Dispatch {
    if (req.path != "/_eddy/clock") return http::Immediate{error(404, "no such admin endpoint")};
    if (req.method == "GET" || req.method == "HEAD")
      return http::Immediate{json_response(200, clock_state(app).dump() + "\n")};
    if (req.method != "POST") return http::Immediate{error(405, "use GET or POST")};
    return http::BufferBody{
        64 * 1024, [&app, trim_soon](http::Request& r) { return post_clock(app, trim_soon, r.body, r.loop); },
        [](http::Request&) { return error(413, "body too large"); }};
  });
}

}  // namespace eddy::admin
