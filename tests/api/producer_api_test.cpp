// The producer against eddy over HTTP (in-process server, ephemeral port): the real
// KinesisClient transport, the manual clock, and every record read back with GetRecords and
// de-aggregated with eddy's codec, by the KCL's rule (an aggregate with a sub-record outside its
// shard counts as lost).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "client/kinesis_client.h"
#include "client/producer/kinesis_transport.h"
#include "client/producer/producer.h"
#include "client/session.h"
#include "tests/support/prometheus.h"
#include "tests/support/server_fixture.h"
#include "wire/kpl_aggregate.h"

namespace {

using namespace std::chrono_literals;
namespace pr = eddy::producer;
namespace kpl = eddy::wire::kpl;

class ProducerApi : public eddy::test::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    eddy::client::SessionOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
    o.region = "us-east-1";
    o.static_credentials = eddy::wire::sigv4::Credentials{"AKIDPRODUCER", "secret", ""};
    o.retry.max_attempts = 1;
    o.retry.max_attempts_explicit = true;
    std::string err;
    session_ = eddy::client::Session::create(o, &err);
    ASSERT_TRUE(session_) << err;
    kinesis_ = std::make_unique<eddy::client::KinesisClient>(*session_);
  }

  std::unique_ptr<pr::Producer> producer_for(const std::string& stream, pr::ProducerConfig c = {}) {
    transports_.push_back(std::make_unique<pr::KinesisTransport>(*kinesis_, stream));
    auto p = std::make_unique<pr::Producer>(c, *transports_.back(), clock_,
                                            pr::Producer::Options{.threaded = false});
    std::string err;
    EXPECT_TRUE(p->start(&err)) << err;
    return p;
  }

  void run(pr::Producer& p, std::chrono::milliseconds total, std::chrono::milliseconds step = 10ms) {
    for (auto t = 0ms; t < total; t += step) {
      clock_.advance(step);
      p.pump();
    }
  }

  // data -> times seen, over every shard (parents and children) from TRIM_HORIZON.
  std::map<std::string, int> read_back(const std::string& stream, std::size_t* dropped) {
    std::map<std::string, int> seen;
    auto shards = kinesis_->list_shards(stream);
    EXPECT_TRUE(shards) << shards.error.str();
    for (const auto& s : *shards) {
      auto it = kinesis_->get_shard_iterator(stream, s.shard_id, {});
      EXPECT_TRUE(it) << it.error.str();
      std::string iter = *it;
      while (!iter.empty()) {
        auto r = kinesis_->get_records(iter);
        EXPECT_TRUE(r) << r.error.str();
        if (!r) break;
        for (const auto& rec : r->records) {
          auto d = kpl::decode(rec.data);
          if (d.status == kpl::DecodeStatus::not_aggregated) {
            ++seen[std::string(rec.data)];
            continue;
          }
          EXPECT_EQ(d.status, kpl::DecodeStatus::ok);
          EXPECT_EQ(rec.partition_key, "a");
          bool inside = true;
          for (const auto& u : d.records)
            inside = inside && s.hash_range.contains(
                                   u.explicit_hash_key ? *eddy::wire::parse_u128(*u.explicit_hash_key)
                                                       : eddy::wire::hash_key_of_partition_key(u.partition_key));
          if (!inside) {
            ++*dropped;
            continue;
          }
          for (const auto& u : d.records) ++seen[u.data];
        }
        if (r->records.empty() && (r->millis_behind_latest == 0 || r->next_shard_iterator.empty())) break;
        iter = r->next_shard_iterator;
      }
    }
    return seen;
  }

  // Exactly once as a KCL-style reader sees the stream; only a reshard under an aggregate in
  // flight may leave one with a stray sub-record (dropped by such a reader, re-sent whole).
  void expect_exactly_once(const std::string& stream, int n, bool reshard = false) {
    std::size_t dropped = 0;
    const auto seen = read_back(stream, &dropped);
    if (!reshard) {
      EXPECT_EQ(dropped, 0u);
    }
    int missing = 0, dup = 0;
    for (int i = 0; i < n; ++i) {
      auto it = seen.find("record-" + std::to_string(i));
      if (it == seen.end()) ++missing;
      else if (it->second != 1) ++dup;
    }
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(dup, 0);
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  }

  pr::ManualClock clock_;
  std::unique_ptr<eddy::client::Session> session_;
  std::unique_ptr<eddy::client::KinesisClient> kinesis_;
  std::vector<std::unique_ptr<pr::KinesisTransport>> transports_;
};

