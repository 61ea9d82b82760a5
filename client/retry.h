#pragma once
// Retries as the AWS SDKs' "standard" mode does: at most max_attempts tries (3), a retry after a
// transport error, a 500/502/503/504, or a throttling/transient error code, after a delay of
// random[0,1) * base * 2^(retry-1), capped at max_backoff ("full jitter"). Random source and
// sleep are injectable so tests check the schedule without waiting.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace eddy::client {

// Error codes the SDKs retry (botocore's standard mode): throttling and transient ones.
bool is_throttling_error(std::string_view code);
bool is_transient_error(std::string_view code);

struct RetryOptions {
  int max_attempts = 3;                  // AWS_MAX_ATTEMPTS; 1 = no retries
  bool max_attempts_explicit = false;    // --max-attempts given: AWS_MAX_ATTEMPTS is not read
  // "standard", "legacy" (5 attempts by default) or "adaptive" (standard's retries plus the
  // SDKs' client-side send-rate limiter, ClientRateLimiter); empty: AWS_RETRY_MODE, else the
  // profile's retry_mode, else standard.
  std::string mode;
  std::chrono::milliseconds base{1000};  // botocore's standard mode: 1 s base
  std::chrono::milliseconds max_backoff{20000};
};

class RetryPolicy {
 public:
  using Random = std::function<double()>;  // uniform in [0, 1)
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  explicit RetryPolicy(RetryOptions options = {}, Random random = {}, Sleep sleep = {});

  // Whether a failed attempt (1-based) is retried: status 0 means a transport error.
  bool should_retry(int attempt, int status, std::string_view error_code) const;
  // The delay before retry number `retry` (1 = first retry).
  std::chrono::milliseconds delay(int retry) const;
  void sleep(std::chrono::milliseconds d) const { sleep_(d); }
  const RetryOptions& options() const { return options_; }

 private:
  RetryOptions options_;
  Random random_;
  Sleep sleep_;
};

// The "adaptive" retry mode's client-side rate limiter, as botocore's (retries/adaptive.py,
// bucket.py, throttling.py) and the Java SDK's RateLimiter have it: off until the first
// throttling answer; from then on every attempt takes a token from a bucket whose fill rate
// follows CUBIC congestion control: a throttle sets the rate to 0.7 x the measured send rate
// (or the current limit, if lower), and successes grow it back along
// 0.4 x (t - K)^3 + W_max, never past twice the measured send rate. The measured rate is an
// exponentially smoothed count of answers per half-second bucket. Thread-safe; the clock
// (seconds) and the sleep are injectable.
class ClientRateLimiter {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic
  using Sleep = std::function<void(double seconds)>;
  explicit ClientRateLimiter(Clock clock = {}, Sleep sleep = {});

  // Before each attempt: waits for a token (only once throttling was seen).
  void acquire();
  // After each attempt's answer: `throttled` when its error code is a throttling one.
  void on_response(bool throttled);

  bool enabled() const;
  double fill_rate() const;      // the bucket's tokens (requests) per second (botocore's max_rate)
  double measured_rate() const;  // smoothed answers per second
  std::uint64_t waits() const;   // how many acquire() calls had to wait

 private:
  void refill(double now);
  double update_measured_rate(double now);

  Clock clock_;
  Sleep sleep_;
  mutable std::mutex mu_;
  bool enabled_ = false;
  // Token bucket (botocore: max_rate 1 at start, minimum fill rate 0.5/s).
  double fill_rate_ = 1, max_capacity_ = 1, capacity_ = 0, last_refill_ = -1;
  // Rate clocker: 0.8 smoothing over half-second buckets.
  double measured_rate_ = 0, last_bucket_ = 0;
  std::uint64_t count_ = 0;
  // CUBIC: W_max, K, time of the last throttle.
  double w_max_ = 0, k_ = 0, last_fail_ = 0;
  std::uint64_t waits_ = 0;
};

}  // namespace eddy::client
