#pragma once
// Starts eddy in-process (in-memory storage, 127.0.0.1, ephemeral port) and talks HTTP to it.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/app.h"
#include "tests/support/test_client.h"

namespace eddy::test {

struct KinesisResult {
  int status = 0;
  nlohmann::json body;
  std::string raw;
  HttpResult http;
  std::string type() const { return body.is_object() && body.contains("__type") ? body["__type"].get<std::string>() : ""; }
  std::string message() const {
    if (!body.is_object()) return "";
    if (body.contains("message")) return body["message"].get<std::string>();
    if (body.contains("Message")) return body["Message"].get<std::string>();
    return "";
  }
};

class ServerFixture : public ::testing::Test {
 protected:
  // Override to change settings before the server starts.
  virtual void configure(Config& c) { (void)c; }

  void SetUp() override;
  void TearDown() override;

  KinesisResult kinesis(const std::string& op, const nlohmann::json& input);
  KinesisResult kinesis_cbor(const std::string& op, const nlohmann::json& input);
  KinesisResult kinesis_raw(const std::string& op, const std::string& content_type, const std::string& body);
  HttpResult http(const std::string& method, const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}, const std::string& body = {});

  // Creates a stream and returns nothing; asserts success.
  void create_stream(const std::string& name, int shards);

  // A fresh, empty directory for this test (a data dir, a seed dir); removed after the server
  // stops in TearDown.
  std::filesystem::path temp_dir(const std::string& prefix);
  // Stops the server and starts it again with the same settings; an on-disk store keeps its data.
  void restart();

  std::unique_ptr<App> app_;
  std::unique_ptr<HttpClient> client_;
  Config config_;

 private:
  std::vector<std::filesystem::path> temp_dirs_;
};

// The headers of a Kinesis call (any-mode SigV4), for tests that make their own clients.
std::vector<std::pair<std::string, std::string>> kinesis_headers(const std::string& op, const std::string& content_type);

// Base64 helper for building JSON inputs.
std::string b64(const std::string& bytes);

}  // namespace eddy::test
