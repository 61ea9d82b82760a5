// The shapes are LocalStack's (localstack/services/internal.py: HealthResource,
// InitScriptsResource, InitScriptsStageResource). eddy has only the READY stage: BOOT and START
// are complete once it serves, SHUTDOWN never runs scripts.
#include "server/admin/localstack.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "server/admin/admin.h"
#include "server/app.h"
#include "server/init_scripts.h"
#include "server/router.h"

namespace eddy::admin {

using nlohmann::json;

namespace {

constexpr const char* kStages[] = {"BOOT", "START", "READY", "SHUTDOWN"};

http::Response text_response(int status, const std::string& body) {
  return response(status, "text/plain; charset=utf-8", body);
}

bool stage_completed(App& app, const std::string& stage) {
  if (stage == "READY") return app.init_scripts().completed();
  return stage == "BOOT" || stage == "START";
}

// LocalStack's script entry (stage, name, state) and eddy's additions: the path and exit status.
json scripts_json(App& app, const std::string& stage) {
  json list = json::array();
  if (stage != "READY" && !stage.empty()) return list;
  for (const InitScript& s : app.init_scripts().snapshot()) {
    list.push_back({{"stage", "READY"},
                    {"name", std::filesystem::path(s.path).filename().string()},
                    {"state", to_string(s.state)},
                    {"path", s.path},
                    {"exit_status", s.exit_status ? json(*s.exit_status) : json(nullptr)}});
  }
  return list;
}

}  // namespace

void register_localstack_endpoints(Router& router, App& app) {
  router.add_admin("/_localstack/health", [](http::Request& req) -> http::Dispatch {
    if (req.path != "/_localstack/health") return http::Immediate{text_response(404, "not found")};
    if (req.method != "GET" && req.method != "HEAD")
      return http::Immediate{json_response(405, "{\"error\":\"use GET\"}\n")};
    json j = {{"services", {{"kinesis", "running"}, {"s3", "running"}}}, {"edition", "eddy"}, {"version", EDDY_VERSION}};
    return http::Immediate{json_response(200, j.dump() + "\n")};
  });
  router.add_admin("/_localstack/init", [&app](http::Request& req) -> http::Dispatch {
    if (req.method != "GET" && req.method != "HEAD")
      return http::Immediate{json_response(405, "{\"error\":\"use GET\"}\n")};
    if (req.path == "/_localstack/init" || req.path == "/_localstack/init/") {
      json completed = json::object();
      for (const char* s : kStages) completed[s] = stage_completed(app, s);
      json j = {{"completed", completed}, {"scripts", scripts_json(app, "")}};
      return http::Immediate{json_response(200, j.dump() + "\n")};
    }
    std::string stage = req.path.substr(std::string("/_localstack/init/").size());
    std::string upper = stage;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (req.path.rfind("/_localstack/init/", 0) != 0 ||
        std::find(std::begin(kStages), std::end(kStages), upper) == std::end(kStages))
      return http::Immediate{text_response(404, "no such stage " + stage)};
    json j = {{"completed", stage_completed(app, upper)}, {"scripts", scripts_json(app, upper)}};
    return http::Immediate{json_response(200, j.dump() + "\n")};
  });
}

}  // namespace eddy::admin
