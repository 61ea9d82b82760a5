// Session: SigV4 signing through wire/ against botocore's signature (tests/unit/sigv4_test.cpp's
// vector), endpoint resolution, AWS error parsing, URLs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "client/session.h"
#include "wire/sigv4.h"

namespace eddy::client {
namespace {

std::unique_ptr<Session> session_at(const std::string& endpoint, const std::string& region,
                                    wire::sigv4::Credentials keys, std::chrono::system_clock::time_point t) {
  SessionOptions o;
  o.endpoint = endpoint;
  AwsCredentials c;
  c.keys = std::move(keys);
  return std::make_unique<Session>(o, region, std::make_unique<HttpClient>(),
                                   std::make_unique<StaticCredentialsProvider>(c), RetryPolicy{}, [t] { return t; });
}

std::chrono::system_clock::time_point at_2024_03_09_162511() {
  using namespace std::chrono;
  return sys_days{year{2024} / 3 / 9} + hours{16} + minutes{25} + seconds{11};
}

// botocore 1.43's SigV4Auth of a Kinesis PutRecord with a session token (the vector of
// SigV4Botocore.KinesisPostWithSessionToken in tests/unit/sigv4_test.cpp).
TEST(SessionSigning, KinesisMatchesBotocore) {
  const std::string token = "IQoJb3JpZ2luX2VjEN7//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";
  auto s =
      session_at("http://localhost:4567", "eu-west-1",
                 {"ASIAEDDYTEST0000002", "kinesis/Secret/Key+With/Slashes0000000000", token}, at_2024_03_09_162511());
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.body = R"({"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"a"})";
  req.headers = {{"X-Amz-Target", "Kinesis_20131202.PutRecord"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"User-Agent", "aws-cli/2"},
                 {"Content-Length", "60"}};
  std::string why;
  ASSERT_TRUE(s->sign("kinesis", s->endpoint("kinesis"), req, wire::sigv4::sha256_hex(req.body), &why)) << why;
  HttpResponse view;
  view.headers = req.headers;
  EXPECT_EQ(view.header("Authorization"),
            "AWS4-HMAC-SHA256 Credential=ASIAEDDYTEST0000002/20240309/eu-west-1/kinesis/"
            "aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;"
            "x-amz-security-token;x-amz-target, "
            "Signature=f556ed91213191e68e2b18b8dfba32cfc7e477ea3a159c98d1621fb010d2e31a");
  EXPECT_EQ(view.header("Host"), "localhost:4567");
  EXPECT_EQ(view.header("X-Amz-Date"), "20240309T162511Z");
  EXPECT_EQ(view.header("X-Amz-Security-Token"), token);
}

