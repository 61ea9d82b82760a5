// Versioning, object lock, lifecycle and GetObjectAttributes over HTTP against an in-process
// server (auth off, manual clock: locks and lifecycle rules act when the test moves time).
#include <gtest/gtest.h>

#include <set>

#include "server/app.h"
#include "server/s3/s3_service.h"
#include "tests/api/s3_test_util.h"
#include "tests/support/fixture_config.h"
#include "tests/support/server_fixture.h"
#include "wire/checksum.h"

namespace eddy::test {
namespace {

namespace ck = wire::checksum;
using Headers = std::vector<std::pair<std::string, std::string>>;
using s3util::xml_all;
using s3util::s3_error;
using s3util::xml_text;

constexpr int64_t kDay = 24LL * 3600 * 1000;
// 2030-01-01T00:00:00Z and a clock well before it.
constexpr int64_t k2030 = 1893456000000LL;
constexpr int64_t kStart = 1767225600000LL;  // 2026-01-01T00:00:00Z

const char* kEnabled = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
const char* kSuspended = "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>";

class S3Versioning : public S3Fixture {
 protected:
  void configure(Config& c) override {
    S3Fixture::configure(c);
    c.clock = "manual";
  }
  void SetUp() override {
    S3Fixture::SetUp();
    app_->manual_clock()->set_ms(kStart);
  }
  void enable(const std::string& b, const char* conf = kEnabled) {
    auto r = s3("PUT", "/" + b + "?versioning", {}, conf);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string put(const std::string& target, const std::string& body, const Headers& h = {}) {
    auto r = s3("PUT", target, h, body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.header("x-amz-version-id");
  }
  std::string del_objects(const std::string& bucket, const std::string& xml) {
    auto r = s3("POST", "/" + bucket + "?delete", {{"Content-MD5", ck::digest_base64(ck::Algorithm::md5, xml)}}, xml);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
};

TEST_F(S3Versioning, BucketVersioningConfiguration) {
  make_bucket("cfg");
  auto r = s3("GET", "/cfg?versioning");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, "Status"), "<missing>");
  enable("cfg");
  EXPECT_EQ(xml_text(s3("GET", "/cfg?versioning").body, "Status"), "Enabled");
  enable("cfg", kSuspended);
  EXPECT_EQ(xml_text(s3("GET", "/cfg?versioning").body, "Status"), "Suspended");

  r = s3("PUT", "/cfg?versioning", {}, "<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>");
  EXPECT_TRUE(s3_error(r, 400, "MalformedXML"));
  EXPECT_EQ(xml_text(r.body, "Message"),
            "The XML you provided was not well-formed or did not validate against our published schema");
  r = s3("PUT", "/cfg?versioning", {}, "<Nope/>");
  EXPECT_TRUE(s3_error(r, 400, "MalformedXML"));
  r = s3("PUT", "/missing-bucket?versioning", {}, kEnabled);
  EXPECT_TRUE(s3_error(r, 404, "NoSuchBucket"));
}

TEST_F(S3Versioning, VersionsDeleteMarkersAndAddressingById) {
  make_bucket("ver");
  enable("ver");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(put("/ver/k", "content-" + std::to_string(i)));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
  for (auto& id : ids) EXPECT_EQ(id.size(), 32u);

  auto r = s3("GET", "/ver/k");
  EXPECT_EQ(r.body, "content-2");
  EXPECT_EQ(r.header("x-amz-version-id"), ids[2]);
  r = s3("GET", "/ver/k?versionId=" + ids[0]);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "content-0");
  EXPECT_EQ(r.header("x-amz-version-id"), ids[0]);
  r = s3("HEAD", "/ver/k?versionId=" + ids[1]);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "9");

  r = s3("GET", "/ver/k?versionId=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchVersion", "The specified version does not exist."));

