// The S3 REST API end to end over HTTP against an in-process server (auth off).
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <filesystem>
#include <fstream>
#include <cstring>
#include <random>
#include <thread>

#include "server/app.h"
#include "server/s3/s3_service.h"
#include "tests/api/s3_test_util.h"
#include "tests/support/fixture_config.h"
#include "tests/support/server_fixture.h"
#include "tests/support/signing.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::test {
namespace {

namespace ck = wire::checksum;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string md5_hex(const std::string& s) { return ck::digest_hex(ck::Algorithm::md5, s); }
std::string md5_b64(const std::string& s) { return ck::digest_base64(ck::Algorithm::md5, s); }

using s3util::xml_all;
using s3util::s3_error;
using s3util::xml_text;

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

class S3Api : public S3Fixture {
 protected:
  void put(const std::string& target, const std::string& body, const Headers& h = {}) {
    auto r = s3("PUT", target, h, body);
    ASSERT_EQ(r.status, 200) << r.body;
  }
};

TEST_F(S3Api, BucketLifecycle) {
  auto r = s3("PUT", "/alpha");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("location"), "/alpha");
  EXPECT_FALSE(r.header("x-amz-request-id").empty());
  EXPECT_FALSE(r.header("x-amz-id-2").empty());
  EXPECT_EQ(r.header("server"), "AmazonS3");
  // us-east-1: creating your own bucket again succeeds.
  EXPECT_EQ(s3("PUT", "/alpha").status, 200);
  r = s3("PUT", "/beta", {}, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                             "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>");
  EXPECT_EQ(r.status, 200);
  r = s3("PUT", "/beta", {}, "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>");
  EXPECT_TRUE(s3_error(r, 409, "BucketAlreadyOwnedByYou"));
  r = s3("GET", "/beta?location");
  EXPECT_EQ(xml_text(r.body, ""), "eu-west-1");
  r = s3("GET", "/alpha?location");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, ""), "");

  for (const std::string& bad : std::vector<std::string>{"ab", "UPPER", "a..b", "-abc", "192.168.1.1", "under_score", std::string(64, 'a')}) {
    r = s3("PUT", "/" + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(xml_text(r.body, "Code"), "InvalidBucketName") << bad;
  }
  r = s3("PUT", "/bad", {}, "<not-xml");
  EXPECT_EQ(xml_text(r.body, "Code"), "MalformedXML");

  r = s3("GET", "/");
  EXPECT_EQ(r.status, 200);
  pugi::xml_document doc;
  doc.load_string(r.body.c_str());
  std::vector<std::string> listed;
  for (auto b : doc.document_element().child("Buckets").children("Bucket")) listed.emplace_back(b.child("Name").text().get());
  EXPECT_EQ(listed, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_FALSE(xml_text(r.body, "Owner/ID").empty());

  EXPECT_EQ(s3("HEAD", "/alpha").status, 200);
  r = s3("HEAD", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());

  put("/alpha/k", "v");
  r = s3("DELETE", "/alpha");
  EXPECT_TRUE(s3_error(r, 409, "BucketNotEmpty"));
  EXPECT_EQ(s3("DELETE", "/alpha/k").status, 204);
  EXPECT_EQ(s3("DELETE", "/alpha").status, 204);
  r = s3("DELETE", "/alpha");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchBucket"));
  EXPECT_EQ(xml_text(r.body, "BucketName"), "alpha");
}

TEST_F(S3Api, PutGetHeadWithMetadata) {
  make_bucket("bkt");
  const std::string body = "hello, object";
  auto r = s3("PUT", "/bkt/dir/a%20b.txt",
              {{"Content-Type", "text/plain"}, {"x-amz-meta-Color", "blue"}, {"Cache-Control", "max-age=60"},
               {"Content-Disposition", "attachment"}, {"Content-Language", "en"}, {"Expires", "Thu, 01 Dec 2030 16:00:00 GMT"},
               {"Content-Encoding", "identity"}},
              body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("etag"), "\"" + md5_hex(body) + "\"");
  r = s3("GET", "/bkt/dir/a%20b.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("x-amz-meta-color"), "blue");
  EXPECT_EQ(r.header("cache-control"), "max-age=60");
  EXPECT_EQ(r.header("content-disposition"), "attachment");
  EXPECT_EQ(r.header("content-language"), "en");
  EXPECT_EQ(r.header("expires"), "Thu, 01 Dec 2030 16:00:00 GMT");
  EXPECT_EQ(r.header("content-encoding"), "identity");
  EXPECT_EQ(r.header("accept-ranges"), "bytes");
  EXPECT_FALSE(r.header("last-modified").empty());
  EXPECT_EQ(r.header("server"), "AmazonS3");

  r = s3("HEAD", "/bkt/dir/a%20b.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), std::to_string(body.size()));
  EXPECT_TRUE(r.body.empty());

  r = s3("GET", "/bkt/dir/missing");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchKey"));
  EXPECT_EQ(xml_text(r.body, "Key"), "dir/missing");
  EXPECT_EQ(xml_text(r.body, "RequestId"), r.header("x-amz-request-id"));
  r = s3("HEAD", "/bkt/dir/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());
  r = s3("GET", "/nobucket/x");
  EXPECT_EQ(xml_text(r.body, "Code"), "NoSuchBucket");

  // Conditional writes.
  r = s3("PUT", "/bkt/dir/a%20b.txt", {{"If-Match", "\"nope\""}}, "x");
  EXPECT_TRUE(s3_error(r, 412, "PreconditionFailed"));
  EXPECT_EQ(s3("PUT", "/bkt/dir/a%20b.txt", {{"If-None-Match", "*"}}, "x").status, 412);
  EXPECT_EQ(xml_text(s3("PUT", "/bkt/nothing", {{"If-Match", "*"}}, "x").body, "Code"), "NoSuchKey");
  EXPECT_EQ(s3("PUT", "/bkt/fresh", {{"If-None-Match", "*"}}, "x").status, 200);
  EXPECT_EQ(s3("GET", "/bkt/dir/a%20b.txt").body, body);
  r = s3("GET", "/bkt/fresh?partNumber=2");
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidPart");
  // Overwrite, then the old data is gone.
  put("/bkt/dir/a%20b.txt", "second");
  EXPECT_EQ(s3("GET", "/bkt/dir/a%20b.txt").body, "second");
  // Default content type, empty object.
  put("/bkt/empty", "");
  r = s3("GET", "/bkt/empty");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("content-type"), "binary/octet-stream");
  EXPECT_EQ(r.header("etag"), "\"d41d8cd98f00b204e9800998ecf8427e\"");
}

TEST_F(S3Api, RangesAndConditions) {
  make_bucket("bkt");
  const std::string body = "0123456789abcdefghij";
  put("/bkt/r", body);
  auto r = s3("GET", "/bkt/r", {{"Range", "bytes=0-0"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "0");
  EXPECT_EQ(r.header("content-range"), "bytes 0-0/20");
  r = s3("GET", "/bkt/r", {{"Range", "bytes=-5"}});
  EXPECT_EQ(r.body, "fghij");
  EXPECT_EQ(r.header("content-range"), "bytes 15-19/20");
  r = s3("GET", "/bkt/r", {{"Range", "bytes=15-"}});
  EXPECT_EQ(r.body, "fghij");
  r = s3("GET", "/bkt/r", {{"Range", "bytes=10-100"}});
  EXPECT_EQ(r.body, "abcdefghij");
  EXPECT_EQ(r.header("content-range"), "bytes 10-19/20");
  r = s3("GET", "/bkt/r", {{"Range", "bytes=20-"}});
  EXPECT_TRUE(s3_error(r, 416, "InvalidRange"));
  EXPECT_EQ(xml_text(r.body, "ActualObjectSize"), "20");
  r = s3("GET", "/bkt/r", {{"Range", "bytes=5-2"}});  // invalid syntax: ignored
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);

  const std::string etag = "\"" + md5_hex(body) + "\"";
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-Match", etag}}).status, 200);
  r = s3("GET", "/bkt/r", {{"If-Match", "\"nope\""}});
  EXPECT_TRUE(s3_error(r, 412, "PreconditionFailed"));
  EXPECT_EQ(xml_text(r.body, "Condition"), "If-Match");
  r = s3("GET", "/bkt/r", {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-Modified-Since", "Sat, 01 Jan 2050 00:00:00 GMT"}}).status, 304);
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 200);
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 412);
  // If-Match true wins over If-Unmodified-Since false; If-None-Match false wins over If-Modified-Since.
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-Match", etag}, {"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 200);
  EXPECT_EQ(s3("GET", "/bkt/r", {{"If-None-Match", etag}, {"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 304);
  EXPECT_EQ(s3("HEAD", "/bkt/r", {{"If-Match", "\"x\""}}).status, 412);
  // Ranged read guarded by If-Match (what aws s3 cp does on download).
  r = s3("GET", "/bkt/r", {{"Range", "bytes=2-3"}, {"If-Match", etag}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "23");

  r = s3("GET", "/bkt/r?response-content-type=application/json&response-content-disposition=inline&response-cache-control=no-cache");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("content-disposition"), "inline");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
}

TEST_F(S3Api, IntegrityChecks) {
  make_bucket("bkt");
  const std::string body = "checked body";
  auto r = s3("PUT", "/bkt/k", {{"Content-MD5", md5_b64("other")}}, body);
  EXPECT_TRUE(s3_error(r, 400, "BadDigest"));
  r = s3("PUT", "/bkt/k", {{"Content-MD5", "notbase64!"}}, body);
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidDigest");
  EXPECT_EQ(s3("GET", "/bkt/k").status, 404);  // nothing became visible
  put("/bkt/k", body, {{"Content-MD5", md5_b64(body)}});

  const std::string crc = ck::digest_base64(ck::Algorithm::crc32, body);
  r = s3("PUT", "/bkt/c", {{"x-amz-checksum-crc32", ck::digest_base64(ck::Algorithm::crc32, "x")}}, body);
  EXPECT_TRUE(s3_error(r, 400, "BadDigest", "The CRC32 you specified did not match the calculated checksum."));
  r = s3("PUT", "/bkt/c", {{"x-amz-checksum-crc32", crc}}, body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-amz-checksum-crc32"), crc);
  r = s3("GET", "/bkt/c", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(r.header("x-amz-checksum-crc32"), crc);
  EXPECT_EQ(r.header("x-amz-checksum-type"), "FULL_OBJECT");
  r = s3("HEAD", "/bkt/c", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(r.header("x-amz-checksum-crc32"), crc);
  r = s3("GET", "/bkt/c", {{"x-amz-checksum-mode", "ENABLED"}, {"Range", "bytes=0-1"}});
  EXPECT_TRUE(r.header("x-amz-checksum-crc32").empty());
  EXPECT_TRUE(s3("GET", "/bkt/c").header("x-amz-checksum-crc32").empty());

  for (auto a : {ck::Algorithm::crc32c, ck::Algorithm::crc64nvme, ck::Algorithm::sha1, ck::Algorithm::sha256}) {
    std::string h(ck::header_name(a));
    r = s3("PUT", "/bkt/a", {{h, ck::digest_base64(a, body)}}, body);
    EXPECT_EQ(r.status, 200) << h;
    r = s3("PUT", "/bkt/a", {{h, ck::digest_base64(a, "nope")}}, body);
    EXPECT_EQ(xml_text(r.body, "Code"), "BadDigest") << h;
  }
  // Objects stored without a requested checksum get CRC64NVME.
  r = s3("HEAD", "/bkt/k", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(r.header("x-amz-checksum-crc64nvme"), ck::digest_base64(ck::Algorithm::crc64nvme, body));

  r = s3("PUT", "/bkt/k", {{"x-amz-content-sha256", std::string(64, 'a')}}, body);
  EXPECT_EQ(xml_text(r.body, "Code"), "XAmzContentSHA256Mismatch");
  put("/bkt/k", body, {{"x-amz-content-sha256", ck::digest_hex(ck::Algorithm::sha256, body)}});
}

TEST_F(S3Api, AwsChunkedUploadsWithTrailers) {
  make_bucket("bkt");
  const std::string data = random_bytes(300000, 7);
  const std::string crc = ck::digest_base64(ck::Algorithm::crc32, data);
  auto frame = [](const std::string& d) {
    std::string out;
    for (size_t i = 0; i < d.size(); i += 65536) {
      std::string piece = d.substr(i, 65536);
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx", piece.size());
      out += std::string(hex) + "\r\n" + piece + "\r\n";
    }
    return out + "0\r\n";
  };
  Headers h = {{"Content-Encoding", "aws-chunked"},
               {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
               {"x-amz-decoded-content-length", std::to_string(data.size())},
               {"x-amz-trailer", "x-amz-checksum-crc32"},
               {"x-amz-sdk-checksum-algorithm", "CRC32"}};
  auto r = s3("PUT", "/bkt/chunked", h, frame(data) + "x-amz-checksum-crc32:" + crc + "\r\n\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("etag"), "\"" + md5_hex(data) + "\"");
  r = s3("GET", "/bkt/chunked", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(r.body, data);
  EXPECT_EQ(r.header("x-amz-checksum-crc32"), crc);
  EXPECT_TRUE(r.header("content-encoding").empty());  // aws-chunked is framing, not stored

  r = s3("PUT", "/bkt/chunked2", h, frame(data) + "x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
  EXPECT_TRUE(s3_error(r, 400, "BadDigest"));
  EXPECT_EQ(s3("GET", "/bkt/chunked2").status, 404);

  // Fewer bytes than x-amz-decoded-content-length.
  h[2].second = std::to_string(data.size() + 1);
  r = s3("PUT", "/bkt/chunked3", h, frame(data) + "x-amz-checksum-crc32:" + crc + "\r\n\r\n");
  EXPECT_EQ(xml_text(r.body, "Code"), "IncompleteBody");
  r = s3("PUT", "/bkt/chunked3", h, "zz\r\nabc");
  EXPECT_TRUE(s3_error(r, 400, "IncompleteBody"));
}

TEST_F(S3Api, DeleteObjectsAndIdempotentDelete) {
  make_bucket("bkt");
  for (auto k : {"a", "b", "c"}) put(std::string("/bkt/") + k, k);
  EXPECT_EQ(s3("DELETE", "/bkt/a").status, 204);
  EXPECT_EQ(s3("DELETE", "/bkt/a").status, 204);
  const std::string body = "<Delete><Object><Key>b</Key></Object><Object><Key>zz</Key></Object></Delete>";
  auto r = s3("POST", "/bkt?delete", {}, body);
  EXPECT_TRUE(s3_error(r, 400, "InvalidRequest"));
  r = s3("POST", "/bkt?delete", {{"Content-MD5", md5_b64(body)}}, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_all(r.body, "Deleted", "Key"), (std::vector<std::string>{"b", "zz"}));
  const std::string quiet = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet><Object><Key>c</Key></Object></Delete>";
  r = s3("POST", "/bkt?delete", {{"x-amz-checksum-crc32", ck::digest_base64(ck::Algorithm::crc32, quiet)}}, quiet);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(xml_all(r.body, "Deleted", "Key").empty());
  EXPECT_EQ(s3("GET", "/bkt/c").status, 404);
  r = s3("POST", "/bkt?delete", {{"Content-MD5", md5_b64("other")}}, "<Delete/>");
  EXPECT_EQ(xml_text(r.body, "Code"), "BadDigest");
  // Whitespace is part of a key.
  put("/bkt/%20", "space");
  const std::string space = "<Delete><Object><Key> </Key></Object></Delete>";
  r = s3("POST", "/bkt?delete", {{"Content-MD5", md5_b64(space)}}, space);
  EXPECT_EQ(xml_all(r.body, "Deleted", "Key"), (std::vector<std::string>{" "}));
  EXPECT_EQ(s3("GET", "/bkt/%20").status, 404);
}

TEST_F(S3Api, CopyObject) {
  make_bucket("src");
  make_bucket("dst");
  put("/src/my%20key", "copy me", {{"Content-Type", "text/x-a"}, {"x-amz-meta-a", "1"}});
  auto r = s3("PUT", "/dst/c1", {{"x-amz-copy-source", "/src/my%20key"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ETag"), "\"" + md5_hex("copy me") + "\"");
  r = s3("GET", "/dst/c1");
  EXPECT_EQ(r.body, "copy me");
  EXPECT_EQ(r.header("content-type"), "text/x-a");
  EXPECT_EQ(r.header("x-amz-meta-a"), "1");

  r = s3("PUT", "/dst/c2", {{"x-amz-copy-source", "src/my%20key"}, {"x-amz-metadata-directive", "REPLACE"},
                            {"Content-Type", "text/x-b"}, {"x-amz-meta-b", "2"}});
  ASSERT_EQ(r.status, 200);
  r = s3("GET", "/dst/c2");
  EXPECT_EQ(r.header("content-type"), "text/x-b");
  EXPECT_EQ(r.header("x-amz-meta-b"), "2");
  EXPECT_TRUE(r.header("x-amz-meta-a").empty());

  r = s3("PUT", "/dst/c3", {{"x-amz-copy-source", "/src/my%20key"}, {"x-amz-copy-source-if-match", "\"bad\""}});
  EXPECT_TRUE(s3_error(r, 412, "PreconditionFailed"));
  r = s3("PUT", "/dst/c3", {{"x-amz-copy-source", "/src/my%20key"}, {"x-amz-copy-source-if-none-match", "\"" + md5_hex("copy me") + "\""}});
  EXPECT_EQ(r.status, 412);
  r = s3("PUT", "/dst/c3", {{"x-amz-copy-source", "/src/missing"}});
  EXPECT_EQ(xml_text(r.body, "Code"), "NoSuchKey");
  r = s3("PUT", "/src/my%20key", {{"x-amz-copy-source", "/src/my%20key"}});
  EXPECT_TRUE(s3_error(r, 400, "InvalidRequest"));
  r = s3("PUT", "/src/my%20key", {{"x-amz-copy-source", "/src/my%20key"}, {"x-amz-metadata-directive", "REPLACE"}});
  EXPECT_EQ(r.status, 200);
}

TEST_F(S3Api, CannedAcls) {
  make_bucket("bkt");
  put("/bkt/pub", "x", {{"x-amz-acl", "public-read"}});
  auto r = s3("GET", "/bkt/pub?acl");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("http://acs.amazonaws.com/groups/global/AllUsers"), std::string::npos);
  EXPECT_NE(r.body.find("<Permission>READ</Permission>"), std::string::npos);
  r = s3("PUT", "/bkt/pub?acl", {{"x-amz-acl", "private"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(s3("GET", "/bkt/pub?acl").body.find("AllUsers"), std::string::npos);
  r = s3("PUT", "/bkt/pub?acl", {{"x-amz-acl", "bogus"}});
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidArgument");
  put("/bkt/o", "x", {{"x-amz-acl", "bucket-owner-full-control"}});
  // With --auth off everything has eddy's single owner.
  const std::string owner = xml_text(s3("GET", "/bkt?acl").body, "Owner/ID");
  ASSERT_EQ(owner.size(), 64u);

  const std::string policy =
      "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>" + owner + "</ID></Owner><AccessControlList>"
      "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>" + owner + "</ID></Grantee>"
      "<Permission>FULL_CONTROL</Permission></Grant>"
      "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">"
      "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"
      "</AccessControlList></AccessControlPolicy>";
  r = s3("PUT", "/bkt?acl", {}, policy);
  EXPECT_EQ(r.status, 200) << r.body;
  r = s3("GET", "/bkt?acl");
  EXPECT_NE(r.body.find("AllUsers"), std::string::npos);
  EXPECT_EQ(r.body.find("WRITE"), std::string::npos);
  EXPECT_EQ(xml_text(r.body, "Owner/DisplayName"), "eddy");
  // A grantee ID that cannot be a canonical user is refused as S3 refuses it.
  std::string bad = policy;
  bad.replace(bad.find(owner, bad.find("<Grant>")), owner.size(), "_foo");
  r = s3("PUT", "/bkt?acl", {}, bad);
  EXPECT_TRUE(s3_error(r, 400, "InvalidArgument"));
  EXPECT_EQ(xml_text(r.body, "ArgumentValue"), "_foo");
}

TEST_F(S3Api, ListObjectsV2AndV1) {
  make_bucket("lst");
  for (auto k : {"a/1", "a/2", "a/b/3", "b", "c d", "c+e", "d/x"}) put(std::string("/lst/") + wire::sigv4::uri_encode(k, false), "x");
  auto r = s3("GET", "/lst?list-type=2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"a/1", "a/2", "a/b/3", "b", "c d", "c+e", "d/x"}));
  EXPECT_EQ(xml_text(r.body, "KeyCount"), "7");
  EXPECT_EQ(xml_text(r.body, "IsTruncated"), "false");
  EXPECT_EQ(xml_text(r.body, "Contents/StorageClass"), "STANDARD");
  EXPECT_EQ(xml_text(r.body, "Contents/Size"), "1");
  EXPECT_EQ(xml_text(r.body, "Contents/Owner/ID"), "<missing>");
  EXPECT_NE(xml_text(r.body, "Contents/LastModified").find('Z'), std::string::npos);

  r = s3("GET", "/lst?list-type=2&delimiter=/");
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"b", "c d", "c+e"}));
  EXPECT_EQ(xml_all(r.body, "CommonPrefixes", "Prefix"), (std::vector<std::string>{"a/", "d/"}));
  r = s3("GET", "/lst?list-type=2&delimiter=/&prefix=a/");
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(xml_all(r.body, "CommonPrefixes", "Prefix"), (std::vector<std::string>{"a/b/"}));
  EXPECT_EQ(xml_text(r.body, "Prefix"), "a/");

  // Paging by continuation token visits every entry exactly once.
  std::vector<std::string> seen;
  std::string token;
  for (int guard = 0; guard < 20; ++guard) {
    std::string target = "/lst?list-type=2&delimiter=/&max-keys=2&fetch-owner=true";
    if (!token.empty()) target += "&continuation-token=" + wire::sigv4::uri_encode(token, true);
    r = s3("GET", target);
    ASSERT_EQ(r.status, 200) << r.body;
    for (auto& k : xml_all(r.body, "Contents", "Key")) seen.push_back(k);
    for (auto& p : xml_all(r.body, "CommonPrefixes", "Prefix")) seen.push_back(p);
    if (!xml_all(r.body, "Contents", "Key").empty()) {
      EXPECT_FALSE(xml_text(r.body, "Contents/Owner/ID").empty());
    }
    if (xml_text(r.body, "IsTruncated") != "true") break;
    token = xml_text(r.body, "NextContinuationToken");
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/", "b", "c d", "c+e", "d/"}));

  r = s3("GET", "/lst?list-type=2&start-after=b");
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"c d", "c+e", "d/x"}));
  EXPECT_EQ(xml_text(r.body, "StartAfter"), "b");
  r = s3("GET", "/lst?list-type=2&encoding-type=url&prefix=c");
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"c%20d", "c%2Be"}));
  EXPECT_EQ(xml_text(r.body, "EncodingType"), "url");
  r = s3("GET", "/lst?list-type=2&max-keys=-1");
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidArgument");
  r = s3("GET", "/lst?list-type=2&encoding-type=xml");
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidArgument");
  r = s3("GET", "/lst?list-type=2&max-keys=0");
  EXPECT_TRUE(xml_all(r.body, "Contents", "Key").empty());

  // v1: NextMarker with a delimiter; markers are exclusive.
  r = s3("GET", "/lst?delimiter=/&max-keys=2");
  EXPECT_EQ(xml_text(r.body, "IsTruncated"), "true");
  EXPECT_EQ(xml_text(r.body, "NextMarker"), "b");
  EXPECT_FALSE(xml_text(r.body, "Contents/Owner/ID").empty());
  r = s3("GET", "/lst?delimiter=/&marker=b");
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"c d", "c+e"}));
  EXPECT_EQ(xml_all(r.body, "CommonPrefixes", "Prefix"), (std::vector<std::string>{"d/"}));
  EXPECT_EQ(xml_text(r.body, "Marker"), "b");
  r = s3("GET", "/lst?delimiter=/&marker=a/");
  EXPECT_EQ(xml_all(r.body, "CommonPrefixes", "Prefix"), (std::vector<std::string>{"d/"}));
  r = s3("GET", "/lst?max-keys=3");
  EXPECT_EQ(xml_text(r.body, "IsTruncated"), "true");
  EXPECT_EQ(xml_text(r.body, "NextMarker"), "<missing>");
  r = s3("GET", "/nolist?list-type=2");
  EXPECT_EQ(xml_text(r.body, "Code"), "NoSuchBucket");
}

TEST_F(S3Api, ListObjectVersionsPages) {
  make_bucket("ver");
  for (int i = 0; i < 5; ++i) put("/ver/k" + std::to_string(i), "x");
  std::vector<std::string> seen;
  std::string marker;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = s3("GET", "/ver?versions&max-keys=2" + (marker.empty() ? "" : "&key-marker=" + marker));
    ASSERT_EQ(r.status, 200);
    for (auto& k : xml_all(r.body, "Version", "Key")) seen.push_back(k);
    EXPECT_EQ(xml_text(r.body, "Version/VersionId"), "null");
    EXPECT_EQ(xml_text(r.body, "Version/IsLatest"), "true");
    if (xml_text(r.body, "IsTruncated") != "true") break;
    EXPECT_EQ(xml_text(r.body, "NextVersionIdMarker"), "null");
    marker = xml_text(r.body, "NextKeyMarker");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"k0", "k1", "k2", "k3", "k4"}));
}

TEST_F(S3Api, MultipartUpload) {
  make_bucket("mpu");
  auto r = s3("POST", "/mpu/big?uploads", {{"x-amz-checksum-algorithm", "CRC32"}, {"Content-Type", "application/x-big"},
                                         {"x-amz-meta-m", "yes"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = xml_text(r.body, "UploadId");
  EXPECT_EQ(xml_text(r.body, "Key"), "big");
  EXPECT_EQ(r.header("x-amz-checksum-algorithm"), "CRC32");

  const std::string p1 = random_bytes(5 * 1024 * 1024 + 17, 1), p2 = random_bytes(1000, 2), p3 = random_bytes(10, 3);
  auto crc = [](const std::string& s) { return ck::digest_base64(ck::Algorithm::crc32, s); };
  // Out of order; part 3 is uploaded and then left out of the completion.
  r = s3("PUT", "/mpu/big?partNumber=2&uploadId=" + id, {{"x-amz-checksum-crc32", crc(p2)}}, p2);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string e2 = r.header("etag");
  EXPECT_EQ(r.header("x-amz-checksum-crc32"), crc(p2));
  r = s3("PUT", "/mpu/big?partNumber=1&uploadId=" + id, {}, p1);
  ASSERT_EQ(r.status, 200);
  const std::string e1 = r.header("etag");
  EXPECT_EQ(e1, "\"" + md5_hex(p1) + "\"");
  ASSERT_EQ(s3("PUT", "/mpu/big?partNumber=3&uploadId=" + id, {}, p3).status, 200);
  r = s3("PUT", "/mpu/big?partNumber=4&uploadId=" + id, {{"x-amz-checksum-crc32", crc("zz")}}, p3);
  EXPECT_EQ(xml_text(r.body, "Code"), "BadDigest");
  r = s3("PUT", "/mpu/big?partNumber=0&uploadId=" + id, {}, p3);
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidArgument");
  r = s3("PUT", "/mpu/big?partNumber=1&uploadId=nope", {}, p3);
  EXPECT_EQ(xml_text(r.body, "Code"), "NoSuchUpload");

  r = s3("GET", "/mpu/big?uploadId=" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(xml_all(r.body, "Part", "PartNumber"), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(xml_all(r.body, "Part", "ChecksumCRC32")[1], crc(p2));
  r = s3("GET", "/mpu/big?uploadId=" + id + "&max-parts=1&part-number-marker=1");
  EXPECT_EQ(xml_all(r.body, "Part", "PartNumber"), (std::vector<std::string>{"2"}));
  EXPECT_EQ(xml_text(r.body, "IsTruncated"), "true");
  EXPECT_EQ(xml_text(r.body, "NextPartNumberMarker"), "2");
  r = s3("GET", "/mpu?uploads");
  EXPECT_EQ(xml_all(r.body, "Upload", "UploadId"), (std::vector<std::string>{id}));

  auto complete = [&](std::vector<std::tuple<int, std::string, std::string>> parts) {
    std::string x = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (auto& [n, e, c] : parts) {
      x += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + e + "</ETag>";
      if (!c.empty()) x += "<ChecksumCRC32>" + c + "</ChecksumCRC32>";
      x += "</Part>";
    }
    return s3("POST", "/mpu/big?uploadId=" + id, {}, x + "</CompleteMultipartUpload>");
  };
  r = complete({{2, e2, ""}, {1, e1, ""}});
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidPartOrder");
  r = complete({{1, e1, ""}, {2, "\"0000\"", ""}});
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidPart");
  r = complete({{2, e2, ""}, {3, "\"" + md5_hex(p3) + "\"", ""}});
  EXPECT_EQ(xml_text(r.body, "Code"), "EntityTooSmall");
  r = complete({{1, e1, crc(p2)}, {2, e2, crc(p2)}});
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidPart");
  r = s3("POST", "/mpu/big?uploadId=" + id, {}, "<CompleteMultipartUpload></CompleteMultipartUpload>");
  EXPECT_EQ(xml_text(r.body, "Code"), "MalformedXML");

  r = complete({{1, e1, crc(p1)}, {2, e2, crc(p2)}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto again = complete({{1, e1, crc(p1)}, {2, e2, crc(p2)}});  // repeated: same answer
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(xml_text(again.body, "ETag"), xml_text(r.body, "ETag"));
  std::string md5s = ck::digest(ck::Algorithm::md5, p1) + ck::digest(ck::Algorithm::md5, p2);
  const std::string etag = "\"" + md5_hex(md5s) + "-2\"";
  EXPECT_EQ(xml_text(r.body, "ETag"), etag);
  const std::string composite = ck::digest_base64(ck::Algorithm::crc32,
      ck::digest(ck::Algorithm::crc32, p1) + ck::digest(ck::Algorithm::crc32, p2)) + "-2";
  EXPECT_EQ(xml_text(r.body, "ChecksumCRC32"), composite);
  EXPECT_EQ(xml_text(r.body, "ChecksumType"), "COMPOSITE");

  r = s3("GET", "/mpu/big", {{"x-amz-checksum-mode", "ENABLED"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == p1 + p2);
  EXPECT_EQ(r.header("etag"), etag);
  EXPECT_EQ(r.header("content-type"), "application/x-big");
  EXPECT_EQ(r.header("x-amz-meta-m"), "yes");
  EXPECT_EQ(r.header("x-amz-checksum-crc32"), composite);
  EXPECT_EQ(r.header("x-amz-checksum-type"), "COMPOSITE");
  // Across the part boundary.
  r = s3("GET", "/mpu/big", {{"Range", "bytes=" + std::to_string(p1.size() - 3) + "-" + std::to_string(p1.size() + 2)}});
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(r.body == p1.substr(p1.size() - 3) + p2.substr(0, 3));
  r = s3("GET", "/mpu/big?partNumber=2");
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(r.body == p2);
  EXPECT_EQ(r.header("x-amz-mp-parts-count"), "2");

  EXPECT_EQ(xml_text(s3("GET", "/mpu/big?uploadId=" + id).body, "Code"), "NoSuchUpload");
  EXPECT_TRUE(xml_all(s3("GET", "/mpu?uploads").body, "Upload", "UploadId").empty());
}

TEST_F(S3Api, PartsUploadedInParallel) {
  make_bucket("par");
  auto r = s3("POST", "/par/obj?uploads", {{"x-amz-checksum-algorithm", "CRC32C"}, {"x-amz-checksum-type", "FULL_OBJECT"}});
  const std::string id = xml_text(r.body, "UploadId");
  const int n = 6;
  std::vector<std::string> parts(n), etags(n);
  for (int i = 0; i < n; ++i) parts[i] = random_bytes(i + 1 == n ? 12345 : 5 * 1024 * 1024, 100 + i);
  std::vector<std::thread> threads;
  for (int i = n - 1; i >= 0; --i) {
    threads.emplace_back([&, i] {
      HttpClient client("127.0.0.1", app_->port());
      auto res = client.request("PUT", "/par/obj?partNumber=" + std::to_string(i + 1) + "&uploadId=" + id, {}, parts[i]);
      if (res.status == 200) etags[i] = res.header("etag");
    });
  }
  for (auto& t : threads) t.join();
  std::string x = "<CompleteMultipartUpload>", all;
  for (int i = 0; i < n; ++i) {
    ASSERT_FALSE(etags[i].empty()) << i;
    x += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
    all += parts[i];
  }
  r = s3("POST", "/par/obj?uploadId=" + id, {}, x + "</CompleteMultipartUpload>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ChecksumCRC32C"), ck::digest_base64(ck::Algorithm::crc32c, all));
  r = s3("GET", "/par/obj");
  EXPECT_TRUE(r.body == all);
}

TEST_F(S3Api, MultipartFullObjectChecksumAbortAndPartCopy) {
  make_bucket("mpu");
  const std::string src = random_bytes(6 * 1024 * 1024, 9);
  put("/mpu/src", src);
  auto r = s3("POST", "/mpu/dst?uploads", {{"x-amz-checksum-algorithm", "CRC64NVME"}});
  const std::string id = xml_text(r.body, "UploadId");
  r = s3("PUT", "/mpu/dst?partNumber=1&uploadId=" + id, {{"x-amz-copy-source", "/mpu/src"}, {"x-amz-copy-source-range", "bytes=0-5242879"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string e1 = xml_text(r.body, "ETag");
  EXPECT_EQ(e1, "\"" + md5_hex(src.substr(0, 5242880)) + "\"");
  r = s3("PUT", "/mpu/dst?partNumber=2&uploadId=" + id, {{"x-amz-copy-source", "/mpu/src"}, {"x-amz-copy-source-range", "bytes=5242880-6291455"}});
  ASSERT_EQ(r.status, 200);
  const std::string e2 = xml_text(r.body, "ETag");
  r = s3("PUT", "/mpu/dst?partNumber=3&uploadId=" + id, {{"x-amz-copy-source", "/mpu/src"}, {"x-amz-copy-source-range", "bytes=0-99999999"}});
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidRange");
  r = s3("PUT", "/mpu/dst?partNumber=3&uploadId=" + id, {{"x-amz-copy-source", "/mpu/src"}, {"x-amz-copy-source-range", "bytes=5-"}});
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidArgument");
  r = s3("POST", "/mpu/dst?uploadId=" + id, {},
         "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + e1 + "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>" +
             e2 + "</ETag></Part></CompleteMultipartUpload>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ChecksumCRC64NVME"), ck::digest_base64(ck::Algorithm::crc64nvme, src));
  EXPECT_EQ(xml_text(r.body, "ChecksumType"), "FULL_OBJECT");
  EXPECT_TRUE(s3("GET", "/mpu/dst").body == src);

  r = s3("POST", "/mpu/gone?uploads");
  const std::string id2 = xml_text(r.body, "UploadId");
  ASSERT_EQ(s3("PUT", "/mpu/gone?partNumber=1&uploadId=" + id2, {}, "abc").status, 200);
  EXPECT_EQ(s3("DELETE", "/mpu/gone?uploadId=" + id2).status, 204);
  EXPECT_EQ(xml_text(s3("DELETE", "/mpu/gone?uploadId=" + id2).body, "Code"), "NoSuchUpload");
  EXPECT_EQ(s3("GET", "/mpu/gone").status, 404);
}

TEST_F(S3Api, VirtualHostAddressingAndOddities) {
  make_bucket("vhb");
  const std::string port = std::to_string(app_->port());
  auto r = s3("PUT", "/key.txt?x-id=PutObject", {{"Host", "vhb.localhost:" + port}}, "virtual");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(s3("GET", "/vhb/key.txt").body, "virtual");
  EXPECT_EQ(s3("GET", "/key.txt", {{"Host", "vhb.s3.eu-central-1.amazonaws.com"}}).body, "virtual");
  EXPECT_EQ(s3("GET", "/key.txt", {{"Host", "vhb.s3.localhost.localstack.cloud:" + port}}).body, "virtual");
  r = s3("GET", "/?list-type=2", {{"Host", "vhb.localhost:" + port}});
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"key.txt"}));
  r = s3("GET", "/vhb/key.txt?torrent");
  EXPECT_TRUE(s3_error(r, 501, "NotImplemented"));
  r = s3("GET", "/vhb/key.txt?versionId=123");
  EXPECT_EQ(xml_text(r.body, "Code"), "NoSuchVersion");
  EXPECT_EQ(s3("GET", "/vhb/key.txt?versionId=null").status, 200);
  r = s3("POST", "/vhb/key.txt");
  EXPECT_EQ(r.status, 405);
  r = s3("GET", "/vhb/" + std::string(1100, 'k'));
  EXPECT_EQ(xml_text(r.body, "Code"), "KeyTooLongError");
  r = s3("GET", "/vhb?versioning");
  EXPECT_EQ(r.status, 200);
  // Never versioned: an empty VersioningConfiguration, as AWS answers for a bucket that never had it.
  EXPECT_NE(r.body.find("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("<Status>"), std::string::npos) << r.body;
}

TEST_F(S3Api, LargeObjectStreamsInAndOut) {
  make_bucket("big");
  const size_t size = 64 * 1024 * 1024;
  std::string data = random_bytes(size, 42);
  auto r = s3("PUT", "/big/obj", {}, data);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("etag"), "\"" + md5_hex(data) + "\"");
  r = s3("GET", "/big/obj", {{"Range", "bytes=33554430-33554437"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(r.body == data.substr(33554430, 8));
  r = s3("GET", "/big/obj", {{"Range", "bytes=-1"}});
  EXPECT_TRUE(r.body == data.substr(size - 1));
  r = s3("GET", "/big/obj");
  EXPECT_EQ(r.body.size(), size);
  EXPECT_TRUE(r.body == data);
}

// The front end hands PUT bodies to a sink piece by piece; the S3 side must ask for that
// (never BufferBody) and must cope with arbitrary pieces.
TEST_F(S3Api, PutObjectIsStreamedThroughABodySink) {
  make_bucket("sink");
  http::Request req;
  req.method = "PUT";
  req.target = req.path = "/sink/streamed";
  req.request_id = "test-request";
  const size_t size = 64 * 1024 * 1024 + 123;
  req.headers.add("Content-Length", std::to_string(size));
  auto d = app_->s3().dispatch(req);
  ASSERT_TRUE(std::holds_alternative<http::StreamBody>(d));
  auto& sink = std::get<http::StreamBody>(d).sink;
  ck::Hasher md5(ck::Algorithm::md5);
  std::mt19937_64 rng(5);
  size_t sent = 0;
  std::string piece;
  while (sent < size) {
    size_t n = std::min<size_t>(size - sent, 1 + rng() % (300 * 1024));
    piece.resize(n);
    for (auto& ch : piece) ch = static_cast<char>(rng());
    md5.update(piece);
    ASSERT_FALSE(sink->write(piece).has_value());
    sent += n;
  }
  auto res = sink->finish();
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.headers.get("ETag"), "\"" + md5.final_hex() + "\"");
  auto head = s3("HEAD", "/sink/streamed");
  EXPECT_EQ(head.header("content-length"), std::to_string(size));

  // A sink dropped half way (client went away) leaves nothing visible.
  http::Request req2 = req;
  req2.path = req2.target = "/sink/abandoned";
  auto d2 = app_->s3().dispatch(req2);
  ASSERT_TRUE(std::holds_alternative<http::StreamBody>(d2));
  ASSERT_FALSE(std::get<http::StreamBody>(d2).sink->write(std::string(3 * 1024 * 1024, 'x')).has_value());
  std::get<http::StreamBody>(d2).sink.reset();
  EXPECT_EQ(s3("GET", "/sink/abandoned").status, 404);

  // The bucket goes away while a body is arriving: the upload fails, nothing is left behind.
  make_bucket("gone-soon");
  http::Request req3 = req;
  req3.path = req3.target = "/gone-soon/late";
  req3.headers.set("Content-Length", "5");
  auto d3 = app_->s3().dispatch(req3);
  ASSERT_TRUE(std::holds_alternative<http::StreamBody>(d3));
  ASSERT_FALSE(std::get<http::StreamBody>(d3).sink->write("hello").has_value());
  ASSERT_EQ(s3("DELETE", "/gone-soon").status, 204);
  auto late = std::get<http::StreamBody>(d3).sink->finish();
  EXPECT_TRUE(s3_error(late, 404, "NoSuchBucket"));
  make_bucket("gone-soon");
  EXPECT_EQ(s3("GET", "/gone-soon/late").status, 404);
}

class S3Seeded : public S3Api {
 protected:
  void configure(Config& c) override {
    S3Api::configure(c);
    dir_ = temp_dir("eddy-seed");
    std::filesystem::create_directories(dir_ / "repo" / "org" / "lib");
    std::filesystem::create_directories(dir_ / "private-bucket");
    std::ofstream(dir_ / "repo" / "org" / "lib" / "lib-1.0.jar") << "PKjar";
    std::ofstream(dir_ / "repo" / ".eddy-acl") << "public-read\n";
    std::ofstream(dir_ / "private-bucket" / "secret.txt") << "s";
    std::ofstream(dir_ / "streams.json") << R"([{"StreamName": "seeded", "ShardCount": 2}])";
    c.seed_dirs.push_back(dir_.string());
  }
  std::filesystem::path dir_;
};

TEST_F(S3Seeded, BucketsObjectsAndStreamsArePreloaded) {
  auto r = s3("GET", "/repo/org/lib/lib-1.0.jar");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "PKjar");
  EXPECT_EQ(r.header("content-type"), "application/java-archive");
  EXPECT_NE(s3("GET", "/repo?acl").body.find("AllUsers"), std::string::npos);
  EXPECT_NE(s3("GET", "/repo/org/lib/lib-1.0.jar?acl").body.find("AllUsers"), std::string::npos);
  EXPECT_EQ(s3("GET", "/private-bucket/secret.txt").body, "s");
  EXPECT_EQ(s3("GET", "/private-bucket?acl").body.find("AllUsers"), std::string::npos);
  auto k = kinesis("DescribeStreamSummary", {{"StreamName", "seeded"}});
  EXPECT_EQ(k.status, 200) << k.raw;
}

// docs/s3.md: seeding runs at every start; existing buckets are kept, seeded objects
// overwritten, existing streams left alone; `<bucket>.json` may give objects another ACL.
class S3SeededOnDisk : public S3Seeded {
 protected:
  void configure(Config& c) override {
    S3Seeded::configure(c);
    use_disk_store(c, temp_dir("eddy-seed-data"));
    std::filesystem::create_directories(dir_ / "mixed");
    std::ofstream(dir_ / "mixed" / "obj.txt") << "m";
    std::ofstream(dir_ / "mixed.json") << R"({"acl": "public-read", "object_acl": "private"})";
  }
};

TEST_F(S3SeededOnDisk, SeedingAgainAtRestartKeepsWhatItDoesNotOwn) {
  // <bucket>.json: the bucket public, its objects private.
  EXPECT_NE(s3("GET", "/mixed?acl").body.find("AllUsers"), std::string::npos);
  EXPECT_EQ(s3("GET", "/mixed/obj.txt?acl").body.find("AllUsers"), std::string::npos);
  // Changes between starts: a seeded object rewritten, another object added, the stream changed.
  ASSERT_EQ(s3("PUT", "/repo/org/lib/lib-1.0.jar", {}, "changed").status, 200);
  ASSERT_EQ(s3("PUT", "/repo/extra.txt", {}, "mine").status, 200);
  ASSERT_EQ(kinesis("IncreaseStreamRetentionPeriod", {{"StreamName", "seeded"}, {"RetentionPeriodHours", 48}}).status, 200);
  ASSERT_EQ(kinesis("PutRecord", {{"StreamName", "seeded"}, {"PartitionKey", "k"}, {"Data", b64("r")}}).status, 200);
  restart();
  EXPECT_EQ(s3("GET", "/repo/org/lib/lib-1.0.jar").body, "PKjar");  // overwritten by the seed
  EXPECT_EQ(s3("GET", "/repo/extra.txt").body, "mine");              // the bucket was kept
  auto d = kinesis("DescribeStreamSummary", {{"StreamName", "seeded"}});
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.body["StreamDescriptionSummary"]["RetentionPeriodHours"], 48);  // left alone
  EXPECT_EQ(d.body["StreamDescriptionSummary"]["OpenShardCount"], 2);
  auto it = kinesis("GetShardIterator", {{"StreamName", "seeded"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "TRIM_HORIZON"}});
  auto it1 = kinesis("GetShardIterator", {{"StreamName", "seeded"}, {"ShardId", "shardId-000000000001"}, {"ShardIteratorType", "TRIM_HORIZON"}});
  size_t records = kinesis("GetRecords", {{"ShardIterator", it.body["ShardIterator"]}}).body["Records"].size() +
                   kinesis("GetRecords", {{"ShardIterator", it1.body["ShardIterator"]}}).body["Records"].size();
  EXPECT_EQ(records, 1u);
}

}  // namespace
}  // namespace eddy::test

namespace eddy::test {
namespace {

namespace s4 = wire::sigv4;

// Signs a request the way an SDK would (credentials test/test, region us-east-1) and sends it.
class S3Signed : public ServerFixture {
 protected:
  HttpResult send(const std::string& method, const std::string& target, Headers headers, const std::string& body,
                  const std::string& secret = "test", std::string payload_hash = {}) {
    auto [out, signed_req] = s3util::sign_s3(method, target, std::move(headers), body, app_->port(), "test", secret,
                                             std::move(payload_hash));
    last_ = std::move(signed_req);
    return http(method, target, out, body);
  }
  s4::SigningResult last_;
};

class S3AnyAuth : public S3Signed {
 protected:
  void configure(Config& c) override { c.auth = "any"; }
};

TEST_F(S3AnyAuth, AnonymousRequestsGetOnlyWhatCannedAclsGrant) {
  ASSERT_EQ(send("PUT", "/priv", {}, "").status, 200);
  ASSERT_EQ(send("PUT", "/pub", {{"x-amz-acl", "public-read"}}, "").status, 200);
  ASSERT_EQ(send("PUT", "/open", {{"x-amz-acl", "public-read-write"}}, "").status, 200);
  ASSERT_EQ(send("PUT", "/priv/public-obj", {{"x-amz-acl", "public-read"}}, "hello").status, 200);
  ASSERT_EQ(send("PUT", "/priv/private-obj", {}, "secret").status, 200);
  ASSERT_EQ(send("PUT", "/pub/private-obj", {}, "secret").status, 200);

  auto r = http("GET", "/");
  EXPECT_TRUE(s3_error(r, 403, "AccessDenied"));
  r = http("GET", "/priv/public-obj");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(http("HEAD", "/priv/public-obj").status, 200);
  EXPECT_EQ(http("GET", "/priv/public-obj", {{"Range", "bytes=0-0"}}).status, 206);
  EXPECT_EQ(http("GET", "/priv/private-obj").status, 403);
  EXPECT_EQ(http("GET", "/pub/private-obj").status, 403);
  // A missing key: NoSuchKey only where the bucket may be listed.
  EXPECT_EQ(xml_text(http("GET", "/priv/missing").body, "Code"), "AccessDenied");
  EXPECT_EQ(xml_text(http("GET", "/pub/missing").body, "Code"), "NoSuchKey");
  EXPECT_EQ(http("GET", "/priv?list-type=2").status, 403);
  r = http("GET", "/pub?delimiter=/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"private-obj"}));
  EXPECT_EQ(http("GET", "/priv/public-obj?acl").status, 403);
  EXPECT_EQ(http("PUT", "/pub/new", {}, "x").status, 403);
  EXPECT_EQ(http("PUT", "/anon-bucket").status, 403);
  EXPECT_EQ(http("PUT", "/open/new", {}, "x").status, 200);
  EXPECT_EQ(http("DELETE", "/priv/public-obj").status, 403);
  r = http("GET", "/priv/public-obj?response-content-type=text/html");
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidRequest");
}

class S3Verify : public S3Signed {
 protected:
  void configure(Config& c) override { c.auth = "verify"; }
};

TEST_F(S3Verify, SignedRequestsAndStreamingChunkSignatures) {
  auto r = send("PUT", "/signed", {}, "");
  ASSERT_EQ(r.status, 200) << r.body;
  r = send("PUT", "/signed/k", {}, "payload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(send("GET", "/signed/k", {}, "").body, "payload");

  r = send("GET", "/signed/k", {}, "", "wrong-secret");
  EXPECT_TRUE(s3_error(r, 403, "SignatureDoesNotMatch"));
  EXPECT_EQ(xml_text(r.body, "StringToSign"), last_.string_to_sign);

  // STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signature is checked.
  const std::string data = random_bytes(200000, 11);
  auto body_for = [&](const std::string& seed, const std::string& amz_date, bool tamper) {
    s4::Scope scope{amz_date.substr(0, 8), "us-east-1", "s3"};
    s4::ChunkSigner chain(s4::derive_signing_key("test", scope), amz_date, scope.str(), seed);
    std::string out;
    for (size_t i = 0; i < data.size(); i += 65536) {
      std::string piece = data.substr(i, 65536);
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx", piece.size());
      std::string sig = chain.next(piece);
      if (tamper && i > 0) piece[0] ^= 1;
      out += std::string(hex) + ";chunk-signature=" + sig + "\r\n" + piece + "\r\n";
    }
    return out + "0;chunk-signature=" + chain.next("") + "\r\n\r\n";
  };
  for (bool tamper : {false, true}) {
    // The encoded length is known up front (signatures have a fixed size).
    const size_t encoded = body_for(std::string(64, '0'), "20260101T000000Z", false).size();
    s4::Request req;
    req.method = "PUT";
    req.path = tamper ? "/signed/tampered" : "/signed/streamed";
    req.headers = {{"Host", "127.0.0.1:" + std::to_string(app_->port())},
                   {"Content-Encoding", "aws-chunked"},
                   {"x-amz-decoded-content-length", std::to_string(data.size())},
                   {"Content-Length", std::to_string(encoded)}};
    auto signed_req =
        s4::sign_request(req, signing_params({"test", "test", ""}, "us-east-1", "s3", signing_now(), std::string(s4::kStreamingPayload)));
    Headers out = headers_without_host(req);
    r = http("PUT", req.path, out, body_for(signed_req.signature, signed_req.amz_date, tamper));
    if (!tamper) {
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_TRUE(send("GET", "/signed/streamed", {}, "").body == data);
    } else {
      EXPECT_TRUE(s3_error(r, 403, "SignatureDoesNotMatch"));
      EXPECT_EQ(send("GET", "/signed/tampered", {}, "").status, 404);
    }
  }
}

}  // namespace
}  // namespace eddy::test
