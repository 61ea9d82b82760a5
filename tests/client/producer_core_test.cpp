// The producer pipeline against an in-memory stream, driven by a manual clock: aggregation
// per shard, collection into PutRecords, timing, rate limits, retries, expiry, reshards.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "client/producer/producer.h"
#include "tests/client/producer_fake_kinesis.h"

namespace {

using namespace std::chrono_literals;
using eddy::producer::ManualClock;
using eddy::producer::Producer;
using eddy::producer::ProducerConfig;
using eddy::producer::PutStatus;
using eddy::test::FakeKinesis;

struct Rig {
  explicit Rig(std::uint32_t shards, ProducerConfig c = {}) : kinesis(shards) {
    producer = std::make_unique<Producer>(c, kinesis, clock, Producer::Options{.threaded = false});
    std::string err;
    EXPECT_TRUE(producer->start(&err)) << err;
  }
  // Advances time in steps, doing what is due at each.
  void run(std::chrono::milliseconds total, std::chrono::milliseconds step = 1ms) {
    for (auto t = 0ms; t < total; t += step) {
      clock.advance(step);
      producer->pump();
    }
  }
  FakeKinesis kinesis;
  ManualClock clock;
  std::unique_ptr<Producer> producer;
};

std::string key_of(int i) { return "key-" + std::to_string(i * 7919 % 100003); }
std::string data_of(int i) { return "record-" + std::to_string(i); }

// Every record 0..n-1 read back exactly once by a KCL-style reader. Aggregates holding a
// sub-record outside their shard are dropped whole by such a reader; only a reshard under an
// aggregate in flight makes one (the producer then sends all its records again).
void expect_exactly_once(const FakeKinesis& k, int n, bool reshard = false) {
  std::size_t dropped = 0;
  const auto reads = k.read_all(&dropped);
  if (!reshard) {
    EXPECT_EQ(dropped, 0u) << "aggregates with a sub-record outside their shard";
  }
  std::map<std::string, int> seen;
  for (const auto& r : reads) ++seen[r.record.data];
  int missing = 0, duplicated = 0;
  for (int i = 0; i < n; ++i) {
    auto it = seen.find(data_of(i));
    if (it == seen.end()) ++missing;
    else if (it->second > 1) ++duplicated;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(reads.size(), static_cast<std::size_t>(n));
}

class ExactlyOnce : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(ExactlyOnce, EveryUserRecordOnceAndSubRecordsInTheirShard) {
  Rig rig(GetParam());
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
    if (i % 100 == 0) rig.run(1ms);
  }
  rig.run(500ms, 10ms);
  EXPECT_TRUE(rig.producer->idle());
  expect_exactly_once(rig.kinesis, n);
  const auto st = rig.producer->stats();
  EXPECT_EQ(st.user_records_put, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.user_records_acked, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.buffered_bytes, 0u);
  EXPECT_LT(st.kinesis_records_acked, static_cast<std::uint64_t>(n) / 10) << "records were aggregated";
  // Outer keys: "a" and an ExplicitHashKey inside the shard for aggregates.
  for (const auto& s : rig.kinesis.shards)
    for (const auto& r : s.records)
      if (eddy::wire::kpl::is_aggregated(r.data)) {
        EXPECT_EQ(r.partition_key, "a");
        ASSERT_TRUE(r.explicit_hash_key);
        EXPECT_TRUE(s.info.range.contains(*eddy::wire::parse_u128(*r.explicit_hash_key)));
      }
}

INSTANTIATE_TEST_SUITE_P(Shards, ExactlyOnce, ::testing::Values(1u, 4u, 16u));

TEST(Producer, ALoneRecordGoesPlainWithItsOwnKeys) {
  Rig rig(4);
  ASSERT_EQ(rig.producer->put("only-key", "only-data"), PutStatus::ok);
  rig.run(200ms);
  ASSERT_EQ(rig.kinesis.kinesis_records, 1u);
  std::size_t found = 0;
  for (const auto& s : rig.kinesis.shards)
    for (const auto& r : s.records) {
      ++found;
      EXPECT_EQ(r.partition_key, "only-key");
      EXPECT_FALSE(r.explicit_hash_key);
      EXPECT_EQ(r.data, "only-data");
    }
  EXPECT_EQ(found, 1u);
}

TEST(Producer, NothingIsSentBeforeRecordMaxBufferedTime) {
  ProducerConfig c;
  c.record_max_buffered_time = 100ms;
  Rig rig(1, c);
  ASSERT_EQ(rig.producer->put("k", "a"), PutStatus::ok);
  ASSERT_EQ(rig.producer->put("k", "b"), PutStatus::ok);
  rig.run(99ms);
  EXPECT_EQ(rig.kinesis.put_calls, 0);
  rig.run(30ms);  // the deadline, plus the collector's fifth of it
  EXPECT_EQ(rig.kinesis.put_calls, 1);
  EXPECT_EQ(rig.kinesis.kinesis_records, 1u);
}

TEST(Producer, AggregationMaxCountAndSizeBoundEachAggregate) {
  ProducerConfig c;
  c.aggregation_max_count = 10;
  Rig rig(2, c);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  rig.run(300ms, 10ms);
  for (const auto& s : rig.kinesis.shards)
    for (const auto& r : s.records) {
      auto d = eddy::wire::kpl::decode(r.data);
      EXPECT_LE(d.records.size(), 10u);
    }
  expect_exactly_once(rig.kinesis, 1000);

  ProducerConfig big;
  big.aggregation_max_size = 4096;
  Rig rig2(1, big);
  const std::string payload(300, 'x');
  for (int i = 0; i < 200; ++i) ASSERT_EQ(rig2.producer->put(key_of(i), payload), PutStatus::ok);
  rig2.run(300ms, 10ms);
  for (const auto& r : rig2.kinesis.shards[0].records) EXPECT_LE(r.data.size(), 4096u);
}

TEST(Producer, CollectionMaxCountSplitsPutRecordsCalls) {
  ProducerConfig c;
  c.aggregation_enabled = false;
  c.collection_max_count = 50;
  c.rate_limit = 100000;  // not the limit under test
  Rig rig(4, c);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  rig.run(300ms, 10ms);
  EXPECT_EQ(rig.kinesis.kinesis_records, 1000u);
  for (std::size_t n : rig.kinesis.entries_per_call) EXPECT_LE(n, 50u);
  EXPECT_GE(rig.kinesis.put_calls, 20);
  expect_exactly_once(rig.kinesis, 1000);
}

// The KPL's PUT velocity: a trickle over K shards with RecordMaxBufferedTime T gives about
// K x 1000/T Kinesis records and 1000/T PutRecords calls a second.
class PutVelocity : public ::testing::TestWithParam<std::pair<std::uint32_t, int>> {};

TEST_P(PutVelocity, TrickleGivesKTimes1000OverTRecordsAnd1000OverTCalls) {
  const auto [shards, t_ms] = GetParam();
  ProducerConfig c;
  c.record_max_buffered_time = std::chrono::milliseconds(t_ms);
  Rig rig(shards, c);
  std::mt19937 rng(7);
  const int seconds = 10;
  int i = 0;
  for (int ms = 0; ms < seconds * 1000; ++ms) {
    for (int j = 0; j < 4; ++j, ++i)  // 4000 user records/s, spread over every shard
      ASSERT_EQ(rig.producer->put("k" + std::to_string(rng()), data_of(i)), PutStatus::ok);
    rig.run(1ms);
  }
  const double records_per_s = static_cast<double>(rig.kinesis.kinesis_records) / seconds;
  const double calls_per_s = static_cast<double>(rig.kinesis.put_calls) / seconds;
  const double want_records = shards * 1000.0 / t_ms;
  const double want_calls = 1000.0 / t_ms;
  EXPECT_NEAR(records_per_s, want_records, want_records * 0.2);
  EXPECT_NEAR(calls_per_s, want_calls, want_calls * 0.2);
  rig.run(1000ms, 10ms);
  expect_exactly_once(rig.kinesis, i);
}

INSTANTIATE_TEST_SUITE_P(KAndT, PutVelocity,
                         ::testing::Values(std::pair<std::uint32_t, int>{1, 100},
                                           std::pair<std::uint32_t, int>{4, 100},
                                           std::pair<std::uint32_t, int>{8, 200},
                                           std::pair<std::uint32_t, int>{16, 500}));

TEST(Producer, ReshardMidStreamLosesNothing) {
  Rig rig(2);
  bool split_done = false;
  rig.kinesis.after_put = [&] {
    if (!split_done && rig.kinesis.put_calls == 3) {
      split_done = true;
      rig.kinesis.split(0);
      rig.kinesis.split(1);
    }
  };
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
    if (i % 200 == 0) rig.run(5ms);
  }
  rig.run(1000ms, 10ms);
  EXPECT_TRUE(split_done);
  EXPECT_TRUE(rig.producer->idle());
  const auto st = rig.producer->stats();
  EXPECT_GT(st.shard_map_updates, 1u) << "the map was refreshed after the misroute";
  EXPECT_GT(st.misroutes, 0u);
  EXPECT_EQ(st.user_records_acked, static_cast<std::uint64_t>(n));
  expect_exactly_once(rig.kinesis, n, /*reshard=*/true);
}

