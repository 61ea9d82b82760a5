#pragma once
// The pieces of CBOR (RFC 8949) that the Kinesis CBOR 1.1 protocol's server and client share:
// writing a data item's head, and reading one. Kinesis's Java SDK sends every request in CBOR
// (blobs as byte strings, no base64); eddy's codec (server/kinesis/codec.*) and `eddy put`'s
// PutRecords (client/kinesis_client.cpp) build on these.
#include <cstdint>
#include <string>
#include <string_view>

namespace eddy::wire::cbor {

// Major types.
inline constexpr std::uint8_t kUnsigned = 0, kNegative = 1, kBytes = 2, kText = 3, kArray = 4, kMap = 5,
                              kTag = 6, kSimple = 7;
// The "break" byte that ends an indefinite-length array, map or string.
inline constexpr std::uint8_t kBreak = 0xff;

// Appends the head of an item of major type `major` with argument n, in its shortest form.
void append_head(std::string& out, std::uint8_t major, std::uint64_t n);
// A text or byte string item: its head and its bytes.
inline void append_text(std::string& out, std::string_view s) {
  append_head(out, kText, s.size());
  out.append(s);
}
inline void append_bytes(std::string& out, std::string_view s) {
  append_head(out, kBytes, s.size());
  out.append(s);
}

// The argument of a head whose initial byte (already read) had additional information `ai`:
// ai itself below 24, else the 1, 2, 4 or 8 big-endian bytes at p (p moves past them). False
// for 28..31 (reserved, or indefinite length) and when the bytes run out.
bool read_argument(const std::uint8_t*& p, const std::uint8_t* end, std::uint8_t ai, std::uint64_t& n);

}  // namespace eddy::wire::cbor
