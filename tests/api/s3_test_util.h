#pragma once
// Helpers shared by the S3 API tests: reading XML answers and signing requests as an SDK would.
#include <pugixml.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/http/message.h"
#include "tests/support/server_fixture.h"
#include "tests/support/signing.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::test::s3util {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Text of the first element at a slash-separated path below the root ("Contents/Key").
inline std::string xml_text(const std::string& body, const std::string& path) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata_single)) return "<unparsable>";
  pugi::xml_node n = doc.document_element();
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    n = n.child(part.c_str());
    if (!n) return "<missing>";
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return n.text().get();
}

// The text of `child` in every `parent` element below the root.
inline std::vector<std::string> xml_all(const std::string& body, const std::string& parent, const std::string& child) {
  pugi::xml_document doc;
  std::vector<std::string> out;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata_single)) return out;
  for (auto n : doc.document_element().children(parent.c_str())) out.emplace_back(n.child(child.c_str()).text().get());
  return out;
}

// An S3 error answer (an HttpResult or an http::Response): the status, <Code> and, when given,
// <Message>. EXPECT_TRUE(s3_error(...)) keeps the caller's line in a failure.
template <class Answer>
::testing::AssertionResult s3_error(const Answer& r, int status, const std::string& code,
                                    const std::optional<std::string>& message = std::nullopt) {
  const std::string got_code = xml_text(r.body, "Code");
  if (r.status == status && got_code == code && (!message || xml_text(r.body, "Message") == *message))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << status << " " << code << (message ? " \"" + *message + "\"" : "")
                                       << ", got " << r.status << ": " << r.body;
}

// Signs an S3 request with SigV4 now (region us-east-1, the body's SHA-256 unless
// payload_hash is given; x-amz-security-token when a session token is given) for eddy on 127.0.0.1:port; returns the headers to send (Host is
// the client's) and what was signed.
inline std::pair<Headers, wire::sigv4::SigningResult> sign_s3(const std::string& method, const std::string& target,
                                                               Headers headers, const std::string& body, int port,
                                                               const std::string& access_key, const std::string& secret,
                                                               std::string payload_hash = {},
                                                               const std::string& session_token = {}) {
  namespace s4 = wire::sigv4;
  s4::Request req;
  req.method = method;
  auto q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? "" : target.substr(q + 1);
  req.headers = std::move(headers);
  req.headers.emplace_back("Host", "127.0.0.1:" + std::to_string(port));
  if (!body.empty() || method == "PUT" || method == "POST") req.headers.emplace_back("Content-Length", std::to_string(body.size()));
  auto signed_req = s4::sign_request(
      req, test::signing_params({access_key, secret, session_token}, "us-east-1", "s3", test::signing_now(),
                                payload_hash.empty() ? wire::checksum::digest_hex(wire::checksum::Algorithm::sha256, body)
                                                     : payload_hash));
  return {test::headers_without_host(req), std::move(signed_req)};
}

}  // namespace eddy::test::s3util

namespace eddy::test {

// The S3 API tests' server: in process, auth off (override configure() and call this one to add
// settings); requests go unsigned.
class S3Fixture : public ServerFixture {
 protected:
  void configure(Config& c) override { c.auth = "off"; }
  HttpResult s3(const std::string& method, const std::string& target, const s3util::Headers& headers = {},
                const std::string& body = {}) {
    return http(method, target, headers, body);
  }
  void make_bucket(const std::string& b, const s3util::Headers& h = {}) {
    ASSERT_EQ(s3("PUT", "/" + b, h).status, 200);
  }
};

}  // namespace eddy::test
