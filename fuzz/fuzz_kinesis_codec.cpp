// Kinesis request bodies: decode_cbor (eddy's own CBOR reader) and decode_body for JSON and
// CBOR, then the Reader accessors the operations use on whatever decoded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/kinesis/codec.h"

using namespace eddy::kinesis;

namespace {

void read_members(const nlohmann::json& obj, Encoding enc) {
  if (!obj.is_object()) return;
  for (const char* name : {"StreamName", "Data", "Records", "Timestamp", "Limit", "ShardCount",
                           "ExplicitHashKey", "Tags", "Enforce"}) {
    Reader r(obj, enc);
    r.string(name);
    r.integer(name);
    r.integer(name, true);
    r.boolean(name);
    r.blob(name);
    r.timestamp(name);
    r.object(name);
    if (const auto* list = r.list(name)) {
      for (const auto& v : *list) {
        std::optional<ApiError> error;
        blob_of(v, enc, error);
        read_members(v, enc);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  nlohmann::json out;
  if (decode_cbor(body, out)) read_members(out, Encoding::cbor);

  for (Encoding enc : {Encoding::json, Encoding::cbor}) {
    nlohmann::json v;
    ApiError error;
    if (decode_body(enc, body, v, error)) read_members(v, enc);
    else if (error.type != "SerializationException") std::abort();
  }
  return 0;
}
