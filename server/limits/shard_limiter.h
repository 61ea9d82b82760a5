#pragma once
// Per-shard throughput limits as AWS applies them (--throttle aws): token buckets for writes
// (bytes and records) and reads (calls and bytes) per open shard, or per stream for ON_DEMAND
// streams, with per-stream overrides at runtime (admin API, persisted with the stream) and
// from the config file.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/config.h"
#include "server/kinesis/hooks.h"
#include "server/limits/token_bucket.h"

namespace eddy::limits {

// AWS's documented figures. MB in the docs is taken as MiB, like the 1 MiB record limit.
inline constexpr uint64_t kShardWriteBytesPerSec = 1024 * 1024;
inline constexpr uint64_t kShardWriteRecordsPerSec = 1000;
inline constexpr uint64_t kShardReadCallsPerSec = 5;
inline constexpr uint64_t kShardReadBytesPerSec = 2 * 1024 * 1024;
// A new ON_DEMAND stream starts at 4 MB/s and 4000 records/s in, 8 MB/s out (AWS scales it
// later up to twice the previous peak; eddy keeps the starting capacity).
inline constexpr uint64_t kOnDemandWriteBytesPerSec = 4 * 1024 * 1024;
inline constexpr uint64_t kOnDemandWriteRecordsPerSec = 4000;
inline constexpr uint64_t kOnDemandReadBytesPerSec = 8 * 1024 * 1024;
// "If a call to GetRecords returns 10 MB, subsequent calls made within the next 5 seconds
// throw an exception."
inline constexpr uint64_t kBigReadBytes = 10 * 1024 * 1024;
inline constexpr int64_t kBigReadPenaltyMs = 5000;

struct ThrottleLimits {
  uint64_t write_bytes_per_sec = kShardWriteBytesPerSec;
  uint64_t write_records_per_sec = kShardWriteRecordsPerSec;
  uint64_t read_calls_per_sec = kShardReadCallsPerSec;
  uint64_t read_bytes_per_sec = kShardReadBytesPerSec;
};

// A stream's override: any field left out keeps the default.
struct ThrottleOverride {
  std::optional<bool> aws;  // "mode": "aws" | "off"
  std::optional<uint64_t> write_bytes_per_sec, write_records_per_sec, read_calls_per_sec, read_bytes_per_sec;

  bool empty() const;
  static bool from_json(const nlohmann::json& j, ThrottleOverride& out, std::string* error);
  nlohmann::json to_json() const;
  // Fields set in `over` win.
  void merge(const ThrottleOverride& over);
};

// "orders:mode=aws,write_records_per_sec=100" (the --throttle-stream flag and config key).
bool parse_stream_spec(const std::string& spec, std::string& name, ThrottleOverride& out, std::string* error);

struct ThrottlePolicy {
  bool aws = false;
  bool stream_level = false;  // ON_DEMAND: write and read-byte buckets per stream
  ThrottleLimits limits;
};

class ShardLimiter final : public kinesis::KinesisHooks {
 public:
  explicit ShardLimiter(const Config& config);

  // Parses the --throttle / --throttle-stream settings. False with a message when invalid.
  bool configure(std::string* error);

  void set_global_aws(bool on) { global_aws_.store(on); }
  bool global_aws() const { return global_aws_.load(); }

  // The policy of a stream (its mutex held by the caller, as KinesisHooks callers do).
  ThrottlePolicy policy_for(const kinesis::Stream& s) const;
  // The static override from the config file for a stream name, if any.
  const ThrottleOverride* config_override(const std::string& name) const;

  bool admit_write(const kinesis::Stream& s, const kinesis::Shard& sh, size_t bytes, int64_t now_ms) override;
  bool admit_read(const kinesis::Stream& s, const kinesis::Shard& sh, int64_t now_ms) override;
  void after_read(const kinesis::Stream& s, const kinesis::Shard& sh, size_t records, size_t bytes,
                  int64_t now_ms) override;
  void on_stream_deleted(const std::string& name) override;

  uint64_t write_throttled() const { return write_throttled_.load(); }
  uint64_t read_throttled() const { return read_throttled_.load(); }
  // Per-stream counts: {"write_throttled": n, "read_throttled": n} (zero when unknown).
  nlohmann::json stream_counters(uint32_t stream_id) const;

 private:
  struct Buckets {
    TokenBucket write_records, write_bytes, read_calls, read_bytes;
    int64_t read_blocked_until = 0;
  };
  struct StreamState {
    std::string name;
    std::string key;  // what the policy was derived from; a change resets the buckets
    ThrottlePolicy policy;
    std::unordered_map<uint32_t, Buckets> shards;
    std::optional<Buckets> stream;  // ON_DEMAND
    uint64_t write_throttled = 0;
    uint64_t read_throttled = 0;
  };

  StreamState& state_for(const kinesis::Stream& s);  // mu_ held
  Buckets make_buckets(const ThrottlePolicy& p, int64_t now_ms) const;

  const Config& config_;
  std::atomic<bool> global_aws_{false};
  std::map<std::string, ThrottleOverride> config_overrides_;
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, StreamState> streams_;
  std::atomic<uint64_t> write_throttled_{0};
  std::atomic<uint64_t> read_throttled_{0};
};

}  // namespace eddy::limits