  r = s3("GET", "/ver?versions");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_all(r.body, "Version", "VersionId"), (std::vector<std::string>{ids[2], ids[1], ids[0]}));
  EXPECT_EQ(xml_all(r.body, "Version", "IsLatest"), (std::vector<std::string>{"true", "false", "false"}));

  // A delete without a version id writes a delete marker.
  r = s3("DELETE", "/ver/k");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("x-amz-delete-marker"), "true");
  const std::string marker = r.header("x-amz-version-id");
  EXPECT_EQ(marker.size(), 32u);
  r = s3("GET", "/ver/k");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchKey"));
  EXPECT_EQ(r.header("x-amz-delete-marker"), "true");
  EXPECT_EQ(r.header("x-amz-version-id"), marker);
  r = s3("GET", "/ver/k?versionId=" + marker);
  EXPECT_TRUE(s3_error(r, 405, "MethodNotAllowed", "The specified method is not allowed against this resource."));
  EXPECT_EQ(r.header("x-amz-delete-marker"), "true");
  EXPECT_EQ(xml_all(s3("GET", "/ver").body, "Contents", "Key").size(), 0u);
  r = s3("GET", "/ver?versions");
  EXPECT_EQ(xml_all(r.body, "DeleteMarker", "VersionId"), std::vector<std::string>{marker});
  EXPECT_EQ(xml_all(r.body, "DeleteMarker", "IsLatest"), std::vector<std::string>{"true"});
  EXPECT_EQ(xml_all(r.body, "Version", "IsLatest"), (std::vector<std::string>{"false", "false", "false"}));

  // Removing the marker brings the newest version back.
  r = s3("DELETE", "/ver/k?versionId=" + marker);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("x-amz-delete-marker"), "true");
  EXPECT_EQ(r.header("x-amz-version-id"), marker);
  EXPECT_EQ(s3("GET", "/ver/k").body, "content-2");
  // Removing the current version promotes the one before it.
  r = s3("DELETE", "/ver/k?versionId=" + ids[2]);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("x-amz-version-id"), ids[2]);
  EXPECT_EQ(r.header("x-amz-delete-marker"), "");
  r = s3("GET", "/ver/k");
  EXPECT_EQ(r.body, "content-1");
  EXPECT_EQ(r.header("x-amz-version-id"), ids[1]);
  EXPECT_EQ(s3("DELETE", "/ver/k?versionId=" + ids[0]).status, 204);
  EXPECT_EQ(xml_all(s3("GET", "/ver?versions").body, "Version", "VersionId"), std::vector<std::string>{ids[1]});

  // A bucket holding only noncurrent versions is not empty.
  EXPECT_EQ(s3("DELETE", "/ver/k").status, 204);
  r = s3("DELETE", "/ver");
  EXPECT_TRUE(s3_error(r, 409, "BucketNotEmpty"));
}

TEST_F(S3Versioning, NullVersionBeforeAndUnderSuspension) {
  make_bucket("nul");
  EXPECT_EQ(put("/nul/k", "plain"), "");
  enable("nul");
  EXPECT_EQ(s3("GET", "/nul/k").header("x-amz-version-id"), "null");
  const std::string v1 = put("/nul/k", "v1");
  auto r = s3("GET", "/nul?versions");
  EXPECT_EQ(xml_all(r.body, "Version", "VersionId"), (std::vector<std::string>{v1, "null"}));
  EXPECT_EQ(s3("GET", "/nul/k?versionId=null").body, "plain");

  enable("nul", kSuspended);
  // Writes of the null version answer no version id, as in S3.
  EXPECT_EQ(put("/nul/k", "s1"), "");
  EXPECT_EQ(put("/nul/k", "s2"), "");
  r = s3("GET", "/nul?versions");
  // The suspended writes replaced the null version; v1 stays.
  EXPECT_EQ(xml_all(r.body, "Version", "VersionId"), (std::vector<std::string>{"null", v1}));
  EXPECT_EQ(s3("GET", "/nul/k").body, "s2");
  // A delete under suspension is a null delete marker that replaces the null version.
  r = s3("DELETE", "/nul/k");
  EXPECT_EQ(r.header("x-amz-delete-marker"), "true");
  EXPECT_EQ(r.header("x-amz-version-id"), "null");
  r = s3("GET", "/nul?versions");
  EXPECT_EQ(xml_all(r.body, "Version", "VersionId"), std::vector<std::string>{v1});
  EXPECT_EQ(xml_all(r.body, "DeleteMarker", "VersionId"), std::vector<std::string>{"null"});
  EXPECT_EQ(s3("DELETE", "/nul/k?versionId=null").status, 204);
  EXPECT_EQ(s3("GET", "/nul/k").body, "v1");
}

