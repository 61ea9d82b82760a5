#include "wire/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

using eddy::wire::checksum::Algorithm;
namespace ck = eddy::wire::checksum;

std::string bytes_0_to_255_x4_tail() {
  std::string s;
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s + "tail";
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen() & 0xFF);
  return s;
}

// The catalogue check values: each algorithm over "123456789".
TEST(Checksum, CheckValuesOf123456789) {
  const std::string_view in = "123456789";
  EXPECT_EQ(ck::crc32_update(0, in), 0xCBF43926u);
  EXPECT_EQ(ck::crc32c_update(0, in), 0xE3069283u);
  EXPECT_EQ(ck::crc64nvme_update(0, in), 0xAE8B14860A799888ull);
  EXPECT_EQ(ck::digest_hex(Algorithm::crc32, in), "cbf43926");
  EXPECT_EQ(ck::digest_hex(Algorithm::crc32c, in), "e3069283");
  EXPECT_EQ(ck::digest_hex(Algorithm::crc64nvme, in), "ae8b14860a799888");
  EXPECT_EQ(ck::digest_hex(Algorithm::sha1, in), "f7c3bc1d808e04732adf679965ccc34ca7ae3441");
  EXPECT_EQ(ck::digest_hex(Algorithm::sha256, in),
            "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
  EXPECT_EQ(ck::digest_hex(Algorithm::md5, in), "25f9e794323b453885f5181f1b624d0b");
}

struct HeaderVector {
  std::string input;
  const char* crc32;
  const char* crc32c;
  const char* crc64nvme;
  const char* sha1;
  const char* sha256;
  const char* md5;
};

// Base64 header values as S3 carries them, computed independently with Python (zlib.crc32,
// crcmod's crc-32c, a bitwise CRC-64/NVME, hashlib).
TEST(Checksum, HeaderValuesMatchIndependentImplementations) {
  const std::vector<HeaderVector> vectors = {
      {"", "AAAAAA==", "AAAAAA==", "AAAAAAAAAAA=", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "1B2M2Y8AsgTpgAmY7PhCfg=="},
      {"hello world", "DUoRhQ==", "yZRlqg==", "jSnVw/bqjr4=", "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
       "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=", "XrY7u+Ae7tCTyyK7j1rNww=="},
      {"Hello world", "i9aeUg==", "crUfeA==", "OOJZ0D8xKts=", "e1AsOh9IyGCa4hLN+2Od7jlnP14=",
       "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=", "PiWWCnnbxptnTNTsZ6csYg=="},
      {bytes_0_to_255_x4_tail(), "Nh/P/w==", "xN5sLg==", "2lSUqrUaxf4=",
       "K0fg3n/jiUrVF4GscQIuKUG6yt0=", "mCD7VgYdFZXjkJUL72iGycFC37dsa17c0PWk/RVAMUY=",
       "EIDMqtDEN9Sv+WPvKo0iwg=="},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE("input of " + std::to_string(v.input.size()) + " bytes");
    EXPECT_EQ(ck::digest_base64(Algorithm::crc32, v.input), v.crc32);
    EXPECT_EQ(ck::digest_base64(Algorithm::crc32c, v.input), v.crc32c);
    EXPECT_EQ(ck::digest_base64(Algorithm::crc64nvme, v.input), v.crc64nvme);
    EXPECT_EQ(ck::digest_base64(Algorithm::sha1, v.input), v.sha1);
    EXPECT_EQ(ck::digest_base64(Algorithm::sha256, v.input), v.sha256);
    EXPECT_EQ(ck::digest_base64(Algorithm::md5, v.input), v.md5);
  }
}

TEST(Checksum, DigestSizesAndBigEndianOrder) {
  for (Algorithm a : ck::kAllAlgorithms)
    EXPECT_EQ(ck::digest(a, "abc").size(), ck::digest_size(a)) << ck::algorithm_name(a);
  const std::string d = ck::digest(Algorithm::crc64nvme, "123456789");
  ASSERT_EQ(d.size(), 8u);
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0xAE);
  EXPECT_EQ(static_cast<unsigned char>(d[7]), 0x88);
  EXPECT_EQ(ck::crc_from_digest(Algorithm::crc64nvme, d), 0xAE8B14860A799888ull);
  EXPECT_EQ(ck::crc_from_digest(Algorithm::crc32, ck::crc_to_digest(Algorithm::crc32, 0xCBF43926)),
            0xCBF43926u);
  EXPECT_FALSE(ck::crc_from_digest(Algorithm::crc32, d).has_value());
  EXPECT_FALSE(ck::crc_from_digest(Algorithm::sha256, d).has_value());
}

