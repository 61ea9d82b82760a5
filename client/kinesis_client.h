#pragma once
// Kinesis Data Streams over the JSON protocol (application/x-amz-json-1.1, X-Amz-Target
// Kinesis_20131202.<Op>), signed and retried through a Session. Thread-safe: calls from many
// threads share the session's connection pool. Shapes follow botocore's kinesis model; only the
// members the harness uses are mapped.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/session.h"
#include "wire/hash_key.h"

namespace eddy::client {

// Either a value or the AWS error of the call. error.attempts counts the attempts either way
// (PutRecords and call() fill it on success too).
template <typename T>
struct Outcome {
  std::optional<T> value;
  AwsError error;
  bool ok() const { return value.has_value(); }
  explicit operator bool() const { return ok(); }
  T& operator*() { return *value; }
  const T& operator*() const { return *value; }
  T* operator->() { return &*value; }
  const T* operator->() const { return &*value; }
};

struct ShardInfo {
  std::string shard_id;
  std::string parent_shard_id;           // empty when none
  std::string adjacent_parent_shard_id;  // empty when none
  wire::HashRange hash_range;
  std::string starting_sequence_number;
  std::string ending_sequence_number;  // empty while the shard is open
  bool open() const { return ending_sequence_number.empty(); }
};

struct StreamSummary {
  std::string stream_name;
  std::string stream_arn;
  std::string stream_status;  // CREATING, ACTIVE, UPDATING, DELETING
  std::string stream_mode;    // PROVISIONED or ON_DEMAND
  int open_shard_count = 0;
  int retention_period_hours = 0;
};

// One PutRecords entry. data is raw bytes (the client base64-encodes).
struct PutRecordsEntry {
  std::string data;
  std::string partition_key;
  std::optional<std::string> explicit_hash_key;  // decimal
};

// The same as views: the bytes are read where they lie while the request is encoded.
struct PutRecordsEntryView {
  std::string_view data;
  std::string_view partition_key;
  std::optional<std::string_view> explicit_hash_key;
};

struct PutRecordsResultEntry {
  std::string sequence_number;  // empty for a failed entry
  std::string shard_id;
  std::string error_code;  // empty for a success ("ProvisionedThroughputExceededException", "InternalFailure")
  std::string error_message;
  bool ok() const { return error_code.empty(); }
};

struct PutRecordsResult {
  int failed_record_count = 0;
  std::vector<PutRecordsResultEntry> records;  // in request order
};

// ShardIteratorType and its argument.
struct IteratorStart {
  std::string type = "TRIM_HORIZON";  // TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP
  std::string sequence_number;        // for AT_/AFTER_SEQUENCE_NUMBER
  double timestamp = 0;               // for AT_TIMESTAMP: epoch seconds
};

// A record read by GetRecords. The views point into the GetRecordsResult's arena (one buffer per
// response, not three strings per record) and live as long as it.
struct KinesisRecord {
  std::string_view sequence_number;
  std::string_view partition_key;
  std::string_view data;           // raw bytes (base64 decoded)
  double approximate_arrival = 0;  // epoch seconds (ms precision)
};

struct GetRecordsResult {
  std::vector<KinesisRecord> records;
  std::unique_ptr<std::string> arena;  // what records[i] view (stable across moves)
  std::string next_shard_iterator;  // empty: the shard is closed and read to its end
  int64_t millis_behind_latest = 0;
  std::vector<ShardInfo> child_shards;  // at the end of a closed shard
};

class KinesisClient {
 public:
  // PutRecords goes in CBOR 1.1 (Data as raw bytes, no base64), as the Java SDK and so the KPL
  // send it, unless the environment turns CBOR off the way the Java SDKs read it
  // (AWS_CBOR_DISABLE set, or CBOR_ENABLED=false); every other call is JSON 1.1.
  explicit KinesisClient(Session& session);
  void set_cbor(bool on) { cbor_ = on; }
  bool cbor() const { return cbor_; }

  // Every shard (follows NextToken). Identify the stream by name; ARN-addressed calls set
  // stream_arn instead by passing "arn:..." as the name.
  Outcome<std::vector<ShardInfo>> list_shards(const std::string& stream);
  Outcome<StreamSummary> describe_stream_summary(const std::string& stream);
  Outcome<std::vector<std::string>> list_streams();  // every stream name (follows NextToken)
  Outcome<PutRecordsResult> put_records(const std::string& stream, const std::vector<PutRecordsEntry>& entries);
  Outcome<PutRecordsResult> put_records(const std::string& stream, std::span<const PutRecordsEntryView> entries);
  Outcome<std::string> get_shard_iterator(const std::string& stream, const std::string& shard_id,
                                          const IteratorStart& start);
  Outcome<GetRecordsResult> get_records(const std::string& shard_iterator, int limit = 10000);

  // Any other operation: the JSON input as text, the JSON output as text ("{}" for none).
  Outcome<std::string> call(std::string_view operation, std::string json_input);

  Session& session() { return session_; }

 private:
  // call() with the body in CBOR (cbor) or JSON, the answer's body as it came.
  Outcome<std::string> call_encoded(std::string_view operation, std::string body, bool cbor);

  Session& session_;
  Url endpoint_;
  bool cbor_ = true;
};

}  // namespace eddy::client
