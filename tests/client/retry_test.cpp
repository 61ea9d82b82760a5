// The retry policy: which failures are retried and the jittered backoff schedule, with an
// injected random source and sleep (no waiting).
#include <gtest/gtest.h>

#include "client/retry.h"

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
