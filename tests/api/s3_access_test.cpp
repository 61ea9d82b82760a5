// S3 over HTTP in-process with signatures checked: ownership per account (keys and the IMDS
// role of one account share everything) and canned-ACL access between accounts, SigV2 header auth on bucket requests, CORS preflights, the details
// auth failures carry, duplicate parts in CompleteMultipartUpload, and unparseable URIs.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "server/app.h"
#include "server/http/message.h"
#include "tests/api/s3_test_util.h"
#include "tests/support/fixture_config.h"
#include "tests/support/server_fixture.h"
#include "tests/support/signing.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::test {
namespace {

namespace ck = wire::checksum;
namespace s4 = wire::sigv4;
using Headers = s3util::Headers;

using s3util::xml_all;
using s3util::s3_error;
using s3util::xml_text;

struct User {
  std::string key, secret, token = {};
};
// Accounts: Alice and Dan are keys of the default account (--account-id); Bob and Carol are
// keys of two other accounts (account_id in their profiles).
const User kAlice{"test", "test"};                  // the default --access-key
const User kBob{"AKIDBOB", "bob-secret"};           // INI profile of account 111122223333, with a display name
const User kCarol{"AKIDCAROL", "carol-secret"};     // INI profile of account 444455556666 without one
const User kDan{"AKIDDAN", "dan-secret"};           // a plain line: the default account

// eddy in verify mode with three users; requests signed with SigV4 (or SigV2) as a chosen user.
class S3Access : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = mode_;
    write_credentials(c, temp_dir("eddy-credentials"),
                      "AKIDDAN dan-secret Dan\n"
                      "[bob]\naws_access_key_id = AKIDBOB\naws_secret_access_key = bob-secret\n"
                      "display_name = Bob\naccount_id = 111122223333\n"
                      "[carol]\naws_access_key_id = AKIDCAROL\naws_secret_access_key = carol-secret\n"
                      "account_id = 444455556666\n");
  }

  HttpResult as(const User& u, const std::string& method, const std::string& target, Headers headers = {},
                const std::string& body = {}) {
    auto [out, signed_req] =
        s3util::sign_s3(method, target, std::move(headers), body, app_->port(), u.key, u.secret, {}, u.token);
    last_ = std::move(signed_req);
    return http(method, target, out, body);
  }

  // SigV2 header auth, the resource computed as botocore's HmacV1Auth does.
  HttpResult as_v2(const User& u, const std::string& method, const std::string& path, const std::string& query,
                   const std::string& resource) {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const std::string http_date = s4::format_http_date(now);
    const std::string sts = method + "\n\n\n" + http_date + "\n" + resource;
    Headers h{{"Date", http_date}, {"Authorization", "AWS " + u.key + ":" + s4::v2_signature(u.secret, sts)}};
    if (method == "PUT") h.emplace_back("Content-Length", "0");
    return http(method, query.empty() ? path : path + "?" + query, h);
  }

  std::string owner_id(const User& u) { return xml_text(as(u, "GET", "/").body, "Owner/ID"); }

  std::string mode_ = "verify";
  s4::SigningResult last_;
};

TEST_F(S3Access, EachAccountIsItsOwnCanonicalUser) {
  auto r = as(kAlice, "GET", "/");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string alice = xml_text(r.body, "Owner/ID");
  EXPECT_EQ(alice.size(), 64u);
  EXPECT_EQ(xml_text(r.body, "Owner/DisplayName"), "test");
  r = as(kBob, "GET", "/");
  EXPECT_EQ(xml_text(r.body, "Owner/DisplayName"), "Bob");
  const std::string bob = xml_text(r.body, "Owner/ID");
  const std::string carol = owner_id(kCarol);
  EXPECT_NE(alice, bob);
  EXPECT_NE(bob, carol);
  EXPECT_NE(alice, carol);
  EXPECT_EQ(owner_id(kAlice), alice);  // stable
  // Dan is a key of Alice's account: the same canonical user, under his own display name.
  r = as(kDan, "GET", "/");
  EXPECT_EQ(xml_text(r.body, "Owner/ID"), alice);
  EXPECT_EQ(xml_text(r.body, "Owner/DisplayName"), "Dan");

  ASSERT_EQ(as(kAlice, "PUT", "/alices").status, 200);
  ASSERT_EQ(as(kBob, "PUT", "/bobs").status, 200);
  // ListBuckets shows the requester's own buckets.
  EXPECT_EQ(xml_all(as(kAlice, "GET", "/").body, "Buckets", "Bucket").size(), 1u);
  pugi::xml_document doc;
  r = as(kBob, "GET", "/");
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  EXPECT_STREQ(doc.document_element().child("Buckets").child("Bucket").child("Name").text().get(), "bobs");
  EXPECT_FALSE(doc.document_element().child("Buckets").child("Bucket").next_sibling("Bucket"));

  // Owner of the bucket and of objects is their creator.
  ASSERT_EQ(as(kBob, "PUT", "/bobs/k", {}, "bob's").status, 200);
  r = as(kBob, "GET", "/bobs?acl");
  EXPECT_EQ(xml_text(r.body, "Owner/ID"), bob);
  r = as(kBob, "GET", "/bobs?list-type=2&fetch-owner=true");
  EXPECT_EQ(xml_text(r.body, "Contents/Owner/ID"), bob);
  EXPECT_EQ(xml_text(r.body, "Contents/Owner/DisplayName"), "Bob");

  // Creating a bucket that exists: someone else's is BucketAlreadyExists; your own, in
  // us-east-1, succeeds again.
  r = as(kAlice, "PUT", "/bobs");
  EXPECT_TRUE(s3_error(r, 409, "BucketAlreadyExists"));
  EXPECT_EQ(as(kBob, "PUT", "/bobs").status, 200);
  // Only the owner deletes a bucket or reads its location.
  EXPECT_EQ(xml_text(as(kAlice, "DELETE", "/bobs").body, "Code"), "AccessDenied");
  EXPECT_EQ(as(kAlice, "GET", "/bobs?location").status, 403);
  EXPECT_EQ(as(kBob, "GET", "/bobs?location").status, 200);
}

