// Fault injection through /_eddy/faults: AWS errors, partial PutRecords failures, latency,
// dropped and reset connections, trickled bodies, S3 errors by key prefix; hit counts; and
// the promise that no accepted write is lost or duplicated.
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <sstream>

#include "tests/api/limits_test_support.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

class Faults : public LimitsFixture {
 protected:
  json put_rules(const json& rules) { return admin("PUT", "/_eddy/faults", rules); }
};

class FaultsThrottled : public LimitsFixture {
 protected:
  void tune(eddy::Config& c) override { c.throttle = "aws"; }
};

}  // namespace

TEST_F(Faults, AdminApiReplacesAddsListsAndClears) {
  auto empty = admin("GET", "/_eddy/faults", nullptr);
  EXPECT_EQ(empty["rules"], json::array());
  auto l = put_rules(json::array({{{"id", "one"}, {"stream", "s"}, {"action", "error"}, {"error_code", "InternalFailure"}}}));
  ASSERT_EQ(l["rules"].size(), 1u);
  EXPECT_EQ(l["rules"][0]["id"], "one");
  EXPECT_EQ(l["rules"][0]["service"], "kinesis");
  EXPECT_EQ(l["rules"][0]["status"], 500);
  EXPECT_EQ(l["rules"][0]["matched"], 0);
  l = admin("POST", "/_eddy/faults", {{"bucket", "b"}, {"action", "error"}, {"error_code", "SlowDown"}});
  ASSERT_EQ(l["rules"].size(), 2u);
  EXPECT_EQ(l["rules"][1]["id"], "rule-2");
  EXPECT_EQ(l["rules"][1]["status"], 503);
  // Replace all, with a global seed.
  l = put_rules({{"seed", 77}, {"rules", json::array({{{"action", "latency"}, {"latency_ms", 1}}})}});
  EXPECT_EQ(l["seed"], 77);
  EXPECT_EQ(l["rules"].size(), 1u);
  // Errors say what is wrong and change nothing.
  auto bad = admin("PUT", "/_eddy/faults", json::array({{{"action", "error"}}}), 400);
  EXPECT_NE(bad["error"].get<std::string>().find("error_code"), std::string::npos);
  admin("POST", "/_eddy/faults", {{"action", "close"}, {"probability", 3}}, 400);
  auto raw = http("PUT", "/_eddy/faults", {}, "{not json");
  EXPECT_EQ(raw.status, 400);
  EXPECT_EQ(admin("GET", "/_eddy/faults", nullptr)["rules"].size(), 1u);
  l = admin("DELETE", "/_eddy/faults", nullptr);
  EXPECT_EQ(l["rules"], json::array());
  EXPECT_EQ(http("PATCH", "/_eddy/faults").status, 405);
}

