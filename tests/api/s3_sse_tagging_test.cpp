// S3 server-side encryption and tagging over HTTP in-process: SSE-S3 and SSE-KMS recorded and
// echoed on PUT, GET, HEAD, copy and multipart; bucket default encryption; SSE-C enforced (the
// same key to read, copy or add parts); the errors of conflicting or malformed SSE headers;
// object tagging (PutObjectTagging, x-amz-tagging on PUT, copy and multipart, the tag count on
// reads, the limits) and bucket tagging.
#include <gtest/gtest.h>

#include "tests/api/s3_test_util.h"
#include "tests/support/server_fixture.h"

namespace eddy::test {
namespace {

using Headers = s3util::Headers;
using s3util::xml_all;
using s3util::xml_text;

const std::string kKey1 = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=";
const std::string kKey1Md5 = "DWygnHRtgiJ77HCm+1rvHw==";
const std::string kKey2 = "6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=";
const std::string kKey2Md5 = "arxBvwY2V4SiOne6yppVPQ==";

Headers sse_c(const std::string& key, const std::string& md5, const std::string& prefix = "x-amz-server-side-encryption-customer-") {
  return {{prefix + "algorithm", "AES256"}, {prefix + "key", key}, {prefix + "key-MD5", md5}};
}

class S3Sse : public S3Fixture {
 protected:
  // CreateMultipartUpload, one part, Complete; returns the three answers.
  std::vector<HttpResult> multipart(const std::string& target, const Headers& create, const Headers& part) {
    std::vector<HttpResult> out;
    out.push_back(s3("POST", target + "?uploads", create));
    const std::string id = xml_text(out.back().body, "UploadId");
    out.push_back(s3("PUT", target + "?partNumber=1&uploadId=" + id, part, "part-one"));
    const std::string etag = out.back().header("etag");
    out.push_back(s3("POST", target + "?uploadId=" + id, part,
                     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag +
                         "</ETag></Part></CompleteMultipartUpload>"));
    return out;
  }
};

void expect_error(const HttpResult& r, int status, const std::string& code, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(xml_text(r.body, "Code"), code) << r.body;
  EXPECT_EQ(xml_text(r.body, "Message"), message) << r.body;
}

TEST_F(S3Sse, SseS3AndKmsAreRecordedAndEchoed) {
  ASSERT_EQ(s3("PUT", "/enc").status, 200);
  // S3 encrypts every new object: SSE-S3 unless asked otherwise.
  auto r = s3("PUT", "/enc/plain", {}, "x");
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "AES256");
  r = s3("PUT", "/enc/s3", {{"x-amz-server-side-encryption", "AES256"}}, "x");
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(s3("GET", "/enc/s3").header("x-amz-server-side-encryption"), "AES256");
  const Headers kms{{"x-amz-server-side-encryption", "aws:kms"},
                    {"x-amz-server-side-encryption-aws-kms-key-id", "testkey-1"},
                    {"x-amz-server-side-encryption-bucket-key-enabled", "true"}};
  r = s3("PUT", "/enc/kms", kms, "x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-aws-kms-key-id"), "testkey-1");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-bucket-key-enabled"), "true");
  r = s3("HEAD", "/enc/kms");
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-aws-kms-key-id"), "testkey-1");
  // A copy is encrypted as the copy request says, not as its source.
  r = s3("PUT", "/enc/copy", {{"x-amz-copy-source", "/enc/kms"}, {"x-amz-server-side-encryption", "AES256"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(s3("HEAD", "/enc/copy").header("x-amz-server-side-encryption-aws-kms-key-id"), "");
  // Multipart: the upload's encryption on every answer and on the object.
  const Headers kms2{{"x-amz-server-side-encryption", "aws:kms"}, {"x-amz-server-side-encryption-aws-kms-key-id", "testkey-2"}};
  auto mp = multipart("/enc/mp", kms2, {});
  for (auto& a : mp) {
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.header("x-amz-server-side-encryption-aws-kms-key-id"), "testkey-2");
  }
  EXPECT_EQ(s3("HEAD", "/enc/mp").header("x-amz-server-side-encryption"), "aws:kms");
}

TEST_F(S3Sse, MalformedOrConflictingSseHeaders) {
  ASSERT_EQ(s3("PUT", "/bad").status, 200);
  auto r = s3("PUT", "/bad/k", {{"x-amz-server-side-encryption", "aes:kms"}}, "x");
  expect_error(r, 400, "InvalidArgument", "The encryption method specified is not supported");
  EXPECT_EQ(xml_text(r.body, "ArgumentName"), "x-amz-server-side-encryption");
  expect_error(s3("PUT", "/bad/k", {{"x-amz-server-side-encryption-aws-kms-key-id", "k"}}, "x"), 400, "InvalidArgument",
               "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms");
  expect_error(s3("PUT", "/bad/k",
                  {{"x-amz-server-side-encryption", "AES256"}, {"x-amz-server-side-encryption-aws-kms-key-id", "k"}}, "x"),
               400, "InvalidArgument",
               "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms");
  Headers both = sse_c(kKey1, kKey1Md5);
  both.emplace_back("x-amz-server-side-encryption", "AES256");
  expect_error(s3("PUT", "/bad/k", both, "x"), 400, "InvalidArgument",
               "Server Side Encryption with Customer provided key is incompatible with the encryption method specified");
  EXPECT_EQ(s3("GET", "/bad/k").status, 404);  // nothing was stored
  ASSERT_EQ(s3("PUT", "/bad/k", {}, "x").status, 200);
  expect_error(s3("GET", "/bad/k", {{"x-amz-server-side-encryption", "aws:kms"}}), 400, "InvalidArgument",
               "x-amz-server-side-encryption header is not supported for this operation.");
  EXPECT_EQ(s3("HEAD", "/bad/k", {{"x-amz-server-side-encryption", "AES256"}}).status, 400);  // HEAD: no body
}

TEST_F(S3Sse, SseCNeedsTheSameKeyToRead) {
  ASSERT_EQ(s3("PUT", "/ssec").status, 200);
  auto r = s3("PUT", "/ssec/k", sse_c(kKey1, kKey1Md5), "secret");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-amz-server-side-encryption-customer-algorithm"), "AES256");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-customer-key-md5"), kKey1Md5);
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "");
  expect_error(s3("GET", "/ssec/k"), 400, "InvalidRequest",
               "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to "
               "retrieve the object.");
  EXPECT_EQ(s3("HEAD", "/ssec/k").status, 400);
  expect_error(s3("GET", "/ssec/k", sse_c(kKey2, kKey2Md5)), 400, "InvalidRequest",
               "The provided encryption parameters did not match the ones used originally.");
  r = s3("GET", "/ssec/k", sse_c(kKey1, kKey1Md5));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "secret");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-customer-key-md5"), kKey1Md5);
  EXPECT_EQ(s3("HEAD", "/ssec/k", sse_c(kKey1, kKey1Md5)).status, 200);

  // The key's MD5 is checked, and each header must be there.
  expect_error(s3("PUT", "/ssec/k2", sse_c(kKey1, "AAAAAAAAAAAAAAAAAAAAAA=="), "x"), 400, "InvalidArgument",
               "The calculated MD5 hash of the key did not match the hash that was provided.");
  expect_error(s3("PUT", "/ssec/k2", {{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
                                   {"x-amz-server-side-encryption-customer-key", kKey1}}, "x"),
               400, "InvalidArgument",
               "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated "
               "MD5 of the secret key.");
  expect_error(s3("PUT", "/ssec/k2", {{"x-amz-server-side-encryption-customer-algorithm", "AES256"}}, "x"), 400,
               "InvalidArgument",
               "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret "
               "key.");
  expect_error(s3("PUT", "/ssec/k2", {{"x-amz-server-side-encryption-customer-key", kKey1},
                                   {"x-amz-server-side-encryption-customer-key-MD5", kKey1Md5}}, "x"),
               400, "InvalidArgument",
               "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption "
               "algorithm.");
  Headers des = sse_c(kKey1, kKey1Md5);
  des[0].second = "DES";
  expect_error(s3("PUT", "/ssec/k2", des, "x"), 400, "InvalidEncryptionAlgorithmError",
               "The encryption request you specified is not valid. Supported value: AES256.");
  // Keys for an object that has none.
  ASSERT_EQ(s3("PUT", "/ssec/plain", {}, "x").status, 200);
  expect_error(s3("GET", "/ssec/plain", sse_c(kKey1, kKey1Md5)), 400, "InvalidRequest",
               "The encryption parameters are not applicable to this object.");

  // Copying reads the source with its key (x-amz-copy-source-...), and may re-encrypt.
  EXPECT_EQ(s3("PUT", "/ssec/copy", {{"x-amz-copy-source", "/ssec/k"}}).status, 400);
  Headers copy = sse_c(kKey1, kKey1Md5, "x-amz-copy-source-server-side-encryption-customer-");
  for (auto& h : sse_c(kKey2, kKey2Md5)) copy.push_back(h);
  copy.emplace_back("x-amz-copy-source", "/ssec/k");
  r = s3("PUT", "/ssec/copy", copy);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-amz-server-side-encryption-customer-key-md5"), kKey2Md5);
  EXPECT_EQ(s3("GET", "/ssec/copy", sse_c(kKey2, kKey2Md5)).body, "secret");
  EXPECT_EQ(s3("GET", "/ssec/copy", sse_c(kKey1, kKey1Md5)).status, 400);

  // Multipart: every part carries the upload's key.
  r = s3("POST", "/ssec/mp?uploads", sse_c(kKey1, kKey1Md5));
  const std::string id = xml_text(r.body, "UploadId");
  expect_error(s3("PUT", "/ssec/mp?partNumber=1&uploadId=" + id, {}, "p"), 400, "InvalidRequest",
               "The multipart upload initiate requested encryption. Subsequent part requests must include the "
               "appropriate encryption parameters.");
  EXPECT_EQ(s3("PUT", "/ssec/mp?partNumber=1&uploadId=" + id, sse_c(kKey2, kKey2Md5), "p").status, 400);
  r = s3("PUT", "/ssec/mp?partNumber=1&uploadId=" + id, sse_c(kKey1, kKey1Md5), "p");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-amz-server-side-encryption-customer-algorithm"), "AES256");
  r = s3("POST", "/ssec/mp?uploadId=" + id, {},
         "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + r.header("etag") +
             "</ETag></Part></CompleteMultipartUpload>");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(s3("GET", "/ssec/mp").status, 400);
  EXPECT_EQ(s3("GET", "/ssec/mp", sse_c(kKey1, kKey1Md5)).body, "p");
}

