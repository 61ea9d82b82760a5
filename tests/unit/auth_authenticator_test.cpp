// The authenticator against requests signed by botocore 1.43.11 (signing time frozen at
// 2026-11-25T12:00:00Z), and against requests signed by wire/sigv4 for the edge cases.
//
// The vectors were produced by this script (botocore's own pipeline, the request captured in
// its before-send hook; headers that are not signed, like amz-sdk-invocation-id, vary):
/*
import datetime, json, time
from unittest import mock
import boto3, botocore.auth
from botocore.awsrequest import AWSResponse
from botocore.config import Config

FIXED = datetime.datetime(2026, 11, 25, 12, 0, 0)
EPOCH = 1795608000  # 2026-11-25T12:00:00Z
captured = []

class Raw:
    def stream(self, *a, **k): return iter([b""])
def before_send(request, **kw):
    captured.append(request)
    body = b"{}" if "kinesis" in request.url or "X-Amz-Target" in request.headers else b""
    if request.headers.get("X-Amz-Target"): body = b'{"StreamNames":[],"HasMoreStreams":false}'
    r = AWSResponse(request.url, 200, {}, Raw()); r._content = body
    return r

def esc(b):
    if isinstance(b, bytes): b = b.decode()
    return json.dumps(b)

def emit(name, req, host="127.0.0.1:4566"):
    from urllib.parse import urlsplit
    u = urlsplit(req.url)
    hdrs = [("Host", host)] + [(k, v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()]
    body = req.body or b""
    if hasattr(body, "read"): body = body.read()
    print(f"// {name}")
    print(f"const Vector {name}{{{esc(req.method)}, {esc(u.path)}, {esc(u.query)}, {{")
    for k, v in hdrs: print(f"    {{{esc(k)}, {esc(v)}}},")
    print(f"}}, {esc(body)}}};")

with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED), \
     mock.patch("botocore.auth.time.time", return_value=EPOCH), \
     mock.patch("botocore.signers.datetime") as sd:
    sd.datetime.now.return_value = FIXED
    s = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region_name="us-east-1")
    cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required", response_checksum_validation="when_required")
    s3 = s.client("s3", endpoint_url="http://127.0.0.1:4566", config=cfg)
    s3.meta.events.register("before-send", before_send)
    s3.get_object(Bucket="jars", Key="lib/a b+c.jar")
    emit("kS3Get", captured[-1])
    s3s = s.client("s3", endpoint_url="https://127.0.0.1:4567", config=Config(s3={"addressing_style": "path", "payload_signing_enabled": False}, request_checksum_calculation="when_required"))
    s3s.meta.events.register("before-send", before_send)
    s3s.put_object(Bucket="jars", Key="x.txt", Body=b"hello eddy")
    emit("kS3PutUnsigned", captured[-1], host="127.0.0.1:4567")
    s3c = s.client("s3", endpoint_url="https://127.0.0.1:4567", config=Config(s3={"addressing_style": "path"}))
    s3c.meta.events.register("before-send", before_send)
    s3c.put_object(Bucket="jars", Key="z.txt", Body=b"hello eddy")
    emit("kS3PutChunked", captured[-1], host="127.0.0.1:4567")
    s3v = s.client("s3", endpoint_url="http://localhost:4566", config=Config(s3={"addressing_style": "virtual"}, request_checksum_calculation="when_required"))
    s3v.meta.events.register("before-send", before_send)
    s3v.get_object(Bucket="jars", Key="lib/a.jar", Range="bytes=0-9")
    emit("kS3GetVirtual", captured[-1], host="jars.localhost:4566")
    s3h = s.client("s3", endpoint_url="http://127.0.0.1:4566", config=Config(s3={"addressing_style": "path", "payload_signing_enabled": True}, request_checksum_calculation="when_required"))
    s3h.meta.events.register("before-send", before_send)
    s3h.put_object(Bucket="jars", Key="y.txt", Body=b"hello eddy")
    emit("kS3PutHex", captured[-1])
    s3.list_objects_v2(Bucket="jars", Prefix="lib/", Delimiter="/")
    emit("kS3List", captured[-1])
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "jars", "Key": "lib/a.jar"}, ExpiresIn=600)
    print("// presigned v4:", url)
    s3v4 = s.client("s3", endpoint_url="http://127.0.0.1:4566", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url4 = s3v4.generate_presigned_url("get_object", Params={"Bucket": "jars", "Key": "lib/a.jar"}, ExpiresIn=600)
    print("const char* kPresignV4 =", esc(url4), ";")
    s3v2 = s.client("s3", endpoint_url="http://127.0.0.1:4566", config=Config(signature_version="s3", s3={"addressing_style": "path"}))
    url2 = s3v2.generate_presigned_url("get_object", Params={"Bucket": "jars", "Key": "lib/a.jar"}, ExpiresIn=600)
    print("const char* kPresignV2 =", esc(url2), ";")
    s3vh = s.client("s3", endpoint_url="http://localhost:4566", config=Config(signature_version="s3", s3={"addressing_style": "virtual"}))
    url2v = s3vh.generate_presigned_url("get_object", Params={"Bucket": "jars", "Key": "lib/a.jar"}, ExpiresIn=600)
    print("const char* kPresignV2Virtual =", esc(url2v), ";")
    k = s.client("kinesis", endpoint_url="http://127.0.0.1:4566")
    k.meta.events.register("before-send", before_send)
    k.list_streams()
    emit("kKinesisListStreams", captured[-1])
    k.put_record(StreamName="s1", Data=b"hi", PartitionKey="p")
    emit("kKinesisPutRecord", captured[-1])
    st = boto3.session.Session(aws_access_key_id="ASIAEDDYTEMPORARY001", aws_secret_access_key="tempsecret", aws_session_token="tok123", region_name="us-east-1")
    kt = st.client("kinesis", endpoint_url="http://127.0.0.1:4566")
    kt.meta.events.register("before-send", before_send)
    kt.list_streams()
    emit("kKinesisTemp", captured[-1])
*/
#include "server/auth/authenticator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "server/clock.h"
#include "tests/support/signing.h"
#include "tests/unit/auth_test_util.h"
#include "wire/sigv4.h"