// Ownership is the account's: every key of it owns the account's buckets and objects, as
// every IAM user of an account does on AWS (eddy's IAM allows everything); another account is
// refused and meets BucketAlreadyExists.
TEST_F(S3Access, KeysOfOneAccountShareItsBuckets) {
  ASSERT_EQ(as(kAlice, "PUT", "/shared").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/shared/a", {}, "alice").status, 200);
  EXPECT_EQ(as(kDan, "GET", "/shared/a").body, "alice");
  EXPECT_EQ(xml_all(as(kDan, "GET", "/shared?list-type=2").body, "Contents", "Key"), std::vector<std::string>{"a"});
  EXPECT_EQ(xml_all(as(kDan, "GET", "/").body, "Buckets", "Bucket").size(), 1u);
  EXPECT_EQ(as(kDan, "GET", "/shared?acl").status, 200);
  EXPECT_EQ(as(kDan, "GET", "/shared?location").status, 200);
  // Re-creating the account's own bucket (us-east-1) succeeds, as for its creator.
  EXPECT_EQ(as(kDan, "PUT", "/shared").status, 200);
  ASSERT_EQ(as(kDan, "PUT", "/shared/d", {}, "dan").status, 200);
  EXPECT_EQ(as(kAlice, "GET", "/shared/d").body, "dan");
  // What Dan wrote is owned by the account; its DisplayName is the writer's.
  auto r = as(kAlice, "GET", "/shared?list-type=2&fetch-owner=true");
  EXPECT_EQ(xml_all(r.body, "Contents", "Owner").size(), 2u);
  EXPECT_EQ(xml_text(as(kAlice, "GET", "/shared/d?acl").body, "Owner/ID"), owner_id(kAlice));
  EXPECT_EQ(xml_text(as(kAlice, "GET", "/shared/d?acl").body, "Owner/DisplayName"), "Dan");
  // Multipart uploads one key starts, another completes.
  r = as(kAlice, "POST", "/shared/mp?uploads");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string upload = xml_text(r.body, "UploadId");
  EXPECT_EQ(as(kDan, "GET", "/shared/mp?uploadId=" + upload).status, 200);
  EXPECT_EQ(as(kDan, "DELETE", "/shared/mp?uploadId=" + upload).status, 204);

  // Another account: nothing of it, and the name is taken.
  EXPECT_EQ(as(kBob, "GET", "/shared/a").status, 403);
  EXPECT_EQ(as(kBob, "GET", "/shared?list-type=2").status, 403);
  r = as(kBob, "PUT", "/shared");
  EXPECT_TRUE(s3_error(r, 409, "BucketAlreadyExists"));
  EXPECT_EQ(xml_text(as(kBob, "DELETE", "/shared").body, "Code"), "AccessDenied");

  // Any key of the account deletes.
  EXPECT_EQ(as(kDan, "DELETE", "/shared/a").status, 204);
  EXPECT_EQ(as(kDan, "DELETE", "/shared/d").status, 204);
  EXPECT_EQ(as(kDan, "DELETE", "/shared").status, 204);
}

TEST_F(S3Access, PrivateIsPrivateBetweenUsers) {
  ASSERT_EQ(as(kAlice, "PUT", "/priv").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/priv/a", {}, "alice").status, 200);
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/priv/a"}, {"HEAD", "/priv/a"}, {"GET", "/priv"}, {"GET", "/priv?list-type=2"},
           {"GET", "/priv?versions"}, {"GET", "/priv?uploads"}, {"GET", "/priv?acl"}, {"GET", "/priv/a?acl"},
           {"PUT", "/priv/a"}, {"PUT", "/priv/new"}, {"DELETE", "/priv/a"}, {"POST", "/priv/new?uploads"},
           {"HEAD", "/priv"}, {"GET", "/priv/missing"}}) {
    auto r = as(kBob, method, target, {}, method == "PUT" ? "x" : "");
    EXPECT_EQ(r.status, 403) << method << " " << target << ": " << r.body;
    if (method != "HEAD") {
      EXPECT_EQ(xml_text(r.body, "Code"), "AccessDenied") << method << " " << target;
    }
  }
  auto r = as(kBob, "PUT", "/priv/a?acl", {{"x-amz-acl", "public-read"}});
  EXPECT_EQ(r.status, 403);
  r = as(kBob, "PUT", "/priv?acl", {{"x-amz-acl", "public-read-write"}});
  EXPECT_EQ(r.status, 403);
  // Copying out of it is reading it.
  ASSERT_EQ(as(kBob, "PUT", "/bobs").status, 200);
  r = as(kBob, "PUT", "/bobs/copy", {{"x-amz-copy-source", "/priv/a"}});
  EXPECT_EQ(r.status, 403);
  // Nothing changed, and the owner still has everything.
  r = as(kAlice, "GET", "/priv/a");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "alice");
  EXPECT_EQ(xml_all(as(kAlice, "GET", "/priv?list-type=2").body, "Contents", "Key"), std::vector<std::string>{"a"});
}

