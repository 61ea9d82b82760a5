#include "server/kinesis/next_token.h"

#include <openssl/sha.h>

#include "wire/base64.h"

namespace eddy::kinesis {

std::string NextTokenCodec::mac(const nlohmann::json& state) const {
  unsigned char d[SHA256_DIGEST_LENGTH];
  const std::string text = state.dump() + secret_;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  return wire::base64_encode(std::string_view(reinterpret_cast<const char*>(d), 16));
}

std::string NextTokenCodec::seal(nlohmann::json state) const {
  state["m"] = mac(state);
  return wire::base64_encode(state.dump());
}

std::optional<nlohmann::json> NextTokenCodec::open(std::string_view token) const {
  auto raw = wire::base64_decode(token);
  if (!raw) return std::nullopt;
  nlohmann::json state = nlohmann::json::parse(*raw, nullptr, false);
  if (state.is_discarded() || !state.is_object() || !state.contains("m")) return std::nullopt;
  const nlohmann::json m = state["m"];
  state.erase("m");
  if (m != mac(state)) return std::nullopt;
  return state;
}

std::string NextTokenCodec::list_streams(std::string_view last_name) {
  return wire::base64_encode("ls/" + std::string(last_name));
}

std::optional<std::string> NextTokenCodec::list_streams_after(std::string_view token) {
  auto raw = wire::base64_decode(token);
  if (!raw || raw->substr(0, 3) != "ls/") return std::nullopt;
  return raw->substr(3);
}

}  // namespace eddy::kinesis
