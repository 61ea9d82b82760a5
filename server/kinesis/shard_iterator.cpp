#include "server/kinesis/shard_iterator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/store/store.h"
#include "wire/base64.h"

namespace eddy::kinesis {

namespace {
constexpr char kVersion = 1;
constexpr size_t kPayload = 1 + 4 + 4 + 8 + 8;
constexpr size_t kMac = 16;

std::string mac(const std::string& secret, std::string_view payload) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), kMac);
}
}  // namespace

ShardIteratorCodec::ShardIteratorCodec(std::string secret) : secret_(std::move(secret)) {}

std::string ShardIteratorCodec::encode(const ShardIterator& it) const {
  std::string p;
  p.push_back(kVersion);
  store::put_u32(p, it.stream_id);
  store::put_u32(p, it.shard_index);
  store::put_u64(p, it.position);
  store::put_u64(p, static_cast<uint64_t>(it.issued_ms));
  p += mac(secret_, p);
  return wire::base64_encode(p);
}

std::optional<ShardIterator> ShardIteratorCodec::decode(std::string_view token) const {
  if (token.size() > 512) return std::nullopt;
  auto raw = wire::base64_decode(token);
  if (!raw || raw->size() != kPayload + kMac || (*raw)[0] != kVersion) return std::nullopt;
  std::string_view payload(raw->data(), kPayload);
  std::string expect = mac(secret_, payload);
  if (CRYPTO_memcmp(expect.data(), raw->data() + kPayload, kMac) != 0) return std::nullopt;
  ShardIterator it;
  it.stream_id = store::get_u32(payload, 1);
  it.shard_index = store::get_u32(payload, 5);
  it.position = store::get_u64(payload, 9);
  it.issued_ms = static_cast<int64_t>(store::get_u64(payload, 17));
  return it;
}

}  // namespace eddy::kinesis