TEST_F(S3Access, CannedAclsGrantAsS3Does) {
  ASSERT_EQ(as(kAlice, "PUT", "/b-private").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/b-private/public-read", {{"x-amz-acl", "public-read"}}, "pr").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/b-private/public-read-write", {{"x-amz-acl", "public-read-write"}}, "prw").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/b-private/auth-read", {{"x-amz-acl", "authenticated-read"}}, "ar").status, 200);
  // Object grants let Bob read, never write: writing needs WRITE on the bucket.
  EXPECT_EQ(as(kBob, "GET", "/b-private/public-read").body, "pr");
  EXPECT_EQ(as(kBob, "GET", "/b-private/public-read-write").body, "prw");
  EXPECT_EQ(as(kBob, "GET", "/b-private/auth-read").body, "ar");
  EXPECT_EQ(http("GET", "/b-private/auth-read").status, 403);  // anonymous is not authenticated
  EXPECT_EQ(http("GET", "/b-private/public-read").status, 200);
  EXPECT_EQ(as(kBob, "PUT", "/b-private/public-read-write", {}, "x").status, 403);
  EXPECT_EQ(as(kBob, "GET", "/b-private?list-type=2").status, 403);

  // public-read bucket: Bob lists, cannot write; private objects stay private.
  ASSERT_EQ(as(kAlice, "PUT", "/b-pr", {{"x-amz-acl", "public-read"}}).status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/b-pr/foo", {}, "foo").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/b-pr?list-type=2").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/b-pr/foo").status, 403);
  EXPECT_EQ(as(kBob, "GET", "/b-pr/missing").status, 404);  // may list, so NoSuchKey
  EXPECT_EQ(as(kBob, "PUT", "/b-pr/new", {}, "x").status, 403);

  // authenticated-read bucket: any signed user lists, anonymous does not.
  ASSERT_EQ(as(kAlice, "PUT", "/b-ar", {{"x-amz-acl", "authenticated-read"}}).status, 200);
  EXPECT_EQ(as(kCarol, "GET", "/b-ar").status, 200);
  EXPECT_EQ(http("GET", "/b-ar").status, 403);

  // public-read-write bucket: Bob writes new and existing keys, and owns what he writes.
  ASSERT_EQ(as(kAlice, "PUT", "/b-prw", {{"x-amz-acl", "public-read-write"}}).status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/b-prw/alices", {}, "a").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/b-prw/alices").status, 403);
  EXPECT_EQ(as(kBob, "PUT", "/b-prw/alices", {}, "overwritten").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/b-prw/alices").body, "overwritten");
  // Bob's private object in Alice's bucket: Alice cannot read it (no grant) but may delete it.
  ASSERT_EQ(as(kBob, "PUT", "/b-prw/bobs", {}, "b").status, 200);
  EXPECT_EQ(as(kAlice, "GET", "/b-prw/bobs").status, 403);
  auto r = as(kAlice, "GET", "/b-prw?list-type=2&fetch-owner=true");
  EXPECT_EQ(xml_all(r.body, "Contents", "Key"), (std::vector<std::string>{"alices", "bobs"}));

  // bucket-owner-read / bucket-owner-full-control: the bucket's owner gets READ / FULL_CONTROL.
  ASSERT_EQ(as(kBob, "PUT", "/b-prw/bor", {{"x-amz-acl", "bucket-owner-read"}}, "bor").status, 200);
  ASSERT_EQ(as(kBob, "PUT", "/b-prw/bofc", {{"x-amz-acl", "bucket-owner-full-control"}}, "bofc").status, 200);
  EXPECT_EQ(as(kAlice, "GET", "/b-prw/bor").body, "bor");
  EXPECT_EQ(as(kAlice, "GET", "/b-prw/bor?acl").status, 403);  // READ only
  EXPECT_EQ(as(kAlice, "GET", "/b-prw/bofc").body, "bofc");
  EXPECT_EQ(as(kAlice, "PUT", "/b-prw/bofc?acl", {{"x-amz-acl", "private"}}).status, 200);
  EXPECT_EQ(as(kCarol, "GET", "/b-prw/bor").status, 403);
  r = as(kBob, "GET", "/b-prw/bor?acl");
  ASSERT_EQ(r.status, 200) << r.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  std::vector<std::pair<std::string, std::string>> grants;  // id, permission
  for (auto g : doc.document_element().child("AccessControlList").children("Grant"))
    grants.emplace_back(g.child("Grantee").child("ID").text().get(), g.child("Permission").text().get());
  EXPECT_EQ(grants, (std::vector<std::pair<std::string, std::string>>{{owner_id(kBob), "FULL_CONTROL"},
                                                                       {owner_id(kAlice), "READ"}}));
  EXPECT_EQ(xml_text(r.body, "Owner/ID"), owner_id(kBob));
  EXPECT_EQ(as(kAlice, "DELETE", "/b-prw/bobs").status, 204);

  // An explicit grant to an ID that cannot be a canonical user is InvalidArgument.
  const std::string policy =
      "<AccessControlPolicy><Owner><ID>" + owner_id(kAlice) + "</ID></Owner><AccessControlList><Grant>"
      "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>_foo</ID>"
      "</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>";
  r = as(kAlice, "PUT", "/b-pr?acl", {}, policy);
  EXPECT_TRUE(s3_error(r, 400, "InvalidArgument"));
  // An empty grant list revokes everything (the owner keeps the right to change the ACL).
  const std::string none = "<AccessControlPolicy><Owner><ID>" + owner_id(kAlice) +
                           "</ID></Owner><AccessControlList/></AccessControlPolicy>";
  ASSERT_EQ(as(kAlice, "PUT", "/b-pr?acl", {}, none).status, 200);
  r = as(kAlice, "GET", "/b-pr?acl");
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  EXPECT_TRUE(doc.document_element().child("AccessControlList"));
  EXPECT_FALSE(doc.document_element().child("AccessControlList").child("Grant")) << r.body;
  EXPECT_EQ(xml_text(r.body, "Owner/ID"), owner_id(kAlice));
  EXPECT_EQ(as(kBob, "GET", "/b-pr").status, 403);
  EXPECT_EQ(as(kAlice, "PUT", "/b-pr?acl", {{"x-amz-acl", "public-read"}}).status, 200);
  EXPECT_EQ(as(kBob, "GET", "/b-pr").status, 200);
}

