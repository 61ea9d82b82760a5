// Refused PutRecords entries are counted per shard (Prometheus and the report), as issue 5
// asks for "per stream and per shard ... accepted / failed / throttled".
#include <gtest/gtest.h>

#include "tests/support/server_fixture.h"

namespace eddy::test {
namespace {

using nlohmann::json;

class MetricsRejections : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.throttle = "aws";
    c.clock = "manual";
  }
  // `n` records of 10 bytes, all routed by ExplicitHashKey to the shard owning `hash_key`.
  json put(const std::string& stream, int n, const std::string& hash_key) {
    json records = json::array();
    for (int i = 0; i < n; ++i)
      records.push_back({{"PartitionKey", "k" + std::to_string(i)}, {"ExplicitHashKey", hash_key}, {"Data", b64("0123456789")}});
    auto r = kinesis("PutRecords", {{"StreamName", stream}, {"Records", records}});
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body;
  }
};

TEST_F(MetricsRejections, ThrottledEntriesCountAgainstTheirShard) {
  create_stream("t", 2);
  // Shard 0 takes 1000 records a second: 3 x 400 with the clock held still -> 200 throttled.
  size_t failed = 0;
  for (int i = 0; i < 3; ++i) failed += put("t", 400, "0")["FailedRecordCount"].get<size_t>();
  EXPECT_EQ(failed, 200u);
  // Shard 1 (upper half of the key space) is under its limit.
  EXPECT_EQ(put("t", 10, "340282366920938463463374607431768211455")["FailedRecordCount"], 0);

  const std::string prom = http("GET", "/_eddy/metrics").body;
  EXPECT_NE(prom.find("eddy_kinesis_put_records_throttled_total{stream=\"t\",shard=\"shardId-000000000000\"} 200"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("eddy_kinesis_put_records_throttled_total{stream=\"t\",shard=\"shardId-000000000001\"} 0"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("eddy_kinesis_put_records_failed_total{stream=\"t\",shard=\"shardId-000000000000\"} 200"),
            std::string::npos)
      << prom;

  auto report = json::parse(http("GET", "/_eddy/report?format=json").body);
  const json* stream = nullptr;
  for (const auto& s : report["streams"])
    if (s["stream"] == "t") stream = &s;
  ASSERT_NE(stream, nullptr) << report.dump();
  EXPECT_EQ((*stream)["records_throttled"], 200);
  EXPECT_EQ((*stream)["records"], 1010);
  for (const auto& sh : (*stream)["shard_list"]) {
    if (sh["shard"] == "shardId-000000000000") {
      EXPECT_EQ(sh["records"], 1000);
      EXPECT_EQ(sh["records_throttled"], 200);
      EXPECT_EQ(sh["records_failed"], 200);
    } else {
      EXPECT_EQ(sh["records"], 10);
      EXPECT_EQ(sh["records_throttled"], 0);
    }
  }
}

TEST_F(MetricsRejections, AThrottledPutRecordCountsAgainstItsShard) {
  create_stream("one", 1);
  auto lim = http("PUT", "/_eddy/throttle/streams/one", {{"Content-Type", "application/json"}},
                  R"({"write_records_per_sec": 1})");
  ASSERT_EQ(lim.status, 200) << lim.body;
  auto ok = kinesis("PutRecord", {{"StreamName", "one"}, {"PartitionKey", "a"}, {"Data", b64("x")}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  auto r = kinesis("PutRecord", {{"StreamName", "one"}, {"PartitionKey", "a"}, {"Data", b64("x")}});
  EXPECT_EQ(r.type(), "ProvisionedThroughputExceededException");
  const std::string prom = http("GET", "/_eddy/metrics").body;
  EXPECT_NE(prom.find("eddy_kinesis_put_records_throttled_total{stream=\"one\",shard=\"shardId-000000000000\"} 1"),
            std::string::npos)
      << prom;
}

}  // namespace
}  // namespace eddy::test
