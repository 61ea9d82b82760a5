// The operations that address a resource by ARN (TagResource, UntagResource,
// ListTagsForResource, Put/Get/DeleteResourcePolicy, on streams and consumers), the account's
// settings and UpdateStreamWarmThroughput; and that eddy answers every operation of botocore's
// current Kinesis model.
#include <gtest/gtest.h>

#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

class KinesisResources : public KinesisFixture {
 protected:
  std::string reg(const std::string& stream, const std::string& name) {
    return ok("RegisterStreamConsumer", {{"StreamARN", arn(stream)}, {"ConsumerName", name}})["Consumer"]["ConsumerARN"];
  }
};

const char* kPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"*"}]})";

TEST_F(KinesisResources, TagsOnStreamsAndConsumers) {
  create_stream("t", 1);
  const std::string carn = reg("t", "c");
  ok("TagResource", {{"ResourceARN", arn("t")}, {"Tags", {{"team", "data"}, {"env", "test"}}}});
  ok("TagResource", {{"ResourceARN", carn}, {"Tags", {{"owner", "kcl"}}}});
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", arn("t")}})["Tags"],
            json::parse(R"([{"Key":"env","Value":"test"},{"Key":"team","Value":"data"}])"));
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", carn}})["Tags"], json::parse(R"([{"Key":"owner","Value":"kcl"}])"));
  // The stream's tags are the ones ListTagsForStream shows.
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamName", "t"}})["Tags"].size(), 2u);
  ok("UntagResource", {{"ResourceARN", arn("t")}, {"TagKeys", {"env"}}});
  ok("UntagResource", {{"ResourceARN", carn}, {"TagKeys", {"owner", "absent"}}});
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", arn("t")}})["Tags"].size(), 1u);
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", carn}})["Tags"].size(), 0u);

  fails("TagResource", {{"ResourceARN", arn("nope")}, {"Tags", {{"a", "b"}}}}, "ResourceNotFoundException", not_found("nope"));
  const std::string stale = arn("t") + "/consumer/c:1";
  fails("ListTagsForResource", {{"ResourceARN", stale}}, "ResourceNotFoundException", "Consumer " + stale + " not found.");
  fails("TagResource", {{"ResourceARN", arn("t")}}, "ValidationException",
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  fails("TagResource", {{"ResourceARN", "arn:aws:sqs:us-east-1:000000000000:q"}, {"Tags", {{"a", "b"}}}},
        "ValidationException");
  fails("UntagResource", {{"ResourceARN", arn("t")}, {"TagKeys", json::array()}}, "ValidationException",
        "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  json many = json::object();
  for (int i = 0; i < 51; ++i) many["k" + std::to_string(i)] = "v";
  fails("TagResource", {{"ResourceARN", carn}, {"Tags", many}}, "InvalidArgumentException");
  // Tags at registration.
  auto c2 = ok("RegisterStreamConsumer", {{"StreamARN", arn("t")}, {"ConsumerName", "c2"}, {"Tags", {{"x", "y"}}}});
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", c2["Consumer"]["ConsumerARN"]}})["Tags"],
            json::parse(R"([{"Key":"x","Value":"y"}])"));
}

TEST_F(KinesisResources, ResourcePoliciesAreStoredAndReturned) {
  create_stream("p", 1);
  const std::string carn = reg("p", "c");
  EXPECT_EQ(ok("GetResourcePolicy", {{"ResourceARN", arn("p")}})["Policy"], "{}");
  ok("PutResourcePolicy", {{"ResourceARN", arn("p")}, {"Policy", kPolicy}});
  ok("PutResourcePolicy", {{"ResourceARN", carn}, {"Policy", kPolicy}});
  EXPECT_EQ(ok("GetResourcePolicy", {{"ResourceARN", arn("p")}})["Policy"], kPolicy);
  EXPECT_EQ(ok("GetResourcePolicy", {{"ResourceARN", carn}})["Policy"], kPolicy);
  ok("DeleteResourcePolicy", {{"ResourceARN", arn("p")}});
  EXPECT_EQ(ok("GetResourcePolicy", {{"ResourceARN", arn("p")}})["Policy"], "{}");
  fails("DeleteResourcePolicy", {{"ResourceARN", arn("p")}}, "ResourceNotFoundException",
        "No resource policy found for resource ARN " + arn("p") + ".");
  fails("PutResourcePolicy", {{"ResourceARN", arn("p")}, {"Policy", "not json"}}, "InvalidArgumentException",
        "The resource policy for " + arn("p") + " is not a valid policy document.");
  fails("PutResourcePolicy", {{"ResourceARN", arn("p")}}, "ValidationException",
        "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null");
  fails("GetResourcePolicy", {{"ResourceARN", arn("gone")}}, "ResourceNotFoundException", not_found("gone"));
}

