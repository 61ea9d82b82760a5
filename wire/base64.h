#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace eddy::wire {

// Standard alphabet with padding (RFC 4648 section 4), as AWS JSON protocols use it.
std::string base64_encode(std::string_view bytes);
void base64_encode_append(std::string_view bytes, std::string& out);

// Strict decoder: rejects characters outside the alphabet, bad padding and bad lengths.
// Accepts input without trailing padding, as the AWS SDKs' decoders do.
std::optional<std::string> base64_decode(std::string_view text);
bool base64_decode_append(std::string_view text, std::string& out);

// `raw_bytes` opaque bytes in base64, from a fast per-thread generator seeded once from the
// CSPRNG: for ids that identify nothing (x-amz-id-2), never for secrets.
std::string opaque_base64(size_t raw_bytes);

}  // namespace eddy::wire