// botocore's S3SigV4Auth of a PUT with UNSIGNED-PAYLOAD (SigV4Botocore.S3PutWithUnsignedPayload).
TEST(SessionSigning, S3MatchesBotocore) {
  auto s = session_at("http://127.0.0.1:4566", "us-east-1",
                      {"AKIAEDDYTEST0000001", "eddy/secret+key/0123456789abcdefghijklmn", ""}, at_2024_03_09_162511());
  HttpRequest req;
  req.method = "PUT";
  req.target = "/my-bucket/dir/a%20b%2Bc%28d%29~e.txt?x-id=PutObject";
  req.headers = {{"Content-Type", "application/octet-stream"},
                 {"Content-Length", "11"},
                 {"x-amz-acl", "bucket-owner-full-control"},
                 {"Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="},
                 {"User-Agent", "Boto3/1.34 md/Botocore#1.34"}};
  std::string why;
  ASSERT_TRUE(s->sign("s3", s->endpoint("s3"), req, "UNSIGNED-PAYLOAD", &why)) << why;
  HttpResponse view;
  view.headers = req.headers;
  EXPECT_EQ(view.header("authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAEDDYTEST0000001/20240309/us-east-1/s3/aws4_request, "
            "SignedHeaders=content-length;content-md5;content-type;host;x-amz-acl;"
            "x-amz-content-sha256;x-amz-date, "
            "Signature=70b7d5d5c5760e2f7d2bdacd56f49e2b5edffc11a66aad734802f7c25e6e259a");
  EXPECT_EQ(view.header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
}

TEST(SessionEndpoints, RegionalWhenNoEndpoint) {
  auto t = std::chrono::system_clock::now();
  EXPECT_EQ(session_at("", "eu-central-1", {"a", "b", ""}, t)->endpoint("kinesis").str(),
            "https://kinesis.eu-central-1.amazonaws.com");
  EXPECT_EQ(session_at("", "us-east-1", {"a", "b", ""}, t)->endpoint("s3").str(), "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(session_at("", "cn-north-1", {"a", "b", ""}, t)->endpoint("kinesis").str(),
            "https://kinesis.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(session_at("http://127.0.0.1:4566", "us-east-1", {"a", "b", ""}, t)->endpoint("s3").str(),
            "http://127.0.0.1:4566");
}

TEST(SessionCreate, NeedsARegionAndAValidEndpoint) {
  std::string why;
  SessionOptions o;
  EXPECT_FALSE(Session::create(o, &why, map_environment({})));
  EXPECT_EQ(why, "no region: pass --region or set AWS_REGION (or a region in the profile)");
  o.region = "us-east-1";
  o.endpoint = "ftp://x";
  EXPECT_FALSE(Session::create(o, &why, map_environment({})));
  EXPECT_NE(why.find("--endpoint: invalid URL 'ftp://x'"), std::string::npos) << why;
  o.endpoint = "http://127.0.0.1:4566";
  EXPECT_TRUE(Session::create(o, &why, map_environment({})));
}

TEST(AwsErrors, JsonXmlAndHeaderForms) {
  HttpResponse r;
  r.status = 400;
  r.body = R"({"__type":"com.amazonaws.kinesis#ResourceNotFoundException","message":"Stream x not found."})";
  auto e = parse_error(r);
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.str(), "ResourceNotFoundException: Stream x not found.");

  r.status = 404;
  r.body =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
      "<Key>a/b</Key></Error>";
  e = parse_error(r);
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");

  r.status = 400;
  r.body.clear();
  r.headers = {{"x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/"}};
  EXPECT_EQ(parse_error(r).code, "ThrottlingException");

  r.headers.clear();
  r.status = 404;
  EXPECT_EQ(parse_error(r).code, "NotFound");
}

TEST(Urls, ParseAndPrint) {
  auto u = Url::parse("HTTPS://Example.com:8443/base/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/base");
  EXPECT_EQ(u->authority(), "Example.com:8443");
  EXPECT_EQ(Url::parse("http://127.0.0.1")->authority(), "127.0.0.1");
  EXPECT_EQ(Url::parse("http://[::1]:80/")->authority(), "[::1]");
  EXPECT_EQ(Url::parse("http://[::1]:81/")->str(), "http://[::1]:81");
  std::string why;
  EXPECT_FALSE(Url::parse("127.0.0.1:4566", &why));
  EXPECT_FALSE(Url::parse("http://h:99999", &why));
  EXPECT_FALSE(Url::parse("http://:80", &why));
}


TEST(SessionCreate, RetryModeAndMaxAttemptsFromTheEnvironment) {
  std::string why;
  SessionOptions o;
  o.region = "us-east-1";
  // Defaults: standard, 3 attempts; legacy 5.
  auto s = Session::create(o, &why, map_environment({}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "standard");
  EXPECT_EQ(s->retry().options().max_attempts, 3);
  s = Session::create(o, &why, map_environment({{"AWS_RETRY_MODE", "legacy"}}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "legacy");
  EXPECT_EQ(s->retry().options().max_attempts, 5);
  s = Session::create(o, &why, map_environment({{"AWS_RETRY_MODE", "adaptive"}, {"AWS_MAX_ATTEMPTS", "7"}}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "adaptive");
  EXPECT_EQ(s->retry().options().max_attempts, 7);
  // AWS_MAX_ATTEMPTS=1: no retries at all.
  s = Session::create(o, &why, map_environment({{"AWS_MAX_ATTEMPTS", "1"}}));
  ASSERT_TRUE(s) << why;
  EXPECT_FALSE(s->retry().should_retry(1, 503, "ServiceUnavailable"));
  // The flag wins over the environment.
  SessionOptions f = o;
  f.retry.max_attempts = 2;
  f.retry.max_attempts_explicit = true;
  f.retry.mode = "legacy";
  s = Session::create(f, &why, map_environment({{"AWS_MAX_ATTEMPTS", "9"}, {"AWS_RETRY_MODE", "standard"}}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().max_attempts, 2);
  EXPECT_EQ(s->retry().options().mode, "legacy");
  // Bad values: one clear line.
  EXPECT_FALSE(Session::create(o, &why, map_environment({{"AWS_MAX_ATTEMPTS", "0"}})));
  EXPECT_EQ(why, "AWS_MAX_ATTEMPTS must be a positive integer, not '0'");
  EXPECT_FALSE(Session::create(o, &why, map_environment({{"AWS_RETRY_MODE", "fast"}})));
  EXPECT_EQ(why, "retry mode 'fast' is not standard, legacy or adaptive (AWS_RETRY_MODE)");
}

// The profile's retry_mode and max_attempts in the config file, below the flags and
// AWS_RETRY_MODE / AWS_MAX_ATTEMPTS (botocore's order); adaptive mode brings its limiter.
TEST(SessionCreate, RetryModeAndMaxAttemptsFromTheProfile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("eddy-session-profile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = (dir / "config").string();
  std::ofstream(config) << "[default]\nretry_mode = adaptive\nmax_attempts = 6\n"
                           "[profile legacy]\nretry_mode = legacy\n"
                           "[profile bad]\nmax_attempts = many\n"
                           "[profile worse]\nretry_mode = eager\n";
  auto env = [&](std::vector<std::pair<std::string, std::string>> vars) {
    vars.emplace_back("AWS_CONFIG_FILE", config);
    return map_environment(std::move(vars));
  };
  std::string why;
  SessionOptions o;
  o.region = "us-east-1";
  auto s = Session::create(o, &why, env({}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "adaptive");
  EXPECT_EQ(s->retry().options().max_attempts, 6);
  EXPECT_NE(s->rate_limiter(), nullptr);
  // A profile with retry_mode alone: that mode's default attempts.
  s = Session::create(o, &why, env({{"AWS_PROFILE", "legacy"}}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "legacy");
  EXPECT_EQ(s->retry().options().max_attempts, 5);
  EXPECT_EQ(s->rate_limiter(), nullptr);
  // The environment beats the profile.
  s = Session::create(o, &why, env({{"AWS_RETRY_MODE", "standard"}, {"AWS_MAX_ATTEMPTS", "2"}}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "standard");
  EXPECT_EQ(s->retry().options().max_attempts, 2);
  // The flags beat both; --profile picks the section.
  SessionOptions f = o;
  f.retry.mode = "standard";
  f.retry.max_attempts = 4;
  f.retry.max_attempts_explicit = true;
  s = Session::create(f, &why, env({}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "standard");
  EXPECT_EQ(s->retry().options().max_attempts, 4);
  f = o;
  f.profile = "legacy";
  s = Session::create(f, &why, env({}));
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->retry().options().mode, "legacy");
  // Bad values in the profile: one line naming the profile and the file.
  EXPECT_FALSE(Session::create(o, &why, env({{"AWS_PROFILE", "bad"}})));
  EXPECT_EQ(why, "max_attempts (profile bad in " + config + ") must be a positive integer, not 'many'");
  EXPECT_FALSE(Session::create(o, &why, env({{"AWS_PROFILE", "worse"}})));
  EXPECT_EQ(why, "retry_mode 'eager' (profile worse in " + config + ") is not standard, legacy or adaptive");
  std::filesystem::remove_all(dir);
}

TEST(AwsErrors, ClockSkewErrorsAreRecognised) {
  EXPECT_TRUE(is_clock_skew_error(403, {403, "RequestTimeTooSkewed", "too large", 1}));
  EXPECT_TRUE(is_clock_skew_error(400, {400, "InvalidSignatureException", "Signature expired: 20240309T100000Z is now earlier than ...", 1}));
  EXPECT_TRUE(is_clock_skew_error(400, {400, "InvalidSignatureException", "Signature not yet current: ...", 1}));
  EXPECT_FALSE(is_clock_skew_error(400, {400, "InvalidSignatureException", "The request signature we calculated does not match", 1}));
  EXPECT_FALSE(is_clock_skew_error(400, {400, "ResourceNotFoundException", "Signature expired", 1}));
}

}  // namespace
}  // namespace eddy::client
