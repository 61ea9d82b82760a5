// Security (docs/reliability.md, "Security"): the admin API's token, `--auth verify` over every
// operation of both services (botocore's models), and presigned URLs that cannot be widened.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "client/report.h"
#include "tests/api/s3_test_util.h"
#include "tests/support/server_fixture.h"
#include "tests/support/signing.h"
#include "wire/sigv4.h"

namespace eddy::test {
namespace {

namespace s4 = wire::sigv4;
using nlohmann::json;
using s3util::sign_s3;
using s3util::xml_text;

// --- the admin token --------------------------------------------------------------------------

class AdminToken : public ServerFixture {
 protected:
  void configure(Config& c) override { c.admin_token = "s3cr3t-token"; }
};

TEST_F(AdminToken, EveryAdminRequestButHealthNeedsIt) {
  // No token, a wrong one, one of the wrong length: 401 with a JSON error saying what to send.
  for (const auto& headers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {}, {{"Authorization", "Bearer wrong-token!"}}, {{"X-Eddy-Admin-Token", "s3cr3t"}},
           {{"Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request"}}}) {
    for (const char* path : {"/_eddy/clock", "/_eddy/faults", "/_eddy/report", "/_eddy/metrics", "/_eddy/throttle",
                             "/_localstack/init", "/_eddy/no-such-endpoint"}) {
      auto r = http("GET", path, headers);
      EXPECT_EQ(r.status, 401) << path;
      EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"eddy admin\"");
      EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find("--admin-token"), std::string::npos);
    }
    EXPECT_EQ(http("POST", "/_eddy/clock", headers, R"({"advance_ms":1})").status, 401);
  }
  // The three ways to send it.
  EXPECT_EQ(http("GET", "/_eddy/clock", {{"Authorization", "Bearer s3cr3t-token"}}).status, 200);
  EXPECT_EQ(http("GET", "/_eddy/clock", {{"authorization", "bearer s3cr3t-token"}}).status, 200);
  EXPECT_EQ(http("GET", "/_eddy/report?format=json", {{"X-Eddy-Admin-Token", "s3cr3t-token"}}).status, 200);
  EXPECT_EQ(http("GET", "/_eddy/report?format=json&token=s3cr3t-token").status, 200);
  EXPECT_EQ(http("GET", "/_eddy/no-such-endpoint", {{"X-Eddy-Admin-Token", "s3cr3t-token"}}).status, 404);
  // Health checks and the dashboard's static files need none (its data requests do).
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);
  EXPECT_EQ(http("HEAD", "/_eddy/health").status, 200);
  EXPECT_EQ(http("GET", "/_localstack/health").status, 200);
  EXPECT_EQ(http("GET", "/_eddy/").status, 200);
  EXPECT_EQ(http("GET", "/_eddy/dashboard/app.js").status, 200);
  // The services are not the admin API: a Kinesis call goes on as before.
  EXPECT_EQ(kinesis("ListStreams", json::object()).status, 200);
}