TEST(Producer, ThrottledEntriesAreRetriedUntilAcknowledged) {
  Rig rig(4);
  rig.kinesis.throttle_entries = 5;
  rig.kinesis.fail_requests = 1;
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  rig.run(2000ms, 10ms);
  const auto st = rig.producer->stats();
  EXPECT_EQ(st.throttled_entries, 5u);
  EXPECT_GT(st.retries, 0u);
  EXPECT_EQ(st.user_records_acked, 5000u);
  EXPECT_EQ(st.user_records_failed, 0u);
  expect_exactly_once(rig.kinesis, 5000);
}

TEST(Producer, FailIfThrottledFailsThrottledRecords) {
  ProducerConfig c;
  c.fail_if_throttled = true;
  Rig rig(1, c);
  rig.kinesis.always_throttle = true;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  rig.run(500ms, 10ms);
  const auto st = rig.producer->stats();
  EXPECT_EQ(st.user_records_failed, 100u);
  EXPECT_EQ(st.user_records_expired, 0u);
  EXPECT_EQ(st.buffered_bytes, 0u);
  EXPECT_TRUE(rig.producer->idle());
}

TEST(Producer, RecordsExpireAfterRecordTtl) {
  ProducerConfig c;
  c.record_ttl = 2000ms;
  Rig rig(1, c);
  rig.kinesis.always_throttle = true;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  rig.run(1500ms, 10ms);
  EXPECT_EQ(rig.producer->stats().user_records_expired, 0u);
  rig.run(1000ms, 10ms);
  const auto st = rig.producer->stats();
  EXPECT_EQ(st.user_records_expired, 100u);
  EXPECT_EQ(st.user_records_failed, 100u);
  EXPECT_TRUE(rig.producer->idle());
}

