#pragma once
// Routes a request by service: /_eddy/* (and LocalStack's /_localstack/*) to admin, X-Amz-Target
// Kinesis_20131202.* to Kinesis, everything else to S3. Knows no AWS shapes beyond those markers:
// each service authenticates and answers its own errors.
#include <functional>
#include <string>
#include <vector>

#include "server/http/message.h"

namespace eddy {

namespace kinesis { class KinesisService; }

class Router final : public http::Handler {
 public:
  using Route = std::function<http::Dispatch(http::Request&)>;
  explicit Router(kinesis::KinesisService& kinesis);

  // A handler for paths under `prefix` (admin endpoints; longest prefix wins).
  void add_admin(std::string prefix, Route route);
  // The S3 handler (until set, S3 requests get a 501 NotImplemented error in S3's XML).
  void set_s3(Route route) { s3_ = std::move(route); }
  // With a token, every admin request but the health checks (GET/HEAD /_eddy/health,
  // /_localstack/health) and the dashboard's static files must carry it (Authorization:
  // Bearer TOKEN, X-Eddy-Admin-Token: TOKEN, or ?token=TOKEN for a browser), else 401.
  // Empty: no token asked (docs/reliability.md, "Security").
  void set_admin_token(std::string token) { admin_token_ = std::move(token); }

  http::Dispatch dispatch(http::Request& req) override;
  // The exception barrier's answer in the shape of the service the request went to: Kinesis'
  // InternalFailure (JSON or CBOR), S3's InternalError XML, admin's JSON error.
  http::Response internal_error(const http::Request& req) override;

 private:
  kinesis::KinesisService& kinesis_;
  std::vector<std::pair<std::string, Route>> admin_;
  Route s3_;
  std::string admin_token_;
  bool admin_allowed(const http::Request& req) const;
  http::Dispatch dispatch_s3(http::Request& req);
};

}  // namespace eddy