TEST_F(S3Sse, BucketDefaultEncryption) {
  ASSERT_EQ(s3("PUT", "/dfl").status, 200);
  auto r = s3("GET", "/dfl?encryption");
  expect_error(r, 404, "ServerSideEncryptionConfigurationNotFoundError",
               "The server side encryption configuration was not found");
  EXPECT_EQ(s3("PUT", "/dfl?encryption", {}, "<ServerSideEncryptionConfiguration/>").status, 400);
  const std::string kms =
      "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>"
      "<KMSMasterKeyID>default-key</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true"
      "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>";
  EXPECT_EQ(s3("PUT", "/dfl?encryption", {}, kms).status, 200);
  r = s3("GET", "/dfl?encryption");
  EXPECT_EQ(xml_text(r.body, "Rule/ApplyServerSideEncryptionByDefault/SSEAlgorithm"), "aws:kms");
  EXPECT_EQ(xml_text(r.body, "Rule/ApplyServerSideEncryptionByDefault/KMSMasterKeyID"), "default-key");
  EXPECT_EQ(xml_text(r.body, "Rule/BucketKeyEnabled"), "true");
  r = s3("PUT", "/dfl/k", {}, "x");
  EXPECT_EQ(r.header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-aws-kms-key-id"), "default-key");
  EXPECT_EQ(r.header("x-amz-server-side-encryption-bucket-key-enabled"), "true");
  // A request that names its encryption overrides the default.
  EXPECT_EQ(s3("PUT", "/dfl/k2", {{"x-amz-server-side-encryption", "AES256"}}, "x").header("x-amz-server-side-encryption"),
            "AES256");
  EXPECT_EQ(s3("DELETE", "/dfl?encryption").status, 204);
  EXPECT_EQ(s3("GET", "/dfl?encryption").status, 404);
  EXPECT_EQ(s3("PUT", "/dfl/k3", {}, "x").header("x-amz-server-side-encryption"), "AES256");
}

std::string tagging_xml(const std::vector<std::pair<std::string, std::string>>& tags) {
  std::string x = "<Tagging><TagSet>";
  for (auto& [k, v] : tags) x += "<Tag><Key>" + k + "</Key><Value>" + v + "</Value></Tag>";
  return x + "</TagSet></Tagging>";
}

TEST_F(S3Sse, ObjectTagging) {
  ASSERT_EQ(s3("PUT", "/tags").status, 200);
  ASSERT_EQ(s3("PUT", "/tags/k", {{"x-amz-tagging", "a=1&b=two%20words"}}, "x").status, 200);
  auto r = s3("GET", "/tags/k?tagging");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_all(r.body, "TagSet", "Tag").size(), 1u);  // one TagSet element
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  auto tag = doc.document_element().child("TagSet").child("Tag");
  EXPECT_STREQ(tag.child("Key").text().get(), "a");
  EXPECT_STREQ(tag.next_sibling("Tag").child("Value").text().get(), "two words");
  EXPECT_EQ(s3("HEAD", "/tags/k").header("x-amz-tagging-count"), "2");
  // Tag sets come back ordered by key; a key without '=' has an empty value.
  ASSERT_EQ(s3("PUT", "/tags/order", {{"x-amz-tagging", "foo=bar&bar"}}, "x").status, 200);
  r = s3("GET", "/tags/order?tagging");
  EXPECT_EQ(xml_text(r.body, "TagSet/Tag/Key"), "bar");
  EXPECT_EQ(xml_text(r.body, "TagSet/Tag/Value"), "");

  EXPECT_EQ(s3("PUT", "/tags/k?tagging", {}, tagging_xml({{"x", "y"}})).status, 200);
  EXPECT_EQ(xml_text(s3("GET", "/tags/k?tagging").body, "TagSet/Tag/Key"), "x");
  EXPECT_EQ(s3("GET", "/tags/k").header("x-amz-tagging-count"), "1");

  std::vector<std::pair<std::string, std::string>> eleven;
  for (int i = 0; i < 11; ++i) eleven.emplace_back(std::to_string(i), "v");
  expect_error(s3("PUT", "/tags/k?tagging", {}, tagging_xml(eleven)), 400, "InvalidTag",
               "Object tags cannot be greater than 10");
  expect_error(s3("PUT", "/tags/k?tagging", {}, tagging_xml({{std::string(129, 'k'), "v"}})), 400, "InvalidTag",
               "The TagKey you have provided is invalid");
  expect_error(s3("PUT", "/tags/k?tagging", {}, tagging_xml({{"k", std::string(257, 'v')}})), 400, "InvalidTag",
               "The TagValue you have provided is invalid");
  expect_error(s3("PUT", "/tags/k?tagging", {}, tagging_xml({{"k", "1"}, {"k", "2"}})), 400, "InvalidTag",
               "Cannot provide multiple Tags with the same key");
  expect_error(s3("PUT", "/tags/k?tagging", {}, tagging_xml({{"aws:k", "1"}})), 400, "InvalidTag",
               "Your TagKey cannot be prefixed with aws:");
  EXPECT_EQ(s3("PUT", "/tags/k?tagging", {}, "<Tagging>").status, 400);
  expect_error(s3("PUT", "/tags/k2", {{"x-amz-tagging", "a=1&a=2"}}, "x"), 400, "InvalidArgument",
               "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag "
               "name duplicates.");
  EXPECT_EQ(xml_text(s3("GET", "/tags/k?tagging").body, "TagSet/Tag/Key"), "x");  // unchanged
  expect_error(s3("GET", "/tags/missing?tagging"), 404, "NoSuchKey", "The specified key does not exist.");

  // Copies keep the source's tags unless told to replace them.
  ASSERT_EQ(s3("PUT", "/tags/copy", {{"x-amz-copy-source", "/tags/k"}}).status, 200);
  EXPECT_EQ(xml_text(s3("GET", "/tags/copy?tagging").body, "TagSet/Tag/Key"), "x");
  ASSERT_EQ(s3("PUT", "/tags/copy2",
               {{"x-amz-copy-source", "/tags/k"}, {"x-amz-tagging-directive", "REPLACE"}, {"x-amz-tagging", "n=1"}})
                .status,
            200);
  EXPECT_EQ(xml_text(s3("GET", "/tags/copy2?tagging").body, "TagSet/Tag/Key"), "n");
  // Multipart uploads carry x-amz-tagging to the object.
  auto mp = multipart("/tags/mp", {{"x-amz-tagging", "m=1&n=2"}}, {});
  EXPECT_EQ(mp.back().status, 200) << mp.back().body;
  EXPECT_EQ(s3("HEAD", "/tags/mp").header("x-amz-tagging-count"), "2");

  EXPECT_EQ(s3("DELETE", "/tags/k?tagging").status, 204);
  r = s3("GET", "/tags/k?tagging");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, "TagSet/Tag"), "<missing>");
  EXPECT_EQ(s3("HEAD", "/tags/k").header("x-amz-tagging-count"), "");
}

