#pragma once
// The stream and shard model: what DescribeStream shows and what routing uses. Persisted as
// JSON under meta "s/<name>"; a shard's record counter is also kept under meta
// "c/<stream><shard>" when retention trims its rows.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <pthread.h>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wire/hash_key.h"

namespace eddy::kinesis {

struct Shard {
  uint32_t index = 0;
  wire::HashRange range;
  std::optional<uint32_t> parent;
  std::optional<uint32_t> adjacent_parent;
  int64_t created_ms = 0;
  std::optional<int64_t> closed_ms;
  // Counter of the next record (runtime + persisted high-water mark). Counter 0 is the
  // shard's StartingSequenceNumber; records start at 1.
  uint64_t next_counter = 1;

  bool open() const { return !closed_ms.has_value(); }
  std::string id() const { return shard_id(index); }
  static std::string shard_id(uint32_t index);
  // The same 20 characters, written into `out` (no allocation).
  static std::string_view shard_id_into(char (&out)[20], uint32_t index);
  // "shardId-000000000001" or "1" -> 1; nullopt when it does not parse.
  static std::optional<uint32_t> parse_id(std::string_view id);
};

// The stream lock: glibc's adaptive mutex spins briefly before it sleeps. A put holds the lock
// for a few microseconds, and two worker threads putting to one stream met often enough that
// std::mutex's futex sleep and wake-up cost more than the wait itself (A/B in
// docs/performance.md).
class AdaptiveMutex {
 public:
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;
  AdaptiveMutex() {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&m_); }
  void lock() { pthread_mutex_lock(&m_); }
  void unlock() { pthread_mutex_unlock(&m_); }
  bool try_lock() { return pthread_mutex_trylock(&m_) == 0; }
 private:
  pthread_mutex_t m_;
};

enum class StreamMode { provisioned, on_demand };

// An enhanced fan-out consumer (RegisterStreamConsumer), persisted with its stream.
struct Consumer {
  std::string name;
  int64_t created_ms = 0;
  std::string status = "ACTIVE";  // CREATING | ACTIVE | DELETING
  int64_t status_until_ms = 0;    // when a transitional status ends
  std::map<std::string, std::string> tags;
  std::string policy;             // resource policy (PutResourcePolicy), stored only

  // "<stream ARN>/consumer/<name>:<creation epoch seconds>", as AWS forms it.
  std::string arn(const std::string& stream_arn) const;
};

struct Stream {
  uint32_t id = 0;
  std::string name;
  int64_t created_ms = 0;
  std::string status = "ACTIVE";    // CREATING | ACTIVE | UPDATING | DELETING
  int64_t status_until_ms = 0;      // when a transitional status ends
  StreamMode mode = StreamMode::provisioned;
  int64_t mode_changed_ms = 0;
  uint32_t retention_hours = 24;
  uint32_t max_record_kib = 1024;
  std::map<std::string, std::string> tags;
  std::string encryption = "NONE";  // NONE | KMS
  std::string key_id;
  std::vector<std::string> shard_level_metrics;
  std::vector<Shard> shards;        // by index; closed shards stay listed
  // Per-stream throttling/limits overrides (owned by limits/; persisted with the stream).
  std::string throttle_json;
  std::vector<Consumer> consumers;  // in registration order
  std::string policy;               // resource policy (PutResourcePolicy), stored only
  int64_t warm_throughput_mibps = 0;  // UpdateStreamWarmThroughput's target (ON_DEMAND)

  mutable AdaptiveMutex mu;  // guards everything above once the stream is published
  // False while the status is transitional (CREATING, UPDATING, DELETING), when a lookup must
  // take `mu` to settle it. Read without the lock: an ACTIVE stream's lookup then takes `mu`
  // once per call instead of twice. Written only by set_status, under `mu`.
  std::atomic<bool> stable{true};

  // Sets status and status_until_ms, and `stable` to match.
  void set_status(std::string st, int64_t until_ms = 0) {
    status = std::move(st);
    status_until_ms = until_ms;
    stable.store(status == "ACTIVE", std::memory_order_release);
  }

  std::string arn(const std::string& region, const std::string& account) const;
  uint32_t open_shard_count() const;
  // The open shard whose range holds the key; nullptr if none (cannot happen for a valid map).
  const Shard* route(wire::u128 key) const;
  Shard* find(uint32_t index);
  const Shard* find(uint32_t index) const;
  Consumer* find_consumer(std::string_view name);

  void to_json(nlohmann::json& j) const;
  static bool from_json(const nlohmann::json& j, Stream& s);
};

// A copy of what operations change of a stream besides its shard map (status, mode, retention,
// tags, encryption, monitoring, record size, throttle overrides): taken before a change, put
// back when the change cannot be persisted (ServiceImpl::change_stream).
struct StreamSettings {
  std::string status;
  int64_t status_until_ms = 0;
  StreamMode mode = StreamMode::provisioned;
  int64_t mode_changed_ms = 0;
  uint32_t retention_hours = 0;
  uint32_t max_record_kib = 0;
  std::map<std::string, std::string> tags;
  std::string encryption, key_id;
  std::vector<std::string> shard_level_metrics;
  std::string throttle_json;

  static StreamSettings of(const Stream& s);  // with s.mu held
  void restore(Stream& s) const;              // with s.mu held
};

}  // namespace eddy::kinesis
