#include "tests/support/server_fixture.h"

#include <unistd.h>

#include <atomic>

#include "server/kinesis/codec.h"
#include "wire/base64.h"

namespace eddy::test {

using nlohmann::json;

std::string b64(const std::string& bytes) { return wire::base64_encode(bytes); }

void ServerFixture::SetUp() {
  config_.host = "127.0.0.1";
  config_.port = 0;
  config_.in_memory = true;
  config_.threads = 2;
  config_.shutdown_grace_s = 2;
  configure(config_);
  app_ = std::make_unique<App>(config_);
  std::string error;
  ASSERT_TRUE(app_->start(&error)) << error;
  client_ = std::make_unique<HttpClient>("127.0.0.1", app_->port());
}

void ServerFixture::TearDown() {
  client_.reset();
  if (app_) app_->stop();
  app_.reset();
  for (const auto& d : temp_dirs_) std::filesystem::remove_all(d);
  temp_dirs_.clear();
}

std::filesystem::path ServerFixture::temp_dir(const std::string& prefix) {
  static std::atomic<unsigned> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1)));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  temp_dirs_.push_back(dir);
  return dir;
}

void ServerFixture::restart() {
  client_.reset();
  app_->stop();
  app_ = std::make_unique<App>(config_);
  std::string error;
  ASSERT_TRUE(app_->start(&error)) << error;
  client_ = std::make_unique<HttpClient>("127.0.0.1", app_->port());
}

std::vector<std::pair<std::string, std::string>> kinesis_headers(const std::string& op, const std::string& ct) {
  return {{"Content-Type", ct},
          {"X-Amz-Target", "Kinesis_20131202." + op},
          {"Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
                            "SignedHeaders=host;x-amz-date, Signature=00"},
          {"X-Amz-Date", "20260101T000000Z"}};
}

KinesisResult ServerFixture::kinesis_raw(const std::string& op, const std::string& ct, const std::string& body) {
  KinesisResult r;
  r.http = client_->request("POST", "/", kinesis_headers(op, ct), body);
  r.status = r.http.status;
  r.raw = r.http.body;
  if (r.http.header("content-type").find("cbor") != std::string::npos)
  {
    // eddy's own reader: nlohmann's from_cbor rejects tag 1 (0xC1), which timestamps carry.
    if (!kinesis::decode_cbor(r.raw, r.body)) r.body = json(json::value_t::discarded);
  }
  else if (!r.raw.empty())
    r.body = json::parse(r.raw, nullptr, false);
  return r;
}

KinesisResult ServerFixture::kinesis(const std::string& op, const json& input) {
  return kinesis_raw(op, "application/x-amz-json-1.1", input.dump());
}

KinesisResult ServerFixture::kinesis_cbor(const std::string& op, const json& input) {
  auto bytes = json::to_cbor(input);
  return kinesis_raw(op, "application/x-amz-cbor-1.1", std::string(bytes.begin(), bytes.end()));
}

HttpResult ServerFixture::http(const std::string& method, const std::string& target,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) {
  return client_->request(method, target, headers, body);
}

void ServerFixture::create_stream(const std::string& name, int shards) {
  auto r = kinesis("CreateStream", {{"StreamName", name}, {"ShardCount", shards}});
  ASSERT_EQ(r.status, 200) << r.raw;
}

}  // namespace eddy::test
