#pragma once
// Control-plane rate limits as AWS documents them (Kinesis Data Streams quotas, "API limits"):
// over the limit an operation fails with LimitExceededException. Active when the stream named
// by the call (or, for account-wide calls, the server) is in throttle mode aws.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/config.h"
#include "server/kinesis/kinesis_service.h"
#include "server/limits/rolling_window.h"
#include "server/limits/shard_limiter.h"
#include "server/limits/token_bucket.h"

namespace eddy::limits {

enum class LimitScope { account, stream, shard };

struct OperationLimit {
  std::string_view operation;
  uint64_t amount;     // calls ...
  int64_t period_ms;   // ... per this period
  LimitScope scope;
  bool rolling = false;  // true: at most `amount` calls in any rolling period (a RollingWindow),
                         // false: a token bucket refilling continuously
};

// The table eddy enforces (exposed for GET /_eddy/throttle and the docs).
const OperationLimit* operation_limits(size_t* count);

class ControlPlaneLimiter final : public kinesis::KinesisHooks {
 public:
  ControlPlaneLimiter(const Config& config, kinesis::KinesisService& kinesis, const ShardLimiter& shards)
      : config_(config), kinesis_(kinesis), shards_(shards) {}

  std::optional<kinesis::ApiError> before_operation(const kinesis::OperationInfo& info) override;
  void on_stream_deleted(const std::string& name) override;

  uint64_t throttled() const { return throttled_.load(); }

 private:
  const Config& config_;
  kinesis::KinesisService& kinesis_;
  const ShardLimiter& shards_;
  std::mutex mu_;
  std::unordered_map<std::string, TokenBucket> buckets_;
  std::unordered_map<std::string, RollingWindow> windows_;
  std::atomic<uint64_t> throttled_{0};
};

}  // namespace eddy::limits
