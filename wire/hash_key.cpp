#include "wire/hash_key.h"

#include <openssl/evp.h>

#include <algorithm>

namespace eddy::wire {

std::optional<u128> parse_u128(std::string_view s) {
  if (s.empty() || s.size() > 39) return std::nullopt;
  u128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    u128 d = static_cast<u128>(c - '0');
    if (v > (kMaxHashKey - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::string to_decimal(u128 v) {
  if (v == 0) return "0";
  char buf[40];
  int i = 40;
  while (v > 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  return std::string(buf + i, buf + 40);
}

u128 u128_from_big_endian(const unsigned char b[16]) {
  u128 v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | b[i];
  return v;
}

namespace {
// OpenSSL 3 looks the algorithm up in its provider table (under a lock) on every
// EVP_Digest(..., EVP_md5(), ...). PutRecords hashes one key per record, so fetch MD5 once
// and keep one context per thread.
const EVP_MD* md5_algorithm() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

struct Md5Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Md5Context() { EVP_MD_CTX_free(ctx); }
};
}  // namespace

u128 hash_key_of_partition_key(std::string_view key) {
  unsigned char digest[16];
  unsigned int len = 0;
  thread_local Md5Context c;
  const EVP_MD* md = md5_algorithm();
  if (md == nullptr || c.ctx == nullptr || EVP_DigestInit_ex2(c.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, key.data(), key.size()) != 1 || EVP_DigestFinal_ex(c.ctx, digest, &len) != 1)
    EVP_Digest(key.data(), key.size(), digest, &len, EVP_md5(), nullptr);
  return u128_from_big_endian(digest);
}

std::vector<HashRange> even_split(HashRange range, uint32_t parts) {
  std::vector<HashRange> out;
  if (parts == 0) return out;
  // width = (end - start + 1) / parts, computed without overflowing when the range is the
  // whole 2^128 space.
  u128 span_minus_one = range.end - range.start;
  u128 width = span_minus_one / parts;
  u128 rem = span_minus_one % parts;
  // (span) / parts == (span_minus_one + 1) / parts
  if (rem + 1 == parts) {
    width += 1;
  }
  u128 start = range.start;
  for (uint32_t i = 0; i < parts; ++i) {
    HashRange r;
    r.start = start;
    r.end = (i + 1 == parts) ? range.end : start + width - 1;
    out.push_back(r);
    start = r.end + 1;
  }
  return out;
}

std::vector<HashRange> even_split(uint32_t shard_count) {
  return even_split(HashRange{0, kMaxHashKey}, shard_count);
}

}  // namespace eddy::wire
