#include "wire/checksum.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include <isa-l/crc.h>
#include <immintrin.h>

#include "wire/base64.h"
#include "wire/text.h"

namespace eddy::wire::checksum {

namespace {

// CRC-64/NVME: polynomial 0xAD93D23594C93659, reflected, init and xorout all ones. ISA-L
// 2.30 (Debian 12) has no function for this polynomial (crc64_rocksoft_refl arrived in 2.31,
// and its crc64_jones_* use 0xAD93D23594C935A9), so it is computed here, eight bytes a step.
constexpr std::uint64_t kCrc64NvmeReflected = 0x9A6C9329AC4BC9B5ULL;
constexpr std::uint32_t kCrc32Reflected = 0xEDB88320U;
constexpr std::uint32_t kCrc32cReflected = 0x82F63B78U;

using Crc64Tables = std::array<std::array<std::uint64_t, 256>, 8>;

constexpr Crc64Tables make_crc64_tables() {
  Crc64Tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint64_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCrc64NvmeReflected : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t i = 0; i < 256; ++i) {
    for (std::size_t s = 1; s < 8; ++s) {
      const std::uint64_t prev = t[s - 1][i];
      t[s][i] = (prev >> 8) ^ t[0][prev & 0xFF];
    }
  }
  return t;
}

constexpr Crc64Tables kCrc64Tables = make_crc64_tables();

// Register form: no initial or final inversion here; the caller does both.
std::uint64_t crc64nvme_table(std::uint64_t reg, const unsigned char* p, std::size_t n) {
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // little-endian: the first byte in the low bits
    reg ^= word;
    reg = kCrc64Tables[7][reg & 0xFF] ^ kCrc64Tables[6][(reg >> 8) & 0xFF] ^
          kCrc64Tables[5][(reg >> 16) & 0xFF] ^ kCrc64Tables[4][(reg >> 24) & 0xFF] ^
          kCrc64Tables[3][(reg >> 32) & 0xFF] ^ kCrc64Tables[2][(reg >> 40) & 0xFF] ^
          kCrc64Tables[1][(reg >> 48) & 0xFF] ^ kCrc64Tables[0][reg >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) reg = (reg >> 8) ^ kCrc64Tables[0][(reg ^ *p++) & 0xFF];
  return reg;
}

// Multiplication of two polynomials modulo the CRC polynomial, in the reflected bit order
// the CRC registers use (the top bit is x^0). Used to shift a CRC over a run of zero bytes.
template <typename T>
T gf2_multiply(T a, T b, T poly_reflected) {
  const T top = T{1} << (sizeof(T) * CHAR_BIT - 1);
  T product = 0;
  for (T m = top; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ poly_reflected : b >> 1;
  }
  return product;
}

// x^(8*n) modulo the polynomial, by square-and-multiply.
template <typename T>
T x_pow_8n(std::uint64_t n, T poly_reflected) {
  const unsigned bits = sizeof(T) * CHAR_BIT;
  T result = T{1} << (bits - 1);  // x^0
  T power = T{1} << (bits - 1 - 8);  // x^8
  while (n != 0) {
    if (n & 1) result = gf2_multiply<T>(result, power, poly_reflected);
    power = gf2_multiply<T>(power, power, poly_reflected);
    n >>= 1;
  }
  return result;
}

// CRC-64/NVME by carry-less multiplication (PCLMULQDQ), 16 bytes a step, as ISA-L does it for
// its own polynomials: S3 computes this checksum over every object it stores, and the tables
// above take ~11 instructions a byte. The running value A (128 bits, bit j the coefficient of
// x^(127-j), loaded little-endian as the tables read bytes) is folded over the next 16 bytes C
// as A * x^128 + C = A_hi * x^192 + A_lo * x^128 + C (mod P). A carry-less product of two
// reflected 64-bit values is their product times x in that 128-bit order, so the constants
// are x^191 and x^127 mod P. The last A is reduced by the tables (its CRC from a zero register
// is A * x^64 mod P, which is the register), then the tail.
std::uint64_t x_pow_mod(unsigned e) {
  const std::uint64_t x_e_mod8 = std::uint64_t{1} << (63 - e % 8);
  return gf2_multiply<std::uint64_t>(x_pow_8n<std::uint64_t>(e / 8, kCrc64NvmeReflected), x_e_mod8,
                                     kCrc64NvmeReflected);
}

__attribute__((target("pclmul,sse2"))) std::uint64_t crc64nvme_clmul(std::uint64_t reg, const unsigned char* p,
                                                                     std::size_t n) {
  static const std::uint64_t k191 = x_pow_mod(191), k127 = x_pow_mod(127);
  const __m128i k = _mm_set_epi64x(static_cast<long long>(k127), static_cast<long long>(k191));
  __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  a = _mm_xor_si128(a, _mm_cvtsi64_si128(static_cast<long long>(reg)));
  p += 16;
  n -= 16;
  while (n >= 16) {
    const __m128i hi = _mm_clmulepi64_si128(a, k, 0x00);  // A_hi (the low half) * x^191
    const __m128i lo = _mm_clmulepi64_si128(a, k, 0x11);  // A_lo (the high half) * x^127
    a = _mm_xor_si128(_mm_xor_si128(hi, lo), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    p += 16;
    n -= 16;
  }
  unsigned char folded[16];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(folded), a);
  return crc64nvme_table(crc64nvme_table(0, folded, 16), p, n);
}

std::uint64_t crc64nvme_register(std::uint64_t reg, const unsigned char* p, std::size_t n) {
  static const bool clmul = __builtin_cpu_supports("pclmul");
  if (clmul && n >= 64) return crc64nvme_clmul(reg, p, n);
  return crc64nvme_table(reg, p, n);
}

// For a reflected CRC whose init equals its xorout (true of all three here), the CRC of A||B
// is crc(A) * x^(8|B|) + crc(B): the init and xorout contributions cancel.
template <typename T>
T combine(T crc_a, T crc_b, std::uint64_t length_b, T poly_reflected) {
  return gf2_multiply<T>(x_pow_8n<T>(length_b, poly_reflected), crc_a, poly_reflected) ^ crc_b;
}

using text::iequals;

// Fetched once: OpenSSL 3 looks a legacy EVP_sha256() up in its provider tables on every
// digest, which cost more than hashing a small request body.
const EVP_MD* fetched(const char* name, const EVP_MD* legacy) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md ? md : legacy;
}

