#pragma once
// SigV4 for tests that sign their own requests with wire/sigv4: the parameters (S3's URI rules
// and x-amz-content-sha256 for "s3"), the time of a clock reading, and a signed request as the
// front end hands it over or as headers for an HTTP client. Header-only, no gtest.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/http/message.h"
#include "wire/sigv4.h"

namespace eddy::test {

// A clock reading (ms since the epoch) as the signing time.
inline std::chrono::sys_seconds signing_time(int64_t ms) { return std::chrono::sys_seconds(std::chrono::seconds(ms / 1000)); }
// Now, from the system clock.
inline std::chrono::sys_seconds signing_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// What a client signs with: for service "s3" S3's URI rules and x-amz-content-sha256 (presign
// ignores the latter), for any other the standard rules.
inline wire::sigv4::SigningParams signing_params(wire::sigv4::Credentials credentials, std::string region,
                                                 std::string service, std::chrono::sys_seconds time,
                                                 std::string payload_hash = std::string(wire::sigv4::kUnsignedPayload)) {
  wire::sigv4::SigningParams p;
  p.credentials = std::move(credentials);
  p.region = std::move(region);
  p.service = std::move(service);
  p.time = time;
  p.payload_hash = std::move(payload_hash);
  if (p.service == "s3") {
    p.uri_style = wire::sigv4::UriStyle::s3;
    p.set_content_sha256 = true;
  }
  return p;
}

// A signed request as the front end hands it to the authenticator.
inline http::Request to_http_request(const wire::sigv4::Request& sr) {
  http::Request r;
  r.method = sr.method;
  r.path = sr.path;
  r.query = sr.query;
  r.target = sr.query.empty() ? sr.path : sr.path + "?" + sr.query;
  for (auto& [k, v] : sr.headers) r.headers.add(k, v);
  return r;
}

// Its headers for an HTTP client, which writes Host itself.
inline std::vector<std::pair<std::string, std::string>> headers_without_host(const wire::sigv4::Request& sr) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [k, v] : sr.headers)
    if (!http::iequals(k, "Host")) out.emplace_back(k, v);
  return out;
}

}  // namespace eddy::test