TEST_F(Faults, KinesisErrorsWithTheirStatusAndShape) {
  create_stream("s", 1);
  create_stream("other", 1);
  put_rules(json::array({
      {{"id", "if"}, {"stream", "s"}, {"operation", "PutRecord"}, {"action", "error"}, {"error_code", "InternalFailure"}},
      {{"id", "su"}, {"stream", "s"}, {"operation", "DescribeStreamSummary"}, {"action", "error"},
       {"error_code", "ServiceUnavailable"}},
      {{"id", "kms"}, {"stream", "s"}, {"operation", "ListShards"}, {"action", "error"},
       {"error_code", "KMSThrottlingException"}, {"message", "Rate exceeded for KMS key."}},
      {{"id", "pt"}, {"stream", "s"}, {"operation", "DescribeStream"}, {"action", "error"},
       {"error_code", "ProvisionedThroughputExceededException"}},
  }));
  auto r = kinesis("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", b64("x")}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, json({{"__type", "InternalFailure"}}));
  EXPECT_EQ(r.http.header("x-amzn-errortype"), "InternalFailure");
  r = kinesis("DescribeStreamSummary", {{"StreamName", "s"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.type(), "ServiceUnavailable");
  r = kinesis("ListShards", {{"StreamName", "s"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "KMSThrottlingException");
  EXPECT_EQ(r.message(), "Rate exceeded for KMS key.");
  r = kinesis("DescribeStream", {{"StreamName", "s"}});
  EXPECT_EQ(r.message(), "Rate exceeded for stream s under account " + account() + ".");
  // CBOR callers get the CBOR error shape.
  auto c = kinesis_cbor("DescribeStreamSummary", {{"StreamName", "s"}});
  EXPECT_EQ(c.status, 503);
  EXPECT_NE(c.http.header("content-type").find("cbor"), std::string::npos);
  EXPECT_EQ(c.type(), "ServiceUnavailable");
  // Other streams are untouched; the failed PutRecord stored nothing.
  EXPECT_EQ(kinesis("PutRecord", {{"StreamName", "other"}, {"PartitionKey", "k"}, {"Data", b64("x")}}).status, 200);
  EXPECT_EQ(read_back("s").size(), 0u);
  auto l = admin("GET", "/_eddy/faults", nullptr);
  EXPECT_EQ(l["rules"][0]["fired"], 1);
  EXPECT_EQ(l["rules"][1]["fired"], 2);
  EXPECT_EQ(l["fired"].get<int>(), 5);
}

TEST_F(Faults, EveryNthFirstNAndPartitionKeyPrefix) {
  create_stream("n", 1);
  put_rules(json::array({{{"stream", "n"}, {"operation", "PutRecord"}, {"key_prefix", "bad-"}, {"every_nth", 2},
                          {"action", "error"}, {"error_code", "InternalFailure"}}}));
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i)
    statuses.push_back(kinesis("PutRecord", {{"StreamName", "n"}, {"PartitionKey", "bad-1"}, {"Data", b64("x")}}).status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 500, 200, 500}));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(kinesis("PutRecord", {{"StreamName", "n"}, {"PartitionKey", "good"}, {"Data", b64("x")}}).status, 200);
  put_rules(json::array({{{"stream", "n"}, {"first_n", 2}, {"action", "error"}, {"error_code", "ServiceUnavailable"}}}));
  statuses.clear();
  for (int i = 0; i < 4; ++i) statuses.push_back(kinesis("DescribeStreamSummary", {{"StreamName", "n"}}).status);
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200, 200}));
  EXPECT_EQ(read_back("n").size(), 6u);
}

TEST_F(Faults, TimeWindowFollowsTheManualClock) {
  create_stream("w", 1);
  put_rules(json::array({{{"stream", "w"}, {"duration_ms", 2000}, {"action", "error"}, {"error_code", "InternalFailure"}}}));
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "w"}}).status, 500);
  clock().advance_ms(1999);
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "w"}}).status, 500);
  clock().advance_ms(1);
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "w"}}).status, 200);
  const int64_t now = clock().now_ms();
  put_rules(json::array({{{"stream", "w"}, {"from_ms", now + 1000}, {"until_ms", now + 2000}, {"action", "error"},
                          {"error_code", "InternalFailure"}}}));
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "w"}}).status, 200);
  clock().advance_ms(1000);
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "w"}}).status, 500);
}

