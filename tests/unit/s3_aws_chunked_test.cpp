// aws-chunked decoding: frames split anywhere, trailers, signed chunks (AWS's documented
// example), and the malformed bodies that must fail cleanly.
#include <gtest/gtest.h>

#include <string>

#include "server/s3/aws_chunked_decoder.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace {

using eddy::s3::AwsChunkedDecoder;
using eddy::s3::ChunkedError;
namespace s4 = eddy::wire::sigv4;
namespace ck = eddy::wire::checksum;

constexpr const char* kDocSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kDocDate = "20130524T000000Z";
constexpr const char* kDocScope = "20130524/us-east-1/s3/aws4_request";
constexpr const char* kDocSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

struct Decoded {
  std::string data;
  std::optional<ChunkedError> error;
  std::vector<std::pair<std::string, std::string>> trailers;
};

// Feeds `body` in pieces cut at the given offsets.
Decoded decode(const std::string& body, const std::vector<size_t>& cuts,
               std::optional<AwsChunkedDecoder::Signing> signing = std::nullopt) {
  AwsChunkedDecoder dec(std::move(signing));
  Decoded out;
  size_t pos = 0;
  auto sink = [&](std::string_view p) { out.data.append(p); };
  for (size_t cut : cuts) {
    if (cut < pos || cut > body.size()) continue;
    if ((out.error = dec.feed(std::string_view(body).substr(pos, cut - pos), sink))) return out;
    pos = cut;
  }
  if ((out.error = dec.feed(std::string_view(body).substr(pos), sink))) return out;
  out.error = dec.finish();
  out.trailers = dec.trailers();
  return out;
}

AwsChunkedDecoder::Signing doc_signing() {
  auto scope = s4::Scope{"20130524", "us-east-1", "s3"};
  return AwsChunkedDecoder::Signing{s4::derive_signing_key(kDocSecret, scope), kDocDate, kDocScope, kDocSeed};
}

std::string doc_body() {
  return "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
         std::string(65536, 'a') +
         "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
         std::string(1024, 'a') +
         "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
}

TEST(AwsChunked, UnsignedTrailerSplitAtEveryByte) {
  const std::string crc = ck::digest_base64(ck::Algorithm::crc32, "hello world");
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    auto d = decode(body, {cut});
    ASSERT_FALSE(d.error) << "cut " << cut << ": " << d.error->message;
    EXPECT_EQ(d.data, "hello world");
    ASSERT_EQ(d.trailers.size(), 1u);
    EXPECT_EQ(d.trailers[0].first, "x-amz-checksum-crc32");
    EXPECT_EQ(d.trailers[0].second, crc);
  }
  // Two cuts at every pair of positions.
  for (size_t a = 0; a <= body.size(); a += 3)
    for (size_t b = a; b <= body.size(); ++b) {
      auto d = decode(body, {a, b});
      ASSERT_FALSE(d.error) << a << "," << b;
      ASSERT_EQ(d.data, "hello world");
    }
  // One byte at a time.
  std::vector<size_t> every;
  for (size_t i = 1; i < body.size(); ++i) every.push_back(i);
  auto d = decode(body, every);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.data, "hello world");
}

TEST(AwsChunked, FinalFrameWithoutClosingLineIsAccepted) {
  auto d = decode("3\r\nabc\r\n0\r\n", {});
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.data, "abc");
}

TEST(AwsChunked, HexSizesAndExtensions) {
  auto d = decode("A;foo=bar\r\n0123456789\r\n0\r\n\r\n", {});
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.data, "0123456789");
}

TEST(AwsChunked, DocumentedSignedExampleVerifies) {
  const std::string body = doc_body();
  std::vector<size_t> cuts;
  for (size_t i = 0; i < body.size(); i += 997) cuts.push_back(i);
  for (size_t i = 65536 + 80; i < 65536 + 100; ++i) cuts.push_back(i);  // around the 2nd header
  std::sort(cuts.begin(), cuts.end());
  auto d = decode(body, cuts, doc_signing());
  ASSERT_FALSE(d.error) << d.error->code << " " << d.error->message;
  EXPECT_EQ(d.data, std::string(66560, 'a'));
  // Byte-at-a-time across the first header and into the data.
  std::vector<size_t> small;
  for (size_t i = 1; i < 200; ++i) small.push_back(i);
  d = decode(body, small, doc_signing());
  ASSERT_FALSE(d.error);
  EXPECT_EQ(d.data.size(), 66560u);
}

