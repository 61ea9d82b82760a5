// wire::kpl::decode on arbitrary record data. The first byte picks how the rest is used:
// as a whole record, or as protobuf bytes wrapped in magic + their own MD5 (so the fuzzer
// reaches the protobuf parser without having to forge digests). Whatever decodes re-encodes
// to the same user records.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/checksum.h"
#include "wire/kpl_aggregate.h"

using namespace eddy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string record;
  if (data[0] & 1) {
    record = std::string(wire::kpl::kMagic) + std::string(rest) +
             wire::checksum::digest(wire::checksum::Algorithm::md5, rest);
  } else {
    record = std::string(rest);
  }
  wire::kpl::decode(record, {.verify_md5 = false});
  auto r = wire::kpl::decode(record);
  if (r.status != wire::kpl::DecodeStatus::ok) return 0;
  const std::string encoded = wire::kpl::encode(r.records);
  auto back = wire::kpl::decode(encoded);
  if (back.status != wire::kpl::DecodeStatus::ok || back.records != r.records) std::abort();
  wire::kpl::Aggregator agg;
  for (const auto& u : r.records) agg.add(u);
  if (agg.size_bytes() != encoded.size()) std::abort();
  return 0;
}
