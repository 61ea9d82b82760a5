#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "wire/kpl_aggregate.h"

// The producer's side of KPL aggregation: encodes user records straight into the three
// protobuf fields of an AggregatedRecord as they arrive (no message objects, no second copy),
// so a producer can aggregate at millions of records a second.
//
// The bytes equal wire::kpl::encode() of the same records (fields in field-number order, key
// tables in first-seen order, MD5 appended), which is what the KPL itself emits.
namespace eddy::wire::kpl {

class AggregateWriter {
 public:
  // Exact size of the finished record after adding this user record (the KPL's
  // AggregationMaxSize and Kinesis's 1 MiB are checked against this).
  std::size_t size_with(std::string_view partition_key,
                        std::optional<std::string_view> explicit_hash_key,
                        std::size_t data_size) const;
  void add(std::string_view partition_key, std::optional<std::string_view> explicit_hash_key,
           std::string_view data);
  void add(const UserRecord& r) {
    add(r.partition_key,
        r.explicit_hash_key ? std::optional<std::string_view>(*r.explicit_hash_key) : std::nullopt,
        r.data);
  }

  // Size of finish() now: magic + protobuf body + digest.
  std::size_t size_bytes() const {
    return kMagic.size() + pk_table_.size() + ehk_table_.size() + records_.size() + kDigestSize;
  }
  std::size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }

  // Appends the aggregated record (magic || body || MD5(body)) to out.
  void finish_into(std::string& out) const;
  std::string finish() const;
  void clear();

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using KeyTable = std::unordered_map<std::string, std::uint64_t, KeyHash, std::equal_to<>>;
  std::size_t growth(std::string_view partition_key,
                     std::optional<std::string_view> explicit_hash_key,
                     std::size_t data_size) const;

  std::string pk_table_;   // field 1, one entry a key
  std::string ehk_table_;  // field 2
  std::string records_;    // field 3, one entry a user record
  KeyTable pk_index_;
  KeyTable ehk_index_;
  std::size_t count_ = 0;
};

}  // namespace eddy::wire::kpl
