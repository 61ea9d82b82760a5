#pragma once
// The keys of Kinesis's rows, as the Storage table of docs/architecture.md lists them. Integers
// are written big-endian (store::put_u32/put_u64), so keys sort numerically. A record block's
// key (stream id u32 + shard u32 + first counter u64) is `record_key` in record_block.h.
#include <cstdint>
#include <string>
#include <string_view>

#include "server/store/store.h"

namespace eddy::kinesis::keys {

// meta: 32 random bytes, the key of the iterator HMAC and of ListShards NextTokens.
inline constexpr std::string_view kIteratorSecret = "k/iterator-secret";
// meta: the next stream id, u32.
inline constexpr std::string_view kNextStreamId = "n/stream-id";
// meta: the account's settings (UpdateAccountSettings), JSON.
inline constexpr std::string_view kAccountSettings = "a/account-settings";
// meta: `s/<stream name>` -> the stream's JSON (its consumers and resource policies included). "s0" is the first key past them all.
inline constexpr std::string_view kStreamsBegin = "s/";
inline constexpr std::string_view kStreamsEnd = "s0";

inline std::string stream(std::string_view name) { return std::string(kStreamsBegin) + std::string(name); }

// meta: `c/` + stream id u32 + shard u32 -> the shard's next record counter u64.
inline std::string counter(uint32_t stream_id, uint32_t shard) {
  std::string k = "c/";
  store::put_u32(k, stream_id);
  store::put_u32(k, shard);
  return k;
}

// records: every row of a stream, and of one of its shards.
inline std::string stream_records(uint32_t stream_id) {
  std::string k;
  store::put_u32(k, stream_id);
  return k;
}
inline std::string shard_records(uint32_t stream_id, uint32_t shard) {
  std::string k;
  store::put_u32(k, stream_id);
  store::put_u32(k, shard);
  return k;
}

// The smallest key greater than every key with prefix p (p is never all 0xff here).
inline std::string prefix_end(std::string p) {
  for (size_t i = p.size(); i-- > 0;) {
    if (static_cast<unsigned char>(p[i]) != 0xff) {
      p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) + 1);
      p.resize(i + 1);
      return p;
    }
  }
  return p + '\xff';
}

}  // namespace eddy::kinesis::keys
