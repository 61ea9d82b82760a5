// eddy fetch against eddy's S3 in-process: publish and fetch round trip with .sha1/.md5,
// a tampered checksum, a missing artifact (NoSuchKey in one line), the unsigned http(s)://
// repository form, and wrong keys under --auth verify.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/fetch.h"
#include "client/s3_client.h"
#include "tests/support/server_fixture.h"

using namespace eddy::test;
namespace client = eddy::client;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ClientFetch : public ServerFixture {
 protected:
  void configure(eddy::Config& c) override {
    c.auth = "verify";
    c.clock = "manual";  // the clock-skew test sets the client's clock an hour off eddy's
    c.access_key = "AKIDFETCH";
    c.secret_key = "fetch-secret";
  }
  void SetUp() override {
    ServerFixture::SetUp();
    work_ = temp_dir("fetch");
    endpoint_ = "http://127.0.0.1:" + std::to_string(app_->port());
  }
  client::FetchOptions options() {
    client::FetchOptions o;
    o.repo = "s3://artifacts/libs/";
    o.organisation = "com.example";
    o.artifact = "greeter";
    o.revision = "1.2.0";
    o.out = (work_ / "out").string();
    o.session.endpoint = endpoint_;
    o.session.region = "us-east-1";
    o.session.static_credentials = eddy::wire::sigv4::Credentials{"AKIDFETCH", "fetch-secret", ""};
    return o;
  }
  struct Run {
    int rc;
    std::string out, err;
  };
  Run run(const client::FetchOptions& o) {
    std::ostringstream out, err;
    int rc = client::run_fetch(o, out, err);
    return {rc, out.str(), err.str()};
  }
  std::unique_ptr<client::Session> session() {
    auto o = options();
    std::string why;
    auto s = client::Session::create(o.session, &why, client::map_environment({}));
    EXPECT_TRUE(s) << why;
    return s;
  }
  void make_bucket(client::Session& s, const std::string& bucket) {
    client::HttpRequest req;
    req.method = "PUT";
    req.target = "/" + bucket;
    client::AwsError e;
    auto r = s.call("s3", s.endpoint("s3"), req, &e);
    ASSERT_TRUE(r && r->status == 200) << e.str();
  }
  fs::path work_;
  std::string endpoint_;
};

TEST_F(ClientFetch, PublishThenFetchVerifiesChecksums) {
  auto s = session();
  make_bucket(*s, "artifacts");
  const fs::path jar = work_ / "greeter.jar";
  std::string content(300000, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + 3);
  std::ofstream(jar, std::ios::binary) << content;

  auto o = options();
  o.publish = {jar.string()};
  auto pub = run(o);
  ASSERT_EQ(pub.rc, 0) << pub.err;
  EXPECT_EQ(pub.out,
            "published " + jar.string() + " -> s3://artifacts/libs/com.example/greeter-1.2.0.jar (+ .sha1, .md5)\n");

  o.publish.clear();
  auto got = run(o);
  ASSERT_EQ(got.rc, 0) << got.err;
  const fs::path fetched = work_ / "out" / "greeter-1.2.0.jar";
  EXPECT_EQ(got.out, "fetched s3://artifacts/libs/com.example/greeter-1.2.0.jar -> " + fetched.string() +
                         " (300000 bytes, sha1+md5 verified)\n");
  EXPECT_EQ(slurp(fetched), content);
  EXPECT_FALSE(fs::exists(fetched.string() + ".part"));

  // HeadObject sees it; a tampered .sha1 is refused and the download removed.
  client::S3Client s3(*s);
  auto head = s3.head_object("artifacts", "libs/com.example/greeter-1.2.0.jar");
  ASSERT_TRUE(head) << head.error.str();
  EXPECT_EQ(head->content_length, 300000);
  ASSERT_TRUE(s3.put_object_text("artifacts", "libs/com.example/greeter-1.2.0.jar.sha1", "0000  greeter-1.2.0.jar\n"));
  fs::remove(fetched);
  auto bad = run(o);
  EXPECT_EQ(bad.rc, 1);
  EXPECT_EQ(
      bad.err.rfind("eddy fetch: checksum mismatch: s3://artifacts/libs/com.example/greeter-1.2.0.jar has sha1 ", 0),
      0u)
      << bad.err;
  EXPECT_FALSE(fs::exists(fetched));
  EXPECT_FALSE(s3.head_object("artifacts", "libs/none").ok());
  EXPECT_EQ(s3.head_object("artifacts", "libs/none").error.code, "NoSuchKey");
}

