#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The producer's settings, under the KPL's own configuration names (the keys of a KPL
// `default_config.properties` / `kpl.properties`), with the KPL's defaults.
namespace eddy::producer {

struct ProducerConfig {
  std::chrono::milliseconds record_max_buffered_time{100};  // RecordMaxBufferedTime
  bool aggregation_enabled = true;                          // AggregationEnabled
  std::size_t aggregation_max_count = 4294967295u;          // AggregationMaxCount
  std::size_t aggregation_max_size = 51200;                 // AggregationMaxSize
  std::size_t collection_max_count = 500;                   // CollectionMaxCount
  std::size_t collection_max_size = 5242880;                // CollectionMaxSize
  std::uint64_t rate_limit = 150;       // RateLimit: percent of a shard's 1000 rec/s, 1 MiB/s
  std::chrono::milliseconds record_ttl{30000};  // RecordTtl; 0 = records never expire
  std::size_t max_connections = 24;     // MaxConnections: concurrent PutRecords requests
  bool fail_if_throttled = false;       // FailIfThrottled
  // Not a KPL name: user-record bytes (data + partition key) buffered or in flight before
  // put() blocks or says would-block. The KPL leaves this to the caller.
  std::size_t max_buffer_bytes = 64u << 20;  // MaxBufferBytes
};

// Sets one setting by its KPL name (case-insensitive). Unknown names the KPL knows but this
// producer does not use (Region, MetricsLevel, ...) are accepted and ignored; a bad value or a
// name nobody knows is an error. Returns false and sets *error.
bool set_config(ProducerConfig& c, std::string_view name, std::string_view value,
                std::string* error);

// Reads a kpl.properties file (`Name = value` lines, `#`/`!` comments, blank lines).
bool load_config_file(ProducerConfig& c, const std::string& path, std::string* error);

// Checks the ranges the KPL enforces (e.g. AggregationMaxSize 64..1048576,
// CollectionMaxCount 1..500).
bool validate(const ProducerConfig& c, std::string* error);

}  // namespace eddy::producer
