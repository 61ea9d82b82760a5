// Protocol-level errors: unknown operations, bodies that do not parse, wrong member types,
// content types, and the shape of every error.
#include <gtest/gtest.h>

#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

class KinesisErrors : public KinesisFixture {};

TEST_F(KinesisErrors, UnknownOperation) {
  auto r = kinesis("DescribeStreams", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.raw, R"({"__type":"UnknownOperationException"})");
  EXPECT_EQ(r.http.header("x-amzn-errortype"), "UnknownOperationException");
  auto h = kinesis_raw("", "application/x-amz-json-1.1", "{}");  // target "Kinesis_20131202."
  EXPECT_EQ(h.status, 400);
  EXPECT_EQ(h.raw, R"({"__type":"UnknownOperationException"})");
  // The operation is judged before the body: an empty body of an unknown operation.
  h = kinesis_raw("Nope", "application/x-amz-json-1.1", "");
  EXPECT_EQ(h.raw, R"({"__type":"UnknownOperationException"})");
  h = kinesis_raw("ListStreams", "application/x-amz-json-1.1", "");
  EXPECT_EQ(h.raw, R"({"__type":"SerializationException"})");
}

TEST_F(KinesisErrors, SerializationErrorsHaveNoMessage) {
  for (std::string body : {"{", "not json", "[]", "\"str\"", "", "{\"StreamName\":}"}) {
    auto r = kinesis_raw("ListStreams", "application/x-amz-json-1.1", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.raw, R"({"__type":"SerializationException"})") << body;
  }
  auto c = kinesis_raw("ListStreams", "application/x-amz-cbor-1.1", std::string("\xbf\x61", 2));
  EXPECT_EQ(c.status, 400);
  EXPECT_EQ(c.type(), "SerializationException");
  EXPECT_EQ(c.http.header("content-type"), "application/x-amz-cbor-1.1");
}

TEST_F(KinesisErrors, WrongMemberTypes) {
  create_stream("w", 1);
  struct Case {
    std::string op;
    json in;
    std::string message;
  };
  std::vector<Case> cases = {
      {"CreateStream", {{"StreamName", "x"}, {"ShardCount", "1"}}, "class java.lang.String can not be converted to an Integer"},
      {"CreateStream", {{"StreamName", "x"}, {"ShardCount", true}}, "class java.lang.Boolean can not be converted to an Integer"},
      {"DescribeStream", {{"StreamName", 5}}, "class java.math.BigDecimal can not be converted to an String"},
      {"DescribeStream", {{"StreamName", false}}, "class java.lang.Boolean can not be converted to an String"},
      {"DescribeStream", {{"StreamName", {{"a", 1}}}}, "Start of structure or map found where not expected."},
      {"DescribeStream", {{"StreamName", {1, 2}}}, "Start of list found where not expected"},
      {"PutRecord", {{"StreamName", "w"}, {"PartitionKey", "k"}, {"Data", 12}}, "class java.math.BigDecimal can not be converted to a Blob"},
      {"PutRecord", {{"StreamName", "w"}, {"PartitionKey", "k"}, {"Data", "a$b="}}, "'a$b=' can not be converted to a Blob: Invalid Base64 character: '$'"},
      {"PutRecords", {{"StreamName", "w"}, {"Records", "x"}}, "Expected list or null"},
      {"PutRecords", {{"StreamName", "w"}, {"Records", {{"a", 1}}}}, "Start of structure or map found where not expected."},
      {"PutRecords", {{"StreamName", "w"}, {"Records", {5}}}, "Expected null"},
      {"AddTagsToStream", {{"StreamName", "w"}, {"Tags", "x"}}, "Expected map or null"},
      {"AddTagsToStream", {{"StreamName", "w"}, {"Tags", {1}}}, "Start of list found where not expected"},
      {"GetRecords", {{"ShardIterator", "x"}, {"Limit", "ten"}}, "class java.lang.String can not be converted to an Integer"},
      {"ListShards", {{"StreamName", "w"}, {"ShardFilter", "AT_LATEST"}}, "Expected map or null"},
  };
  for (const auto& c : cases) {
    auto r = kinesis(c.op, c.in);
    EXPECT_EQ(r.status, 400) << c.op << " " << c.in.dump();
    EXPECT_EQ(r.type(), "SerializationException") << c.op << " " << c.in.dump();
    EXPECT_TRUE(r.body.contains("Message")) << r.raw;  // capital M, as AWS sends type errors
    EXPECT_EQ(r.message(), c.message) << c.op << " " << c.in.dump();
  }
}

