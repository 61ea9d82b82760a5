#pragma once
// LocalStack's internal endpoints, so tools that wait on a LocalStack container work with eddy:
//   GET /_localstack/health        {"services": {"kinesis": "running", "s3": "running"}, "edition", "version"}
//   GET /_localstack/init          {"completed": {"BOOT", "START", "READY", "SHUTDOWN"}, "scripts": [...]}
//   GET /_localstack/init/<stage>  {"completed": bool, "scripts": [...]} for one stage
namespace eddy {

class App;
class Router;

namespace admin {

void register_localstack_endpoints(Router& router, App& app);

}  // namespace admin
}  // namespace eddy