TEST_F(S3Versioning, ListObjectVersionsPages) {
  make_bucket("pgs");
  enable("pgs");
  std::vector<std::pair<std::string, std::string>> all;  // key, version in listing order
  for (const char* key : {"a", "b/x", "b/y", "c"}) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(put(std::string("/pgs/") + key, "d"));
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) all.emplace_back(key, *it);
  }
  std::vector<std::pair<std::string, std::string>> seen;
  std::string km, vm;
  for (int page = 0; page < 20; ++page) {
    std::string q = "/pgs?versions&max-keys=5";
    if (!km.empty()) q += "&key-marker=" + km + "&version-id-marker=" + vm;
    auto r = s3("GET", q);
    ASSERT_EQ(r.status, 200) << r.body;
    auto keys = xml_all(r.body, "Version", "Key");
    auto ids = xml_all(r.body, "Version", "VersionId");
    for (size_t i = 0; i < keys.size(); ++i) seen.emplace_back(keys[i], ids[i]);
    if (xml_text(r.body, "IsTruncated") != "true") break;
    EXPECT_EQ(keys.size(), 5u);
    km = xml_text(r.body, "NextKeyMarker");
    vm = xml_text(r.body, "NextVersionIdMarker");
  }
  EXPECT_EQ(seen, all);

  auto r = s3("GET", "/pgs?versions&delimiter=/");
  EXPECT_EQ(xml_all(r.body, "CommonPrefixes", "Prefix"), std::vector<std::string>{"b/"});
  EXPECT_EQ(xml_all(r.body, "Version", "Key").size(), 6u);
  r = s3("GET", "/pgs?versions&prefix=b/&max-keys=1000");
  EXPECT_EQ(xml_all(r.body, "Version", "Key").size(), 6u);
  r = s3("GET", "/pgs?versions&version-id-marker=x");
  EXPECT_TRUE(s3_error(r, 400, "InvalidArgument", "A version-id marker cannot be specified without a key marker."));
}

