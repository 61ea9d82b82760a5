#pragma once
// Counts what producers and consumers did, per stream and per shard (and per S3 bucket), keeps
// per-second series and a tail of recent records, and persists the counters in the RocksDB
// `metrics` family (flushed once a second and at shutdown, never a write per record).
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "server/clock.h"
#include "server/kinesis/hooks.h"
#include "server/metrics/pricing.h"
#include "server/metrics/s3_observer.h"
#include "server/periodic_task.h"
#include "server/store/store.h"

namespace eddy::metrics {

// Counters kept per stream (slot kStreamSlot) and per shard. Order is the persisted layout:
// append only.
enum class Counter : uint8_t {
  put_record_calls,     // PutRecord API calls that reached a stream
  put_records_calls,    // PutRecords API calls that reached a stream
  put_records_entries,  // entries submitted in those PutRecords calls
  records,              // Kinesis records accepted (each a billed PUT)
  records_failed,       // entries not accepted, throttled ones included
  records_throttled,    // entries refused with ProvisionedThroughputExceededException
  user_records,         // records as the producer's application sees them (KPL de-aggregated)
  bytes_in,             // partition key + data of accepted records
  payload_units,        // PUT payload units (record size rounded up to the price table's unit)
  ingest_rounded_bytes, // on-demand data-in (each record rounded up to 1 KB)
  kpl_aggregates,       // accepted records that were KPL aggregates (magic prefix)
  kpl_bad_md5,          // aggregates whose MD5 trailer is wrong (KCL passes them raw)
  kpl_unparseable,      // aggregates whose protobuf does not parse (KCL passes them raw)
  kpl_misrouted,        // aggregates holding a sub-record outside the shard (KCL drops them)
  get_records_calls,
  get_records_records,
  bytes_out,
  iterator_expired,
  efo_events,           // SubscribeToShard events sent (enhanced fan-out)
  efo_records,          // records those events carried
  efo_bytes_out,        // partition key + data of those records (EFO data retrieved)
  count_
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::count_);
using Counters = std::array<uint64_t, kCounterCount>;
inline constexpr uint32_t kStreamSlot = 0xFFFFFFFFu;
const char* counter_name(Counter c);

// Fields of the per-second series.
enum class SeriesField : uint8_t { records, user_records, put_calls, payload_units, bytes_in, throttled, count_ };
inline constexpr size_t kSeriesFieldCount = static_cast<size_t>(SeriesField::count_);
const char* series_field_name(SeriesField f);

struct RecentUserRecord {
  std::string partition_key;
  std::optional<std::string> explicit_hash_key;
  size_t size = 0;
  std::string preview;  // first bytes, non-printable shown as '.'
};

struct RecentRecord {
  int64_t arrival_ms = 0;
  uint32_t shard = 0;
  std::string partition_key;
  std::optional<std::string> explicit_hash_key;
  size_t size = 0;
  std::string kpl;  // "none", "ok", "bad_md5", "unparseable"
  bool kpl_outer_key = false;  // outer partition key "a" with an ExplicitHashKey, as the KPL sends
  bool misrouted = false;
  size_t user_record_count = 0;
  std::vector<RecentUserRecord> user_records;  // the first few
};

struct StreamCounters {
  std::string name;
  Counters stream{};                      // stream-level counters (calls, failures)
  std::map<uint32_t, Counters> shards;    // shard-level counters
  bool deleted = false;
  int64_t deleted_ms = 0;
  Counters total() const;                 // stream + every shard
};

struct BucketCounters {
  std::string name;
  uint64_t class_a = 0, class_b = 0, free_requests = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t stored_bytes = 0, stored_objects = 0;
  double byte_ms = 0;          // integral of stored bytes over time (for GB-months)
  int64_t last_change_ms = 0;  // when stored_bytes last changed (0: never)
};

struct RegistryOptions {
  size_t series_seconds = 3600;       // per-second history kept in memory
  size_t recent_records = 50;         // tail kept per stream for the dashboard
  size_t recent_user_records = 20;    // de-aggregated user records shown per recent record
  int flush_interval_ms = 1000;
};

class MetricsRegistry final : public kinesis::KinesisHooks, public S3Observer {
 public:
  MetricsRegistry(Clock& clock, store::Store& store, PriceTable prices, RegistryOptions options = {});
  ~MetricsRegistry() override;

  // Loads persisted counters; false with a message when they cannot be read.
  bool load(std::string* error);
  // Starts/stops the background flusher (stop() flushes once more).
  void start();
  void stop();
  // Writes counters changed since the last flush in one batch. When the write fails they stay
  // marked changed: the next flush writes them again (nothing counted is lost).
  store::Status flush();
  // The background flusher (tests: run_now() instead of waiting for it).
  PeriodicTask& flusher() { return flusher_; }
  // Clears every counter, series and tail (memory and store); counting restarts now.
  store::Status reset();

  const PriceTable& prices() const { return prices_; }
  int64_t epoch_ms() const;  // when counting started (first start or last reset)

  // Copies for reports.
  std::vector<StreamCounters> stream_counters() const;
  std::vector<BucketCounters> bucket_counters() const;
  // {"now_s":..,"seconds":N,"streams":{name:{field:[N values, oldest first]}}}
  void series_json(int64_t seconds, const std::string& only_stream, nlohmann::json& out) const;
  void recent_json(const std::string& stream, size_t limit, nlohmann::json& out) const;

  // KinesisHooks.
  void after_put(const kinesis::OperationInfo& op, const kinesis::Stream& s,
                 std::span<const kinesis::PutRecordEvent> accepted,
                 std::span<const kinesis::PutRejection> rejected) override;
  void after_read(const kinesis::Stream& s, const kinesis::Shard& shard, size_t records, size_t bytes,
                  int64_t now_ms) override;
  void on_iterator_expired(const kinesis::Stream& s, uint32_t shard) override;
  void after_subscribe_event(const kinesis::Stream& s, uint32_t shard, size_t records, size_t bytes,
                             int64_t now_ms) override;
  void on_stream_deleted(const std::string& name) override;

  // S3Observer.
  void on_request(std::string_view bucket, S3PricingClass cls, uint64_t bytes_in, uint64_t bytes_out) override;
  void on_stored_delta(std::string_view bucket, int64_t bytes, int64_t objects) override;
  void on_stored_total(std::string_view bucket, uint64_t bytes, uint64_t objects) override;

 private:
  struct Series;
  struct StreamState;
  StreamState& stream_locked(const std::string& name);
  BucketCounters& bucket_locked(std::string_view name);
  void settle_storage_locked(BucketCounters& b, int64_t now);

  Clock& clock_;
  store::Store& store_;
  PriceTable prices_;
  RegistryOptions options_;

  mutable std::mutex mu_;
  int64_t epoch_ms_ = 0;
  std::map<std::string, std::unique_ptr<StreamState>> streams_;
  std::map<std::string, BucketCounters, std::less<>> buckets_;
  std::vector<std::string> dirty_streams_;
  std::vector<std::string> dirty_buckets_;

  std::mutex flush_mu_;  // one flush at a time
  PeriodicTask flusher_;
  bool started_ = false;
};

}  // namespace eddy::metrics
