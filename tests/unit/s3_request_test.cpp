// The S3 request model (server/s3/s3_request.h): one table of host/path -> bucket, key,
// addressing style and AWS operation. Every caller is checked against the same table: the
// model itself, metrics' per-bucket classification and fault-rule matching (the S3 service
// and SigV2 call the same parser; tests/api/faults_test.cpp checks the service agrees).
#include "server/s3/s3_request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/clock.h"
#include "server/config.h"
#include "server/limits/fault_engine.h"
#include "server/metrics/s3_request_counter.h"

namespace eddy::s3 {
namespace {

struct Row {
  const char* method;
  const char* host;
  const char* target;
  const char* bucket;
  const char* key;
  bool virtual_host;
  const char* operation;
  Op op;
  bool copy = false;  // x-amz-copy-source present
};

// clang-format off
const Row kTable[] = {
    // service
    {"GET", "127.0.0.1:4566", "/", "", "", false, "ListBuckets", Op::list_buckets},
    {"PUT", "127.0.0.1:4566", "/", "", "", false, "PUT", Op::other},
    {"OPTIONS", "127.0.0.1:4566", "/b/k", "b", "k", false, "OPTIONS", Op::preflight},
    // path style: buckets
    {"PUT", "127.0.0.1:4566", "/bkt", "bkt", "", false, "CreateBucket", Op::create_bucket},
    {"DELETE", "localhost:4566", "/bkt", "bkt", "", false, "DeleteBucket", Op::delete_bucket},
    {"HEAD", "localhost", "/bkt", "bkt", "", false, "HeadBucket", Op::head_bucket},
    {"GET", "localhost", "/bkt/", "bkt", "", false, "ListObjects", Op::list_objects},
    {"GET", "localhost", "/bkt?list-type=2&prefix=a", "bkt", "", false, "ListObjectsV2", Op::list_objects_v2},
    {"GET", "localhost", "/bkt?versions", "bkt", "", false, "ListObjectVersions", Op::list_object_versions},
    {"GET", "localhost", "/bkt?uploads", "bkt", "", false, "ListMultipartUploads", Op::list_multipart_uploads},
    {"GET", "localhost", "/bkt?location", "bkt", "", false, "GetBucketLocation", Op::get_bucket_location},
    {"GET", "localhost", "/bkt?versioning", "bkt", "", false, "GetBucketVersioning", Op::get_bucket_versioning},
    {"PUT", "localhost", "/bkt?versioning", "bkt", "", false, "PutBucketVersioning", Op::put_bucket_versioning},
    {"GET", "localhost", "/bkt?acl", "bkt", "", false, "GetBucketAcl", Op::get_bucket_acl},
    {"PUT", "localhost", "/bkt?acl", "bkt", "", false, "PutBucketAcl", Op::put_bucket_acl},
    {"GET", "localhost", "/bkt?cors", "bkt", "", false, "GetBucketCors", Op::get_bucket_cors},
    {"PUT", "localhost", "/bkt?cors", "bkt", "", false, "PutBucketCors", Op::put_bucket_cors},
    {"DELETE", "localhost", "/bkt?cors", "bkt", "", false, "DeleteBucketCors", Op::delete_bucket_cors},
    {"POST", "localhost", "/bkt?delete", "bkt", "", false, "DeleteObjects", Op::delete_objects},
    {"POST", "localhost", "/bkt", "bkt", "", false, "PostObject", Op::other},
    {"GET", "localhost", "/bkt?tagging", "bkt", "", false, "GetBucketTagging", Op::other},
    {"PUT", "localhost", "/bkt?policy", "bkt", "", false, "PutBucketPolicy", Op::other},
    {"DELETE", "localhost", "/bkt?lifecycle", "bkt", "", false, "DeleteBucketLifecycle", Op::delete_bucket_lifecycle},
    {"PUT", "localhost", "/bkt?lifecycle", "bkt", "", false, "PutBucketLifecycleConfiguration", Op::put_bucket_lifecycle},
    {"GET", "localhost", "/bkt?lifecycle", "bkt", "", false, "GetBucketLifecycleConfiguration", Op::get_bucket_lifecycle},
    {"PUT", "localhost", "/bkt?object-lock", "bkt", "", false, "PutObjectLockConfiguration", Op::put_object_lock_configuration},
    {"GET", "localhost", "/bkt?object-lock", "bkt", "", false, "GetObjectLockConfiguration", Op::get_object_lock_configuration},
    {"DELETE", "localhost", "/bkt?notification", "bkt", "", false, "DeleteBucket", Op::delete_bucket},
    {"GET", "localhost", "/bkt?publicAccessBlock", "bkt", "", false, "GetPublicAccessBlock", Op::other},
    {"PATCH", "localhost", "/bkt", "bkt", "", false, "PATCH", Op::other},
    // path style: objects (keys percent-decoded once; the SDKs' x-id hint ignored)
    {"PUT", "127.0.0.1:4566", "/bkt/logs/2024/a%20b.txt", "bkt", "logs/2024/a b.txt", false, "PutObject", Op::put_object},
    {"PUT", "127.0.0.1:4566", "/bkt/k?x-id=PutObject", "bkt", "k", false, "PutObject", Op::put_object},
    {"PUT", "127.0.0.1:4566", "/bkt/a+b%2Bc", "bkt", "a+b+c", false, "PutObject", Op::put_object},
    {"PUT", "127.0.0.1:4566", "/bkt/k", "bkt", "k", false, "CopyObject", Op::copy_object, true},
    {"GET", "127.0.0.1:4566", "/bkt/k", "bkt", "k", false, "GetObject", Op::get_object},
    {"HEAD", "127.0.0.1:4566", "/bkt/k", "bkt", "k", false, "HeadObject", Op::head_object},
    {"DELETE", "127.0.0.1:4566", "/bkt/k", "bkt", "k", false, "DeleteObject", Op::delete_object},
    {"GET", "127.0.0.1:4566", "/bkt/k?acl", "bkt", "k", false, "GetObjectAcl", Op::get_object_acl},
    {"PUT", "127.0.0.1:4566", "/bkt/k?acl", "bkt", "k", false, "PutObjectAcl", Op::put_object_acl},
    {"POST", "127.0.0.1:4566", "/bkt/k?uploads", "bkt", "k", false, "CreateMultipartUpload", Op::create_multipart_upload},
    {"PUT", "127.0.0.1:4566", "/bkt/k?partNumber=1&uploadId=x", "bkt", "k", false, "UploadPart", Op::upload_part},
    {"PUT", "127.0.0.1:4566", "/bkt/k?partNumber=1&uploadId=x", "bkt", "k", false, "UploadPartCopy", Op::upload_part_copy, true},
    {"POST", "127.0.0.1:4566", "/bkt/k?uploadId=x", "bkt", "k", false, "CompleteMultipartUpload", Op::complete_multipart_upload},
    {"DELETE", "127.0.0.1:4566", "/bkt/k?uploadId=x", "bkt", "k", false, "AbortMultipartUpload", Op::abort_multipart_upload},
    {"GET", "127.0.0.1:4566", "/bkt/k?uploadId=x", "bkt", "k", false, "ListParts", Op::list_parts},
    {"GET", "127.0.0.1:4566", "/bkt/k?tagging", "bkt", "k", false, "GetObjectTagging", Op::other},
    {"GET", "127.0.0.1:4566", "/bkt/k?attributes", "bkt", "k", false, "GetObjectAttributes", Op::get_object_attributes},
    {"PUT", "localhost", "/bkt/k?retention", "bkt", "k", false, "PutObjectRetention", Op::put_object_retention},
    {"GET", "localhost", "/bkt/k?retention", "bkt", "k", false, "GetObjectRetention", Op::get_object_retention},
    {"PUT", "localhost", "/bkt/k?legal-hold", "bkt", "k", false, "PutObjectLegalHold", Op::put_object_legal_hold},
    {"GET", "localhost", "/bkt/k?legal-hold", "bkt", "k", false, "GetObjectLegalHold", Op::get_object_legal_hold},
    {"POST", "127.0.0.1:4566", "/bkt/k?restore", "bkt", "k", false, "RestoreObject", Op::other},
    {"POST", "127.0.0.1:4566", "/bkt/k", "bkt", "k", false, "POST", Op::other},
    {"GET", "[::1]:4566", "/bkt/k", "bkt", "k", false, "GetObject", Op::get_object},
    {"GET", "s3.amazonaws.com", "/bkt/dir/k.jar", "bkt", "dir/k.jar", false, "GetObject", Op::get_object},
    // virtual-hosted: the bucket from Host (case-insensitive), the whole path is the key
    {"GET", "b2.localhost:4566", "/k", "b2", "k", true, "GetObject", Op::get_object},
    {"GET", "vbucket.s3.us-east-1.amazonaws.com", "/some/key", "vbucket", "some/key", true, "GetObject", Op::get_object},
    {"GET", "vb.s3-eu-west-1.amazonaws.com", "/", "vb", "", true, "ListObjects", Op::list_objects},
    {"GET", "vhb.s3.localhost.localstack.cloud:4566", "/a/b", "vhb", "a/b", true, "GetObject", Op::get_object},
    {"PUT", "MixedCase.localhost", "/k", "mixedcase", "k", true, "PutObject", Op::put_object},
    {"GET", "MiXeD.S3.amazonaws.com", "/k", "mixed", "k", true, "GetObject", Op::get_object},
    // ".localhost" is checked first: x.s3.localhost is bucket "x.s3" (the service's reading)
    {"GET", "x.s3.localhost:4566", "/k", "x.s3", "k", true, "GetObject", Op::get_object},
    {"GET", "x.s3.localhost", "/", "x.s3", "", true, "ListObjects", Op::list_objects},
    {"PUT", "dotted.name.localhost:4566", "/k/", "dotted.name", "k/", true, "PutObject", Op::put_object},
};
// clang-format on

http::Request request(const Row& row) {
  http::Request r;
  r.method = row.method;
  r.target = row.target;
  const std::string t = row.target;
  const auto q = t.find('?');
  r.path = t.substr(0, q);
  if (q != std::string::npos) r.query = t.substr(q + 1);
  r.headers.add("Host", row.host);
  if (row.copy) r.headers.add("x-amz-copy-source", "/src/key");
  return r;
}

std::string describe(const Row& row) {
  return std::string(row.method) + " " + row.host + " " + row.target + (row.copy ? " (copy)" : "");
}

TEST(S3Request, TheTable) {
  for (const Row& row : kTable) {
    const S3Request r = parse_request(request(row));
    EXPECT_EQ(r.bucket, row.bucket) << describe(row);
    EXPECT_EQ(r.key, row.key) << describe(row);
    EXPECT_EQ(r.virtual_host, row.virtual_host) << describe(row);
    EXPECT_EQ(r.operation, row.operation) << describe(row);
    EXPECT_EQ(r.op, row.op) << describe(row);
    if (row.op != Op::other) {
      EXPECT_EQ(operation_name(row.op), row.operation) << describe(row);
    }
  }
}

TEST(S3Request, MetricsCountTheBucketOfTheTable) {
  for (const Row& row : kTable) {
    const http::Request req = request(row);
    EXPECT_EQ(metrics::classify_s3_request(parse_request(req), req.method).bucket, row.bucket) << describe(row);
  }
}

TEST(S3Request, FaultRulesMatchTheBucketKeyAndOperationOfTheTable) {
  ManualClock clock(0);
  Config config;
  limits::FaultEngine engine(config, clock);
  for (const Row& row : kTable) {
    if (std::string_view(row.bucket).empty()) continue;
    nlohmann::json rule{{"service", "s3"}, {"bucket", row.bucket}, {"operation", row.operation},
                        {"action", "error"}, {"error_code", "SlowDown"}};
    if (*row.key) rule["key_prefix"] = row.key;
    std::string why;
    ASSERT_TRUE(engine.replace(nlohmann::json::array({rule}), &why)) << why;
    const http::Request req = request(row);
    const auto fault = engine.s3_fault(req, parse_request(req));
    ASSERT_TRUE(fault.answer.has_value()) << describe(row);
    EXPECT_EQ(fault.answer->status, 503) << describe(row);
  }
}

TEST(S3Request, VirtualHostBuckets) {
  EXPECT_EQ(virtual_host_bucket("b.localhost"), "b");
  EXPECT_EQ(virtual_host_bucket(" B.LocalHost:80 "), "b");
  EXPECT_EQ(virtual_host_bucket("localhost"), "");
  EXPECT_EQ(virtual_host_bucket(".localhost"), "");
  EXPECT_EQ(virtual_host_bucket("s3.amazonaws.com"), "");
  EXPECT_EQ(virtual_host_bucket(".s3.amazonaws.com"), "");
  EXPECT_EQ(virtual_host_bucket("127.0.0.1:4566"), "");
  EXPECT_EQ(virtual_host_bucket("[::1]:4566"), "");
  EXPECT_EQ(virtual_host_bucket(""), "");
}

TEST(S3Request, QueryIsDecodedWithTheFirstValueOfEachName) {
  http::Request req;
  req.method = "GET";
  req.path = "/b";
  req.query = "prefix=a%2Fb&prefix=second&delimiter=%2F&x-id=ListObjects&encoding-type=url";
  const S3Request r = parse_request(req);
  EXPECT_EQ(r.query.at("prefix"), "a/b");
  EXPECT_EQ(r.query.at("delimiter"), "/");
  EXPECT_EQ(r.query.count("x-id"), 0u);
  EXPECT_EQ(r.query.count("encoding-type"), 1u);
}

}  // namespace
}  // namespace eddy::s3
