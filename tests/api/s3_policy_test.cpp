// S3 bucket policies, Block Public Access and ownership controls over HTTP in-process, with
// signatures checked: Put/Get/DeleteBucketPolicy and their errors, GetBucketPolicyStatus, a
// policy granting another account and anonymous callers, conditions on the request (s3:prefix,
// aws:SourceIp, aws:SecureTransport, s3:x-amz-acl), explicit Deny over the owner, and the
// ACL checks of PublicAccessBlock and BucketOwnerEnforced.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "server/app.h"
#include "tests/api/s3_test_util.h"
#include "tests/support/fixture_config.h"
#include "tests/support/server_fixture.h"

namespace eddy::test {
namespace {

using Headers = s3util::Headers;
using s3util::xml_text;

struct Key {
  std::string id, secret;
};
const Key kOwner{"test", "test"};                // the default account (--account-id 000000000000)
const Key kOther{"AKIDPOLICYOTHER", "other-secret"};  // account 111122223333

class S3Policy : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "verify";
    write_credentials(c, temp_dir("eddy-credentials"),
                      "[other]\naws_access_key_id = AKIDPOLICYOTHER\naws_secret_access_key = other-secret\n"
                      "account_id = 111122223333\n");
  }
  HttpResult as(const Key& k, const std::string& method, const std::string& target, Headers headers = {},
                const std::string& body = {}) {
    auto [out, signed_req] = s3util::sign_s3(method, target, std::move(headers), body, app_->port(), k.id, k.secret);
    return http(method, target, out, body);
  }
  HttpResult anonymous(const std::string& method, const std::string& target, Headers headers = {}) {
    return http(method, target, headers);
  }
  // A bucket of the owner with one private object "k" and a policy, if given.
  void bucket_with(const std::string& bucket, const std::string& policy) {
    ASSERT_EQ(as(kOwner, "PUT", "/" + bucket).status, 200);
    ASSERT_EQ(as(kOwner, "PUT", "/" + bucket + "/k", {}, "data").status, 200);
    if (!policy.empty()) {
      auto r = as(kOwner, "PUT", "/" + bucket + "?policy", {}, policy);
      ASSERT_EQ(r.status, 204) << r.body;
    }
  }
  static std::string policy(const std::string& statements) {
    return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}";
  }
};

void expect_error(const HttpResult& r, int status, const std::string& code, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(xml_text(r.body, "Code"), code) << r.body;
  EXPECT_EQ(xml_text(r.body, "Message"), message) << r.body;
}

