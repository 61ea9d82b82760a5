// SigV4/SigV2 parsing and canonicalisation of what clients send: Authorization headers,
// presigned queries, credentials, dates, arbitrary paths and queries. The input is split at
// '\n' into a method, path, query, header value and the rest, and every parser sees each.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wire/sigv4.h"

using namespace eddy::wire;

namespace {

std::vector<std::string_view> split_lines(std::string_view in, size_t max) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max) {
    auto nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    out.push_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  out.push_back(in);
  out.resize(max);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto f = split_lines(in, 5);
  const std::string_view method = f[0], path = f[1], query = f[2], header = f[3], rest = f[4];

  std::string error;
  auto auth = sigv4::parse_authorization_header(header, &error);
  sigv4::parse_authorization_header(in);
  sigv4::parse_credential(header);
  sigv4::is_presigned_v4(query);
  auto presigned = sigv4::parse_presigned_query(query, &error);
  sigv4::is_presigned_v2(query);
  sigv4::parse_presigned_v2_query(query);
  sigv4::parse_authorization_v2(header);

  for (bool plus : {false, true}) {
    const std::string decoded = sigv4::uri_decode(rest, plus);
    if (sigv4::uri_decode(sigv4::uri_encode(decoded, true), false) != decoded) std::abort();
  }
  sigv4::canonical_uri(path, sigv4::UriStyle::s3);
  sigv4::canonical_uri(path, sigv4::UriStyle::standard);
  sigv4::canonical_query_string(query, false);
  sigv4::canonical_query_string(query, true);
  sigv4::parse_query(query);
  sigv4::canonical_header_value(header);
  sigv4::join_signed_headers(sigv4::split_signed_headers(header));

  if (auto t = sigv4::parse_amz_date(header)) {
    if (sigv4::parse_amz_date(sigv4::format_amz_date(*t)) != t) std::abort();
  }
  if (auto t = sigv4::parse_http_date(header)) {
    if (sigv4::parse_http_date(sigv4::format_http_date(*t)) != t) std::abort();
  }

  sigv4::Request req;
  req.method = std::string(method);
  req.path = std::string(path);
  req.query = std::string(query);
  req.headers = {{"Host", "bucket.s3.amazonaws.com"}, {"X-Amz-Date", "20260101T000000Z"},
                 {"x-amz-meta-f", std::string(header)}, {"Content-Type", std::string(rest)}};
  if (auth) {
    sigv4::compute(req, *auth, "20260101T000000Z", "secret", sigv4::kUnsignedPayload,
                   sigv4::UriStyle::s3, false);
  }
  if (presigned) {
    sigv4::compute(req, presigned->auth, presigned->amz_date, "secret", sigv4::kUnsignedPayload,
                   sigv4::UriStyle::standard, true);
  }
  sigv4::v2_canonical_resource("", path, query);
  sigv4::v2_canonical_resource("bucket", path, query);
  sigv4::v2_string_to_sign_for(req, "", false);
  sigv4::v2_string_to_sign_for(req, "bucket", true);
  return 0;
}
