// The data plane: PutRecord(s), GetShardIterator, GetRecords, routing, limits, retention and
// the CBOR encoding.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "server/kinesis/kinesis_service.h"
#include "server/kinesis/sequence_number.h"
#include "server/store/store.h"
#include "tests/support/stored_blocks.h"
#include "tests/support/kinesis_fixture.h"
#include "wire/hash_key.h"

using namespace eddy::test;
using nlohmann::json;
namespace wire = eddy::wire;

namespace {
const std::string kTooBig = "340282366920938463463374607431768211456";
}  // namespace

class KinesisRecords : public KinesisFixture {};

TEST_F(KinesisRecords, PutRecordThenGetRecordsRoundTrip) {
  create_stream("s", 1);
  auto p = put("s", "key-1", std::string("hello\0world", 11));
  EXPECT_EQ(p["ShardId"], shard_id(0));
  EXPECT_EQ(p["EncryptionType"], "NONE");
  std::string seq = p["SequenceNumber"];
  EXPECT_EQ(seq.size(), 56u);
  auto r = ok("GetRecords", {{"ShardIterator", iterator("s", 0, "TRIM_HORIZON")}});
  ASSERT_EQ(r["Records"].size(), 1u);
  auto rec = r["Records"][0];
  EXPECT_EQ(rec["SequenceNumber"], seq);
  EXPECT_EQ(rec["PartitionKey"], "key-1");
  EXPECT_EQ(rec["Data"], b64(std::string("hello\0world", 11)));
  EXPECT_NEAR(rec["ApproximateArrivalTimestamp"].get<double>(), clock().now_ms() / 1000.0, 0.002);
  EXPECT_FALSE(rec.contains("EncryptionType"));
  EXPECT_EQ(r["MillisBehindLatest"], 0);
  EXPECT_TRUE(r["NextShardIterator"].is_string());
  EXPECT_FALSE(r.contains("ChildShards"));
}

TEST_F(KinesisRecords, RecordsLandInTheShardWhoseRangeHoldsTheMd5OfTheKey) {
  create_stream("h", 4);
  auto ranges = wire::even_split(4);
  std::vector<std::vector<std::string>> expect(4);
  for (int i = 0; i < 200; ++i) {
    std::string pk = "partition-" + std::to_string(i);
    auto key = wire::hash_key_of_partition_key(pk);
    int want = -1;
    for (int s = 0; s < 4; ++s)
      if (ranges[s].contains(key)) want = s;
    auto p = put("h", pk, "d" + std::to_string(i));
    EXPECT_EQ(p["ShardId"], shard_id(want)) << pk;
    expect[want].push_back(pk);
  }
  for (int s = 0; s < 4; ++s) {
    auto recs = read_all(iterator("h", s, "TRIM_HORIZON"));
    ASSERT_EQ(recs.size(), expect[s].size());
    for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i]["PartitionKey"], expect[s][i]);
  }
}

