// The exact text of every Kinesis error message that names the account ("... under account A"),
// and the other messages eddy words as AWS does, pinned through handle() on an in-process
// service (a non-default account and region, so a message cannot pass by chance).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server/http/message.h"
#include "server/kinesis/hooks.h"
#include "tests/support/in_process_kinesis.h"
#include "wire/base64.h"

using namespace eddy;
using nlohmann::json;

namespace {

constexpr const char* kAccount = "111122223333";
const std::string kLimitsPage =
    " Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for "
    "current limits and how to request higher limits.";

// Refuses every write and read (as a throttled shard would).
struct Refuse final : kinesis::KinesisHooks {
  bool admit_write(const kinesis::Stream&, const kinesis::Shard&, size_t, int64_t) override { return false; }
  bool admit_read(const kinesis::Stream&, const kinesis::Shard&, int64_t) override { return false; }
};

class KinesisMessages : public ::testing::Test {
 protected:
  void open(uint32_t shard_limit = 500, uint32_t on_demand_limit = 50, int64_t update_ms = 0) {
    k_.config.account_id = kAccount;
    k_.config.region = "eu-west-1";
    k_.config.shard_limit = shard_limit;
    k_.config.on_demand_stream_limit = on_demand_limit;
    k_.config.update_stream_ms = update_ms;
    std::string err;
    ASSERT_TRUE(k_.open(&err)) << err;
  }
  struct Result {
    int status = 0;
    std::string type, message;
    json body;
  };
  Result call(const std::string& op, const json& in) {
    auto res = k_.call(op, in.dump());
    Result r;
    r.status = res.status;
    r.type = std::string(res.headers.get("x-amzn-ErrorType"));
    r.body = res.body.empty() ? json::object() : json::parse(res.body);
    r.message = r.body.value("message", r.body.value("Message", std::string()));
    return r;
  }
  void ok(const std::string& op, const json& in) {
    auto r = call(op, in);
    ASSERT_EQ(r.status, 200) << op << " " << r.body.dump();
  }
  void create(const std::string& name, int shards) { ok("CreateStream", {{"StreamName", name}, {"ShardCount", shards}}); }
  void fails(const std::string& op, const json& in, const std::string& type, const std::string& message) {
    auto r = call(op, in);
    EXPECT_EQ(r.status, 400) << op;
    EXPECT_EQ(r.type, type) << op;
    EXPECT_EQ(r.message, message) << op;
  }
  std::string arn(const std::string& name) const { return std::string("arn:aws:kinesis:eu-west-1:") + kAccount + ":stream/" + name; }
  std::string first_sequence(const std::string& stream) {
    auto r = call("PutRecord", {{"StreamName", stream}, {"PartitionKey", "k"}, {"Data", wire::base64_encode("x")}});
    EXPECT_EQ(r.status, 200);
    return r.body.value("SequenceNumber", std::string());
  }

  test::InProcessKinesis k_;
};

const std::string kInvalid = "InvalidArgumentException";
const std::string kNotFound = "ResourceNotFoundException";
const std::string kInUse = "ResourceInUseException";
const std::string kLimit = "LimitExceededException";
const std::string kThrottled = "ProvisionedThroughputExceededException";

}  // namespace

TEST_F(KinesisMessages, StreamNotFoundAndExists) {
  open();
  fails("DescribeStreamSummary", {{"StreamName", "nope"}}, kNotFound,
        "Stream nope under account 111122223333 not found.");
  fails("DescribeStreamSummary", {{"StreamARN", "arn:aws:kinesis:eu-west-1:999999999999:stream/x"}}, kNotFound,
        "Stream x under account 111122223333 not found.");
  fails("DescribeStreamSummary", {{"StreamARN", arn("a")}, {"StreamName", "b"}}, kInvalid,
        "StreamARN " + arn("a") + " and StreamName b do not refer to the same stream.");
  create("s", 1);
  fails("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}}, kInUse,
        "Stream s under account 111122223333 already exists.");
}

TEST_F(KinesisMessages, TagLimit) {
  open();
  json tags = json::object();
  for (int i = 0; i < 51; ++i) tags["k" + std::to_string(i)] = "v";
  const std::string tail = " under account 111122223333 because a given stream cannot have more than 50 tags associated with it.";
  fails("CreateStream", {{"StreamName", "t"}, {"ShardCount", 1}, {"Tags", tags}}, kInvalid,
        "Failed to add tags to stream t" + tail);
  create("s", 1);
  fails("AddTagsToStream", {{"StreamName", "s"}, {"Tags", tags}}, kInvalid, "Failed to add tags to stream s" + tail);
}