TEST(AwsChunked, TamperedChunkOrSignatureFails) {
  std::string body = doc_body();
  std::string tampered = body;
  tampered[200] = 'b';
  auto d = decode(tampered, {}, doc_signing());
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "SignatureDoesNotMatch");
  EXPECT_EQ(d.error->status, 403);

  std::string badsig = body;
  badsig[30] = badsig[30] == '0' ? '1' : '0';
  d = decode(badsig, {}, doc_signing());
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "SignatureDoesNotMatch");

  // Unsigned frames in a signed stream.
  d = decode("3\r\nabc\r\n0\r\n\r\n", {}, doc_signing());
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "SignatureDoesNotMatch");
}

TEST(AwsChunked, SignedTrailer) {
  auto signing = doc_signing();
  s4::ChunkSigner chain(signing.key, kDocDate, kDocScope, kDocSeed);
  const std::string data = "hello trailer";
  const std::string crc = ck::digest_base64(ck::Algorithm::crc32c, data);
  std::string s1 = chain.next(data);
  std::string s0 = chain.next("");
  std::string ts = chain.trailer(s4::canonical_trailers({{"x-amz-checksum-crc32c", crc}}));
  std::string body = "d;chunk-signature=" + s1 + "\r\n" + data + "\r\n0;chunk-signature=" + s0 +
                     "\r\nx-amz-checksum-crc32c:" + crc + "\r\nx-amz-trailer-signature:" + ts + "\r\n\r\n";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    auto d = decode(body, {cut}, signing);
    ASSERT_FALSE(d.error) << cut << " " << d.error->message;
    EXPECT_EQ(d.data, data);
    ASSERT_EQ(d.trailers.size(), 1u);
    EXPECT_EQ(d.trailers[0].second, crc);
  }
  std::string wrong = body;
  wrong.replace(wrong.find("x-amz-checksum-crc32c:") + 22, 1, "Z");
  auto d = decode(wrong, {}, signing);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "SignatureDoesNotMatch");
}

TEST(AwsChunked, BadSizesAndFramingFail) {
  for (std::string body : {std::string("zz\r\nabc\r\n0\r\n\r\n"),                 // not hex
                           std::string("\r\nabc\r\n0\r\n\r\n"),                    // empty size
                           std::string("12345678901234567\r\n"),                   // 17 hex digits
                           std::string("7fffffffffff\r\n"),                        // beyond any object
                           std::string("3\r\nabcX\r\n0\r\n\r\n"),                  // data longer than said
                           std::string("3\r\nabc0\r\n\r\n"),                       // missing CRLF
                           std::string("-3\r\nabc\r\n0\r\n\r\n")}) {               // negative
    auto d = decode(body, {});
    ASSERT_TRUE(d.error) << body;
    EXPECT_EQ(d.error->code, "IncompleteBody") << body;
    EXPECT_EQ(d.error->status, 400);
  }
  // A header line that never ends is cut off at the cap, not buffered forever.
  AwsChunkedDecoder dec;
  std::string junk(AwsChunkedDecoder::kMaxLineBytes + 10, '1');
  auto e = dec.feed(junk, [](std::string_view) {});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "IncompleteBody");
  // Errors are sticky.
  e = dec.feed("0\r\n\r\n", [](std::string_view) {});
  ASSERT_TRUE(e);
}

TEST(AwsChunked, TruncatedBodiesFailAtFinish) {
  for (std::string body : {std::string("5\r\nhel"), std::string("5\r\nhello\r\n"), std::string("5\r\nhello"),
                           std::string("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n"), std::string("")}) {
    auto d = decode(body, {});
    ASSERT_TRUE(d.error) << body;
    EXPECT_EQ(d.error->code, "IncompleteBody");
  }
}

TEST(AwsChunked, MalformedTrailers) {
  auto d = decode("0\r\nno-colon-here\r\n\r\n", {});
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "MalformedTrailerError");
  std::string many = "0\r\n";
  for (int i = 0; i < 20; ++i) many += "x-h" + std::to_string(i) + ":v\r\n";
  many += "\r\n";
  d = decode(many, {});
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, "MalformedTrailerError");
}

}  // namespace
