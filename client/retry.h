#pragma once
// Retries as the AWS SDKs' "standard" mode does: at most max_attempts tries (3), a retry after a
// transport error, a 500/502/503/504, or a throttling/transient error code, after a delay of
// random[0,1) * base * 2^(retry-1), capped at max_backoff ("full jitter"). Random source and
// sleep are injectable so tests check the schedule without waiting.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace eddy::client {

// Error codes the SDKs retry (botocore's standard mode): throttling and transient ones.
bool is_throttling_error(std::string_view code);
bool is_transient_error(std::string_view code);

struct RetryOptions {
  int max_attempts = 3;                  // AWS_MAX_ATTEMPTS; 1 = no retries
  bool max_attempts_explicit = false;    // --max-attempts given: AWS_MAX_ATTEMPTS is not read
  // "standard", "legacy" (5 attempts by default) or "adaptive" (standard's retries; the SDKs'
  // client-side send-rate limiter is not implemented); empty: AWS_RETRY_MODE, else standard.
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

}  // namespace eddy::client
