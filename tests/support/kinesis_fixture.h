#pragma once
// Helpers shared by the Kinesis API tests: a ServerFixture on a manual clock plus short-hands
// for the calls most tests make.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/server_fixture.h"

namespace eddy::test {

// The default account, and the hash-key bounds (2^128 - 1, 2^127) as Kinesis writes them.
inline const std::string kAccount = "000000000000";
inline const std::string kMax = "340282366920938463463374607431768211455";
inline const std::string kHalf = "170141183460469231731687303715884105728";

class KinesisFixture : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.clock = "manual";
    tune(c);
  }
  // Override instead of configure() to keep the manual clock.
  virtual void tune(Config&) {}

  ManualClock& clock() { return *app_->manual_clock(); }

  // Calls an operation that must succeed and returns its output.
  nlohmann::json ok(const std::string& op, const nlohmann::json& in) {
    auto r = kinesis(op, in);
    EXPECT_EQ(r.status, 200) << op << " " << in.dump().substr(0, 300) << " -> " << r.raw.substr(0, 500);
    return r.body.is_discarded() || r.body.is_null() ? nlohmann::json::object() : r.body;
  }

  // Calls an operation that must fail with this type (and message, when given).
  KinesisResult fails(const std::string& op, const nlohmann::json& in, const std::string& type,
                      const std::string& message = {}) {
    auto r = kinesis(op, in);
    EXPECT_EQ(r.status, 400) << op << " " << r.raw.substr(0, 500);
    EXPECT_EQ(r.type(), type) << op << " " << r.raw.substr(0, 500);
    if (!message.empty()) {
      EXPECT_EQ(r.message(), message) << op;
    }
    return r;
  }

  nlohmann::json put(const std::string& stream, const std::string& pk, const std::string& data,
                     nlohmann::json extra = nlohmann::json::object()) {
    extra["StreamName"] = stream;
    extra["PartitionKey"] = pk;
    extra["Data"] = b64(data);
    return ok("PutRecord", extra);
  }

  std::string iterator(const std::string& stream, int shard, const std::string& type,
                       nlohmann::json extra = nlohmann::json::object()) {
    extra["StreamName"] = stream;
    extra["ShardId"] = shard_id(shard);
    extra["ShardIteratorType"] = type;
    auto out = ok("GetShardIterator", extra);
    return out.value("ShardIterator", std::string());
  }

  // Reads a shard from an iterator until it is caught up (or closed); returns the records.
  std::vector<nlohmann::json> read_all(std::string it, int max_calls = 50) {
    std::vector<nlohmann::json> out;
    for (int i = 0; i < max_calls && !it.empty(); ++i) {
      auto r = ok("GetRecords", {{"ShardIterator", it}});
      for (auto& rec : r["Records"]) out.push_back(rec);
      if (!r.contains("NextShardIterator") || r["NextShardIterator"].is_null()) break;
      it = r["NextShardIterator"].get<std::string>();
      if (r["Records"].empty() && r.value("MillisBehindLatest", 0) == 0) break;
    }
    return out;
  }

  static std::string shard_id(int i) {
    char buf[32];
    snprintf(buf, sizeof buf, "shardId-%012d", i);
    return buf;
  }
  std::string account() const { return config_.account_id; }
  std::string arn(const std::string& stream) const {
    return "arn:aws:kinesis:" + config_.region + ":" + config_.account_id + ":stream/" + stream;
  }
  std::string not_found(const std::string& stream) const {
    return "Stream " + stream + " under account " + config_.account_id + " not found.";
  }
};

}  // namespace eddy::test