// `eddy report` sends the token it is given (--admin-token, or EDDY_ADMIN_TOKEN: the same
// variable that gives `eddy serve` its token and the ready.d scripts theirs).
TEST_F(AdminToken, EddyReportSendsIt) {
  client::ReportOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
  o.format = "json";
  o.output = (temp_dir("report-token") / "report.json").string();
  o.svg_file = (temp_dir("report-token") / "chart.svg").string();
  EXPECT_EQ(client::run_report(o), 1);  // none: 401, and the message says how to give it
  o.admin_token = "wrong";
  EXPECT_EQ(client::run_report(o), 1);
  o.admin_token = "s3cr3t-token";
  ASSERT_EQ(client::run_report(o), 0);
  std::ifstream in(o.output);
  const json report = json::parse(in, nullptr, false);
  EXPECT_TRUE(report.contains("streams")) << report.dump();
  std::ifstream svg(o.svg_file);
  const std::string chart((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(chart.find("<svg"), std::string::npos) << chart.substr(0, 200);
}

class LoopbackWithoutToken : public ServerFixture {};

TEST_F(LoopbackWithoutToken, AdminApiIsOpenAsBefore) {
  EXPECT_EQ(app_->admin_token(), "");
  EXPECT_EQ(http("GET", "/_eddy/clock").status, 200);
}

// Beyond loopback a token is generated: that decision is tests/unit/admin_token_test.cpp
// (servers in tests bind 127.0.0.1 only); its enforcement is AdminToken above.

// --- --auth verify over every operation -------------------------------------------------------

// Every operation of botocore 1.43.11's models (data/kinesis/2013-12-02, data/s3/2006-03-01).
const std::vector<std::string> kKinesisOperations = {
    "AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteResourcePolicy", "DeleteStream", "DeregisterStreamConsumer", "DescribeAccountSettings", "DescribeLimits", "DescribeStream", "DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring", "EnableEnhancedMonitoring", "GetRecords", "GetResourcePolicy", "GetShardIterator", "IncreaseStreamRetentionPeriod", "ListShards", "ListStreamConsumers", "ListStreams", "ListTagsForResource", "ListTagsForStream", "MergeShards", "PutRecord", "PutRecords", "PutResourcePolicy", "RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard", "StartStreamEncryption", "StopStreamEncryption", "SubscribeToShard", "TagResource", "UntagResource", "UpdateAccountSettings", "UpdateMaxRecordSize", "UpdateShardCount", "UpdateStreamMode", "UpdateStreamWarmThroughput"};

struct S3Operation {
  const char* name;
  const char* method;
  const char* uri;  // botocore's requestUri
};
const std::vector<S3Operation> kS3Operations = {
    {"AbortMultipartUpload", "DELETE", "/{Bucket}/{Key+}"},
    {"CompleteMultipartUpload", "POST", "/{Bucket}/{Key+}"},
    {"CopyObject", "PUT", "/{Bucket}/{Key+}"},
    {"CreateBucket", "PUT", "/{Bucket}"},
    {"CreateBucketMetadataConfiguration", "POST", "/{Bucket}?metadataConfiguration"},
    {"CreateBucketMetadataTableConfiguration", "POST", "/{Bucket}?metadataTable"},
    {"CreateMultipartUpload", "POST", "/{Bucket}/{Key+}?uploads"},
    {"CreateSession", "GET", "/{Bucket}?session"},
    {"DeleteBucket", "DELETE", "/{Bucket}"},
    {"DeleteBucketAnalyticsConfiguration", "DELETE", "/{Bucket}?analytics"},
    {"DeleteBucketCors", "DELETE", "/{Bucket}?cors"},
    {"DeleteBucketEncryption", "DELETE", "/{Bucket}?encryption"},
    {"DeleteBucketIntelligentTieringConfiguration", "DELETE", "/{Bucket}?intelligent-tiering"},
    {"DeleteBucketInventoryConfiguration", "DELETE", "/{Bucket}?inventory"},
    {"DeleteBucketLifecycle", "DELETE", "/{Bucket}?lifecycle"},
    {"DeleteBucketMetadataConfiguration", "DELETE", "/{Bucket}?metadataConfiguration"},
    {"DeleteBucketMetadataTableConfiguration", "DELETE", "/{Bucket}?metadataTable"},
    {"DeleteBucketMetricsConfiguration", "DELETE", "/{Bucket}?metrics"},
    {"DeleteBucketOwnershipControls", "DELETE", "/{Bucket}?ownershipControls"},
    {"DeleteBucketPolicy", "DELETE", "/{Bucket}?policy"},
    {"DeleteBucketReplication", "DELETE", "/{Bucket}?replication"},
    {"DeleteBucketTagging", "DELETE", "/{Bucket}?tagging"},
    {"DeleteBucketWebsite", "DELETE", "/{Bucket}?website"},
    {"DeleteObject", "DELETE", "/{Bucket}/{Key+}"},
    {"DeleteObjectTagging", "DELETE", "/{Bucket}/{Key+}?tagging"},
    {"DeleteObjects", "POST", "/{Bucket}?delete"},
    {"DeletePublicAccessBlock", "DELETE", "/{Bucket}?publicAccessBlock"},
    {"GetBucketAbac", "GET", "/{Bucket}?abac"},
    {"GetBucketAccelerateConfiguration", "GET", "/{Bucket}?accelerate"},
    {"GetBucketAcl", "GET", "/{Bucket}?acl"},
    {"GetBucketAnalyticsConfiguration", "GET", "/{Bucket}?analytics"},
    {"GetBucketCors", "GET", "/{Bucket}?cors"},
    {"GetBucketEncryption", "GET", "/{Bucket}?encryption"},
    {"GetBucketIntelligentTieringConfiguration", "GET", "/{Bucket}?intelligent-tiering"},
    {"GetBucketInventoryConfiguration", "GET", "/{Bucket}?inventory"},
    {"GetBucketLifecycle", "GET", "/{Bucket}?lifecycle"},
    {"GetBucketLifecycleConfiguration", "GET", "/{Bucket}?lifecycle"},
    {"GetBucketLocation", "GET", "/{Bucket}?location"},
    {"GetBucketLogging", "GET", "/{Bucket}?logging"},
    {"GetBucketMetadataConfiguration", "GET", "/{Bucket}?metadataConfiguration"},
    {"GetBucketMetadataTableConfiguration", "GET", "/{Bucket}?metadataTable"},
    {"GetBucketMetricsConfiguration", "GET", "/{Bucket}?metrics"},
    {"GetBucketNotification", "GET", "/{Bucket}?notification"},
    {"GetBucketNotificationConfiguration", "GET", "/{Bucket}?notification"},
    {"GetBucketOwnershipControls", "GET", "/{Bucket}?ownershipControls"},
    {"GetBucketPolicy", "GET", "/{Bucket}?policy"},
    {"GetBucketPolicyStatus", "GET", "/{Bucket}?policyStatus"},
    {"GetBucketReplication", "GET", "/{Bucket}?replication"},
    {"GetBucketRequestPayment", "GET", "/{Bucket}?requestPayment"},
    {"GetBucketTagging", "GET", "/{Bucket}?tagging"},
    {"GetBucketVersioning", "GET", "/{Bucket}?versioning"},
    {"GetBucketWebsite", "GET", "/{Bucket}?website"},
    {"GetObject", "GET", "/{Bucket}/{Key+}"},
    {"GetObjectAcl", "GET", "/{Bucket}/{Key+}?acl"},
    {"GetObjectAttributes", "GET", "/{Bucket}/{Key+}?attributes"},
    {"GetObjectLegalHold", "GET", "/{Bucket}/{Key+}?legal-hold"},
    {"GetObjectLockConfiguration", "GET", "/{Bucket}?object-lock"},
    {"GetObjectRetention", "GET", "/{Bucket}/{Key+}?retention"},
    {"GetObjectTagging", "GET", "/{Bucket}/{Key+}?tagging"},
    {"GetObjectTorrent", "GET", "/{Bucket}/{Key+}?torrent"},
    {"GetPublicAccessBlock", "GET", "/{Bucket}?publicAccessBlock"},
    {"HeadBucket", "HEAD", "/{Bucket}"},
    {"HeadObject", "HEAD", "/{Bucket}/{Key+}"},
    {"ListBucketAnalyticsConfigurations", "GET", "/{Bucket}?analytics"},
    {"ListBucketIntelligentTieringConfigurations", "GET", "/{Bucket}?intelligent-tiering"},
    {"ListBucketInventoryConfigurations", "GET", "/{Bucket}?inventory"},
    {"ListBucketMetricsConfigurations", "GET", "/{Bucket}?metrics"},
    {"ListBuckets", "GET", "/"},
    {"ListDirectoryBuckets", "GET", "/"},
    {"ListMultipartUploads", "GET", "/{Bucket}?uploads"},
    {"ListObjectVersions", "GET", "/{Bucket}?versions"},
    {"ListObjects", "GET", "/{Bucket}"},
    {"ListObjectsV2", "GET", "/{Bucket}?list-type=2"},
    {"ListParts", "GET", "/{Bucket}/{Key+}"},
    {"PutBucketAbac", "PUT", "/{Bucket}?abac"},
    {"PutBucketAccelerateConfiguration", "PUT", "/{Bucket}?accelerate"},
    {"PutBucketAcl", "PUT", "/{Bucket}?acl"},
    {"PutBucketAnalyticsConfiguration", "PUT", "/{Bucket}?analytics"},
    {"PutBucketCors", "PUT", "/{Bucket}?cors"},
    {"PutBucketEncryption", "PUT", "/{Bucket}?encryption"},
    {"PutBucketIntelligentTieringConfiguration", "PUT", "/{Bucket}?intelligent-tiering"},
    {"PutBucketInventoryConfiguration", "PUT", "/{Bucket}?inventory"},
    {"PutBucketLifecycle", "PUT", "/{Bucket}?lifecycle"},
    {"PutBucketLifecycleConfiguration", "PUT", "/{Bucket}?lifecycle"},
    {"PutBucketLogging", "PUT", "/{Bucket}?logging"},
    {"PutBucketMetricsConfiguration", "PUT", "/{Bucket}?metrics"},
    {"PutBucketNotification", "PUT", "/{Bucket}?notification"},
    {"PutBucketNotificationConfiguration", "PUT", "/{Bucket}?notification"},
    {"PutBucketOwnershipControls", "PUT", "/{Bucket}?ownershipControls"},
    {"PutBucketPolicy", "PUT", "/{Bucket}?policy"},
    {"PutBucketReplication", "PUT", "/{Bucket}?replication"},
    {"PutBucketRequestPayment", "PUT", "/{Bucket}?requestPayment"},
    {"PutBucketTagging", "PUT", "/{Bucket}?tagging"},
    {"PutBucketVersioning", "PUT", "/{Bucket}?versioning"},
    {"PutBucketWebsite", "PUT", "/{Bucket}?website"},
    {"PutObject", "PUT", "/{Bucket}/{Key+}"},
    {"PutObjectAcl", "PUT", "/{Bucket}/{Key+}?acl"},
    {"PutObjectLegalHold", "PUT", "/{Bucket}/{Key+}?legal-hold"},
    {"PutObjectLockConfiguration", "PUT", "/{Bucket}?object-lock"},
    {"PutObjectRetention", "PUT", "/{Bucket}/{Key+}?retention"},
    {"PutObjectTagging", "PUT", "/{Bucket}/{Key+}?tagging"},
    {"PutPublicAccessBlock", "PUT", "/{Bucket}?publicAccessBlock"},
    {"RenameObject", "PUT", "/{Bucket}/{Key+}?renameObject"},
    {"RestoreObject", "POST", "/{Bucket}/{Key+}?restore"},
    {"SelectObjectContent", "POST", "/{Bucket}/{Key+}?select&select-type=2"},
    {"UpdateBucketMetadataInventoryTableConfiguration", "PUT", "/{Bucket}?metadataInventoryTable"},
    {"UpdateBucketMetadataJournalTableConfiguration", "PUT", "/{Bucket}?metadataJournalTable"},
    {"UpdateObjectEncryption", "PUT", "/{Bucket}/{Key+}?encryption"},
    {"UploadPart", "PUT", "/{Bucket}/{Key+}"},
    {"UploadPartCopy", "PUT", "/{Bucket}/{Key+}"},
    {"WriteGetObjectResponse", "POST", "/WriteGetObjectResponse"}
};

class VerifyEveryOperation : public ServerFixture {
 protected:
  void configure(Config& c) override { c.auth = "verify"; }

  HttpResult kinesis_signed(const std::string& op, const std::string& secret) {
    s4::Request r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"Host", "127.0.0.1:" + std::to_string(app_->port())},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "Kinesis_20131202." + op}};
    s4::sign_request(r, signing_params({"test", secret, ""}, "us-east-1", "kinesis", signing_now(), s4::sha256_hex("{}")));
    return client_->request("POST", "/", headers_without_host(r), "{}");
  }
  // botocore's requestUri with a bucket and key filled in.
  static std::string s3_target(const S3Operation& op) {
    std::string t = op.uri;
    auto fill = [&t](const std::string& from, const std::string& to) {
      if (auto at = t.find(from); at != std::string::npos) t.replace(at, from.size(), to);
    };
    fill("{Bucket}", "guarded");
    fill("{Key+}", "some/key");
    return t;
  }
  HttpResult s3_call(const S3Operation& op, const std::string& secret) {
    const std::string target = s3_target(op);
    if (secret.empty()) return http(op.method, target);
    auto [headers, signed_req] = sign_s3(op.method, target, {}, "", app_->port(), "test", secret);
    return http(op.method, target, headers);
  }
};

