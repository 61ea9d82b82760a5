#include "wire/base64.h"

#include <openssl/rand.h>

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

// The decoder's tables: character -> its six bits already shifted to their place in the
// quad's 24 bits, or kBad. One OR of four lookups per quad instead of four lookups, a sign
// test and three shifts.
constexpr uint32_t kBad = 0x80000000u;
constexpr std::array<uint32_t, 256> make_shifted(int shift) {
  std::array<uint32_t, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = kReverse[c] < 0 ? kBad : static_cast<uint32_t>(kReverse[c]) << shift;
  return t;
}
constexpr auto kD0 = make_shifted(18), kD1 = make_shifted(12), kD2 = make_shifted(6), kD3 = make_shifted(0);
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
  const size_t start = out.size();
  const size_t quads = n / 4, rem = n % 4;
  out.resize(start + quads * 3 + (rem ? rem - 1 : 0));
  // Four characters at a time into the sized buffer: a byte-wise push_back was a tenth of
  // PutRecords' CPU.
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data() + start);
  for (size_t q = 0; q < quads; ++q, p += 4, o += 3) {
    const uint32_t v = kD0[p[0]] | kD1[p[1]] | kD2[p[2]] | kD3[p[3]];
    if (v & kBad) {
      out.resize(start);
      return false;
    }
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
  }
  if (rem > 0) {
    const int a = kReverse[p[0]], b = kReverse[p[1]], c = rem == 3 ? kReverse[p[2]] : 0;
    // Leftover bits must be zero (canonical encoding).
    if ((a | b | c) < 0 || (rem == 2 && (b & 0x0F) != 0) || (rem == 3 && (c & 0x03) != 0)) {
      out.resize(start);
      return false;
    }
    o[0] = static_cast<unsigned char>((a << 2) | (b >> 4));
    if (rem == 3) o[1] = static_cast<unsigned char>(((b & 0x0F) << 4) | (c >> 2));
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  if (!base64_decode_append(in, out)) return std::nullopt;
  return out;
}

std::string opaque_base64(size_t raw_bytes) {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
    return seed | 1;
  }();
  std::string raw(raw_bytes + 7, '\0');
  for (size_t i = 0; i < raw_bytes; i += 8) {
    // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    std::memcpy(raw.data() + i, &z, 8);
  }
  return base64_encode(std::string_view(raw.data(), raw_bytes));
}

}  // namespace eddy::wire