TEST_F(KinesisMessages, ShardLimit) {
  open(6);
  create("s", 2);
  fails("CreateStream", {{"StreamName", "big"}, {"ShardCount", 5}}, kLimit,
        "This request would exceed the shard limit for the account 111122223333 in eu-west-1. Current shard count for "
        "the account: 2. Limit: 6. Number of additional shards that would have resulted from this request: 5." +
            kLimitsPage);
  create("full", 4);
  fails("SplitShard",
        {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000000"}, {"NewStartingHashKey", "1000"}}, kLimit,
        "This request would exceed the shard limit for the account 111122223333 in eu-west-1. Current shard count for "
        "the account: 6. Limit: 6. Number of additional shards that would have resulted from this request: 1." +
            kLimitsPage);
  fails("UpdateShardCount", {{"StreamName", "s"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}}, kLimit,
        "Target shard count or number of open shards cannot be greater than 6. Current open shard count: 2, Target "
        "shard count: 4");
}

TEST_F(KinesisMessages, OnDemandLimit) {
  open(500, 0);
  fails("CreateStream", {{"StreamName", "od"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}}, kLimit,
        "This request would exceed the on-demand stream limit for the account 111122223333 in eu-west-1. Limit: 0.");
  create("s", 1);
  fails("UpdateStreamMode", {{"StreamARN", arn("s")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}}, kLimit,
        "This request would exceed the on-demand stream limit for the account 111122223333 in eu-west-1.");
  fails("UpdateStreamMode", {{"StreamARN", arn("s")}, {"StreamModeDetails", {{"StreamMode", "PROVISIONED"}}}},
        kInvalid, "Stream s under account 111122223333 is already in PROVISIONED mode.");
}

TEST_F(KinesisMessages, OnDemandStreamCannotBeResharded) {
  open();
  ok("CreateStream", {{"StreamName", "od"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  fails("UpdateShardCount", {{"StreamName", "od"}, {"TargetShardCount", 2}, {"ScalingType", "UNIFORM_SCALING"}},
        "ValidationException", "Request is invalid. Stream od under account 111122223333 is in On-Demand mode.");
}

TEST_F(KinesisMessages, PutRecord) {
  open();
  create("s", 1);
  fails("PutRecord",
        {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "eA=="}, {"SequenceNumberForOrdering", "123"}}, kInvalid,
        "ExclusiveMinimumSequenceNumber 123 used in PutRecord on stream s under account 111122223333 is invalid.");
  fails("PutRecord",
        {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "eA=="}, {"ExplicitHashKey", std::string(39, '9')}},
        kInvalid,
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " +
            std::string(39, '9'));
  fails("PutRecords",
        {{"StreamName", "s"},
         {"Records", json::array({{{"PartitionKey", "k"}, {"Data", "eA=="}, {"ExplicitHashKey", std::string(39, '9')}}})}},
        kInvalid,
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " +
            std::string(39, '9'));
}

TEST_F(KinesisMessages, Throttled) {
  open();
  create("s", 1);
  const std::string it = [&] {
    auto r = call("GetShardIterator",
                  {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "TRIM_HORIZON"}});
    return r.body.value("ShardIterator", std::string());
  }();
  Refuse refuse;
  k_.svc->add_hooks(&refuse);
  const std::string rate = "Rate exceeded for shard shardId-000000000000 in stream s under account 111122223333.";
  fails("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", "eA=="}}, kThrottled, rate);
  auto r = call("PutRecords", {{"StreamName", "s"}, {"Records", json::array({{{"PartitionKey", "k"}, {"Data", "eA=="}}})}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["FailedRecordCount"], 1);
  EXPECT_EQ(r.body["Records"][0]["ErrorCode"], kThrottled);
  EXPECT_EQ(r.body["Records"][0]["ErrorMessage"], rate);
  fails("GetRecords", {{"ShardIterator", it}}, kThrottled, rate);
}

TEST_F(KinesisMessages, ShardsThatDoNotExist) {
  open();
  create("s", 2);
  const json latest = {{"ShardIteratorType", "LATEST"}};
  auto gsi = [&](json in) {
    in.update(latest);
    return in;
  };
  fails("GetShardIterator", gsi({{"StreamName", "s"}, {"ShardId", "bogus"}}), kNotFound,
        "Could not find shard bogus in stream s under account 111122223333.");
  fails("GetShardIterator", gsi({{"StreamARN", arn("s")}, {"ShardId", "bogus"}}), kNotFound,
        "Could not find shard bogus in stream s under account 111122223333.");
  fails("GetShardIterator", gsi({{"StreamName", "s"}, {"ShardId", "shardId-000000000009"}}), kNotFound,
        "Shard shardId-000000000009 in stream s under account 111122223333 does not exist");
  fails("GetShardIterator", gsi({{"StreamName", "gone"}, {"ShardId", "shardId-000000000000"}}), kNotFound,
        "Shard shardId-000000000000 in stream gone under account 111122223333 does not exist");
  fails("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "bogus"}, {"NewStartingHashKey", "1000"}}, kNotFound,
        "Could not find shard bogus in stream s under account 111122223333.");
  fails("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000009"}, {"NewStartingHashKey", "1000"}},
        kNotFound, "Could not find shard shardId-000000000009 in stream s under account 111122223333.");
  fails("MergeShards", {{"StreamName", "s"}, {"ShardToMerge", "bogus"}, {"AdjacentShardToMerge", "shardId-000000000001"}},
        kNotFound, "Could not find shard bogus in stream s under account 111122223333.");
  fails("MergeShards",
        {{"StreamName", "s"}, {"ShardToMerge", "shardId-000000000000"}, {"AdjacentShardToMerge", "shardId-000000000007"}},
        kNotFound, "Could not find shard shardId-000000000007 in stream s under account 111122223333.");

  auto r = call("GetShardIterator",
                {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "TRIM_HORIZON"}});
  const std::string it = r.body.value("ShardIterator", std::string());
  ok("DeleteStream", {{"StreamName", "s"}});
  fails("GetRecords", {{"ShardIterator", it}}, kNotFound,
        "Shard shardId-000000000000 in stream s under account 111122223333 does not exist");
}