namespace eddy::auth {
namespace {

namespace sv4 = wire::sigv4;

using namespace testutil;  // Vector, make, detail, kSecret, kSignedAtMs

// kS3Get
const Vector kS3Get{"GET", "/jars/lib/a%20b%2Bc.jar", "", {
    {"Host", "127.0.0.1:4566"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,c,D,a,N cfg/retry-mode#legacy Botocore/1.43.11"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=fb4edd71c61731ef484409135226d3856c2d72da9cc36fcdcacae0bd41ceb052"},
    {"amz-sdk-invocation-id", "dc6b0654-1830-44c0-a852-ec27d823a369"},
    {"amz-sdk-request", "attempt=1"},
}, ""};
// kS3PutUnsigned
const Vector kS3PutUnsigned{"PUT", "/jars/x.txt", "", {
    {"Host", "127.0.0.1:4567"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,a,b cfg/retry-mode#legacy Botocore/1.43.11"},
    {"Expect", "100-continue"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=47d3db485a5259f7c5208ee185578b4e0d4a2e3735b8e64f028d34f08b65c2aa"},
    {"amz-sdk-invocation-id", "ac7f4488-0371-448d-b57a-2d1605a5fdde"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "10"},
}, "hello eddy"};
// kS3PutChunked
const Vector kS3PutChunked{"PUT", "/jars/z.txt", "", {
    {"Host", "127.0.0.1:4567"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,b,Z,U cfg/retry-mode#legacy Botocore/1.43.11"},
    {"Expect", "100-continue"},
    {"Transfer-Encoding", "chunked"},
    {"Content-Encoding", "aws-chunked"},
    {"X-Amz-Trailer", "x-amz-checksum-crc32"},
    {"X-Amz-Decoded-Content-Length", "10"},
    {"x-amz-sdk-checksum-algorithm", "CRC32"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Content-SHA256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=409bc0004dfbda18f8b62c5b8f6ab76f3b161ae41bec0644e43e6dfbe678b298"},
    {"amz-sdk-invocation-id", "121b69be-a3d3-47d2-b197-fb3557c46085"},
    {"amz-sdk-request", "attempt=1"},
}, "a\r\nhello eddy\r\n0\r\nx-amz-checksum-crc32:rxHqAQ==\r\n\r\n"};
// kS3GetVirtual
const Vector kS3GetVirtual{"GET", "/lib/a.jar", "", {
    {"Host", "jars.localhost:4566"},
    {"Range", "bytes=0-9"},
    {"x-amz-checksum-mode", "ENABLED"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,a,b cfg/retry-mode#legacy Botocore/1.43.11"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date, Signature=68ebbd7fc0b63e4f9e61f3b906ca2013694b3d25017ecad125286f17b623b596"},
    {"amz-sdk-invocation-id", "c61582d2-be75-4730-91f9-6cceb77aacc0"},
    {"amz-sdk-request", "attempt=1"},
}, ""};
// kS3PutHex
const Vector kS3PutHex{"PUT", "/jars/y.txt", "", {
    {"Host", "127.0.0.1:4566"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,a,b cfg/retry-mode#legacy Botocore/1.43.11"},
    {"Expect", "100-continue"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Content-SHA256", "300bf19987b2edea6dda39d2e486ea5e18317722dbe4a95e3d0b9b0a743a4c83"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=8e61f01c41341caaaa7b841407b84814b4fdf889f948107dd18047996391de4c"},
    {"amz-sdk-invocation-id", "9de3ee57-152a-4c31-8677-0703823267c9"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "10"},
}, "hello eddy"};
// kS3List
const Vector kS3List{"GET", "/jars", "list-type=2&prefix=lib%2F&delimiter=%2F&encoding-type=url", {
    {"Host", "127.0.0.1:4566"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,c,D,a,N cfg/retry-mode#legacy Botocore/1.43.11"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=2a305d3c27ad52d84143d658d2b9a11398a370202d6b926cd79b1633d3acd47b"},
    {"amz-sdk-invocation-id", "4d254a46-baae-4bfc-a5bb-f9f942f367dd"},
    {"amz-sdk-request", "attempt=1"},
}, ""};
const char* kPresignV4 = "http://127.0.0.1:4566/jars/lib/a.jar?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261125T120000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=f14728d62a30fce5c36c2507039a7c827da7082f367dedc7c8fa8469e5bfcb18" ;
const char* kPresignV2 = "http://127.0.0.1:4566/jars/lib/a.jar?AWSAccessKeyId=AKIDEXAMPLE&Signature=tyOzEDxxSn7Z0dC0nPdmqffLNoM%3D&Expires=1795608600" ;
const char* kPresignV2Virtual = "http://jars.localhost:4566/lib/a.jar?AWSAccessKeyId=AKIDEXAMPLE&Signature=tyOzEDxxSn7Z0dC0nPdmqffLNoM%3D&Expires=1795608600" ;
// kKinesisListStreams
const Vector kKinesisListStreams{"POST", "/", "", {
    {"Host", "127.0.0.1:4566"},
    {"X-Amz-Target", "Kinesis_20131202.ListStreams"},
    {"Content-Type", "application/x-amz-json-1.1"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,b,Z cfg/retry-mode#legacy Botocore/1.43.11"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=345f4bb9de2a569d8bd994039628e54c7a26865b3e279ff136201ebe4649f7d1"},
    {"amz-sdk-invocation-id", "4036bab9-110d-4275-9d9b-a495fb48faba"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "2"},
}, "{}"};
// kKinesisPutRecord
const Vector kKinesisPutRecord{"POST", "/", "", {
    {"Host", "127.0.0.1:4566"},
    {"X-Amz-Target", "Kinesis_20131202.PutRecord"},
    {"Content-Type", "application/x-amz-json-1.1"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,b,Z cfg/retry-mode#legacy Botocore/1.43.11"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=18dcc482c4db8f18b2b1ca78dc9bccbb232ef27d6662c49861fe625a41bcf590"},
    {"amz-sdk-invocation-id", "8e973d57-2aa5-441c-9390-178dba93270e"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "57"},
}, "{\"StreamName\": \"s1\", \"Data\": \"aGk=\", \"PartitionKey\": \"p\"}"};
// kKinesisTemp
const Vector kKinesisTemp{"POST", "/", "", {
    {"Host", "127.0.0.1:4566"},
    {"X-Amz-Target", "Kinesis_20131202.ListStreams"},
    {"Content-Type", "application/x-amz-json-1.1"},
    {"User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,N,D,b,Z cfg/retry-mode#legacy Botocore/1.43.11"},
    {"X-Amz-Date", "20261125T120000Z"},
    {"X-Amz-Security-Token", "tok123"},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=ASIAEDDYTEMPORARY001/20261125/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=93ad15189d0b49a5789dab1c2ec683ef4c1732fc57b6dc2aba1764c3d698f2c6"},
    {"amz-sdk-invocation-id", "c1e9781f-36d4-44b1-8334-219b92375829"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "2"},
}, "{}"};

// A request from a URL as a client would send it (path and query as on the wire).
http::Request from_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string host = url.substr(scheme_end + 3, path_start - scheme_end - 3);
  const std::string target = url.substr(path_start);
  http::Request r;
  r.method = "GET";
  r.target = target;
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.headers.add("Host", host);
  return r;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = make_credential_store();
    store_->add(Credential{"AKIDEXAMPLE", kSecret, {}, std::nullopt});
  }
  AuthResult run(Mode mode, const http::Request& req, std::string_view service) {
    Authenticator a(mode, *store_, clock_);
    return a.authenticate(req, service);
  }
  AuthResult verify(const http::Request& req, std::string_view service) { return run(Mode::verify, req, service); }

  // A request signed by wire/sigv4 at the clock's time.
  http::Request signed_s3(const std::string& method, const std::string& path, const sv4::Credentials& creds,
                          const std::string& payload_hash = std::string(sv4::kUnsignedPayload)) {
    sv4::Request sr;
    sr.method = method;
    sr.path = path;
    sr.headers.emplace_back("Host", "127.0.0.1:4566");
    last_signing_ = sv4::sign_request(sr, test::signing_params(creds, "eu-west-1", "s3", test::signing_time(clock_.now_ms()),
                                                               payload_hash));
    return test::to_http_request(sr);
  }

  std::unique_ptr<CredentialStore> store_;
  ManualClock clock_{kSignedAtMs};
  sv4::SigningResult last_signing_;
};

// --- off and any -----------------------------------------------------------------------------

TEST_F(AuthTest, OffAcceptsEverythingAndSaysWhetherItWasAnonymous) {
  http::Request anon;
  anon.method = "GET";
  anon.path = "/jars/a";
  auto r = run(Mode::off, anon, "s3");
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.anonymous);
  auto bad = make(kS3Get);
  bad.headers.set("Authorization", "garbage");
  r = run(Mode::off, bad, "s3");
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.anonymous);
}

TEST_F(AuthTest, AnyReportsAnonymousRequestsWithoutFailingThemOutright) {
  http::Request anon;
  anon.method = "GET";
  anon.path = "/jars/a";
  anon.headers.add("Host", "127.0.0.1:4566");
  auto r = run(Mode::any, anon, "s3");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.anonymous);
  EXPECT_EQ(r.code, "AccessDenied");
  EXPECT_EQ(r.status, 403);
  r = run(Mode::any, anon, "kinesis");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.anonymous);
  EXPECT_EQ(r.code, "MissingAuthenticationTokenException");
  EXPECT_EQ(r.message, "Missing Authentication Token");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AuthTest, AnyAcceptsAWellFormedSignatureWithoutCheckingIt) {
  store_ = make_credential_store();  // not even the key is known
  clock_.advance_ms(3600 * 1000);    // nor is the time checked
  auto r = run(Mode::any, make(kS3PutHex), "s3");
  EXPECT_TRUE(r.ok) << r.code << ": " << r.message;
  EXPECT_FALSE(r.anonymous);
  EXPECT_EQ(r.access_key, "AKIDEXAMPLE");
  EXPECT_EQ(r.content_sha256, "300bf19987b2edea6dda39d2e486ea5e18317722dbe4a95e3d0b9b0a743a4c83");
  EXPECT_TRUE(run(Mode::any, from_url(kPresignV2), "s3").ok);
  EXPECT_TRUE(run(Mode::any, from_url(kPresignV4), "s3").ok);
  EXPECT_TRUE(run(Mode::any, make(kKinesisPutRecord), "kinesis").ok);
}

TEST_F(AuthTest, AnyRejectsMalformedAuthorization) {
  auto req = make(kS3Get);
  req.headers.set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/s3, "
                                   "SignedHeaders=host, Signature=abc");
  auto r = run(Mode::any, req, "s3");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.anonymous);
  EXPECT_EQ(r.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(r.status, 400);

  req.headers.set("Authorization", "Bearer abc");
  r = run(Mode::any, req, "s3");
  EXPECT_EQ(r.code, "InvalidArgument");
  EXPECT_EQ(r.message, "Unsupported Authorization Type");

  auto k = make(kKinesisListStreams);
  const std::string raw = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/kinesis/aws4_request";
  k.headers.set("Authorization", raw);
  k.headers.erase("X-Amz-Date");
  r = run(Mode::any, k, "kinesis");
  EXPECT_EQ(r.code, "IncompleteSignatureException");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.message,
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
            "parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            "Authorization=" + raw);
}

TEST_F(AuthTest, AnyStillWantsADateWithAWellFormedKinesisHeader) {
  auto k = make(kKinesisPutRecord);
  ASSERT_TRUE(run(Mode::any, k, "kinesis").ok);
  k.headers.erase("X-Amz-Date");
  auto r = run(Mode::any, k, "kinesis");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, "IncompleteSignatureException");
  EXPECT_EQ(r.status, 400);
  k.headers.add("X-Amz-Date", "yesterday");
  EXPECT_EQ(run(Mode::any, k, "kinesis").code, "IncompleteSignatureException");
}

TEST_F(AuthTest, ASignatureThatIsNotHexIsAMismatchNotAMalformedHeader) {
  auto req = make(kKinesisListStreams);
  req.headers.set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/kinesis/aws4_request, "
                                   "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00");
  EXPECT_TRUE(run(Mode::any, req, "kinesis").ok);
  auto r = verify(req, "kinesis");
  EXPECT_EQ(r.code, "InvalidSignatureException");
}

TEST_F(AuthTest, HeaderAndPresignedQueryTogetherAreRefused) {
  auto req = from_url(kPresignV4);
  req.headers.add("Authorization", make(kS3Get).headers.get("Authorization").data());
  auto r = run(Mode::any, req, "s3");
  EXPECT_EQ(r.code, "InvalidArgument");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.message,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
            "parameter or the Authorization header should be specified");
}

TEST_F(AuthTest, S3HeaderAuthNeedsContentSha256) {
  auto req = make(kS3Get);
  req.headers.erase("X-Amz-Content-SHA256");
  auto r = run(Mode::any, req, "s3");
  EXPECT_EQ(r.code, "InvalidRequest");
  EXPECT_EQ(r.message, "Missing required header for this request: x-amz-content-sha256");
  req.headers.add("x-amz-content-sha256", "nonsense");
  r = run(Mode::any, req, "s3");
  EXPECT_EQ(r.code, "InvalidArgument");
  EXPECT_EQ(r.status, 400);
}

// --- verify: botocore's requests ---------------------------------------------------------------

TEST_F(AuthTest, VerifiesBotocoreS3Requests) {
  for (const Vector* v : {&kS3Get, &kS3PutUnsigned, &kS3PutHex, &kS3List, &kS3PutChunked, &kS3GetVirtual}) {
    auto r = verify(make(*v), "s3");
    EXPECT_TRUE(r.ok) << v->method << " " << v->path << ": " << r.code << ": " << r.message << "\n"
                      << detail(r, "CanonicalRequest");
    EXPECT_FALSE(r.anonymous);
    EXPECT_EQ(r.access_key, "AKIDEXAMPLE");
    EXPECT_EQ(r.amz_date, "20261125T120000Z");
    EXPECT_EQ(r.scope, "20261125/us-east-1/s3/aws4_request");
    EXPECT_FALSE(r.verify_chunks);
  }
  EXPECT_EQ(verify(make(kS3PutUnsigned), "s3").content_sha256, "UNSIGNED-PAYLOAD");
  EXPECT_EQ(verify(make(kS3PutHex), "s3").content_sha256,
            "300bf19987b2edea6dda39d2e486ea5e18317722dbe4a95e3d0b9b0a743a4c83");
  EXPECT_EQ(verify(make(kS3PutChunked), "s3").content_sha256, "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
}

TEST_F(AuthTest, VerifiesBotocoreKinesisRequests) {
  for (const Vector* v : {&kKinesisListStreams, &kKinesisPutRecord}) {
    auto r = verify(make(*v), "kinesis");
    EXPECT_TRUE(r.ok) << r.code << ": " << r.message;
  }
}

TEST_F(AuthTest, KinesisSignatureCoversTheBody) {
  auto req = make(kKinesisPutRecord);
  req.body = "{\"StreamName\": \"s2\", \"Data\": \"aGk=\", \"PartitionKey\": \"p\"}";
  auto r = verify(req, "kinesis");
  EXPECT_EQ(r.code, "InvalidSignatureException");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.message.rfind("The request signature we calculated does not match the signature you provided. Check "
                            "your AWS Secret Access Key and signing method. Consult the service documentation for "
                            "details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\n",
                            0),
            0u)
      << r.message;
  EXPECT_NE(r.message.find("\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261125T120000Z\n"
                           "20261125/us-east-1/kinesis/aws4_request\n"),
            std::string::npos);
}

TEST_F(AuthTest, PresignedV4GetIsValidUntilItExpires) {
  EXPECT_TRUE(verify(from_url(kPresignV4), "s3").ok);
  clock_.set_ms(kSignedAtMs + 600 * 1000);
  EXPECT_TRUE(verify(from_url(kPresignV4), "s3").ok);
  clock_.set_ms(kSignedAtMs + 601 * 1000);
  auto r = verify(from_url(kPresignV4), "s3");
  EXPECT_EQ(r.code, "AccessDenied");
  EXPECT_EQ(r.message, "Request has expired");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(detail(r, "X-Amz-Expires"), "600");
  EXPECT_EQ(detail(r, "Expires"), "2026-11-25T12:10:00Z");
  EXPECT_EQ(detail(r, "ServerTime"), "2026-11-25T12:10:01Z");
}

TEST_F(AuthTest, PresignedV4TamperedPathDoesNotMatch) {
  auto req = from_url(kPresignV4);
  req.path = "/jars/lib/b.jar";
  auto r = verify(req, "s3");
  EXPECT_EQ(r.code, "SignatureDoesNotMatch");
  EXPECT_NE(r.canonical_request.find("GET\n/jars/lib/b.jar\n"), std::string::npos);
}

TEST_F(AuthTest, PresignedV4ExpiresLongerThanAWeekIsRefused) {
  sv4::Request sr;
  sr.method = "GET";
  sr.path = "/jars/a";
  sr.headers.emplace_back("Host", "127.0.0.1:4566");
  sv4::presign(sr, test::signing_params({"AKIDEXAMPLE", kSecret, ""}, "us-east-1", "s3", test::signing_time(kSignedAtMs)),
               std::chrono::seconds(604801));
  auto r = verify(from_url("http://127.0.0.1:4566" + sr.path + "?" + sr.query), "s3");
  EXPECT_EQ(r.code, "AuthorizationQueryParametersError");
  EXPECT_EQ(r.message, "X-Amz-Expires must be less than a week (in seconds) that is 604800");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AuthTest, PresignedV2FromBoto3Verifies) {
  EXPECT_TRUE(verify(from_url(kPresignV2), "s3").ok);
  EXPECT_TRUE(verify(from_url(kPresignV2Virtual), "s3").ok);
  clock_.set_ms(kSignedAtMs + 601 * 1000);
  auto r = verify(from_url(kPresignV2), "s3");
  EXPECT_EQ(r.code, "AccessDenied");
  EXPECT_EQ(r.message, "Request has expired");
  EXPECT_EQ(detail(r, "Expires"), "2026-11-25T12:10:00Z");
}

TEST_F(AuthTest, PresignedV2WrongSecretGivesTheStringToSign) {
  store_ = make_credential_store();
  store_->add(Credential{"AKIDEXAMPLE", "other", {}, std::nullopt});
  auto r = verify(from_url(kPresignV2), "s3");
  EXPECT_EQ(r.code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.string_to_sign, "GET\n\n\n1795608600\n/jars/lib/a.jar");
  EXPECT_EQ(detail(r, "StringToSign"), "GET\n\n\n1795608600\n/jars/lib/a.jar");
  EXPECT_EQ(detail(r, "SignatureProvided"), "tyOzEDxxSn7Z0dC0nPdmqffLNoM=");
}

// --- verify: failures ---------------------------------------------------------------------------

TEST_F(AuthTest, WrongSecretIsSignatureDoesNotMatchWithTheStringToSign) {
  store_ = make_credential_store();
  store_->add(Credential{"AKIDEXAMPLE", "not-the-secret", {}, std::nullopt});
  auto r = verify(make(kS3Get), "s3");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message,
            "The request signature we calculated does not match the signature you provided. Check your key and "
            "signing method.");
  const std::string expected_cr =
      "GET\n/jars/lib/a%20b%2Bc.jar\n\nhost:127.0.0.1:4566\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20261125T120000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_EQ(r.canonical_request, expected_cr);
  EXPECT_EQ(r.string_to_sign, "AWS4-HMAC-SHA256\n20261125T120000Z\n20261125/us-east-1/s3/aws4_request\n" +
                                  sv4::sha256_hex(expected_cr));
  EXPECT_EQ(detail(r, "AWSAccessKeyId"), "AKIDEXAMPLE");
  EXPECT_EQ(detail(r, "StringToSign"), r.string_to_sign);
  EXPECT_EQ(detail(r, "SignatureProvided"), "fb4edd71c61731ef484409135226d3856c2d72da9cc36fcdcacae0bd41ceb052");
  EXPECT_EQ(detail(r, "StringToSignBytes").substr(0, 11), "41 57 53 34");
  EXPECT_EQ(detail(r, "CanonicalRequest"), expected_cr);

