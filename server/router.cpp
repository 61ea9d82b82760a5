#include "server/router.h"

#include <openssl/crypto.h>

#include <string_view>

#include "server/kinesis/kinesis_service.h"

namespace eddy {

namespace {

// `root` itself or a path below it (eddy's /_eddy, LocalStack's /_localstack).
bool is_admin_path(const std::string& path, std::string_view root) {
  return path.rfind(root, 0) == 0 && (path.size() == root.size() || path[root.size()] == '/');
}

// An S3 error document (the router's own answers: no S3 handler, a handler that threw).
http::Response s3_error(const http::Request& req, int status, std::string_view code, std::string_view message) {
  http::Response res;
  res.status = status;
  res.headers.add("Content-Type", "application/xml");
  res.headers.add("x-amz-request-id", req.request_id);
  res.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) + "</Code><Message>" +
             std::string(message) + "</Message><RequestId>" + req.request_id + "</RequestId></Error>";
  return res;
}

// The value of `name` in a query string ("a=1&token=x"), undecoded; empty when absent.
std::string_view query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return item.substr(name.size() + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool Router::admin_allowed(const http::Request& req) const {
  if (admin_token_.empty()) return true;
  const bool read = req.method == "GET" || req.method == "HEAD";
  // Health checks (Docker, Compose, load balancers, Testcontainers) need no secret, and the
  // dashboard's page and scripts hold none: its data requests carry the token.
  if (read && (req.path == "/_eddy/health" || req.path == "/_localstack/health" || req.path == "/_eddy/" ||
               req.path == "/_eddy/index.html" || req.path.rfind("/_eddy/dashboard/", 0) == 0))
    return true;
  const std::string_view auth = req.headers.get("Authorization");
  if (auth.size() > 7 && http::iequals(auth.substr(0, 7), "Bearer ") && same_secret(auth.substr(7), admin_token_))
    return true;
  if (same_secret(req.headers.get("X-Eddy-Admin-Token"), admin_token_)) return true;
  const std::string_view q = query_value(req.query, "token");
  return !q.empty() && same_secret(q, admin_token_);
}

Router::Router(kinesis::KinesisService& kinesis) : kinesis_(kinesis) {}

void Router::add_admin(std::string prefix, Route route) { admin_.emplace_back(std::move(prefix), std::move(route)); }

http::Dispatch Router::dispatch(http::Request& req) {
  if (is_admin_path(req.path, "/_eddy") || is_admin_path(req.path, "/_localstack")) {
    if (!admin_allowed(req)) {
      http::Response res;
      res.status = 401;
      res.headers.add("Content-Type", "application/json");
      res.headers.add("WWW-Authenticate", "Bearer realm=\"eddy admin\"");
      res.body =
          "{\"error\":\"the admin API needs eddy's admin token (--admin-token, or the one printed at start-up): "
          "Authorization: Bearer TOKEN or X-Eddy-Admin-Token: TOKEN\"}\n";
      return http::Immediate{std::move(res)};
    }
    const Route* best = nullptr;
    size_t best_len = 0;
    for (auto& [prefix, route] : admin_) {
      if (req.path.rfind(prefix, 0) == 0 && prefix.size() >= best_len) {
        best = &route;
        best_len = prefix.size();
      }
    }
    if (best) return (*best)(req);
    http::Response res;
    res.status = 404;
    res.headers.add("Content-Type", "application/json");
    res.body = "{\"error\":\"no such admin endpoint\"}\n";
    return http::Immediate{std::move(res)};
  }
  if (req.headers.get("X-Amz-Target").rfind("Kinesis_20131202.", 0) == 0) return kinesis_.dispatch(req);
  return dispatch_s3(req);
}

http::Response Router::internal_error(const http::Request& req) {
  if (is_admin_path(req.path, "/_eddy") || is_admin_path(req.path, "/_localstack")) return Handler::internal_error(req);
  if (req.headers.get("X-Amz-Target").rfind("Kinesis_20131202.", 0) == 0) return kinesis_.internal_failure(req);
  return s3_error(req, 500, "InternalError", "We encountered an internal error. Please try again.");
}

http::Dispatch Router::dispatch_s3(http::Request& req) {
  if (s3_) return s3_(req);
  return http::Immediate{
      s3_error(req, 501, "NotImplemented", "A header you provided implies functionality that is not implemented")};
}

}  // namespace eddy
