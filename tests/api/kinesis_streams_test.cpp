// Stream-level operations: create/delete/describe/list, tags, retention, limits, mode,
// encryption, and StreamARN addressing.
#include <gtest/gtest.h>

#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

class KinesisStreams : public KinesisFixture {};

TEST_F(KinesisStreams, CreateWithShardCountSplitsTheKeySpaceEvenly) {
  ok("CreateStream", {{"StreamName", "s3"}, {"ShardCount", 3}});
  auto d = ok("DescribeStream", {{"StreamName", "s3"}})["StreamDescription"];
  EXPECT_EQ(d["StreamName"], "s3");
  EXPECT_EQ(d["StreamARN"], arn("s3"));
  EXPECT_EQ(d["StreamStatus"], "ACTIVE");
  EXPECT_EQ(d["StreamModeDetails"]["StreamMode"], "PROVISIONED");
  EXPECT_EQ(d["RetentionPeriodHours"], 24);
  EXPECT_EQ(d["EncryptionType"], "NONE");
  EXPECT_EQ(d["HasMoreShards"], false);
  EXPECT_TRUE(d["StreamCreationTimestamp"].is_number());
  EXPECT_EQ(d["EnhancedMonitoring"], json::parse(R"([{"ShardLevelMetrics":[]}])"));
  ASSERT_EQ(d["Shards"].size(), 3u);
  const char* bounds[3][2] = {{"0", "113427455640312821154458202477256070484"},
                              {"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
                              {"226854911280625642308916404954512140970", kMax.c_str()}};
  for (int i = 0; i < 3; ++i) {
    const auto& sh = d["Shards"][i];
    EXPECT_EQ(sh["ShardId"], shard_id(i));
    EXPECT_EQ(sh["HashKeyRange"]["StartingHashKey"], bounds[i][0]);
    EXPECT_EQ(sh["HashKeyRange"]["EndingHashKey"], bounds[i][1]);
    std::string start = sh["SequenceNumberRange"]["StartingSequenceNumber"];
    EXPECT_EQ(start.size(), 56u);
    EXPECT_FALSE(sh["SequenceNumberRange"].contains("EndingSequenceNumber"));
    EXPECT_FALSE(sh.contains("ParentShardId"));
  }
}

TEST_F(KinesisStreams, CreateOnDemand) {
  ok("CreateStream", {{"StreamName", "od"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  auto d = ok("DescribeStreamSummary", {{"StreamName", "od"}})["StreamDescriptionSummary"];
  EXPECT_EQ(d["StreamModeDetails"]["StreamMode"], "ON_DEMAND");
  EXPECT_EQ(d["OpenShardCount"], 4);
  fails("CreateStream", {{"StreamName", "od2"}, {"ShardCount", 2}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}},
        "InvalidArgumentException");
  fails("CreateStream", {{"StreamName", "od3"}, {"StreamModeDetails", {{"StreamMode", "FAST"}}}}, "ValidationException",
        "1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]");
  fails("CreateStream", {{"StreamName", "od4"}, {"StreamModeDetails", {{"StreamMode", "PROVISIONED"}}}},
        "ValidationException",
        "1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null");
  auto lim = ok("DescribeLimits", json::object());
  EXPECT_EQ(lim["OnDemandStreamCount"], 1);
}

TEST_F(KinesisStreams, CreateValidationAndExists) {
  fails("CreateStream", json::object(), "ValidationException",
        "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null");
  fails("CreateStream", {{"StreamName", "a b"}, {"ShardCount", 0}}, "ValidationException",
        "2 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1; Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [a-zA-Z0-9_.-]+");
  fails("CreateStream", {{"StreamName", std::string(129, 'a')}, {"ShardCount", 1}}, "ValidationException",
        "1 validation error detected: Value '" + std::string(129, 'a') +
            "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128");
  ok("CreateStream", {{"StreamName", "dup"}, {"ShardCount", 1}});
  fails("CreateStream", {{"StreamName", "dup"}, {"ShardCount", 1}}, "ResourceInUseException",
        "Stream dup under account " + kAccount + " already exists.");
}

class KinesisShardLimit : public KinesisFixture {
  void tune(eddy::Config& c) override { c.shard_limit = 10; }
};

TEST_F(KinesisShardLimit, CreateBeyondTheAccountShardLimit) {
  ok("CreateStream", {{"StreamName", "a"}, {"ShardCount", 8}});
  fails("CreateStream", {{"StreamName", "b"}, {"ShardCount", 3}}, "LimitExceededException",
        "This request would exceed the shard limit for the account " + kAccount +
            " in us-east-1. Current shard count for the account: 8. Limit: 10. Number of additional shards that would "
            "have resulted from this request: 3. Refer to the AWS Service Limits page "
            "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to "
            "request higher limits.");
  ok("CreateStream", {{"StreamName", "b"}, {"ShardCount", 2}});
  auto lim = ok("DescribeLimits", json::object());
  EXPECT_EQ(lim, json::parse(R"({"ShardLimit":10,"OpenShardCount":10,"OnDemandStreamCount":0,"OnDemandStreamCountLimit":50})"));
}

TEST_F(KinesisStreams, DeleteStream) {
  ok("CreateStream", {{"StreamName", "d"}, {"ShardCount", 1}});
  put("d", "k", "v");
  ok("DeleteStream", {{"StreamName", "d"}, {"EnforceConsumerDeletion", true}});
  fails("DescribeStream", {{"StreamName", "d"}}, "ResourceNotFoundException", not_found("d"));
  fails("DeleteStream", {{"StreamName", "d"}}, "ResourceNotFoundException", not_found("d"));
  fails("DeleteStream", {{"StreamName", "d"}, {"EnforceConsumerDeletion", "maybe"}}, "SerializationException",
        "'MAYBE' can not be converted to an Boolean");
  // A new stream of the same name starts empty.
  ok("CreateStream", {{"StreamName", "d"}, {"ShardCount", 1}});
  EXPECT_TRUE(read_all(iterator("d", 0, "TRIM_HORIZON")).empty());
}

class KinesisDelays : public KinesisFixture {
  void tune(eddy::Config& c) override {
    c.create_stream_ms = 500;
    c.delete_stream_ms = 2000;
  }
};

TEST_F(KinesisDelays, CreatingThenActiveAndDeletingThenGone) {
  ok("CreateStream", {{"StreamName", "x"}, {"ShardCount", 1}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "x"}})["StreamDescriptionSummary"]["StreamStatus"], "CREATING");
  clock().advance_ms(500);
  EXPECT_EQ(ok("DescribeStream", {{"StreamName", "x"}})["StreamDescription"]["StreamStatus"], "ACTIVE");
  ok("DeleteStream", {{"StreamName", "x"}});
  EXPECT_EQ(ok("DescribeStream", {{"StreamName", "x"}})["StreamDescription"]["StreamStatus"], "DELETING");
  auto names = ok("ListStreams", json::object())["StreamNames"];
  EXPECT_EQ(names, json::array({"x"}));
  fails("CreateStream", {{"StreamName", "x"}, {"ShardCount", 1}}, "ResourceInUseException");
  clock().advance_ms(1999);
  EXPECT_EQ(ok("DescribeStream", {{"StreamName", "x"}})["StreamDescription"]["StreamStatus"], "DELETING");
  clock().advance_ms(1);
  fails("DescribeStream", {{"StreamName", "x"}}, "ResourceNotFoundException", not_found("x"));
  EXPECT_EQ(ok("ListStreams", json::object())["StreamNames"], json::array());
}

TEST_F(KinesisStreams, DescribeStreamPagesShards) {
  ok("CreateStream", {{"StreamName", "p"}, {"ShardCount", 5}});
  auto d = ok("DescribeStream", {{"StreamName", "p"}, {"Limit", 2}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 2u);
  EXPECT_EQ(d["Shards"][1]["ShardId"], shard_id(1));
  EXPECT_EQ(d["HasMoreShards"], true);
  d = ok("DescribeStream", {{"StreamName", "p"}, {"Limit", 2}, {"ExclusiveStartShardId", shard_id(1)}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 2u);
  EXPECT_EQ(d["Shards"][0]["ShardId"], shard_id(2));
  EXPECT_EQ(d["HasMoreShards"], true);
  d = ok("DescribeStream", {{"StreamName", "p"}, {"Limit", 2}, {"ExclusiveStartShardId", shard_id(3)}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 1u);
  EXPECT_EQ(d["HasMoreShards"], false);
  d = ok("DescribeStream", {{"StreamName", "p"}, {"ExclusiveStartShardId", shard_id(4)}})["StreamDescription"];
  EXPECT_EQ(d["Shards"].size(), 0u);
  fails("DescribeStream", {{"StreamName", "p"}, {"Limit", 0}}, "ValidationException",
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1");
  fails("DescribeStream", {{"StreamName", "p"}, {"Limit", 10001}}, "ValidationException");
  fails("DescribeStream", {{"StreamName", "nope"}}, "ResourceNotFoundException", not_found("nope"));
}

TEST_F(KinesisStreams, DescribeStreamSummary) {
  ok("CreateStream", {{"StreamName", "sum"}, {"ShardCount", 2}, {"Tags", {{"team", "a"}}}});
  auto d = ok("DescribeStreamSummary", {{"StreamName", "sum"}})["StreamDescriptionSummary"];
  EXPECT_EQ(d["StreamName"], "sum");
  EXPECT_EQ(d["StreamARN"], arn("sum"));
  EXPECT_EQ(d["StreamStatus"], "ACTIVE");
  EXPECT_EQ(d["OpenShardCount"], 2);
  EXPECT_EQ(d["ConsumerCount"], 0);
  EXPECT_EQ(d["RetentionPeriodHours"], 24);
  EXPECT_EQ(d["EncryptionType"], "NONE");
  EXPECT_EQ(d["MaxRecordSizeInKiB"], 1024);
  EXPECT_FALSE(d.contains("Shards"));
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamName", "sum"}})["Tags"], json::parse(R"([{"Key":"team","Value":"a"}])"));
}

TEST_F(KinesisStreams, ListStreamsPaging) {
  for (auto n : {"e", "b", "a", "d", "c"}) ok("CreateStream", {{"StreamName", n}, {"ShardCount", 1}});
  auto all = ok("ListStreams", json::object());
  EXPECT_EQ(all["StreamNames"], json::parse(R"(["a","b","c","d","e"])"));
  EXPECT_EQ(all["HasMoreStreams"], false);
  EXPECT_FALSE(all.contains("NextToken"));
  ASSERT_EQ(all["StreamSummaries"].size(), 5u);
  auto s0 = all["StreamSummaries"][0];
  EXPECT_EQ(s0["StreamName"], "a");
  EXPECT_EQ(s0["StreamARN"], arn("a"));
  EXPECT_EQ(s0["StreamStatus"], "ACTIVE");
  EXPECT_EQ(s0["StreamModeDetails"]["StreamMode"], "PROVISIONED");
  EXPECT_TRUE(s0["StreamCreationTimestamp"].is_number());

  auto p1 = ok("ListStreams", {{"Limit", 2}});
  EXPECT_EQ(p1["StreamNames"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(p1["HasMoreStreams"], true);
  ASSERT_TRUE(p1.contains("NextToken"));
  auto p2 = ok("ListStreams", {{"Limit", 2}, {"NextToken", p1["NextToken"]}});
  EXPECT_EQ(p2["StreamNames"], json::parse(R"(["c","d"])"));
  auto p3 = ok("ListStreams", {{"Limit", 2}, {"NextToken", p2["NextToken"]}});
  EXPECT_EQ(p3["StreamNames"], json::parse(R"(["e"])"));
  EXPECT_EQ(p3["HasMoreStreams"], false);
  auto s = ok("ListStreams", {{"ExclusiveStartStreamName", "c"}});
  EXPECT_EQ(s["StreamNames"], json::parse(R"(["d","e"])"));
  fails("ListStreams", {{"NextToken", "garbage"}}, "InvalidArgumentException");
  fails("ListStreams", {{"Limit", 0}}, "ValidationException",
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1");
}

TEST_F(KinesisStreams, ListShardsPagingAndTokens) {
  ok("CreateStream", {{"StreamName", "ls"}, {"ShardCount", 5}});
  auto all = ok("ListShards", {{"StreamName", "ls"}});
  ASSERT_EQ(all["Shards"].size(), 5u);
  EXPECT_FALSE(all.contains("NextToken"));
  auto p1 = ok("ListShards", {{"StreamName", "ls"}, {"MaxResults", 2}});
  ASSERT_EQ(p1["Shards"].size(), 2u);
  ASSERT_TRUE(p1.contains("NextToken"));
  auto p2 = ok("ListShards", {{"NextToken", p1["NextToken"]}, {"MaxResults", 2}});
  ASSERT_EQ(p2["Shards"].size(), 2u);
  EXPECT_EQ(p2["Shards"][0]["ShardId"], shard_id(2));
  auto p3 = ok("ListShards", {{"NextToken", p2["NextToken"]}, {"MaxResults", 2}});
  ASSERT_EQ(p3["Shards"].size(), 1u);
  EXPECT_EQ(p3["Shards"][0]["ShardId"], shard_id(4));
  EXPECT_FALSE(p3.contains("NextToken"));
  auto ex = ok("ListShards", {{"StreamName", "ls"}, {"ExclusiveStartShardId", shard_id(2)}});
  ASSERT_EQ(ex["Shards"].size(), 2u);
  EXPECT_EQ(ex["Shards"][0]["ShardId"], shard_id(3));

  fails("ListShards", {{"NextToken", p1["NextToken"]}, {"StreamName", "ls"}}, "InvalidArgumentException",
        "NextToken and StreamName cannot be provided together.");
  fails("ListShards", {{"NextToken", p1["NextToken"]}, {"ShardFilter", {{"Type", "AT_LATEST"}}}},
        "InvalidArgumentException", "NextToken and ShardFilter cannot be provided together.");
  fails("ListShards", json::object(), "InvalidArgumentException", "Either NextToken or StreamName should be provided.");
  fails("ListShards", {{"NextToken", "bm90IGEgdG9rZW4="}}, "InvalidArgumentException");
  fails("ListShards", {{"StreamName", "ls"}, {"MaxResults", 0}}, "ValidationException",
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1");
  fails("ListShards", {{"StreamName", "nope"}}, "ResourceNotFoundException", not_found("nope"));
  // A NextToken lives 300 s.
  clock().advance_ms(300'000);
  ok("ListShards", {{"NextToken", p1["NextToken"]}});
  clock().advance_ms(1'000);
  fails("ListShards", {{"NextToken", p1["NextToken"]}}, "ExpiredNextTokenException");
}

TEST_F(KinesisStreams, TagsAndTheirLimits) {
  ok("CreateStream", {{"StreamName", "t"}, {"ShardCount", 1}});
  ok("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{"b", "2"}, {"a", "1"}, {"c", ""}}}});
  auto tags = ok("ListTagsForStream", {{"StreamName", "t"}});
  EXPECT_EQ(tags["Tags"], json::parse(R"([{"Key":"a","Value":"1"},{"Key":"b","Value":"2"},{"Key":"c","Value":""}])"));
  EXPECT_EQ(tags["HasMoreTags"], false);
  auto page = ok("ListTagsForStream", {{"StreamName", "t"}, {"Limit", 1}, {"ExclusiveStartTagKey", "a"}});
  EXPECT_EQ(page["Tags"], json::parse(R"([{"Key":"b","Value":"2"}])"));
  EXPECT_EQ(page["HasMoreTags"], true);
  ok("RemoveTagsFromStream", {{"StreamName", "t"}, {"TagKeys", {"a", "zz"}}});
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamName", "t"}})["Tags"].size(), 2u);

  fails("AddTagsToStream", {{"StreamName", "t"}, {"Tags", json::object()}}, "ValidationException",
        "1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  fails("AddTagsToStream", {{"StreamName", "t"}}, "ValidationException",
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  fails("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{std::string(129, 'k'), "v"}}}}, "ValidationException");
  fails("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{"k", std::string(257, 'v')}}}}, "ValidationException");
  fails("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{"k", "a#b"}}}}, "InvalidArgumentException",
        "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.");
  json many = json::object();
  for (int i = 0; i < 49; ++i) many["k" + std::to_string(i)] = "v";
  fails("AddTagsToStream", {{"StreamName", "t"}, {"Tags", many}}, "InvalidArgumentException",
        "Failed to add tags to stream t under account " + kAccount +
            " because a given stream cannot have more than 50 tags associated with it.");
  many.erase("k0");
  ok("AddTagsToStream", {{"StreamName", "t"}, {"Tags", many}});  // 2 + 48 = 50
  fails("ListTagsForStream", {{"StreamName", "t"}, {"Limit", 51}}, "ValidationException",
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less "
        "than or equal to 50");
  json keys = json::array();
  for (int i = 0; i < 51; ++i) keys.push_back("k" + std::to_string(i));
  fails("RemoveTagsFromStream", {{"StreamName", "t"}, {"TagKeys", keys}}, "ValidationException");
  fails("RemoveTagsFromStream", {{"StreamName", "t"}, {"TagKeys", json::array()}}, "ValidationException",
        "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  fails("AddTagsToStream", {{"StreamName", "nope"}, {"Tags", {{"a", "b"}}}}, "ResourceNotFoundException", not_found("nope"));
}

TEST_F(KinesisStreams, RetentionBoundsAndDirection) {
  ok("CreateStream", {{"StreamName", "r"}, {"ShardCount", 1}});
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 48}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "r"}})["StreamDescriptionSummary"]["RetentionPeriodHours"], 48);
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 48}});  // same: no-op
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 30}}, "InvalidArgumentException",
        "Requested retention period (30 hours) for stream r can not be shorter than existing retention period (48 "
        "hours). Use DecreaseRetentionPeriod API.");
  fails("DecreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 72}}, "InvalidArgumentException",
        "Requested retention period (72 hours) for stream r can not be longer than existing retention period (48 "
        "hours). Use IncreaseRetentionPeriod API.");
  fails("DecreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 23}}, "InvalidArgumentException",
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.");
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 8761}}, "InvalidArgumentException",
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.");
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 8760}});
  ok("DecreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 24}});
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}}, "ValidationException",
        "1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must "
        "not be null");
  fails("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", "x"}}, "SerializationException",
        "class java.lang.String can not be converted to an Integer");
}

