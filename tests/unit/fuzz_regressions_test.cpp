// Inputs the libFuzzer targets in fuzz/ found (docs/testing.md, "Fuzzing"), kept as tests so
// the g++ build checks them too.
#include <gtest/gtest.h>

#include <string>

#include "server/kinesis/codec.h"
#include "tests/support/server_fixture.h"
#include "wire/sigv4.h"

namespace {

namespace s4 = eddy::wire::sigv4;

// fuzz_sigv4: a Date with a year before 1000 parsed, but was formatted back as "321", which
// is not an IMF-fixdate and did not parse again.
TEST(FuzzRegressions, HttpDateYearIsFourDigits) {
  auto t = s4::parse_http_date("Fri, 24 May 0321 00:00:00 GMT");
  ASSERT_TRUE(t.has_value());
  const std::string text = s4::format_http_date(*t);
  EXPECT_EQ(text.substr(12, 4), "0321");
  EXPECT_EQ(s4::parse_http_date(text), t);
}

// A CBOR body of n one-byte items: {"Records": [_ [] [] ... [] ]} (an indefinite array of
// empty arrays).
std::string cbor_empty_arrays(size_t n) {
  std::string body = "\xa1\x67Records\x9f";
  body.append(n, '\x80');
  body += '\xff';
  return body;
}

// Found by hand after fuzz_kinesis_codec, measuring what the largest bodies cost: every CBOR
// item became a tree node (some 64 bytes for one byte of input), so a 16 MiB body of empty
// arrays took about 1 GiB. Items are now capped at 65536; more is a SerializationException.
TEST(FuzzRegressions, CborItemCountIsCapped) {
  namespace k = eddy::kinesis;
  nlohmann::json out;
  k::ApiError error;
  EXPECT_TRUE(k::decode_body(k::Encoding::cbor, cbor_empty_arrays(60000), out, error));
  EXPECT_FALSE(k::decode_body(k::Encoding::cbor, cbor_empty_arrays(70000), out, error));
  EXPECT_EQ(error.type, "SerializationException");
  EXPECT_FALSE(k::decode_cbor(cbor_empty_arrays(70000), out));

  // The largest real request still decodes: PutRecords with 500 entries of 3 members.
  std::string body = "\xa2\x6aStreamName\x61s\x67Records\x99\x01\xf4";
  for (int i = 0; i < 500; ++i)
    body += "\xa3\x64" "Data\x41x\x6cPartitionKey\x61p\x6f" "ExplicitHashKey\x61" "1";
  ASSERT_TRUE(k::decode_body(k::Encoding::cbor, body, out, error));
  EXPECT_EQ(out["Records"].size(), 500u);
}

// The JSON decoder has the same item cap: `{"Records":[[],[],...]}` of 16 MiB built a tree
// node per three bytes (0.85 GB peak in the ASan build).
TEST(FuzzRegressions, JsonItemCountIsCapped) {
  namespace k = eddy::kinesis;
  const auto arrays = [](size_t n) {
    std::string b = R"({"Records":[)";
    for (size_t i = 0; i < n; ++i) b += i ? ",[]" : "[]";
    return b + "]}";
  };
  nlohmann::json out;
  k::ApiError error;
  EXPECT_TRUE(k::decode_body(k::Encoding::json, arrays(60000), out, error));
  EXPECT_EQ(out["Records"].size(), 60000u);
  EXPECT_FALSE(k::decode_body(k::Encoding::json, arrays(70000), out, error));
  EXPECT_EQ(error.type, "SerializationException");
  // An ordinary body still decodes.
  ASSERT_TRUE(k::decode_body(k::Encoding::json, R"({"StreamName":"s","Limit":5})", out, error));
  EXPECT_EQ(out["Limit"], 5);
}

class FuzzRegressionsS3 : public eddy::test::ServerFixture {
  void configure(eddy::Config& c) override { c.auth = "off"; }
};

// fuzz_s3_xml: a MaxAgeSeconds beyond int64 saturated strtoll to INT64_MAX, was accepted, and
// storing it overflowed (max_age_s + 1, undefined behaviour). S3's schema has an Integer there.
TEST_F(FuzzRegressionsS3, CorsMaxAgeBeyondIntegerIsMalformedXml) {
  ASSERT_EQ(http("PUT", "/fuzz-cors").status, 200);
  const auto cors = [](const std::string& age) {
    return "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
           "</AllowedMethod><MaxAgeSeconds>" + age + "</MaxAgeSeconds></CORSRule></CORSConfiguration>";
  };
  for (std::string age : {"2147483648", "9223372036854775807", "1122222222222222222222222223"}) {
    auto r = http("PUT", "/fuzz-cors?cors", {}, cors(age));
    EXPECT_EQ(r.status, 400) << age;
    EXPECT_NE(r.body.find("<Code>MalformedXML</Code>"), std::string::npos) << r.body;
  }
  EXPECT_EQ(http("PUT", "/fuzz-cors?cors", {}, cors("2147483647")).status, 200);
}

}  // namespace
