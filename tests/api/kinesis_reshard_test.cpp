// SplitShard, MergeShards, UpdateShardCount: shard lineage, routing after a reshard, reading
// a closed shard to its end (ChildShards), and ListShards filters.
#include <gtest/gtest.h>

#include "tests/support/kinesis_fixture.h"
#include "wire/hash_key.h"

using namespace eddy::test;
using nlohmann::json;
namespace wire = eddy::wire;

namespace {
const std::string kHalfMinus1 = "170141183460469231731687303715884105727";

std::vector<std::string> ids(const json& shards) {
  std::vector<std::string> out;
  for (auto& s : shards) out.push_back(s["ShardId"]);
  return out;
}
}  // namespace

class KinesisReshard : public KinesisFixture {};

TEST_F(KinesisReshard, SplitClosesTheParentAndRoutesToChildren) {
  create_stream("sp", 1);
  std::string last;
  for (int i = 0; i < 3; ++i) last = put("sp", "k" + std::to_string(i), "before")["SequenceNumber"];
  auto latest_before = iterator("sp", 0, "LATEST");
  ok("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", kHalf}});
  auto d = ok("DescribeStream", {{"StreamName", "sp"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 3u);
  auto s0 = d["Shards"][0], s1 = d["Shards"][1], s2 = d["Shards"][2];
  EXPECT_EQ(s0["SequenceNumberRange"]["EndingSequenceNumber"], last);
  EXPECT_EQ(s1["ParentShardId"], shard_id(0));
  EXPECT_EQ(s2["ParentShardId"], shard_id(0));
  EXPECT_FALSE(s1.contains("AdjacentParentShardId"));
  EXPECT_EQ(s1["HashKeyRange"], json({{"StartingHashKey", "0"}, {"EndingHashKey", kHalfMinus1}}));
  EXPECT_EQ(s2["HashKeyRange"], json({{"StartingHashKey", kHalf}, {"EndingHashKey", kMax}}));
  EXPECT_FALSE(s1["SequenceNumberRange"].contains("EndingSequenceNumber"));

  EXPECT_EQ(put("sp", "x", "a", {{"ExplicitHashKey", "0"}})["ShardId"], shard_id(1));
  EXPECT_EQ(put("sp", "x", "b", {{"ExplicitHashKey", kHalfMinus1}})["ShardId"], shard_id(1));
  EXPECT_EQ(put("sp", "x", "c", {{"ExplicitHashKey", kHalf}})["ShardId"], shard_id(2));
  for (int i = 0; i < 50; ++i) {
    std::string pk = "p" + std::to_string(i);
    bool low = wire::hash_key_of_partition_key(pk) <= *wire::parse_u128(kHalfMinus1);
    EXPECT_EQ(put("sp", pk, "v")["ShardId"], shard_id(low ? 1 : 2));
  }

  // Reading the closed parent to its end: the records, then no NextShardIterator and the children.
  auto r = ok("GetRecords", {{"ShardIterator", iterator("sp", 0, "TRIM_HORIZON")}});
  EXPECT_EQ(r["Records"].size(), 3u);
  EXPECT_FALSE(r.contains("NextShardIterator"));
  ASSERT_TRUE(r.contains("ChildShards"));
  EXPECT_EQ(r["ChildShards"], json::parse(R"([
    {"ShardId":"shardId-000000000001","ParentShards":["shardId-000000000000"],
     "HashKeyRange":{"StartingHashKey":"0","EndingHashKey":")" + kHalfMinus1 + R"("}},
    {"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],
     "HashKeyRange":{"StartingHashKey":")" + kHalf + R"(","EndingHashKey":")" + kMax + R"("}}])"));
  // A reader paging with Limit gets the children only on its last page.
  r = ok("GetRecords", {{"ShardIterator", iterator("sp", 0, "TRIM_HORIZON")}, {"Limit", 2}});
  EXPECT_EQ(r["Records"].size(), 2u);
  EXPECT_TRUE(r["NextShardIterator"].is_string());
  EXPECT_FALSE(r.contains("ChildShards"));
  r = ok("GetRecords", {{"ShardIterator", r["NextShardIterator"]}, {"Limit", 2}});
  EXPECT_EQ(r["Records"].size(), 1u);
  EXPECT_FALSE(r.contains("NextShardIterator"));
  EXPECT_EQ(r["ChildShards"].size(), 2u);
  // An iterator taken at the tip before the split ends straight away.
  r = ok("GetRecords", {{"ShardIterator", latest_before}});
  EXPECT_EQ(r["Records"].size(), 0u);
  EXPECT_FALSE(r.contains("NextShardIterator"));
  EXPECT_EQ(r["ChildShards"].size(), 2u);
  // AT_SEQUENCE_NUMBER into the closed shard still works.
  EXPECT_EQ(read_all(iterator("sp", 0, "AT_SEQUENCE_NUMBER", {{"StartingSequenceNumber", last}})).size(), 1u);
}

TEST_F(KinesisReshard, SplitErrors) {
  create_stream("se", 2);
  fails("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1"}},
        "InvalidArgumentException",
        "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream se under account " + kAccount +
            " is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey " +
            kHalfMinus1 + ".");
  fails("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", kHalfMinus1}},
        "InvalidArgumentException");
  fails("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", shard_id(9)}, {"NewStartingHashKey", "100"}},
        "ResourceNotFoundException",
        "Could not find shard shardId-000000000009 in stream se under account " + kAccount + ".");
  fails("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", "bogus"}, {"NewStartingHashKey", "100"}},
        "ResourceNotFoundException", "Could not find shard bogus in stream se under account " + kAccount + ".");
  fails("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", shard_id(0)}}, "ValidationException",
        "1 validation error detected: Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not "
        "be null");
  fails("SplitShard", {{"StreamName", "nope"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "100"}},
        "ResourceNotFoundException", not_found("nope"));
  ok("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "2"}});
  fails("SplitShard", {{"StreamName", "se"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "100"}},
        "InvalidArgumentException",
        "Shard shardId-000000000000 in stream se under account " + kAccount +
            " has already been merged or split, and thus is not eligible for merging or splitting.");
}

