#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::wire {

// A Kinesis hash key: an unsigned 128-bit integer, written in decimal on the wire.
using u128 = unsigned __int128;

constexpr u128 kMaxHashKey = ~u128{0};

struct HashRange {
  u128 start = 0;
  u128 end = 0;  // inclusive
  bool contains(u128 k) const { return k >= start && k <= end; }
};

// Decimal text <-> u128. Parsing accepts only ASCII digits (no sign, no spaces) and rejects
// values above 2^128-1.
std::optional<u128> parse_u128(std::string_view decimal);
std::string to_decimal(u128 v);

// MD5 of the UTF-8 partition key, read as a big-endian unsigned 128-bit integer: the key
// Kinesis uses to pick the shard.
u128 hash_key_of_partition_key(std::string_view partition_key);
u128 u128_from_big_endian(const unsigned char bytes[16]);

// The ranges CreateStream gives N shards: the key space split evenly, the last shard ending
// at 2^128-1.
std::vector<HashRange> even_split(uint32_t shard_count);
// Same split over an arbitrary range (UpdateShardCount splits within the whole space too).
std::vector<HashRange> even_split(HashRange range, uint32_t parts);

}  // namespace eddy::wire
