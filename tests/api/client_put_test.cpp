// `eddy put` (run_put) and the session's adaptive retry mode against eddy started in-process:
// transport retries in the summary, the client-side rate limiter after throttling answers.
// Retries sleep through an injected hook (recorded, not waited for).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>

#include "client/kinesis_client.h"
#include "client/producer/commands.h"
#include "client/producer/kinesis_transport.h"
#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;
namespace client = eddy::client;

namespace {

class ClientPut : public KinesisFixture {
 protected:
  std::unique_ptr<client::Session> session(const std::string& mode = "standard") {
    client::SessionOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
    o.region = "us-east-1";
    o.static_credentials = eddy::wire::sigv4::Credentials{"AKIDTEST", "secret", ""};
    o.retry.mode = mode;
    std::string why;
    auto s = client::Session::create(o, &why, client::map_environment({}));
    EXPECT_TRUE(s) << why;
    client::RetryOptions r = s->retry().options();
    s->set_retry(client::RetryPolicy(r, [] { return 0.5; }, [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu_);  // sender threads retry at once
      slept_.push_back(d);
    }));
    return s;
  }
  void fault(const std::string& op, const std::string& code, int status, int first_n) {
    auto rule = http("POST", "/_eddy/faults", {{"Content-Type", "application/json"}},
                     json({{"service", "kinesis"},
                           {"operation", op},
                           {"action", "error"},
                           {"error_code", code},
                           {"status", status},
                           {"first_n", first_n}})
                         .dump());
    ASSERT_EQ(rule.status, 200) << rule.body;
  }
  std::mutex mu_;
  std::vector<std::chrono::milliseconds> slept_;
};

TEST_F(ClientPut, SummaryCountsTheTransportsRetries) {
  create_stream("p", 2);
  auto s = session();
  client::KinesisClient kinesis(*s);
  eddy::producer::KinesisTransport transport(kinesis, "p");
  // The first two PutRecords requests fail whole with a 500: the HTTP client sends them again.
  fault("PutRecords", "InternalFailure", 500, 2);
  eddy::producer::PutOptions o;
  o.stream = "p";
  o.rate = 0;
  o.count = 1000;
  o.duration = 0;
  std::ostringstream out, err;
  std::atomic<bool> stop{false};
  const int rc = eddy::producer::run_put(o, transport, stdin, out, err, stop);
  ASSERT_EQ(rc, 0) << err.str();
  const json summary = json::parse(out.str());
  EXPECT_EQ(summary["userRecords"], 1000);
  EXPECT_EQ(summary["acknowledged"], 1000);
  EXPECT_EQ(summary["requestRetries"], 2) << summary.dump();
  EXPECT_EQ(summary["recordRetries"], 0) << summary.dump();
  EXPECT_EQ(summary["retries"], 2) << summary.dump();
  EXPECT_EQ(slept_.size(), 2u);
  EXPECT_EQ(s->retries(), 2u);
}

TEST_F(ClientPut, AdaptiveModeLimitsTheSendRateOnceThrottled) {
  create_stream("a", 1);
  auto s = session("adaptive");
  ASSERT_NE(s->rate_limiter(), nullptr);
  // The limiter's own clock and sleep: waiting advances the clock, nothing really sleeps.
  double t = 1000.0;
  std::vector<double> waited;
  s->set_rate_limiter(std::make_unique<client::ClientRateLimiter>([&] { return t; }, [&](double d) {
    waited.push_back(d);
    t += d;
  }));
  client::KinesisClient kinesis(*s);
  // Unthrottled calls never wait.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(kinesis.list_shards("a"));
  EXPECT_FALSE(s->rate_limiter()->enabled());
  EXPECT_TRUE(waited.empty());
  // A throttling answer (LimitExceededException) turns the limiter on; the retry that follows
  // waits for a token of the lowered rate, and so does every later call while it refills.
  fault("ListShards", "LimitExceededException", 400, 1);
  auto r = kinesis.list_shards("a");
  ASSERT_TRUE(r) << r.error.str();
  EXPECT_EQ(s->retries(), 1u);
  EXPECT_TRUE(s->rate_limiter()->enabled());
  EXPECT_EQ(waited.size(), 1u);
  EXPECT_NEAR(waited[0], 2.0, 1e-9);  // nothing measured yet in this half-second: 0.5 tokens/s
  ASSERT_TRUE(kinesis.list_shards("a"));
  EXPECT_EQ(waited.size(), 2u);
  EXPECT_EQ(s->rate_limiter()->waits(), 2u);
  // A standard-mode session has no limiter.
  EXPECT_EQ(session("standard")->rate_limiter(), nullptr);
}

TEST_F(ClientPut, PutRecordsInCborAndInJsonStoreTheSameBytesAndErrorsKeepTheirMessage) {
  create_stream("c", 2);
  auto s = session();
  client::KinesisClient kinesis(*s);
  std::string data;
  for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  const std::vector<client::PutRecordsEntry> entries = {{data, "k", std::nullopt}, {"x", "k2", "0"}};
  std::map<bool, std::string> messages;
  for (bool cbor : {true, false}) {
    kinesis.set_cbor(cbor);
    auto r = kinesis.put_records("c", entries);
    ASSERT_TRUE(r) << r.error.str();
    EXPECT_EQ(r->failed_record_count, 0);
    ASSERT_EQ(r->records.size(), 2u);
    EXPECT_EQ(r->records[1].shard_id, "shardId-000000000000");  // ExplicitHashKey 0
    auto e = kinesis.put_records("nope", entries);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error.code, "ResourceNotFoundException");
    messages[cbor] = e.error.message;
  }
  EXPECT_FALSE(messages[true].empty());
  EXPECT_EQ(messages[true], messages[false]);
  std::vector<std::string> stored;
  for (const std::string shard : {"shardId-000000000000", "shardId-000000000001"}) {
    auto it = kinesis.get_shard_iterator("c", shard, {});
    ASSERT_TRUE(it) << it.error.str();
    auto g = kinesis.get_records(*it);
    ASSERT_TRUE(g) << g.error.str();
    for (const auto& rec : g->records) stored.emplace_back(rec.data);
  }
  std::sort(stored.begin(), stored.end());
  EXPECT_EQ(stored, (std::vector<std::string>{data, data, "x", "x"}));
}

}  // namespace