TEST_F(KinesisStreams, UpdateStreamMode) {
  ok("CreateStream", {{"StreamName", "m"}, {"ShardCount", 2}});
  ok("UpdateStreamMode", {{"StreamARN", arn("m")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "m"}})["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"],
            "ON_DEMAND");
  fails("UpdateShardCount", {{"StreamName", "m"}, {"TargetShardCount", 3}, {"ScalingType", "UNIFORM_SCALING"}},
        "ValidationException", "Request is invalid. Stream m under account " + kAccount + " is in On-Demand mode.");
  fails("UpdateStreamMode", {{"StreamARN", arn("m")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}},
        "InvalidArgumentException");
  ok("UpdateStreamMode", {{"StreamARN", arn("m")}, {"StreamModeDetails", {{"StreamMode", "PROVISIONED"}}}});
  fails("UpdateStreamMode", {{"StreamModeDetails", {{"StreamMode", "PROVISIONED"}}}}, "ValidationException",
        "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null");
}

TEST_F(KinesisStreams, EncryptionIsRecorded) {
  ok("CreateStream", {{"StreamName", "enc"}, {"ShardCount", 1}});
  ok("StartStreamEncryption", {{"StreamName", "enc"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}});
  auto d = ok("DescribeStream", {{"StreamName", "enc"}})["StreamDescription"];
  EXPECT_EQ(d["EncryptionType"], "KMS");
  EXPECT_EQ(d["KeyId"], "alias/aws/kinesis");
  fails("StartStreamEncryption", {{"StreamName", "enc"}, {"EncryptionType", "NONE"}, {"KeyId", "k"}},
        "InvalidArgumentException");
  fails("StartStreamEncryption", {{"StreamName", "enc"}, {"EncryptionType", "AES"}}, "ValidationException",
        "2 validation errors detected: Value 'AES' at 'encryptionType' failed to satisfy constraint: Member must "
        "satisfy enum value set: [KMS, NONE]; Value null at 'keyId' failed to satisfy constraint: Member must not be "
        "null");
  ok("StopStreamEncryption", {{"StreamName", "enc"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}});
  d = ok("DescribeStream", {{"StreamName", "enc"}})["StreamDescription"];
  EXPECT_EQ(d["EncryptionType"], "NONE");
  EXPECT_FALSE(d.contains("KeyId"));
}