TEST_F(VerifyEveryOperation, KinesisRefusesWrongAndMissingSignatures) {
  EXPECT_EQ(kKinesisOperations.size(), 39u);
  for (const auto& op : kKinesisOperations) {
    auto r = kinesis_signed(op, "wrong-secret");
    EXPECT_EQ(r.status, 400) << op;
    EXPECT_EQ(r.header("x-amzn-errortype"), "InvalidSignatureException") << op << ": " << r.body;
    r = http("POST", "/", {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202." + op}},
             "{}");
    EXPECT_EQ(r.status, 400) << op;
    EXPECT_EQ(r.header("x-amzn-errortype"), "MissingAuthenticationTokenException") << op << ": " << r.body;
  }
  // The right signature is served (the check above is the signature's, not the operation's).
  EXPECT_EQ(kinesis_signed("ListStreams", "test").status, 200);
  EXPECT_EQ(kinesis_signed("DescribeLimits", "test").status, 200);
}

TEST_F(VerifyEveryOperation, S3RefusesWrongSignaturesAndAnonymousRequestsChangeNothing) {
  EXPECT_EQ(kS3Operations.size(), 111u);
  // A private bucket and object, by the owner.
  S3Operation create{"CreateBucket", "PUT", "/{Bucket}"};
  ASSERT_EQ(s3_call(create, "test").status, 200);
  {
    auto [headers, sr] = sign_s3("PUT", "/guarded/some/key", {}, "kept", app_->port(), "test", "test");
    ASSERT_EQ(http("PUT", "/guarded/some/key", headers, "kept").status, 200);
  }
  for (const auto& op : kS3Operations) {
    auto r = s3_call(op, "wrong-secret");
    EXPECT_EQ(r.status, 403) << op.name << " " << op.method << " " << s3_target(op) << ": " << r.body;
    if (std::string(op.method) != "HEAD") {
      EXPECT_EQ(xml_text(r.body, "Code"), "SignatureDoesNotMatch") << op.name << ": " << r.body;
    }
    // Anonymous: never served on a private bucket.
    r = s3_call(op, "");
    EXPECT_GE(r.status, 400) << op.name << " anonymous was served: " << r.body;
  }
  // Nothing the refused requests asked for happened.
  auto [headers, sr] = sign_s3("GET", "/guarded/some/key", {}, "", app_->port(), "test", "test");
  auto r = http("GET", "/guarded/some/key", headers);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "kept");
}

