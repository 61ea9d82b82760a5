#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::kinesis {

// A shard iterator: an opaque, tamper-evident token naming a position in a shard. It is
// base64 of the fields and an HMAC-SHA256 (truncated to 16 bytes) under a secret that is
// persisted with the data, so iterators survive a restart and forged ones are refused.
struct ShardIterator {
  uint32_t stream_id = 0;
  uint32_t shard_index = 0;
  uint64_t position = 0;   // the counter of the next record to read
  int64_t issued_ms = 0;

  friend bool operator==(const ShardIterator&, const ShardIterator&) = default;
};

inline constexpr int64_t kIteratorLifetimeMs = 300'000;

class ShardIteratorCodec {
 public:
  explicit ShardIteratorCodec(std::string secret);
  std::string encode(const ShardIterator& it) const;
  // nullopt for anything not made by encode() with the same secret.
  std::optional<ShardIterator> decode(std::string_view token) const;

 private:
  std::string secret_;
};

}  // namespace eddy::kinesis
