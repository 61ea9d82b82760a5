#pragma once
// /_eddy/* endpoints: health now; clock, faults, metrics and reports register here too.
#include "server/http/message.h"

namespace eddy {

class App;
class Router;

namespace admin {

// Registers the admin endpoints that exist in this build on the router.
void register_endpoints(Router& router, App& app);

// Small helpers shared by admin endpoints.
http::Response response(int status, const std::string& content_type, const std::string& body);
http::Response json_response(int status, const std::string& body);

}  // namespace admin
}  // namespace eddy