const EVP_MD* evp_md(Algorithm a) {
  static const EVP_MD* sha1 = fetched("SHA1", EVP_sha1());
  static const EVP_MD* sha256 = fetched("SHA256", EVP_sha256());
  static const EVP_MD* md5 = fetched("MD5", EVP_md5());
  switch (a) {
    case Algorithm::sha1: return sha1;
    case Algorithm::sha256: return sha256;
    case Algorithm::md5: return md5;
    default: return nullptr;
  }
}

bool is_crc(Algorithm a) {
  return a == Algorithm::crc32 || a == Algorithm::crc32c || a == Algorithm::crc64nvme;
}

}  // namespace

std::string_view algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::crc32: return "CRC32";
    case Algorithm::crc32c: return "CRC32C";
    case Algorithm::crc64nvme: return "CRC64NVME";
    case Algorithm::sha1: return "SHA1";
    case Algorithm::sha256: return "SHA256";
    case Algorithm::md5: return "MD5";
  }
  return "";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  for (Algorithm a : kAllAlgorithms)
    if (iequals(name, algorithm_name(a))) return a;
  return std::nullopt;
}

std::string_view header_name(Algorithm a) {
  switch (a) {
    case Algorithm::crc32: return "x-amz-checksum-crc32";
    case Algorithm::crc32c: return "x-amz-checksum-crc32c";
    case Algorithm::crc64nvme: return "x-amz-checksum-crc64nvme";
    case Algorithm::sha1: return "x-amz-checksum-sha1";
    case Algorithm::sha256: return "x-amz-checksum-sha256";
    case Algorithm::md5: return "content-md5";
  }
  return "";
}

std::optional<Algorithm> algorithm_from_header(std::string_view header) {
  for (Algorithm a : kAllAlgorithms)
    if (iequals(header, header_name(a))) return a;
  return std::nullopt;
}

std::string_view xml_element_name(Algorithm a) {
  switch (a) {
    case Algorithm::crc32: return "ChecksumCRC32";
    case Algorithm::crc32c: return "ChecksumCRC32C";
    case Algorithm::crc64nvme: return "ChecksumCRC64NVME";
    case Algorithm::sha1: return "ChecksumSHA1";
    case Algorithm::sha256: return "ChecksumSHA256";
    case Algorithm::md5: return "";
  }
  return "";
}

std::size_t digest_size(Algorithm a) {
  switch (a) {
    case Algorithm::crc32:
    case Algorithm::crc32c: return 4;
    case Algorithm::crc64nvme: return 8;
    case Algorithm::sha1: return 20;
    case Algorithm::sha256: return 32;
    case Algorithm::md5: return 16;
  }
  return 0;
}

