// /_eddy/faults: GET lists the rules with hit counts; PUT replaces them (a JSON list, or
// {"seed": N, "rules": [...]}); POST adds one rule; DELETE removes them all.
#include <nlohmann/json.hpp>

#include "server/admin/admin.h"
#include "server/admin/limits_endpoints.h"
#include "server/app.h"
#include "server/limits/limits.h"
#include "server/router.h"

namespace eddy::admin {

using nlohmann::json;

namespace {

constexpr size_t kMaxRulesBody = 1024 * 1024;

http::Response error(int status, const std::string& message) {
  return json_response(status, json{{"error", message}}.dump() + "\n");
}

http::Response change(limits::FaultEngine& engine, const std::string& method, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return error(400, "body is not valid JSON");
  std::string why;
  bool ok = method == "PUT" ? engine.replace(j, &why) : engine.add(j, &why);
  if (!ok) return error(400, why);
  return json_response(200, engine.list().dump() + "\n");
}

}  // namespace

void register_fault_endpoints(Router& router, App& app) {
  router.add_admin("/_eddy/faults", [&app](http::Request& req) -> http::Dispatch {
    auto& engine = app.limits().faults;
    if (req.path != "/_eddy/faults" && req.path != "/_eddy/faults/")
      return http::Immediate{error(404, "no such admin endpoint")};
    if (req.method == "GET" || req.method == "HEAD")
      return http::Immediate{json_response(200, engine.list().dump() + "\n")};
    if (req.method == "DELETE") {
      engine.clear();
      return http::Immediate{json_response(200, engine.list().dump() + "\n")};
    }
    if (req.method != "PUT" && req.method != "POST")
      return http::Immediate{error(405, "use GET, PUT, POST or DELETE")};
    return http::BufferBody{kMaxRulesBody,
                            [&engine](http::Request& r) { return change(engine, r.method, r.body); },
                            [](http::Request&) { return error(413, "rules body too large"); }};
  });
}

}  // namespace eddy::admin