  auto k = verify(make(kKinesisListStreams), "kinesis");
  EXPECT_EQ(k.code, "InvalidSignatureException");
  EXPECT_EQ(k.status, 400);
}

TEST_F(AuthTest, UnknownAccessKey) {
  store_ = make_credential_store();
  auto r = verify(make(kS3Get), "s3");
  EXPECT_EQ(r.code, "InvalidAccessKeyId");
  EXPECT_EQ(r.message, "The AWS Access Key Id you provided does not exist in our records.");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(detail(r, "AWSAccessKeyId"), "AKIDEXAMPLE");
  r = verify(make(kKinesisListStreams), "kinesis");
  EXPECT_EQ(r.code, "UnrecognizedClientException");
  EXPECT_EQ(r.message, "The security token included in the request is invalid.");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AuthTest, S3ClockSkewIsFifteenMinutes) {
  clock_.set_ms(kSignedAtMs + 15 * 60 * 1000);
  EXPECT_TRUE(verify(make(kS3Get), "s3").ok);
  clock_.set_ms(kSignedAtMs - 15 * 60 * 1000);
  EXPECT_TRUE(verify(make(kS3Get), "s3").ok);
  clock_.set_ms(kSignedAtMs + 15 * 60 * 1000 + 1000);
  auto r = verify(make(kS3Get), "s3");
  EXPECT_EQ(r.code, "RequestTimeTooSkewed");
  EXPECT_EQ(r.message, "The difference between the request time and the current time is too large.");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(detail(r, "RequestTime"), "20261125T120000Z");
  EXPECT_EQ(detail(r, "ServerTime"), "2026-11-25T12:15:01Z");
  EXPECT_EQ(detail(r, "MaxAllowedSkewMilliseconds"), "900000");
  clock_.set_ms(kSignedAtMs - 16 * 60 * 1000);
  EXPECT_EQ(verify(make(kS3Get), "s3").code, "RequestTimeTooSkewed");
}

TEST_F(AuthTest, KinesisClockSkewIsFiveMinutes) {
  clock_.set_ms(kSignedAtMs + 6 * 60 * 1000);
  auto r = verify(make(kKinesisListStreams), "kinesis");
  EXPECT_EQ(r.code, "InvalidSignatureException");
  EXPECT_EQ(r.message, "Signature expired: 20261125T120000Z is now earlier than 20261125T120100Z "
                       "(20261125T120600Z - 5 min.)");
  clock_.set_ms(kSignedAtMs - 6 * 60 * 1000);
  r = verify(make(kKinesisListStreams), "kinesis");
  EXPECT_EQ(r.message, "Signature not yet current: 20261125T120000Z is still later than 20261125T115900Z "
                       "(20261125T115400Z + 5 min.)");
  clock_.set_ms(kSignedAtMs + 4 * 60 * 1000);
  EXPECT_TRUE(verify(make(kKinesisListStreams), "kinesis").ok);
}

TEST_F(AuthTest, ScopeMustNameTheServiceAndTheDate) {
  auto r = verify(make(kKinesisListStreams), "s3");
  EXPECT_FALSE(r.ok);
  auto req = make(kS3Get);
  req.headers.set("X-Amz-Date", "20261125T120001Z");  // still fine: the date part matches
  EXPECT_EQ(verify(req, "s3").code, "SignatureDoesNotMatch");
  req.headers.set("X-Amz-Date", "20261126T000000Z");
  clock_.set_ms(kSignedAtMs + 12 * 3600 * 1000);
  r = verify(req, "s3");
  EXPECT_EQ(r.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(r.message, "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.");
  auto k = make(kKinesisListStreams);
  auto kr = verify(k, "s3");
  EXPECT_EQ(kr.code, "InvalidRequest");  // no x-amz-content-sha256: checked before the scope
  k.headers.add("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  kr = verify(k, "s3");
  EXPECT_EQ(kr.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(kr.message, "The authorization header is malformed; incorrect service \"kinesis\". This endpoint belongs to \"s3\".");
}

TEST_F(AuthTest, UnsignedAmzHeadersAreRefusedByS3) {
  auto req = make(kS3Get);
  req.headers.add("x-amz-meta-colour", "blue");
  auto r = verify(req, "s3");
  EXPECT_EQ(r.code, "AccessDenied");
  EXPECT_EQ(r.message, "There were headers present in the request which were not signed");
  EXPECT_EQ(detail(r, "HeadersNotSigned"), "x-amz-meta-colour");
}

TEST_F(AuthTest, TheDateMustBeSigned) {
  sv4::Request sr;
  sr.method = "GET";
  sr.path = "/jars/a";
  sr.headers = {{"Host", "127.0.0.1:4566"}, {"x-amz-content-sha256", std::string(sv4::kUnsignedPayload)}};
  // Sign host and the payload hash only, then add the date unsigned.
  const sv4::Scope scope{"20261125", "us-east-1", "s3"};
  const std::vector<std::string> names{"host", "x-amz-content-sha256"};
  const std::string cr = sv4::canonical_request(sr, names, sv4::kUnsignedPayload, sv4::UriStyle::s3);
  const std::string sig =
      sv4::signature(sv4::derive_signing_key(kSecret, scope), sv4::string_to_sign("20261125T120000Z", scope.str(), cr));
  http::Request req;
  req.method = "GET";
  req.path = "/jars/a";
  req.headers.add("Host", "127.0.0.1:4566");
  req.headers.add("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  req.headers.add("Date", "Wed, 25 Nov 2026 12:00:00 GMT");
  req.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope.str() +
                                       ", SignedHeaders=host;x-amz-content-sha256, Signature=" + sig);
  auto r = verify(req, "s3");
  EXPECT_EQ(r.code, "AccessDenied");
  EXPECT_EQ(detail(r, "HeadersNotSigned"), "date");
  EXPECT_TRUE(run(Mode::any, req, "s3").ok);

  // Signed, the Date header stands in for X-Amz-Date (as ISO-8601 basic in the string to sign).
  sr.headers.emplace_back("Date", "Wed, 25 Nov 2026 12:00:00 GMT");
  const std::vector<std::string> with_date{"date", "host", "x-amz-content-sha256"};
  const std::string cr2 = sv4::canonical_request(sr, with_date, sv4::kUnsignedPayload, sv4::UriStyle::s3);
  const std::string sig2 = sv4::signature(sv4::derive_signing_key(kSecret, scope),
                                          sv4::string_to_sign("20261125T120000Z", scope.str(), cr2));
  req.headers.set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope.str() +
                                       ", SignedHeaders=date;host;x-amz-content-sha256, Signature=" + sig2);
  r = verify(req, "s3");
  EXPECT_TRUE(r.ok) << r.code << ": " << r.message;
}

TEST_F(AuthTest, MissingDate) {
  auto req = make(kS3Get);
  req.headers.erase("X-Amz-Date");
  auto r = verify(req, "s3");
  EXPECT_EQ(r.code, "AccessDenied");
  EXPECT_EQ(r.message, "AWS authentication requires a valid Date or x-amz-date header");
}

// --- temporary credentials ---------------------------------------------------------------------

TEST_F(AuthTest, TemporaryCredentialsNeedTheirTokenAndExpire) {
  store_->add(Credential{"ASIAEDDYTEMPORARY001", "tempsecret", "tok123", kSignedAtMs + 60 * 1000});
  EXPECT_TRUE(verify(make(kKinesisTemp), "kinesis").ok);

  auto no_token = make(kKinesisTemp);
  no_token.headers.erase("X-Amz-Security-Token");
  auto r = verify(no_token, "kinesis");
  EXPECT_EQ(r.code, "UnrecognizedClientException");
  EXPECT_EQ(r.message, "The security token included in the request is invalid.");

  auto wrong = make(kKinesisTemp);
  wrong.headers.set("X-Amz-Security-Token", "tok124");
  EXPECT_EQ(verify(wrong, "kinesis").code, "UnrecognizedClientException");

  clock_.set_ms(kSignedAtMs + 60 * 1000);
  r = verify(make(kKinesisTemp), "kinesis");
  EXPECT_EQ(r.code, "ExpiredTokenException");
  EXPECT_EQ(r.message, "The security token included in the request is expired");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AuthTest, TemporaryCredentialsOnS3) {
  store_->add(Credential{"ASIAEDDYTEMPORARY002", "tempsecret2", "tok-s3", kSignedAtMs + 3600 * 1000});
  const sv4::Credentials creds{"ASIAEDDYTEMPORARY002", "tempsecret2", "tok-s3"};
  EXPECT_TRUE(verify(signed_s3("GET", "/jars/a", creds), "s3").ok);

  auto missing = signed_s3("GET", "/jars/a", {"ASIAEDDYTEMPORARY002", "tempsecret2", ""});
  auto r = verify(missing, "s3");
  EXPECT_EQ(r.code, "InvalidAccessKeyId");

  auto wrong = signed_s3("GET", "/jars/a", {"ASIAEDDYTEMPORARY002", "tempsecret2", "tok-other"});
  r = verify(wrong, "s3");
  EXPECT_EQ(r.code, "InvalidToken");
  EXPECT_EQ(r.message, "The provided token is malformed or otherwise invalid.");
  EXPECT_EQ(r.status, 400);

  // A token sent with long-term keys is not one AWS issued for them.
  auto stray = signed_s3("GET", "/jars/a", {"AKIDEXAMPLE", kSecret, "tok-s3"});
  EXPECT_EQ(verify(stray, "s3").code, "InvalidToken");

  clock_.set_ms(kSignedAtMs + 3600 * 1000);
  auto late = signed_s3("GET", "/jars/a", creds);
  r = verify(late, "s3");
  EXPECT_EQ(r.code, "ExpiredToken");
  EXPECT_EQ(r.message, "The provided token has expired.");
  EXPECT_EQ(r.status, 400);
}

// --- streaming and payload hashes -------------------------------------------------------------

TEST_F(AuthTest, SignedStreamingPayloadHandsOverTheChunkChain) {
  auto req = signed_s3("PUT", "/jars/big", {"AKIDEXAMPLE", kSecret, ""}, std::string(sv4::kStreamingPayload));
  auto r = verify(req, "s3");
  ASSERT_TRUE(r.ok) << r.code << ": " << r.message;
  EXPECT_TRUE(r.verify_chunks);
  EXPECT_EQ(r.seed_signature, last_signing_.signature);
  EXPECT_EQ(r.amz_date, last_signing_.amz_date);
  EXPECT_EQ(r.scope, "20261125/eu-west-1/s3/aws4_request");
  const auto key = sv4::derive_signing_key(kSecret, sv4::Scope{"20261125", "eu-west-1", "s3"});
  EXPECT_EQ(r.signing_key, std::string(reinterpret_cast<const char*>(key.data()), key.size()));
  // In any mode there is nothing to verify chunks against.
  EXPECT_FALSE(run(Mode::any, req, "s3").verify_chunks);
}

TEST_F(AuthTest, ContentSha256MismatchShape) {
  auto r = content_sha256_mismatch("aa", "bb");
  EXPECT_EQ(r.code, "XAmzContentSHA256Mismatch");
  EXPECT_EQ(r.message, "The provided 'x-amz-content-sha256' header does not match what was computed.");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(detail(r, "ClientComputedContentSHA256"), "aa");
  EXPECT_EQ(detail(r, "S3ComputedContentSHA256"), "bb");
}

// --- credentials files -----------------------------------------------------------------------

TEST(AuthCredentialsFile, ReadsIniProfilesAndPlainLines) {
  auto store = make_credential_store();
  std::string error;
  ASSERT_TRUE(testutil::load_credentials_text("# comment\n"
                                              "AKIDPLAIN secretplain\n"
                                              "[default]\n"
                                              "aws_access_key_id = AKIDINI\n"
                                              "aws_secret_access_key=secret/ini+1\n"
                                              "region = eu-west-1\n"
                                              "\n"
                                              "[temp]\n"
                                              "aws_access_key_id = ASIATEMP\n"
                                              "aws_secret_access_key = s2\n"
                                              "aws_session_token = tok\n",
                                              *store, &error))
      << error;
  EXPECT_EQ(store->find("AKIDPLAIN")->secret_key, "secretplain");
  EXPECT_EQ(store->find("AKIDINI")->secret_key, "secret/ini+1");
  EXPECT_EQ(store->find("ASIATEMP")->session_token, "tok");
  EXPECT_FALSE(store->find("ASIATEMP")->expires_ms.has_value());
  EXPECT_FALSE(store->find("nobody").has_value());

  EXPECT_FALSE(testutil::load_credentials_text("AKIDPLAIN\n", *store, &error));
  EXPECT_NE(error.find(":1:"), std::string::npos) << error;
  EXPECT_FALSE(testutil::load_credentials_text("[p]\naws_access_key_id = X\n", *store, &error));
  EXPECT_FALSE(load_credentials_file(::testing::TempDir() + "eddy_auth_credentials.missing", *store, &error));
}

TEST(AuthCredentialStore, ForgetsTemporaryKeysADayAfterTheyLapsed) {
  auto store = make_credential_store();
  store->add(Credential{"AKIDSTATIC", "s", {}, std::nullopt});
  store->add(Credential{"ASIAOLD", "s", "t", 1000});
  store->add(Credential{"ASIANEW", "s", "t", 1000 + 24LL * 3600 * 1000});
  EXPECT_TRUE(store->find("ASIAOLD").has_value());
  store->add(Credential{"ASIANEWER", "s", "t", 1001 + 24LL * 3600 * 1000});
  EXPECT_FALSE(store->find("ASIAOLD").has_value());
  EXPECT_TRUE(store->find("ASIANEW").has_value());
  EXPECT_TRUE(store->find("AKIDSTATIC").has_value());
}

TEST(AuthMode, ParsesItsNames) {
  EXPECT_EQ(parse_mode("off"), Mode::off);
  EXPECT_EQ(parse_mode("any"), Mode::any);
  EXPECT_EQ(parse_mode("verify"), Mode::verify);
  EXPECT_FALSE(parse_mode("strict").has_value());
  EXPECT_EQ(to_string(Mode::verify), "verify");
}

}  // namespace
}  // namespace eddy::auth
