#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::kinesis {

// A Kinesis sequence number: 56 decimal digits that encode where the record lives, so that
// a number used against the wrong shard or stream is recognised:
//   "49" | stream id (10 digits) | shard index (10) | per-shard counter (20) | "0" x 14
// Within a shard, numbers compare like their counters (strictly increasing, also across
// restarts: the counter's high-water mark is persisted).
struct SequenceNumber {
  uint32_t stream_id = 0;
  uint32_t shard_index = 0;
  uint64_t counter = 0;

  std::string str() const;
  // Appends the 56 digits (no allocation beyond the target's growth).
  void append_to(std::string& out) const;
  static std::optional<SequenceNumber> parse(std::string_view s);
  friend bool operator==(const SequenceNumber&, const SequenceNumber&) = default;
};

inline constexpr size_t kSequenceNumberDigits = 56;

}  // namespace eddy::kinesis
