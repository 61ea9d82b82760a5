#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// KPL record aggregation: many user records in one Kinesis record.
//
//   F3 89 9A C2 || protobuf AggregatedRecord (wire/kpl.proto) || MD5(protobuf bytes)
//
// Partition keys and explicit hash keys are stored once each, in tables in first-seen order;
// every record points into them by index.
namespace eddy::wire::kpl {

inline constexpr std::string_view kMagic = "\xF3\x89\x9A\xC2";
inline constexpr std::size_t kDigestSize = 16;

struct UserRecord {
  std::string partition_key;
  std::optional<std::string> explicit_hash_key;  // decimal text, as producers send it
  std::string data;
  bool operator==(const UserRecord&) const = default;
};

enum class DecodeStatus {
  not_aggregated,  // no magic prefix (or too short to hold one and a digest): a plain record
  ok,
  bad_md5,         // the trailing digest does not match the protobuf bytes
  bad_protobuf,    // the bytes between magic and digest are not an AggregatedRecord
  bad_index,       // a record points past the end of a key table
};

std::string_view to_string(DecodeStatus s);

struct DecodeResult {
  DecodeStatus status = DecodeStatus::not_aggregated;
  std::vector<UserRecord> records;  // filled only when status == ok
};

struct DecodeOptions {
  // The KCL checks the digest and, on a mismatch, hands the record on undecoded; some
  // de-aggregators skip the check. Off, a bad digest is ignored.
  bool verify_md5 = true;
};

// Magic prefix present and room for the digest after it.
bool is_aggregated(std::string_view data);

DecodeResult decode(std::string_view data, DecodeOptions options = {});

// The bytes the KPL produces for these records: key tables in first-seen order, fields in
// field-number order, MD5 appended.
std::string encode(std::span<const UserRecord> records);

// Collects user records for one aggregated record and knows its exact encoded size at every
// step, so a producer can stop before a limit (1 MiB a Kinesis record) without encoding.
class Aggregator {
 public:
  void add(UserRecord record);
  // encode().size(), now.
  std::size_t size_bytes() const { return size_; }
  // What size_bytes() would become after add(record).
  std::size_t size_with(const UserRecord& record) const;
  std::size_t count() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  const std::vector<UserRecord>& records() const { return records_; }
  std::string encode() const;
  void clear();

 private:
  std::size_t record_growth(const UserRecord& record) const;
  std::vector<UserRecord> records_;
  std::unordered_map<std::string, std::size_t> partition_keys_;
  std::unordered_map<std::string, std::size_t> explicit_hash_keys_;
  std::size_t size_ = kMagic.size() + kDigestSize;
};

}  // namespace eddy::wire::kpl
