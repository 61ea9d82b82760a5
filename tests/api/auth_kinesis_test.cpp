// Kinesis over HTTP in each --auth mode: requests signed by wire/sigv4 (as SDKs sign them)
// against eddy in-process, and the Kinesis error shapes of each failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/auth/authenticator.h"
#include "tests/support/fixture_config.h"
#include "tests/support/server_fixture.h"
#include "tests/support/signing.h"
#include "wire/sigv4.h"

namespace eddy::test {
namespace {

namespace sv4 = wire::sigv4;
using nlohmann::json;

// Signs a Kinesis call the way botocore does (host, content-type, x-amz-target, x-amz-date
// and the token; payload hash of the body) at the server's clock.
struct SignedCaller {
  App& app;
  HttpClient& client;

  HttpResult call(const std::string& op, const std::string& body, const sv4::Credentials& creds,
                  const std::string& content_type = "application/x-amz-json-1.1", int64_t at_ms = -1) {
    sv4::Request r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"Host", "127.0.0.1:" + std::to_string(app.port())},
                 {"Content-Type", content_type},
                 {"X-Amz-Target", "Kinesis_20131202." + op}};
    sv4::sign_request(r, signing_params(creds, "us-east-1", "kinesis", signing_time(at_ms < 0 ? app.clock().now_ms() : at_ms),
                                        sv4::sha256_hex(body)));
    return client.request("POST", "/", headers_without_host(r), body);
  }
};

json body_of(const HttpResult& r) {
  if (r.header("content-type").find("cbor") != std::string::npos)
    return json::from_cbor(r.body, true, false, json::cbor_tag_handler_t::ignore);
  return json::parse(r.body, nullptr, false);
}

class KinesisVerifyTest : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "verify";
    c.clock = "manual";
    write_credentials(c, temp_dir("eddy-credentials"),
                      "[ci]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = file/secret\n");
  }
  SignedCaller caller() { return SignedCaller{*app_, *client_}; }
};

TEST_F(KinesisVerifyTest, GoodSignatureIsServed) {
  auto r = caller().call("ListStreams", "{}", {"test", "test", ""});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(body_of(r).contains("StreamNames"));
  r = caller().call("CreateStream", R"({"StreamName":"signed","ShardCount":1})", {"AKIDFROMFILE", "file/secret", ""});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(KinesisVerifyTest, WrongSecretIsInvalidSignatureException) {
  auto r = caller().call("ListStreams", "{}", {"test", "wrong", ""});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(r.header("x-amzn-errortype"), "InvalidSignatureException");
  auto b = body_of(r);
  EXPECT_EQ(b["__type"], "InvalidSignatureException");
  EXPECT_EQ(b["message"].get<std::string>().rfind(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
                "Access Key and signing method. Consult the service documentation for details.",
                0),
            0u);
}

TEST_F(KinesisVerifyTest, ErrorsFollowTheRequestEncoding) {
  const auto cbor = json::to_cbor(json::object());
  auto r = caller().call("ListStreams", std::string(cbor.begin(), cbor.end()), {"test", "wrong", ""},
                         "application/x-amz-cbor-1.1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("content-type"), "application/x-amz-cbor-1.1");
  EXPECT_EQ(body_of(r)["__type"], "InvalidSignatureException");
}

TEST_F(KinesisVerifyTest, UnknownKeyIsUnrecognizedClientException) {
  auto r = caller().call("ListStreams", "{}", {"AKIDNOBODY", "x", ""});
  EXPECT_EQ(r.status, 400);
  auto b = body_of(r);
  EXPECT_EQ(b["__type"], "UnrecognizedClientException");
  EXPECT_EQ(b["message"], "The security token included in the request is invalid.");
}

TEST_F(KinesisVerifyTest, UnsignedIsMissingAuthenticationToken) {
  auto r = http("POST", "/", {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.ListStreams"}},
                "{}");
  EXPECT_EQ(r.status, 400);
  auto b = body_of(r);
  EXPECT_EQ(b["__type"], "MissingAuthenticationTokenException");
  EXPECT_EQ(b["message"], "Missing Authentication Token");
}

TEST_F(KinesisVerifyTest, StaleSignatureIsRefused) {
  const int64_t now = app_->clock().now_ms();
  auto r = caller().call("ListStreams", "{}", {"test", "test", ""}, "application/x-amz-json-1.1", now - 10 * 60 * 1000);
  EXPECT_EQ(r.status, 400);
  auto b = body_of(r);
  EXPECT_EQ(b["__type"], "InvalidSignatureException");
  EXPECT_EQ(b["message"].get<std::string>().rfind("Signature expired: ", 0), 0u) << b.dump();
}

class KinesisAnyTest : public ServerFixture {};

TEST_F(KinesisAnyTest, AnyWellFormedSignaturePasses) {
  EXPECT_EQ(app_->authenticator().mode(), auth::Mode::any);
  auto r = kinesis("ListStreams", json::object());  // the fixture's placeholder signature
  EXPECT_EQ(r.status, 200) << r.raw;
  auto signed_r = SignedCaller{*app_, *client_}.call("ListStreams", "{}", {"anyone", "anything", ""});
  EXPECT_EQ(signed_r.status, 200);
  auto anon = http("POST", "/", {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.ListStreams"}},
                   "{}");
  EXPECT_EQ(anon.status, 400);
  EXPECT_EQ(body_of(anon)["__type"], "MissingAuthenticationTokenException");
}

class KinesisOffTest : public ServerFixture {
 protected:
  void configure(Config& c) override { c.auth = "off"; }
};

TEST_F(KinesisOffTest, NothingIsChecked) {
  auto anon = http("POST", "/", {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.ListStreams"}},
                   "{}");
  EXPECT_EQ(anon.status, 200) << anon.body;
}

}  // namespace
}  // namespace eddy::test