TEST_F(KinesisRecords, ExplicitHashKeyOverridesAndIsBounded) {
  create_stream("e", 4);
  EXPECT_EQ(put("e", "k", "x", {{"ExplicitHashKey", "0"}})["ShardId"], shard_id(0));
  EXPECT_EQ(put("e", "k", "x", {{"ExplicitHashKey", kMax}})["ShardId"], shard_id(3));
  EXPECT_EQ(put("e", "k", "x", {{"ExplicitHashKey", "170141183460469231731687303715884105728"}})["ShardId"], shard_id(2));
  EXPECT_EQ(put("e", "k", "x", {{"ExplicitHashKey", "170141183460469231731687303715884105727"}})["ShardId"], shard_id(1));
  fails("PutRecord", {{"StreamName", "e"}, {"PartitionKey", "k"}, {"Data", b64("x")}, {"ExplicitHashKey", kTooBig}},
        "InvalidArgumentException",
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " + kTooBig);
  fails("PutRecords", {{"StreamName", "e"}, {"Records", {{{"PartitionKey", "k"}, {"Data", b64("x")}},
                                                          {{"PartitionKey", "k"}, {"Data", b64("x")}, {"ExplicitHashKey", kTooBig}}}}},
        "InvalidArgumentException",
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " + kTooBig);
  fails("PutRecord", {{"StreamName", "e"}, {"PartitionKey", "k"}, {"Data", b64("x")}, {"ExplicitHashKey", "12a"}},
        "ValidationException",
        "1 validation error detected: Value '12a' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: 0|([1-9]\\d{0,38})");
  // Nothing from the failed PutRecords was stored.
  size_t total = 0;
  for (int s = 0; s < 4; ++s) total += read_all(iterator("e", s, "TRIM_HORIZON")).size();
  EXPECT_EQ(total, 4u);
}

TEST_F(KinesisRecords, SequenceNumbersStrictlyIncreaseAndHonourOrdering) {
  create_stream("o", 1);
  std::string prev;
  for (int i = 0; i < 20; ++i) {
    json extra = json::object();
    if (!prev.empty()) extra["SequenceNumberForOrdering"] = prev;
    std::string s = put("o", "k", "v", extra)["SequenceNumber"];
    if (!prev.empty()) {
      EXPECT_LT(prev, s);
    }
    prev = s;
  }
  auto out = ok("PutRecords", {{"StreamName", "o"}, {"Records", {{{"PartitionKey", "a"}, {"Data", b64("1")}},
                                                                  {{"PartitionKey", "b"}, {"Data", b64("2")}}}}});
  EXPECT_LT(prev, out["Records"][0]["SequenceNumber"].get<std::string>());
  EXPECT_LT(out["Records"][0]["SequenceNumber"].get<std::string>(), out["Records"][1]["SequenceNumber"].get<std::string>());
  fails("PutRecord", {{"StreamName", "o"}, {"PartitionKey", "k"}, {"Data", b64("v")}, {"SequenceNumberForOrdering", "123"}},
        "InvalidArgumentException",
        "ExclusiveMinimumSequenceNumber 123 used in PutRecord on stream o under account " + kAccount + " is invalid.");
  fails("PutRecord", {{"StreamName", "o"}, {"PartitionKey", "k"}, {"Data", b64("v")}, {"SequenceNumberForOrdering", "x"}},
        "ValidationException",
        "1 validation error detected: Value 'x' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: 0|([1-9]\\d{0,128})");
}

TEST_F(KinesisRecords, PutRecordValidation) {
  create_stream("v", 1);
  fails("PutRecord", {{"StreamName", "v"}}, "ValidationException",
        "2 validation errors detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be "
        "null; Value null at 'data' failed to satisfy constraint: Member must not be null");
  fails("PutRecord", {{"StreamName", "v"}, {"PartitionKey", ""}, {"Data", ""}}, "ValidationException",
        "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  fails("PutRecord", {{"StreamName", "v"}, {"PartitionKey", std::string(257, 'p')}, {"Data", ""}}, "ValidationException",
        "1 validation error detected: Value '" + std::string(257, 'p') +
            "' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256");
  put("v", std::string(256, 'p'), "");  // empty data and a 256-character key are fine
  fails("PutRecord", {{"StreamName", "nope"}, {"PartitionKey", "k"}, {"Data", ""}}, "ResourceNotFoundException",
        not_found("nope"));
}

TEST_F(KinesisRecords, RecordSizeCountsKeyAndData) {
  create_stream("big", 1);
  const size_t mib = 1024 * 1024;
  put("big", "k", std::string(mib - 1, 'a'));  // key + data = 1 MiB exactly
  fails("PutRecord", {{"StreamName", "big"}, {"PartitionKey", "k"}, {"Data", b64(std::string(mib, 'a'))}},
        "ValidationException",
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048576 cap=1048576]' at 'data' failed "
        "to satisfy constraint: Member must have length less than or equal to 1048575");
  fails("PutRecord", {{"StreamName", "big"}, {"PartitionKey", "k"}, {"Data", b64(std::string(mib + 10, 'a'))}},
        "ValidationException",
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048586 cap=1048586]' at 'data' failed "
        "to satisfy constraint: Member must have length less than or equal to 1048576");
  fails("PutRecords", {{"StreamName", "big"}, {"Records", {{{"PartitionKey", "k"}, {"Data", b64("x")}},
                                                            {{"PartitionKey", "kk"}, {"Data", b64(std::string(mib - 1, 'a'))}}}}},
        "ValidationException",
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048575 cap=1048575]' at "
        "'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048574");
}

TEST_F(KinesisRecords, PutRecordsCounts) {
  create_stream("pr", 2);
  auto one = ok("PutRecords", {{"StreamName", "pr"}, {"Records", {{{"PartitionKey", "a"}, {"Data", b64("1")}}}}});
  EXPECT_EQ(one["FailedRecordCount"], 0);
  EXPECT_EQ(one["EncryptionType"], "NONE");
  ASSERT_EQ(one["Records"].size(), 1u);
  EXPECT_EQ(one["Records"][0].size(), 2u);  // SequenceNumber and ShardId only

  json recs = json::array();
  for (int i = 0; i < 500; ++i) recs.push_back({{"PartitionKey", std::to_string(i)}, {"Data", b64("r" + std::to_string(i))}});
  auto many = ok("PutRecords", {{"StreamName", "pr"}, {"Records", recs}});
  EXPECT_EQ(many["FailedRecordCount"], 0);
  ASSERT_EQ(many["Records"].size(), 500u);
  for (int i = 0; i < 500; ++i) {
    auto key = wire::hash_key_of_partition_key(std::to_string(i));
    int want = wire::even_split(2)[0].contains(key) ? 0 : 1;
    EXPECT_EQ(many["Records"][i]["ShardId"], shard_id(want));
  }
  EXPECT_EQ(read_all(iterator("pr", 0, "TRIM_HORIZON")).size() + read_all(iterator("pr", 1, "TRIM_HORIZON")).size(), 501u);

  recs.push_back({{"PartitionKey", "x"}, {"Data", b64("x")}});
  auto r = fails("PutRecords", {{"StreamName", "pr"}, {"Records", recs}}, "ValidationException");
  std::string m = r.message();
  EXPECT_EQ(m.rfind("1 validation error detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@", 0), 0u);
  EXPECT_NE(m.find("]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"),
            std::string::npos);
  fails("PutRecords", {{"StreamName", "pr"}, {"Records", json::array()}}, "ValidationException",
        "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  fails("PutRecords", json::object(), "ValidationException",
        "2 validation errors detected: Value null at 'records' failed to satisfy constraint: Member must not be null; "
        "Value null at 'streamName' failed to satisfy constraint: Member must not be null");
  fails("PutRecords", {{"StreamName", ""}, {"Records", json::array()}}, "ValidationException",
        "3 validation errors detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1; Value '' at 'streamName' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: Member "
        "must have length greater than or equal to 1");
  fails("PutRecords", {{"StreamName", "pr"}, {"Records", {{{"Data", b64("x")}}, {{"PartitionKey", "k"}}}}},
        "ValidationException",
        "2 validation errors detected: Value null at 'records.1.member.partitionKey' failed to satisfy constraint: "
        "Member must not be null; Value null at 'records.2.member.data' failed to satisfy constraint: Member must not "
        "be null");
}