class KinesisReshardLimit : public KinesisFixture {
  void tune(eddy::Config& c) override { c.shard_limit = 3; }
};

TEST_F(KinesisReshardLimit, SplitAndUpdateRespectTheShardLimit) {
  create_stream("lim", 3);
  fails("SplitShard", {{"StreamName", "lim"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "100"}},
        "LimitExceededException",
        "This request would exceed the shard limit for the account " + kAccount +
            " in us-east-1. Current shard count for the account: 3. Limit: 3. Number of additional shards that would "
            "have resulted from this request: 1. Refer to the AWS Service Limits page "
            "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to "
            "request higher limits.");
  fails("UpdateShardCount", {{"StreamName", "lim"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}},
        "LimitExceededException",
        "Target shard count or number of open shards cannot be greater than 3. Current open shard count: 3, Target "
        "shard count: 4");
}

TEST_F(KinesisReshard, MergeAdjacentShards) {
  create_stream("mg", 3);
  auto a = put("mg", "x", "a", {{"ExplicitHashKey", "0"}})["SequenceNumber"];
  fails("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", shard_id(0)}, {"AdjacentShardToMerge", shard_id(2)}},
        "InvalidArgumentException",
        "Shards shardId-000000000000 and shardId-000000000002 in stream mg under account " + kAccount +
            " are not an adjacent pair of shards eligible for merging");
  fails("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", shard_id(0)}, {"AdjacentShardToMerge", shard_id(7)}},
        "ResourceNotFoundException", "Could not find shard shardId-000000000007 in stream mg under account " + kAccount + ".");
  fails("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", shard_id(0)}}, "ValidationException",
        "1 validation error detected: Value null at 'adjacentShardToMerge' failed to satisfy constraint: Member must "
        "not be null");
  ok("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", shard_id(0)}, {"AdjacentShardToMerge", shard_id(1)}});
  auto shards = ok("ListShards", {{"StreamName", "mg"}})["Shards"];
  ASSERT_EQ(shards.size(), 4u);
  auto m = shards[3];
  EXPECT_EQ(m["ShardId"], shard_id(3));
  EXPECT_EQ(m["ParentShardId"], shard_id(0));
  EXPECT_EQ(m["AdjacentParentShardId"], shard_id(1));
  EXPECT_EQ(m["HashKeyRange"]["StartingHashKey"], "0");
  EXPECT_EQ(m["HashKeyRange"]["EndingHashKey"], shards[1]["HashKeyRange"]["EndingHashKey"]);
  EXPECT_EQ(put("mg", "x", "b", {{"ExplicitHashKey", "0"}})["ShardId"], shard_id(3));
  auto r = ok("GetRecords", {{"ShardIterator", iterator("mg", 0, "TRIM_HORIZON")}});
  EXPECT_EQ(r["Records"].size(), 1u);
  EXPECT_EQ(r["Records"][0]["SequenceNumber"], a);
  EXPECT_FALSE(r.contains("NextShardIterator"));
  ASSERT_EQ(r["ChildShards"].size(), 1u);
  EXPECT_EQ(r["ChildShards"][0]["ShardId"], shard_id(3));
  EXPECT_EQ(r["ChildShards"][0]["ParentShards"], json({shard_id(0), shard_id(1)}));
  r = ok("GetRecords", {{"ShardIterator", iterator("mg", 1, "TRIM_HORIZON")}});
  EXPECT_EQ(r["ChildShards"][0]["ShardId"], shard_id(3));
  fails("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", shard_id(3)}, {"AdjacentShardToMerge", shard_id(1)}},
        "InvalidArgumentException",
        "Shard shardId-000000000001 in stream mg under account " + kAccount +
            " has already been merged or split, and thus is not eligible for merging or splitting.");
  // Order does not matter: the right-hand shard may come first.
  ok("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", shard_id(2)}, {"AdjacentShardToMerge", shard_id(3)}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "mg"}})["StreamDescriptionSummary"]["OpenShardCount"], 1);
}

