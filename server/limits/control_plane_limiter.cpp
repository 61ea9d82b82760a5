#include "server/limits/control_plane_limiter.h"

#include <unordered_set>

namespace eddy::limits {

namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kDay = 24 * 3600 * 1000;

// From the Kinesis Data Streams developer guide, "Quotas and limits" / API limits, and each
// operation's own page in the API reference (the consumer calls: Register 5/s per account,
// Describe 20/s, List 5/s and Deregister 5/s per stream; Describe/UpdateAccountSettings and
// UpdateStreamWarmThroughput 5/s per account). Data-plane calls (PutRecord(s), GetRecords) are
// limited per shard by ShardLimiter instead; SubscribeToShard's one call per second per
// consumer and shard by the subscription hub (ops_subscribe.cpp). The tagging and resource
// policy calls document no rate, so none is enforced.
constexpr OperationLimit kLimits[] = {
    {"AddTagsToStream", 5, kSecond, LimitScope::account},
    {"CreateStream", 5, kSecond, LimitScope::account},
    {"DecreaseStreamRetentionPeriod", 5, kSecond, LimitScope::account},
    {"DeleteStream", 5, kSecond, LimitScope::account},
    {"DeregisterStreamConsumer", 5, kSecond, LimitScope::stream},
    {"DescribeAccountSettings", 5, kSecond, LimitScope::account},
    {"DescribeLimits", 1, kSecond, LimitScope::account},
    {"DescribeStream", 10, kSecond, LimitScope::account},
    {"DescribeStreamConsumer", 20, kSecond, LimitScope::stream},
    {"DescribeStreamSummary", 20, kSecond, LimitScope::account},
    {"DisableEnhancedMonitoring", 5, kSecond, LimitScope::stream},
    {"EnableEnhancedMonitoring", 5, kSecond, LimitScope::stream},
    {"GetShardIterator", 5, kSecond, LimitScope::shard},
    {"IncreaseStreamRetentionPeriod", 5, kSecond, LimitScope::account},
    {"ListShards", 1000, kSecond, LimitScope::stream},
    {"ListStreamConsumers", 5, kSecond, LimitScope::stream},
    {"ListStreams", 5, kSecond, LimitScope::account},
    {"ListTagsForStream", 5, kSecond, LimitScope::account},
    {"MergeShards", 5, kSecond, LimitScope::account},
    {"RegisterStreamConsumer", 5, kSecond, LimitScope::account},
    {"RemoveTagsFromStream", 5, kSecond, LimitScope::account},
    {"SplitShard", 5, kSecond, LimitScope::account},
    {"UpdateAccountSettings", 5, kSecond, LimitScope::account},
    {"UpdateStreamWarmThroughput", 5, kSecond, LimitScope::account},
    // "Scale more than ten times per rolling 24-hour period per stream" (UpdateShardCount),
    // 25 encryption changes per rolling 24 hours per stream: the calls of the last 24 hours on
    // eddy's clock are counted; the 11th waits until the first is 24 hours old.
    {"UpdateShardCount", 10, kDay, LimitScope::stream, true},
    {"StartStreamEncryption", 25, kDay, LimitScope::stream, true},
    {"StopStreamEncryption", 25, kDay, LimitScope::stream, true},
};

const OperationLimit* find_limit(std::string_view op) {
  for (const auto& l : kLimits)
    if (l.operation == op) return &l;
  return nullptr;
}

}  // namespace

const OperationLimit* operation_limits(size_t* count) {
  *count = std::size(kLimits);
  return kLimits;
}

std::optional<kinesis::ApiError> ControlPlaneLimiter::before_operation(const kinesis::OperationInfo& info) {
  const OperationLimit* limit = find_limit(info.operation);
  if (!limit) return std::nullopt;
  std::shared_ptr<kinesis::Stream> stream;
  if (!info.stream.empty()) stream = kinesis_.find_stream_by_name(std::string(info.stream));
  bool aws;
  if (stream) {
    std::lock_guard lk(stream->mu);
    aws = shards_.policy_for(*stream).aws;
  } else {
    aws = shards_.global_aws();
  }
  if (!aws) return std::nullopt;

  // Only existing streams and well-formed shard ids get buckets, so requests naming made-up
  // streams cannot grow the table without bound (they fail on their own anyway).
  std::string key(limit->operation);
  if (limit->scope != LimitScope::account) {
    if (!stream) return std::nullopt;
    key += '\0';
    key += std::to_string(stream->id);
  }
  if (limit->scope == LimitScope::shard) {
    auto idx = kinesis::Shard::parse_id(info.shard);
    if (!idx) return std::nullopt;
    key += '\0';
    key += std::to_string(*idx);
  }
  {
    std::lock_guard lk(mu_);
    if (limit->rolling) {
      auto it = windows_.try_emplace(key, limit->amount, limit->period_ms).first;
      if (it->second.try_take(info.now_ms)) return std::nullopt;
    } else {
      auto it = buckets_.find(key);
      if (it == buckets_.end())
        it = buckets_.emplace(key, TokenBucket(limit->amount, limit->period_ms, limit->amount, info.now_ms)).first;
      if (it->second.try_take(1, info.now_ms)) return std::nullopt;
    }
  }
  throttled_.fetch_add(1);
  if (info.stream.empty())
    return kinesis::ApiError::limit_exceeded("Rate exceeded for account " + config_.account_id + ".");
  return kinesis::ApiError::limit_exceeded("Rate exceeded for stream " + std::string(info.stream) +
                                           " under account " + config_.account_id + ".");
}

void ControlPlaneLimiter::on_stream_deleted(const std::string& name) {
  (void)name;
  // Buckets are keyed by stream id, which a re-created stream does not reuse; drop the ones
  // of streams that no longer exist so the table stays small.
  std::unordered_set<std::string> live;
  for (const auto& s : kinesis_.streams_snapshot()) live.insert(std::to_string(s->id));
  std::lock_guard lk(mu_);
  auto prune = [&](auto& table) {
    for (auto it = table.begin(); it != table.end();) {
      auto z = it->first.find('\0');
      if (z == std::string::npos) {
        ++it;
        continue;
      }
      auto end = it->first.find('\0', z + 1);
      std::string id = it->first.substr(z + 1, end == std::string::npos ? std::string::npos : end - z - 1);
      it = live.count(id) ? std::next(it) : table.erase(it);
    }
  };
  prune(buckets_);
  prune(windows_);
}

}  // namespace eddy::limits
