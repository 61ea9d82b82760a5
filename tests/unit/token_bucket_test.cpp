#include <gtest/gtest.h>

#include "server/kinesis/stream.h"
#include "server/limits/shard_limiter.h"
#include "server/limits/rolling_window.h"
#include "server/limits/token_bucket.h"

using eddy::limits::RollingWindow;
using eddy::limits::TokenBucket;

TEST(TokenBucket, StartsFullWithOneSecondsWorth) {
  auto b = TokenBucket::per_second(1000, 5'000);
  EXPECT_EQ(b.tokens(5'000), 1000);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.try_take(1, 5'000)) << i;
  EXPECT_FALSE(b.try_take(1, 5'000));
  EXPECT_EQ(b.tokens(5'000), 0);
}

TEST(TokenBucket, RefillsExactlyWithTimeAndCapsAtCapacity) {
  auto b = TokenBucket::per_second(1000, 0);
  ASSERT_TRUE(b.try_take(1000, 0));
  EXPECT_FALSE(b.try_take(1, 0));
  // 1 ms brings exactly one token at 1000/s.
  EXPECT_TRUE(b.try_take(1, 1));
  EXPECT_FALSE(b.try_take(1, 1));
  // Half a second: 500 more, no more.
  EXPECT_EQ(b.tokens(501), 500);
  // Long idle: never more than one second's worth.
  EXPECT_EQ(b.tokens(1'000'000), 1000);
}

TEST(TokenBucket, FractionalRatesAccumulateWithoutLoss) {
  // 5 per second: one token every 200 ms, and 199 ms give nothing.
  auto b = TokenBucket::per_second(5, 0);
  ASSERT_TRUE(b.try_take(5, 0));
  EXPECT_FALSE(b.try_take(1, 199));
  EXPECT_TRUE(b.try_take(1, 200));
  // Many small steps add up to the same as one big step.
  for (int t = 201; t <= 400; ++t) b.tokens(t);
  EXPECT_TRUE(b.try_take(1, 400));
  EXPECT_FALSE(b.try_take(1, 400));
}

TEST(TokenBucket, TryTakeIsAllOrNothing) {
  auto b = TokenBucket::per_second(100, 0);
  EXPECT_FALSE(b.try_take(101, 0));
  EXPECT_EQ(b.tokens(0), 100);
  EXPECT_TRUE(b.has(100, 0));
  EXPECT_TRUE(b.try_take(100, 0));
}

TEST(TokenBucket, ChargeGoesIntoDebtAndRepaysOverTime) {
  const uint64_t mib = 1024 * 1024;
  auto b = TokenBucket::per_second(2 * mib, 0);
  b.charge(10 * mib, 0);
  EXPECT_FALSE(b.positive(0));
  EXPECT_EQ(b.tokens(0), -static_cast<int64_t>(8 * mib));
  EXPECT_FALSE(b.positive(4000));  // exactly repaid, nothing left
  EXPECT_TRUE(b.positive(4001));
}

TEST(TokenBucket, ClockGoingBackwardsAddsNothing) {
  auto b = TokenBucket::per_second(10, 1000);
  ASSERT_TRUE(b.try_take(10, 1000));
  EXPECT_FALSE(b.try_take(1, 500));
  // Back to where we were: the interval 500..1000 is not credited again.
  EXPECT_FALSE(b.try_take(1, 1000));
  EXPECT_TRUE(b.try_take(1, 1100));
}

TEST(TokenBucket, LongPeriodsRefillContinuously) {
  // A bucket of 10 per day refills one call every 2.4 h (this is why daily quotas use
  // RollingWindow instead).
  const int64_t day = 24LL * 3600 * 1000;
  TokenBucket b(10, day, 10, 0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b.try_take(1, i));
  EXPECT_FALSE(b.try_take(1, 3600 * 1000));
  EXPECT_TRUE(b.try_take(1, day / 10 + 10));
}

TEST(RollingWindow, TenPerRollingDay) {
  // UpdateShardCount: 10 calls per rolling 24 hours.
  const int64_t day = 24LL * 3600 * 1000, minute = 60 * 1000;
  RollingWindow w(10, day);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w.try_take(i * 1000)) << i;
  EXPECT_FALSE(w.try_take(10 * 1000));
  EXPECT_FALSE(w.try_take(day / 10 + 10));     // a bucket would allow this one
  EXPECT_FALSE(w.try_take(day - minute));      // 23 h 59 m after the first call
  EXPECT_TRUE(w.try_take(day));                // 24 h: the first call left the window
  EXPECT_FALSE(w.try_take(day));               // ... and only the first
  EXPECT_TRUE(w.try_take(day + 1000));         // the second one is 24 h old now
  EXPECT_EQ(w.in_window(), 10u);
}

TEST(RollingWindow, RefusedCallsDoNotCount) {
  RollingWindow w(2, 1000);
  EXPECT_TRUE(w.try_take(0));
  EXPECT_TRUE(w.try_take(0));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(w.try_take(500));
  EXPECT_TRUE(w.try_take(1000));
  EXPECT_TRUE(w.try_take(1000));
  EXPECT_FALSE(w.try_take(1999));
  EXPECT_TRUE(w.try_take(2000));
}

TEST(RollingWindow, ClockGoingBackwardsFreesNothing) {
  RollingWindow w(1, 1000);
  EXPECT_TRUE(w.try_take(5000));
  EXPECT_FALSE(w.try_take(100));   // earlier than the recorded call: still counted
  EXPECT_FALSE(w.try_take(5999));
  EXPECT_TRUE(w.try_take(6000));
}

TEST(TokenBucket, HugeRatesDoNotOverflow) {
  auto b = TokenBucket::per_second(1ULL << 40, 0);
  EXPECT_TRUE(b.try_take(1ULL << 40, 0));
  EXPECT_EQ(b.tokens(std::numeric_limits<int32_t>::max()), static_cast<int64_t>(1ULL << 40));
}

// ---- the shard limiter on top of the buckets ---------------------------------------------

namespace {
// Stream holds a mutex (not movable): filled in place.
void make_stream(eddy::kinesis::Stream& s, uint32_t id, const std::string& name, int shards) {
  s.id = id;
  s.name = name;
  for (int i = 0; i < shards; ++i) {
    eddy::kinesis::Shard sh;
    sh.index = static_cast<uint32_t>(i);
    s.shards.push_back(sh);
  }
}
}  // namespace

TEST(ShardLimiter, OffAdmitsEverything) {
  eddy::Config c;
  eddy::limits::ShardLimiter l(c);
  ASSERT_TRUE(l.configure(nullptr));
  eddy::kinesis::Stream s;
  make_stream(s, 1, "s", 1);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(l.admit_write(s, s.shards[0], 10, 0));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(l.admit_read(s, s.shards[0], 0));
}

TEST(ShardLimiter, AwsWriteLimitsPerShard) {
  eddy::Config c;
  c.throttle = "aws";
  eddy::limits::ShardLimiter l(c);
  ASSERT_TRUE(l.configure(nullptr));
  eddy::kinesis::Stream s;
  make_stream(s, 1, "s", 2);
  int ok = 0;
  for (int i = 0; i < 2000; ++i) ok += l.admit_write(s, s.shards[0], 10, 0) ? 1 : 0;
  EXPECT_EQ(ok, 1000);
  // The other shard has its own budget.
  EXPECT_TRUE(l.admit_write(s, s.shards[1], 10, 0));
  // Bytes: 1 MiB per second per shard.
  EXPECT_TRUE(l.admit_write(s, s.shards[1], 1024 * 1024 - 10, 0));
  EXPECT_FALSE(l.admit_write(s, s.shards[1], 1, 0));
  EXPECT_EQ(l.write_throttled(), 1001u);
  EXPECT_TRUE(l.admit_write(s, s.shards[0], 10, 1000));
}

TEST(ShardLimiter, ReadsFiveCallsAndTheTenMiBPenalty) {
  eddy::Config c;
  c.throttle = "aws";
  eddy::limits::ShardLimiter l(c);
  ASSERT_TRUE(l.configure(nullptr));
  eddy::kinesis::Stream s;
  make_stream(s, 1, "s", 1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(l.admit_read(s, s.shards[0], 0));
  EXPECT_FALSE(l.admit_read(s, s.shards[0], 0));
  ASSERT_TRUE(l.admit_read(s, s.shards[0], 1000));
  l.after_read(s, s.shards[0], 10, 10 * 1024 * 1024, 1000);
  EXPECT_FALSE(l.admit_read(s, s.shards[0], 5999));
  EXPECT_TRUE(l.admit_read(s, s.shards[0], 6000));
}

TEST(ShardLimiter, PerStreamOverridesAndOnDemand) {
  eddy::Config c;
  c.throttle_streams = {"slow:write_records_per_sec=10", "free:mode=off"};
  c.throttle = "aws";
  eddy::limits::ShardLimiter l(c);
  std::string err;
  ASSERT_TRUE(l.configure(&err)) << err;
  eddy::kinesis::Stream slow;
  make_stream(slow, 1, "slow", 1);
  int ok = 0;
  for (int i = 0; i < 50; ++i) ok += l.admit_write(slow, slow.shards[0], 1, 0) ? 1 : 0;
  EXPECT_EQ(ok, 10);
  eddy::kinesis::Stream free_s;
  make_stream(free_s, 2, "free", 1);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(l.admit_write(free_s, free_s.shards[0], 1, 0));
  // A runtime override on the stream wins over the config file.
  slow.throttle_json = R"({"write_records_per_sec":20})";
  ok = 0;
  for (int i = 0; i < 50; ++i) ok += l.admit_write(slow, slow.shards[0], 1, 0) ? 1 : 0;
  EXPECT_EQ(ok, 20);
  // ON_DEMAND: 4000 records/s for the whole stream, whatever the shard.
  eddy::kinesis::Stream od;
  make_stream(od, 3, "od", 4);
  od.mode = eddy::kinesis::StreamMode::on_demand;
  ok = 0;
  for (int i = 0; i < 6000; ++i) ok += l.admit_write(od, od.shards[i % 4], 1, 0) ? 1 : 0;
  EXPECT_EQ(ok, 4000);
}

TEST(ShardLimiter, BadStreamSpecsAreRejected) {
  eddy::limits::ThrottleOverride o;
  std::string name, err;
  EXPECT_FALSE(eddy::limits::parse_stream_spec(":mode=aws", name, o, &err));
  EXPECT_FALSE(eddy::limits::parse_stream_spec("s:mode=fast", name, o, &err));
  EXPECT_FALSE(eddy::limits::parse_stream_spec("s:write_records_per_sec=0", name, o, &err));
  EXPECT_FALSE(eddy::limits::parse_stream_spec("s:bogus=1", name, o, &err));
  EXPECT_FALSE(eddy::limits::parse_stream_spec("s:write_records_per_sec=1x", name, o, &err));
  ASSERT_TRUE(eddy::limits::parse_stream_spec("s:mode=aws,read_calls_per_sec=2", name, o, &err)) << err;
  EXPECT_EQ(name, "s");
  EXPECT_EQ(o.aws, true);
  EXPECT_EQ(o.read_calls_per_sec, 2u);
}
