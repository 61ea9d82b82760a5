// The instance-metadata emulator: IMDSv2 tokens, IMDSv1 GETs, the role's rotating temporary
// credentials, and those credentials signing Kinesis calls in verify mode until they expire.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "server/auth/imds.h"
#include "tests/support/server_fixture.h"
#include "tests/support/signing.h"
#include "wire/sigv4.h"

namespace eddy::test {
namespace {

namespace sv4 = wire::sigv4;
using nlohmann::json;

class ImdsTest : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "verify";
    c.clock = "manual";
    c.imds_port = 0;
    c.imds_credential_lifetime_s = 3600;
    c.region = "eu-central-1";
    c.account_id = "123456789012";
  }
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_NE(app_->imds(), nullptr);
    ASSERT_NE(app_->imds_port(), 0);
    imds_ = std::make_unique<HttpClient>("127.0.0.1", app_->imds_port());
  }
  void TearDown() override {
    imds_.reset();
    ServerFixture::TearDown();
  }
  std::string token(int ttl = 21600) {
    auto r = imds_->request("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(ttl)}});
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
  HttpResult get(const std::string& path, const std::string& tok = {}) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!tok.empty()) h.emplace_back("X-aws-ec2-metadata-token", tok);
    return imds_->request("GET", path, h);
  }
  json credentials(const std::string& tok) {
    auto r = get("/latest/meta-data/iam/security-credentials/eddy-role", tok);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  HttpResult list_streams(const json& creds) {
    sv4::Request r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"Host", "127.0.0.1:" + std::to_string(app_->port())},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "Kinesis_20131202.ListStreams"}};
    sv4::sign_request(r, signing_params({creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"]}, "eu-central-1",
                                        "kinesis", signing_time(app_->clock().now_ms()), sv4::sha256_hex("{}")));
    return client_->request("POST", "/", headers_without_host(r), "{}");
  }
  std::unique_ptr<HttpClient> imds_;
};

