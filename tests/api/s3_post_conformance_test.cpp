// Smaller S3 behaviours found by the s3-tests conformance run next to POST uploads:
// ListBuckets paging (max-buckets, continuation-token), Content-Encoding kept as sent unless
// aws-chunked is removed from it (that case: S3Api.AwsChunkedUploadsWithTrailers), a
// composite checksum sent with CompleteMultipartUpload checked, and GetObjectAttributes of an SSE-C object needing its key.
#include <gtest/gtest.h>

#include "tests/api/s3_test_util.h"
#include "tests/support/server_fixture.h"
#include "wire/base64.h"
#include "wire/checksum.h"

namespace eddy::test {
namespace {

using Headers = s3util::Headers;
using s3util::xml_text;

class S3Fixes : public ServerFixture {
 protected:
  void configure(Config& c) override { c.auth = "off"; }
};

void expect_error(const HttpResult& r, int status, const std::string& code, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(xml_text(r.body, "Code"), code) << r.body;
  EXPECT_EQ(xml_text(r.body, "Message"), message) << r.body;
}

TEST_F(S3Fixes, ListBucketsPages) {
  for (const char* b : {"/aaa", "/bbb", "/ccc"}) ASSERT_EQ(http("PUT", b).status, 200);
  auto r = http("GET", "/?max-buckets=2");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string token = xml_text(r.body, "ContinuationToken");
  ASSERT_NE(token, "<missing>");
  EXPECT_NE(r.body.find("<Name>aaa</Name>"), std::string::npos);
  EXPECT_NE(r.body.find("<Name>bbb</Name>"), std::string::npos);
  EXPECT_EQ(r.body.find("<Name>ccc</Name>"), std::string::npos);
  r = http("GET", "/?max-buckets=2&continuation-token=" + token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<Name>ccc</Name>"), std::string::npos);
  EXPECT_EQ(r.body.find("<Name>aaa</Name>"), std::string::npos);
  EXPECT_EQ(xml_text(r.body, "ContinuationToken"), "<missing>");
  // Exactly max-buckets left: no token.
  r = http("GET", "/?max-buckets=3");
  EXPECT_EQ(xml_text(r.body, "ContinuationToken"), "<missing>");
  expect_error(http("GET", "/?max-buckets=0"), 400, "InvalidArgument",
               "Argument max-buckets must be an integer between 1 and 10000.");
  expect_error(http("GET", "/?max-buckets=10001"), 400, "InvalidArgument",
               "Argument max-buckets must be an integer between 1 and 10000.");
}

TEST_F(S3Fixes, ContentEncodingKeptAsSent) {
  ASSERT_EQ(http("PUT", "/enc").status, 200);
  auto head = [&](const std::string& sent) {
    EXPECT_EQ(http("PUT", "/enc/k", {{"Content-Encoding", sent}}, "x").status, 200);
    return http("HEAD", "/enc/k").header("content-encoding");
  };
  EXPECT_EQ(head("deflate, gzip"), "deflate, gzip");
  EXPECT_EQ(head("deflate,gzip"), "deflate,gzip");
  EXPECT_EQ(head("gzip"), "gzip");
  // A plain body (no STREAMING-* hash, no decoded length) whose Content-Encoding names
  // aws-chunked is stored as sent, without that token.
  EXPECT_EQ(head("gzip, aws-chunked"), "gzip");
  EXPECT_EQ(http("GET", "/enc/k").body, "x");
  EXPECT_EQ(head("aws-chunked, deflate,gzip"), "deflate, gzip");
  EXPECT_EQ(head("aws-chunked"), "");
}

TEST_F(S3Fixes, ObjectAttributesOfAnSseCObjectNeedItsKey) {
  const Headers key{{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
                    {"x-amz-server-side-encryption-customer-key", "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs="},
                    {"x-amz-server-side-encryption-customer-key-MD5", "DWygnHRtgiJ77HCm+1rvHw=="}};
  ASSERT_EQ(http("PUT", "/ssec").status, 200);
  ASSERT_EQ(http("PUT", "/ssec/k", key, "secret").status, 200);
  expect_error(http("GET", "/ssec/k?attributes", {{"x-amz-object-attributes", "ObjectSize"}}), 400, "InvalidRequest",
               "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to "
               "retrieve the object.");
  Headers with = key;
  with.emplace_back("x-amz-object-attributes", "ObjectSize");
  auto r = http("GET", "/ssec/k?attributes", with);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ObjectSize"), "6");
}

TEST_F(S3Fixes, CompositeChecksumOnCompleteMustAgree) {
  namespace ck = wire::checksum;
  ASSERT_EQ(http("PUT", "/mpu").status, 200);
  const std::string part = "part-one";
  const std::string part_sum = wire::base64_encode(ck::digest(ck::Algorithm::sha256, part));
  const std::string composite = ck::digest_base64(ck::Algorithm::sha256, ck::digest(ck::Algorithm::sha256, part));
  auto upload = [&]() {
    auto r = http("POST", "/mpu/k?uploads", {{"x-amz-checksum-algorithm", "SHA256"}});
    const std::string id = xml_text(r.body, "UploadId");
    r = http("PUT", "/mpu/k?partNumber=1&uploadId=" + id, {{"x-amz-checksum-sha256", part_sum}}, part);
    EXPECT_EQ(r.status, 200) << r.body;
    return std::pair{id, r.header("etag")};
  };
  auto complete = [&](const std::pair<std::string, std::string>& u, const std::string& sent) {
    return http("POST", "/mpu/k?uploadId=" + u.first, {{"x-amz-checksum-sha256", sent}},
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + u.second +
                    "</ETag></Part></CompleteMultipartUpload>");
  };
  auto u = upload();
  expect_error(complete(u, "bad"), 400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.");
  auto r = complete(u, composite + "-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ChecksumSHA256"), composite + "-1");
  r = complete(upload(), composite);  // without the parts suffix
  EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace eddy::test