TEST(Producer, RateLimitHoldsEachShardToItsShare) {
  ProducerConfig c;
  c.aggregation_enabled = false;
  c.rate_limit = 100;  // 1000 records/s a shard
  Rig rig(1, c);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  rig.run(1000ms, 5ms);
  // A full bucket (1000) plus one second's refill.
  EXPECT_LE(rig.kinesis.kinesis_records, 2000u + 50u);
  EXPECT_GE(rig.kinesis.kinesis_records, 1900u);
  rig.run(2000ms, 5ms);
  EXPECT_EQ(rig.kinesis.kinesis_records, 3000u);
}

TEST(Producer, PutSaysWouldBlockOnceTheBufferIsFullAndRecovers) {
  ProducerConfig c;
  c.max_buffer_bytes = 1000;
  Rig rig(1, c);
  const std::string data(90, 'd');
  int accepted = 0;
  PutStatus st = PutStatus::ok;
  while ((st = rig.producer->put("kk", data, std::nullopt, false)) == PutStatus::ok) ++accepted;
  EXPECT_EQ(st, PutStatus::would_block);
  EXPECT_EQ(accepted, 1000 / 92);
  EXPECT_FALSE(rig.producer->has_room(92));
  EXPECT_LE(rig.producer->stats().buffered_bytes, 1000u);
  // A full buffer cannot grow: it is sent at once instead of after RecordMaxBufferedTime.
  EXPECT_EQ(rig.kinesis.put_calls, 0);
  rig.producer->pump();
  EXPECT_EQ(rig.kinesis.put_calls, 1);
  rig.run(1ms);
  EXPECT_TRUE(rig.producer->has_room(92));
  EXPECT_EQ(rig.producer->put("kk", data, std::nullopt, false), PutStatus::ok);
}

