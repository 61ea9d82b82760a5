#include "wire/base64.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace eddy::wire {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> r{};
  for (auto& v : r) v = -1;
  for (int i = 0; i < 64; ++i) r[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return r;
}
constexpr auto kReverse = make_reverse();
}  // namespace

void base64_encode_append(std::string_view in, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  size_t pos = out.size();
  out.resize(pos + (n + 2) / 3 * 4);
  char* o = out.data() + pos;
  // Two output characters per lookup (12 bits -> 2 chars): GetRecords encodes every record.
  static const auto kPairs = [] {
    std::array<char, 4096 * 2> t{};
    for (size_t v = 0; v < 4096; ++v) {
      t[2 * v] = kAlphabet[v >> 6];
      t[2 * v + 1] = kAlphabet[v & 63];
    }
    return t;
  }();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
    std::memcpy(o, &kPairs[(v >> 12) * 2], 2);
    std::memcpy(o + 2, &kPairs[(v & 4095) * 2], 2);
    o += 4;
  }
  if (n - i == 1) {
    uint32_t v = uint32_t(p[i]) << 16;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = '=';
  }
}

std::string base64_encode(std::string_view in) {
  std::string out;
  base64_encode_append(in, out);
  return out;
}

bool base64_decode_append(std::string_view in, std::string& out) {
  size_t n = in.size();
  size_t pad = 0;
  while (n > 0 && in[n - 1] == '=' && pad < 2) {
    --n;
    ++pad;
  }
  if (pad > 0 && (n + pad) % 4 != 0) return false;
  if (n % 4 == 1) return false;
  size_t start = out.size();
  out.reserve(start + n * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int8_t v = kReverse[static_cast<unsigned char>(in[i])];
    if (v < 0) {
      out.resize(start);
      return false;
    }
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    out.resize(start);
    return false;
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  if (!base64_decode_append(in, out)) return std::nullopt;
  return out;
}

}  // namespace eddy::wire