TEST_F(KinesisStreams, StreamArnWorksWhereverStreamNameDoes) {
  ok("CreateStream", {{"StreamName", "byarn"}, {"ShardCount", 2}});
  const std::string a = arn("byarn");
  EXPECT_EQ(ok("DescribeStream", {{"StreamARN", a}})["StreamDescription"]["StreamName"], "byarn");
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamARN", a}})["StreamDescriptionSummary"]["StreamName"], "byarn");
  EXPECT_EQ(ok("ListShards", {{"StreamARN", a}})["Shards"].size(), 2u);
  auto put = ok("PutRecord", {{"StreamARN", a}, {"PartitionKey", "k"}, {"Data", b64("x")}});
  ok("PutRecords", {{"StreamARN", a}, {"Records", {{{"PartitionKey", "k"}, {"Data", b64("y")}}}}});
  auto it = ok("GetShardIterator", {{"StreamARN", a}, {"ShardId", put["ShardId"]}, {"ShardIteratorType", "TRIM_HORIZON"}});
  auto recs = ok("GetRecords", {{"ShardIterator", it["ShardIterator"]}, {"StreamARN", a}});
  EXPECT_EQ(recs["Records"].size(), 2u);
  ok("AddTagsToStream", {{"StreamARN", a}, {"Tags", {{"k", "v"}}}});
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamARN", a}})["Tags"].size(), 1u);
  ok("RemoveTagsFromStream", {{"StreamARN", a}, {"TagKeys", {"k"}}});
  ok("IncreaseStreamRetentionPeriod", {{"StreamARN", a}, {"RetentionPeriodHours", 25}});
  ok("DecreaseStreamRetentionPeriod", {{"StreamARN", a}, {"RetentionPeriodHours", 24}});
  ok("StartStreamEncryption", {{"StreamARN", a}, {"EncryptionType", "KMS"}, {"KeyId", "k"}});
  ok("StopStreamEncryption", {{"StreamARN", a}, {"EncryptionType", "KMS"}, {"KeyId", "k"}});
  ok("UpdateShardCount", {{"StreamARN", a}, {"TargetShardCount", 3}, {"ScalingType", "UNIFORM_SCALING"}});
  ok("DescribeStream", {{"StreamARN", a}, {"StreamName", "byarn"}});

  // Another account's or region's ARN names no stream of ours.
  fails("DescribeStream", {{"StreamARN", "arn:aws:kinesis:us-east-1:123456789012:stream/byarn"}},
        "ResourceNotFoundException", not_found("byarn"));
  fails("DescribeStreamSummary", {{"StreamARN", "arn:aws:kinesis:eu-west-1:" + kAccount + ":stream/byarn"}},
        "ResourceNotFoundException", not_found("byarn"));
  fails("DescribeStream", {{"StreamARN", "not-an-arn"}}, "ValidationException",
        "1 validation error detected: Value 'not-an-arn' at 'streamARN' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
  fails("DescribeStream", {{"StreamARN", a}, {"StreamName", "other"}}, "InvalidArgumentException");
  ok("DeleteStream", {{"StreamARN", a}});
  fails("DescribeStream", {{"StreamARN", a}}, "ResourceNotFoundException", not_found("byarn"));
}

TEST_F(KinesisStreams, DescribeLimitsCountsOpenShards) {
  auto lim = ok("DescribeLimits", json::object());
  EXPECT_EQ(lim, json::parse(R"({"ShardLimit":500,"OpenShardCount":0,"OnDemandStreamCount":0,"OnDemandStreamCountLimit":50})"));
  ok("CreateStream", {{"StreamName", "l"}, {"ShardCount", 3}});
  ok("SplitShard", {{"StreamName", "l"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1000"}});
  EXPECT_EQ(ok("DescribeLimits", json::object())["OpenShardCount"], 4);
}

// MaxRecordSizeInKiB (CreateStream, UpdateMaxRecordSize) is the record-size limit PutRecord and
// PutRecords enforce: data + partition key at the limit is accepted, one byte more refused.
TEST_F(KinesisStreams, MaxRecordSizeIsTheRecordSizeLimit) {
  const size_t kib = 1024, two_mib = 2048 * kib;
  auto put = [&](const std::string& stream, size_t total) {
    return kinesis("PutRecord", {{"StreamName", stream}, {"PartitionKey", "k"}, {"Data", b64(std::string(total - 1, 'x'))}});
  };
  auto put_batch = [&](const std::string& stream, size_t total) {
    return kinesis("PutRecords", {{"StreamName", stream},
                                  {"Records", json::array({{{"PartitionKey", "k"}, {"Data", b64(std::string(total - 1, 'x'))}}})}});
  };
  // Default 1024 KiB.
  ok("CreateStream", {{"StreamName", "dflt"}, {"ShardCount", 1}});
  EXPECT_EQ(put("dflt", 1024 * kib).status, 200);
  auto r = put("dflt", 1024 * kib + 1);
  EXPECT_EQ(r.type(), "ValidationException");
  EXPECT_EQ(r.message(), "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048576 cap=1048576]' at "
                         "'data' failed to satisfy constraint: Member must have length less than or equal to 1048575");
  // Created with 2048 KiB.
  ok("CreateStream", {{"StreamName", "big"}, {"ShardCount", 1}, {"MaxRecordSizeInKiB", 2048}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "big"}})["StreamDescriptionSummary"]["MaxRecordSizeInKiB"], 2048);
  EXPECT_EQ(put("big", two_mib).status, 200);
  EXPECT_EQ(put_batch("big", two_mib).status, 200);
  EXPECT_EQ(put("big", two_mib + 1).type(), "ValidationException");
  r = put_batch("big", two_mib + 1);
  EXPECT_EQ(r.type(), "ValidationException");
  EXPECT_NE(r.message().find("'records.1.member.data'"), std::string::npos) << r.raw;
  // Out of range at creation.
  fails("CreateStream", {{"StreamName", "tiny"}, {"ShardCount", 1}, {"MaxRecordSizeInKiB", 1023}}, "ValidationException");
  fails("CreateStream", {{"StreamName", "huge"}, {"ShardCount", 1}, {"MaxRecordSizeInKiB", 10241}}, "ValidationException");
  // UpdateMaxRecordSize (by ARN) moves the limit both ways, and DescribeStreamSummary shows it.
  ok("UpdateMaxRecordSize", {{"StreamARN", arn("dflt")}, {"MaxRecordSizeInKiB", 2048}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "dflt"}})["StreamDescriptionSummary"]["MaxRecordSizeInKiB"], 2048);
  EXPECT_EQ(put("dflt", two_mib).status, 200);
  EXPECT_EQ(put("dflt", two_mib + 1).type(), "ValidationException");
  ok("UpdateMaxRecordSize", {{"StreamARN", arn("big")}, {"MaxRecordSizeInKiB", 1024}});
  EXPECT_EQ(put("big", 1024 * kib + 1).type(), "ValidationException");
  EXPECT_EQ(put_batch("big", 1024 * kib).status, 200);
  fails("UpdateMaxRecordSize", {{"StreamARN", arn("big")}, {"MaxRecordSizeInKiB", 10241}}, "ValidationException");
  fails("UpdateMaxRecordSize", {{"StreamARN", arn("nope")}, {"MaxRecordSizeInKiB", 2048}}, "ResourceNotFoundException");
}