TEST_F(KinesisRecords, PutRecordsBodiesOfEveryShapeAreReadAlike) {
  create_stream("shape", 1);
  // Plain SDK-shaped bodies, bodies with whitespace, escapes, non-ASCII keys, nulls, other
  // member orders, an ARN: all store the same records.
  std::vector<std::string> bodies = {
      R"({"Records":[{"Data":"YQ==","PartitionKey":"k1"},{"PartitionKey":"k2","Data":"Yg==","ExplicitHashKey":"5"}],"StreamName":"shape"})",
      " {\n \"StreamName\" : \"shape\" ,\t\"Records\" : [ { \"Data\" : \"Yw==\" , \"PartitionKey\" : \"k3\" } ] } ",
      R"({"StreamName":"shape","Records":[{"Data":"ZA==","PartitionKey":"k\"4\u0041","ExplicitHashKey":null}]})",
      R"({"StreamName":"shape","Records":[{"Data":"ZQ==","PartitionKey":"clé"}]})",
      R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/shape","Records":[{"Data":"","PartitionKey":"k6"}]})",
      R"({"StreamName":"shape","Records":[{"Data":"Zg==","PartitionKey":"k7"}],"Extra":1})",
      // Escapes and non-ASCII past the first eight bytes of a string (the scanner reads words).
      R"({"StreamName":"shape","Records":[{"Data":"Zw==","PartitionKey":"abcdefghij\u00e9klmnop"},{"Data":"aA==","PartitionKey":"abcdefghijklé-long-key"}]})",
  };
  for (const auto& b : bodies) {
    auto r = kinesis_raw("PutRecords", "application/x-amz-json-1.1", b);
    EXPECT_EQ(r.status, 200) << b << " -> " << r.raw;
    EXPECT_EQ(r.body["FailedRecordCount"], 0);
  }
  auto recs = read_all(iterator("shape", 0, "TRIM_HORIZON"));
  ASSERT_EQ(recs.size(), 9u);
  std::vector<std::pair<std::string, std::string>> want = {
      {"k1", "a"}, {"k2", "b"}, {"k3", "c"}, {"k\"4A", "d"}, {"clé", "e"}, {"k6", ""}, {"k7", "f"},
      {"abcdefghijéklmnop", "g"}, {"abcdefghijklé-long-key", "h"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(recs[i]["PartitionKey"], want[i].first);
    EXPECT_EQ(recs[i]["Data"], b64(want[i].second));
  }
  // The same mistakes give the same errors whichever way the body is read.
  fails("PutRecords", json::parse(R"({"StreamName":"shape","Records":[{"Data":"YQ==","PartitionKey":""}]})"),
        "ValidationException",
        "1 validation error detected: Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member "
        "must have length greater than or equal to 1");
  fails("PutRecords", json::parse(R"({"StreamName":"shape","Records":[{"Data":"Y$==","PartitionKey":"k"}]})"),
        "SerializationException");
  auto raw_tab = kinesis_raw("PutRecords", "application/x-amz-json-1.1",
                             "{\"StreamName\":\"shape\",\"Records\":[{\"Data\":\"YQ==\",\"PartitionKey\":\"abcdefghij\tkl\"}]}");
  EXPECT_EQ(raw_tab.type(), "SerializationException") << raw_tab.raw;  // a raw control character is not JSON
  fails("PutRecords", json::parse(R"({"StreamName":"shape","Records":[{"Data":"YQ==","PartitionKey":"k","ExplicitHashKey":"07"}]})"),
        "ValidationException");
  auto dup = kinesis_raw("PutRecords", "application/x-amz-json-1.1",
                         R"({"StreamName":"nope","StreamName":"shape","Records":[{"Data":"YQ==","PartitionKey":"k"}]})");
  EXPECT_EQ(dup.status, 200) << dup.raw;  // the last duplicate wins, as in the generic reader
}