TEST_F(KinesisReshard, UpdateShardCountUniformScaling) {
  create_stream("u", 2);
  auto out = ok("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}});
  EXPECT_EQ(out["StreamName"], "u");
  EXPECT_EQ(out["CurrentShardCount"], 2);
  EXPECT_EQ(out["TargetShardCount"], 4);
  EXPECT_EQ(out["StreamARN"], arn("u"));
  auto open = ok("ListShards", {{"StreamName", "u"}, {"ShardFilter", {{"Type", "AT_LATEST"}}}})["Shards"];
  ASSERT_EQ(open.size(), 4u);
  auto ranges = wire::even_split(4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(open[i]["ShardId"], shard_id(2 + i));
    EXPECT_EQ(open[i]["HashKeyRange"]["StartingHashKey"], wire::to_decimal(ranges[i].start));
    EXPECT_EQ(open[i]["HashKeyRange"]["EndingHashKey"], wire::to_decimal(ranges[i].end));
    EXPECT_EQ(open[i]["ParentShardId"], shard_id(i / 2));
  }
  for (int i = 0; i < 40; ++i) {
    std::string pk = "key" + std::to_string(i);
    auto k = wire::hash_key_of_partition_key(pk);
    int want = 0;
    for (int s = 0; s < 4; ++s)
      if (ranges[s].contains(k)) want = s;
    EXPECT_EQ(put("u", pk, "v")["ShardId"], shard_id(2 + want));
  }
  fails("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 9}, {"ScalingType", "UNIFORM_SCALING"}},
        "LimitExceededException",
        "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 4, "
        "Target shard count: 9");
  fails("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 1}, {"ScalingType", "UNIFORM_SCALING"}},
        "LimitExceededException",
        "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4, "
        "Target shard count: 1");
  fails("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 2}, {"ScalingType", "FAST"}}, "ValidationException",
        "1 validation error detected: Value 'FAST' at 'scalingType' failed to satisfy constraint: Member must satisfy "
        "enum value set: [UNIFORM_SCALING]");
  ok("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 2}, {"ScalingType", "UNIFORM_SCALING"}});
  open = ok("ListShards", {{"StreamName", "u"}, {"ShardFilter", {{"Type", "AT_LATEST"}}}})["Shards"];
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0]["ParentShardId"], shard_id(2));
  EXPECT_EQ(open[0]["AdjacentParentShardId"], shard_id(3));
  EXPECT_EQ(put("u", "x", "v", {{"ExplicitHashKey", kMax}})["ShardId"], open[1]["ShardId"]);
}

