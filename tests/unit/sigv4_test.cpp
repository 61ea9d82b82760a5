#include "wire/sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/checksum.h"

namespace {

namespace s4 = eddy::wire::sigv4;
using s4::Header;
using s4::Request;
using s4::UriStyle;
using namespace std::chrono_literals;

std::chrono::sys_seconds at(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// ---- AWS Signature Version 4 test suite ---------------------------------------------------
// Requests, credentials and expected Authorization values of AWS's published
// aws-sig-v4-test-suite (AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service").

constexpr std::string_view kSuiteKey = "AKIDEXAMPLE";
constexpr std::string_view kSuiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kSuiteDate = "20150830T123600Z";

struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;
  const char* query;
  std::vector<Header> headers;  // besides Host and X-Amz-Date
  std::string body;
  UriStyle style;
  const char* signed_headers;
  const char* signature;
};

Request suite_request(const SuiteCase& c) {
  Request r{c.method, c.path, c.query, {{"Host", "example.amazonaws.com"}}};
  for (const auto& h : c.headers) r.headers.push_back(h);
  r.headers.emplace_back("X-Amz-Date", std::string(kSuiteDate));
  return r;
}

std::string suite_authorization(const SuiteCase& c) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         std::string(c.signed_headers) + ", Signature=" + c.signature;
}