// PutRecord bodies are read by the same fast path when plain, by the generic reader otherwise.
TEST_F(KinesisRecords, PutRecordBodiesOfEveryShapeAreReadAlike) {
  create_stream("one", 2);
  const std::string first = put("one", "k0", "0", {{"ExplicitHashKey", "0"}})["SequenceNumber"];
  std::vector<std::string> bodies = {
      R"({"StreamName":"one","PartitionKey":"k1","Data":"YQ==","ExplicitHashKey":"1"})",
      " {\n \"Data\" : \"Yg==\" ,\t\"PartitionKey\" : \"k2\", \"StreamName\":\"one\", \"ExplicitHashKey\" : \"2\" } ",
      R"({"StreamName":"one","PartitionKey":"k\"3\u0041","Data":"Yw==","ExplicitHashKey":"3","SequenceNumberForOrdering":null})",
      R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/one","PartitionKey":"clé","Data":"ZA==","ExplicitHashKey":"4"})",
      R"({"StreamName":"one","PartitionKey":"k5","Data":"","ExplicitHashKey":"5","SequenceNumberForOrdering":")" + first + R"("})",
      R"({"StreamName":"one","PartitionKey":"k6","Data":"ZQ==","ExplicitHashKey":"6","Extra":1})",
  };
  std::string last = first;
  for (const auto& b : bodies) {
    auto r = kinesis_raw("PutRecord", "application/x-amz-json-1.1", b);
    ASSERT_EQ(r.status, 200) << b << " -> " << r.raw;
    EXPECT_EQ(r.body["ShardId"], shard_id(0));
    EXPECT_LT(last, r.body["SequenceNumber"].get<std::string>());
    last = r.body["SequenceNumber"];
  }
  auto recs = read_all(iterator("one", 0, "TRIM_HORIZON"));
  ASSERT_EQ(recs.size(), 7u);
  std::vector<std::pair<std::string, std::string>> want = {{"k0", "0"}, {"k1", "a"}, {"k2", "b"}, {"k\"3A", "c"},
                                                           {"clé", "d"}, {"k5", ""},  {"k6", "e"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(recs[i]["PartitionKey"], want[i].first);
    EXPECT_EQ(recs[i]["Data"], b64(want[i].second));
  }
  // The same mistakes give the same errors whichever way the body is read (an escaped key
  // sends it down the generic reader).
  fails("PutRecord", json::parse(R"({"StreamName":"one","PartitionKey":"","Data":"YQ=="})"), "ValidationException",
        "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1");
  for (const std::string key : {R"("k")", R"("\u006b")"}) {
    auto bad_seq = kinesis_raw("PutRecord", "application/x-amz-json-1.1",
                               R"({"StreamName":"one","PartitionKey":)" + key +
                                   R"(,"Data":"YQ==","SequenceNumberForOrdering":"12"})");
    EXPECT_EQ(bad_seq.type(), "InvalidArgumentException") << bad_seq.raw;
    EXPECT_EQ(bad_seq.message(), "ExclusiveMinimumSequenceNumber 12 used in PutRecord on stream one under account " +
                                     kAccount + " is invalid.");
    auto bad_data = kinesis_raw("PutRecord", "application/x-amz-json-1.1",
                                R"({"StreamName":"one","PartitionKey":)" + key + R"(,"Data":"Y$=="})");
    EXPECT_EQ(bad_data.type(), "SerializationException") << bad_data.raw;
    auto bad_hash = kinesis_raw("PutRecord", "application/x-amz-json-1.1",
                                R"({"StreamName":"one","PartitionKey":)" + key + R"(,"Data":"YQ==","ExplicitHashKey":"07"})");
    EXPECT_EQ(bad_hash.type(), "ValidationException") << bad_hash.raw;
  }
}

