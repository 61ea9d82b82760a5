// Per-shard throughput limits, per-stream overrides and control-plane rate limits, with the
// clock held still so every count is exact.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "server/kinesis/kinesis_service.h"
#include "server/limits/control_plane_limiter.h"
#include "tests/support/fixture_config.h"
#include "tests/api/limits_test_support.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

class ThrottleAws : public LimitsFixture {
 protected:
  void tune(eddy::Config& c) override { c.throttle = "aws"; }

  std::string rate_exceeded(const std::string& stream, int shard = 0) {
    return "Rate exceeded for shard " + shard_id(shard) + " in stream " + stream + " under account " + account() +
           ".";
  }
};

class ThrottleOff : public LimitsFixture {};

// On disk, so a restart keeps what was saved.
class ThrottleAwsOnDisk : public ThrottleAws {
 protected:
  void tune(eddy::Config& c) override {
    c.throttle = "aws";
    use_disk_store(c, temp_dir("eddy-throttle-restart"));
    auto rules = temp_dir("eddy-throttle-faults") / "faults.json";
    std::ofstream(rules) << R"({"seed": 3, "rules": [{"id": "hot", "bucket": "b", "action": "error", "error_code": "SlowDown"}]})";
    c.faults_file = rules.string();
  }
};

}  // namespace

TEST_F(ThrottleAws, TwoThousandSmallRecordsGiveExactlyOneThousandAccepted) {
  create_stream("t1", 1);
  // PutRecords takes at most 500 entries, so the 2000 records go in four calls with the clock
  // held still: one second's worth (1000 records) is accepted, the rest is throttled.
  size_t accepted = 0, throttled = 0;
  std::vector<std::string> sequence_numbers;
  for (int call = 0; call < 4; ++call) {
    auto out = ok("PutRecords", {{"StreamName", "t1"}, {"Records", entries(500, "k", 9, call * 500)}});
    ASSERT_EQ(out["Records"].size(), 500u);
    size_t failed_here = 0;
    for (const auto& r : out["Records"]) {
      if (r.contains("ErrorCode")) {
        ++failed_here;
        // Exactly the shape AWS gives: only ErrorCode and ErrorMessage.
        EXPECT_EQ(r, json({{"ErrorCode", "ProvisionedThroughputExceededException"},
                           {"ErrorMessage", rate_exceeded("t1")}}));
      } else {
        EXPECT_EQ(r.size(), 2u) << r.dump();
        EXPECT_EQ(r["ShardId"], shard_id(0));
        sequence_numbers.push_back(r["SequenceNumber"].get<std::string>());
      }
    }
    EXPECT_EQ(out["FailedRecordCount"], failed_here);
    accepted += 500 - failed_here;
    throttled += failed_here;
  }
  EXPECT_EQ(accepted, 1000u);
  EXPECT_EQ(throttled, 1000u);

  // What was accepted is stored, once, in order; nothing else is.
  auto back = read_back("t1");
  ASSERT_EQ(back.size(), 1000u);
  for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i]["SequenceNumber"], sequence_numbers[i]);

  auto t = admin("GET", "/_eddy/throttle", nullptr);
  EXPECT_EQ(t["mode"], "aws");
  EXPECT_EQ(t["throttled"]["write_records"], 1000);
  EXPECT_EQ(t["streams"][0]["write_throttled"], 1000);
}

TEST_F(ThrottleAws, ThrottledAndAcceptedEntriesShareACallAndRefillAfterOneSecond) {
  create_stream("mix", 1);
  auto first = ok("PutRecords", {{"StreamName", "mix"}, {"Records", entries(500, "k", 9)}});
  auto second = ok("PutRecords", {{"StreamName", "mix"}, {"Records", entries(300, "k", 9, 500)}});
  EXPECT_EQ(first["FailedRecordCount"], 0);
  EXPECT_EQ(second["FailedRecordCount"], 0);
  auto third = ok("PutRecords", {{"StreamName", "mix"}, {"Records", entries(500, "k", 9, 800)}});
  EXPECT_EQ(third["FailedRecordCount"], 300);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(third["Records"][i].contains("ErrorCode"), i >= 200) << i;
  // Half a second refills half the budget; a full second the rest (never more than 1 s worth).
  clock().advance_ms(500);
  auto half = ok("PutRecords", {{"StreamName", "mix"}, {"Records", entries(500, "k", 9)}});
  EXPECT_EQ(half["FailedRecordCount"], 0);
  auto over = ok("PutRecords", {{"StreamName", "mix"}, {"Records", entries(1, "k", 9)}});
  EXPECT_EQ(over["FailedRecordCount"], 1);
  clock().advance_ms(10'000);
  int ok_count = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = ok("PutRecords", {{"StreamName", "mix"}, {"Records", entries(500, "k", 9)}});
    ok_count += 500 - r["FailedRecordCount"].get<int>();
  }
  EXPECT_EQ(ok_count, 1000);
  EXPECT_EQ(read_back("mix").size(), 800u + 200 + 500 + 1000);
}

