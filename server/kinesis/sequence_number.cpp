#include "server/kinesis/sequence_number.h"

#include <array>
#include <cstring>


namespace eddy::kinesis {

namespace {
// "00" .. "99": GetRecords writes a sequence number per record, two digits per division.
constexpr auto kDigitPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

// The decimal digits of v ending just before `end`, into a field already zero-filled (v fits
// the field). Stops when v runs out: ids and counters are small, their fields 10 and 20 wide.
void write_digits(char* end, uint64_t v) {
  while (v >= 10) {
    const size_t pair = static_cast<size_t>(v % 100) * 2;
    end -= 2;
    end[0] = kDigitPairs[pair];
    end[1] = kDigitPairs[pair + 1];
    v /= 100;
  }
  if (v != 0) end[-1] = static_cast<char>('0' + v);
}

// "49" and 54 zeros.
constexpr auto kZeroSequence = [] {
  std::array<char, kSequenceNumberDigits> t{};
  for (auto& c : t) c = '0';
  t[0] = '4';
  t[1] = '9';
  return t;
}();
}  // namespace

void SequenceNumber::append_to(std::string& out) const {
  // Layout: "49", stream id (10 digits), shard index (10), counter (20), 14 zeros.
  char buf[kSequenceNumberDigits];
  memcpy(buf, kZeroSequence.data(), kSequenceNumberDigits);
  write_digits(buf + 12, stream_id);
  write_digits(buf + 22, shard_index);
  write_digits(buf + 42, counter);
  out.append(buf, kSequenceNumberDigits);
}

std::string SequenceNumber::str() const {
  std::string s;
  s.reserve(kSequenceNumberDigits);
  append_to(s);
  return s;
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
