#include "client/retry.h"

#include <algorithm>
#include <array>
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

}  // namespace eddy::client
