#pragma once
// NextTokens. ListShards': base64 of JSON carrying the listing's state plus `m`, the first 16
// bytes of SHA-256(JSON without `m` + the service's secret), so a client cannot forge one.
// ListStreams': base64 of "ls/" + the last name listed (it only says where to go on).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::kinesis {

class NextTokenCodec {
 public:
  explicit NextTokenCodec(std::string secret) : secret_(std::move(secret)) {}

  // A token for `state` (a JSON object without `m`).
  std::string seal(nlohmann::json state) const;
  // The state a token carries (without `m`); nullopt when it is not one of ours or was altered.
  std::optional<nlohmann::json> open(std::string_view token) const;

  static std::string list_streams(std::string_view last_name);
  // The name to list after; nullopt for a malformed token.
  static std::optional<std::string> list_streams_after(std::string_view token);

 private:
  std::string mac(const nlohmann::json& state) const;
  std::string secret_;
};

}  // namespace eddy::kinesis