// Enable/DisableEnhancedMonitoring: Current (before) and Desired (after) sets, ALL expanding to
// the seven metrics, DescribeStream and DescribeStreamSummary showing the result.
TEST_F(KinesisStreams, EnhancedMonitoringIsRecordedAndDescribed) {
  ok("CreateStream", {{"StreamName", "mon"}, {"ShardCount", 1}});
  auto e = ok("EnableEnhancedMonitoring", {{"StreamName", "mon"}, {"ShardLevelMetrics", {"IncomingBytes", "OutgoingRecords"}}});
  EXPECT_EQ(e["StreamName"], "mon");
  EXPECT_EQ(e["StreamARN"], arn("mon"));
  EXPECT_EQ(e["CurrentShardLevelMetrics"], json::array());
  EXPECT_EQ(e["DesiredShardLevelMetrics"], json({"IncomingBytes", "OutgoingRecords"}));
  auto summary = [&] { return ok("DescribeStreamSummary", {{"StreamName", "mon"}})["StreamDescriptionSummary"]["EnhancedMonitoring"]; };
  EXPECT_EQ(summary(), json::parse(R"([{"ShardLevelMetrics":["IncomingBytes","OutgoingRecords"]}])"));
  const json all = {"IncomingBytes", "IncomingRecords", "IteratorAgeMilliseconds", "OutgoingBytes", "OutgoingRecords",
                    "ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded"};
  e = ok("EnableEnhancedMonitoring", {{"StreamARN", arn("mon")}, {"ShardLevelMetrics", {"ALL"}}});
  EXPECT_EQ(e["CurrentShardLevelMetrics"], json({"IncomingBytes", "OutgoingRecords"}));
  EXPECT_EQ(e["DesiredShardLevelMetrics"], all);
  auto d = ok("DisableEnhancedMonitoring", {{"StreamName", "mon"}, {"ShardLevelMetrics", {"IncomingBytes"}}});
  EXPECT_EQ(d["CurrentShardLevelMetrics"], all);
  json rest = all;
  rest.erase(rest.begin());
  EXPECT_EQ(d["DesiredShardLevelMetrics"], rest);
  EXPECT_EQ(ok("DescribeStream", {{"StreamName", "mon"}})["StreamDescription"]["EnhancedMonitoring"][0]["ShardLevelMetrics"], rest);
  d = ok("DisableEnhancedMonitoring", {{"StreamName", "mon"}, {"ShardLevelMetrics", {"ALL"}}});
  EXPECT_EQ(d["DesiredShardLevelMetrics"], json::array());
  EXPECT_EQ(summary(), json::parse(R"([{"ShardLevelMetrics":[]}])"));
  // Errors: an unknown metric, an empty list, a missing stream.
  auto r = fails("EnableEnhancedMonitoring", {{"StreamName", "mon"}, {"ShardLevelMetrics", {"Bogus"}}}, "ValidationException");
  EXPECT_NE(r.message().find("Value 'Bogus' at 'shardLevelMetrics'"), std::string::npos) << r.raw;
  fails("EnableEnhancedMonitoring", {{"StreamName", "mon"}, {"ShardLevelMetrics", json::array()}}, "ValidationException");
  fails("DisableEnhancedMonitoring", {{"StreamName", "nope"}, {"ShardLevelMetrics", {"ALL"}}}, "ResourceNotFoundException");
}

