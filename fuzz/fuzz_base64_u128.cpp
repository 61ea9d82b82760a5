// wire::base64_decode and wire::parse_u128 on arbitrary text: never crash, and what they
// accept survives a round trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/base64.h"
#include "wire/hash_key.h"

using namespace eddy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto decoded = wire::base64_decode(in);
  std::string appended = "prefix";
  const bool ok = wire::base64_decode_append(in, appended);
  if (ok != decoded.has_value()) std::abort();
  if (decoded) {
    if (appended != "prefix" + *decoded) std::abort();
    const std::string again = wire::base64_encode(*decoded);
    auto back = wire::base64_decode(again);
    if (!back || *back != *decoded) std::abort();
    // A strict decoder accepts one spelling per value (padding aside).
    std::string_view unpadded = in;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
    std::string_view canon = again;
    while (!canon.empty() && canon.back() == '=') canon.remove_suffix(1);
    if (unpadded != canon) std::abort();
  }

  if (auto v = wire::parse_u128(in)) {
    std::string_view digits = in;
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (wire::to_decimal(*v) != digits) std::abort();
  }
  return 0;
}
