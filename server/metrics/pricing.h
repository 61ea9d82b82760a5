#pragma once
// Price tables (fixtures/pricing/*.json). Every dollar figure eddy prints comes from one of
// these; the default table (us-east-1) is embedded into the binary from its JSON file.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace eddy::metrics {

struct PriceTable {
  std::string name;
  std::string currency;
  // Kinesis, provisioned capacity.
  double shard_hour = 0;
  double put_payload_unit_per_million = 0;
  uint64_t put_payload_unit_bytes = 0;
  double extended_retention_shard_hour = 0;
  // Enhanced fan-out (optional in a table; 0 when absent): each registered consumer is billed
  // per open shard-hour (provisioned), and the data SubscribeToShard delivers per GB.
  double efo_consumer_shard_hour = 0;
  double efo_retrieval_per_gb = 0;
  double on_demand_efo_retrieval_per_gb = 0;
  // Kinesis, on-demand capacity.
  double on_demand_stream_hour = 0;
  double on_demand_ingest_per_gb = 0;
  double on_demand_retrieval_per_gb = 0;
  uint64_t on_demand_record_rounding_bytes = 0;
  // S3 Standard.
  double s3_class_a_per_thousand = 0;  // PUT, COPY, POST, LIST
  double s3_class_b_per_thousand = 0;  // GET, HEAD and the rest (DELETE is free)
  double s3_storage_gb_month = 0;

  void to_json(nlohmann::json& j) const;
};

// Parses a price table; false with a message naming the missing or wrong field.
bool parse_price_table(const std::string& text, PriceTable& out, std::string* error);
// Reads FILE, or the embedded us-east-1 table when path is empty.
bool load_price_table(const std::string& path, PriceTable& out, std::string* error);

}  // namespace eddy::metrics
