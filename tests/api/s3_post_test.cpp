// PostObject (browser-form uploads) over HTTP in-process, with signatures checked: anonymous
// forms into a public-write bucket, SigV2 and SigV4 policy documents, the success answers
// (204, 200, 201 with a PostResponse, 303 to success_action_redirect), fields becoming the
// object's metadata, ACL and tags, ${filename}, and S3's errors for forms, policies, sizes and
// signatures (nothing stored after any of them).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "server/app.h"
#include "tests/api/s3_test_util.h"
#include "tests/support/server_fixture.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::test {
namespace {

using Headers = s3util::Headers;
using s3util::expect_error;
using s3util::xml_text;
using Fields = std::vector<std::pair<std::string, std::string>>;
namespace s4 = wire::sigv4;

constexpr const char* kBoundary = "----eddyFormBoundary7MA4YWxkTrZu0gW";
constexpr const char* kFuture = "2099-01-01T00:00:00Z";

class S3Post : public ServerFixture {
 protected:
  void configure(Config& c) override { c.auth = "verify"; }

  HttpResult as_owner(const std::string& method, const std::string& target, Headers headers = {},
                      const std::string& body = {}) {
    auto [out, signed_req] = s3util::sign_s3(method, target, std::move(headers), body, app_->port(), "test", "test");
    return http(method, target, out, body);
  }
  // A multipart/form-data body: the fields in order, then the file part (unless no_file).
  static std::string form(const Fields& fields, const std::string& file, const std::string& filename = "upload.txt",
                          bool no_file = false) {
    std::string b;
    for (auto& [k, v] : fields)
      b += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
    if (!no_file)
      b += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
           "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file + "\r\n";
    return b + "--" + kBoundary + "--\r\n";
  }
  HttpResult post(const std::string& bucket, const std::string& body) {
    return http("POST", "/" + bucket, {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}}, body);
  }
  static std::string policy_b64(const std::string& expiration, const std::string& conditions) {
    return wire::base64_encode(R"({"expiration": ")" + expiration + R"(", "conditions": [)" + conditions + "]}");
  }
  // SigV2 fields: AWSAccessKeyId, policy and its signature.
  static Fields v2(const std::string& policy, const std::string& key = "test", const std::string& secret = "test") {
    return {{"AWSAccessKeyId", key}, {"policy", policy}, {"signature", s4::v2_signature(secret, policy)}};
  }
  void make_bucket(const std::string& bucket, const std::string& acl = {}) {
    Headers h;
    if (!acl.empty()) h.emplace_back("x-amz-acl", acl);
    ASSERT_EQ(as_owner("PUT", "/" + bucket, h).status, 200);
  }
  // The conditions of the common signed form (bucket b, key k, acl private).
  static std::string basic_conditions(const std::string& bucket, const std::string& extra = {}) {
    return R"({"bucket": ")" + bucket + R"("}, ["starts-with", "$key", ""], {"acl": "private"})" +
           (extra.empty() ? "" : ", " + extra);
  }
  static Fields concat(Fields a, const Fields& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
};

TEST_F(S3Post, AnonymousFormIntoAPublicWriteBucket) {
  make_bucket("pub", "public-read-write");
  auto r = post("pub", form({{"key", "a/b.txt"}, {"acl", "public-read"}, {"Content-Type", "text/plain"}, {"x-amz-meta-color", "blue"},
                             {"tagging", "<Tagging><TagSet><Tag><Key>t</Key><Value>v w</Value></Tag></TagSet></Tagging>"}},
                            "hello"));
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("etag"), "\"5d41402abc4b2a76b9719d911017c592\"");
  EXPECT_EQ(r.header("location"), "http://127.0.0.1:" + std::to_string(app_->port()) + "/pub/a/b.txt");
  auto g = as_owner("GET", "/pub/a/b.txt");
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.body, "hello");
  EXPECT_EQ(g.header("content-type"), "text/plain");
  EXPECT_EQ(g.header("x-amz-meta-color"), "blue");
  EXPECT_EQ(g.header("x-amz-tagging-count"), "1");

  make_bucket("private");
  expect_error(post("private", form({{"key", "k"}}, "x")), 403, "AccessDenied", "Access Denied");
  EXPECT_EQ(as_owner("GET", "/private/k").status, 404);
}

