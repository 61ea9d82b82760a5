// The retry policy: which failures are retried and the jittered backoff schedule, with an
// injected random source and sleep (no waiting).
#include <gtest/gtest.h>

#include "client/retry.h"

#include <vector>

namespace eddy::client {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, RetriesThrottlingTransientAndServerErrorsOnly) {
  RetryPolicy p(
      RetryOptions{}, [] { return 0.5; }, [](milliseconds) {});
  struct Case {
    int attempt, status;
    const char* code;
    bool retried;
  };
  const Case cases[] = {
      {1, 400, "ProvisionedThroughputExceededException", true},
      {1, 400, "LimitExceededException", true},
      {1, 503, "SlowDown", true},
      {1, 400, "ThrottlingException", true},
      {1, 500, "InternalFailure", true},
      {1, 502, "", true},
      {1, 504, "", true},
      {1, 0, "", true},  // transport error
      {1, 400, "ResourceNotFoundException", false},
      {1, 400, "ValidationException", false},
      {1, 403, "AccessDenied", false},
      {1, 404, "NoSuchKey", false},
      // Three attempts in all (the SDKs' standard mode).
      {2, 503, "", true},
      {3, 503, "", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(p.should_retry(c.attempt, c.status, c.code), c.retried) << c.attempt << " " << c.status << " " << c.code;
}

TEST(RetryPolicy, FullJitterExponentialBackoffCapped) {
  double r = 0.5;
  RetryOptions o;
  o.max_attempts = 20;
  RetryPolicy p(
      o, [&] { return r; }, [](milliseconds) {});
  EXPECT_EQ(p.delay(1), milliseconds(500));
  EXPECT_EQ(p.delay(2), milliseconds(1000));
  EXPECT_EQ(p.delay(3), milliseconds(2000));
  EXPECT_EQ(p.delay(6), milliseconds(10000));
  EXPECT_EQ(p.delay(7), milliseconds(10000));  // 0.5 * min(64 s, 20 s)
  EXPECT_EQ(p.delay(40), milliseconds(10000));
  r = 0.0;
  EXPECT_EQ(p.delay(3), milliseconds(0));
  r = 0.999;
  EXPECT_EQ(p.delay(1), milliseconds(999));
  EXPECT_EQ(p.delay(10), milliseconds(19980));
}

TEST(RetryPolicy, DefaultRandomStaysInRange) {
  RetryPolicy p;
  for (int i = 0; i < 200; ++i) {
    auto d = p.delay(2);
    EXPECT_GE(d.count(), 0);
    EXPECT_LT(d.count(), 2000);
  }
}

TEST(RetryPolicy, ErrorCodeLists) {
  EXPECT_TRUE(is_throttling_error("Throttling"));
  EXPECT_TRUE(is_throttling_error("RequestLimitExceeded"));
  EXPECT_FALSE(is_throttling_error("ExpiredIteratorException"));
  EXPECT_TRUE(is_transient_error("RequestTimeout"));
  EXPECT_FALSE(is_transient_error("NoSuchBucket"));
}

}  // namespace
}  // namespace eddy::client

namespace eddy::client {
namespace {

// The adaptive mode's limiter against botocore 1.x's ClientRateLimiter driven the same way
// (a fake clock from 10.0 s): 40 successes 50 ms apart, one throttle, then successes every
// 250 ms. The numbers are botocore's (RateClocker, CubicCalculator, TokenBucket.max_rate).
TEST(ClientRateLimiter, FollowsBotocoresCubicAndRateClocker) {
  double t = 10.0;
  std::vector<double> slept;
  ClientRateLimiter l([&] { return t; }, [&](double s) { slept.push_back(s), t += s; });
  for (int i = 0; i < 40; ++i) {
    t += 0.05;
    l.on_response(false);
  }
  EXPECT_FALSE(l.enabled());
  EXPECT_NEAR(l.fill_rate(), 3.2000000000001365, 1e-9);
  EXPECT_NEAR(l.measured_rate(), 19.968, 1e-9);
  l.acquire();  // disabled: never waits
  EXPECT_TRUE(slept.empty());
  t += 0.05;
  l.on_response(true);
  EXPECT_TRUE(l.enabled());
  EXPECT_NEAR(l.fill_rate(), 13.977599999999999, 1e-9);  // 0.7 x the measured rate
  const double expected[] = {15.621696570216972, 16.933558731569004, 17.5872, 9.91744, 9.91744,
                             8.383488,           8.383488,           8.0766976, 8.0766976, 8.01533952};
  for (double e : expected) {
    t += 0.25;
    l.on_response(false);
    EXPECT_NEAR(l.fill_rate(), e, 1e-9);
  }
}

TEST(ClientRateLimiter, OnceThrottledEachAttemptTakesAToken) {
  double t = 100.0;
  std::vector<double> slept;
  ClientRateLimiter l([&] { return t; }, [&](double s) { slept.push_back(s), t += s; });
  // The first answer is a throttle: nothing measured yet, so the rate drops to the floor
  // (0.5 tokens a second, as botocore's TokenBucket).
  l.on_response(true);
  EXPECT_TRUE(l.enabled());
  EXPECT_DOUBLE_EQ(l.fill_rate(), 0.5);
  l.acquire();  // the bucket starts empty: 1 token at 0.5/s is 2 s away
  ASSERT_EQ(slept.size(), 1u);
  EXPECT_NEAR(slept[0], 2.0, 1e-9);
  EXPECT_EQ(l.waits(), 1u);
  l.acquire();  // and the next one 2 s later again
  ASSERT_EQ(slept.size(), 2u);
  EXPECT_NEAR(slept[1], 2.0, 1e-9);
}

}  // namespace
}  // namespace eddy::client