TEST_F(KinesisRecords, PutRecordsOverTenMiBIsRejectedWhole) {
  create_stream("ten", 4);
  const size_t mib = 1024 * 1024;
  // 11 records of exactly 1 MiB (key + data) each: every record is valid, the request is not.
  json recs = json::array();
  for (int i = 0; i < 11; ++i)
    recs.push_back({{"PartitionKey", "k"}, {"Data", json::binary(std::vector<uint8_t>(mib - 1, 'a'))}});
  auto r = kinesis_cbor("PutRecords", {{"StreamName", "ten"}, {"Records", recs}});
  EXPECT_EQ(r.status, 400) << r.raw.substr(0, 300);
  EXPECT_EQ(r.type(), "InvalidArgumentException");
  EXPECT_EQ(r.message(), "Records size exceeds 10 MB limit");
  // Ten of them are exactly the limit, as JSON (base64 makes the body ~13.3 MiB).
  json ten = json::array();
  for (int i = 0; i < 10; ++i)
    ten.push_back({{"PartitionKey", "k" + std::to_string(i)}, {"Data", b64(std::string(mib - 2, 'a'))}});
  auto okr = ok("PutRecords", {{"StreamName", "ten"}, {"Records", ten}});
  EXPECT_EQ(okr["FailedRecordCount"], 0);
  // A body no valid request can reach is refused by the front end before it is read: only
  // the head is sent here, and the 413 comes back at once.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(app_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string head =
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
      "X-Amz-Target: Kinesis_20131202.PutRecords\r\nX-Amz-Date: 20260101T000000Z\r\n"
      "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=00\r\nContent-Length: " + std::to_string(20 * mib) + "\r\n\r\n";
  ASSERT_EQ(send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  close(fd);
  ASSERT_GT(n, 12);
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 413");
}

TEST_F(KinesisRecords, IteratorTypes) {
  create_stream("it", 1);
  auto s1 = put("it", "k", "1")["SequenceNumber"].get<std::string>();
  int64_t t1 = clock().now_ms();
  clock().advance_ms(10'000);
  auto s2 = put("it", "k", "2")["SequenceNumber"].get<std::string>();
  auto latest = iterator("it", 0, "LATEST");
  clock().advance_ms(10'000);
  auto s3 = put("it", "k", "3")["SequenceNumber"].get<std::string>();

  auto data_of = [](const std::vector<json>& v) {
    std::string s;
    for (auto& r : v) s += r["Data"].get<std::string>() == b64("1") ? "1" : r["Data"].get<std::string>() == b64("2") ? "2" : "3";
    return s;
  };
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "TRIM_HORIZON"))), "123");
  EXPECT_EQ(data_of(read_all(latest)), "3");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "LATEST"))), "");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "AT_SEQUENCE_NUMBER", {{"StartingSequenceNumber", s2}}))), "23");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "AFTER_SEQUENCE_NUMBER", {{"StartingSequenceNumber", s2}}))), "3");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "AFTER_SEQUENCE_NUMBER", {{"StartingSequenceNumber", s3}}))), "");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "AT_TIMESTAMP", {{"Timestamp", t1 / 1000.0}}))), "123");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "AT_TIMESTAMP", {{"Timestamp", (t1 + 5000) / 1000.0}}))), "23");
  EXPECT_EQ(data_of(read_all(iterator("it", 0, "AT_TIMESTAMP", {{"Timestamp", clock().now_ms() / 1000.0}}))), "3");
  (void)s1;
}