TEST_F(ProducerApi, ExactlyOnceOver1And4And16Shards) {
  for (int shards : {1, 4, 16}) {
    const std::string stream = "p" + std::to_string(shards);
    create_stream(stream, shards);
    auto p = producer_for(stream);
    const int n = 5000;
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(p->put("k" + std::to_string(i), "record-" + std::to_string(i)), pr::PutStatus::ok);
      if (i % 500 == 0) run(*p, 20ms);
    }
    run(*p, 500ms);
    EXPECT_TRUE(p->idle());
    const auto st = p->stats();
    EXPECT_EQ(st.user_records_acked, static_cast<std::uint64_t>(n)) << stream;
    EXPECT_LT(st.kinesis_records_acked, static_cast<std::uint64_t>(n / 10)) << "aggregated";
    expect_exactly_once(stream, n);
  }
}

TEST_F(ProducerApi, ReshardMidStreamLosesNothing) {
  create_stream("rs", 2);
  auto p = producer_for("rs");
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(p->put("k" + std::to_string(i), "record-" + std::to_string(i)), pr::PutStatus::ok);
    if (i % 500 == 0) run(*p, 20ms);
    if (i == n / 2) {
      auto r = kinesis("UpdateShardCount",
                       {{"StreamName", "rs"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}});
      ASSERT_EQ(r.status, 200) << r.raw;
    }
  }
  run(*p, 1000ms);
  EXPECT_TRUE(p->idle());
  const auto st = p->stats();
  EXPECT_GT(st.misroutes, 0u);
  EXPECT_GT(st.shard_map_updates, 1u);
  EXPECT_EQ(st.user_records_acked, static_cast<std::uint64_t>(n));
  expect_exactly_once("rs", n, /*reshard=*/true);
}

// The KPL's PUT velocity as eddy's own metrics count it: a trickle over K shards with
// RecordMaxBufferedTime T gives about K x 1000/T Kinesis records and 1000/T PutRecords calls a
// second (10 s on the producer's manual clock).
TEST_F(ProducerApi, PutVelocityCountedByEddysMetrics) {
  const int shards = 4, t_ms = 100, seconds = 10;
  create_stream("vel", shards);
  pr::ProducerConfig c;
  c.record_max_buffered_time = std::chrono::milliseconds(t_ms);
  auto p = producer_for("vel", c);
  int i = 0;
  for (int ms = 0; ms < seconds * 1000; ++ms) {
    for (int j = 0; j < 4; ++j, ++i)
      ASSERT_EQ(p->put("k" + std::to_string(i), "record-" + std::to_string(i)), pr::PutStatus::ok);
    run(*p, 1ms, 1ms);
  }
  run(*p, 500ms);
  ASSERT_TRUE(p->idle());
  const auto metrics = http("GET", "/_eddy/metrics");
  ASSERT_EQ(metrics.status, 200);
  // Sums a counter's samples that carry stream="vel" (and `extra`, when given).
  const auto prom = eddy::test::parse_prometheus(metrics.body);
  auto sum = [&](const std::string& name, const std::string& extra = "") {
    std::vector<std::string> labels{"stream=\"vel\""};
    if (!extra.empty()) labels.push_back(extra);
    return prom.sum(name, labels);
  };
  const double calls = sum("eddy_kinesis_api_calls_total", "operation=\"PutRecords\"");
  const double records = sum("eddy_kinesis_put_records_total");
  EXPECT_EQ(sum("eddy_kinesis_user_records_total"), i);
  EXPECT_NEAR(calls / seconds, 1000.0 / t_ms, 0.2 * 1000.0 / t_ms);
  EXPECT_NEAR(records / seconds, shards * 1000.0 / t_ms, 0.2 * shards * 1000.0 / t_ms);
  EXPECT_EQ(calls, static_cast<double>(p->stats().put_records_calls));
  expect_exactly_once("vel", i);
}

TEST_F(ProducerApi, UnknownStreamIsOneClearError) {
  pr::KinesisTransport t(*kinesis_, "no-such-stream");
  pr::Producer p({}, t, clock_, {.threaded = false});
  std::string err;
  EXPECT_FALSE(p.start(&err));
  EXPECT_NE(err.find("ResourceNotFoundException"), std::string::npos) << err;
}

}  // namespace