TEST_F(S3Versioning, CopyMultipartAndDeleteObjectsMakeVersions) {
  make_bucket("cpy");
  enable("cpy");
  const std::string v1 = put("/cpy/src", "first");
  put("/cpy/src", "second");
  auto r = s3("PUT", "/cpy/dst", {{"x-amz-copy-source", "/cpy/src?versionId=" + v1}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-amz-copy-source-version-id"), v1);
  EXPECT_EQ(r.header("x-amz-version-id").size(), 32u);
  EXPECT_EQ(s3("GET", "/cpy/dst").body, "first");
  r = s3("PUT", "/cpy/dst", {{"x-amz-copy-source", "/cpy/src?versionId=nope"}});
  EXPECT_TRUE(s3_error(r, 404, "NoSuchVersion"));
  const std::string marker = s3("DELETE", "/cpy/src").header("x-amz-version-id");
  r = s3("PUT", "/cpy/dst", {{"x-amz-copy-source", "/cpy/src?versionId=" + marker}});
  EXPECT_TRUE(s3_error(r, 400, "InvalidRequest", "The source of a copy request may not specifically refer to a delete marker by version id."));

  r = s3("POST", "/cpy/mp?uploads");
  const std::string upload = xml_text(r.body, "UploadId");
  r = s3("PUT", "/cpy/mp?partNumber=1&uploadId=" + upload, {}, "part");
  const std::string etag = r.header("etag");
  r = s3("POST", "/cpy/mp?uploadId=" + upload, {},
         "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag + "</ETag></Part></CompleteMultipartUpload>");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string mpv = r.header("x-amz-version-id");
  EXPECT_EQ(mpv.size(), 32u);
  EXPECT_EQ(s3("GET", "/cpy/mp?versionId=" + mpv).body, "part");

  std::string body = del_objects("cpy", "<Delete><Object><Key>dst</Key></Object><Object><Key>src</Key><VersionId>" + v1 +
                                           "</VersionId></Object></Delete>");
  EXPECT_EQ(xml_all(body, "Deleted", "Key"), (std::vector<std::string>{"dst", "src"}));
  EXPECT_EQ(xml_all(body, "Deleted", "DeleteMarker"), (std::vector<std::string>{"true", ""}));
  EXPECT_EQ(xml_all(body, "Deleted", "DeleteMarkerVersionId")[0].size(), 32u);
  EXPECT_EQ(xml_all(body, "Deleted", "VersionId"), (std::vector<std::string>{"", v1}));
  EXPECT_EQ(s3("GET", "/cpy/src?versionId=" + v1).status, 404);
}

TEST_F(S3Versioning, VersionsSurviveRestart) {
  use_disk_store(config_, temp_dir("s3v"));
  restart();
  app_->manual_clock()->set_ms(kStart);
  make_bucket("dur");
  enable("dur");
  const std::string v1 = put("/dur/k", "one");
  const std::string v2 = put("/dur/k", "two");
  s3("DELETE", "/dur/k");
  restart();
  EXPECT_EQ(xml_text(s3("GET", "/dur?versioning").body, "Status"), "Enabled");
  EXPECT_EQ(s3("GET", "/dur/k?versionId=" + v1).body, "one");
  EXPECT_EQ(s3("GET", "/dur/k").status, 404);
  const std::string v3 = put("/dur/k", "three");
  auto r = s3("GET", "/dur?versions");
  auto ids = xml_all(r.body, "Version", "VersionId");
  EXPECT_EQ(ids, (std::vector<std::string>{v3, v2, v1}));
}

TEST_F(S3Versioning, ObjectAclByVersion) {
  make_bucket("acl");
  enable("acl");
  const std::string v1 = put("/acl/k", "one");
  put("/acl/k", "two");
  EXPECT_EQ(s3("PUT", "/acl/k?acl&versionId=" + v1, {{"x-amz-acl", "public-read"}}).status, 200);
  auto r = s3("GET", "/acl/k?acl&versionId=" + v1);
  EXPECT_NE(r.body.find("AllUsers"), std::string::npos);
  EXPECT_EQ(s3("GET", "/acl/k?acl").body.find("AllUsers"), std::string::npos);  // the current version is private
  r = s3("GET", "/acl/k?acl&versionId=nope");
  EXPECT_EQ(r.status, 404);
}

TEST_F(S3Versioning, ConditionalWritesAndDeletes) {
  make_bucket("cond");
  put("/cond/k", "data");
  const std::string etag = s3("HEAD", "/cond/k").header("etag");
  auto failed = [](const HttpResult& r, const std::string& condition) {
    EXPECT_EQ(r.status, 412) << r.body;
    EXPECT_EQ(xml_text(r.body, "Code"), "PreconditionFailed");
    EXPECT_EQ(xml_text(r.body, "Message"), "At least one of the pre-conditions you specified did not hold");
    EXPECT_EQ(xml_text(r.body, "Condition"), condition);
  };
  // CompleteMultipartUpload.
  auto r = s3("POST", "/cond/k?uploads");
  const std::string upload = xml_text(r.body, "UploadId");
  const std::string part = s3("PUT", "/cond/k?partNumber=1&uploadId=" + upload, {}, "mp").header("etag");
  const std::string complete =
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + part + "</ETag></Part></CompleteMultipartUpload>";
  failed(s3("POST", "/cond/k?uploadId=" + upload, {{"If-None-Match", "*"}}, complete), "If-None-Match");
  failed(s3("POST", "/cond/k?uploadId=" + upload, {{"If-Match", "\"other\""}}, complete), "If-Match");
  r = s3("POST", "/cond/k?uploadId=" + upload, {{"If-Match", etag}}, complete);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(s3("GET", "/cond/k").body, "mp");
  // CopyObject's destination.
  put("/cond/src", "src");
  failed(s3("PUT", "/cond/k", {{"x-amz-copy-source", "/cond/src"}, {"If-None-Match", "*"}}), "If-None-Match");
  r = s3("PUT", "/cond/new", {{"x-amz-copy-source", "/cond/src"}, {"If-Match", "*"}});
  EXPECT_TRUE(s3_error(r, 404, "NoSuchKey"));
  EXPECT_EQ(s3("PUT", "/cond/new", {{"x-amz-copy-source", "/cond/src"}, {"If-None-Match", "*"}}).status, 200);
  // DeleteObject.
  failed(s3("DELETE", "/cond/src", {{"If-Match", "\"other\""}}), "If-Match");
  failed(s3("DELETE", "/cond/src", {{"x-amz-if-match-size", "99"}}), "x-amz-if-match-size");
  failed(s3("DELETE", "/cond/src", {{"x-amz-if-match-last-modified-time", "Thu, 01 Jan 2015 00:00:00 GMT"}}),
         "x-amz-if-match-last-modified-time");
  EXPECT_EQ(s3("DELETE", "/cond/src", {{"x-amz-if-match-size", "3"}}).status, 204);
  EXPECT_EQ(s3("DELETE", "/cond/src", {{"If-Match", "\"other\""}}).status, 204);  // gone: nothing to compare
  const std::string xml = "<Delete><Object><Key>new</Key><ETag>\"bad\"</ETag></Object></Delete>";
  EXPECT_EQ(xml_all(del_objects("cond", xml), "Error", "Code"), std::vector<std::string>{"PreconditionFailed"});
  EXPECT_EQ(s3("GET", "/cond/new").status, 200);
}

// ---- object lock --------------------------------------------------------------------------

TEST_F(S3Versioning, ObjectLockConfigurationAndRetention) {
  make_bucket("lkb", {{"x-amz-bucket-object-lock-enabled", "true"}});
  EXPECT_EQ(xml_text(s3("GET", "/lkb?versioning").body, "Status"), "Enabled");
  auto r = s3("GET", "/lkb?object-lock");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, "ObjectLockEnabled"), "Enabled");
  r = s3("PUT", "/lkb?versioning", {}, kSuspended);
  EXPECT_TRUE(s3_error(r, 409, "InvalidBucketState"));

  auto conf = [](const std::string& retention) {
    return "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>" + retention +
           "</DefaultRetention></Rule></ObjectLockConfiguration>";
  };
  r = s3("PUT", "/lkb?object-lock", {}, conf("<Mode>GOVERNANCE</Mode><Days>0</Days>"));
  EXPECT_TRUE(s3_error(r, 400, "InvalidRetentionPeriod", "Default retention period must be a positive integer value."));
  r = s3("PUT", "/lkb?object-lock", {}, conf("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>"));
  EXPECT_TRUE(s3_error(r, 400, "MalformedXML"));
  r = s3("PUT", "/lkb?object-lock", {}, conf("<Mode>governance</Mode><Days>1</Days>"));
  EXPECT_EQ(xml_text(r.body, "Code"), "MalformedXML");
  r = s3("PUT", "/lkb?object-lock", {}, conf("<Mode>GOVERNANCE</Mode><Days>1</Days>"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = s3("GET", "/lkb?object-lock");
  EXPECT_EQ(xml_text(r.body, "Rule/DefaultRetention/Mode"), "GOVERNANCE");
  EXPECT_EQ(xml_text(r.body, "Rule/DefaultRetention/Days"), "1");

  // The default retention holds a new version for a day of eddy's clock.
  const std::string v = put("/lkb/k", "data");
  r = s3("HEAD", "/lkb/k");
  EXPECT_EQ(r.header("x-amz-object-lock-mode"), "GOVERNANCE");
  EXPECT_EQ(r.header("x-amz-object-lock-retain-until-date"), "2026-01-02T00:00:00.000Z");
  r = s3("DELETE", "/lkb/k?versionId=" + v);
  EXPECT_TRUE(s3_error(r, 403, "AccessDenied", "Access Denied because object protected by object lock."));
  // A delete marker is still allowed.
  EXPECT_EQ(s3("DELETE", "/lkb/k").header("x-amz-delete-marker"), "true");
  app_->manual_clock()->advance_ms(kDay + 1);
  EXPECT_EQ(s3("DELETE", "/lkb/k?versionId=" + v).status, 204);

  // Explicit retention: GOVERNANCE shortens only with the bypass; COMPLIANCE never.
  const std::string v2 = put("/lkb/g", "data");
  const std::string until2030 = "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>";
  r = s3("PUT", "/lkb/g?retention", {}, until2030);
  EXPECT_EQ(r.status, 200) << r.body;
  r = s3("GET", "/lkb/g?retention");
  EXPECT_EQ(xml_text(r.body, "Mode"), "GOVERNANCE");
  EXPECT_EQ(xml_text(r.body, "RetainUntilDate"), "2030-01-01T00:00:00.000Z");
  const std::string shorter = "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2029-01-01T00:00:00Z</RetainUntilDate></Retention>";
  r = s3("PUT", "/lkb/g?retention", {}, shorter);
  EXPECT_TRUE(s3_error(r, 403, "AccessDenied"));
  EXPECT_EQ(s3("PUT", "/lkb/g?retention", {{"x-amz-bypass-governance-retention", "true"}}, shorter).status, 200);
  EXPECT_EQ(s3("DELETE", "/lkb/g?versionId=" + v2).status, 403);
  EXPECT_EQ(s3("DELETE", "/lkb/g?versionId=" + v2, {{"x-amz-bypass-governance-retention", "true"}}).status, 204);

  const std::string v3 = put("/lkb/c", "data", {{"x-amz-object-lock-mode", "COMPLIANCE"},
                                                {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"}});
  EXPECT_EQ(s3("DELETE", "/lkb/c?versionId=" + v3, {{"x-amz-bypass-governance-retention", "true"}}).status, 403);
  r = s3("PUT", "/lkb/c?retention", {{"x-amz-bypass-governance-retention", "true"}}, shorter);
  EXPECT_EQ(r.status, 403);
  app_->manual_clock()->set_ms(k2030 + 1);
  EXPECT_EQ(s3("DELETE", "/lkb/c?versionId=" + v3).status, 204);

  r = s3("PUT", "/lkb/g?retention", {}, "<Retention><Mode>abc</Mode><RetainUntilDate>2040-01-01T00:00:00Z</RetainUntilDate></Retention>");
  EXPECT_TRUE(s3_error(r, 400, "MalformedXML"));
}

TEST_F(S3Versioning, LegalHoldAndLockErrorsOnPlainBuckets) {
  make_bucket("plain");
  put("/plain/k", "x");
  auto r = s3("PUT", "/plain/k?legal-hold", {}, "<LegalHold><Status>ON</Status></LegalHold>");
  EXPECT_TRUE(s3_error(r, 400, "InvalidRequest", "Bucket is missing Object Lock Configuration"));
  r = s3("GET", "/plain?object-lock");
  EXPECT_TRUE(s3_error(r, 404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"));
  r = s3("PUT", "/plain?object-lock", {},
         "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>");
  EXPECT_TRUE(s3_error(r, 409, "InvalidBucketState"));
  r = s3("PUT", "/plain/k2", {{"x-amz-object-lock-legal-hold", "ON"}}, "x");
  EXPECT_TRUE(s3_error(r, 400, "InvalidRequest"));

  make_bucket("held", {{"x-amz-bucket-object-lock-enabled", "true"}});
  const std::string v = put("/held/k", "x");
  r = s3("GET", "/held/k?retention");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchObjectLockConfiguration"));
  r = s3("PUT", "/held/k?legal-hold", {}, "<LegalHold><Status>abc</Status></LegalHold>");
  EXPECT_EQ(xml_text(r.body, "Code"), "MalformedXML");
  EXPECT_EQ(s3("PUT", "/held/k?legal-hold", {}, "<LegalHold><Status>ON</Status></LegalHold>").status, 200);
  EXPECT_EQ(xml_text(s3("GET", "/held/k?legal-hold").body, "Status"), "ON");
  EXPECT_EQ(s3("HEAD", "/held/k").header("x-amz-object-lock-legal-hold"), "ON");
  EXPECT_EQ(s3("DELETE", "/held/k?versionId=" + v, {{"x-amz-bypass-governance-retention", "true"}}).status, 403);
  std::string body = del_objects("held", "<Delete><Object><Key>k</Key><VersionId>" + v + "</VersionId></Object></Delete>");
  EXPECT_EQ(xml_all(body, "Error", "Code"), std::vector<std::string>{"AccessDenied"});
  EXPECT_EQ(s3("PUT", "/held/k?legal-hold", {}, "<LegalHold><Status>OFF</Status></LegalHold>").status, 200);
  EXPECT_EQ(s3("DELETE", "/held/k?versionId=" + v).status, 204);
}

// ---- lifecycle ----------------------------------------------------------------------------

TEST_F(S3Versioning, LifecycleConfigurationIsValidatedStoredAndReturned) {
  make_bucket("lcy");
  auto r = s3("GET", "/lcy?lifecycle");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"));
  EXPECT_EQ(s3("DELETE", "/lcy?lifecycle").status, 204);

  auto rule = [](const std::string& inner) { return "<LifecycleConfiguration><Rule>" + inner + "</Rule></LifecycleConfiguration>"; };
  r = s3("PUT", "/lcy?lifecycle", {}, rule("<ID>r</ID><Prefix>a/</Prefix><Status>enabled</Status><Expiration><Days>1</Days></Expiration>"));
  EXPECT_TRUE(s3_error(r, 400, "MalformedXML"));
  r = s3("PUT", "/lcy?lifecycle", {}, rule("<ID>r</ID><Prefix>a/</Prefix><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>"));
  EXPECT_TRUE(s3_error(r, 400, "InvalidArgument", "'Days' for Expiration action must be a positive integer"));
  r = s3("PUT", "/lcy?lifecycle", {}, rule("<ID>" + std::string(256, 'a') + "</ID><Prefix>a/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Message"), "ID length should not exceed allowed limit of 255");
  r = s3("PUT", "/lcy?lifecycle", {},
         "<LifecycleConfiguration><Rule><ID>same</ID><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
         "<Rule><ID>same</ID><Prefix>b</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Message"), "Rule ID must be unique. Found same ID for more than one rule");
  r = s3("PUT", "/lcy?lifecycle", {}, rule("<ID>r</ID><Prefix>a/</Prefix><Status>Enabled</Status><Expiration><Date>2017-09-27T12:00:00Z</Date></Expiration>"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Message"), "'Date' must be at midnight GMT");
  r = s3("PUT", "/lcy?lifecycle", {}, rule("<ID>r</ID><Prefix>a/</Prefix><Status>Enabled</Status>"));
  EXPECT_TRUE(s3_error(r, 400, "InvalidRequest"));

  const std::string good = rule("<Prefix>a/</Prefix><Status>Enabled</Status><Expiration><Days>31</Days></Expiration>");
  EXPECT_EQ(s3("PUT", "/lcy?lifecycle", {}, good).status, 200);
  r = s3("GET", "/lcy?lifecycle");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, "Rule/Prefix"), "a/");
  EXPECT_EQ(xml_text(r.body, "Rule/Expiration/Days"), "31");
  EXPECT_FALSE(xml_text(r.body, "Rule/ID").empty());  // an ID was given to the rule
  EXPECT_EQ(s3("DELETE", "/lcy?lifecycle").status, 204);
  EXPECT_EQ(s3("GET", "/lcy?lifecycle").status, 404);
}

TEST_F(S3Versioning, LifecycleExpiresOnTheManualClock) {
  make_bucket("exp");
  put("/exp/old/a", "x");
  put("/exp/keep/b", "x");
  s3("POST", "/exp/old/mp?uploads");
  ASSERT_EQ(s3("PUT", "/exp?lifecycle", {},
               "<LifecycleConfiguration><Rule><ID>old</ID><Filter><Prefix>old/</Prefix></Filter><Status>Enabled</Status>"
               "<Expiration><Days>1</Days></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>1"
               "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>")
                .status,
            200);
  EXPECT_EQ(app_->s3().apply_lifecycle(), 0u);
  EXPECT_EQ(s3("GET", "/exp/old/a").status, 200);
  // Two days later any request runs the due rules first.
  app_->manual_clock()->advance_ms(2 * kDay);
  EXPECT_EQ(s3("GET", "/exp/old/a").status, 404);
  EXPECT_EQ(s3("GET", "/exp/keep/b").status, 200);
  EXPECT_EQ(xml_all(s3("GET", "/exp?uploads").body, "Upload", "Key").size(), 0u);

  // Versioned: the current version expires into a delete marker; noncurrent ones after their days.
  make_bucket("vexp");
  enable("vexp");
  const std::string v1 = put("/vexp/k", "1");
  put("/vexp/k", "2");
  ASSERT_EQ(s3("PUT", "/vexp?lifecycle", {},
               "<LifecycleConfiguration><Rule><ID>nc</ID><Prefix></Prefix><Status>Enabled</Status>"
               "<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
               "</LifecycleConfiguration>")
                .status,
            200);
  app_->manual_clock()->advance_ms(2 * kDay);
  app_->s3().apply_lifecycle();
  EXPECT_EQ(s3("GET", "/vexp/k?versionId=" + v1).status, 200);
  app_->manual_clock()->advance_ms(2 * kDay);
  EXPECT_EQ(app_->s3().apply_lifecycle(), 1u);
  EXPECT_EQ(s3("GET", "/vexp/k?versionId=" + v1).status, 404);
  EXPECT_EQ(s3("GET", "/vexp/k").body, "2");
}

// ---- GetObjectAttributes ------------------------------------------------------------------

TEST_F(S3Versioning, GetObjectAttributes) {
  make_bucket("attr");
  put("/attr/k", "foo", {{"x-amz-checksum-sha256", ck::digest_base64(ck::Algorithm::sha256, "foo")}});
  auto r = s3("GET", "/attr/k?attributes", {{"x-amz-object-attributes", "ETag,Checksum,ObjectParts,StorageClass,ObjectSize"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ETag"), ck::digest_hex(ck::Algorithm::md5, "foo"));
  EXPECT_EQ(xml_text(r.body, "ObjectSize"), "3");
  EXPECT_EQ(xml_text(r.body, "StorageClass"), "STANDARD");
  EXPECT_EQ(xml_text(r.body, "Checksum/ChecksumSHA256"), ck::digest_base64(ck::Algorithm::sha256, "foo"));
  EXPECT_EQ(xml_text(r.body, "ObjectParts"), "<missing>");
  EXPECT_EQ(r.header("x-amz-version-id"), "");
  r = s3("GET", "/attr/k?attributes", {{"x-amz-object-attributes", "Bogus"}});
  EXPECT_TRUE(s3_error(r, 400, "InvalidArgument", "Invalid attribute name specified."));
  // A multipart object lists its parts, paged.
  r = s3("POST", "/attr/mp?uploads");
  const std::string upload = xml_text(r.body, "UploadId");
  const std::string big(5 * 1024 * 1024, 'x');
  std::string complete = "<CompleteMultipartUpload>";
  for (int n = 1; n <= 3; ++n) {
    r = s3("PUT", "/attr/mp?partNumber=" + std::to_string(n) + "&uploadId=" + upload, {}, n < 3 ? big : std::string("end"));
    complete += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + r.header("etag") + "</ETag></Part>";
  }
  ASSERT_EQ(s3("POST", "/attr/mp?uploadId=" + upload, {}, complete + "</CompleteMultipartUpload>").status, 200);
  r = s3("GET", "/attr/mp?attributes", {{"x-amz-object-attributes", "ObjectParts"}, {"x-amz-max-parts", "1"},
                                         {"x-amz-part-number-marker", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "ObjectParts/PartsCount"), "3");
  EXPECT_EQ(xml_text(r.body, "ObjectParts/IsTruncated"), "true");
  EXPECT_EQ(xml_text(r.body, "ObjectParts/NextPartNumberMarker"), "2");
  EXPECT_EQ(xml_text(r.body, "ObjectParts/Part/PartNumber"), "2");
  EXPECT_EQ(xml_text(r.body, "ObjectParts/Part/Size"), std::to_string(big.size()));
  r = s3("GET", "/attr/none?attributes", {{"x-amz-object-attributes", "ETag"}});
  EXPECT_TRUE(s3_error(r, 404, "NoSuchKey"));
}

}  // namespace
}  // namespace eddy::test