const std::vector<SuiteCase>& suite_cases() {
  static const std::vector<SuiteCase> cases = {
      {"get-vanilla", "GET", "/", "", {}, "", UriStyle::standard, "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", {}, "",
       UriStyle::standard, "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-encoded", "GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
       {}, "", UriStyle::standard, "host;x-amz-date",
       "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"},
      {"get-vanilla-query-unreserved", "GET", "/",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {}, "", UriStyle::standard, "host;x-amz-date",
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", "GET", "/", "\xE1\x88\xB4=bar", {}, "", UriStyle::standard,
       "host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", {}, "", UriStyle::standard,
       "host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-unreserved", "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", {}, "",
       UriStyle::standard, "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", "GET", "/\xE1\x88\xB4", "", {}, "", UriStyle::standard, "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-space-normalized", "GET", "/example space/", "", {}, "", UriStyle::standard,
       "host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-space-unnormalized", "GET", "/example space/", "", {}, "", UriStyle::s3,
       "host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-slashes-normalized", "GET", "//example//", "", {}, "", UriStyle::standard,
       "host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"get-slashes-unnormalized", "GET", "//example//", "", {}, "", UriStyle::s3,
       "host;x-amz-date", "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"},
      {"get-relative-relative-normalized", "GET", "/example1/example2/../..", "", {}, "",
       UriStyle::standard, "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-relative-relative-unnormalized", "GET", "/example1/example2/../..", "", {}, "",
       UriStyle::s3, "host;x-amz-date",
       "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b"},
      {"get-slash-dot-slash-normalized", "GET", "/./", "", {}, "", UriStyle::standard,
       "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slash-dot-slash-unnormalized", "GET", "/./", "", {}, "", UriStyle::s3,
       "host;x-amz-date", "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145"},
      {"get-slash-pointless-dot-normalized", "GET", "/./example", "", {}, "", UriStyle::standard,
       "host;x-amz-date", "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
      {"get-header-key-duplicate", "GET", "/", "",
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}, "",
       UriStyle::standard, "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order", "GET", "/", "",
       {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "", UriStyle::standard, "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-multiline", "GET", "/", "", {{"My-Header1", "value1,value2,value3"}}, "",
       UriStyle::standard, "host;my-header1;x-amz-date",
       "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"},
      {"get-header-value-trim", "GET", "/", "",
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, "", UriStyle::standard,
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"get-vanilla-with-session-token", "GET", "/", "",
       {{"X-Amz-Security-Token",
         "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}},
       "", UriStyle::standard, "host;x-amz-date;x-amz-security-token",
       "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
      {"post-vanilla", "POST", "/", "", {}, "", UriStyle::standard, "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query", "POST", "/", "Param1=value1", {}, "", UriStyle::standard,
       "host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-vanilla-query-space", "POST", "/", "p=", {}, "", UriStyle::standard,
       "host;x-amz-date", "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"},
      {"post-vanilla-query-nonunreserved", "POST", "/",
       "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D", {}, "",
       UriStyle::standard, "host;x-amz-date",
       "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"},
      {"post-header-key-sort", "POST", "/", "", {{"My-Header1", "value1"}}, "",
       UriStyle::standard, "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", "POST", "/", "", {{"My-Header1", "VALUE1"}}, "",
       UriStyle::standard, "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-sts-header-before", "POST", "/", "",
       {{"X-Amz-Security-Token",
         "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxf"
         "pSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPk"
         "yQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz"
         "+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="}},
       "", UriStyle::standard, "host;x-amz-date;x-amz-security-token",
       "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
      {"post-x-www-form-urlencoded", "POST", "/", "",
       {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1",
       UriStyle::standard, "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-x-www-form-urlencoded-parameters", "POST", "/", "",
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, "Param1=value1",
       UriStyle::standard, "content-type;host;x-amz-date",
       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
  };
  return cases;
}

// The server's direction: parse the Authorization header the suite publishes, recompute.
TEST(SigV4Suite, VerifiesEveryPublishedSignature) {
  for (const SuiteCase& c : suite_cases()) {
    SCOPED_TRACE(c.name);
    const Request req = suite_request(c);
    std::string error;
    const auto auth = s4::parse_authorization_header(suite_authorization(c), &error);
    ASSERT_TRUE(auth.has_value()) << error;
    EXPECT_EQ(auth->access_key_id, kSuiteKey);
    EXPECT_EQ(auth->scope, (s4::Scope{"20150830", "us-east-1", "service"}));
    const auto computed = s4::compute(req, *auth, kSuiteDate, kSuiteSecret,
                                      s4::sha256_hex(c.body), c.style, false);
    EXPECT_EQ(computed.signature, c.signature) << computed.canonical_request;
    EXPECT_TRUE(s4::signatures_equal(computed.signature, auth->signature));
  }
}

// The client's direction: sign from scratch and produce the same Authorization header.
TEST(SigV4Suite, SignerProducesEveryPublishedAuthorization) {
  for (const SuiteCase& c : suite_cases()) {
    SCOPED_TRACE(c.name);
    Request req = suite_request(c);
    req.remove_header("X-Amz-Date");
    std::string token;
    if (auto t = req.header("X-Amz-Security-Token")) token = std::string(*t);
    req.remove_header("X-Amz-Security-Token");
    s4::SigningParams p;
    p.credentials = {std::string(kSuiteKey), std::string(kSuiteSecret), token};
    p.region = "us-east-1";
    p.service = "service";
    p.time = at(2015, 8, 30, 12, 36, 0);
    p.payload_hash = s4::sha256_hex(c.body);
    p.uri_style = c.style;
    const auto result = s4::sign_request(req, p);
    EXPECT_EQ(result.authorization, suite_authorization(c)) << result.canonical_request;
    EXPECT_EQ(req.header("Authorization"), result.authorization);
    EXPECT_EQ(req.header("X-Amz-Date"), kSuiteDate);
    if (!token.empty()) {
      EXPECT_EQ(req.header("x-amz-security-token"), token);
    }
  }
}

// The suite's intermediate files for post-x-www-form-urlencoded.
TEST(SigV4Suite, CanonicalRequestAndStringToSignOfFormPost) {
  const SuiteCase* form = nullptr;
  for (const auto& c : suite_cases())
    if (std::string_view(c.name) == "post-x-www-form-urlencoded") form = &c;
  ASSERT_NE(form, nullptr);
  const Request req = suite_request(*form);
  const std::vector<std::string> signed_headers = {"content-type", "host", "x-amz-date"};
  const std::string cr = s4::canonical_request(req, signed_headers, s4::sha256_hex("Param1=value1"),
                                               UriStyle::standard);
  EXPECT_EQ(cr,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(s4::string_to_sign(kSuiteDate, "20150830/us-east-1/service/aws4_request", cr),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
}

// post-sts-header-after: the token header is added after signing and is not in SignedHeaders,
// so it does not change the signature.
TEST(SigV4Suite, UnsignedHeadersDoNotMatter) {
  Request req{"POST", "/", "", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"},
                               {"X-Amz-Security-Token", "anything"}, {"User-Agent", "x"}}};
  const auto auth = s4::parse_authorization_header(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  ASSERT_TRUE(auth);
  EXPECT_EQ(s4::compute(req, *auth, kSuiteDate, kSuiteSecret, s4::kEmptySha256,
                        UriStyle::standard, false)
                .signature,
            auth->signature);
}

// aws-c-auth's query-signed form of get-vanilla-query-order-key-case (X-Amz-Expires=3600,
// empty-body hash, X-Amz-Date also sent as an unsigned header).
TEST(SigV4Suite, PresignedSuiteRequestVerifies) {
  Request req{"GET", "/",
              "Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
              "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z"
              "&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature="
              "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5",
              {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}};
  ASSERT_TRUE(s4::is_presigned_v4(req.query));
  std::string error;
  const auto q = s4::parse_presigned_query(req.query, &error);
  ASSERT_TRUE(q) << error;
  EXPECT_EQ(q->auth.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(q->expires, 3600);
  EXPECT_EQ(q->amz_date, "20150830T123600Z");
  EXPECT_EQ(q->auth.signed_headers, std::vector<std::string>{"host"});
  const auto c = s4::compute(req, q->auth, q->amz_date, kSuiteSecret, s4::kEmptySha256,
                             UriStyle::standard, true);
  EXPECT_EQ(c.signature, "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5");
}

// ---- S3's documented examples (AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1) ---------

constexpr std::string_view kS3DocKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kS3DocSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

s4::SigningParams s3_doc_params(std::string payload_hash) {
  s4::SigningParams p;
  p.credentials = {std::string(kS3DocKey), std::string(kS3DocSecret), ""};
  p.region = "us-east-1";
  p.service = "s3";
  p.time = at(2013, 5, 24, 0, 0, 0);
  p.payload_hash = std::move(payload_hash);
  p.uri_style = UriStyle::s3;
  p.set_content_sha256 = true;
  return p;
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  Request req{"GET", "/test.txt", "",
              {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}}};
  const auto r = s4::sign_request(req, s3_doc_params(std::string(s4::kEmptySha256)));
  EXPECT_EQ(r.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(r.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(r.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Examples, PutObjectWithDollarInKey) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = s4::sha256_hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  // The key is "test$file.text"; whether the client sent '$' raw or as %24, S3 signs %24.
  for (const char* wire_path : {"/test$file.text", "/test%24file.text"}) {
    SCOPED_TRACE(wire_path);
    Request req{"PUT", wire_path, "",
                {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}};
    const auto r = s4::sign_request(req, s3_doc_params(hash));
    EXPECT_EQ(r.string_to_sign,
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    EXPECT_EQ(r.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
    EXPECT_EQ(r.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  }
}

TEST(SigV4S3Examples, GetBucketLifecycle) {
  Request req{"GET", "/", "lifecycle", {{"Host", "examplebucket.s3.amazonaws.com"}}};
  const auto r = s4::sign_request(req, s3_doc_params(std::string(s4::kEmptySha256)));
  EXPECT_EQ(r.canonical_request.substr(0, 17), "GET\n/\nlifecycle=\n");
  EXPECT_EQ(r.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjects) {
  Request req{"GET", "/", "max-keys=2&prefix=J", {{"Host", "examplebucket.s3.amazonaws.com"}}};
  const auto r = s4::sign_request(req, s3_doc_params(std::string(s4::kEmptySha256)));
  EXPECT_EQ(r.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  // Order of the parameters on the wire does not matter.
  Request swapped{"GET", "/", "prefix=J&max-keys=2", {{"Host", "examplebucket.s3.amazonaws.com"}}};
  EXPECT_EQ(s4::sign_request(swapped, s3_doc_params(std::string(s4::kEmptySha256))).signature,
            r.signature);
}

TEST(SigV4S3Examples, PresignedGetObject) {
  Request req{"GET", "/test.txt", "", {{"Host", "examplebucket.s3.amazonaws.com"}}};
  auto p = s3_doc_params(std::string(s4::kUnsignedPayload));
  p.set_content_sha256 = false;
  const auto r = s4::presign(req, p, 86400s);
  EXPECT_EQ(r.canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
            "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires="
            "86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\n"
            "UNSIGNED-PAYLOAD");
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(r.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(req.query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

  // And the server's side of the same URL.
  const auto q = s4::parse_presigned_query(req.query);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->expires, 86400);
  const auto c = s4::compute(req, q->auth, q->amz_date, kS3DocSecret, s4::kUnsignedPayload,
                             UriStyle::s3, true);
  EXPECT_EQ(c.signature, q->auth.signature);
}

// The documented aws-chunked upload: 65 KiB of 'a' in 64 KiB chunks.
TEST(SigV4S3Examples, StreamingChunkSignatures) {
  Request req{"PUT", "/examplebucket/chunkObject.txt", "",
              {{"Host", "s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
               {"Content-Encoding", "aws-chunked"},
               {"x-amz-decoded-content-length", "66560"},
               {"Content-Length", "66824"}}};
  const auto auth = s4::parse_authorization_header(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
      "x-amz-decoded-content-length;x-amz-storage-class,"
      "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  ASSERT_TRUE(auth);
  const auto seed = s4::compute(req, *auth, "20130524T000000Z", kS3DocSecret,
                                s4::kStreamingPayload, UriStyle::s3, false);
  EXPECT_EQ(seed.signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");

  const auto key = s4::derive_signing_key(kS3DocSecret, auth->scope);
  const std::string scope = auth->scope.str();
  const std::string chunk1(65536, 'a'), chunk2(1024, 'a');
  EXPECT_EQ(s4::chunk_signature(key, "20130524T000000Z", scope, seed.signature, chunk1),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
  EXPECT_EQ(s4::chunk_string_to_sign("20130524T000000Z", scope, seed.signature,
                                     s4::sha256_hex(chunk1)),
            "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a");

  s4::ChunkSigner chain(key, "20130524T000000Z", scope, seed.signature);
  EXPECT_EQ(chain.next(chunk1), "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
  EXPECT_EQ(chain.next_hashed(s4::sha256_hex(chunk2)),
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
  EXPECT_EQ(chain.next(""), "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
  EXPECT_EQ(chain.previous_signature(),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
}

// The documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER example: same body, a CRC32C
// trailer signed after the final chunk.
TEST(SigV4S3Examples, StreamingTrailerSignature) {
  const s4::Scope scope{"20130524", "us-east-1", "s3"};
  const auto key = s4::derive_signing_key(kS3DocSecret, scope);
  s4::ChunkSigner chain(key, "20130524T000000Z", scope.str(),
                        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
  EXPECT_EQ(chain.next(std::string(65536, 'a')),
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2");
  EXPECT_EQ(chain.next(std::string(1024, 'a')),
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7");
  EXPECT_EQ(chain.next(""), "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992");
  const std::string trailers = s4::canonical_trailers({{"x-amz-checksum-crc32c", "sOO8/Q=="}});
  EXPECT_EQ(trailers, "x-amz-checksum-crc32c:sOO8/Q==\n");
  EXPECT_EQ(s4::trailer_string_to_sign("20130524T000000Z", scope.str(),
                                       "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
                                       s4::sha256_hex(trailers))
                .substr(0, 25),
            "AWS4-HMAC-SHA256-TRAILER\n");
  EXPECT_EQ(s4::trailer_signature(key, "20130524T000000Z", scope.str(),
                                  "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
                                  trailers),
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435");
  EXPECT_EQ(chain.trailer(trailers),
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435");
  // The body's CRC32C is what the trailer carries.
  EXPECT_EQ(eddy::wire::checksum::digest_base64(eddy::wire::checksum::Algorithm::crc32c,
                                                std::string(66560, 'a')),
            "sOO8/Q==");
}

// ---- requests signed by botocore 1.43 (generated once, hard-coded) -------------------------
// S3SigV4Auth with payload signing disabled, SigV4Auth for Kinesis with a session token,
// S3SigV4QueryAuth and HmacV1QueryAuth; all at 2024-03-09T16:25:11Z.

constexpr std::string_view kBotoKey = "AKIAEDDYTEST0000001";
constexpr std::string_view kBotoSecret = "eddy/secret+key/0123456789abcdefghijklmn";

TEST(SigV4Botocore, S3PutWithUnsignedPayload) {
  Request req{"PUT", "/my-bucket/dir/a%20b%2Bc%28d%29~e.txt", "x-id=PutObject",
              {{"Host", "127.0.0.1:4566"},
               {"Content-Type", "application/octet-stream"},
               {"Content-Length", "11"},
               {"x-amz-acl", "bucket-owner-full-control"},
               {"Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="},
               {"User-Agent", "Boto3/1.34 md/Botocore#1.34"},
               {"X-Amz-Date", "20240309T162511Z"},
               {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"},
               {"Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAEDDYTEST0000001/20240309/us-east-1/s3/aws4_request, "
                "SignedHeaders=content-length;content-md5;content-type;host;x-amz-acl;"
                "x-amz-content-sha256;x-amz-date, "
                "Signature=70b7d5d5c5760e2f7d2bdacd56f49e2b5edffc11a66aad734802f7c25e6e259a"}}};
  const auto auth = s4::parse_authorization_header(*req.header("authorization"));
  ASSERT_TRUE(auth);
  const std::string payload(*req.header("x-amz-content-sha256"));
  const auto c = s4::compute(req, *auth, *req.header("x-amz-date"), kBotoSecret, payload,
                             UriStyle::s3, false);
  EXPECT_EQ(c.canonical_request,
            "PUT\n/my-bucket/dir/a%20b%2Bc%28d%29~e.txt\nx-id=PutObject\ncontent-length:11\n"
            "content-md5:XrY7u+Ae7tCTyyK7j1rNww==\ncontent-type:application/octet-stream\n"
            "host:127.0.0.1:4566\nx-amz-acl:bucket-owner-full-control\n"
            "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20240309T162511Z\n\n"
            "content-length;content-md5;content-type;host;x-amz-acl;x-amz-content-sha256;"
            "x-amz-date\nUNSIGNED-PAYLOAD");
  EXPECT_TRUE(s4::signatures_equal(c.signature, auth->signature));

  // Signing the same request from scratch gives botocore's header.
  Request fresh = req;
  fresh.remove_header("Authorization");
  fresh.remove_header("X-Amz-Date");
  fresh.remove_header("X-Amz-Content-SHA256");
  s4::SigningParams p;
  p.credentials = {std::string(kBotoKey), std::string(kBotoSecret), ""};
  p.region = "us-east-1";
  p.service = "s3";
  p.time = at(2024, 3, 9, 16, 25, 11);
  p.payload_hash = std::string(s4::kUnsignedPayload);
  p.uri_style = UriStyle::s3;
  p.set_content_sha256 = true;
  const auto r = s4::sign_request(fresh, p);
  EXPECT_EQ(r.authorization, *req.header("authorization"));
  EXPECT_EQ(fresh.header("X-Amz-Content-SHA256"), "UNSIGNED-PAYLOAD");

  // A different key, a tampered header or body hash, or another style all fail.
  EXPECT_NE(s4::compute(req, *auth, "20240309T162511Z", "wrong", payload, UriStyle::s3, false)
                .signature,
            auth->signature);
  Request tampered = req;
  tampered.set_header("x-amz-acl", "public-read");
  EXPECT_NE(s4::compute(tampered, *auth, "20240309T162511Z", kBotoSecret, payload, UriStyle::s3,
                        false)
                .signature,
            auth->signature);
  EXPECT_NE(s4::compute(req, *auth, "20240309T162511Z", kBotoSecret, s4::kEmptySha256,
                        UriStyle::s3, false)
                .signature,
            auth->signature);
  EXPECT_NE(s4::compute(req, *auth, "20240309T162511Z", kBotoSecret, payload,
                        UriStyle::standard, false)
                .signature,
            auth->signature);
}

TEST(SigV4Botocore, KinesisPostWithSessionToken) {
  const std::string body = R"({"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"a"})";
  const std::string token = "IQoJb3JpZ2luX2VjEN7//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";
  Request req{"POST", "/", "",
              {{"Host", "localhost:4567"},
               {"X-Amz-Target", "Kinesis_20131202.PutRecord"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"User-Agent", "aws-cli/2"},
               {"Content-Length", "60"},
               {"X-Amz-Date", "20240309T162511Z"},
               {"X-Amz-Security-Token", token},
               {"Authorization",
                "AWS4-HMAC-SHA256 Credential=ASIAEDDYTEST0000002/20240309/eu-west-1/kinesis/"
                "aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;"
                "x-amz-security-token;x-amz-target, "
                "Signature=f556ed91213191e68e2b18b8dfba32cfc7e477ea3a159c98d1621fb010d2e31a"}}};
  const auto auth = s4::parse_authorization_header(*req.header("authorization"));
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->access_key_id, "ASIAEDDYTEST0000002");
  EXPECT_EQ(auth->scope.region, "eu-west-1");
  EXPECT_EQ(auth->scope.service, "kinesis");
  const std::string secret = "kinesis/Secret/Key+With/Slashes0000000000";
  const auto c = s4::compute(req, *auth, "20240309T162511Z", secret, s4::sha256_hex(body),
                             UriStyle::standard, false);
  EXPECT_EQ(c.signature, auth->signature);

  Request fresh{"POST", "/", "",
                {{"Host", "localhost:4567"},
                 {"X-Amz-Target", "Kinesis_20131202.PutRecord"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"User-Agent", "aws-cli/2"},
                 {"Content-Length", "60"}}};
  s4::SigningParams p;
  p.credentials = {"ASIAEDDYTEST0000002", secret, token};
  p.region = "eu-west-1";
  p.service = "kinesis";
  p.time = at(2024, 3, 9, 16, 25, 11);
  p.payload_hash = s4::sha256_hex(body);
  const auto r = s4::sign_request(fresh, p);
  EXPECT_EQ(r.authorization, *req.header("authorization"));
  EXPECT_EQ(fresh.header("x-amz-security-token"), token);
}

TEST(SigV4Botocore, S3PresignedGetWithEncodedKeyAndSubresources) {
  const std::string botocore_query =
      "versionId=3%2FL4kqtJl40Nr8X8gdRQBpUMLUo&response-content-type=application%2Fpdf"
      "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEDDYTEST0000001%2F20240309%2F"
      "us-west-2%2Fs3%2Faws4_request&X-Amz-Date=20240309T162511Z&X-Amz-Expires=900"
      "&X-Amz-SignedHeaders=host&X-Amz-Signature="
      "5ec468cc2466e91d791fbb24ee6c52ec19974d7414e4db536524a9c6a56a8c34";
  // "2024%2F03" is one path segment: the slash belongs to the key and must stay encoded.
  const Request received{"GET", "/reports/2024%2F03/r%C3%A9sum%C3%A9.pdf", botocore_query,
                         {{"Host", "my-bucket.s3.us-west-2.amazonaws.com"}}};
  const auto q = s4::parse_presigned_query(received.query);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->expires, 900);
  EXPECT_EQ(q->auth.scope.region, "us-west-2");
  EXPECT_TRUE(q->security_token.empty());
  const auto c = s4::compute(received, q->auth, q->amz_date, kBotoSecret, s4::kUnsignedPayload,
                             UriStyle::s3, true);
  EXPECT_EQ(c.canonical_request,
            "GET\n/reports/2024%2F03/r%C3%A9sum%C3%A9.pdf\nX-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Credential=AKIAEDDYTEST0000001%2F20240309%2Fus-west-2%2Fs3%2Faws4_request&"
            "X-Amz-Date=20240309T162511Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&"
            "response-content-type=application%2Fpdf&versionId=3%2FL4kqtJl40Nr8X8gdRQBpUMLUo\n"
            "host:my-bucket.s3.us-west-2.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(c.signature, q->auth.signature);

  Request fresh{"GET", "/reports/2024%2F03/r%C3%A9sum%C3%A9.pdf",
                "versionId=3%2FL4kqtJl40Nr8X8gdRQBpUMLUo&response-content-type=application%2Fpdf",
                {{"Host", "my-bucket.s3.us-west-2.amazonaws.com"}}};
  s4::SigningParams p;
  p.credentials = {std::string(kBotoKey), std::string(kBotoSecret), ""};
  p.region = "us-west-2";
  p.service = "s3";
  p.time = at(2024, 3, 9, 16, 25, 11);
  p.payload_hash = std::string(s4::kUnsignedPayload);
  p.uri_style = UriStyle::s3;
  s4::presign(fresh, p, 900s);
  EXPECT_EQ(fresh.query, botocore_query);
}

TEST(SigV4Botocore, SigV2PresignedGet) {
  const std::string botocore_query =
      "versionId=v1&foo=bar&AWSAccessKeyId=AKIAEDDYTEST0000001&Signature=ePiG5EPlCDABEXqc356BfP0FWIw%3D"
      "&Expires=1700003600";
  const Request received{"GET", "/my-bucket/org/acme/lib/1.2/lib-1.2.jar", botocore_query,
                         {{"Host", "s3.amazonaws.com"}}};
  ASSERT_TRUE(s4::is_presigned_v2(received.query));
  EXPECT_FALSE(s4::is_presigned_v4(received.query));
  const auto q = s4::parse_presigned_v2_query(received.query);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->access_key_id, kBotoKey);
  EXPECT_EQ(q->expires, 1700003600);
  EXPECT_EQ(q->signature, "ePiG5EPlCDABEXqc356BfP0FWIw=");
  const std::string sts = s4::v2_string_to_sign_for(received, "", true);
  EXPECT_EQ(sts, "GET\n\n\n1700003600\n/my-bucket/org/acme/lib/1.2/lib-1.2.jar?versionId=v1");
  EXPECT_EQ(s4::v2_signature(kBotoSecret, sts), q->signature);

  Request fresh{"GET", "/my-bucket/org/acme/lib/1.2/lib-1.2.jar", "versionId=v1&foo=bar",
                {{"Host", "s3.amazonaws.com"}}};
  const std::string sig =
      s4::presign_v2(fresh, {std::string(kBotoKey), std::string(kBotoSecret), ""}, 1700003600);
  EXPECT_EQ(sig, "ePiG5EPlCDABEXqc356BfP0FWIw=");
  EXPECT_EQ(fresh.query, botocore_query);
}

// ---- S3 Signature Version 2 documentation examples (johnsmith) -----------------------------

TEST(SigV2, DocumentedHeaderExamples) {
  struct Case {
    Request req;
    const char* string_to_sign;
    const char* signature;
  };
  const std::vector<Case> cases = {
      {{"GET", "/photos/puppy.jpg", "",
        {{"Host", "johnsmith.s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 19:36:42 +0000"}}},
       "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
       "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
      {{"PUT", "/photos/puppy.jpg", "",
        {{"Content-Type", "image/jpeg"}, {"Content-Length", "94328"},
         {"Host", "johnsmith.s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 21:15:45 +0000"}}},
       "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg",
       "MyyxeRY7whkBe+bq8fHCL/2kKUg="},
      {{"GET", "/", "prefix=photos&max-keys=50&marker=puppy",
        {{"User-Agent", "Mozilla/5.0"}, {"Host", "johnsmith.s3.amazonaws.com"},
         {"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}}},
       "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/", "htDYFYduRNen8P9ZfE/s9SuKy0U="},
      {{"GET", "/", "acl",
        {{"Host", "johnsmith.s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 19:44:46 +0000"}}},
       "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl", "c2WLPFtWHVgbEmeEG93a4cG37dM="},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.string_to_sign);
    const std::string sts = s4::v2_string_to_sign_for(c.req, "johnsmith", false);
    EXPECT_EQ(sts, c.string_to_sign);
    EXPECT_EQ(s4::v2_signature(kS3DocSecret, sts), c.signature);
  }
  const auto a = s4::parse_authorization_v2("AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(a->signature, "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
  EXPECT_FALSE(s4::parse_authorization_v2("AWS4-HMAC-SHA256 Credential=x"));
  EXPECT_FALSE(s4::parse_authorization_v2("AWS nocolon"));
  EXPECT_FALSE(s4::parse_authorization_v2("AWS :sig"));
}

TEST(SigV2, DocumentedPresignedExample) {
  Request req{"GET", "/photos/puppy.jpg", "", {{"Host", "johnsmith.s3.amazonaws.com"}}};
  const std::string sig = s4::presign_v2(
      req, {std::string(kS3DocKey), std::string(kS3DocSecret), ""}, 1175139620, "johnsmith");
  EXPECT_EQ(sig, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
  EXPECT_EQ(req.query,
            "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"
            "&Expires=1175139620");
  // A client that left the '+' of the signature unencoded still verifies.
  const auto q = s4::parse_presigned_v2_query(
      "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8=");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
  EXPECT_FALSE(s4::parse_presigned_v2_query("AWSAccessKeyId=a&Signature=b").has_value());
  EXPECT_FALSE(s4::parse_presigned_v2_query("AWSAccessKeyId=a&Signature=b&Expires=soon").has_value());
}

TEST(SigV2, CanonicalResourceAndAmzHeaders) {
  EXPECT_EQ(s4::v2_canonical_resource("", "/bucket/key", "uploadId=abc&partNumber=2&foo=1"),
            "/bucket/key?partNumber=2&uploadId=abc");
  EXPECT_EQ(s4::v2_canonical_resource("", "/bucket/key",
                                      "response-content-type=text%2Fplain&versioning"),
            "/bucket/key?response-content-type=text/plain&versioning");
  EXPECT_EQ(s4::v2_canonical_resource("bucket", "", ""), "/bucket/");
  EXPECT_EQ(s4::v2_canonical_resource("", "/b/a%20b", "X-Amz-Foo=1"), "/b/a%20b");
  EXPECT_EQ(s4::v2_canonical_amz_headers({{"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"},
                                          {"Content-Type", "x"},
                                          {"x-amz-acl", " public-read "},
                                          {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
                                          {"X-Amz-Meta-FileChecksum", "0x02661779"}}),
            "x-amz-acl:public-read\nx-amz-meta-filechecksum:0x02661779\n"
            "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n");
  // With x-amz-date, the Date slot stays empty and x-amz-date is signed as an amz header.
  Request r{"DELETE", "/photos/puppy.jpg", "",
            {{"Host", "johnsmith.s3.amazonaws.com"},
             {"Date", "Tue, 27 Mar 2007 21:20:27 +0000"},
             {"x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"}}};
  EXPECT_EQ(s4::v2_string_to_sign_for(r, "johnsmith", false),
            "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg");
  // A presigned URL with a session token signs the token as an amz header.
  Request t{"GET", "/b/k", "", {{"Host", "s3.amazonaws.com"}}};
  s4::presign_v2(t, {"AK", "SECRET", "TOKEN/+="}, 1000);
  EXPECT_EQ(t.query.substr(t.query.find("&x-amz-security-token=")),
            "&x-amz-security-token=TOKEN%2F%2B%3D");
  const std::string sts = s4::v2_string_to_sign_for(t, "", true);
  EXPECT_EQ(sts, "GET\n\n\n1000\nx-amz-security-token:TOKEN/+=\n/b/k");
  const auto q = s4::parse_presigned_v2_query(t.query);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->security_token, "TOKEN/+=");
  EXPECT_EQ(s4::v2_signature("SECRET", sts), q->signature);
}

// ---- building blocks -----------------------------------------------------------------------

TEST(SigV4, UriEncode) {
  EXPECT_EQ(s4::uri_encode("a b", false), "a%20b");
  EXPECT_EQ(s4::uri_encode("a+b", false), "a%2Bb");
  EXPECT_EQ(s4::uri_encode("100%", false), "100%25");
  EXPECT_EQ(s4::uri_encode("a/b", false), "a/b");
  EXPECT_EQ(s4::uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(s4::uri_encode("A-z_0.9~", true), "A-z_0.9~");
  EXPECT_EQ(s4::uri_encode("=&?#!'()*$", true), "%3D%26%3F%23%21%27%28%29%2A%24");
  EXPECT_EQ(s4::uri_encode("\xD0\xBA\xE1\x88\xB4", true), "%D0%BA%E1%88%B4");
  EXPECT_EQ(s4::uri_encode(std::string("\0\xff", 2), true), "%00%FF");
}

TEST(SigV4, UriDecode) {
  EXPECT_EQ(s4::uri_decode("a%20b%2fc%2F", false), "a b/c/");
  EXPECT_EQ(s4::uri_decode("a+b", false), "a+b");
  EXPECT_EQ(s4::uri_decode("a+b", true), "a b");
  EXPECT_EQ(s4::uri_decode("%2B", true), "+");
  EXPECT_EQ(s4::uri_decode("100%", false), "100%");
  EXPECT_EQ(s4::uri_decode("%zz%4", false), "%zz%4");
  EXPECT_EQ(s4::uri_decode("%E1%88%B4", false), "\xE1\x88\xB4");
}

TEST(SigV4, CanonicalUri) {
  EXPECT_EQ(s4::canonical_uri("", UriStyle::s3), "/");
  EXPECT_EQ(s4::canonical_uri("", UriStyle::standard), "/");
  // S3: decoded once per segment, re-encoded; an encoded slash stays a slash inside a key.
  EXPECT_EQ(s4::canonical_uri("/b/a%20b/c%2Fd", UriStyle::s3), "/b/a%20b/c%2Fd");
  EXPECT_EQ(s4::canonical_uri("/b/a b/(x)", UriStyle::s3), "/b/a%20b/%28x%29");
  EXPECT_EQ(s4::canonical_uri("/b/a+b", UriStyle::s3), "/b/a%2Bb");
  EXPECT_EQ(s4::canonical_uri("/b/%7Ex", UriStyle::s3), "/b/~x");
  EXPECT_EQ(s4::canonical_uri("/b//./../k", UriStyle::s3), "/b//./../k");
  // Other services: normalized, then the wire path encoded again.
  EXPECT_EQ(s4::canonical_uri("/a%20b", UriStyle::standard), "/a%2520b");
  EXPECT_EQ(s4::canonical_uri("/a/./b/../c//d/", UriStyle::standard), "/a/c/d/");
  EXPECT_EQ(s4::canonical_uri("/..", UriStyle::standard), "/");
}

TEST(SigV4, CanonicalQueryString) {
  EXPECT_EQ(s4::canonical_query_string(""), "");
  EXPECT_EQ(s4::canonical_query_string("b=2&a=1&A=0"), "A=0&a=1&b=2");
  EXPECT_EQ(s4::canonical_query_string("a=2&a=1&a=10"), "a=1&a=10&a=2");
  EXPECT_EQ(s4::canonical_query_string("acl"), "acl=");
  EXPECT_EQ(s4::canonical_query_string("a=x+y&b=%2B&c=%7e&&d"), "a=x%20y&b=%2B&c=~&d=");
  EXPECT_EQ(s4::canonical_query_string("prefix=a/b&delimiter=/"), "delimiter=%2F&prefix=a%2Fb");
  EXPECT_EQ(s4::canonical_query_string("X-Amz-Signature=abc&X-Amz-Date=1", true), "X-Amz-Date=1");
  EXPECT_EQ(s4::canonical_query_string("X-Amz-Signature=abc&X-Amz-Date=1", false),
            "X-Amz-Date=1&X-Amz-Signature=abc");
  const auto params = s4::parse_query("a=1&b&c=%41+B&=e");
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ(params[2], (std::pair<std::string, std::string>{"c", "A B"}));
  EXPECT_EQ(params[3], (std::pair<std::string, std::string>{"", "e"}));
}

TEST(SigV4, CanonicalHeaders) {
  EXPECT_EQ(s4::canonical_header_value("  a   b\t\tc  "), "a b c");
  EXPECT_EQ(s4::canonical_header_value("value1\r\n  value2"), "value1 value2");
  EXPECT_EQ(s4::canonical_header_value(""), "");
  const std::vector<Header> headers = {
      {"Host", "h"}, {"X-A", " 1 "}, {"x-a", "2"}, {"X-B", "b  c"}};
  EXPECT_EQ(s4::canonical_headers(headers, {"host", "x-a", "x-b", "x-missing"}),
            "host:h\nx-a:1,2\nx-b:b c\nx-missing:\n");
  EXPECT_EQ(s4::join_signed_headers({"X-B", "host", "x-a", "Host"}), "host;x-a;x-b");
  EXPECT_EQ(s4::split_signed_headers("host;X-Amz-Date"),
            (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_TRUE(s4::split_signed_headers("").empty());
}

TEST(SigV4, SigningKeyDerivation) {
  // From AWS's signing-key example (iam, us-east-1, 20120215).
  const auto key = s4::derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                          {"20120215", "us-east-1", "iam"});
  EXPECT_EQ(eddy::wire::checksum::to_hex(
                std::string_view(reinterpret_cast<const char*>(key.data()), key.size())),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  EXPECT_EQ(s4::Scope({"20120215", "us-east-1", "iam"}).str(), "20120215/us-east-1/iam/aws4_request");
  EXPECT_TRUE(s4::signatures_equal("abc", "abc"));
  EXPECT_FALSE(s4::signatures_equal("abc", "abd"));
  EXPECT_FALSE(s4::signatures_equal("abc", "abcd"));
}

TEST(SigV4, ParseAuthorizationHeader) {
  std::string error;
  auto a = s4::parse_authorization_header(
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature="
      "5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31",
      &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->access_key_id, "AK");
  EXPECT_EQ(a->scope.date, "20150830");
  EXPECT_EQ(a->scope.region, "us-east-1");
  EXPECT_EQ(a->scope.service, "service");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(a->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

  // No spaces after the commas (S3's documentation style), components in another order.
  a = s4::parse_authorization_header(
      "AWS4-HMAC-SHA256 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,"
      "SignedHeaders=host,Credential=AK/20150830/eu-central-1/s3/aws4_request");
  ASSERT_TRUE(a);
  EXPECT_TRUE(s4::authorization_header_valid(
      "AWS4-HMAC-SHA256 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,"
      "SignedHeaders=host,Credential=AK/20150830/eu-central-1/s3/aws4_request"));
  EXPECT_EQ(a->scope.region, "eu-central-1");
  EXPECT_EQ(a->signed_headers, std::vector<std::string>{"host"});

  const std::string sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  const std::vector<std::string> bad = {
      "",
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA1 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=" + sig,
      "AWS AK:sig",
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host",
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, Signature=" + sig,
      "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AK/2015083/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws5_request, SignedHeaders=host, "
      "Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AK/20150830/s/aws4_request, SignedHeaders=host, Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=abc",
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host;;x, "
      "Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=" + sig + ", Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=" + sig + ", Extra=1",
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request SignedHeaders=host "
      "Signature=" + sig,
      // A trailing comma leaves an empty component; an empty region or service.
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
      "Signature=" + sig + ",",
      "AWS4-HMAC-SHA256 Credential=AK/20150830//s/aws4_request, SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1//aws4_request, SignedHeaders=host, Signature=" + sig,
  };
  for (const auto& value : bad) {
    error.clear();
    EXPECT_FALSE(s4::parse_authorization_header(value, &error).has_value()) << value;
    EXPECT_FALSE(error.empty()) << value;
    EXPECT_FALSE(s4::authorization_header_valid(value)) << value;
  }
  // An access key containing '/' still parses: the scope is the last four components.
  const auto cred = s4::parse_credential("A/B/20150830/us-east-1/s3/aws4_request");
  ASSERT_TRUE(cred);
  EXPECT_EQ(cred->first, "A/B");
  EXPECT_EQ(cred->second.service, "s3");
}

TEST(SigV4, ParsePresignedQuery) {
  const std::string base =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
      "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host%3Brange"
      "&X-Amz-Security-Token=tok%2Ben%3D&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
  const auto q = s4::parse_presigned_query(base);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->auth.access_key_id, "AK");
  EXPECT_EQ(q->auth.signed_headers, (std::vector<std::string>{"host", "range"}));
  EXPECT_EQ(q->security_token, "tok+en=");
  EXPECT_EQ(q->expires, 86400);
  EXPECT_EQ(q->amz_date, "20130524T000000Z");

  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  std::string error;
  for (const auto& broken :
       {replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
        replace("X-Amz-Expires=86400", "X-Amz-Expires=soon"),
        replace("X-Amz-Expires=86400&", ""), replace("X-Amz-Date=20130524T000000Z", "X-Amz-Date=2013"),
        replace("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20131324T000000Z"),
        replace("%2Fs3%2F", "%2F"), replace("X-Amz-Signature=aeeed9", "X-Amz-Signature=zzzzz9"),
        replace("X-Amz-SignedHeaders=host%3Brange", "X-Amz-SignedHeaders=")}) {
    error.clear();
    EXPECT_FALSE(s4::parse_presigned_query(broken, &error)) << broken;
    EXPECT_FALSE(error.empty()) << broken;
  }
  EXPECT_FALSE(s4::is_presigned_v4("a=1&b=2"));
  EXPECT_TRUE(s4::is_presigned_v4("X-Amz-Algorithm=nonsense"));
}

TEST(SigV4, SessionTokenIsSignedInPresignedUrls) {
  Request req{"GET", "/b/k", "", {{"Host", "localhost:4566"}}};
  s4::SigningParams p;
  p.credentials = {"ASIA1", "secret", "token/with+chars="};
  p.region = "us-east-1";
  p.service = "s3";
  p.time = at(2024, 1, 2, 3, 4, 5);
  p.payload_hash = std::string(s4::kUnsignedPayload);
  p.uri_style = UriStyle::s3;
  const auto r = s4::presign(req, p, 60s);
  EXPECT_NE(req.query.find("&X-Amz-Security-Token=token%2Fwith%2Bchars%3D&X-Amz-Signature="),
            std::string::npos);
  const auto q = s4::parse_presigned_query(req.query);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->security_token, "token/with+chars=");
  EXPECT_EQ(q->amz_date, "20240102T030405Z");
  EXPECT_EQ(s4::compute(req, q->auth, q->amz_date, "secret", s4::kUnsignedPayload, UriStyle::s3,
                        true)
                .signature,
            r.signature);
  // Dropping the token from the URL breaks the signature.
  Request stripped = req;
  const auto pos = stripped.query.find("&X-Amz-Security-Token=");
  stripped.query.erase(pos, stripped.query.find("&X-Amz-Signature=") - pos);
  EXPECT_NE(s4::compute(stripped, q->auth, q->amz_date, "secret", s4::kUnsignedPayload,
                        UriStyle::s3, true)
                .signature,
            r.signature);
}

TEST(SigV4, AmzAndHttpDates) {
  EXPECT_EQ(s4::format_amz_date(at(2015, 8, 30, 12, 36, 0)), "20150830T123600Z");
  EXPECT_EQ(s4::format_amz_date(at(1999, 12, 31, 23, 59, 59)), "19991231T235959Z");
  EXPECT_EQ(s4::parse_amz_date("20150830T123600Z"), at(2015, 8, 30, 12, 36, 0));
  EXPECT_EQ(s4::parse_amz_date("20240229T000000Z"), at(2024, 2, 29, 0, 0, 0));
  for (const char* bad : {"", "20150830T123600", "20150830 123600Z", "2015-08-30T12:36:00Z",
                          "20230229T000000Z", "20150830T243600Z", "20150830T126000Z",
                          "2015083OT123600Z"})
    EXPECT_FALSE(s4::parse_amz_date(bad).has_value()) << bad;

  EXPECT_EQ(s4::format_http_date(at(2013, 5, 24, 0, 0, 0)), "Fri, 24 May 2013 00:00:00 GMT");
  EXPECT_EQ(s4::format_http_date(at(2007, 3, 27, 19, 36, 42)), "Tue, 27 Mar 2007 19:36:42 GMT");
  EXPECT_EQ(s4::parse_http_date("Fri, 24 May 2013 00:00:00 GMT"), at(2013, 5, 24, 0, 0, 0));
  EXPECT_EQ(s4::parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000"), at(2007, 3, 27, 19, 36, 42));
  EXPECT_EQ(s4::parse_http_date("Sat, 09 Mar 2024 16:25:11 -0000"), at(2024, 3, 9, 16, 25, 11));
  for (const char* bad : {"", "Fri, 24 May 2013 00:00:00", "Fri, 24 Foo 2013 00:00:00 GMT",
                          "Fri, 31 Feb 2013 00:00:00 GMT", "Fri, 24 May 2013 00:00:00 CET",
                          "Friday, 24 May 2013 00:00:00 GMT"})
    EXPECT_FALSE(s4::parse_http_date(bad).has_value()) << bad;
}

TEST(SigV4, RequestHeaderHelpers) {
  Request r{"GET", "/", "", {{"Host", "a"}, {"X-Thing", "1"}, {"x-thing", "2"}}};
  EXPECT_EQ(r.header("HOST"), "a");
  EXPECT_EQ(r.header("x-THING"), "1");
  EXPECT_FALSE(r.header("missing").has_value());
  r.set_header("X-Thing", "3");
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.header("x-thing"), "3");
  r.remove_header("HOST");
  EXPECT_FALSE(r.header("host").has_value());
  EXPECT_EQ(r.headers.size(), 1u);
}

}  // namespace