// --- presigned URLs cannot be widened ---------------------------------------------------------

class PresignedUrls : public ServerFixture {
 protected:
  void configure(Config& c) override { c.auth = "verify"; }
  void SetUp() override {
    ServerFixture::SetUp();
    auto [bh, bs] = sign_s3("PUT", "/presigned", {}, "", app_->port(), "test", "test");
    ASSERT_EQ(http("PUT", "/presigned", bh).status, 200);
    for (const char* key : {"/presigned/a.txt", "/presigned/b.txt"}) {
      auto [h, s] = sign_s3("PUT", key, {}, key, app_->port(), "test", "test");
      ASSERT_EQ(http("PUT", key, h, key).status, 200);
    }
  }
  // A presigned GET (SigV4, host signed) of `path`, as path?query.
  std::string presign(const std::string& path, int expires_s, std::chrono::sys_seconds at = signing_now(),
                      const std::string& method = "GET") {
    s4::Request req;
    req.method = method;
    req.path = path;
    req.headers.emplace_back("Host", "127.0.0.1:" + std::to_string(app_->port()));
    s4::presign(req, signing_params({"test", "test", ""}, "us-east-1", "s3", at, "UNSIGNED-PAYLOAD"),
                std::chrono::seconds(expires_s));
    return req.path + "?" + req.query;
  }
  static void expect_refused(const HttpResult& r, const std::string& code, const std::string& what) {
    EXPECT_EQ(r.status, 403) << what << ": " << r.body;
    if (!r.body.empty()) {
      EXPECT_EQ(xml_text(r.body, "Code"), code) << what << ": " << r.body;
    }
  }
};