TEST_F(ImdsTest, TokenTtlMustBeBetweenOneSecondAndSixHours) {
  EXPECT_EQ(imds_->request("PUT", "/latest/api/token", {}).status, 400);
  EXPECT_EQ(imds_->request("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "0"}}).status, 400);
  EXPECT_EQ(imds_->request("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "21601"}}).status, 400);
  EXPECT_EQ(imds_->request("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "abc"}}).status, 400);
  auto r = imds_->request("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_EQ(r.header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(imds_->request("PUT", "/latest/api/token",
                           {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}, {"X-Forwarded-For", "10.0.0.1"}})
                .status,
            403);
  EXPECT_EQ(get("/latest/api/token").status, 405);
}

TEST_F(ImdsTest, TokensExpireOnTheAppClock) {
  const std::string tok = token(10);
  EXPECT_EQ(get("/latest/meta-data/instance-id", tok).status, 200);
  app_->manual_clock()->advance_ms(10 * 1000);
  EXPECT_EQ(get("/latest/meta-data/instance-id", tok).status, 401);
  EXPECT_EQ(get("/latest/meta-data/instance-id", "not-a-token").status, 401);
  // IMDSv1: no token at all is fine unless --imds-v2-only.
  EXPECT_EQ(get("/latest/meta-data/instance-id").status, 200);
}

TEST_F(ImdsTest, MetadataPaths) {
  const std::string tok = token();
  EXPECT_EQ(get("/latest/meta-data/placement/region", tok).body, "eu-central-1");
  EXPECT_EQ(get("/latest/meta-data/placement/availability-zone", tok).body, "eu-central-1a");
  EXPECT_EQ(get("/latest/meta-data/instance-id", tok).body, "i-0eddcafe000000001");  // docs/auth.md
  EXPECT_EQ(get("/latest/meta-data/iam/security-credentials/", tok).body, "eddy-role");
  EXPECT_EQ(get("/latest/meta-data/iam/security-credentials", tok).body, "eddy-role");
  auto doc = json::parse(get("/latest/dynamic/instance-identity/document", tok).body);
  EXPECT_EQ(doc["region"], "eu-central-1");
  EXPECT_EQ(doc["accountId"], "123456789012");
  EXPECT_EQ(doc["instanceId"], "i-0eddcafe000000001");
  auto info = json::parse(get("/latest/meta-data/iam/info", tok).body);
  EXPECT_EQ(info["InstanceProfileArn"], "arn:aws:iam::123456789012:instance-profile/eddy-role");
  EXPECT_EQ(get("/latest/meta-data/iam/security-credentials/other-role", tok).status, 404);
  EXPECT_EQ(get("/latest/meta-data/nothing-here", tok).status, 404);
  // The rest of docs/auth.md's table: the other instance facts, listings with and without the
  // trailing slash, HEAD, and 405 for other methods.
  EXPECT_EQ(get("/latest/meta-data/ami-id", tok).body, "ami-0eddcafe000000001");
  EXPECT_EQ(get("/latest/meta-data/instance-type", tok).body, "t3.micro");
  EXPECT_EQ(get("/latest/meta-data/hostname", tok).body, "ip-127-0-0-1.eu-central-1.compute.internal");
  EXPECT_EQ(get("/latest/meta-data/local-hostname", tok).body, "ip-127-0-0-1.eu-central-1.compute.internal");
  EXPECT_EQ(get("/latest/meta-data/local-ipv4", tok).body, "127.0.0.1");
  EXPECT_EQ(get("/latest/meta-data/services/domain", tok).body, "amazonaws.com");
  EXPECT_EQ(get("/latest/meta-data/services/partition", tok).body, "aws");
  const std::string listing =
      "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\nservices/";
  EXPECT_EQ(get("/latest/meta-data/", tok).body, listing);
  EXPECT_EQ(get("/latest/meta-data", tok).body, listing);
  EXPECT_EQ(get("/latest/meta-data/placement/", tok).body, "availability-zone\nregion");
  EXPECT_EQ(get("/latest/meta-data/iam/", tok).body, "info\nsecurity-credentials/");
  EXPECT_EQ(get("/latest/meta-data/services", tok).body, "domain\npartition");
  EXPECT_EQ(imds_->request("HEAD", "/latest/meta-data/instance-id", {{"X-aws-ec2-metadata-token", tok}}).status, 200);
  EXPECT_EQ(imds_->request("DELETE", "/latest/meta-data/instance-id", {{"X-aws-ec2-metadata-token", tok}}).status, 405);
  EXPECT_EQ(imds_->request("POST", "/latest/meta-data/instance-id", {{"X-aws-ec2-metadata-token", tok}}).status, 405);
  EXPECT_EQ(imds_->request("POST", "/latest/meta-data/instance-id", {}, "").status, 405);
}

TEST_F(ImdsTest, CredentialsSignKinesisCallsUntilTheyExpire) {
  const std::string tok = token();
  const json creds = credentials(tok);
  EXPECT_EQ(creds["Code"], "Success");
  EXPECT_EQ(creds["Type"], "AWS-HMAC");
  const std::string akid = creds["AccessKeyId"];
  EXPECT_EQ(akid.rfind("ASIA", 0), 0u);
  EXPECT_EQ(akid.size(), 20u);
  EXPECT_FALSE(creds["SecretAccessKey"].get<std::string>().empty());
  EXPECT_FALSE(creds["Token"].get<std::string>().empty());
  const int64_t now = app_->clock().now_ms();
  const auto expiration = sv4::parse_amz_date([&] {
    std::string e = creds["Expiration"];  // 2026-11-25T13:00:00Z -> 20261125T130000Z
    std::erase(e, '-');
    std::erase(e, ':');
    return e;
  }());
  ASSERT_TRUE(expiration.has_value()) << creds.dump();
  EXPECT_EQ(expiration->time_since_epoch().count(), now / 1000 + 3600);

  auto r = list_streams(creds);
  EXPECT_EQ(r.status, 200) << r.body;

  // The same credentials are served until five minutes before they lapse.
  app_->manual_clock()->advance_ms((3600 - 301) * 1000LL);
  EXPECT_EQ(credentials(tok)["AccessKeyId"], akid);
  app_->manual_clock()->advance_ms(2 * 1000);
  const json fresh = credentials(tok);
  EXPECT_NE(fresh["AccessKeyId"], akid);
  // Both sets work while the old one is still valid.
  EXPECT_EQ(list_streams(creds).status, 200);
  EXPECT_EQ(list_streams(fresh).status, 200);

  app_->manual_clock()->advance_ms(300 * 1000);
  r = list_streams(creds);
  EXPECT_EQ(r.status, 400);
  auto b = json::parse(r.body);
  EXPECT_EQ(b["__type"], "ExpiredTokenException");
  EXPECT_EQ(b["message"], "The security token included in the request is expired");
  EXPECT_EQ(list_streams(fresh).status, 200);

  // Without its token a temporary key is unknown.
  json no_token = fresh;
  no_token["Token"] = "";
  EXPECT_EQ(json::parse(list_streams(no_token).body)["__type"], "UnrecognizedClientException");
}

class ImdsV2OnlyTest : public ImdsTest {
 protected:
  void configure(Config& c) override {
    ImdsTest::configure(c);
    c.imds_v2_only = true;
  }
};

TEST_F(ImdsV2OnlyTest, RequestsWithoutATokenAreUnauthorized) {
  EXPECT_EQ(get("/latest/meta-data/instance-id").status, 401);
  EXPECT_EQ(get("/latest/meta-data/iam/security-credentials/").status, 401);
  EXPECT_EQ(get("/latest/meta-data/instance-id", token()).status, 200);
}

}  // namespace
}  // namespace eddy::test
