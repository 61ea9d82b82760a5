#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/producer/clock.h"
#include "client/producer/config.h"
#include "client/producer/transport.h"
#include "wire/hash_key.h"
#include "wire/kpl_writer.h"

// The KPL's pipeline as a single-threaded state machine: no threads, no clock of its own,
// no I/O. Producer (producer.h) drives it from threads against a Transport; tests drive it
// with a manual clock.
//
//   put() -> per-shard aggregator -> per-shard rate limiter -> collector -> ready batches
//   take_batch() -> (caller sends it) -> complete(): ack, retry, fail, or misroute check
//
// Aggregation: user records bound for one shard (by the shard map from ListShards) go into one
// KPL aggregated record whose outer partition key is "a" and whose ExplicitHashKey is the first
// user record's hash key, so Kinesis puts it in that shard (the KPL's "magic a"). A record that
// ends up alone in its aggregate goes plain, with its own keys.
namespace eddy::producer {

enum class PutStatus { ok, would_block, invalid };

struct Stats {
  std::uint64_t user_records_put = 0;       // accepted by put()
  std::uint64_t user_records_acked = 0;     // acknowledged by Kinesis
  std::uint64_t user_records_failed = 0;    // given up: an error with FailIfThrottled, or expired
  std::uint64_t user_records_expired = 0;   // of those, past RecordTtl
  std::uint64_t user_records_sent = 0;      // user records in PutRecords calls, retries included
  std::uint64_t kinesis_records_sent = 0;   // PutRecords entries sent, retries included
  std::uint64_t kinesis_records_acked = 0;
  std::uint64_t put_records_calls = 0;
  std::uint64_t retries = 0;                // Kinesis records sent again after a failure
  // PutRecords requests the HTTP layer sent again (transport errors, 5xx, a throttled request)
  // before the call returned: PutRecordsOutcome::attempts - 1, summed.
  std::uint64_t request_retries = 0;
  std::uint64_t throttled_entries = 0;      // entries answered ProvisionedThroughputExceeded
  std::uint64_t misroutes = 0;              // entries that landed in another shard than predicted
  std::uint64_t shard_map_updates = 0;
  std::uint64_t buffered_bytes = 0;         // user-record bytes accepted and not yet done
  std::uint64_t buffered_records = 0;
  std::uint64_t user_bytes_acked = 0;
};

// One Kinesis record: an aggregate of user records, or one plain user record.
struct KinesisRecord {
  std::string partition_key;
  std::optional<std::string> explicit_hash_key;
  std::string data;
  bool aggregated = false;
  // An aggregate's MD5 trailer is written by the sender (seal()), outside the producer's lock,
  // not when the aggregate closes.
  bool digest_pending = false;
  std::uint32_t user_records = 0;
  std::uint64_t user_bytes = 0;
  wire::u128 min_hash = 0, max_hash = 0;  // over its user records
  std::string predicted_shard;             // "" when sent without a shard map
  TimePoint deadline = TimePoint::max();
  TimePoint expiration = TimePoint::max();
  std::uint32_t attempts = 0;
  std::size_t request_size() const { return data.size() + partition_key.size(); }
};

struct Batch {
  std::uint64_t id = 0;
  std::vector<KinesisRecord> records;
};

class ProducerCore {
 public:
  explicit ProducerCore(ProducerConfig config);

  const ProducerConfig& config() const { return config_; }

  // Validates and buffers one user record. would_block: the buffer holds max_buffer_bytes
  // already (nothing was taken). `hash` may carry the record's hash key when the caller
  // already knows it (it must equal the ExplicitHashKey, else MD5 of the partition key).
  PutStatus put(std::string_view partition_key, std::optional<std::string_view> explicit_hash_key,
                std::string_view data, TimePoint now, std::string* error = nullptr,
                std::optional<wire::u128> hash = std::nullopt);

  // Does what is due at `now`: aggregates past RecordMaxBufferedTime close, rate limiters
  // release what their tokens allow, a collection past its deadline becomes a batch.
  void poll(TimePoint now);
  // The next batch to send (PutRecords), if any; counted as sent. Its aggregates may still
  // lack their digest: seal() it before sending (it needs no lock).
  std::optional<Batch> take_batch();
  static void seal(Batch& batch);
  static void seal(KinesisRecord& record);
  bool has_batch() const { return !ready_.empty(); }
  // The answer to a batch from take_batch().
  void complete(Batch batch, const PutRecordsOutcome& outcome, TimePoint now);
  // When poll() next has something to do (TimePoint::max() if nothing is buffered).
  TimePoint next_wakeup(TimePoint now);
  // True when put() opened an aggregate or readied a batch since the last call: a sleeping
  // driver should wake up and recompute next_wakeup().
  bool take_wakeup_flag() {
    bool f = wakeup_flag_;
    wakeup_flag_ = false;
    return f;
  }