TEST_F(S3Post, SignedV2FormAndTheSuccessAnswers) {
  make_bucket("bkt");
  const std::string policy = policy_b64(kFuture, basic_conditions("bkt", R"(["starts-with", "$success_action_status", ""])"));
  auto r = post("bkt", form(concat({{"key", "k1"}, {"acl", "private"}, {"success_action_status", "201"}}, v2(policy)), "one"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(xml_text(r.body, "Bucket"), "bkt");
  EXPECT_EQ(xml_text(r.body, "Key"), "k1");
  EXPECT_EQ(xml_text(r.body, "ETag"), "\"f97c5d29941bfb1b2fdab0874906ab82\"");
  EXPECT_EQ(xml_text(r.body, "Location"), "http://127.0.0.1:" + std::to_string(app_->port()) + "/bkt/k1");
  EXPECT_EQ(r.body.find("xmlns"), std::string::npos) << r.body;  // PostResponse has no namespace

  r = post("bkt", form(concat({{"key", "k2"}, {"acl", "private"}, {"success_action_status", "200"}}, v2(policy)), "two"));
  EXPECT_EQ(r.status, 200) << r.body;
  // Any other status is 204.
  r = post("bkt", form(concat({{"key", "k3"}, {"acl", "private"}, {"success_action_status", "404"}}, v2(policy)), "three"));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(as_owner("GET", "/bkt/k3").body, "three");
  // The object is the signer's: the owner reads its ACL.
  auto acl = as_owner("GET", "/bkt/k1?acl");
  EXPECT_EQ(acl.status, 200) << acl.body;
}

TEST_F(S3Post, SignedV4FormWithFilenameAndRedirect) {
  make_bucket("v4b");
  const std::string date = s4::format_amz_date(signing_now());
  const std::string credential = "test/" + date.substr(0, 8) + "/us-east-1/s3/aws4_request";
  const std::string redirect = "http://example.com/done?x=1";
  const std::string policy =
      policy_b64(kFuture, R"({"bucket": "v4b"}, ["starts-with", "$key", "up/"], {"x-amz-algorithm": "AWS4-HMAC-SHA256"},)"
                          R"({"x-amz-credential": ")" + credential + R"("}, {"x-amz-date": ")" + date + R"("},)"
                          R"({"success_action_redirect": ")" + redirect + R"("}, ["starts-with", "$x-amz-meta-tag", ""],)"
                          R"(["content-length-range", 1, 10])");
  s4::Scope scope{date.substr(0, 8), "us-east-1", "s3"};
  const std::string sig = s4::signature(s4::derive_signing_key("test", scope), policy);
  Fields fields{{"key", "up/${filename}"},        {"x-amz-algorithm", "AWS4-HMAC-SHA256"},
                {"x-amz-credential", credential}, {"x-amz-date", date},
                {"success_action_redirect", redirect}, {"x-amz-meta-tag", "t1"},
                {"policy", policy},               {"x-amz-signature", sig}};
  auto r = post("v4b", form(fields, "data", "photo.png"));
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.header("location"),
            "http://example.com/done?x=1&bucket=v4b&key=up%2Fphoto.png&etag=%228d777f385d3dfec8815d20f7496026dc%22");
  auto g = as_owner("GET", "/v4b/up/photo.png");
  EXPECT_EQ(g.body, "data");
  EXPECT_EQ(g.header("x-amz-meta-tag"), "t1");

  // The same form with a wrong signature.
  fields.back().second = std::string(64, '0');
  auto bad = post("v4b", form(fields, "data", "other.png"));
  expect_error(bad, 403, "SignatureDoesNotMatch",
               "The request signature we calculated does not match the signature you provided. Check your key and "
               "signing method.");
  EXPECT_EQ(as_owner("GET", "/v4b/up/other.png").status, 404);
}

TEST_F(S3Post, PolicyAndSignatureErrors) {
  make_bucket("err");
  const std::string good = policy_b64(kFuture, basic_conditions("err"));
  const Fields base{{"key", "k"}, {"acl", "private"}};
  // Signature and key.
  auto r = post("err", form(concat(base, v2(good, "test", "wrong-secret")), "x"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(xml_text(r.body, "Code"), "SignatureDoesNotMatch");
  expect_error(post("err", form(concat(base, v2(good, "NOSUCHKEY")), "x")), 403, "InvalidAccessKeyId",
               "The AWS Access Key Id you provided does not exist in our records.");
  expect_error(post("err", form(concat(base, {{"AWSAccessKeyId", "test"}, {"policy", good}}), "x")), 400,
               "InvalidArgument",
               "Bucket POST must contain a field named 'Signature'.  If it is specified, please check the order of the fields.");
  expect_error(post("err", form(concat({{"acl", "private"}}, v2(good)), "x")), 400, "InvalidArgument",
               "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
  // The document.
  expect_error(post("err", form(concat(base, v2(wire::base64_encode(R"({"conditions": []})"))), "x")), 400,
               "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.");
  expect_error(post("err", form(concat(base, v2(wire::base64_encode(R"({"expiration": "2099-01-01 00:00:00", "conditions": []})"))), "x")),
               400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: \"2099-01-01 00:00:00\"");
  expect_error(post("err", form(concat(base, v2(wire::base64_encode(R"({"expiration": "2099-01-01T00:00:00Z"})"))), "x")), 400,
               "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.");
  expect_error(post("err", form(concat(base, v2(policy_b64(kFuture, "{}"))), "x")), 400, "InvalidPolicyDocument",
               "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
  expect_error(post("err", form(concat(base, v2(policy_b64(kFuture, basic_conditions("err", R"(["content-length-range", -1, 5])")))), "x")),
               400, "InvalidPolicyDocument",
               "Invalid Policy: Invalid content-length-range condition: the bounds must be non-negative integers.");
  // Expiration and conditions.
  expect_error(post("err", form(concat(base, v2(policy_b64("2001-01-01T00:00:00Z", basic_conditions("err")))), "x")), 403,
               "AccessDenied", "Invalid according to Policy: Policy expired.");
  expect_error(post("err", form(concat(base, v2(policy_b64(kFuture, basic_conditions("other")))), "x")), 403,
               "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"other\"]");
  expect_error(post("err", form(concat(concat(base, {{"x-amz-meta-a", "1"}}), v2(good)), "x")), 403, "AccessDenied",
               "Invalid according to Policy: Extra input fields: x-amz-meta-a");
  expect_error(post("err", form(concat(base, v2(policy_b64(kFuture, R"(["starts-with", "$key", ""], {"acl": "private"})"))), "x")),
               403, "AccessDenied", "Invalid according to Policy: Extra input fields: bucket");
  // A condition on a field the form lacks reads it as "".
  expect_error(post("err", form(concat(base, v2(policy_b64(kFuture, basic_conditions("err", R"(["starts-with", "$x-amz-meta-b", "y"])")))), "x")),
               403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$x-amz-meta-b\", \"y\"]");
  // x-ignore-* needs no condition.
  EXPECT_EQ(post("err", form(concat(concat(base, {{"x-ignore-me", "1"}}), v2(good)), "ok")).status, 204);
  EXPECT_EQ(as_owner("GET", "/err/k").body, "ok");
}

TEST_F(S3Post, SizeLimits) {
  make_bucket("siz");
  const Fields base{{"key", "k"}, {"acl", "private"}};
  const std::string range = policy_b64(kFuture, basic_conditions("siz", R"(["content-length-range", 3, 5])"));
  auto big = post("siz", form(concat(base, v2(range)), "123456"));
  expect_error(big, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
  EXPECT_EQ(xml_text(big.body, "MaxSizeAllowed"), "5");
  auto small = post("siz", form(concat(base, v2(range)), "12"));
  expect_error(small, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
  EXPECT_EQ(xml_text(small.body, "ProposedSize"), "2");
  EXPECT_EQ(xml_text(small.body, "MinSizeAllowed"), "3");
  EXPECT_EQ(as_owner("GET", "/siz/k").status, 404);
  EXPECT_EQ(post("siz", form(concat(base, v2(range)), "12345")).status, 204);
}

TEST_F(S3Post, MalformedForms) {
  make_bucket("mal", "public-read-write");
  expect_error(http("POST", "/mal", {{"Content-Type", "application/x-www-form-urlencoded"}}, "key=k"), 412,
               "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
  std::string cut = form({{"key", "k"}}, "data");
  cut.resize(cut.size() - 12);  // no closing delimiter
  expect_error(post("mal", cut), 400, "MalformedPOSTRequest",
               "The body of your POST request is not well-formed multipart/form-data.");
  expect_error(post("mal", form({{"key", "k"}}, "", "", true)), 400, "InvalidArgument",
               "POST requires exactly one file upload per request.");
  expect_error(post("mal", form({{"key", "k"}, {"x-ignore-big", std::string(21 * 1024, 'a')}}, "x")), 400,
               "MaxPostPreDataLengthExceededError", "Your POST request fields preceeding the upload file was too large.");
  expect_error(post("nosuchbucket", form({{"key", "k"}}, "x")), 404, "NoSuchBucket", "The specified bucket does not exist");
  EXPECT_EQ(as_owner("GET", "/mal/k").status, 404);
}

}  // namespace
}  // namespace eddy::test