TEST_F(PresignedUrls, MethodKeyAndExpiryCannotBeChanged) {
  const std::string url = presign("/presigned/a.txt", 600);
  auto r = http("GET", url);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "/presigned/a.txt");

  // Another method on the same URL: a PUT that would overwrite, a DELETE, a HEAD.
  expect_refused(http("PUT", url, {}, "overwritten"), "SignatureDoesNotMatch", "PUT");
  expect_refused(http("DELETE", url), "SignatureDoesNotMatch", "DELETE");
  expect_refused(http("HEAD", url), "", "HEAD");
  // Another key (the signature moved onto another path).
  const std::string query = url.substr(url.find('?'));
  expect_refused(http("GET", "/presigned/b.txt" + query), "SignatureDoesNotMatch", "other key");
  expect_refused(http("GET", "/presigned/a.txt.bak" + query), "SignatureDoesNotMatch", "longer key");
  // A longer life: X-Amz-Expires raised, or an X-Amz-Date moved later.
  expect_refused(http("GET", std::regex_replace(url, std::regex("X-Amz-Expires=600"), "X-Amz-Expires=604800")),
                 "SignatureDoesNotMatch", "expires raised");
  const std::regex date("X-Amz-Date=\\d{8}T\\d{6}Z");
  // Signed a minute ago, its date moved to now (a life a minute longer): the signature fails. Moved
  // into the future it is not valid yet, as S3 says.
  auto amz_date = [](std::chrono::sys_seconds t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "X-Amz-Date=%Y%m%dT%H%M%SZ", &tm);
    return std::string(buf);
  };
  const std::string earlier = presign("/presigned/a.txt", 600, signing_now() - std::chrono::seconds(60));
  ASSERT_EQ(http("GET", earlier).status, 200);
  expect_refused(http("GET", std::regex_replace(earlier, date, amz_date(signing_now()))), "SignatureDoesNotMatch",
                 "date moved later");
  // Dated an hour ahead, credential scope and all (moving only X-Amz-Date an hour on would cross
  // midnight after 23:00 UTC and get the scope-date error instead).
  r = http("GET", presign("/presigned/a.txt", 600, signing_now() + std::chrono::hours(1)));
  expect_refused(r, "AccessDenied", "dated in the future");
  EXPECT_EQ(xml_text(r.body, "Message"), "Request is not valid yet");
  // An expired URL stays expired: signed two hours ago for one hour.
  const std::string old = presign("/presigned/a.txt", 3600, signing_now() - std::chrono::hours(2));
  r = http("GET", old);
  expect_refused(r, "AccessDenied", "expired");
  EXPECT_EQ(xml_text(r.body, "Message"), "Request has expired");
  // Nothing was overwritten or deleted.
  auto [h, s] = sign_s3("GET", "/presigned/a.txt", {}, "", app_->port(), "test", "test");
  EXPECT_EQ(http("GET", "/presigned/a.txt", h).body, "/presigned/a.txt");
  // A presigned PUT is a PUT only, of its key only.
  const std::string put = presign("/presigned/c.txt", 600, signing_now(), "PUT");
  expect_refused(http("GET", put), "SignatureDoesNotMatch", "GET on a presigned PUT");
  expect_refused(http("PUT", "/presigned/a.txt" + put.substr(put.find('?')), {}, "x"), "SignatureDoesNotMatch",
                 "presigned PUT on another key");
  EXPECT_EQ(http("PUT", put, {}, "new").status, 200);
}

}  // namespace
}  // namespace eddy::test
