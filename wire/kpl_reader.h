#pragma once
// Reads a KPL aggregated record (wire/kpl_aggregate.h has the format) in place: the key tables
// and each user record come out as views into the input, so decoding allocates nothing per user
// record. Uses protobuf's CodedInputStream for the wire format (varints, lengths, skipping
// unknown fields); no generated message is built.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"

namespace eddy::wire::kpl {

struct UserRecordView {
  std::string_view partition_key;
  std::optional<std::string_view> explicit_hash_key;
  std::string_view data;
};

class AggregateReader {
 public:
  // Checks magic, digest (when options.verify_md5) and the whole protobuf, indexes included,
  // before any record is handed out: status() is ok only for a record the KCL would
  // de-aggregate. The reader keeps views into `data`, which must outlive it. Reusable: reset()
  // keeps the tables' capacity.
  AggregateReader() = default;
  explicit AggregateReader(std::string_view data, DecodeOptions options = {}) { reset(data, options); }
  DecodeStatus reset(std::string_view data, DecodeOptions options = {});

  DecodeStatus status() const { return status_; }
  std::size_t size() const { return records_.size(); }
  UserRecordView operator[](std::size_t i) const;

  // The key tables and each record's indexes into them (checked by reset()): a reader that
  // works per distinct key (the hash key of each partition key, once) instead of per record.
  static constexpr uint32_t kNone = ~uint32_t{0};
  const std::vector<std::string_view>& partition_key_table() const { return pks_; }
  const std::vector<std::string_view>& explicit_hash_key_table() const { return ehks_; }
  uint32_t partition_key_index(std::size_t i) const { return records_[i].pk; }
  uint32_t explicit_hash_key_index(std::size_t i) const { return records_[i].ehk; }  // kNone: none

  // The index of the first user record whose effective hash key (its explicit hash key, else
  // the MD5 of its partition key) lies outside `range` or does not parse: a KCL consumer drops
  // the whole aggregate then. nullopt when every one lies inside. Each distinct key is looked
  // at once (aggregates repeat their keys), the verdicts kept in the reader (no allocation once
  // its capacity is reached).
  std::optional<std::size_t> first_outside(const HashRange& range);

 private:
  struct Entry {
    uint32_t pk;
    uint32_t ehk;  // kNone when absent
    std::string_view data;
  };
  DecodeStatus status_ = DecodeStatus::not_aggregated;
  std::vector<std::string_view> pks_;
  std::vector<std::string_view> ehks_;
  std::vector<Entry> records_;
  std::vector<uint8_t> pk_verdict_, ehk_verdict_;  // 0 not yet known, 1 inside, 2 outside
};

}  // namespace eddy::wire::kpl