TEST_F(KinesisRecords, AtTimestampFindsTheFirstRecordAtOrAfterIt) {
  create_stream("ts", 1);
  int64_t t0 = clock().now_ms();
  for (int i = 0; i < 100; ++i) {
    put("ts", "k", std::to_string(i));
    if (i % 3 == 2) clock().advance_ms(1000);  // three records a second
  }
  for (int sec : {0, 1, 17, 32, 33}) {
    auto recs = read_all(iterator("ts", 0, "AT_TIMESTAMP", {{"Timestamp", (t0 + sec * 1000) / 1000.0}}));
    size_t first = std::min<size_t>(static_cast<size_t>(sec) * 3, 100);
    ASSERT_EQ(recs.size(), 100 - first) << sec;
    if (!recs.empty()) {
      EXPECT_EQ(recs[0]["Data"], b64(std::to_string(first))) << sec;
    }
  }
  // Between two arrivals: the later one.
  auto recs = read_all(iterator("ts", 0, "AT_TIMESTAMP", {{"Timestamp", (t0 + 10'500) / 1000.0}}));
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs[0]["Data"], b64("33"));
}

TEST_F(KinesisRecords, GetShardIteratorErrors) {
  create_stream("g", 2);
  auto other = put("g", "k", "x", {{"ExplicitHashKey", kMax}})["SequenceNumber"].get<std::string>();  // shard 1
  auto base = json{{"StreamName", "g"}, {"ShardId", shard_id(0)}};
  auto with = [&](json extra) {
    json j = base;
    j.update(extra);
    return j;
  };
  fails("GetShardIterator", with({{"ShardIteratorType", "AT_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", other}}),
        "InvalidArgumentException",
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with "
        "shardId-000000000000");
  fails("GetShardIterator", with({{"ShardIteratorType", "AFTER_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", other}}),
        "InvalidArgumentException");
  fails("GetShardIterator", with({{"ShardIteratorType", "AT_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", "12345"}}),
        "InvalidArgumentException",
        "StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 in stream g under account " +
            kAccount + " is invalid.");
  create_stream("g2", 1);
  auto foreign = put("g2", "k", "x")["SequenceNumber"].get<std::string>();
  fails("GetShardIterator", with({{"ShardIteratorType", "AT_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", foreign}}),
        "InvalidArgumentException",
        "StartingSequenceNumber " + foreign + " used in GetShardIterator on shard shardId-000000000000 in stream g under "
        "account " + kAccount + " is invalid because it did not come from this stream.");
  fails("GetShardIterator", with({{"ShardIteratorType", "AT_SEQUENCE_NUMBER"}}), "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
        "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no "
        "StartingSequenceNumber.");
  fails("GetShardIterator", with({{"ShardIteratorType", "LATEST"}, {"StartingSequenceNumber", other}}),
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
        "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified LATEST and also a "
        "StartingSequenceNumber.");
  fails("GetShardIterator", with({{"ShardIteratorType", "AT_TIMESTAMP"}}), "InvalidArgumentException",
        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp "
        "parameter.");
  int64_t now = clock().now_ms();
  fails("GetShardIterator", with({{"ShardIteratorType", "AT_TIMESTAMP"}, {"Timestamp", (now + 60'000) / 1000.0}}),
        "InvalidArgumentException",
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: " +
            std::to_string(now + 60'000) + ", currentTimestampInMillis: " + std::to_string(now));
  fails("GetShardIterator", with({{"ShardIteratorType", "OLDEST"}}), "ValidationException",
        "1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must "
        "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
  fails("GetShardIterator", {{"StreamName", "g"}, {"ShardId", shard_id(7)}, {"ShardIteratorType", "LATEST"}},
        "ResourceNotFoundException",
        "Shard shardId-000000000007 in stream g under account " + kAccount + " does not exist");
  fails("GetShardIterator", {{"StreamName", "g"}, {"ShardId", "shard-x"}, {"ShardIteratorType", "LATEST"}},
        "ResourceNotFoundException", "Could not find shard shard-x in stream g under account " + kAccount + ".");
  fails("GetShardIterator", {{"StreamName", "nope"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "LATEST"}},
        "ResourceNotFoundException",
        "Shard shardId-000000000000 in stream nope under account " + kAccount + " does not exist");
  // A bare index is accepted as a shard id.
  EXPECT_FALSE(iterator("g", 0, "LATEST").empty());
  ok("GetShardIterator", {{"StreamName", "g"}, {"ShardId", "1"}, {"ShardIteratorType", "LATEST"}});
}

TEST_F(KinesisRecords, GetRecordsLimitPagingAndMillisBehind) {
  create_stream("gr", 1);
  for (int i = 0; i < 5; ++i) put("gr", "k", std::to_string(i));
  clock().advance_ms(1000);
  auto r = ok("GetRecords", {{"ShardIterator", iterator("gr", 0, "TRIM_HORIZON")}, {"Limit", 2}});
  ASSERT_EQ(r["Records"].size(), 2u);
  EXPECT_EQ(r["MillisBehindLatest"], 1000);
  r = ok("GetRecords", {{"ShardIterator", r["NextShardIterator"]}, {"Limit", 2}});
  ASSERT_EQ(r["Records"].size(), 2u);
  EXPECT_EQ(r["Records"][0]["Data"], b64("2"));
  r = ok("GetRecords", {{"ShardIterator", r["NextShardIterator"]}, {"Limit", 10000}});
  ASSERT_EQ(r["Records"].size(), 1u);
  EXPECT_EQ(r["MillisBehindLatest"], 0);
  auto next = r["NextShardIterator"].get<std::string>();
  r = ok("GetRecords", {{"ShardIterator", next}});
  EXPECT_EQ(r["Records"].size(), 0u);
  put("gr", "k", "5");
  r = ok("GetRecords", {{"ShardIterator", r["NextShardIterator"]}});
  ASSERT_EQ(r["Records"].size(), 1u);
  EXPECT_EQ(r["Records"][0]["Data"], b64("5"));
  // An iterator can be reused (it names a position, not a cursor).
  EXPECT_EQ(ok("GetRecords", {{"ShardIterator", next}})["Records"].size(), 1u);

  fails("GetRecords", {{"ShardIterator", next}, {"Limit", 0}}, "ValidationException",
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1");
  fails("GetRecords", {{"ShardIterator", next}, {"Limit", 10001}}, "ValidationException",
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value "
        "less than or equal to 10000");
  fails("GetRecords", json::object(), "ValidationException",
        "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be "
        "null");
  fails("GetRecords", {{"ShardIterator", std::string(513, 'A')}}, "ValidationException");
  fails("GetRecords", {{"ShardIterator", "garbage"}}, "InvalidArgumentException", "Invalid ShardIterator.");
  // The stream is deleted under the iterator.
  ok("DeleteStream", {{"StreamName", "gr"}});
  fails("GetRecords", {{"ShardIterator", next}}, "ResourceNotFoundException",
        "Shard shardId-000000000000 in stream gr under account " + kAccount + " does not exist");
}

TEST_F(KinesisRecords, GetRecordsStopsAtTenMiB) {
  create_stream("cap", 1);
  const size_t mib = 1024 * 1024;
  for (int i = 0; i < 12; ++i) put("cap", "k", std::string(mib - 1, static_cast<char>('a' + i)));
  auto r = kinesis_cbor("GetRecords", {{"ShardIterator", iterator("cap", 0, "TRIM_HORIZON")}});
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["Records"].size(), 10u);
  EXPECT_EQ(r.body["MillisBehindLatest"].get<int64_t>(), 0);  // the manual clock stands still
  auto r2 = kinesis_cbor("GetRecords", {{"ShardIterator", r.body["NextShardIterator"]}});
  ASSERT_EQ(r2.body["Records"].size(), 2u);
  EXPECT_EQ(r2.body["Records"][0]["Data"].get_binary()[0], 'a' + 10);
}

TEST_F(KinesisRecords, EncryptionShowsInRecordsAndLeavesDataAlone) {
  create_stream("kms", 1);
  put("kms", "k", "before");
  ok("StartStreamEncryption", {{"StreamName", "kms"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}});
  EXPECT_EQ(put("kms", "k", "after")["EncryptionType"], "KMS");
  auto pr = ok("PutRecords", {{"StreamName", "kms"}, {"Records", {{{"PartitionKey", "k"}, {"Data", b64("batch")}}}}});
  EXPECT_EQ(pr["EncryptionType"], "KMS");
  auto recs = read_all(iterator("kms", 0, "TRIM_HORIZON"));
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1]["Data"], b64("after"));
  EXPECT_EQ(recs[2]["Data"], b64("batch"));
  for (auto& r : recs) EXPECT_EQ(r["EncryptionType"], "KMS");
}

TEST_F(KinesisRecords, CborRoundTrip) {
  create_stream("cb", 1);
  std::vector<uint8_t> data = {0x00, 0x01, 0xfe, 0xff, 'z'};
  auto p = kinesis_cbor("PutRecord", {{"StreamName", "cb"}, {"PartitionKey", "k"}, {"Data", json::binary(data)}});
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(p.http.header("content-type"), "application/x-amz-cbor-1.1");
  EXPECT_EQ(p.body["ShardId"], shard_id(0));
  auto pr = kinesis_cbor("PutRecords", {{"StreamName", "cb"},
                                        {"Records", {{{"PartitionKey", "k2"}, {"Data", json::binary(std::vector<uint8_t>{7})}}}}});
  ASSERT_EQ(pr.status, 200);
  EXPECT_EQ(pr.body["FailedRecordCount"], 0);
  auto it = kinesis_cbor("GetShardIterator",
                         {{"StreamName", "cb"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "TRIM_HORIZON"}});
  ASSERT_EQ(it.status, 200);
  auto g = kinesis_cbor("GetRecords", {{"ShardIterator", it.body["ShardIterator"]}});
  ASSERT_EQ(g.status, 200);
  ASSERT_EQ(g.body["Records"].size(), 2u);
  auto rec = g.body["Records"][0];
  ASSERT_TRUE(rec["Data"].is_binary());
  EXPECT_EQ(std::vector<uint8_t>(rec["Data"].get_binary().begin(), rec["Data"].get_binary().end()), data);
  EXPECT_EQ(rec["ApproximateArrivalTimestamp"], clock().now_ms());
  // Raw bytes: a 5-byte byte string (0x45) holding the data, and tag 1 (0xC1) before the time.
  std::string bstr = "\x45" + std::string(data.begin(), data.end());
  EXPECT_NE(g.raw.find(bstr), std::string::npos);
  EXPECT_NE(g.raw.find(std::string("\xc1\x1b", 2)), std::string::npos);
  // AT_TIMESTAMP with a CBOR tag 1 millisecond timestamp, as the Java SDK sends it.
  std::string body = "\xa4";
  auto key = [&](const std::string& k) { body += static_cast<char>(0x60 | k.size()); body += k; };
  key("StreamName"); body += "\x62" "cb";
  key("ShardId"); body += static_cast<char>(0x60 | 20); body += shard_id(0);
  key("ShardIteratorType"); body += static_cast<char>(0x6c); body += "AT_TIMESTAMP";
  key("Timestamp"); body += "\xc1\x1b";
  uint64_t ms = static_cast<uint64_t>(clock().now_ms());
  for (int i = 7; i >= 0; --i) body += static_cast<char>(ms >> (8 * i));
  auto ts = kinesis_raw("GetShardIterator", "application/x-amz-cbor-1.1", body);
  ASSERT_EQ(ts.status, 200) << ts.body.dump();
  auto g2 = kinesis_cbor("GetRecords", {{"ShardIterator", ts.body["ShardIterator"]}});
  EXPECT_EQ(g2.body["Records"].size(), 2u);
  // Errors come back in CBOR too.
  auto e = kinesis_cbor("DescribeStream", {{"StreamName", "nope"}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type(), "ResourceNotFoundException");
  EXPECT_EQ(e.http.header("content-type"), "application/x-amz-cbor-1.1");
}

TEST_F(KinesisRecords, RetentionTrimsOldRecords) {
  // docs/kinesis.md: records past retention are hidden from reads and deleted from storage,
  // lazily by a read that skips them and by the periodic trim.
  create_stream("ret", 1);
  create_stream("lazy", 1);
  create_stream("long", 1);
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "long"}, {"RetentionPeriodHours", 48}});
  for (auto s : {"ret", "lazy", "long"}) put(s, "k", "old");
  auto stored_blocks = [&](const std::string& stream) { return eddy::test::stored_blocks(*app_, stream); };
  EXPECT_EQ(stored_blocks("ret"), 1u);
  clock().advance_ms(23 * 3600 * 1000LL);
  EXPECT_EQ(read_all(iterator("ret", 0, "TRIM_HORIZON")).size(), 1u);
  clock().advance_ms(2 * 3600 * 1000LL);  // 25 h
  put("ret", "k", "new");
  put("lazy", "k", "new");
  auto before_trim = iterator("ret", 0, "TRIM_HORIZON");
  EXPECT_EQ(stored_blocks("ret"), 2u);  // expired but not yet deleted
  // A read skips the expired record and deletes it on the way.
  auto recs = read_all(iterator("lazy", 0, "TRIM_HORIZON"));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["Data"], b64("new"));
  EXPECT_EQ(stored_blocks("lazy"), 1u);
  // The periodic trim deletes the rest; the stream with 48 h retention keeps its record.
  EXPECT_EQ(stored_blocks("ret"), 2u);
  app_->kinesis().trim_expired();
  EXPECT_EQ(stored_blocks("ret"), 1u);
  EXPECT_EQ(stored_blocks("long"), 1u);
  EXPECT_EQ(read_all(iterator("long", 0, "TRIM_HORIZON")).size(), 1u);
  // An iterator taken before the trim reads on past the gap: exactly the record left.
  recs = read_all(before_trim);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["Data"], b64("new"));
  recs = read_all(iterator("ret", 0, "TRIM_HORIZON"));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["Data"], b64("new"));
}

TEST_F(KinesisRecords, EveryResponseCarriesRequestIds) {
  create_stream("ids", 1);
  std::vector<KinesisResult> rs = {
      kinesis("DescribeStream", {{"StreamName", "ids"}}),
      kinesis("DescribeStream", {{"StreamName", "missing"}}),
      kinesis("NoSuchOperation", json::object()),
      kinesis_raw("DescribeStream", "application/x-amz-json-1.1", "{bad json"),
      kinesis_cbor("ListStreams", json::object()),
      kinesis("PutRecord", {{"StreamName", "ids"}, {"PartitionKey", "k"}, {"Data", b64("x")}}),
  };
  std::set<std::string> ids;
  for (auto& r : rs) {
    // A UUID v4, as AWS's request ids: 8-4-4-4-12 lowercase hex, version 4, variant 8..b.
    const std::string id = r.http.header("x-amzn-requestid");
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << id;
    ids.insert(id);
    EXPECT_FALSE(r.http.header("x-amz-id-2").empty()) << r.raw;
  }
  EXPECT_EQ(ids.size(), rs.size());
}

// One PutRecords call stores each shard's records as one block (split at about 1 MiB): every
// iterator type and GetRecords Limit must still address single records inside and across blocks.
TEST_F(KinesisRecords, RecordsInsideAndAcrossStoredBlocks) {
  create_stream("blk", 1);
  json first = json::array(), second = json::array();
  for (int i = 0; i < 5; ++i)  // 5 x 400 KB: more than one block
    first.push_back({{"PartitionKey", "k" + std::to_string(i)}, {"Data", b64(std::string(400'000, static_cast<char>('a' + i)))}});
  for (int i = 5; i < 10; ++i) second.push_back({{"PartitionKey", "k" + std::to_string(i)}, {"Data", b64("small-" + std::to_string(i))}});
  auto r1 = ok("PutRecords", {{"StreamName", "blk"}, {"Records", first}});
  clock().advance_ms(5'000);
  int64_t t2 = clock().now_ms();
  auto r2 = ok("PutRecords", {{"StreamName", "blk"}, {"Records", second}});
  std::vector<std::string> seqs;
  for (auto* r : {&r1, &r2})
    for (auto& e : (*r)["Records"]) seqs.push_back(e["SequenceNumber"]);
  ASSERT_EQ(seqs.size(), 10u);
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]);

  auto keys_of = [](const std::vector<json>& v) {
    std::string s;
    for (auto& r : v) s += r["PartitionKey"].get<std::string>().substr(1);
    return s;
  };
  EXPECT_EQ(keys_of(read_all(iterator("blk", 0, "TRIM_HORIZON"))), "0123456789");
  for (size_t i = 0; i < seqs.size(); ++i) {
    auto at = read_all(iterator("blk", 0, "AT_SEQUENCE_NUMBER", {{"StartingSequenceNumber", seqs[i]}}));
    ASSERT_EQ(at.size(), 10 - i);
    EXPECT_EQ(at[0]["SequenceNumber"], seqs[i]);
    EXPECT_EQ(keys_of(read_all(iterator("blk", 0, "AFTER_SEQUENCE_NUMBER", {{"StartingSequenceNumber", seqs[i]}}))).size(), 9 - i);
  }
  EXPECT_EQ(keys_of(read_all(iterator("blk", 0, "AT_TIMESTAMP", {{"Timestamp", t2 / 1000.0}}))), "56789");

  // Limit 1 walks the records one call at a time, from the middle of a block to the next.
  std::string it = iterator("blk", 0, "AT_SEQUENCE_NUMBER", {{"StartingSequenceNumber", seqs[2]}});
  std::string walked;
  for (int i = 0; i < 8; ++i) {
    auto g = ok("GetRecords", {{"ShardIterator", it}, {"Limit", 1}});
    ASSERT_EQ(g["Records"].size(), 1u);
    EXPECT_EQ(g["Records"][0]["SequenceNumber"], seqs[2 + i]);
    if (i < 3) {
      EXPECT_EQ(g["Records"][0]["Data"], b64(std::string(400'000, static_cast<char>('a' + 2 + i))));
    }
    walked += g["Records"][0]["PartitionKey"].get<std::string>().substr(1);
    it = g["NextShardIterator"];
  }
  EXPECT_EQ(walked, "23456789");
  EXPECT_TRUE(ok("GetRecords", {{"ShardIterator", it}})["Records"].empty());
}