TEST_F(KinesisResources, AccountSettingsAndWarmThroughput) {
  auto d = ok("DescribeAccountSettings", json::object());
  EXPECT_EQ(d["MinimumThroughputBillingCommitment"]["Status"], "DISABLED");
  ok("CreateStream", {{"StreamName", "od"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  create_stream("prov", 1);
  fails("UpdateStreamWarmThroughput", {{"StreamName", "od"}, {"WarmThroughputMiBps", 100}}, "InvalidArgumentException",
        "Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED.");

  auto u = ok("UpdateAccountSettings", {{"MinimumThroughputBillingCommitment", {{"Status", "ENABLED"}}}});
  const auto& m = u["MinimumThroughputBillingCommitment"];
  EXPECT_EQ(m["Status"], "ENABLED");
  const double started = m["StartedAt"].get<double>();
  EXPECT_NEAR(m["EarliestAllowedEndAt"].get<double>() - started, 86400.0, 0.001);

  auto w = ok("UpdateStreamWarmThroughput", {{"StreamName", "od"}, {"WarmThroughputMiBps", 100}});
  EXPECT_EQ(w["StreamName"], "od");
  EXPECT_EQ(w["StreamARN"], arn("od"));
  EXPECT_EQ(w["WarmThroughput"], json({{"TargetMiBps", 100}, {"CurrentMiBps", 100}}));
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "od"}})["StreamDescriptionSummary"]["WarmThroughput"]["TargetMiBps"],
            100);
  fails("UpdateStreamWarmThroughput", {{"StreamName", "prov"}, {"WarmThroughputMiBps", 100}}, "InvalidArgumentException",
        "Warm throughput can only be set on ON_DEMAND streams, and Stream prov under account " + account() +
            " is PROVISIONED.");
  fails("UpdateStreamWarmThroughput", {{"StreamName", "od"}}, "ValidationException",
        "1 validation error detected: Value null at 'warmThroughputMiBps' failed to satisfy constraint: Member must "
        "not be null");
  fails("UpdateStreamWarmThroughput", {{"StreamName", "od"}, {"WarmThroughputMiBps", -1}}, "ValidationException");

  // Disabling before the 24 hours are up only schedules it.
  u = ok("UpdateAccountSettings", {{"MinimumThroughputBillingCommitment", {{"Status", "DISABLED"}}}});
  EXPECT_EQ(u["MinimumThroughputBillingCommitment"]["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END");
  clock().advance_ms(24LL * 3600 * 1000);
  d = ok("DescribeAccountSettings", json::object());
  EXPECT_EQ(d["MinimumThroughputBillingCommitment"]["Status"], "DISABLED");
  EXPECT_TRUE(d["MinimumThroughputBillingCommitment"].contains("EndedAt"));
  fails("UpdateAccountSettings", json::object(), "ValidationException",
        "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy "
        "constraint: Member must not be null");
  fails("UpdateAccountSettings", {{"MinimumThroughputBillingCommitment", {{"Status", "MAYBE"}}}}, "ValidationException");
}

// Every operation of botocore's Kinesis model (2013-12-02, 39 operations) is answered: none is
// UnknownOperationException. The list is the model's, as botocore 1.40 ships it.
TEST_F(KinesisResources, EveryOperationOfTheModelIsKnown) {
  const std::vector<std::string> ops = {
      "AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteResourcePolicy", "DeleteStream",
      "DeregisterStreamConsumer", "DescribeAccountSettings", "DescribeLimits", "DescribeStream",
      "DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring", "EnableEnhancedMonitoring",
      "GetRecords", "GetResourcePolicy", "GetShardIterator", "IncreaseStreamRetentionPeriod", "ListShards",
      "ListStreamConsumers", "ListStreams", "ListTagsForResource", "ListTagsForStream", "MergeShards", "PutRecord",
      "PutRecords", "PutResourcePolicy", "RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard",
      "StartStreamEncryption", "StopStreamEncryption", "SubscribeToShard", "TagResource", "UntagResource",
      "UpdateAccountSettings", "UpdateMaxRecordSize", "UpdateShardCount", "UpdateStreamMode",
      "UpdateStreamWarmThroughput"};
  ASSERT_EQ(ops.size(), 39u);
  for (const auto& op : ops) {
    auto r = kinesis(op, json::object());
    EXPECT_NE(r.type(), "UnknownOperationException") << op;
    EXPECT_LT(r.status, 500) << op << " " << r.raw;
  }
}

}  // namespace
