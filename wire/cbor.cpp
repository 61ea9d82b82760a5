#include "wire/cbor.h"

namespace eddy::wire::cbor {

void append_head(std::string& out, std::uint8_t major, std::uint64_t n) {
  const auto m = static_cast<std::uint8_t>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<char>(m | n));
    return;
  }
  int bytes = 8;
  std::uint8_t ai = 27;
  if (n <= 0xff) bytes = 1, ai = 24;
  else if (n <= 0xffff) bytes = 2, ai = 25;
  else if (n <= 0xffffffffULL) bytes = 4, ai = 26;
  out.push_back(static_cast<char>(m | ai));
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
}

bool read_argument(const std::uint8_t*& p, const std::uint8_t* end, std::uint8_t ai, std::uint64_t& n) {
  if (ai < 24) {
    n = ai;
    return true;
  }
  const std::size_t len = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 0;
  if (len == 0 || static_cast<std::size_t>(end - p) < len) return false;
  n = 0;
  for (std::size_t i = 0; i < len; ++i) n = (n << 8) | *p++;
  return true;
}

}  // namespace eddy::wire::cbor