TEST_F(ThrottleAws, PutRecordOverTheLimitIsA400) {
  create_stream("pr", 1);
  for (int i = 0; i < 1000; ++i) {
    auto r = kinesis("PutRecord", {{"StreamName", "pr"}, {"PartitionKey", "k"}, {"Data", b64("x")}});
    ASSERT_EQ(r.status, 200) << i << " " << r.raw;
  }
  auto r = kinesis("PutRecord", {{"StreamName", "pr"}, {"PartitionKey", "k"}, {"Data", b64("x")}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(r.message(), rate_exceeded("pr"));
  EXPECT_EQ(r.http.header("x-amzn-errortype"), "ProvisionedThroughputExceededException");
  clock().advance_ms(1);
  EXPECT_EQ(kinesis("PutRecord", {{"StreamName", "pr"}, {"PartitionKey", "k"}, {"Data", b64("x")}}).status, 200);
  EXPECT_EQ(read_back("pr").size(), 1001u);
}

TEST_F(ThrottleAws, BytesCountPartitionKeyAndData) {
  create_stream("bytes", 1);
  // 1 MiB per second: ten records of 104857 bytes (1-byte key + data) fit, an eleventh doesn't.
  json recs = json::array();
  for (int i = 0; i < 11; ++i) recs.push_back({{"PartitionKey", "k"}, {"Data", b64(std::string(104856, 'a'))}});
  auto out = ok("PutRecords", {{"StreamName", "bytes"}, {"Records", recs}});
  EXPECT_EQ(out["FailedRecordCount"], 1);
  EXPECT_TRUE(out["Records"][10].contains("ErrorCode"));
  // The records budget is untouched by the refusal: small records still go.
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "bytes"}, {"Records", entries(1, "k", 5)}})["FailedRecordCount"], 0);
}

TEST_F(ThrottleAws, ShardsHaveTheirOwnBudgets) {
  create_stream("two", 2);
  // Explicit hash keys pin entries to shard 0 (low half) and shard 1 (high half).
  json recs = json::array();
  for (int i = 0; i < 500; ++i) {
    recs.push_back({{"PartitionKey", "k"}, {"ExplicitHashKey", "0"}, {"Data", b64("d")}});
  }
  ok("PutRecords", {{"StreamName", "two"}, {"Records", recs}});
  ok("PutRecords", {{"StreamName", "two"}, {"Records", recs}});
  auto zero = ok("PutRecords", {{"StreamName", "two"}, {"Records", recs}});
  EXPECT_EQ(zero["FailedRecordCount"], 500);
  for (auto& r : recs) r["ExplicitHashKey"] = "340282366920938463463374607431768211455";
  auto one = ok("PutRecords", {{"StreamName", "two"}, {"Records", recs}});
  EXPECT_EQ(one["FailedRecordCount"], 0);
  EXPECT_EQ(one["Records"][0]["ShardId"], shard_id(1));
}

TEST_F(ThrottleAws, SixthGetRecordsInOneSecondIsThrottled) {
  create_stream("rd", 1);
  ok("PutRecord", {{"StreamName", "rd"}, {"PartitionKey", "k"}, {"Data", b64("x")}});
  auto it = ok("GetShardIterator", {{"StreamName", "rd"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "TRIM_HORIZON"}})
                ["ShardIterator"]
                    .get<std::string>();
  for (int i = 0; i < 5; ++i) {
    auto r = ok("GetRecords", {{"ShardIterator", it}});
    it = r["NextShardIterator"].get<std::string>();
  }
  auto sixth = kinesis("GetRecords", {{"ShardIterator", it}});
  EXPECT_EQ(sixth.status, 400);
  EXPECT_EQ(sixth.type(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(sixth.message(), rate_exceeded("rd"));
  clock().advance_ms(199);
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 400);
  clock().advance_ms(1);  // 200 ms: one call's worth at 5 per second
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 200);
  clock().advance_ms(1000);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 200) << i;
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 400);
  EXPECT_EQ(admin("GET", "/_eddy/throttle", nullptr)["throttled"]["read_calls"], 3);
}

