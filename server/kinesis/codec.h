#pragma once
// Kinesis wire encodings: JSON 1.1 (blobs as base64 strings, timestamps as epoch seconds) and
// CBOR 1.1 (blobs as byte strings, timestamps as tag 1 with epoch milliseconds).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/kinesis/api_error.h"

namespace eddy::kinesis {

enum class Encoding { json, cbor };

inline constexpr const char* kJsonContentType = "application/x-amz-json-1.1";
inline constexpr const char* kCborContentType = "application/x-amz-cbor-1.1";

// In a response tree, blobs are nlohmann binary values and timestamps are Timestamp values
// (an object {"$ts": ms}) so each encoder writes them its own way.
nlohmann::json timestamp_value(int64_t epoch_ms);
nlohmann::json blob_value(std::string_view bytes);

// Parses a request body. Returns false and sets `error` (SerializationException) when the
// body is not valid for the encoding.
bool decode_body(Encoding enc, std::string_view body, nlohmann::json& out, ApiError& error);

// Any CBOR item (tags dropped, their content kept) -> json; false when malformed or trailing.
bool decode_cbor(std::string_view body, nlohmann::json& out);

std::string encode_json(const nlohmann::json& v);
std::string encode_cbor(const nlohmann::json& v);
std::string encode(Encoding enc, const nlohmann::json& v);
std::string encode_error(Encoding enc, const ApiError& e);

// Pieces for writing a response straight into its encoding, used by the hot paths
// (GetRecords, PutRecords) instead of building a json tree per record.
namespace emit {
void json_string(std::string& o, std::string_view s);        // quoted and escaped
void json_timestamp(std::string& o, int64_t epoch_ms);       // 1700000000.123
void json_blob(std::string& o, std::string_view bytes);      // quoted base64
void cbor_head(std::string& o, uint8_t major, uint64_t n);
void cbor_int(std::string& o, int64_t v);
void cbor_text(std::string& o, std::string_view s);
void cbor_bytes(std::string& o, std::string_view s);
void cbor_timestamp(std::string& o, int64_t epoch_ms);       // tag 1 + integer ms
}  // namespace emit

// Reading members of a decoded request with AWS's type-error wording.
// Each returns nullopt when the member is absent or null; sets `error` on a type mismatch.
struct Reader {
  Reader(const nlohmann::json& o, Encoding e) : obj(o), enc(e) {}
  const nlohmann::json& obj;
  Encoding enc;
  std::optional<ApiError> error;

  const nlohmann::json* member(const char* name) const;
  std::optional<std::string> string(const char* name);
  std::optional<int64_t> integer(const char* name, bool is_long = false);
  std::optional<bool> boolean(const char* name);
  std::optional<std::string> blob(const char* name);
  // Epoch milliseconds.
  std::optional<int64_t> timestamp(const char* name);
  const nlohmann::json* object(const char* name);  // structure or map
  const nlohmann::json* list(const char* name);
  bool failed() const { return error.has_value(); }
};

// Same helpers for a value (list element), used by PutRecords entries.
std::optional<std::string> blob_of(const nlohmann::json& v, Encoding enc, std::optional<ApiError>& error);

}  // namespace eddy::kinesis
