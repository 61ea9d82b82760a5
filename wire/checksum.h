#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// The checksums S3 checks (x-amz-checksum-*), plus MD5 for Content-MD5 and ETags.
//
// Digests are raw bytes in the order S3 transmits them: the CRCs as big-endian integers,
// the hashes as their natural byte strings. S3 headers carry the base64 of those bytes.
namespace eddy::wire::checksum {

enum class Algorithm : std::uint8_t { crc32, crc32c, crc64nvme, sha1, sha256, md5 };

inline constexpr std::array<Algorithm, 6> kAllAlgorithms = {
    Algorithm::crc32, Algorithm::crc32c, Algorithm::crc64nvme,
    Algorithm::sha1,  Algorithm::sha256, Algorithm::md5};

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5": the spelling of
// x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm and of ChecksumAlgorithm in XML.
std::string_view algorithm_name(Algorithm a);
// Case-insensitive inverse of algorithm_name ("crc32", "Crc64Nvme", ...).
std::optional<Algorithm> parse_algorithm(std::string_view name);

// "x-amz-checksum-crc32", ..., "x-amz-checksum-sha256"; MD5 travels as "content-md5".
std::string_view header_name(Algorithm a);
// Case-insensitive inverse of header_name.
std::optional<Algorithm> algorithm_from_header(std::string_view header);
// "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"
// (the S3 XML element names); MD5 has none and yields "".
std::string_view xml_element_name(Algorithm a);

// Size of the raw digest in bytes: 4, 4, 8, 20, 32, 16.
std::size_t digest_size(Algorithm a);

// Incremental hasher with one interface for every algorithm, for code that sees a body in
// pieces. final() returns the raw digest and leaves the hasher reset for reuse.
class Hasher {
 public:
  explicit Hasher(Algorithm a);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  Algorithm algorithm() const { return algorithm_; }
  void update(std::string_view bytes);
  void update(const void* data, std::size_t size);
  std::string final();
  std::string final_base64();
  std::string final_hex();
  void reset();

 private:
  struct EvpState;
  Algorithm algorithm_;
  std::uint64_t crc_ = 0;  // the finished CRC of the bytes seen so far
  std::unique_ptr<EvpState> evp_;
};

// One-shot forms.
std::string digest(Algorithm a, std::string_view bytes);
std::string digest_base64(Algorithm a, std::string_view bytes);
std::string digest_hex(Algorithm a, std::string_view bytes);

// Finished CRC values, chainable: crc32_update(crc32_update(0, a), b) == crc32_update(0, a+b).
std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes);
std::uint32_t crc32c_update(std::uint32_t crc, std::string_view bytes);
std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view bytes);

// CRC of A||B from crc(A), crc(B) and |B|, without the data: what a full-object checksum of a
// multipart upload needs. Only for crc32, crc32c and crc64nvme; other algorithms return 0.
std::uint64_t crc_combine(Algorithm a, std::uint64_t crc_a, std::uint64_t crc_b,
                          std::uint64_t length_b);

// Big-endian bytes of a CRC value as S3 transmits it (4 bytes for the 32-bit CRCs, 8 for
// CRC64NVME), and back. crc_from_digest returns nullopt for a wrong length.
std::string crc_to_digest(Algorithm a, std::uint64_t crc);
std::optional<std::uint64_t> crc_from_digest(Algorithm a, std::string_view digest);

// Lowercase hex of raw bytes, and back (accepts either case; nullopt on odd length or a
// non-hex character).
std::string to_hex(std::string_view bytes);
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace eddy::wire::checksum