std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) {
  // crc32_gzip_refl inverts on entry and exit, so the finished value chains directly.
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::uint32_t crc32c_update(std::uint32_t crc, std::string_view bytes) {
  // crc32_iscsi works on the raw register (no inversions) and takes an int length.
  std::uint32_t reg = ~crc;
  auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data()));
  std::size_t n = bytes.size();
  constexpr std::size_t kStep = 1u << 30;
  while (n > 0) {
    const std::size_t step = std::min(n, kStep);
    reg = crc32_iscsi(p, static_cast<int>(step), reg);
    p += step;
    n -= step;
  }
  return ~reg;
}

std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view bytes) {
  return ~crc64nvme_register(~crc, reinterpret_cast<const unsigned char*>(bytes.data()),
                             bytes.size());
}

std::uint64_t crc_combine(Algorithm a, std::uint64_t crc_a, std::uint64_t crc_b,
                          std::uint64_t length_b) {
  switch (a) {
    case Algorithm::crc32:
      return combine<std::uint32_t>(static_cast<std::uint32_t>(crc_a),
                                    static_cast<std::uint32_t>(crc_b), length_b,
                                    kCrc32Reflected);
    case Algorithm::crc32c:
      return combine<std::uint32_t>(static_cast<std::uint32_t>(crc_a),
                                    static_cast<std::uint32_t>(crc_b), length_b,
                                    kCrc32cReflected);
    case Algorithm::crc64nvme:
      return combine<std::uint64_t>(crc_a, crc_b, length_b, kCrc64NvmeReflected);
    default: return 0;
  }
}

std::string crc_to_digest(Algorithm a, std::uint64_t crc) {
  const std::size_t n = is_crc(a) ? digest_size(a) : 0;
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>((crc >> (8 * (n - 1 - i))) & 0xFF);
  return out;
}

std::optional<std::uint64_t> crc_from_digest(Algorithm a, std::string_view digest) {
  if (!is_crc(a) || digest.size() != digest_size(a)) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digest) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

struct Hasher::EvpState {
  EVP_MD_CTX* ctx = nullptr;
  ~EvpState() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(Algorithm a) : algorithm_(a) {
  if (const EVP_MD* md = evp_md(a)) {
    evp_ = std::make_unique<EvpState>();
    evp_->ctx = EVP_MD_CTX_new();
    if (evp_->ctx == nullptr || EVP_DigestInit_ex(evp_->ctx, md, nullptr) != 1)
      throw std::bad_alloc();  // EVP fails here only when it cannot allocate
  }
}

Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(std::string_view bytes) {
  switch (algorithm_) {
    case Algorithm::crc32:
      crc_ = crc32_update(static_cast<std::uint32_t>(crc_), bytes);
      break;
    case Algorithm::crc32c:
      crc_ = crc32c_update(static_cast<std::uint32_t>(crc_), bytes);
      break;
    case Algorithm::crc64nvme: crc_ = crc64nvme_update(crc_, bytes); break;
    default: EVP_DigestUpdate(evp_->ctx, bytes.data(), bytes.size()); break;
  }
}

void Hasher::update(const void* data, std::size_t size) {
  update(std::string_view(static_cast<const char*>(data), size));
}

std::string Hasher::final() {
  std::string out;
  if (is_crc(algorithm_)) {
    out = crc_to_digest(algorithm_, crc_);
  } else {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(evp_->ctx, md, &len);
    out.assign(reinterpret_cast<const char*>(md), len);
  }
  reset();
  return out;
}

std::string Hasher::final_base64() { return base64_encode(final()); }
std::string Hasher::final_hex() { return to_hex(final()); }

void Hasher::reset() {
  crc_ = 0;
  if (evp_) EVP_DigestInit_ex(evp_->ctx, evp_md(algorithm_), nullptr);
}

std::string digest(Algorithm a, std::string_view bytes) {
  switch (a) {
    case Algorithm::crc32: return crc_to_digest(a, crc32_update(0, bytes));
    case Algorithm::crc32c: return crc_to_digest(a, crc32c_update(0, bytes));
    case Algorithm::crc64nvme: return crc_to_digest(a, crc64nvme_update(0, bytes));
    default: {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_Digest(bytes.data(), bytes.size(), md, &len, evp_md(a), nullptr);
      return std::string(reinterpret_cast<const char*>(md), len);
    }
  }
}

std::string digest_base64(Algorithm a, std::string_view bytes) {
  return base64_encode(digest(a, bytes));
}

std::string digest_hex(Algorithm a, std::string_view bytes) { return to_hex(digest(a, bytes)); }

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0x0F];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

}  // namespace eddy::wire::checksum
