#pragma once
// Shared by the throttle, fault and clock API tests: a server on a manual clock and Kinesis
// short-hands (raw sockets: tests/support/raw_http.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/kinesis_fixture.h"
#include "tests/support/raw_http.h"

namespace eddy::test {

// KinesisFixture (manual clock, ok/fails/put/iterator/read_all) plus what the limit tests add:
// admin calls, bulk entries and a read that waits out throttling by moving the clock.
class LimitsFixture : public KinesisFixture {
 protected:
  nlohmann::json admin(const std::string& method, const std::string& target, const nlohmann::json& body,
                       int expect = 200) {
    auto r = http(method, target, {{"Content-Type", "application/json"}}, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expect) << method << " " << target << " -> " << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }

  // n entries "<prefix><i>" -> "<payload><i>" (PartitionKey + Data as given).
  static nlohmann::json entries(int n, const std::string& key_prefix, size_t data_bytes, int first = 0) {
    nlohmann::json recs = nlohmann::json::array();
    for (int i = first; i < first + n; ++i) {
      std::string data = std::to_string(i);
      data.resize(data_bytes, '.');
      recs.push_back({{"PartitionKey", key_prefix}, {"Data", b64(data)}});
    }
    return recs;
  }

  // Reads every record of a shard from TRIM_HORIZON. Throttled reads wait by moving the
  // manual clock, so this works whatever the throttle mode.
  std::vector<nlohmann::json> read_back(const std::string& stream, int shard = 0) {
    std::vector<nlohmann::json> out;
    std::string it;
    for (int tries = 0; tries < 20 && it.empty(); ++tries) {
      auto r = kinesis("GetShardIterator",
                       {{"StreamName", stream}, {"ShardId", shard_id(shard)}, {"ShardIteratorType", "TRIM_HORIZON"}});
      if (r.status == 200) it = r.body["ShardIterator"].get<std::string>();
      else clock().advance_ms(1000);
    }
    EXPECT_FALSE(it.empty());
    for (int calls = 0; calls < 1000 && !it.empty(); ++calls) {
      auto r = kinesis("GetRecords", {{"ShardIterator", it}});
      if (r.status == 400 && r.type() == "ProvisionedThroughputExceededException") {
        clock().advance_ms(1000);
        continue;
      }
      EXPECT_EQ(r.status, 200) << r.raw.substr(0, 300);
      if (r.status != 200) break;
      for (auto& rec : r.body["Records"]) out.push_back(rec);
      if (r.body["Records"].empty() && r.body.value("MillisBehindLatest", 0) == 0) break;
      it = r.body.value("NextShardIterator", std::string());
    }
    return out;
  }
};

}  // namespace eddy::test