TEST_F(KinesisErrors, ContentTypes) {
  create_stream("ct", 1);
  // application/json is read as JSON 1.1.
  auto j = kinesis_raw("DescribeStreamSummary", "application/json", R"({"StreamName":"ct"})");
  EXPECT_EQ(j.status, 200);
  // A body of another type: AWS answers 404 with an XML-ish marker.
  auto x = kinesis_raw("DescribeStreamSummary", "text/plain", R"({"StreamName":"ct"})");
  EXPECT_EQ(x.status, 404);
  EXPECT_EQ(x.raw, "<UnknownOperationException/>\n");
  // No body and an unknown type: a CBOR SerializationException.
  auto e = kinesis_raw("DescribeStreamSummary", "text/plain", "");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.http.header("content-type"), "application/x-amz-cbor-1.1");
  EXPECT_EQ(e.type(), "SerializationException");
  // Parameters of the content type are ignored.
  auto p = kinesis_raw("DescribeStreamSummary", "application/x-amz-json-1.1; charset=utf-8", R"({"StreamName":"ct"})");
  EXPECT_EQ(p.status, 200);
}

TEST_F(KinesisErrors, ErrorShape) {
  auto r = kinesis("DescribeStream", {{"StreamName", "missing"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.http.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(r.http.header("x-amzn-errortype"), "ResourceNotFoundException");
  EXPECT_EQ(r.raw, R"({"__type":"ResourceNotFoundException","message":"Stream missing under account )" + kAccount +
                       R"( not found."})");
}

TEST_F(KinesisErrors, NotFoundOnEveryStreamOperation) {
  const json name = {{"StreamName", "ghost"}};
  auto with = [&](json extra) {
    json j = name;
    j.update(extra);
    return j;
  };
  std::vector<std::pair<std::string, json>> ops = {
      {"DeleteStream", name},
      {"DescribeStream", name},
      {"DescribeStreamSummary", name},
      {"ListShards", name},
      {"PutRecord", with({{"PartitionKey", "k"}, {"Data", ""}})},
      {"PutRecords", with({{"Records", {{{"PartitionKey", "k"}, {"Data", ""}}}}})},
      {"SplitShard", with({{"ShardToSplit", "shardId-000000000000"}, {"NewStartingHashKey", "5"}})},
      {"MergeShards", with({{"ShardToMerge", "shardId-000000000000"}, {"AdjacentShardToMerge", "shardId-000000000001"}})},
      {"UpdateShardCount", with({{"TargetShardCount", 2}, {"ScalingType", "UNIFORM_SCALING"}})},
      {"IncreaseStreamRetentionPeriod", with({{"RetentionPeriodHours", 48}})},
      {"DecreaseStreamRetentionPeriod", with({{"RetentionPeriodHours", 24}})},
      {"AddTagsToStream", with({{"Tags", {{"a", "b"}}}})},
      {"RemoveTagsFromStream", with({{"TagKeys", {"a"}}})},
      {"ListTagsForStream", name},
      {"StartStreamEncryption", with({{"EncryptionType", "KMS"}, {"KeyId", "k"}})},
      {"StopStreamEncryption", with({{"EncryptionType", "KMS"}, {"KeyId", "k"}})},
  };
  for (auto& [op, in] : ops) fails(op, in, "ResourceNotFoundException", not_found("ghost"));
  fails("UpdateStreamMode", {{"StreamARN", arn("ghost")}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}},
        "ResourceNotFoundException", not_found("ghost"));
}

TEST_F(KinesisErrors, MissingStreamNameIsValidation) {
  for (std::string op : {"DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListTagsForStream"})
    fails(op, json::object(), "ValidationException",
          "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be "
          "null");
  fails("DescribeStream", {{"StreamName", "bad name!"}}, "ValidationException",
        "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
}

TEST_F(KinesisErrors, HugeOrHostileInputsNeverCrash) {
  create_stream("h", 1);
  std::string deep(10000, '[');
  auto r = kinesis_raw("ListStreams", "application/x-amz-json-1.1", "{\"a\":" + deep);
  EXPECT_EQ(r.status, 400);
  r = kinesis_raw("ListStreams", "application/x-amz-cbor-1.1", std::string("\xa1\x61x\x5b\xff\xff\xff\xff\xff\xff\xff\xff", 12));
  EXPECT_EQ(r.status, 400);
  r = kinesis("GetRecords", {{"ShardIterator", std::string(512, '/')}});
  EXPECT_EQ(r.type(), "InvalidArgumentException");
  r = kinesis("ListShards", {{"NextToken", std::string(1000, 'A')}});
  EXPECT_EQ(r.type(), "InvalidArgumentException");
  r = kinesis("GetShardIterator", {{"StreamName", "h"}, {"ShardId", "shardId-99999999999999"}, {"ShardIteratorType", "LATEST"}});
  EXPECT_EQ(r.status, 400);
  r = kinesis("DescribeStream", {{"StreamName", "h"}, {"Limit", 1e300}});
  EXPECT_EQ(r.status, 400);
  r = kinesis("CreateStream", {{"StreamName", "h2"}, {"ShardCount", 4294967297LL}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);
}