TEST(Producer, RejectsInvalidRecords) {
  Rig rig(1);
  std::string err;
  EXPECT_EQ(rig.producer->put("", "x", std::nullopt, true, &err), PutStatus::invalid);
  EXPECT_EQ(rig.producer->put(std::string(257, 'k'), "x", std::nullopt, true, &err),
            PutStatus::invalid);
  EXPECT_EQ(rig.producer->put("k", std::string(1048576, 'x'), std::nullopt, true, &err),
            PutStatus::invalid);
  EXPECT_EQ(rig.producer->put("k", "x", std::string_view("12x"), true, &err), PutStatus::invalid);
  // A partition key is a JSON string on the wire: bytes that are not UTF-8 cannot be one.
  for (std::string bad : {"\xff", "k\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_EQ(rig.producer->put(bad, "x", std::nullopt, true, &err), PutStatus::invalid) << bad;
    EXPECT_EQ(err, "partition key is not valid UTF-8");
  }
  EXPECT_EQ(rig.producer->stats().user_records_put, 0u);
  // 256 characters of two bytes each are one key; 257 are not.
  std::string e256;
  for (int i = 0; i < 256; ++i) e256 += "\xc3\xa9";
  EXPECT_EQ(rig.producer->put(e256, "x", std::nullopt, true, &err), PutStatus::ok) << err;
  EXPECT_EQ(rig.producer->put(e256 + "\xc3\xa9", "x", std::nullopt, true, &err), PutStatus::invalid);
}

// put_all: the same records as put() one by one, invalid ones reported by index and skipped.
TEST_P(ExactlyOnce, PutAllTakesEveryRecordInOrder) {
  Rig rig(GetParam());
  const int n = 5000;
  std::vector<std::string> keys, data;
  for (int i = 0; i < n; ++i) {
    keys.push_back(i % 1000 == 7 ? std::string("\xff") : key_of(i));
    data.push_back(data_of(i));
  }
  std::vector<Producer::UserRecordRef> refs;
  for (int i = 0; i < n; ++i) refs.push_back({keys[static_cast<std::size_t>(i)], data[static_cast<std::size_t>(i)], std::nullopt, std::nullopt});
  std::vector<std::size_t> refused;
  EXPECT_EQ(rig.producer->put_all(refs, [&](std::size_t i, const std::string&) { refused.push_back(i); }),
            static_cast<std::size_t>(n));
  EXPECT_EQ(refused, (std::vector<std::size_t>{7, 1007, 2007, 3007, 4007}));
  rig.run(500ms, 10ms);
  EXPECT_TRUE(rig.producer->idle());
  const auto reads = rig.kinesis.read_all();
  EXPECT_EQ(reads.size(), static_cast<std::size_t>(n) - refused.size());
  std::set<std::string> seen;
  for (const auto& r : reads) EXPECT_TRUE(seen.insert(r.record.data).second) << r.record.data;
  for (std::size_t i : refused) EXPECT_EQ(seen.count(data_of(static_cast<int>(i))), 0u);
}

TEST(Producer, ExplicitHashKeysRouteAndTravelInsideTheAggregate) {
  Rig rig(4);
  const std::string ehk = eddy::wire::to_decimal(eddy::wire::kMaxHashKey - 5);  // last shard
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(rig.producer->put(key_of(i), data_of(i), std::string_view(ehk)), PutStatus::ok);
  rig.run(300ms);
  EXPECT_EQ(rig.kinesis.shards[3].records.size(), 1u);
  const auto reads = rig.kinesis.read_all();
  ASSERT_EQ(reads.size(), 10u);
  for (const auto& r : reads) EXPECT_EQ(r.record.explicit_hash_key, ehk);
}

TEST(Producer, FlushSendsEverythingNow) {
  Rig rig(4);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rig.producer->put(key_of(i), data_of(i)), PutStatus::ok);
  EXPECT_TRUE(rig.producer->flush());
  EXPECT_TRUE(rig.producer->idle());
  expect_exactly_once(rig.kinesis, 100);
}

}  // namespace
