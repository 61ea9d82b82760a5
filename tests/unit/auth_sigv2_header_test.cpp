// SigV2 header authentication ("Authorization: AWS AKID:signature") against requests signed by
// botocore 1.43.11's HmacV1Auth (boto3 with signature_version='s3'), Date frozen at
// Wed, 25 Nov 2026 12:00:00 GMT. Bucket-level requests sign the resource "/bucket/" (with the
// slash) whether path-style or virtual-hosted; sub-resources follow it ("/jars/?acl").
//
// Generator (botocore's own pipeline, the request captured in its before-send hook):
/*
import json
from unittest import mock
import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

captured = []
class Raw:
    def stream(self, *a, **k): return iter([b""])
def before_send(request, **kw):
    captured.append(request)
    r = AWSResponse(request.url, 200, {}, Raw()); r._content = b""
    return r
def esc(b):
    if isinstance(b, bytes): b = b.decode()
    return json.dumps(b)
def emit(name, req, host):
    from urllib.parse import urlsplit
    u = urlsplit(req.url)
    hdrs = [("Host", host)] + [(k, v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()
                               if k.lower() not in ("user-agent", "amz-sdk-invocation-id", "amz-sdk-request")]
    print(f"// {name}")
    print(f"const Vector {name}{{{esc(req.method)}, {esc(u.path)}, {esc(u.query)}, {{")
    for k, v in hdrs: print(f"    {{{esc(k)}, {esc(v)}}},")
    print("}, \"\"};")

with mock.patch("botocore.auth.formatdate", return_value="Wed, 25 Nov 2026 12:00:00 GMT"):
    s = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region_name="us-east-1")
    cfg = Config(signature_version="s3", s3={"addressing_style": "path"}, request_checksum_calculation="when_required", response_checksum_validation="when_required")
    c = s.client("s3", endpoint_url="http://127.0.0.1:4566", config=cfg)
    c.meta.events.register("before-send", before_send)
    h = "127.0.0.1:4566"
    c.create_bucket(Bucket="jars"); emit("kV2CreateBucket", captured[-1], h)
    c.list_objects(Bucket="jars", Prefix="lib/"); emit("kV2ListObjects", captured[-1], h)
    c.get_bucket_acl(Bucket="jars"); emit("kV2GetBucketAcl", captured[-1], h)
    c.list_object_versions(Bucket="jars"); emit("kV2ListVersions", captured[-1], h)
    c.list_multipart_uploads(Bucket="jars"); emit("kV2ListUploads", captured[-1], h)
    c.put_object(Bucket="jars", Key="lib/a b+c.jar", Body=b"", ContentType="application/java-archive", Metadata={"k": "v"}); emit("kV2PutObject", captured[-1], h)
    c.get_object(Bucket="jars", Key="lib/a.jar", ResponseContentType="text/x y", ResponseCacheControl="no-cache"); emit("kV2GetOverrides", captured[-1], h)
    c.upload_part(Bucket="jars", Key="big", PartNumber=2, UploadId="abc/+=", Body=b""); emit("kV2UploadPart", captured[-1], h)
    cv = s.client("s3", endpoint_url="http://localhost:4566", config=Config(signature_version="s3", s3={"addressing_style": "virtual"}, request_checksum_calculation="when_required"))
    cv.meta.events.register("before-send", before_send)
    cv.list_objects(Bucket="jars"); emit("kV2ListVirtual", captured[-1], "jars.localhost:4566")
    cv.get_bucket_acl(Bucket="jars"); emit("kV2AclVirtual", captured[-1], "jars.localhost:4566")
*/
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "server/auth/authenticator.h"
#include "server/clock.h"
#include "tests/unit/auth_test_util.h"
#include "wire/sigv4.h"

