#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wire/hash_key.h"

// What the producer needs from Kinesis, for one stream. The real one sits on the eddy_client
// KinesisClient (kinesis_transport.h); tests use an in-memory fake.
namespace eddy::producer {

struct ShardInfo {
  std::string shard_id;
  wire::HashRange range;
  bool open = true;  // false once the shard was split or merged (it has an ending sequence number)
};

struct ListShardsOutcome {
  bool ok = false;
  std::string error_code;  // e.g. ResourceNotFoundException
  std::string error_message;
  std::vector<ShardInfo> shards;  // open and closed
};

// One PutRecords entry: views into the producer's record, which stays put (and unchanged)
// until put_records() returns, so no byte of a request is copied before it is encoded.
struct PutEntry {
  std::string_view partition_key;
  std::optional<std::string_view> explicit_hash_key;
  std::string_view data;
};

struct PutEntryResult {
  std::string shard_id;         // set on success
  std::string sequence_number;  // set on success
  std::string error_code;       // set on failure (ProvisionedThroughputExceededException, ...)
  std::string error_message;
  bool ok() const { return !sequence_number.empty(); }
};

struct PutRecordsOutcome {
  bool ok = false;             // the request as a whole; false: every entry is to be retried
  int attempts = 1;            // HTTP attempts the call took (the client's own retries + 1)
  std::string error_code;      // of the request (after the client's own retries)
  std::string error_message;
  std::vector<PutEntryResult> entries;  // one per entry sent, in order, when ok
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Every shard of the stream (all pages).
  virtual ListShardsOutcome list_shards() = 0;
  // One PutRecords call. Must be callable from several threads at once.
  virtual PutRecordsOutcome put_records(std::span<const PutEntry> entries) = 0;
};

}  // namespace eddy::producer