TEST_F(ClientFetch, MissingArtifactIsNoSuchKeyInOneLine) {
  auto s = session();
  make_bucket(*s, "artifacts");
  auto o = options();
  o.revision = "9.9.9";
  auto r = run(o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "eddy fetch: NoSuchKey: s3://artifacts/libs/com.example/greeter-9.9.9.jar does not exist\n");
  EXPECT_FALSE(fs::exists(work_ / "out" / "greeter-9.9.9.jar.part"));
  o.repo = "s3://no-such-bucket/";
  r = run(o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err.rfind("eddy fetch: NoSuchBucket: s3://no-such-bucket/com.example/greeter-9.9.9.jar", 0), 0u) << r.err;
}

TEST_F(ClientFetch, WrongKeysFailInOneLine) {
  auto o = options();
  o.session.static_credentials = eddy::wire::sigv4::Credentials{"AKIDFETCH", "not-the-secret", ""};
  o.session.retry.max_attempts = 1;
  o.session.retry.max_attempts_explicit = true;
  auto r = run(o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err.rfind("eddy fetch: SignatureDoesNotMatch: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(ClientFetch, UnreachableEndpointIsOneLine) {
  auto o = options();
  o.session.endpoint = "http://127.0.0.1:1";
  o.session.retry.max_attempts = 1;
  o.session.retry.max_attempts_explicit = true;
  auto r = run(o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err.rfind("eddy fetch: TransportError: connect 127.0.0.1:1: ", 0), 0u) << r.err;
}

class ClientFetchPublic : public ServerFixture {
 protected:
  // A signed S3 call (the anonymous GETs of the test are the fetcher's).
  int s3(const std::string& method, const std::string& target, const std::string& body = {},
         std::vector<client::Header> headers = {}) {
    client::SessionOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
    o.region = "us-east-1";
    o.static_credentials = eddy::wire::sigv4::Credentials{"test", "test", ""};
    std::string why;
    auto s = client::Session::create(o, &why, client::map_environment({}));
    client::HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.headers = std::move(headers);
    client::AwsError e;
    auto r = s->call("s3", s->endpoint("s3"), req, &e);
    return r ? r->status : 0;
  }
};

// The public-read form Gradle uses: unsigned GETs below an http(s):// base URL.
TEST_F(ClientFetchPublic, HttpRepositoryUnsigned) {
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
  const std::vector<client::Header> public_read = {{"x-amz-acl", "public-read"}};
  ASSERT_EQ(s3("PUT", "/pub"), 200);
  ASSERT_EQ(s3("PUT", "/pub/m2/com.example/tool-2.0.zip", "zip-bytes", public_read), 200);
  ASSERT_EQ(s3("PUT", "/pub/m2/com.example/tool-2.0.zip.md5", "f36c0f5b9c1b3e3b5b2f0b7c3e2a0d11", public_read), 200);
  const fs::path out = temp_dir("pubout");
  client::FetchOptions o;
  o.repo = endpoint + "/pub/m2/";
  o.organisation = "com.example";
  o.artifact = "tool";
  o.revision = "2.0";
  o.ext = "zip";
  o.out = out.string();
  std::ostringstream so, se;
  // The .md5 above is wrong on purpose: the check runs over HTTP too.
  EXPECT_EQ(client::run_fetch(o, so, se), 1);
  EXPECT_EQ(
      se.str().rfind("eddy fetch: checksum mismatch: " + endpoint + "/pub/m2/com.example/tool-2.0.zip has md5 ", 0), 0u)
      << se.str();
  ASSERT_EQ(s3("DELETE", "/pub/m2/com.example/tool-2.0.zip.md5"), 204);
  std::ostringstream so2, se2;
  ASSERT_EQ(client::run_fetch(o, so2, se2), 0) << se2.str();
  EXPECT_EQ(slurp(out / "tool-2.0.zip"), "zip-bytes");
  EXPECT_EQ(so2.str(), "fetched " + endpoint + "/pub/m2/com.example/tool-2.0.zip -> " +
                           (out / "tool-2.0.zip").string() + " (9 bytes, no checksum published)\n");
  o.revision = "3.0";
  std::ostringstream so3, se3;
  EXPECT_EQ(client::run_fetch(o, so3, se3), 1);
  // S3 answers an anonymous GET of a missing key with 403.
  EXPECT_EQ(se3.str(), "eddy fetch: AccessDenied: " + endpoint +
                           "/pub/m2/com.example/tool-3.0.zip does not exist or is not public-read\n");
}

}  // namespace

// The SDKs' clock-skew correction: a client whose clock is an hour off eddy's gets
// RequestTimeTooSkewed (S3) / InvalidSignatureException "Signature expired" (Kinesis), learns
// the offset from the Date header and the same call succeeds on its retry; later calls sign
// with the corrected time at once.
TEST_F(ClientFetch, ClockSkewIsCorrectedFromTheDateHeaderAndRetried) {
  auto* server_clock = app_->manual_clock();
  ASSERT_NE(server_clock, nullptr);
  for (int64_t skew_ms : {-3600 * 1000, 3600 * 1000}) {
    SCOPED_TRACE(skew_ms);
    auto o = options();
    o.session.retry.max_attempts = 2;  // the corrected retry counts as an attempt
    o.session.retry.max_attempts_explicit = true;
    std::string why;
    auto s = client::Session::create(o.session, &why, client::map_environment({}), [server_clock, skew_ms] {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(server_clock->now_ms() + skew_ms));
    });
    ASSERT_TRUE(s) << why;
    client::HttpRequest req;
    req.method = "GET";
    req.target = "/";
    client::AwsError e;
    auto r = s->call("s3", s->endpoint("s3"), req, &e);
    ASSERT_TRUE(r) << e.str();
    EXPECT_EQ(r->status, 200) << e.str();
    // The offset is what the Date header said, to the second.
    EXPECT_NEAR(static_cast<double>(s->clock_offset_ms()), static_cast<double>(-skew_ms), 1000.0);
    // Kinesis signs with the learnt offset straight away: one attempt.
    client::HttpRequest k;
    k.method = "POST";
    k.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.ListStreams"}};
    k.body = "{}";
    auto kr = s->call("kinesis", s->endpoint("kinesis"), k, &e);
    ASSERT_TRUE(kr) << e.str();
    EXPECT_EQ(kr->status, 200) << e.str();
  }
  // Kinesis alone: "Signature expired" is recognised and corrected too.
  auto o = options();
  std::string why;
  auto s = client::Session::create(o.session, &why, client::map_environment({}), [server_clock] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(server_clock->now_ms() - 1800 * 1000));
  });
  ASSERT_TRUE(s) << why;
  client::HttpRequest k;
  k.method = "POST";
  k.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.ListStreams"}};
  k.body = "{}";
  client::AwsError e;
  auto kr = s->call("kinesis", s->endpoint("kinesis"), k, &e);
  ASSERT_TRUE(kr) << e.str();
  EXPECT_EQ(kr->status, 200) << e.str();
  EXPECT_NEAR(static_cast<double>(s->clock_offset_ms()), 1800.0 * 1000, 1000.0);
}