// An AccessControlPolicy body with grants no canned ACL expresses.
std::string policy(const std::string& owner, const std::vector<std::string>& grants) {
  std::string out = "<AccessControlPolicy><Owner><ID>" + owner + "</ID></Owner><AccessControlList>";
  for (const auto& g : grants) out += "<Grant>" + g + "</Grant>";
  return out + "</AccessControlList></AccessControlPolicy>";
}
std::string user(const std::string& id, const std::string& permission) {
  return "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>" + id +
         "</ID></Grantee><Permission>" + permission + "</Permission>";
}
std::string group(const std::string& uri, const std::string& permission) {
  return "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>" + uri +
         "</URI></Grantee><Permission>" + permission + "</Permission>";
}

TEST_F(S3Access, ExplicitGrantsToUsersAndGroups) {
  const std::string alice = owner_id(kAlice), bob = owner_id(kBob);
  ASSERT_EQ(as(kAlice, "PUT", "/explicit").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/explicit/foo", {}, "foo").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/explicit/foo").status, 403);
  // FULL_CONTROL of one object to Bob.
  auto r = as(kAlice, "PUT", "/explicit/foo?acl", {},
              policy(alice, {user(alice, "FULL_CONTROL"), user(bob, "FULL_CONTROL")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(as(kBob, "GET", "/explicit/foo").body, "foo");
  EXPECT_EQ(as(kCarol, "GET", "/explicit/foo").status, 403);
  r = as(kBob, "GET", "/explicit/foo?acl");
  ASSERT_EQ(r.status, 200) << r.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  std::vector<std::string> shown;  // id/name/permission
  for (auto g : doc.document_element().child("AccessControlList").children("Grant"))
    shown.push_back(std::string(g.child("Grantee").child("ID").text().get()) + "/" +
                    g.child("Grantee").child("DisplayName").text().get() + "/" + g.child("Permission").text().get());
  EXPECT_EQ(shown, (std::vector<std::string>{alice + "/test/FULL_CONTROL", bob + "/Bob/FULL_CONTROL"}));
  EXPECT_EQ(xml_text(r.body, "Owner/ID"), alice);
  // Bob's FULL_CONTROL includes WRITE_ACP; he still may not write into Alice's bucket.
  EXPECT_EQ(as(kBob, "PUT", "/explicit/foo?acl", {{"x-amz-acl", "private"}}).status, 200);
  EXPECT_EQ(as(kBob, "GET", "/explicit/foo").status, 403);
  EXPECT_EQ(as(kBob, "PUT", "/explicit/foo", {}, "x").status, 403);

  // Bucket grants: WRITE lets Bob put, READ lets him list.
  r = as(kAlice, "PUT", "/explicit?acl", {}, policy(alice, {user(alice, "FULL_CONTROL"), user(bob, "WRITE")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(as(kBob, "PUT", "/explicit/bobs", {}, "b").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/explicit?list-type=2").status, 403);
  EXPECT_EQ(as(kBob, "GET", "/explicit?acl").status, 403);
  r = as(kAlice, "PUT", "/explicit?acl", {},
         policy(alice, {user(alice, "FULL_CONTROL"), user(bob, "READ"), user(bob, "READ_ACP")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(as(kBob, "GET", "/explicit?list-type=2").status, 200);
  EXPECT_EQ(as(kBob, "GET", "/explicit?acl").status, 200);
  EXPECT_EQ(as(kBob, "PUT", "/explicit/bobs2", {}, "b").status, 403);
  // A group grant no canned ACL has: AllUsers WRITE alone.
  r = as(kAlice, "PUT", "/explicit?acl", {}, policy(alice, {user(alice, "FULL_CONTROL"), group(std::string(
                                                                  "http://acs.amazonaws.com/groups/global/AllUsers"), "WRITE")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(http("PUT", "/explicit/anon", {}, "a").status, 200);
  EXPECT_EQ(http("GET", "/explicit").status, 403);
  r = as(kAlice, "GET", "/explicit?acl");
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  EXPECT_EQ(std::distance(doc.document_element().child("AccessControlList").children("Grant").begin(),
                          doc.document_element().child("AccessControlList").children("Grant").end()),
            2);
  EXPECT_STREQ(doc.document_element().child("AccessControlList").child("Grant").next_sibling("Grant").child("Permission").text().get(),
               "WRITE");
  // A policy that says what a canned ACL says is that canned ACL.
  r = as(kAlice, "PUT", "/explicit?acl", {}, policy(alice, {user(alice, "FULL_CONTROL"), group(std::string(
                                                                  "http://acs.amazonaws.com/groups/global/AllUsers"), "READ")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(as(kCarol, "GET", "/explicit?list-type=2").status, 200);

  // Grantees S3 cannot resolve.
  r = as(kAlice, "PUT", "/explicit?acl", {},
         policy(alice, {"<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"AmazonCustomerByEmail\">"
                        "<EmailAddress>nobody@example.com</EmailAddress></Grantee><Permission>READ</Permission>"}));
  EXPECT_TRUE(s3_error(r, 400, "UnresolvableGrantByEmailAddress"));
  r = as(kAlice, "PUT", "/explicit?acl", {}, policy(alice, {group("http://example.com/group", "READ")}));
  EXPECT_TRUE(s3_error(r, 400, "InvalidArgument"));
}

TEST_F(S3Access, SigV2HeaderAuthOnBucketRequests) {
  auto r = as_v2(kBob, "PUT", "/v2bucket", "", "/v2bucket/");
  ASSERT_EQ(r.status, 200) << r.body;
  r = as_v2(kBob, "GET", "/v2bucket", "prefix=a&encoding-type=url", "/v2bucket/");
  EXPECT_EQ(r.status, 200) << r.body;
  r = as_v2(kBob, "GET", "/v2bucket", "acl", "/v2bucket/?acl");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "Owner/DisplayName"), "Bob");
  r = as_v2(kBob, "GET", "/v2bucket", "acl", "/v2bucket/");  // the sub-resource was not signed
  EXPECT_TRUE(s3_error(r, 403, "SignatureDoesNotMatch"));
  EXPECT_EQ(xml_text(r.body, "StringToSign").substr(xml_text(r.body, "StringToSign").rfind('\n') + 1), "/v2bucket/?acl");
}

TEST_F(S3Access, AuthFailuresCarryTheAuthenticatorsDetails) {
  ASSERT_EQ(as(kAlice, "PUT", "/det").status, 200);
  auto r = as(User{"test", "wrong"}, "GET", "/det?list-type=2");
  EXPECT_TRUE(s3_error(r, 403, "SignatureDoesNotMatch"));
  EXPECT_EQ(xml_text(r.body, "AWSAccessKeyId"), "test");
  EXPECT_EQ(xml_text(r.body, "StringToSign"), last_.string_to_sign);
  EXPECT_EQ(xml_text(r.body, "CanonicalRequest"), last_.canonical_request);
  EXPECT_EQ(xml_text(r.body, "SignatureProvided"), last_.signature);
  EXPECT_NE(xml_text(r.body, "StringToSignBytes"), "<missing>");
  EXPECT_NE(xml_text(r.body, "CanonicalRequestBytes"), "<missing>");
  EXPECT_NE(xml_text(r.body, "RequestId"), "<missing>");

  r = as(User{"AKIDNOBODY", "x"}, "GET", "/det");
  EXPECT_TRUE(s3_error(r, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."));
  EXPECT_EQ(xml_text(r.body, "AWSAccessKeyId"), "AKIDNOBODY");
}

TEST_F(S3Access, CorsPreflights) {
  ASSERT_EQ(as(kAlice, "PUT", "/cors").status, 200);
  // No Origin: 400, signed, unsigned or presigned alike (preflights are not authenticated).
  auto r = http("OPTIONS", "/cors/foo");
  EXPECT_TRUE(s3_error(r, 400, "BadRequest", "Insufficient information. Origin request header needed."));
  s4::Request req;
  req.method = "GET";
  req.path = "/cors/foo";
  req.headers.emplace_back("Host", "127.0.0.1:" + std::to_string(app_->port()));
  s4::presign(req, signing_params({"test", "test", ""}, "us-east-1", "s3", signing_now()), std::chrono::seconds(100000));
  EXPECT_EQ(http("OPTIONS", req.path + "?" + req.query).status, 400);
  EXPECT_EQ(http("OPTIONS", "/cors").status, 400);

  // With an Origin: no CORS configuration, so 403.
  r = http("OPTIONS", "/cors/foo", {{"Origin", "http://example.com"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_TRUE(s3_error(r, 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket."));
  EXPECT_EQ(xml_text(r.body, "Method"), "GET");
  EXPECT_EQ(xml_text(r.body, "ResourceType"), "OBJECT");
  r = http("OPTIONS", "/cors", {{"Origin", "http://example.com"}, {"Access-Control-Request-Method", "PUT"}});
  EXPECT_EQ(xml_text(r.body, "ResourceType"), "BUCKET");
  r = http("OPTIONS", "/cors/foo", {{"Origin", "http://example.com"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Message"), "Invalid Access-Control-Request-Method: ");
  r = http("OPTIONS", "/cors/foo", {{"Origin", "http://example.com"}, {"Access-Control-Request-Method", "YUCK"}});
  EXPECT_EQ(xml_text(r.body, "Message"), "Invalid Access-Control-Request-Method: YUCK");
  r = http("OPTIONS", "/no-such-bucket/foo", {{"Origin", "http://example.com"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(xml_text(r.body, "Message"), "CORSResponse: Bucket not found");
}

TEST_F(S3Access, CorsConfigurationAndRequests) {
  ASSERT_EQ(as(kAlice, "PUT", "/corsy", {{"x-amz-acl", "public-read"}}).status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/corsy/foo", {{"x-amz-acl", "public-read"}}, "foo").status, 200);
  auto r = as(kAlice, "GET", "/corsy?cors");
  EXPECT_TRUE(s3_error(r, 404, "NoSuchCORSConfiguration", "The CORS configuration does not exist"));
  auto config = [](const std::string& rules) { return "<CORSConfiguration>" + rules + "</CORSConfiguration>"; };
  const std::string good = config(
      "<CORSRule><ID>web</ID><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
      "<AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>"
      "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>"
      "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>");
  EXPECT_EQ(as(kBob, "PUT", "/corsy?cors", {}, good).status, 403);  // the owner's
  r = as(kAlice, "PUT", "/corsy?cors", {},
         config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Message"), "Found unsupported HTTP method in CORS config. Unsupported method is PATCH");
  r = as(kAlice, "PUT", "/corsy?cors", {},
         config("<CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"));
  EXPECT_EQ(xml_text(r.body, "Code"), "InvalidRequest");
  EXPECT_EQ(as(kAlice, "PUT", "/corsy?cors", {}, config("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>")).status, 400);
  r = as(kAlice, "PUT", "/corsy?cors", {{"Content-MD5", ck::digest_base64(ck::Algorithm::md5, good)}}, good);
  ASSERT_EQ(r.status, 200) << r.body;
  r = as(kAlice, "GET", "/corsy?cors");
  ASSERT_EQ(r.status, 200);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  auto rule = doc.document_element().child("CORSRule");
  EXPECT_STREQ(rule.child("ID").text().get(), "web");
  EXPECT_STREQ(rule.child("AllowedMethod").next_sibling("AllowedMethod").text().get(), "PUT");
  EXPECT_STREQ(rule.child("MaxAgeSeconds").text().get(), "600");
  EXPECT_STREQ(rule.next_sibling("CORSRule").child("AllowedOrigin").text().get(), "*");

  // Preflights are evaluated against the rules.
  const std::string origin = "https://app.example.com";
  r = http("OPTIONS", "/corsy/foo",
           {{"Origin", origin}, {"Access-Control-Request-Method", "PUT"}, {"Access-Control-Request-Headers", "x-amz-meta-a, content-type"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET, PUT");
  EXPECT_EQ(r.header("access-control-allow-headers"), "x-amz-meta-a, content-type");
  EXPECT_EQ(r.header("access-control-max-age"), "600");
  EXPECT_EQ(r.header("access-control-expose-headers"), "ETag");
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
  r = http("OPTIONS", "/corsy/foo", {{"Origin", origin}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_TRUE(s3_error(r, 403, "AccessForbidden"));
  EXPECT_EQ(xml_text(r.body, "Message").rfind("CORSResponse: This CORS request is not allowed.", 0), 0u);
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
  r = http("OPTIONS", "/corsy/foo",
           {{"Origin", origin}, {"Access-Control-Request-Method", "GET"}, {"Access-Control-Request-Headers", "authorization"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(http("OPTIONS", "/corsy/foo", {{"Origin", "https://example.org"}, {"Access-Control-Request-Method", "GET"}}).status, 403);
  r = http("OPTIONS", "/corsy", {{"Origin", "http://anything"}, {"Access-Control-Request-Method", "HEAD"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_EQ(r.header("access-control-allow-credentials"), "");

  // Actual requests from an allowed origin carry the headers, errors included.
  r = http("GET", "/corsy/foo", {{"Origin", origin}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET, PUT");
  r = http("GET", "/corsy/missing", {{"Origin", origin}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("access-control-allow-origin"), origin);
  EXPECT_EQ(http("GET", "/corsy/foo", {{"Origin", "https://example.org"}}).header("access-control-allow-origin"), "");
  EXPECT_EQ(http("GET", "/corsy/foo").header("access-control-allow-origin"), "");
  EXPECT_EQ(http("HEAD", "/corsy/foo", {{"Origin", "https://example.org"}}).header("access-control-allow-origin"), "*");

  EXPECT_EQ(as(kAlice, "DELETE", "/corsy?cors").status, 204);
  EXPECT_EQ(as(kAlice, "GET", "/corsy?cors").status, 404);
  r = http("OPTIONS", "/corsy/foo", {{"Origin", origin}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(xml_text(r.body, "Message"), "CORSResponse: CORS is not enabled for this bucket.");
}

TEST_F(S3Access, CompleteWithAPartListedTwiceIsInvalidPartOrder) {
  ASSERT_EQ(as(kAlice, "PUT", "/mpu").status, 200);
  auto r = as(kAlice, "POST", "/mpu/k?uploads");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = xml_text(r.body, "UploadId");
  const std::string part1(5 * 1024 * 1024, 'a');
  r = as(kAlice, "PUT", "/mpu/k?partNumber=1&uploadId=" + id, {}, part1);
  ASSERT_EQ(r.status, 200);
  const std::string etag1 = r.header("etag");
  r = as(kAlice, "PUT", "/mpu/k?partNumber=2&uploadId=" + id, {}, "tail");
  ASSERT_EQ(r.status, 200);
  const std::string etag2 = r.header("etag");
  auto part = [](int n, const std::string& etag) {
    return "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + etag + "</ETag></Part>";
  };
  r = as(kAlice, "POST", "/mpu/k?uploadId=" + id, {},
         "<CompleteMultipartUpload>" + part(1, etag1) + part(1, etag1) + part(2, etag2) + "</CompleteMultipartUpload>");
  EXPECT_TRUE(s3_error(r, 400, "InvalidPartOrder"));
  EXPECT_EQ(xml_text(r.body, "UploadId"), id);
  EXPECT_EQ(as(kAlice, "HEAD", "/mpu/k").status, 404);  // nothing was completed
  // The upload is intact and completes with a proper list.
  r = as(kAlice, "POST", "/mpu/k?uploadId=" + id, {},
         "<CompleteMultipartUpload>" + part(1, etag1) + part(2, etag2) + "</CompleteMultipartUpload>");
  ASSERT_EQ(r.status, 200) << r.body;
  r = as(kAlice, "HEAD", "/mpu/k");
  EXPECT_EQ(r.header("content-length"), std::to_string(part1.size() + 4));
}

TEST_F(S3Access, KeysThatAreNotUtf8AreInvalidUris) {
  ASSERT_EQ(as(kAlice, "PUT", "/uri").status, 200);
  auto r = as(kAlice, "GET", "/uri/%FF%FEx");
  EXPECT_TRUE(s3_error(r, 400, "InvalidURI", "Couldn't parse the specified URI."));
  EXPECT_EQ(as(kAlice, "PUT", "/uri/%C3%28", {}, "x").status, 400);
  // Valid multi-byte keys are fine.
  EXPECT_EQ(as(kAlice, "PUT", "/uri/%C2%AE%E2%82%AC%F0%9F%98%80", {}, "x").status, 200);
  EXPECT_EQ(as(kAlice, "GET", "/uri/%C2%AE%E2%82%AC%F0%9F%98%80").body, "x");
}

// Mode any: the signature is not checked, but the access key still says who asks.
class S3AccessAny : public S3Access {
 protected:
  void configure(Config& c) override {
    mode_ = "any";
    S3Access::configure(c);
  }
};

TEST_F(S3AccessAny, IdentityComesFromTheAccessKey) {
  const User dave{"AKIDDAVE", "whatever"}, erin{"AKIDERIN", "whatever"};
  ASSERT_EQ(as(dave, "PUT", "/daves").status, 200);
  ASSERT_EQ(as(dave, "PUT", "/daves/k", {}, "d").status, 200);
  EXPECT_EQ(as(User{"AKIDDAVE", "another-secret"}, "GET", "/daves/k").body, "d");
  EXPECT_EQ(as(erin, "GET", "/daves/k").status, 403);
  EXPECT_EQ(xml_text(as(erin, "PUT", "/daves").body, "Code"), "BucketAlreadyExists");
  EXPECT_NE(owner_id(dave), owner_id(erin));
  EXPECT_EQ(xml_text(as(dave, "GET", "/").body, "Owner/DisplayName"), "AKIDDAVE");
  // A key from the credentials file keeps its display name.
  EXPECT_EQ(xml_text(as(User{"AKIDBOB", "wrong"}, "GET", "/").body, "Owner/DisplayName"), "Bob");
}

// The case: CI publishes with the account's static keys, a build host reads with its
// instance-profile role's rotating credentials (eddy's IMDS), signatures verified.
class S3AccountImds : public S3Access {
 protected:
  void configure(Config& c) override {
    S3Access::configure(c);
    c.imds_port = 0;
    c.account_id = "210987654321";
  }
  User role_credentials() {
    HttpClient imds("127.0.0.1", app_->imds_port());
    auto tok = imds.request("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}});
    EXPECT_EQ(tok.status, 200);
    auto r = imds.request("GET", "/latest/meta-data/iam/security-credentials/eddy-role",
                          {{"X-aws-ec2-metadata-token", tok.body}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = nlohmann::json::parse(r.body);
    return User{j["AccessKeyId"], j["SecretAccessKey"], j["Token"]};
  }
};

TEST_F(S3AccountImds, TheRoleReadsWhatTheAccountsStaticKeysPublished) {
  ASSERT_EQ(as(kAlice, "PUT", "/artifacts").status, 200);
  ASSERT_EQ(as(kAlice, "PUT", "/artifacts/lib-1.0.jar", {}, "jar bytes").status, 200);
  const User role = role_credentials();
  ASSERT_EQ(role.key.rfind("ASIA", 0), 0u) << role.key;
  auto r = as(role, "GET", "/artifacts/lib-1.0.jar");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "jar bytes");
  EXPECT_EQ(xml_all(as(role, "GET", "/artifacts?list-type=2").body, "Contents", "Key"),
            std::vector<std::string>{"lib-1.0.jar"});
  // The same canonical user, under the role's name.
  r = as(role, "GET", "/");
  EXPECT_EQ(xml_text(r.body, "Owner/ID"), owner_id(kAlice));
  EXPECT_EQ(xml_text(r.body, "Owner/DisplayName"), "eddy-role");
  // ... and the other way round.
  ASSERT_EQ(as(role, "PUT", "/artifacts/build.log", {}, "log").status, 200);
  EXPECT_EQ(as(kAlice, "GET", "/artifacts/build.log").body, "log");
  EXPECT_EQ(as(kDan, "GET", "/artifacts/build.log").body, "log");
  // Signatures are still checked: a wrong secret or a missing token is refused.
  EXPECT_EQ(xml_text(as(User{role.key, "wrong", role.token}, "GET", "/artifacts/lib-1.0.jar").body, "Code"),
            "SignatureDoesNotMatch");
  EXPECT_EQ(xml_text(as(User{role.key, role.secret}, "GET", "/artifacts/lib-1.0.jar").body, "Code"),
            "InvalidAccessKeyId");
  // A key of another account is not the role's account.
  EXPECT_EQ(as(kBob, "GET", "/artifacts/lib-1.0.jar").status, 403);
}

}  // namespace
}  // namespace eddy::test