TEST_F(Faults, FailAFractionOfPutRecordsEntries) {
  create_stream("p", 1);
  put_rules(json::array({{{"id", "ten"}, {"stream", "p"}, {"action", "fail_entries"}, {"fraction", 0.1}, {"seed", 5}}}));
  auto out = ok("PutRecords", {{"StreamName", "p"}, {"Records", entries(500, "k", 8)}});
  int failed = 0;
  std::vector<bool> pattern;
  std::vector<std::string> stored;
  for (const auto& r : out["Records"]) {
    bool f = r.contains("ErrorCode");
    pattern.push_back(f);
    if (f) {
      ++failed;
      EXPECT_EQ(r, json({{"ErrorCode", "InternalFailure"}, {"ErrorMessage", "Internal service failure."}}));
    } else {
      stored.push_back(r["SequenceNumber"].get<std::string>());
    }
  }
  EXPECT_EQ(out["FailedRecordCount"], failed);
  EXPECT_GT(failed, 25);
  EXPECT_LT(failed, 80);
  auto back = read_back("p");
  ASSERT_EQ(back.size(), stored.size());
  for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i]["SequenceNumber"], stored[i]);
  auto l = admin("GET", "/_eddy/faults", nullptr);
  EXPECT_EQ(l["rules"][0]["matched"], 500);
  EXPECT_EQ(l["rules"][0]["fired"], failed);

  // The same rules with the same seed fail the same entries.
  put_rules(json::array({{{"id", "ten"}, {"stream", "p"}, {"action", "fail_entries"}, {"fraction", 0.1}, {"seed", 5}}}));
  auto again = ok("PutRecords", {{"StreamName", "p"}, {"Records", entries(500, "k", 8)}});
  std::vector<bool> pattern2;
  for (const auto& r : again["Records"]) pattern2.push_back(r.contains("ErrorCode"));
  EXPECT_EQ(pattern, pattern2);
}

TEST_F(Faults, FailEntriesByPartitionKeyPrefixAndShard) {
  create_stream("q", 2);
  put_rules(json::array({{{"stream", "q"}, {"action", "fail_entries"}, {"key_prefix", "bad"}}}));
  json recs = json::array();
  for (int i = 0; i < 10; ++i) recs.push_back({{"PartitionKey", (i % 2 ? "bad" : "good") + std::to_string(i)}, {"Data", b64("d")}});
  auto out = ok("PutRecords", {{"StreamName", "q"}, {"Records", recs}});
  EXPECT_EQ(out["FailedRecordCount"], 5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out["Records"][i].contains("ErrorCode"), i % 2 == 1);
  put_rules(json::array({{{"stream", "q"}, {"action", "fail_entries"}, {"shard", shard_id(1)}}}));
  out = ok("PutRecords", {{"StreamName", "q"}, {"Records", recs}});
  int on_one = 0;
  for (const auto& r : out["Records"]) {
    if (r.contains("ErrorCode")) ++on_one;
    else EXPECT_EQ(r["ShardId"], shard_id(0));
  }
  EXPECT_GT(on_one, 0);
  EXPECT_LT(on_one, 10);
  EXPECT_EQ(out["FailedRecordCount"], on_one);
  EXPECT_EQ(read_back("q", 0).size() + read_back("q", 1).size(), 5u + 10u - on_one);
}

TEST_F(Faults, LatencyDelaysTheAnswer) {
  create_stream("l", 1);
  put_rules(json::array({{{"stream", "l"}, {"action", "latency"}, {"latency_ms", 300}}}));
  auto t0 = std::chrono::steady_clock::now();
  auto r = kinesis("DescribeStreamSummary", {{"StreamName", "l"}});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(ms, 290);
}

TEST_F(Faults, CloseWithoutResponseSkipsTheWriteUnlessApplied) {
  create_stream("c", 1);
  put_rules(json::array({{{"stream", "c"}, {"operation", "PutRecord"}, {"action", "close"}}}));
  auto ex = raw_exchange(app_->port(), kinesis_http_request("PutRecord", {{"StreamName", "c"}, {"PartitionKey", "k"}, {"Data", b64("x")}}));
  EXPECT_EQ(ex.received, "");
  EXPECT_TRUE(ex.closed()) << ex.end << " " << ex.error;
  EXPECT_EQ(read_back("c").size(), 0u);
  // apply: the write happens, the answer is lost (what a client meets when AWS stored a record
  // but the connection broke): the client was told nothing, the record is stored once.
  put_rules(json::array({{{"stream", "c"}, {"operation", "PutRecord"}, {"action", "close"}, {"apply", true}}}));
  ex = raw_exchange(app_->port(), kinesis_http_request("PutRecord", {{"StreamName", "c"}, {"PartitionKey", "k"}, {"Data", b64("y")}}));
  EXPECT_EQ(ex.received, "");
  auto back = read_back("c");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0]["Data"], b64("y"));
}