// Streaming code feeds bodies in arbitrary pieces; every split must give the one-shot digest.
TEST(Checksum, IncrementalEqualsOneShotAtEverySplit) {
  const std::string data = random_bytes(77, 7);
  for (Algorithm a : ck::kAllAlgorithms) {
    const std::string expected = ck::digest(a, data);
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
      ck::Hasher h(a);
      h.update(std::string_view(data).substr(0, cut));
      h.update(std::string_view(data).substr(cut));
      ASSERT_EQ(h.final(), expected) << ck::algorithm_name(a) << " cut at " << cut;
    }
  }
}

TEST(Checksum, IncrementalOverALargeBodyInOddPieces) {
  const std::string data = random_bytes(1 << 20, 11);
  for (Algorithm a : ck::kAllAlgorithms) {
    ck::Hasher h(a);
    std::size_t off = 0, step = 1;
    while (off < data.size()) {
      const std::size_t n = std::min(step, data.size() - off);
      h.update(data.data() + off, n);
      off += n;
      step = step * 3 + 1;
      if (step > 100000) step = 5;
    }
    EXPECT_EQ(h.final_base64(), ck::digest_base64(a, data)) << ck::algorithm_name(a);
  }
}

TEST(Checksum, HasherIsReusableAfterFinalAndReset) {
  for (Algorithm a : ck::kAllAlgorithms) {
    ck::Hasher h(a);
    h.update("first body");
    EXPECT_EQ(h.final(), ck::digest(a, "first body"));
    h.update("123456789");
    EXPECT_EQ(h.final_hex(), ck::digest_hex(a, "123456789"));
    h.update("discarded");
    h.reset();
    EXPECT_EQ(h.final(), ck::digest(a, "")) << ck::algorithm_name(a);
  }
}

TEST(Checksum, HasherMoves) {
  ck::Hasher a(Algorithm::sha256);
  a.update("1234");
  ck::Hasher b = std::move(a);
  b.update("56789");
  EXPECT_EQ(b.algorithm(), Algorithm::sha256);
  EXPECT_EQ(b.final(), ck::digest(Algorithm::sha256, "123456789"));
  ck::Hasher c(Algorithm::crc32);
  c.update("12345");
  ck::Hasher d(Algorithm::md5);
  d = std::move(c);
  d.update("6789");
  EXPECT_EQ(d.final_hex(), "cbf43926");
}

TEST(Checksum, CrcUpdateChains) {
  const std::string data = random_bytes(1000, 3);
  const auto a = std::string_view(data).substr(0, 333);
  const auto b = std::string_view(data).substr(333);
  EXPECT_EQ(ck::crc32_update(ck::crc32_update(0, a), b), ck::crc32_update(0, data));
  EXPECT_EQ(ck::crc32c_update(ck::crc32c_update(0, a), b), ck::crc32c_update(0, data));
  EXPECT_EQ(ck::crc64nvme_update(ck::crc64nvme_update(0, a), b), ck::crc64nvme_update(0, data));
}

// CRC-64/NVME runs 16 bytes a step by carry-less multiplication from 64 bytes up, and by
// tables below that: every length, offset and starting value agrees with the tables alone
// (fed one byte at a time), and a 1 MiB body with its chained halves.
TEST(Checksum, Crc64NvmeFoldingAgreesWithTheTables) {
  const std::string data = random_bytes(5000, 7);
  auto bytewise = [](std::uint64_t crc, std::string_view s) {
    for (char c : s) crc = ck::crc64nvme_update(crc, std::string_view(&c, 1));
    return crc;
  };
  for (size_t len : {0, 1, 15, 16, 17, 63, 64, 65, 79, 80, 81, 127, 128, 129, 1000, 4096, 4099}) {
    for (size_t off : {0, 1, 7}) {
      const auto in = std::string_view(data).substr(off, len);
      EXPECT_EQ(ck::crc64nvme_update(0, in), bytewise(0, in)) << len << " at " << off;
      EXPECT_EQ(ck::crc64nvme_update(0x0123456789ABCDEFull, in), bytewise(0x0123456789ABCDEFull, in)) << len;
    }
  }
  const std::string big = random_bytes(1 << 20, 9);
  const auto half = std::string_view(big).substr(0, 333'333);
  EXPECT_EQ(ck::crc64nvme_update(ck::crc64nvme_update(0, half), std::string_view(big).substr(half.size())),
            ck::crc64nvme_update(0, big));
  EXPECT_EQ(ck::crc64nvme_update(0, std::string(100, '\0')), bytewise(0, std::string(100, '\0')));
}

// A multipart upload's full-object CRC is assembled from the parts' CRCs and lengths.
TEST(Checksum, CrcCombineEqualsCrcOfConcatenation) {
  const std::string data = random_bytes(70000, 5);
  for (Algorithm alg : {Algorithm::crc32, Algorithm::crc32c, Algorithm::crc64nvme}) {
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{4095},
                            std::size_t{65536}, data.size()}) {
      const auto a = std::string_view(data).substr(0, cut);
      const auto b = std::string_view(data).substr(cut);
      const auto crc_a = *ck::crc_from_digest(alg, ck::digest(alg, a));
      const auto crc_b = *ck::crc_from_digest(alg, ck::digest(alg, b));
      const auto whole = *ck::crc_from_digest(alg, ck::digest(alg, data));
      EXPECT_EQ(ck::crc_combine(alg, crc_a, crc_b, b.size()), whole)
          << ck::algorithm_name(alg) << " cut at " << cut;
    }
  }
  // Three parts, folded left to right.
  const auto p1 = std::string_view(data).substr(0, 10000);
  const auto p2 = std::string_view(data).substr(10000, 30000);
  const auto p3 = std::string_view(data).substr(40000);
  std::uint64_t acc = ck::crc64nvme_update(0, p1);
  acc = ck::crc_combine(Algorithm::crc64nvme, acc, ck::crc64nvme_update(0, p2), p2.size());
  acc = ck::crc_combine(Algorithm::crc64nvme, acc, ck::crc64nvme_update(0, p3), p3.size());
  EXPECT_EQ(acc, ck::crc64nvme_update(0, data));
  EXPECT_EQ(ck::crc_combine(Algorithm::sha256, 1, 2, 3), 0u);
}