  // From now on every poll() sends what is buffered without waiting for deadlines (rate
  // limits still apply): for flush and drain.
  void set_flushing(bool on) { flushing_ = on; }
  // Nothing buffered, nothing in flight, nothing awaiting a shard-map check.
  bool idle() const;

  // The shard map. Records buffered under the old map are re-routed.
  void set_shards(std::vector<ShardInfo> shards, TimePoint now);
  bool has_shard_map() const { return !open_shards_.empty(); }
  // A misroute was seen: the driver should call ListShards and set_shards().
  bool shard_map_stale() const { return shard_map_stale_; }

  const Stats& stats() const { return stats_; }
  // The last error that made a record fail (for the summary line).
  const std::string& last_error() const { return last_error_; }

 private:
  struct Shard {
    ShardInfo info;
    // open aggregate
    wire::kpl::AggregateWriter writer;
    std::string first_pk;
    std::optional<std::string> first_ehk;
    std::string first_data;
    wire::u128 first_hash = 0, min_hash = 0, max_hash = 0;
    std::uint64_t user_bytes = 0;
    TimePoint deadline = TimePoint::max();
    TimePoint expiration = TimePoint::max();
    // rate limiter
    double record_tokens = 0, byte_tokens = 0;
    TimePoint refilled{};
    std::deque<KinesisRecord> limited;
    std::size_t collected_bytes = 0;  // of this shard in the open collection
  };

  std::optional<std::size_t> shard_for(wire::u128 hash) const;
  // A shard index whose range holds [lo, hi], if one does.
  std::optional<std::size_t> shard_holding(wire::u128 lo, wire::u128 hi) const;
  void add_user_record(std::string_view pk, std::optional<std::string_view> ehk,
                       std::string_view data, wire::u128 hash, TimePoint deadline,
                       TimePoint expiration);
  void close_aggregate(Shard& s);
  void limit(std::size_t shard, KinesisRecord kr, TimePoint now);
  void drain(Shard& s, TimePoint now);
  void collect(KinesisRecord kr, TimePoint now);
  void close_collection();
  // Sends a Kinesis record's user records again (as one piece when they still share a shard).
  void requeue(KinesisRecord kr, TimePoint now, TimePoint deadline);
  void retry(KinesisRecord kr, TimePoint now, const std::string& code, const std::string& msg);
  void ack(const KinesisRecord& kr);
  void fail(const KinesisRecord& kr, bool expired, const std::string& why);
  Shard* shard_by_id(const std::string& id);
  Duration collector_grace() const;

  ProducerConfig config_;
  Stats stats_;
  std::string last_error_;
  std::vector<Shard> shards_;                 // open shards, sorted by range start
  std::vector<wire::u128> range_starts_, range_ends_;  // of shards_, for shard_for()
  static constexpr int kBucketBits = 12;
  std::vector<std::uint32_t> bucket_first_;  // 2^kBucketBits entries, see set_shards()
  std::vector<ShardInfo> open_shards_;        // same order
  std::unordered_map<std::string, ShardInfo> all_shards_;  // open and closed, by id
  std::unordered_map<std::string, std::size_t> shard_index_;
  bool shard_map_stale_ = false;
  // Records without a shard (no map yet, or aggregation off and no map).
  std::vector<KinesisRecord> collection_;
  std::size_t collection_bytes_ = 0;
  TimePoint collection_deadline_ = TimePoint::max();
  std::deque<Batch> ready_;
  std::uint64_t next_batch_id_ = 1;
  std::size_t in_flight_ = 0;
  // Acknowledged in a shard the map did not know: decided once the map is refreshed.
  std::vector<std::pair<KinesisRecord, std::string>> unverified_;
  std::size_t open_aggregates_ = 0;
  std::size_t limited_records_ = 0;
  bool flushing_ = false;
  bool pressure_flush_ = false;  // put() found the buffer full: send what is buffered now
  bool wakeup_flag_ = false;
  TimePoint wakeup_hint_ = TimePoint::max();
};

}  // namespace eddy::producer
