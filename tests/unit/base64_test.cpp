// base64 (RFC 4648, standard alphabet) as Kinesis carries Data in JSON.
#include "wire/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace wire = eddy::wire;

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> v[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : v) {
    EXPECT_EQ(wire::base64_encode(plain), encoded);
    EXPECT_EQ(wire::base64_decode(encoded), plain) << encoded;
  }
  // Unpadded input is accepted, as the Kinesis JSON codec does.
  EXPECT_EQ(wire::base64_decode("Zg"), "f");
  EXPECT_EQ(wire::base64_decode("Zm8"), "fo");
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::mt19937 rng(7);
  for (size_t len = 0; len < 300; ++len) {
    std::string s(len, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    auto back = wire::base64_decode(wire::base64_encode(s));
    ASSERT_TRUE(back) << len;
    EXPECT_EQ(*back, s) << len;
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(wire::base64_decode(wire::base64_encode(all)), all);
}

TEST(Base64, AppendKeepsWhatIsThereAndRestoresItOnFailure) {
  std::string out = "prefix";
  EXPECT_TRUE(wire::base64_decode_append("Zm9vYmFy", out));
  EXPECT_EQ(out, "prefixfoobar");
  EXPECT_FALSE(wire::base64_decode_append("Zm9v!mFy", out));
  EXPECT_EQ(out, "prefixfoobar");
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad : {"Z", "Zm9vY", "Zm9v!", "Zm 9v", "Zm9v\n", "Zg=", "Z===", "=Zg=", "Zh==", "Zm9=", "Zm-v", "Zm_v"})
    EXPECT_FALSE(wire::base64_decode(bad)) << bad;
}
