// The credentials chain against eddy's IMDS emulator (--imds-port) under --auth verify:
// IMDSv2 tokens, the fall back to IMDSv1 when the token call is refused, refresh before expiry
// on an injected clock, AWS_EC2_METADATA_DISABLED, and eddy fetch signing with IMDS keys.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/credentials.h"
#include "client/fetch.h"
#include "client/kinesis_client.h"
#include "server/auth/imds.h"
#include "server/http/server.h"
#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
namespace client = eddy::client;
namespace fs = std::filesystem;

namespace {

// eddy's IMDS behind a front that refuses the IMDSv2 token call (403), as a proxied or
// v1-only metadata service does: clients must fall back to plain GETs.
class RefuseTokens final : public eddy::http::Handler {
 public:
  explicit RefuseTokens(eddy::http::Handler& inner) : inner_(inner) {}
  eddy::http::Dispatch dispatch(eddy::http::Request& req) override {
    if (req.method == "PUT") {
      eddy::http::Response r;
      r.status = 403;
      r.body = "Forbidden\n";
      return eddy::http::Immediate{std::move(r)};
    }
    return inner_.dispatch(req);
  }

 private:
  eddy::http::Handler& inner_;
};

class ClientImds : public KinesisFixture {
 protected:
  void tune(eddy::Config& c) override {
    c.auth = "verify";
    c.imds_port = 0;
    c.imds_credential_lifetime_s = 3600;
  }
  // An environment with nothing but the IMDS endpoint (no keys, no files).
  client::Environment env(const std::string& endpoint, std::vector<std::pair<std::string, std::string>> extra = {}) {
    const fs::path none = temp_dir("imds-home");
    extra.emplace_back("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint);
    extra.emplace_back("AWS_SHARED_CREDENTIALS_FILE", (none / "credentials").string());
    extra.emplace_back("AWS_CONFIG_FILE", (none / "config").string());
    extra.emplace_back("HOME", none.string());
    extra.emplace_back("AWS_REGION", "us-east-1");
    return client::map_environment(extra);
  }
  std::string imds_url() const { return "http://127.0.0.1:" + std::to_string(app_->imds_port()); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(app_->port()); }

  // A Kinesis call signed with what the chain found: passes only with valid IMDS keys.
  void list_streams_with(const client::Environment& e) {
    client::SessionOptions o;
    o.endpoint = endpoint();
    std::string why;
    auto s = client::Session::create(o, &why, e);
    ASSERT_TRUE(s) << why;
    auto c = s->credentials().get(&why);
    ASSERT_TRUE(c) << why;
    EXPECT_EQ(c->source, "imds");
    EXPECT_FALSE(c->keys.session_token.empty());
    auto r = client::KinesisClient(*s).list_streams();
    EXPECT_TRUE(r) << r.error.str();
  }
};

TEST_F(ClientImds, V2TokenThenCredentialsSignCalls) {
  client::ImdsCredentialsProvider p(env(imds_url()));
  std::string why;
  auto c = p.get(&why);
  ASSERT_TRUE(c) << why;
  EXPECT_FALSE(p.used_v1());
  EXPECT_TRUE(c->expiration);
  list_streams_with(env(imds_url()));
}

TEST_F(ClientImds, FallsBackToV1WhenTheTokenCallIsRefused) {
  eddy::http::Server front(eddy::http::ServerOptions{});
  RefuseTokens handler(*app_->imds());
  const uint16_t port = front.listen("127.0.0.1", 0, handler);
  front.start();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  client::ImdsCredentialsProvider p(env(url));
  std::string why;
  auto c = p.get(&why);
  ASSERT_TRUE(c) << why;
  EXPECT_TRUE(p.used_v1());
  list_streams_with(env(url));
  front.stop();
}

TEST_F(ClientImds, RefreshesFiveMinutesBeforeExpiry) {
  std::chrono::system_clock::time_point now{std::chrono::milliseconds(clock().now_ms())};
  client::ImdsCredentialsProvider p(env(imds_url()), [&] { return now; });
  std::string why;
  auto first = p.get(&why);
  ASSERT_TRUE(first && first->expiration) << why;
  const auto expiry = *first->expiration;
  // Until five minutes before expiry the cached keys are used.
  clock().advance_ms(3600'000 - 200'000);  // the emulator rotates 300 s before expiry
  now = expiry - std::chrono::minutes(6);
  auto cached = p.get(&why);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->keys.access_key_id, first->keys.access_key_id);
  now = expiry - std::chrono::minutes(4);
  auto fresh = p.get(&why);
  ASSERT_TRUE(fresh) << why;
  EXPECT_NE(fresh->keys.access_key_id, first->keys.access_key_id);
  EXPECT_GT(*fresh->expiration, expiry);
}

TEST_F(ClientImds, DisabledByEnvironment) {
  auto chain = client::default_credentials_chain(env(imds_url(), {{"AWS_EC2_METADATA_DISABLED", "true"}}));
  std::string why;
  EXPECT_FALSE(chain->get(&why));
  EXPECT_NE(why.find("instance metadata disabled (AWS_EC2_METADATA_DISABLED=true)"), std::string::npos) << why;
}

// eddy fetch with nothing but the instance role: publish, then fetch.
TEST_F(ClientImds, FetchWithImdsCredentials) {
  const fs::path dir = temp_dir("imds-fetch");
  const auto e = env(imds_url());
  {
    client::SessionOptions o;
    o.endpoint = endpoint();
    std::string why;
    auto s = client::Session::create(o, &why, e);
    ASSERT_TRUE(s) << why;
    client::HttpRequest req;
    req.method = "PUT";
    req.target = "/role-bucket";
    client::AwsError err;
    auto r = s->call("s3", s->endpoint("s3"), req, &err);
    ASSERT_TRUE(r && r->status == 200) << err.str();
  }
  std::ofstream(dir / "lib.jar") << "jar bytes";
  client::FetchOptions o;
  o.repo = "s3://role-bucket/";
  o.artifact = "lib";
  o.revision = "1";
  o.pattern = "[artifact]-[revision].[ext]";
  o.out = (dir / "out").string();
  o.session.endpoint = endpoint();
  o.publish = {(dir / "lib.jar").string()};
  std::ostringstream out, err;
  ASSERT_EQ(client::run_fetch(o, out, err, e), 0) << err.str();
  o.publish.clear();
  ASSERT_EQ(client::run_fetch(o, out, err, e), 0) << err.str();
  EXPECT_TRUE(fs::exists(dir / "out" / "lib-1.jar"));
}

}  // namespace
