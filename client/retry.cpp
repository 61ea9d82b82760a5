#include "client/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <thread>

namespace eddy::client {

bool is_throttling_error(std::string_view code) {
  static constexpr std::array<std::string_view, 14> kCodes = {"Throttling",
                                                              "ThrottlingException",
                                                              "ThrottledException",
                                                              "RequestThrottledException",
                                                              "TooManyRequestsException",
                                                              "ProvisionedThroughputExceededException",
                                                              "TransactionInProgressException",
                                                              "RequestLimitExceeded",
                                                              "BandwidthLimitExceeded",
                                                              "LimitExceededException",
                                                              "RequestThrottled",
                                                              "SlowDown",
                                                              "PriorRequestNotComplete",
                                                              "EC2ThrottledException"};
  return std::find(kCodes.begin(), kCodes.end(), code) != kCodes.end();
}

bool is_transient_error(std::string_view code) {
  static constexpr std::array<std::string_view, 5> kCodes = {"RequestTimeout", "RequestTimeoutException",
                                                             "InternalError", "InternalFailure", "ServiceUnavailable"};
  return std::find(kCodes.begin(), kCodes.end(), code) != kCodes.end();
}

RetryPolicy::RetryPolicy(RetryOptions options, Random random, Sleep sleep)
    : options_(options), random_(std::move(random)), sleep_(std::move(sleep)) {
  if (!random_) {
    random_ = [] {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    };
  }
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

bool RetryPolicy::should_retry(int attempt, int status, std::string_view code) const {
  if (attempt >= options_.max_attempts) return false;
  if (status == 0) return true;  // no response: connection refused/reset, timeout
  if (is_throttling_error(code) || is_transient_error(code)) return true;
  // LimitExceededException is Kinesis's control-plane rate limit (and throttling in botocore's
  // list); a 400 with any other code is the caller's mistake and fails at once.
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
}

std::chrono::milliseconds RetryPolicy::delay(int retry) const {
  double cap = static_cast<double>(options_.max_backoff.count());
  double exp = static_cast<double>(options_.base.count()) * static_cast<double>(1ull << std::min(retry - 1, 30));
  double d = random_() * std::min(exp, cap);
  return std::chrono::milliseconds(static_cast<int64_t>(d));
}

namespace {
constexpr double kMinFillRate = 0.5;     // botocore TokenBucket._MIN_RATE
constexpr double kSmoothing = 0.8;       // RateClocker._DEFAULT_SMOOTHING
constexpr double kBucketScale = 2;       // 1 / RateClocker._TIME_BUCKET_RANGE (0.5 s)
constexpr double kCubicScale = 0.4;      // CubicCalculator._SCALE_CONSTANT
constexpr double kCubicBeta = 0.7;       // CubicCalculator._BETA
constexpr double kMaxRateAdjust = 2.0;   // ClientRateLimiter._MAX_RATE_ADJUST_SCALE
}  // namespace

ClientRateLimiter::ClientRateLimiter(Clock clock, Sleep sleep) : clock_(std::move(clock)), sleep_(std::move(sleep)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
  }
  if (!sleep_) sleep_ = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  const double now = clock_();
  last_bucket_ = std::floor(now);
  last_fail_ = now;
}

void ClientRateLimiter::refill(double now) {
  if (last_refill_ < 0) {
    last_refill_ = now;
    return;
  }
  capacity_ = std::min(max_capacity_, capacity_ + (now - last_refill_) * fill_rate_);
  last_refill_ = now;
}

void ClientRateLimiter::acquire() {
  for (;;) {
    double wait = 0;
    {
      std::lock_guard lock(mu_);
      if (!enabled_) return;
      refill(clock_());
      if (capacity_ >= 1) {
        capacity_ -= 1;
        return;
      }
      wait = (1 - capacity_) / fill_rate_;
      ++waits_;
    }
    sleep_(wait);
  }
}

double ClientRateLimiter::update_measured_rate(double now) {
  const double bucket = std::floor(now * kBucketScale) / kBucketScale;
  ++count_;
  if (bucket > last_bucket_) {
    const double current = static_cast<double>(count_) / (bucket - last_bucket_);
    measured_rate_ = current * kSmoothing + measured_rate_ * (1 - kSmoothing);
    count_ = 0;
    last_bucket_ = bucket;
  }
  return measured_rate_;
}

void ClientRateLimiter::on_response(bool throttled) {
  std::lock_guard lock(mu_);
  const double now = clock_();
  const double measured = update_measured_rate(now);
  double rate;
  if (!throttled) {
    // CUBIC growth since the last throttle.
    rate = kCubicScale * std::pow(now - last_fail_ - k_, 3) + w_max_;
  } else {
    const double current = enabled_ ? std::min(measured, fill_rate_) : measured;
    w_max_ = current;
    k_ = std::cbrt(w_max_ * (1 - kCubicBeta) / kCubicScale);
    last_fail_ = now;
    rate = current * kCubicBeta;
    enabled_ = true;
  }
  // The bucket's new rate (botocore's TokenBucket.max_rate setter).
  const double value = std::min(rate, kMaxRateAdjust * measured);
  refill(now);
  fill_rate_ = std::max(value, kMinFillRate);
  max_capacity_ = value >= 1 ? value : 1;
  capacity_ = std::min(capacity_, max_capacity_);
}

bool ClientRateLimiter::enabled() const {
  std::lock_guard lock(mu_);
  return enabled_;
}
double ClientRateLimiter::fill_rate() const {
  std::lock_guard lock(mu_);
  return fill_rate_;
}
double ClientRateLimiter::measured_rate() const {
  std::lock_guard lock(mu_);
  return measured_rate_;
}
std::uint64_t ClientRateLimiter::waits() const {
  std::lock_guard lock(mu_);
  return waits_;
}

}  // namespace eddy::client
