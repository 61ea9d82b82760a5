#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // finish_into() in two steps, so that the digest (most of the cost) can be computed later
  // and elsewhere, e.g. by a sender thread outside the producer's lock: the record with 16
  // zero bytes where its digest goes, then seal() on exactly that record.
  void finish_unsealed_into(std::string& out) const;
  static void seal(std::string& record);
  void clear();

 private:
  // Index of each distinct key in its table: open addressing over slots that point at the key's
  // bytes inside the table's own encoding, so neither a lookup nor a new key allocates (clear()
  // keeps the capacity). The last lookup is remembered: size_with() then add() of the same
  // record look a key up once.
  class KeyIndex {
   public:
    // The key's index, or nullopt; `table` is the encoded field the slots point into.
    std::optional<std::uint64_t> find(std::string_view key, const std::string& table) const;
    // Records that `key` got index size() and that its bytes start at `offset` in the table.
    void insert(std::string_view key, std::size_t offset);
    std::size_t size() const { return size_; }
    void clear();

   private:
    struct Slot {
      std::uint64_t hash = 0;
      std::uint32_t offset = 0, length = 0;
      std::uint32_t index = kEmpty;
    };
    static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
    std::size_t probe(std::string_view key, std::uint64_t hash, const std::string& table) const;
    void grow();
    std::vector<Slot> slots_;
    std::size_t size_ = 0;
    mutable const char* last_key_ = nullptr;
    mutable std::size_t last_length_ = 0, last_slot_ = 0;
    mutable std::uint64_t last_hash_ = 0;
  };
  // Looks `key` up, adding it to `table` (protobuf field `field`) when new: its index.
  static std::uint64_t intern_key(std::string& table, KeyIndex& index, int field, std::string_view key);
  std::size_t growth(std::string_view partition_key,
                     std::optional<std::string_view> explicit_hash_key,
                     std::size_t data_size) const;

  std::string pk_table_;   // field 1, one entry a key
  std::string ehk_table_;  // field 2
  std::string records_;    // field 3, one entry a user record
  KeyIndex pk_index_;
  KeyIndex ehk_index_;
  std::size_t count_ = 0;
};

}  // namespace eddy::wire::kpl
