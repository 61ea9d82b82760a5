#pragma once
// `eddy tail`: reads every shard of a stream (parents before children after a reshard),
// de-aggregates KPL records by the KCL's rules and prints one JSON object per user record.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "client/kinesis_client.h"
#include "client/session.h"
#include "wire/hash_key.h"
#include "wire/kpl_reader.h"

namespace eddy::client {

struct TailOptions {
  std::string stream;
  std::string from = "trim_horizon";  // trim_horizon | latest | at_timestamp:ISO8601
  std::string checkpoint;             // file; empty: none
  bool follow = false;
  int limit = 10000;        // GetRecords Limit
  int64_t poll_ms = 1000;   // --follow: wait per shard after an empty GetRecords
  int64_t max_records = 0;  // stop after this many user records (0: no limit)
  int parallel = 4;         // shards read at once
  // GetRecords' encoding: "cbor" (the Java SDK's: no base64, the answer read in place) or "json".
  std::string protocol = "cbor";
  SessionOptions session;
};

// One user record as printed.
struct TailRecord {
  std::string_view shard_id;
  std::string_view sequence_number;
  int64_t sub_sequence_number = 0;  // index in its aggregate; 0 for a plain record
  std::string_view partition_key;
  std::optional<std::string_view> explicit_hash_key;
  double arrival = 0;  // epoch seconds
  std::string_view data;
};

// Appends the JSON line of a record: {"shardId","sequenceNumber","subSequenceNumber",
// "partitionKey","explicitHashKey"?,"arrival" (ISO 8601, ms),"data" (valid UTF-8) or
// "dataBase64"} and '\n'.
void append_tail_json(const TailRecord& r, std::string& out);

// What the lines of one Kinesis record's user records share (shardId, sequenceNumber, arrival),
// written once per Kinesis record instead of once per user record: pass the same cache for
// consecutive lines. Compared by content, so any record may follow any other.
struct TailLineCache {
  std::string shard_id, sequence_number;
  double arrival = -1;
  std::string head;          // {"shardId":…,"sequenceNumber":…,"subSequenceNumber":
  std::string arrival_text;  // ,"arrival":"…"
};
void append_tail_json(const TailRecord& r, std::string& out, TailLineCache& cache);

// The KCL's de-aggregation of one Kinesis record read from a shard with `range`:
//  - no magic / too short / bad protobuf: the record as is (subSequenceNumber 0);
//  - bad MD5: the record as is, undecoded;
//  - any sub-record whose effective hash key (explicit, else MD5 of its partition key) lies
//    outside `range`: the whole record is dropped (returns false; *warning says why);
//  - else every sub-record with its index as subSequenceNumber.
// `emit` receives each user record; `reader` is reused between calls.
bool deaggregate(const KinesisRecord& record, std::string_view shard_id, const wire::HashRange& range,
                 wire::kpl::AggregateReader& reader, const std::function<void(const TailRecord&)>& emit,
                 std::string* warning);

// Runs the tail: writes JSON lines to out, warnings and errors to err. Returns the exit code.
int run_tail(const TailOptions& options, Session& session, std::ostream& out, std::ostream& err);

void register_tail_command(CLI::App& app);

}  // namespace eddy::client