class KinesisOnDemandLimit : public KinesisFixture {
  void tune(eddy::Config& c) override { c.on_demand_stream_limit = 2; }
};

// docs/kinesis.md: no ShardCount and no mode creates an ON_DEMAND stream (as AWS does today);
// --on-demand-stream-limit is enforced at CreateStream and UpdateStreamMode.
TEST_F(KinesisOnDemandLimit, DefaultModeAndTheAccountLimit) {
  ok("CreateStream", {{"StreamName", "plain"}});
  auto d = ok("DescribeStreamSummary", {{"StreamName", "plain"}})["StreamDescriptionSummary"];
  EXPECT_EQ(d["StreamModeDetails"]["StreamMode"], "ON_DEMAND");
  EXPECT_EQ(d["OpenShardCount"], 4);
  ok("CreateStream", {{"StreamName", "od2"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  auto lim = ok("DescribeLimits", json::object());
  EXPECT_EQ(lim["OnDemandStreamCount"], 2);
  EXPECT_EQ(lim["OnDemandStreamCountLimit"], 2);
  fails("CreateStream", {{"StreamName", "od3"}}, "LimitExceededException",
        "This request would exceed the on-demand stream limit for the account " + kAccount + " in us-east-1. Limit: 2.");
  // Provisioned streams are not counted; switching one to ON_DEMAND is.
  ok("CreateStream", {{"StreamName", "prov"}, {"ShardCount", 1}});
  fails("UpdateStreamMode", {{"StreamARN", arn("prov")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}},
        "LimitExceededException",
        "This request would exceed the on-demand stream limit for the account " + kAccount + " in us-east-1.");
  ok("DeleteStream", {{"StreamName", "od2"}});
  ok("UpdateStreamMode", {{"StreamARN", arn("prov")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
}

// Page caps: ListStreams returns at most 100 names a call, ListShards at most 1000 shards.
class KinesisManyStreams : public KinesisFixture {
  void tune(eddy::Config& c) override { c.shard_limit = 2000; }
};

TEST_F(KinesisManyStreams, ListStreamsAndListShardsCapTheirPages) {
  for (int i = 0; i < 105; ++i) ok("CreateStream", {{"StreamName", "s" + std::to_string(1000 + i)}, {"ShardCount", 1}});
  auto page = ok("ListStreams", {{"Limit", 10000}});
  EXPECT_EQ(page["StreamNames"].size(), 100u);
  EXPECT_EQ(page["HasMoreStreams"], true);
  auto rest = ok("ListStreams", {{"ExclusiveStartStreamName", page["StreamNames"].back()}});
  EXPECT_EQ(rest["StreamNames"].size(), 5u);
  EXPECT_EQ(rest["HasMoreStreams"], false);
  ok("CreateStream", {{"StreamName", "wide"}, {"ShardCount", 1200}});
  auto shards = ok("ListShards", {{"StreamName", "wide"}, {"MaxResults", 10000}});
  EXPECT_EQ(shards["Shards"].size(), 1000u);
  ASSERT_TRUE(shards.contains("NextToken"));
  auto more = ok("ListShards", {{"NextToken", shards["NextToken"]}, {"MaxResults", 10000}});
  EXPECT_EQ(more["Shards"].size(), 200u);
  EXPECT_FALSE(more.contains("NextToken") && !more["NextToken"].is_null());
}