TEST_F(S3Sse, BucketTagging) {
  ASSERT_EQ(s3("PUT", "/btag").status, 200);
  expect_error(s3("GET", "/btag?tagging"), 404, "NoSuchTagSet", "The TagSet does not exist");
  EXPECT_EQ(s3("PUT", "/btag?tagging", {}, tagging_xml({{"Hello", "World"}})).status, 204);
  auto r = s3("GET", "/btag?tagging");
  EXPECT_EQ(xml_text(r.body, "TagSet/Tag/Key"), "Hello");
  EXPECT_EQ(xml_text(r.body, "TagSet/Tag/Value"), "World");
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 51; ++i) many.emplace_back("k" + std::to_string(i), "v");
  expect_error(s3("PUT", "/btag?tagging", {}, tagging_xml(many)), 400, "InvalidTag",
               "Bucket tag count cannot be greater than 50");
  many.pop_back();
  EXPECT_EQ(s3("PUT", "/btag?tagging", {}, tagging_xml(many)).status, 204);
  EXPECT_EQ(s3("DELETE", "/btag?tagging").status, 204);
  EXPECT_EQ(s3("GET", "/btag?tagging").status, 404);
  expect_error(s3("GET", "/nosuch?tagging"), 404, "NoSuchBucket", "The specified bucket does not exist");
}

}  // namespace
}  // namespace eddy::test