namespace eddy::auth {
namespace {

namespace sv4 = wire::sigv4;

using namespace testutil;  // Vector, make, detail, kSecret, kSignedAtMs

// kV2CreateBucket
const Vector kV2CreateBucket{"PUT", "/jars", "", {
    {"Host", "127.0.0.1:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:jEwQh3T7jTFC/0L+W7sdtr3etIk="},
    {"Content-Length", "0"},
}, ""};
// kV2ListObjects
const Vector kV2ListObjects{"GET", "/jars", "prefix=lib%2F&encoding-type=url", {
    {"Host", "127.0.0.1:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:mQ2KfDAOd/O1A9/B3Ztfz1VFRxU="},
}, ""};
// kV2GetBucketAcl
const Vector kV2GetBucketAcl{"GET", "/jars", "acl", {
    {"Host", "127.0.0.1:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:3GHkPpnK9BoMHg3qFqaFY1WxN8M="},
}, ""};
// kV2ListVersions
const Vector kV2ListVersions{"GET", "/jars", "versions&encoding-type=url", {
    {"Host", "127.0.0.1:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:ljcA/tWgw6VQVQAT6vDcQfoR21w="},
}, ""};
// kV2ListUploads
const Vector kV2ListUploads{"GET", "/jars", "uploads", {
    {"Host", "127.0.0.1:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:4rhDlQ+I7UQCEZwuqU4JR7arPWE="},
}, ""};
// kV2PutObject
const Vector kV2PutObject{"PUT", "/jars/lib/a%20b%2Bc.jar", "", {
    {"Host", "127.0.0.1:4566"},
    {"Content-Type", "application/java-archive"},
    {"x-amz-meta-k", "v"},
    {"Expect", "100-continue"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:9eOyUHHcRaeRlw1g6GUZYhq8qNk="},
    {"Content-Length", "0"},
}, ""};
// kV2GetOverrides
const Vector kV2GetOverrides{"GET", "/jars/lib/a.jar", "response-content-type=text%2Fx%20y&response-cache-control=no-cache", {
    {"Host", "127.0.0.1:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:ZB70n/BSlqom3rPfgwqqcmrpqPo="},
}, ""};
// kV2UploadPart
const Vector kV2UploadPart{"PUT", "/jars/big", "partNumber=2&uploadId=abc%2F%2B%3D", {
    {"Host", "127.0.0.1:4566"},
    {"Expect", "100-continue"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:3NerFhWFO9xkTxWksTQv3k5HBSQ="},
    {"Content-Length", "0"},
}, ""};
// kV2ListVirtual
const Vector kV2ListVirtual{"GET", "/", "encoding-type=url", {
    {"Host", "jars.localhost:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:mQ2KfDAOd/O1A9/B3Ztfz1VFRxU="},
}, ""};
// kV2AclVirtual
const Vector kV2AclVirtual{"GET", "/", "acl", {
    {"Host", "jars.localhost:4566"},
    {"Date", "Wed, 25 Nov 2026 12:00:00 GMT"},
    {"Authorization", "AWS AKIDEXAMPLE:3GHkPpnK9BoMHg3qFqaFY1WxN8M="},
}, ""};

class SigV2Header : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = make_credential_store();
    store_->add(Credential{"AKIDEXAMPLE", kSecret, {}, std::nullopt});
  }
  AuthResult verify(const http::Request& req) {
    Authenticator a(Mode::verify, *store_, clock_);
    return a.authenticate(req, "s3");
  }
  std::unique_ptr<CredentialStore> store_;
  ManualClock clock_{kSignedAtMs};
};

TEST_F(SigV2Header, Boto3RequestsVerify) {
  for (const Vector* v : {&kV2CreateBucket, &kV2ListObjects, &kV2GetBucketAcl, &kV2ListVersions, &kV2ListUploads,
                          &kV2PutObject, &kV2GetOverrides, &kV2UploadPart, &kV2ListVirtual, &kV2AclVirtual}) {
    auto r = verify(make(*v));
    EXPECT_TRUE(r.ok) << v->method << " " << v->path << "?" << v->query << ": " << r.code << " "
                      << detail(r, "StringToSign");
    EXPECT_EQ(r.access_key, "AKIDEXAMPLE");
  }
}

TEST_F(SigV2Header, CanonicalResourceOfBucketRequests) {
  // What was signed, as S3 would compute it: the bucket with its slash, then the sub-resources
  // (sorted, values decoded), nothing else from the query.
  EXPECT_EQ(verify(make(kV2CreateBucket)).string_to_sign, "PUT\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/");
  EXPECT_EQ(verify(make(kV2ListObjects)).string_to_sign, "GET\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/");
  EXPECT_EQ(verify(make(kV2GetBucketAcl)).string_to_sign, "GET\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/?acl");
  EXPECT_EQ(verify(make(kV2AclVirtual)).string_to_sign, "GET\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/?acl");
  EXPECT_EQ(verify(make(kV2UploadPart)).string_to_sign,
            "PUT\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/big?partNumber=2&uploadId=abc/+=");
  EXPECT_EQ(verify(make(kV2GetOverrides)).string_to_sign,
            "GET\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/lib/a.jar?response-cache-control=no-cache&response-content-type=text/x y");
  EXPECT_EQ(verify(make(kV2PutObject)).string_to_sign,
            "PUT\n\napplication/java-archive\nWed, 25 Nov 2026 12:00:00 GMT\nx-amz-meta-k:v\n/jars/lib/a%20b%2Bc.jar");
}

TEST_F(SigV2Header, BareBucketResourceOfOlderSignersIsAccepted) {
  // Signers that put "/jars" (no slash) in the resource of a path-style bucket request.
  http::Request r = make(kV2CreateBucket);
  const std::string sts = "PUT\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars";
  r.headers.set("Authorization", "AWS AKIDEXAMPLE:" + sv4::v2_signature(kSecret, sts));
  EXPECT_TRUE(verify(r).ok);
}

TEST_F(SigV2Header, MismatchReportsTheSlashForm) {
  http::Request r = make(kV2GetBucketAcl);
  r.query = "acl&versions";  // signed without ?versions
  r.target = r.path + "?" + r.query;
  auto res = verify(r);
  ASSERT_FALSE(res.ok);
  EXPECT_EQ(res.code, "SignatureDoesNotMatch");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(detail(res, "AWSAccessKeyId"), "AKIDEXAMPLE");
  EXPECT_EQ(detail(res, "StringToSign"), "GET\n\n\nWed, 25 Nov 2026 12:00:00 GMT\n/jars/?acl&versions");
  EXPECT_EQ(detail(res, "SignatureProvided"), "3GHkPpnK9BoMHg3qFqaFY1WxN8M=");
}

}  // namespace
}  // namespace eddy::auth
