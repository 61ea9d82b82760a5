// Who a request is: the account, principal and display name the authenticator reports, from
// the credentials file (account_id in a profile), from IMDS-issued keys (the role of the
// account, across rotation), and in mode any.
#include <gtest/gtest.h>

#include <string>

#include "server/auth/authenticator.h"
#include "server/auth/imds.h"
#include "server/clock.h"
#include "tests/support/signing.h"
#include "tests/unit/auth_test_util.h"
#include "wire/sigv4.h"

namespace eddy::auth {
namespace {

namespace sv4 = wire::sigv4;

constexpr int64_t kNowMs = 1795608000000;  // 2026-11-25T12:00:00Z

http::Request signed_get(const Credential& c, int64_t now_ms) {
  sv4::Request sr;
  sr.method = "GET";
  sr.path = "/";
  sr.headers.emplace_back("Host", "127.0.0.1:4566");
  sv4::sign_request(sr, test::signing_params({c.access_key, c.secret_key, c.session_token}, "us-east-1", "s3",
                                             test::signing_time(now_ms)));
  return test::to_http_request(sr);
}

TEST(AuthIdentity, CredentialsFileDisplayNames) {
  auto store = make_credential_store();
  std::string error;
  ASSERT_TRUE(testutil::load_credentials_text("AKIDPLAIN secretplain\n"
                                              "AKIDNAMED secretnamed Build-Server\n"
                                              "[ini]\n"
                                              "aws_access_key_id = AKIDINI\n"
                                              "aws_secret_access_key = s3cr3t\n"
                                              "display_name = ci\n"
                                              "[alt]\n"
                                              "aws_access_key_id = AKIDALT\n"
                                              "aws_secret_access_key = alt-secret\n"
                                              "account_id = 111122223333\n",
                                              *store, &error))
      << error;
  EXPECT_EQ(store->find("AKIDPLAIN")->display_name, "");
  EXPECT_EQ(store->find("AKIDNAMED")->secret_key, "secretnamed");
  EXPECT_EQ(store->find("AKIDNAMED")->display_name, "Build-Server");
  EXPECT_EQ(store->find("AKIDINI")->display_name, "ci");
  EXPECT_EQ(store->find("AKIDINI")->account_id, "");  // the default account
  EXPECT_EQ(store->find("AKIDALT")->account_id, "111122223333");
  EXPECT_FALSE(testutil::load_credentials_text("AKID secret two words\n", *store, &error));
  EXPECT_NE(error.find(":1:"), std::string::npos) << error;
  EXPECT_FALSE(testutil::load_credentials_text(
      "[p]\naws_access_key_id = K\naws_secret_access_key = S\naccount_id = 12345\n", *store, &error));
  EXPECT_NE(error.find(":4: account_id must be 12 digits"), std::string::npos) << error;

  ManualClock clock(kNowMs);
  Authenticator verify(Mode::verify, *store, clock, "000011112222");
  auto r = verify.authenticate(signed_get(*store->find("AKIDNAMED"), kNowMs), "s3");
  ASSERT_TRUE(r.ok) << r.code;
  EXPECT_EQ(r.account, "000011112222");
  EXPECT_EQ(r.principal, "AKIDNAMED");
  EXPECT_EQ(r.display_name, "Build-Server");
  r = verify.authenticate(signed_get(*store->find("AKIDPLAIN"), kNowMs), "s3");
  EXPECT_EQ(r.account, "000011112222");
  EXPECT_EQ(r.principal, "AKIDPLAIN");
  EXPECT_EQ(r.display_name, "AKIDPLAIN");  // no display name: the access key
  r = verify.authenticate(signed_get(*store->find("AKIDALT"), kNowMs), "s3");
  ASSERT_TRUE(r.ok) << r.code;
  EXPECT_EQ(r.account, "111122223333");
  EXPECT_EQ(r.principal, "AKIDALT");
}

TEST(AuthIdentity, ImdsKeysActAsTheirRole) {
  auto store = make_credential_store();
  ManualClock clock(kNowMs);
  ImdsOptions o;
  o.role = "builder";
  o.account_id = "123456789012";
  o.credential_lifetime_s = 3600;
  Imds imds(o, *store, clock);
  const Credential first = imds.current_credentials();
  EXPECT_EQ(first.principal, "arn:aws:iam::123456789012:role/builder");
  EXPECT_EQ(first.display_name, "builder");
  EXPECT_EQ(first.account_id, "123456789012");
  Authenticator verify(Mode::verify, *store, clock, "123456789012");
  auto r = verify.authenticate(signed_get(first, kNowMs), "s3");
  ASSERT_TRUE(r.ok) << r.code;
  EXPECT_EQ(r.access_key, first.access_key);
  EXPECT_EQ(r.account, "123456789012");
  EXPECT_EQ(r.principal, "arn:aws:iam::123456789012:role/builder");
  // After rotation the new key is the same principal.
  clock.advance_ms(3600 * 1000 - 60 * 1000);
  const Credential second = imds.current_credentials();
  ASSERT_NE(second.access_key, first.access_key);
  r = verify.authenticate(signed_get(second, clock.now_ms()), "s3");
  ASSERT_TRUE(r.ok) << r.code;
  EXPECT_EQ(r.principal, "arn:aws:iam::123456789012:role/builder");
}

TEST(AuthIdentity, ModeAnyTakesTheAccessKey) {
  auto store = make_credential_store();
  store->add(Credential{"AKIDKNOWN", "s", {}, std::nullopt, {}, "Known"});
  ManualClock clock(kNowMs);
  Authenticator any(Mode::any, *store, clock);
  auto r = any.authenticate(signed_get(Credential{"AKIDSTRANGER", "whatever", {}, std::nullopt}, kNowMs), "s3");
  ASSERT_TRUE(r.ok);
  // A key eddy does not know is an account of its own.
  EXPECT_EQ(r.account, "AKIDSTRANGER");
  EXPECT_EQ(r.principal, "AKIDSTRANGER");
  EXPECT_EQ(r.display_name, "AKIDSTRANGER");
  r = any.authenticate(signed_get(Credential{"AKIDKNOWN", "not-its-secret", {}, std::nullopt}, kNowMs), "s3");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.account, "000000000000");
  EXPECT_EQ(r.principal, "AKIDKNOWN");
  EXPECT_EQ(r.display_name, "Known");
  // Anonymous requests are nobody.
  http::Request anon;
  anon.method = "GET";
  anon.path = "/";
  anon.target = "/";
  anon.headers.add("Host", "127.0.0.1:4566");
  r = any.authenticate(anon, "s3");
  EXPECT_TRUE(r.anonymous);
  EXPECT_EQ(r.principal, "");
  EXPECT_EQ(r.account, "");
}

}  // namespace
}  // namespace eddy::auth