TEST_F(ThrottleAws, ATenMiBResponseBlocksTheShardForFiveSeconds) {
  create_stream("big", 1);
  // Let the 10 MiB in quickly: a per-stream override raises the write limit.
  admin("PUT", "/_eddy/throttle/streams/big", {{"write_bytes_per_sec", 20 * 1024 * 1024}});
  for (int call = 0; call < 2; ++call)  // 1 MiB records: a 1-byte key and 1 MiB - 1 of data
    ASSERT_EQ(ok("PutRecords", {{"StreamName", "big"}, {"Records", entries(5, "k", 1024 * 1024 - 1)}})["FailedRecordCount"], 0);
  auto it = iterator("big", 0, "TRIM_HORIZON");
  auto r = ok("GetRecords", {{"ShardIterator", it}});
  ASSERT_EQ(r["Records"].size(), 10u);  // exactly 10 MiB of key + data
  it = r["NextShardIterator"].get<std::string>();
  clock().advance_ms(4999);
  auto blocked = kinesis("GetRecords", {{"ShardIterator", it}});
  EXPECT_EQ(blocked.status, 400);
  EXPECT_EQ(blocked.type(), "ProvisionedThroughputExceededException");
  clock().advance_ms(1);
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 200);
}

TEST_F(ThrottleAws, ReadBytesBudgetIsTwoMiBPerSecond) {
  create_stream("rb", 1);
  admin("PUT", "/_eddy/throttle/streams/rb", {{"write_bytes_per_sec", 8 * 1024 * 1024}});
  ASSERT_EQ(ok("PutRecords", {{"StreamName", "rb"}, {"Records", entries(3, "k", 1024 * 1024 - 1)}})["FailedRecordCount"], 0);
  auto it = iterator("rb", 0, "TRIM_HORIZON");
  auto r = ok("GetRecords", {{"ShardIterator", it}});  // 3 MiB: 1 MiB over the budget
  ASSERT_EQ(r["Records"].size(), 3u);
  it = r["NextShardIterator"].get<std::string>();
  clock().advance_ms(500);
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 400);
  clock().advance_ms(1);  // the 1 MiB debt is repaid after 500 ms at 2 MiB/s
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it}}).status, 200);
}

