#include "server/kinesis/sequence_number.h"

#include <cstdio>

namespace eddy::kinesis {

std::string SequenceNumber::str() const {
  char buf[64];
  snprintf(buf, sizeof buf, "49%010u%010u%020llu00000000000000", stream_id, shard_index,
           static_cast<unsigned long long>(counter));
  return std::string(buf, kSequenceNumberDigits);
}

std::optional<SequenceNumber> SequenceNumber::parse(std::string_view s) {
  if (s.size() != kSequenceNumberDigits || s[0] != '4' || s[1] != '9') return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  for (size_t i = 42; i < kSequenceNumberDigits; ++i)
    if (s[i] != '0') return std::nullopt;
  auto num = [&](size_t pos, size_t len) {
    unsigned __int128 v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + static_cast<unsigned>(s[i] - '0');
    return v;
  };
  auto stream = num(2, 10), shard = num(12, 10), counter = num(22, 20);
  if (stream > UINT32_MAX || shard > UINT32_MAX || counter > UINT64_MAX) return std::nullopt;
  return SequenceNumber{static_cast<uint32_t>(stream), static_cast<uint32_t>(shard), static_cast<uint64_t>(counter)};
}

}  // namespace eddy::kinesis
