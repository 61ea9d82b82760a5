// /_eddy/clock, and the time-dependent rules that read the one clock: iterator expiry,
// retention, arrival timestamps, MillisBehindLatest.
#include <gtest/gtest.h>

#include "tests/api/limits_test_support.h"

using namespace eddy::test;
using nlohmann::json;

namespace {
class ClockManual : public LimitsFixture {};
class ClockSystem : public ServerFixture {};
}  // namespace

TEST_F(ClockSystem, ReadOnlyUnlessManual) {
  auto g = http("GET", "/_eddy/clock");
  EXPECT_EQ(g.status, 200);
  auto j = json::parse(g.body);
  EXPECT_EQ(j["clock"], "system");
  EXPECT_GT(j["now_ms"].get<int64_t>(), 1'600'000'000'000);
  auto p = http("POST", "/_eddy/clock", {{"Content-Type", "application/json"}}, R"({"advance_ms": 1000})");
  EXPECT_EQ(p.status, 409);
  EXPECT_NE(p.body.find("--clock manual"), std::string::npos);
}

TEST_F(ClockManual, SetAndAdvance) {
  auto j = admin("GET", "/_eddy/clock", nullptr);
  EXPECT_EQ(j["clock"], "manual");
  const int64_t t0 = j["now_ms"].get<int64_t>();
  EXPECT_EQ(t0, clock().now_ms());
  EXPECT_EQ(admin("POST", "/_eddy/clock", {{"advance_ms", 1500}})["now_ms"], t0 + 1500);
  EXPECT_EQ(admin("POST", "/_eddy/clock", {{"advance_s", 2}})["now_ms"], t0 + 3500);
  EXPECT_EQ(admin("POST", "/_eddy/clock", {{"advance_s", 0.25}})["now_ms"], t0 + 3750);
  EXPECT_EQ(admin("POST", "/_eddy/clock", {{"set_ms", t0 + 10'000}})["now_ms"], t0 + 10'000);
  EXPECT_EQ(clock().now_ms(), t0 + 10'000);
  // Bad requests change nothing.
  admin("POST", "/_eddy/clock", {{"set_ms", t0}}, 400);
  admin("POST", "/_eddy/clock", {{"advance_ms", -1}}, 400);
  admin("POST", "/_eddy/clock", {{"advance_ms", 1}, {"advance_s", 1}}, 400);
  admin("POST", "/_eddy/clock", {{"advance_ms", "soon"}}, 400);
  admin("POST", "/_eddy/clock", json::object(), 400);
  EXPECT_EQ(http("POST", "/_eddy/clock", {}, "not json").status, 400);
  EXPECT_EQ(http("DELETE", "/_eddy/clock").status, 405);
  EXPECT_EQ(clock().now_ms(), t0 + 10'000);
}

TEST_F(ClockManual, IteratorsExpireAfterThreeHundredSeconds) {
  create_stream("it", 1);
  auto it = ok("GetShardIterator", {{"StreamName", "it"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "LATEST"}})
                ["ShardIterator"];
  admin("POST", "/_eddy/clock", {{"advance_s", 300}});
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 200);
  admin("POST", "/_eddy/clock", {{"advance_s", 1}});
  auto r = kinesis("GetRecords", {{"ShardIterator", it}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "ExpiredIteratorException");
}

TEST_F(ClockManual, RetentionTrimsAfterTwentyFiveHours) {
  create_stream("ret", 1);
  ok("PutRecord", {{"StreamName", "ret"}, {"PartitionKey", "k"}, {"Data", b64("old")}});
  admin("POST", "/_eddy/clock", {{"advance_s", 12 * 3600}});
  ok("PutRecord", {{"StreamName", "ret"}, {"PartitionKey", "k"}, {"Data", b64("newer")}});
  EXPECT_EQ(read_back("ret").size(), 2u);
  admin("POST", "/_eddy/clock", {{"advance_s", 13 * 3600}});  // 25 h after the first record
  auto back = read_back("ret");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0]["Data"], b64("newer"));
  admin("POST", "/_eddy/clock", {{"advance_s", 12 * 3600}});
  EXPECT_EQ(read_back("ret").size(), 0u);
  // The shard, its records range-deleted, takes records again (the records family's memtable
  // inserts by a per-shard hint; docs/performance.md, PutRecord).
  ok("PutRecord", {{"StreamName", "ret"}, {"PartitionKey", "k"}, {"Data", b64("again")}});
  back = read_back("ret");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0]["Data"], b64("again"));
}

TEST_F(ClockManual, ArrivalTimestampsAndMillisBehindLatestReadTheClock) {
  create_stream("ts", 1);
  const int64_t t0 = clock().now_ms();
  ok("PutRecord", {{"StreamName", "ts"}, {"PartitionKey", "k"}, {"Data", b64("a")}});
  admin("POST", "/_eddy/clock", {{"advance_ms", 10'000}});
  ok("PutRecord", {{"StreamName", "ts"}, {"PartitionKey", "k"}, {"Data", b64("b")}});
  admin("POST", "/_eddy/clock", {{"advance_ms", 2'500}});
  auto it = ok("GetShardIterator", {{"StreamName", "ts"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "TRIM_HORIZON"}})
                ["ShardIterator"];
  auto r = ok("GetRecords", {{"ShardIterator", it}, {"Limit", 1}});
  ASSERT_EQ(r["Records"].size(), 1u);
  EXPECT_DOUBLE_EQ(r["Records"][0]["ApproximateArrivalTimestamp"].get<double>(), static_cast<double>(t0) / 1000.0);
  // Behind the tip by the age of the record just returned.
  EXPECT_EQ(r["MillisBehindLatest"], 12'500);
  r = ok("GetRecords", {{"ShardIterator", r["NextShardIterator"]}});
  ASSERT_EQ(r["Records"].size(), 1u);
  EXPECT_DOUBLE_EQ(r["Records"][0]["ApproximateArrivalTimestamp"].get<double>(),
                   static_cast<double>(t0 + 10'000) / 1000.0);
  EXPECT_EQ(r["MillisBehindLatest"], 0);
}