TEST_F(KinesisReshard, ListShardsFiltersAfterASplit) {
  create_stream("lf", 1);
  int64_t t0 = clock().now_ms();
  clock().advance_ms(3600'000);
  int64_t t1 = clock().now_ms();
  ok("SplitShard", {{"StreamName", "lf"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", kHalf}});
  clock().advance_ms(3600'000);
  int64_t t2 = clock().now_ms();
  auto list = [&](json filter) {
    return ids(ok("ListShards", {{"StreamName", "lf"}, {"ShardFilter", filter}})["Shards"]);
  };
  using V = std::vector<std::string>;
  const V all = {shard_id(0), shard_id(1), shard_id(2)}, parent = {shard_id(0)}, children = {shard_id(1), shard_id(2)};
  EXPECT_EQ(ids(ok("ListShards", {{"StreamName", "lf"}})["Shards"]), all);
  EXPECT_EQ(list({{"Type", "AT_LATEST"}}), children);
  EXPECT_EQ(list({{"Type", "AT_TRIM_HORIZON"}}), parent);
  EXPECT_EQ(list({{"Type", "FROM_TRIM_HORIZON"}}), all);
  EXPECT_EQ(list({{"Type", "AFTER_SHARD_ID"}, {"ShardId", shard_id(0)}}), children);
  EXPECT_EQ(list({{"Type", "AT_TIMESTAMP"}, {"Timestamp", (t0 + 60'000) / 1000.0}}), parent);
  EXPECT_EQ(list({{"Type", "AT_TIMESTAMP"}, {"Timestamp", t1 / 1000.0}}), all);
  EXPECT_EQ(list({{"Type", "AT_TIMESTAMP"}, {"Timestamp", t2 / 1000.0}}), children);
  EXPECT_EQ(list({{"Type", "FROM_TIMESTAMP"}, {"Timestamp", (t0 + 60'000) / 1000.0}}), all);
  EXPECT_EQ(list({{"Type", "FROM_TIMESTAMP"}, {"Timestamp", t2 / 1000.0}}), children);
  // After retention has passed over the parent's close, it drops out of the trim-horizon views.
  clock().advance_ms(24 * 3600'000LL);
  EXPECT_EQ(list({{"Type", "FROM_TRIM_HORIZON"}}), children);
  EXPECT_EQ(list({{"Type", "AT_TRIM_HORIZON"}}), children);
  EXPECT_EQ(list({{"Type", "FROM_TIMESTAMP"}, {"Timestamp", t0 / 1000.0}}), children);

  fails("ListShards", {{"StreamName", "lf"}, {"ShardFilter", {{"Type", "AFTER_SHARD_ID"}}}}, "InvalidArgumentException");
  fails("ListShards", {{"StreamName", "lf"}, {"ShardFilter", {{"Type", "AT_TIMESTAMP"}}}}, "InvalidArgumentException");
  fails("ListShards", {{"StreamName", "lf"}, {"ShardFilter", {{"Type", "NEWEST"}}}}, "ValidationException",
        "1 validation error detected: Value 'NEWEST' at 'shardFilter.type' failed to satisfy constraint: Member must "
        "satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, "
        "FROM_TIMESTAMP]");
  // A filter survives paging in the NextToken.
  auto p = ok("ListShards", {{"StreamName", "lf"}, {"MaxResults", 1}, {"ShardFilter", {{"Type", "AT_LATEST"}}}});
  EXPECT_EQ(ids(p["Shards"]), V{shard_id(1)});
  p = ok("ListShards", {{"NextToken", p["NextToken"]}});
  EXPECT_EQ(ids(p["Shards"]), V{shard_id(2)});
}

class KinesisUpdating : public KinesisFixture {
  void tune(eddy::Config& c) override { c.update_stream_ms = 1000; }
};

TEST_F(KinesisUpdating, ReshardsWaitWhileUpdating) {
  create_stream("up", 2);
  ok("SplitShard", {{"StreamName", "up"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1000"}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "up"}})["StreamDescriptionSummary"]["StreamStatus"], "UPDATING");
  fails("MergeShards", {{"StreamName", "up"}, {"ShardToMerge", shard_id(2)}, {"AdjacentShardToMerge", shard_id(3)}},
        "ResourceInUseException", "Stream up under account " + kAccount + " not ACTIVE, instead in state UPDATING");
  fails("UpdateShardCount", {{"StreamName", "up"}, {"TargetShardCount", 3}, {"ScalingType", "UNIFORM_SCALING"}},
        "ResourceInUseException", "Stream up under account " + kAccount + " not ACTIVE, instead in state UPDATING");
  put("up", "k", "writes still work while UPDATING");
  clock().advance_ms(1000);
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "up"}})["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE");
  ok("MergeShards", {{"StreamName", "up"}, {"ShardToMerge", shard_id(2)}, {"AdjacentShardToMerge", shard_id(3)}});
}