TEST_F(S3Policy, PutGetDeletePolicyAndItsErrors) {
  ASSERT_EQ(as(kOwner, "PUT", "/pol").status, 200);
  auto r = as(kOwner, "GET", "/pol?policy");
  expect_error(r, 404, "NoSuchBucketPolicy", "The bucket policy does not exist");
  EXPECT_EQ(xml_text(r.body, "BucketName"), "pol");
  expect_error(as(kOwner, "PUT", "/pol?policy", {}, "not json"), 400, "MalformedPolicy",
               "Policies must be valid JSON and the first byte must be '{'");
  expect_error(as(kOwner, "PUT", "/pol?policy", {}, R"({"Version":"2012-10-17"})"), 400, "MalformedPolicy",
               "Missing required field Statement");
  expect_error(as(kOwner, "PUT", "/pol?policy", {},
                  policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::elsewhere/*"})")),
               400, "MalformedPolicy", "Policy has invalid resource");
  expect_error(as(kOwner, "PUT", "/pol?policy", {},
                  policy(R"({"Effect":"Allow","Principal":"*","Action":"iam:PassRole","Resource":"arn:aws:s3:::pol/*"})")),
               400, "MalformedPolicy", "Policy has invalid action");
  expect_error(as(kOwner, "PUT", "/pol?policy", {},
                  policy(R"({"Effect":"Allow","NotPrincipal":{"AWS":"1"},"Action":"s3:*","Resource":"arn:aws:s3:::pol"})")),
               400, "MalformedPolicy", "NotPrincipal is not supported with Effect Allow");
  const std::string p =
      policy(R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":["arn:aws:s3:::pol","arn:aws:s3:::pol/*"]})");
  r = as(kOwner, "PUT", "/pol?policy", {}, p);
  EXPECT_EQ(r.status, 204) << r.body;
  r = as(kOwner, "GET", "/pol?policy");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, p);  // as put, byte for byte
  EXPECT_EQ(r.header("content-type"), "application/json");
  // The policy is the owner's business only, whatever it grants.
  expect_error(as(kOther, "GET", "/pol?policy"), 403, "AccessDenied", "Access Denied");
  expect_error(as(kOther, "PUT", "/pol?policy", {}, p), 403, "AccessDenied", "Access Denied");
  expect_error(as(kOther, "DELETE", "/pol?policy"), 403, "AccessDenied", "Access Denied");
  EXPECT_EQ(as(kOwner, "DELETE", "/pol?policy").status, 204);
  EXPECT_EQ(as(kOwner, "GET", "/pol?policy").status, 404);
  expect_error(as(kOwner, "GET", "/nosuch?policy"), 404, "NoSuchBucket", "The specified bucket does not exist");
}

TEST_F(S3Policy, PolicyGrantsAnotherAccountAndAnonymous) {
  bucket_with("grants", policy(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},)"
                               R"("Action":["s3:Get*"],"Resource":"arn:aws:s3:::grants/*"})"));
  EXPECT_EQ(as(kOther, "GET", "/grants/k").body, "data");
  EXPECT_EQ(as(kOther, "GET", "/grants/k?acl").status, 200);  // s3:GetObjectAcl matches s3:Get*
  expect_error(as(kOther, "PUT", "/grants/k", {}, "x"), 403, "AccessDenied", "Access Denied");
  expect_error(as(kOther, "GET", "/grants"), 403, "AccessDenied", "Access Denied");  // no s3:ListBucket
  // Without s3:ListBucket a missing key is AccessDenied, not NoSuchKey.
  EXPECT_EQ(as(kOther, "GET", "/grants/missing").status, 403);
  expect_error(anonymous("GET", "/grants/k"), 403, "AccessDenied", "Access Denied");

  bucket_with("public", policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public/*"})"));
  auto r = anonymous("GET", "/public/k");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "data");
  EXPECT_EQ(as(kOther, "GET", "/public/k").status, 200);
}

TEST_F(S3Policy, ExplicitDenyWinsEvenForTheOwner) {
  bucket_with("denied", policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::denied/*"},)"
                               R"({"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::denied/*"})"));
  expect_error(as(kOwner, "DELETE", "/denied/k"), 403, "AccessDenied", "Access Denied");
  expect_error(as(kOther, "DELETE", "/denied/k"), 403, "AccessDenied", "Access Denied");
  EXPECT_EQ(as(kOther, "PUT", "/denied/new", {}, "x").status, 200);
  EXPECT_EQ(as(kOwner, "GET", "/denied/k").body, "data");
  // The owner can always take the policy away.
  EXPECT_EQ(as(kOwner, "DELETE", "/denied?policy").status, 204);
  EXPECT_EQ(as(kOwner, "DELETE", "/denied/k").status, 204);
}

TEST_F(S3Policy, ConditionsOnTheRequest) {
  bucket_with("cond", policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::cond",)"
                             R"("Condition":{"StringLike":{"s3:prefix":"public/*"}}})"));
  EXPECT_EQ(anonymous("GET", "/cond?prefix=public/").status, 200);
  EXPECT_EQ(anonymous("GET", "/cond?prefix=private/").status, 403);
  EXPECT_EQ(anonymous("GET", "/cond").status, 403);
  // A missing key under the listable prefix is NoSuchKey; elsewhere AccessDenied.
  EXPECT_EQ(as(kOther, "HEAD", "/cond/public/object").status, 404);
  EXPECT_EQ(as(kOther, "HEAD", "/cond/private/object").status, 403);

  bucket_with("ipb", policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::ipb/*",)"
                           R"("Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}})"));
  EXPECT_EQ(anonymous("GET", "/ipb/k").status, 200);
  ASSERT_EQ(as(kOwner, "PUT", "/ipb?policy", {},
               policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::ipb/*",)"
                      R"("Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})"))
                .status,
            204);
  EXPECT_EQ(anonymous("GET", "/ipb/k").status, 403);

  // Deny anything over plain HTTP: eddy here listens without TLS.
  bucket_with("tls", policy(R"({"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tls/*"],)"
                            R"("Condition":{"Bool":{"aws:SecureTransport":"false"}}})"));
  expect_error(as(kOwner, "GET", "/tls/k"), 403, "AccessDenied", "Access Denied");

  // Another account may write only when it hands the bucket owner full control.
  bucket_with("acl", policy(R"({"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject",)"
                            R"("Resource":"arn:aws:s3:::acl/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}})"));
  EXPECT_EQ(as(kOther, "PUT", "/acl/x", {}, "x").status, 403);
  EXPECT_EQ(as(kOther, "PUT", "/acl/x", {{"x-amz-acl", "bucket-owner-full-control"}}, "x").status, 200);
  EXPECT_EQ(as(kOwner, "GET", "/acl/x").body, "x");
}

TEST_F(S3Policy, PolicyStatusSaysWhetherItIsPublic) {
  ASSERT_EQ(as(kOwner, "PUT", "/sta").status, 200);
  auto r = as(kOwner, "GET", "/sta?policyStatus");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, "IsPublic"), "false");
  ASSERT_EQ(as(kOwner, "PUT", "/sta?policy", {},
               policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::sta/*"})"))
                .status,
            204);
  EXPECT_EQ(xml_text(as(kOwner, "GET", "/sta?policyStatus").body, "IsPublic"), "true");
  ASSERT_EQ(as(kOwner, "PUT", "/sta?policy", {},
               policy(R"({"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::sta/*"})"))
                .status,
            204);
  EXPECT_EQ(xml_text(as(kOwner, "GET", "/sta?policyStatus").body, "IsPublic"), "false");
}

TEST_F(S3Policy, PublicAccessBlock) {
  ASSERT_EQ(as(kOwner, "PUT", "/pab", {{"x-amz-acl", "public-read"}}).status, 200);
  ASSERT_EQ(as(kOwner, "PUT", "/pab/k", {{"x-amz-acl", "public-read"}}, "data").status, 200);
  EXPECT_EQ(anonymous("GET", "/pab/k").status, 200);
  auto r = as(kOwner, "GET", "/pab?publicAccessBlock");
  expect_error(r, 404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found");
  const std::string all =
      "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
      "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>"
      "</PublicAccessBlockConfiguration>";
  EXPECT_EQ(as(kOwner, "PUT", "/pab?publicAccessBlock", {}, all).status, 200);
  r = as(kOwner, "GET", "/pab?publicAccessBlock");
  EXPECT_EQ(xml_text(r.body, "BlockPublicAcls"), "true");
  EXPECT_EQ(xml_text(r.body, "IgnorePublicAcls"), "true");
  EXPECT_EQ(xml_text(r.body, "BlockPublicPolicy"), "true");
  EXPECT_EQ(xml_text(r.body, "RestrictPublicBuckets"), "false");
  // IgnorePublicAcls: the public-read object is private now.
  EXPECT_EQ(anonymous("GET", "/pab/k").status, 403);
  // BlockPublicAcls: no new public ACL, on the bucket or on objects.
  expect_error(as(kOwner, "PUT", "/pab?acl", {{"x-amz-acl", "public-read"}}), 403, "AccessDenied", "Access Denied");
  expect_error(as(kOwner, "PUT", "/pab/k2", {{"x-amz-acl", "public-read-write"}}, "x"), 403, "AccessDenied",
               "Access Denied");
  EXPECT_EQ(as(kOwner, "PUT", "/pab/k2", {{"x-amz-acl", "private"}}, "x").status, 200);
  // BlockPublicPolicy: no public policy.
  expect_error(as(kOwner, "PUT", "/pab?policy", {},
                  policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*"})")),
               403, "AccessDenied", "Access Denied");
  EXPECT_EQ(as(kOwner, "PUT", "/pab?publicAccessBlock", {}, "<PublicAccessBlockConfiguration><BlockPublicAcls>maybe"
                                                            "</BlockPublicAcls></PublicAccessBlockConfiguration>")
                .status,
            400);
  EXPECT_EQ(as(kOwner, "DELETE", "/pab?publicAccessBlock").status, 204);
  EXPECT_EQ(anonymous("GET", "/pab/k").status, 200);
  EXPECT_EQ(as(kOther, "PUT", "/pab?publicAccessBlock", {}, all).status, 403);
}

TEST_F(S3Policy, BucketOwnerEnforcedDisablesAcls) {
  auto r = as(kOwner, "GET", "/nosuch?ownershipControls");
  EXPECT_EQ(r.status, 404);
  expect_error(as(kOwner, "PUT", "/own", {{"x-amz-object-ownership", "BucketOwnerEnforced"}, {"x-amz-acl", "public-read"}}),
               400, "InvalidBucketAclWithObjectOwnership",
               "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  ASSERT_EQ(as(kOwner, "PUT", "/own", {{"x-amz-object-ownership", "BucketOwnerEnforced"}}).status, 200);
  r = as(kOwner, "GET", "/own?ownershipControls");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_text(r.body, "Rule/ObjectOwnership"), "BucketOwnerEnforced");
  expect_error(as(kOwner, "PUT", "/own/k", {{"x-amz-acl", "public-read"}}, "x"), 400, "AccessControlListNotSupported",
               "The bucket does not allow ACLs");
  EXPECT_EQ(as(kOwner, "PUT", "/own/k", {{"x-amz-acl", "bucket-owner-full-control"}}, "x").status, 200);
  expect_error(as(kOwner, "PUT", "/own/k", {{"x-amz-acl", "private"}}, "x"), 400, "AccessControlListNotSupported",
               "The bucket does not allow ACLs");
  expect_error(as(kOwner, "PUT", "/own?acl", {{"x-amz-acl", "private"}}), 400, "AccessControlListNotSupported",
               "The bucket does not allow ACLs");
  // What another account writes (as the policy lets it) belongs to the bucket owner.
  ASSERT_EQ(as(kOwner, "PUT", "/own?policy", {},
               policy(R"({"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::own/*"})"))
                .status,
            204);
  ASSERT_EQ(as(kOther, "PUT", "/own/theirs", {}, "y").status, 200);
  const std::string owner_id = xml_text(as(kOwner, "GET", "/").body, "Owner/ID");
  EXPECT_EQ(xml_text(as(kOwner, "GET", "/own/theirs?acl").body, "Owner/ID"), owner_id);
  EXPECT_EQ(as(kOwner, "GET", "/own/theirs").body, "y");
  // BucketOwnerEnforced needs a bucket without ACL grants.
  ASSERT_EQ(as(kOwner, "PUT", "/pubown", {{"x-amz-acl", "public-read"}}).status, 200);
  expect_error(as(kOwner, "PUT", "/pubown?ownershipControls", {},
                  "<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>"),
               400, "InvalidBucketAclWithObjectOwnership",
               "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  EXPECT_EQ(as(kOwner, "PUT", "/own?ownershipControls", {},
               "<OwnershipControls><Rule><ObjectOwnership>Whoever</ObjectOwnership></Rule></OwnershipControls>")
                .status,
            400);
  EXPECT_EQ(as(kOwner, "PUT", "/own?ownershipControls", {},
               "<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>")
                .status,
            200);
  EXPECT_EQ(as(kOwner, "PUT", "/own/k", {{"x-amz-acl", "public-read"}}, "x").status, 200);
  EXPECT_EQ(as(kOwner, "DELETE", "/own?ownershipControls").status, 204);
  expect_error(as(kOwner, "GET", "/own?ownershipControls"), 404, "OwnershipControlsNotFoundError",
               "The bucket ownership controls were not found");
}

TEST_F(S3Policy, ConfigurationSurvivesARestart) {
  config_.data_dir = temp_dir("eddy-s3-policy-data").string();
  config_.in_memory = false;
  restart();
  bucket_with("kept", policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::kept/*"})"));
  ASSERT_EQ(as(kOwner, "PUT", "/kept?tagging", {}, "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>")
                .status,
            204);
  restart();
  EXPECT_EQ(anonymous("GET", "/kept/k").status, 200);
  EXPECT_EQ(xml_text(as(kOwner, "GET", "/kept?tagging").body, "TagSet/Tag/Key"), "a");
  // Deleting the bucket takes its configuration along.
  ASSERT_EQ(as(kOwner, "DELETE", "/kept/k").status, 204);
  ASSERT_EQ(as(kOwner, "DELETE", "/kept").status, 204);
  ASSERT_EQ(as(kOwner, "PUT", "/kept").status, 200);
  EXPECT_EQ(as(kOwner, "GET", "/kept?policy").status, 404);
  EXPECT_EQ(as(kOwner, "GET", "/kept?tagging").status, 404);
}

}  // namespace
}  // namespace eddy::test

namespace eddy::test {
namespace {

TEST_F(S3Policy, ExpectedBucketOwner) {
  ASSERT_EQ(as(kOwner, "PUT", "/expected", {{"x-amz-acl", "public-read-write"}}).status, 200);
  EXPECT_EQ(as(kOwner, "GET", "/expected", {{"x-amz-expected-bucket-owner", "000000000000"}}).status, 200);
  expect_error(as(kOwner, "GET", "/expected", {{"x-amz-expected-bucket-owner", "111122223333"}}), 403, "AccessDenied",
               "Access Denied");
  expect_error(anonymous("PUT", "/expected/k", {{"x-amz-expected-bucket-owner", "111122223333"}, {"Content-Length", "0"}}),
               403, "AccessDenied", "Access Denied");
  EXPECT_EQ(anonymous("PUT", "/expected/k", {{"x-amz-expected-bucket-owner", "000000000000"}, {"Content-Length", "0"}}).status,
            200);
  // The other account's own bucket passes with its own id.
  ASSERT_EQ(as(kOther, "PUT", "/others").status, 200);
  EXPECT_EQ(as(kOther, "GET", "/others", {{"x-amz-expected-bucket-owner", "111122223333"}}).status, 200);
}

}  // namespace
}  // namespace eddy::test