TEST(Checksum, AlgorithmNamesParseCaseInsensitively) {
  EXPECT_EQ(ck::parse_algorithm("CRC32"), Algorithm::crc32);
  EXPECT_EQ(ck::parse_algorithm("crc32"), Algorithm::crc32);
  EXPECT_EQ(ck::parse_algorithm("Crc32C"), Algorithm::crc32c);
  EXPECT_EQ(ck::parse_algorithm("crc64nvme"), Algorithm::crc64nvme);
  EXPECT_EQ(ck::parse_algorithm("CRC64NVME"), Algorithm::crc64nvme);
  EXPECT_EQ(ck::parse_algorithm("sha1"), Algorithm::sha1);
  EXPECT_EQ(ck::parse_algorithm("SHA256"), Algorithm::sha256);
  EXPECT_EQ(ck::parse_algorithm("md5"), Algorithm::md5);
  EXPECT_FALSE(ck::parse_algorithm("").has_value());
  EXPECT_FALSE(ck::parse_algorithm("CRC64").has_value());
  EXPECT_FALSE(ck::parse_algorithm("SHA-256").has_value());
  EXPECT_FALSE(ck::parse_algorithm("crc32 ").has_value());
  for (Algorithm a : ck::kAllAlgorithms) EXPECT_EQ(ck::parse_algorithm(ck::algorithm_name(a)), a);
}

TEST(Checksum, HeaderNamesMapBothWays) {
  EXPECT_EQ(ck::header_name(Algorithm::crc32), "x-amz-checksum-crc32");
  EXPECT_EQ(ck::header_name(Algorithm::crc32c), "x-amz-checksum-crc32c");
  EXPECT_EQ(ck::header_name(Algorithm::crc64nvme), "x-amz-checksum-crc64nvme");
  EXPECT_EQ(ck::header_name(Algorithm::sha1), "x-amz-checksum-sha1");
  EXPECT_EQ(ck::header_name(Algorithm::sha256), "x-amz-checksum-sha256");
  EXPECT_EQ(ck::header_name(Algorithm::md5), "content-md5");
  EXPECT_EQ(ck::algorithm_from_header("X-Amz-Checksum-CRC64NVME"), Algorithm::crc64nvme);
  EXPECT_EQ(ck::algorithm_from_header("Content-MD5"), Algorithm::md5);
  EXPECT_FALSE(ck::algorithm_from_header("x-amz-checksum-algorithm").has_value());
  EXPECT_FALSE(ck::algorithm_from_header("x-amz-checksum-crc64").has_value());
  for (Algorithm a : ck::kAllAlgorithms)
    EXPECT_EQ(ck::algorithm_from_header(ck::header_name(a)), a);
  EXPECT_EQ(ck::xml_element_name(Algorithm::crc64nvme), "ChecksumCRC64NVME");
  EXPECT_EQ(ck::xml_element_name(Algorithm::sha256), "ChecksumSHA256");
  EXPECT_EQ(ck::xml_element_name(Algorithm::md5), "");
}

TEST(Checksum, HexRoundTrip) {
  const std::string all = bytes_0_to_255_x4_tail().substr(0, 256);
  const std::string hex = ck::to_hex(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  EXPECT_EQ(ck::from_hex(hex), all);
  EXPECT_EQ(ck::from_hex("ABcd"), std::string("\xab\xcd"));
  EXPECT_EQ(ck::from_hex(""), std::string());
  EXPECT_FALSE(ck::from_hex("abc").has_value());
  EXPECT_FALSE(ck::from_hex("zz").has_value());
}

}  // namespace
