#pragma once
// The fast path for the JSON and CBOR PutRecord and PutRecords bodies SDKs send.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::kinesis {

// One PutRecords entry. Key and hash key are views into the decoded request; CBOR data is
// viewed in place, JSON data is base64-decoded into `decoded` (the JSON fast parser decodes
// into one arena instead, the CBOR one views the request body).
struct RecordEntry {
  std::string_view data;
  std::string_view partition_key;
  std::optional<std::string_view> explicit_hash_key;
  std::string decoded;
};

// PutRecord(s) in JSON as SDKs send them: {"Records":[{"Data":"..","PartitionKey":".."},..],
// "StreamName":".."} and {"StreamName":"..","Data":"..","PartitionKey":".."}, with plain ASCII
// strings. Parsed here without building a json tree; anything else (escapes, non-ASCII, other
// members or types, duplicates, an entry that would fail validation) returns false and the
// request takes the generic path, which gives AWS's exact errors. Views point into the body.
struct FastPut {
  std::optional<std::string_view> name, arn;
  std::optional<std::string_view> sequence_number_for_ordering;  // PutRecord only
  std::vector<RecordEntry> entries;
  // Every entry's decoded data, back to back (one allocation, not one per entry). Reserved
  // to the body's size before the first entry, so it never moves under the entries' views.
  std::string arena;
};

bool parse_put_record_fast(std::string_view body, FastPut& out);
bool parse_put_records_fast(std::string_view body, FastPut& out);
// The same requests in CBOR 1.1 as the Java SDK (and `eddy put`) send them: maps and arrays of
// definite or indefinite length, ASCII text strings, Data as one byte string, which the
// entries view in place (no arena, no base64). The same fallbacks as the JSON fast path.
bool parse_put_record_cbor_fast(std::string_view body, FastPut& out);
bool parse_put_records_cbor_fast(std::string_view body, FastPut& out);
// The fast parser for `operation` (PutRecord, PutRecords) in the request's encoding; false
// for any other operation and whenever the request needs the generic path.
bool parse_put_fast(std::string_view operation, bool cbor, std::string_view body, FastPut& out);

// An ExplicitHashKey's text as the model's pattern allows it: 0 or up to 39 digits without a
// leading zero (its value may still exceed 2^128-1).
bool is_hash_key_text(std::string_view v);

}  // namespace eddy::kinesis