TEST_F(KinesisMessages, StartingSequenceNumber) {
  open();
  create("s", 1);
  create("other", 1);
  const std::string theirs = first_sequence("other");
  const json at = {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}};
  json in = at;
  in["StartingSequenceNumber"] = "1";
  fails("GetShardIterator", in, kInvalid,
        "StartingSequenceNumber 1 used in GetShardIterator on shard shardId-000000000000 in stream s under account "
        "111122223333 is invalid.");
  in["StartingSequenceNumber"] = theirs;
  fails("GetShardIterator", in, kInvalid,
        "StartingSequenceNumber " + theirs +
            " used in GetShardIterator on shard shardId-000000000000 in stream s under account 111122223333 is invalid "
            "because it did not come from this stream.");
  in = at;
  fails("GetShardIterator", in, kInvalid,
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
        "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no "
        "StartingSequenceNumber.");
}

TEST_F(KinesisMessages, Resharding) {
  open();
  create("s", 3);
  const std::string tail = " in stream s under account 111122223333";
  fails("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000000"}, {"NewStartingHashKey", "1"}},
        kInvalid,
        "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000" + tail +
            " is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey "
            "113427455640312821154458202477256070484.");
  fails("MergeShards",
        {{"StreamName", "s"}, {"ShardToMerge", "shardId-000000000000"}, {"AdjacentShardToMerge", "shardId-000000000002"}},
        kInvalid, "Shards shardId-000000000000 and shardId-000000000002" + tail +
                      " are not an adjacent pair of shards eligible for merging");
  ok("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000000"}, {"NewStartingHashKey", "1000"}});
  const std::string closed = "Shard shardId-000000000000" + tail +
                             " has already been merged or split, and thus is not eligible for merging or splitting.";
  fails("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000000"}, {"NewStartingHashKey", "1000"}},
        kInvalid, closed);
  fails("MergeShards",
        {{"StreamName", "s"}, {"ShardToMerge", "shardId-000000000000"}, {"AdjacentShardToMerge", "shardId-000000000001"}},
        kInvalid, closed);
}

TEST_F(KinesisMessages, NotActive) {
  open(500, 50, 60'000);
  create("s", 2);
  ok("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000000"}, {"NewStartingHashKey", "1000"}});
  const std::string msg = "Stream s under account 111122223333 not ACTIVE, instead in state UPDATING";
  fails("SplitShard", {{"StreamName", "s"}, {"ShardToSplit", "shardId-000000000001"}, {"NewStartingHashKey", "1"}}, kInUse,
        msg);
  fails("MergeShards",
        {{"StreamName", "s"}, {"ShardToMerge", "shardId-000000000002"}, {"AdjacentShardToMerge", "shardId-000000000003"}},
        kInUse, msg);
  fails("UpdateShardCount", {{"StreamName", "s"}, {"TargetShardCount", 3}, {"ScalingType", "UNIFORM_SCALING"}}, kInUse,
        msg);
  fails("UpdateStreamMode", {{"StreamARN", arn("s")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}}, kInUse, msg);
  fails("StartStreamEncryption", {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/k"}}, kInUse, msg);
}

TEST_F(KinesisMessages, Retention) {
  open();
  create("s", 1);
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 23}}, kInvalid,
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.");
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 9000}}, kInvalid,
        "Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.");
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 48}});
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 30}}, kInvalid,
        "Requested retention period (30 hours) for stream s can not be shorter than existing retention period (48 "
        "hours). Use DecreaseRetentionPeriod API.");
  fails("DecreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 72}}, kInvalid,
        "Requested retention period (72 hours) for stream s can not be longer than existing retention period (48 "
        "hours). Use IncreaseRetentionPeriod API.");
}