TEST_F(ThrottleAws, ControlPlaneLimitsGiveLimitExceeded) {
  create_stream("cp", 2);
  // DescribeStream: 10 per second per account.
  for (int i = 0; i < 10; ++i) ASSERT_EQ(kinesis("DescribeStream", {{"StreamName", "cp"}}).status, 200) << i;
  auto r = kinesis("DescribeStream", {{"StreamName", "cp"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "LimitExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for stream cp under account " + account() + ".");
  // ListStreams: 5 per second, no stream in the call: the account-wide wording.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(kinesis("ListStreams", json::object()).status, 200) << i;
  r = kinesis("ListStreams", json::object());
  EXPECT_EQ(r.type(), "LimitExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for account " + account() + ".");
  // GetShardIterator: 5 per second per shard.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(kinesis("GetShardIterator", {{"StreamName", "cp"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "LATEST"}})
                  .status,
              200);
  EXPECT_EQ(kinesis("GetShardIterator", {{"StreamName", "cp"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "LATEST"}})
                .type(),
            "LimitExceededException");
  EXPECT_EQ(kinesis("GetShardIterator", {{"StreamName", "cp"}, {"ShardId", shard_id(1)}, {"ShardIteratorType", "LATEST"}})
                .status,
            200);
  // CreateStream: 5 per second per account (one was used by create_stream above).
  for (int i = 0; i < 4; ++i) ASSERT_EQ(kinesis("CreateStream", {{"StreamName", "c" + std::to_string(i)}, {"ShardCount", 1}}).status, 200);
  r = kinesis("CreateStream", {{"StreamName", "c9"}, {"ShardCount", 1}});
  EXPECT_EQ(r.type(), "LimitExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for stream c9 under account " + account() + ".");
  // DescribeLimits: 1 per second.
  EXPECT_EQ(kinesis("DescribeLimits", json::object()).status, 200);
  EXPECT_EQ(kinesis("DescribeLimits", json::object()).type(), "LimitExceededException");
  clock().advance_ms(1000);
  EXPECT_EQ(kinesis("DescribeStream", {{"StreamName", "cp"}}).status, 200);
  EXPECT_EQ(kinesis("ListStreams", json::object()).status, 200);
  EXPECT_EQ(kinesis("DescribeLimits", json::object()).status, 200);
  EXPECT_EQ(admin("GET", "/_eddy/throttle", nullptr)["throttled"]["control_plane"].get<int>(), 5);
}

TEST_F(ThrottleAws, UpdateShardCountTenTimesPerRollingDay) {
  create_stream("usc", 1);
  for (int i = 0; i < 10; ++i) {
    int target = i % 2 == 0 ? 2 : 1;
    auto r = kinesis("UpdateShardCount", {{"StreamName", "usc"}, {"TargetShardCount", target}, {"ScalingType", "UNIFORM_SCALING"}});
    ASSERT_EQ(r.status, 200) << i << r.raw;
    clock().advance_ms(1000);
  }
  // Ten calls at t0 .. t0+9 s. A rolling window, not a refilling bucket: the 11th is refused
  // until the first call is 24 h old, then exactly one more fits until the second one is.
  auto usc = [&](int target) {
    return kinesis("UpdateShardCount", {{"StreamName", "usc"}, {"TargetShardCount", target}, {"ScalingType", "UNIFORM_SCALING"}});
  };
  auto r = usc(2);
  EXPECT_EQ(r.type(), "LimitExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for stream usc under account " + account() + ".");
  const int64_t day = 24LL * 3600 * 1000;
  clock().advance_ms(day / 10);  // 2.4 h: a token bucket would have refilled one call
  EXPECT_EQ(usc(2).type(), "LimitExceededException");
  // t0 + 23 h 59 m: still ten calls in the last 24 h.
  clock().advance_ms(day - 60 * 1000 - day / 10 - 10 * 1000);
  EXPECT_EQ(usc(2).type(), "LimitExceededException");
  // t0 + 24 h: the first call has left the window.
  clock().advance_ms(60 * 1000);
  r = usc(2);
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(usc(1).type(), "LimitExceededException");
  clock().advance_ms(1000);  // t0 + 24 h + 1 s: the second call has left it too
  r = usc(1);
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(admin("GET", "/_eddy/throttle", nullptr)["throttled"]["control_plane"].get<int>(), 4);
}

TEST_F(ThrottleAws, PerStreamOverridesAtRuntime) {
  create_stream("slow", 1);
  create_stream("free", 1);
  auto s = admin("PUT", "/_eddy/throttle/streams/slow", {{"write_records_per_sec", 10}, {"read_calls_per_sec", 1}});
  EXPECT_EQ(s["name"], "slow");
  EXPECT_EQ(s["mode"], "aws");
  EXPECT_EQ(s["limits"]["write_records_per_sec"], 10);
  EXPECT_EQ(s["limits"]["write_bytes_per_sec"], 1024 * 1024);
  EXPECT_EQ(s["override"], json({{"write_records_per_sec", 10}, {"read_calls_per_sec", 1}}));
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "slow"}, {"Records", entries(20, "k", 3)}})["FailedRecordCount"], 10);

  admin("PUT", "/_eddy/throttle/streams/free", {{"mode", "off"}});
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(ok("PutRecords", {{"StreamName", "free"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);

  // Persisted with the stream.
  auto stream = app_->kinesis().find_stream_by_name("slow");
  ASSERT_TRUE(stream);
  {
    std::lock_guard lk(stream->mu);
    EXPECT_EQ(json::parse(stream->throttle_json), json({{"write_records_per_sec", 10}, {"read_calls_per_sec", 1}}));
  }
  auto one = admin("GET", "/_eddy/throttle/streams/slow", nullptr);
  EXPECT_EQ(one["write_throttled"], 10);

  // Dropping the override restores the defaults (and a fresh, full bucket).
  auto d = admin("DELETE", "/_eddy/throttle/streams/slow", nullptr);
  EXPECT_TRUE(d["override"].is_null());
  EXPECT_EQ(d["limits"]["write_records_per_sec"], 1000);
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "slow"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);

  // Errors.
  admin("PUT", "/_eddy/throttle/streams/nope", {{"mode", "aws"}}, 404);
  auto bad = admin("PUT", "/_eddy/throttle/streams/slow", {{"write_records_per_sec", 0}}, 400);
  EXPECT_NE(bad["error"].get<std::string>().find("write_records_per_sec"), std::string::npos);
  admin("PUT", "/_eddy/throttle/streams/slow", {{"mode", "fast"}}, 400);
  admin("PUT", "/_eddy/throttle/streams/slow", {{"speed", 1}}, 400);
}

TEST_F(ThrottleAws, GlobalModeSwitchesAtRuntime) {
  create_stream("g", 1);
  admin("PUT", "/_eddy/throttle", {{"mode", "off"}});
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(ok("PutRecords", {{"StreamName", "g"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);
  auto t = admin("PUT", "/_eddy/throttle", {{"mode", "aws"}});
  EXPECT_EQ(t["mode"], "aws");
  ok("PutRecords", {{"StreamName", "g"}, {"Records", entries(500, "k", 3)}});
  ok("PutRecords", {{"StreamName", "g"}, {"Records", entries(500, "k", 3)}});
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "g"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 500);
  admin("PUT", "/_eddy/throttle", {{"mode", "sometimes"}}, 400);
}

TEST_F(ThrottleAws, OnDemandStreamsUseStreamLevelCapacity) {
  auto r = kinesis("CreateStream", {{"StreamName", "od"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  auto s = admin("GET", "/_eddy/throttle/streams/od", nullptr);
  EXPECT_EQ(s["scope"], "stream");
  EXPECT_EQ(s["limits"]["write_records_per_sec"], 4000);
  EXPECT_EQ(s["limits"]["write_bytes_per_sec"], 4 * 1024 * 1024);
  EXPECT_EQ(s["limits"]["read_bytes_per_sec"], 8 * 1024 * 1024);
  // Random keys spread over all shards; the stream as a whole takes 4000 records a second.
  int accepted = 0;
  for (int call = 0; call < 10; ++call) {
    json recs = json::array();
    for (int i = 0; i < 500; ++i) recs.push_back({{"PartitionKey", "key-" + std::to_string(call * 500 + i)}, {"Data", b64("d")}});
    auto out = ok("PutRecords", {{"StreamName", "od"}, {"Records", recs}});
    accepted += 500 - out["FailedRecordCount"].get<int>();
  }
  EXPECT_EQ(accepted, 4000);
}

TEST_F(ThrottleAws, CborClientsSeeTheSamePerEntryShape) {
  create_stream("cb", 1);
  ok("PutRecords", {{"StreamName", "cb"}, {"Records", entries(500, "k", 3)}});
  ok("PutRecords", {{"StreamName", "cb"}, {"Records", entries(500, "k", 3)}});
  json recs = json::array();
  auto bin = json::binary({'a', 'b'});
  recs.push_back({{"PartitionKey", "k"}, {"Data", bin}});
  auto r = kinesis_cbor("PutRecords", {{"StreamName", "cb"}, {"Records", recs}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["FailedRecordCount"], 1);
  EXPECT_EQ(r.body["Records"][0]["ErrorCode"], "ProvisionedThroughputExceededException");
  EXPECT_EQ(r.body["Records"][0]["ErrorMessage"], rate_exceeded("cb"));
}

TEST_F(ThrottleOff, OffByDefaultAndPerStreamAwsOverride) {
  create_stream("o", 1);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(ok("PutRecords", {{"StreamName", "o"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(kinesis("DescribeStream", {{"StreamName", "o"}}).status, 200);
  EXPECT_EQ(admin("GET", "/_eddy/throttle", nullptr)["mode"], "off");
  admin("PUT", "/_eddy/throttle/streams/o", {{"mode", "aws"}});
  ok("PutRecords", {{"StreamName", "o"}, {"Records", entries(500, "k", 3)}});
  ok("PutRecords", {{"StreamName", "o"}, {"Records", entries(500, "k", 3)}});
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "o"}, {"Records", entries(1, "k", 3)}})["FailedRecordCount"], 1);
}

namespace {
class ThrottleFromConfig : public LimitsFixture {
 protected:
  void tune(eddy::Config& c) override { c.throttle_streams = {"cfg:mode=aws,write_records_per_sec=7"}; }
};
}  // namespace

TEST_F(ThrottleFromConfig, ConfigOverridesApplyByName) {
  create_stream("cfg", 1);
  create_stream("other", 1);
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "cfg"}, {"Records", entries(10, "k", 3)}})["FailedRecordCount"], 3);
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "other"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);
  auto s = admin("GET", "/_eddy/throttle/streams/cfg", nullptr);
  EXPECT_EQ(s["config_override"], json({{"mode", "aws"}, {"write_records_per_sec", 7}}));
}

TEST(ThrottleConfig, InvalidStreamSpecStopsStartUp) {
  eddy::Config c;
  c.in_memory = true;
  c.port = 0;
  c.throttle_streams = {"x:write_records_per_sec=lots"};
  eddy::App app(c);
  std::string error;
  EXPECT_FALSE(app.start(&error));
  EXPECT_NE(error.find("throttle-stream"), std::string::npos) << error;
}

// A consumer named by its ARN alone spends its stream's budget (DescribeStreamConsumer: 20/s per
// stream), not another stream's; RegisterStreamConsumer's 5/s is the account's.
TEST_F(ThrottleAws, ConsumerCallsByArnCountAgainstTheirStream) {
  create_stream("ca", 1);
  create_stream("cb", 1);
  std::vector<std::string> arns;
  for (int i = 0; i < 5; ++i)
    arns.push_back(ok("RegisterStreamConsumer", {{"StreamARN", arn(i < 3 ? "ca" : "cb")}, {"ConsumerName", "k" + std::to_string(i)}})
                       ["Consumer"]["ConsumerARN"]);
  auto r = kinesis("RegisterStreamConsumer", {{"StreamARN", arn("cb")}, {"ConsumerName", "k5"}});
  EXPECT_EQ(r.type(), "LimitExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for stream cb under account " + account() + ".");
  for (int i = 0; i < 20; ++i) ok("DescribeStreamConsumer", {{"ConsumerARN", arns[i % 3]}});
  r = kinesis("DescribeStreamConsumer", {{"ConsumerARN", arns[0]}});
  EXPECT_EQ(r.type(), "LimitExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for stream ca under account " + account() + ".");
  ok("DescribeStreamConsumer", {{"ConsumerARN", arns[3]}});  // cb's own budget
  clock().advance_ms(1000);
  ok("DescribeStreamConsumer", {{"ConsumerARN", arns[0]}});
  ok("RegisterStreamConsumer", {{"StreamARN", arn("cb")}, {"ConsumerName", "k5"}});
}

// Every operation in the control-plane table (docs/throttling.md), driven from the table the
// server enforces: `calls` are allowed at one instant, the next is LimitExceededException, and
// after `period_ms` on the manual clock the call is allowed again. The scope is checked too: a
// per-account budget is spent for every stream, a per-stream one only for its stream, a
// per-shard one only for its shard. An operation added to the table without a row here fails.
TEST_F(ThrottleAws, EveryControlPlaneLimitInTheTable) {
  create_stream("t", 2);
  create_stream("t2", 2);
  create_stream("u", 1);
  create_stream("u2", 1);
  const json metrics = json::array({"IncomingBytes"});
  const json kms = {{"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}};
  auto with = [](json a, const json& b) {
    a.update(b);
    return a;
  };
  // A valid request for call i against stream s (the scope check repeats it on another stream).
  std::map<std::string, std::function<json(int, const std::string&)>> requests = {
      {"AddTagsToStream", [](int i, auto& s) { return json{{"StreamName", s}, {"Tags", {{"k" + std::to_string(i % 40), "v"}}}}; }},
      {"CreateStream", [](int i, auto& s) { return json{{"StreamName", s + "-new-" + std::to_string(i)}, {"ShardCount", 1}}; }},
      {"DecreaseStreamRetentionPeriod", [](int, auto& s) { return json{{"StreamName", s}, {"RetentionPeriodHours", 24}}; }},
      {"DeleteStream", [](int i, auto& s) { return json{{"StreamName", s + "-absent-" + std::to_string(i)}}; }},
      {"DeregisterStreamConsumer", [&](int, auto& s) { return json{{"StreamARN", arn(s)}, {"ConsumerName", "absent"}}; }},
      {"DescribeAccountSettings", [](int, auto&) { return json::object(); }},
      {"DescribeLimits", [](int, auto&) { return json::object(); }},
      {"DescribeStreamConsumer", [&](int, auto& s) { return json{{"StreamARN", arn(s)}, {"ConsumerName", "absent"}}; }},
      {"ListStreamConsumers", [&](int, auto& s) { return json{{"StreamARN", arn(s)}}; }},
      {"RegisterStreamConsumer", [&](int i, auto& s) { return json{{"StreamARN", arn(s)}, {"ConsumerName", "c" + std::to_string(i)}}; }},
      {"UpdateAccountSettings", [](int, auto&) { return json{{"MinimumThroughputBillingCommitment", {{"Status", "DISABLED"}}}}; }},
      {"UpdateStreamWarmThroughput", [](int, auto& s) { return json{{"StreamName", s}, {"WarmThroughputMiBps", 10}}; }},
      {"DescribeStream", [](int, auto& s) { return json{{"StreamName", s}}; }},
      {"DescribeStreamSummary", [](int, auto& s) { return json{{"StreamName", s}}; }},
      {"DisableEnhancedMonitoring", [&](int, auto& s) { return json{{"StreamName", s}, {"ShardLevelMetrics", metrics}}; }},
      {"EnableEnhancedMonitoring", [&](int, auto& s) { return json{{"StreamName", s}, {"ShardLevelMetrics", metrics}}; }},
      {"GetShardIterator", [](int, auto& s) { return json{{"StreamName", s}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "LATEST"}}; }},
      {"IncreaseStreamRetentionPeriod", [](int, auto& s) { return json{{"StreamName", s}, {"RetentionPeriodHours", 48}}; }},
      {"ListShards", [](int, auto& s) { return json{{"StreamName", s}}; }},
      {"ListStreams", [](int, auto&) { return json::object(); }},
      {"ListTagsForStream", [](int, auto& s) { return json{{"StreamName", s}}; }},
      {"MergeShards", [](int, auto& s) { return json{{"StreamName", s + "-absent"}, {"ShardToMerge", shard_id(0)}, {"AdjacentShardToMerge", shard_id(1)}}; }},
      {"RemoveTagsFromStream", [](int i, auto& s) { return json{{"StreamName", s}, {"TagKeys", {"k" + std::to_string(i % 40)}}}; }},
      {"SplitShard", [](int, auto& s) { return json{{"StreamName", s + "-absent"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1"}}; }},
      {"StartStreamEncryption", [&](int, auto& s) { return with(json{{"StreamName", s}}, kms); }},
      {"StopStreamEncryption", [&](int, auto& s) { return with(json{{"StreamName", s}}, kms); }},
      {"UpdateShardCount", [](int i, auto& s) { return json{{"StreamName", s}, {"TargetShardCount", i % 2 == 0 ? 2 : 1}, {"ScalingType", "UNIFORM_SCALING"}}; }},
  };
  // UpdateShardCount and the encryption calls reshape/update their stream: keep them on u, u2.
  auto stream_for = [](std::string_view op) { return op == "UpdateShardCount" ? std::string("u") : std::string("t"); };
  auto other_for = [](std::string_view op) { return op == "UpdateShardCount" ? std::string("u2") : std::string("t2"); };

  size_t n = 0;
  const auto* table = eddy::limits::operation_limits(&n);
  ASSERT_EQ(n, 27u) << "docs/throttling.md's table lists 27 operations";
  int refused = 0;
  for (size_t k = 0; k < n; ++k) {
    const auto& limit = table[k];
    const std::string op(limit.operation);
    SCOPED_TRACE(op);
    auto req = requests.find(op);
    ASSERT_NE(req, requests.end()) << "no request for " << op << " in this test";
    clock().advance_ms(limit.period_ms + 1000);  // every earlier budget is whole again
    const std::string s = stream_for(op), s2 = other_for(op);
    for (uint64_t i = 0; i < limit.amount; ++i) {
      auto r = kinesis(op, req->second(static_cast<int>(i), s));
      ASSERT_NE(r.type(), "LimitExceededException") << "call " << i + 1 << " of " << limit.amount << ": " << r.raw;
    }
    auto r = kinesis(op, req->second(static_cast<int>(limit.amount), s));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.type(), "LimitExceededException") << "call " << limit.amount + 1 << ": " << r.raw;
    ++refused;
    // Scope.
    if (limit.scope == eddy::limits::LimitScope::shard) {
      json other = req->second(0, s);
      other["ShardId"] = shard_id(1);
      EXPECT_NE(kinesis(op, other).type(), "LimitExceededException") << "another shard's budget was spent";
    } else if (op != "DescribeLimits" && op != "ListStreams" && op != "DescribeAccountSettings" &&
               op != "UpdateAccountSettings") {
      auto o = kinesis(op, req->second(static_cast<int>(limit.amount) + 1, s2));
      if (limit.scope == eddy::limits::LimitScope::account) {
        EXPECT_EQ(o.type(), "LimitExceededException") << "an account budget must cover every stream: " << o.raw;
        ++refused;
      } else {
        EXPECT_NE(o.type(), "LimitExceededException") << "another stream's budget was spent: " << o.raw;
      }
    }
    // One period later (a second, or 24 h for the rolling windows) the call is allowed again.
    clock().advance_ms(limit.period_ms);
    r = kinesis(op, req->second(static_cast<int>(limit.amount) + 2, s));
    EXPECT_NE(r.type(), "LimitExceededException") << "still refused one period later: " << r.raw;
  }
  EXPECT_EQ(admin("GET", "/_eddy/throttle", nullptr)["throttled"]["control_plane"].get<int>(), refused);
}

// docs/throttling.md: "The override is saved with the stream and survives a restart."
TEST_F(ThrottleAwsOnDisk, PerStreamOverrideSurvivesARestart) {
  create_stream("slow", 1);
  create_stream("plain", 1);
  admin("PUT", "/_eddy/throttle/streams/slow", {{"write_records_per_sec", 10}, {"mode", "aws"}});
  restart();
  auto one = admin("GET", "/_eddy/throttle/streams/slow", nullptr);
  EXPECT_EQ(one["override"], json({{"write_records_per_sec", 10}, {"mode", "aws"}}));
  EXPECT_EQ(one["limits"]["write_records_per_sec"], 10);
  // Enforced after the restart: 10 of 20 accepted; the stream without an override keeps 1000.
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "slow"}, {"Records", entries(20, "k", 3)}})["FailedRecordCount"], 10);
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "plain"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);
  EXPECT_TRUE(admin("GET", "/_eddy/throttle/streams/plain", nullptr)["override"].is_null());
  // Cleared, restarted: gone for good.
  admin("DELETE", "/_eddy/throttle/streams/slow", nullptr);
  restart();
  EXPECT_TRUE(admin("GET", "/_eddy/throttle/streams/slow", nullptr)["override"].is_null());
  EXPECT_EQ(ok("PutRecords", {{"StreamName", "slow"}, {"Records", entries(500, "k", 3)}})["FailedRecordCount"], 0);
}

// --faults FILE is loaded at every start: runtime changes last until the restart, which gives
// back exactly the file's rules (docs/throttling.md).
TEST_F(ThrottleAwsOnDisk, FaultRulesFromTheFileComeBackAfterARestart) {
  auto f = admin("GET", "/_eddy/faults", nullptr);
  ASSERT_EQ(f["rules"].size(), 1u) << f.dump();
  EXPECT_EQ(f["rules"][0]["id"], "hot");
  EXPECT_EQ(http("GET", "/b/x").status, 503);
  admin("PUT", "/_eddy/faults", json::array({json{{"id", "runtime"}, {"bucket", "c"}, {"action", "error"}, {"error_code", "SlowDown"}}}));
  EXPECT_NE(http("GET", "/b/x").status, 503);
  restart();
  f = admin("GET", "/_eddy/faults", nullptr);
  ASSERT_EQ(f["rules"].size(), 1u) << f.dump();
  EXPECT_EQ(f["rules"][0]["id"], "hot");
  EXPECT_EQ(f["rules"][0]["fired"], 0);
  EXPECT_EQ(f["seed"], 3);
  EXPECT_EQ(http("GET", "/b/x").status, 503);
  EXPECT_NE(http("GET", "/c/x").status, 503);
}

// ON_DEMAND byte budgets (docs/throttling.md): 4 MiB/s in and 8 MiB/s out for the whole stream,
// shared by its shards, on the manual clock.
TEST_F(ThrottleAws, OnDemandByteBudgetsAreSharedByTheStreamsShards) {
  ASSERT_EQ(kinesis("CreateStream", {{"StreamName", "odb"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}}).status, 200);
  const size_t kib = 1024, mib = 1024 * kib;
  // The start of shard i of 4 (even split of 2^128).
  auto ehk_of = [](int shard) {
    static const char* starts[] = {"0", "85070591730234615865843651857942052864", "170141183460469231731687303715884105728",
                                   "255211775190703847597530955573826158592"};
    return std::string(starts[shard]);
  };
  // Writes: records of exactly 256 KiB (key + data) over shards 0..3: 16 fit the 4 MiB budget,
  // whatever shard they go to, the 17th and 18th do not.
  json recs = json::array();
  for (int i = 0; i < 18; ++i)
    recs.push_back({{"PartitionKey", "k"}, {"ExplicitHashKey", ehk_of(i % 4)}, {"Data", b64(std::string(256 * kib - 1, 'w'))}});
  auto out = ok("PutRecords", {{"StreamName", "odb"}, {"Records", recs}});
  EXPECT_EQ(out["FailedRecordCount"], 2);
  std::set<std::string> shards_used;
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_FALSE(out["Records"][i].contains("ErrorCode")) << i;
    shards_used.insert(out["Records"][i].value("ShardId", ""));
  }
  EXPECT_EQ(shards_used.size(), 4u);
  EXPECT_EQ(out["Records"][16]["ErrorCode"], "ProvisionedThroughputExceededException");
  EXPECT_EQ(out["Records"][17]["ErrorCode"], "ProvisionedThroughputExceededException");
  // Reads: 6 MiB from shard 0 and 3 MiB from shard 1 leave the stream 1 MiB in debt at 8 MiB/s:
  // shard 2's reads are refused for the next 125 ms.
  clock().advance_ms(1000);
  admin("PUT", "/_eddy/throttle/streams/odb", {{"write_bytes_per_sec", 64 * 1024 * 1024}});
  auto fill = [&](int shard, int n) {
    json r = json::array();
    for (int i = 0; i < n; ++i) r.push_back({{"PartitionKey", "k"}, {"ExplicitHashKey", ehk_of(shard)}, {"Data", b64(std::string(mib - 1, 'r'))}});
    ASSERT_EQ(ok("PutRecords", {{"StreamName", "odb"}, {"Records", r}})["FailedRecordCount"], 0);
  };
  auto drain = [&](int shard) {  // reads the 256 KiB records of the first phase out of the way
    auto it = ok("GetShardIterator", {{"StreamName", "odb"}, {"ShardId", shard_id(shard)}, {"ShardIteratorType", "LATEST"}})["ShardIterator"];
    return it.get<std::string>();
  };
  std::string it0 = drain(0), it1 = drain(1), it2 = drain(2);
  fill(0, 4);
  fill(0, 2);
  fill(1, 3);
  clock().advance_ms(1000);  // the read budget is whole: 8 MiB
  auto r0 = ok("GetRecords", {{"ShardIterator", it0}});
  EXPECT_EQ(r0["Records"].size(), 6u);
  auto r1 = ok("GetRecords", {{"ShardIterator", it1}});
  EXPECT_EQ(r1["Records"].size(), 3u);
  auto refused = kinesis("GetRecords", {{"ShardIterator", it2}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.type(), "ProvisionedThroughputExceededException");
  clock().advance_ms(124);
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it2}}).status, 400);
  clock().advance_ms(2);
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it2}}).status, 200);
}