TEST_F(Faults, ResetTheConnection) {
  create_stream("r", 1);
  put_rules(json::array({{{"stream", "r"}, {"action", "reset"}}}));
  auto ex = raw_exchange(app_->port(), kinesis_http_request("DescribeStreamSummary", {{"StreamName", "r"}}));
  EXPECT_EQ(ex.received, "");
  EXPECT_EQ(ex.end, RawEnd::reset) << ex.error;
}

TEST_F(Faults, TrickleTheBody) {
  create_stream("t", 1);
  put_rules(json::array({{{"stream", "t"}, {"action", "trickle"}, {"trickle_bytes", 16}, {"trickle_interval_ms", 20}}}));
  auto ex = raw_exchange(app_->port(), kinesis_http_request("DescribeStreamSummary", {{"StreamName", "t"}}));
  auto body_at = ex.received.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  auto body = json::parse(ex.received.substr(body_at + 4), nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << ex.received;
  EXPECT_EQ(body["StreamDescriptionSummary"]["StreamName"], "t");
  const size_t pieces = (ex.received.size() - body_at - 4 + 15) / 16;
  EXPECT_GE(ex.elapsed_ms, static_cast<int64_t>((pieces - 1) * 20) - 5);
  EXPECT_GT(ex.reads, 2u);
}

TEST_F(Faults, GetRecordsFaultsMatchTheIteratorsStreamAndShard) {
  create_stream("g", 2);
  ok("PutRecord", {{"StreamName", "g"}, {"PartitionKey", "k"}, {"Data", b64("x")}});
  put_rules(json::array({{{"stream", "g"}, {"operation", "GetRecords"}, {"shard", shard_id(1)}, {"action", "error"},
                          {"error_code", "ProvisionedThroughputExceededException"}}}));
  auto it0 = ok("GetShardIterator", {{"StreamName", "g"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"];
  auto it1 = ok("GetShardIterator", {{"StreamName", "g"}, {"ShardId", shard_id(1)}, {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"];
  EXPECT_EQ(kinesis("GetRecords", {{"ShardIterator", it0}}).status, 200);
  auto r = kinesis("GetRecords", {{"ShardIterator", it1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(r.message(), "Rate exceeded for shard " + shard_id(1) + " in stream g under account " + account() + ".");
}

TEST_F(Faults, S3SlowDownOnAKeyPrefix) {
  put_rules(json::array({{{"bucket", "logs"}, {"key_prefix", "hot/"}, {"action", "error"}, {"error_code", "SlowDown"}}}));
  auto r = http("PUT", "/logs/hot/a.txt", {{"Content-Type", "text/plain"}}, "hello");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("content-type"), "application/xml");
  EXPECT_FALSE(r.header("x-amz-request-id").empty());
  EXPECT_NE(r.body.find("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>" +
                        r.header("x-amz-request-id") + "</RequestId>"),
            std::string::npos)
      << r.body;
  auto head = http("HEAD", "/logs/hot/a.txt");
  EXPECT_EQ(head.status, 503);
  EXPECT_EQ(head.body, "");
  // Another prefix or bucket goes to the S3 handler, which answers (neither bucket exists).
  for (const char* path : {"/logs/cold/a.txt", "/other/hot/a.txt"}) {
    auto s3 = http("GET", path);
    EXPECT_EQ(s3.status, 404) << path;
    EXPECT_NE(s3.body.find("<Code>NoSuchBucket</Code>"), std::string::npos) << path << s3.body;
  }
  // Operation names are derived from the request.
  put_rules(json::array({{{"service", "s3"}, {"operation", "GetObject"}, {"action", "error"}, {"error_code", "InternalError"}}}));
  r = http("GET", "/any/key");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>"),
            std::string::npos);
  EXPECT_EQ(http("HEAD", "/any/key").status, 404);  // HeadObject is another operation: the handler answers
  EXPECT_EQ(admin("GET", "/_eddy/faults", nullptr)["rules"][0]["fired"], 1);
}

// A rule names the bucket the S3 service serves: for "Host: x.s3.localhost" that is bucket
// "x.s3" (not "x"), and virtual hosts are case-insensitive (the S3 request model,
// server/s3/s3_request.h, is the one parser of both).
TEST_F(Faults, S3RulesSeeTheBucketTheServiceServes) {
  put_rules(json::array({{{"bucket", "x.s3"}, {"action", "error"}, {"error_code", "SlowDown"}}}));
  EXPECT_EQ(http("GET", "/k", {{"Host", "x.s3.localhost:4566"}}).status, 503);
  EXPECT_NE(http("GET", "/k", {{"Host", "x.localhost:4566"}}).status, 503);
  put_rules(json::array({{{"bucket", "x"}, {"action", "error"}, {"error_code", "SlowDown"}}}));
  EXPECT_NE(http("GET", "/k", {{"Host", "x.s3.localhost:4566"}}).status, 503);
  put_rules(json::array({{{"bucket", "mixed"}, {"key_prefix", "a/"}, {"operation", "GetObject"}, {"action", "error"},
                          {"error_code", "SlowDown"}}}));
  EXPECT_EQ(http("GET", "/a/b", {{"Host", "MiXeD.s3.us-east-1.amazonaws.com"}}).status, 503);
  EXPECT_EQ(http("GET", "/a/b", {{"Host", "MIXED.localhost"}}).status, 503);
  EXPECT_EQ(admin("GET", "/_eddy/faults", nullptr)["rules"][0]["fired"], 2);
}

TEST_F(Faults, S3ConnectionFaultsAndLatency) {
  put_rules(json::array({{{"bucket", "b"}, {"operation", "GetObject"}, {"action", "reset"}}}));
  auto ex = raw_exchange(app_->port(), "GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(ex.received, "");
  EXPECT_EQ(ex.end, RawEnd::reset) << ex.error;
  put_rules(json::array({{{"bucket", "b"}, {"action", "latency"}, {"latency_ms", 250}}}));
  auto t0 = std::chrono::steady_clock::now();
  auto r = http("GET", "/b/k");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 404);  // delayed, then answered by the S3 handler (no bucket b)
  EXPECT_NE(r.body.find("<Code>NoSuchBucket</Code>"), std::string::npos) << r.body;
  EXPECT_GE(ms, 240);
}

TEST_F(FaultsThrottled, RetryingProducerStoresEveryRecordExactlyOnce) {
  create_stream("x", 1);
  admin("PUT", "/_eddy/faults",
        json::array({{{"stream", "x"}, {"action", "fail_entries"}, {"probability", 0.2}, {"seed", 11}},
                     {{"stream", "x"}, {"operation", "PutRecords"}, {"every_nth", 7}, {"action", "error"},
                      {"error_code", "ServiceUnavailable"}}}));
  // 3000 distinct records, each retried until acknowledged; the clock moves 100 ms per call.
  std::vector<json> pending;
  for (int i = 0; i < 3000; ++i) pending.push_back({{"PartitionKey", "p"}, {"Data", b64("rec-" + std::to_string(i))}});
  std::map<std::string, int> acknowledged;
  int calls = 0;
  while (!pending.empty() && calls < 2000) {
    ++calls;
    std::vector<json> batch(pending.begin(), pending.begin() + std::min<size_t>(500, pending.size()));
    auto r = kinesis("PutRecords", {{"StreamName", "x"}, {"Records", batch}});
    clock().advance_ms(100);
    if (r.status != 200) continue;  // whole call failed: retry all of it
    std::vector<json> retry;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (r.body["Records"][i].contains("ErrorCode")) retry.push_back(batch[i]);
      else acknowledged[batch[i]["Data"].get<std::string>()]++;
    }
    pending.erase(pending.begin(), pending.begin() + batch.size());
    pending.insert(pending.begin(), retry.begin(), retry.end());
  }
  ASSERT_TRUE(pending.empty());
  EXPECT_EQ(acknowledged.size(), 3000u);
  auto back = read_back("x");
  std::map<std::string, int> stored;
  for (auto& rec : back) stored[rec["Data"].get<std::string>()]++;
  EXPECT_EQ(back.size(), 3000u);
  EXPECT_EQ(stored, acknowledged);
  auto t = admin("GET", "/_eddy/throttle", nullptr);
  EXPECT_GT(t["throttled"]["write_records"].get<int>(), 0);
}

TEST_F(Faults, FiredFaultsAreLoggedWithTheRequestId) {
  create_stream("lg", 1);
  auto out = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out);
  auto logger = spdlog::default_logger();
  auto level = logger->level();
  logger->set_level(spdlog::level::info);
  logger->sinks().push_back(sink);
  put_rules(json::array({{{"id", "logged"}, {"stream", "lg"}, {"action", "error"}, {"error_code", "InternalFailure"}}}));
  auto r = kinesis("DescribeStreamSummary", {{"StreamName", "lg"}});
  logger->sinks().pop_back();
  logger->set_level(level);
  EXPECT_EQ(r.status, 500);
  const std::string id = r.http.header("x-amzn-requestid");
  ASSERT_FALSE(id.empty());
  EXPECT_NE(out->str().find("fault logged fired: error on kinesis DescribeStreamSummary lg (request " + id + ")"),
            std::string::npos)
      << out->str();
}

// The rest of docs/throttling.md's rule table: reset with apply, trickle's defaults, until_ms on
// its own, and the shard matcher on SplitShard.
TEST_F(Faults, ResetWithApplyStoresTheWrite) {
  create_stream("ra", 1);
  put_rules(json::array({{{"stream", "ra"}, {"operation", "PutRecord"}, {"action", "reset"}, {"apply", true}}}));
  auto ex = raw_exchange(app_->port(), kinesis_http_request("PutRecord", {{"StreamName", "ra"}, {"PartitionKey", "k"}, {"Data", b64("z")}}));
  EXPECT_EQ(ex.received, "");
  EXPECT_EQ(ex.end, RawEnd::reset) << ex.error;
  admin("DELETE", "/_eddy/faults", nullptr);
  auto back = read_back("ra");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0]["Data"], b64("z"));
}

TEST_F(Faults, TrickleDefaultsToOneByteEveryHundredMilliseconds) {
  create_stream("td", 1);
  auto rules = put_rules(json::array({{{"stream", "td"}, {"operation", "ListShards"}, {"action", "trickle"}}}));
  EXPECT_EQ(rules["rules"][0]["trickle_bytes"], 1);
  EXPECT_EQ(rules["rules"][0]["trickle_interval_ms"], 100);
}

TEST_F(Faults, UntilMsAloneEndsTheRuleOnTheClock) {
  create_stream("u", 1);
  const int64_t now = clock().now_ms();
  put_rules(json::array({{{"stream", "u"}, {"until_ms", now + 500}, {"action", "error"}, {"error_code", "InternalFailure"}}}));
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "u"}}).status, 500);  // from the start
  clock().advance_ms(499);
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "u"}}).status, 500);
  clock().advance_ms(1);
  EXPECT_EQ(kinesis("DescribeStreamSummary", {{"StreamName", "u"}}).status, 200);
}

TEST_F(Faults, ShardMatcherOnSplitShard) {
  create_stream("sp", 2);
  put_rules(json::array({{{"stream", "sp"}, {"operation", "SplitShard"}, {"shard", shard_id(1)}, {"action", "error"},
                          {"error_code", "LimitExceededException"}}}));
  auto split = [&](int shard) {
    return kinesis("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", shard_id(shard)},
                                  {"NewStartingHashKey", shard == 0 ? "1000" : "200000000000000000000000000000000000000"}});
  };
  auto r = split(1);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "LimitExceededException");
  r = split(0);  // another shard: the rule does not match
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(admin("GET", "/_eddy/faults", nullptr)["rules"][0]["fired"], 1);
}
