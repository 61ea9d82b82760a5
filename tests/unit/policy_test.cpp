// The resource-policy evaluator (server/s3/policy.h): parsing errors, principals, actions and
// resources with wildcards, the condition operators and their IfExists / set forms, explicit
// Deny winning, and what counts as a public policy.
#include "server/s3/policy.h"

#include <gtest/gtest.h>

namespace eddy::policy {
namespace {

std::shared_ptr<const Document> parse_ok(const std::string& json) {
  auto r = Document::parse(json, [](std::string_view) { return true; }, [](std::string_view) { return true; });
  if (auto* e = std::get_if<std::string>(&r)) ADD_FAILURE() << *e;
  return std::get_if<std::shared_ptr<const Document>>(&r) ? std::get<std::shared_ptr<const Document>>(r) : nullptr;
}

std::string parse_error(const std::string& json) {
  auto r = Document::parse(json, [](std::string_view s) { return s.rfind("arn:aws:s3:::b", 0) == 0; },
                           [](std::string_view a) { return a.rfind("s3:", 0) == 0 || a == "*"; });
  auto* e = std::get_if<std::string>(&r);
  return e ? *e : "";
}

Request req(std::string action, std::string resource, std::string account = "111122223333") {
  Request r;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.account = std::move(account);
  r.anonymous = r.account.empty();
  return r;
}

std::string statement(const std::string& effect, const std::string& principal, const std::string& action,
                      const std::string& resource, const std::string& condition = "") {
  return R"({"Effect":")" + effect + R"(","Principal":)" + principal + R"(,"Action":)" + action + R"(,"Resource":)" +
         resource + (condition.empty() ? "" : R"(,"Condition":)" + condition) + "}";
}
std::string doc(const std::string& statements) { return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}"; }

TEST(Policy, WildcardMatch) {
  EXPECT_TRUE(wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c"));
  EXPECT_TRUE(wildcard_match("s3:get*", "s3:getobject"));
  EXPECT_TRUE(wildcard_match("a?c", "abc"));
  EXPECT_FALSE(wildcard_match("a?c", "ac"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_FALSE(wildcard_match("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
  EXPECT_TRUE(wildcard_match("A*", "abc", true));
  // A '*' in the text is matched by the pattern's '*' like any other character.
  EXPECT_TRUE(wildcard_match("*b", "*ab"));
  // CORS patterns (the same matcher, shared with s3_cors.cpp) know only '*': '?' is itself.
  EXPECT_FALSE(wildcard_match("a?c", "abc", false, false));
  EXPECT_TRUE(wildcard_match("a?c", "a?c", false, false));
  EXPECT_TRUE(wildcard_match("https://*.example.com", "https://app.example.com", false, false));
}

TEST(Policy, MalformedDocumentsSayWhy) {
  EXPECT_EQ(parse_error("nope"), "Policies must be valid JSON and the first byte must be '{'");
  EXPECT_EQ(parse_error("{\"Statement\": ["), "Policies must be valid JSON and the first byte must be '{'");
  EXPECT_EQ(parse_error("{}"), "Missing required field Statement");
  EXPECT_EQ(parse_error(doc(R"({"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"})")),
            "Invalid effect: Maybe");
  EXPECT_EQ(parse_error(doc(R"({"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b"})")),
            "Missing required field Principal");
  EXPECT_EQ(parse_error(doc(R"({"Effect":"Allow","NotPrincipal":{"AWS":"1"},"Action":"s3:*","Resource":"arn:aws:s3:::b"})")),
            "NotPrincipal is not supported with Effect Allow");
  EXPECT_EQ(parse_error(doc(statement("Allow", "\"*\"", "\"ec2:RunInstances\"", "\"arn:aws:s3:::b\""))),
            "Policy has invalid action");
  EXPECT_EQ(parse_error(doc(statement("Allow", "\"*\"", "\"s3:GetObject\"", "\"arn:aws:s3:::other/*\""))),
            "Policy has invalid resource");
  EXPECT_EQ(parse_error(doc(statement("Allow", "\"*\"", "\"s3:GetObject\"", "\"arn:aws:s3:::b/*\"",
                                      R"({"StringSorta":{"s3:prefix":"x"}})"))),
            "Invalid Condition type : StringSorta");
  EXPECT_EQ(parse_error(doc(statement("Allow", "\"*\"", "\"s3:GetObject\"", "\"arn:aws:s3:::b/*\"",
                                      R"({"IpAddress":{"aws:SourceIp":"not-an-ip"}})"))),
            "Invalid IP address in condition: not-an-ip");
}

TEST(Policy, PrincipalsActionsResourcesAndDenyWins) {
  auto d = parse_ok(doc(statement("Allow", R"({"AWS":"arn:aws:iam::111122223333:root"})", R"(["s3:Get*","s3:ListBucket"])",
                                  R"(["arn:aws:s3:::b","arn:aws:s3:::b/*"])") +
                        "," + statement("Deny", R"({"AWS":["111122223333"]})", "\"s3:GetObject\"", "\"arn:aws:s3:::b/secret\"")));
  EXPECT_EQ(d->evaluate(req("s3:GetObject", "arn:aws:s3:::b/k")), Effect::allow);
  EXPECT_EQ(d->evaluate(req("s3:GetObjectAcl", "arn:aws:s3:::b/k")), Effect::allow);
  EXPECT_EQ(d->evaluate(req("s3:ListBucket", "arn:aws:s3:::b")), Effect::allow);
  EXPECT_EQ(d->evaluate(req("s3:PutObject", "arn:aws:s3:::b/k")), Effect::none);
  EXPECT_EQ(d->evaluate(req("s3:GetObject", "arn:aws:s3:::b/secret")), Effect::deny);
  EXPECT_EQ(d->evaluate(req("s3:GetObject", "arn:aws:s3:::b/k", "444455556666")), Effect::none);
  EXPECT_EQ(d->evaluate(req("s3:GetObject", "arn:aws:s3:::b/k", "")), Effect::none);  // anonymous

  auto any = parse_ok(doc(statement("Allow", "\"*\"", "\"s3:*\"", "\"arn:aws:s3:::b/*\"")));
  EXPECT_EQ(any->evaluate(req("s3:GetObject", "arn:aws:s3:::b/k", "")), Effect::allow);
  auto canonical = parse_ok(doc(statement("Allow", R"({"CanonicalUser":"abc"})", "\"s3:*\"", "\"*\"")));
  Request r = req("s3:GetObject", "arn:aws:s3:::b/k");
  r.canonical_id = "abc";
  EXPECT_EQ(canonical->evaluate(r), Effect::allow);
  auto not_action = parse_ok(doc(R"({"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"})"));
  EXPECT_EQ(not_action->evaluate(req("s3:PutObject", "x")), Effect::deny);
  EXPECT_EQ(not_action->evaluate(req("s3:GetObject", "x")), Effect::none);
}

Effect with_condition(const std::string& condition, std::map<std::string, std::vector<std::string>> context) {
  auto d = parse_ok(doc(statement("Allow", "\"*\"", "\"s3:*\"", "\"*\"", condition)));
  Request r = req("s3:GetObject", "arn:aws:s3:::b/k");
  r.context = std::move(context);
  return d->evaluate(r);
}

TEST(Policy, ConditionOperators) {
  EXPECT_EQ(with_condition(R"({"StringLike":{"s3:prefix":"public/*"}})", {{"s3:prefix", {"public/a"}}}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"StringLike":{"s3:prefix":"public/*"}})", {{"s3:prefix", {"private/a"}}}), Effect::none);
  EXPECT_EQ(with_condition(R"({"StringLike":{"s3:prefix":"public/*"}})", {}), Effect::none);
  // A negated operator over a missing key holds: the "deny unless encrypted" pattern.
  EXPECT_EQ(with_condition(R"({"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}})", {}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}})",
                           {{"s3:x-amz-server-side-encryption", {"AES256"}}}),
            Effect::none);
  EXPECT_EQ(with_condition(R"({"StringEqualsIgnoreCase":{"s3:x-amz-acl":"PRIVATE"}})", {{"s3:x-amz-acl", {"private"}}}),
            Effect::allow);
  EXPECT_EQ(with_condition(R"({"StringLikeIfExists":{"aws:referer":"http://x/*"}})", {}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"StringLikeIfExists":{"aws:Referer":"http://x/*"}})", {{"aws:referer", {"http://y/"}}}),
            Effect::none);
  EXPECT_EQ(with_condition(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", {{"aws:sourceip", {"10.1.2.3"}}}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", {{"aws:sourceip", {"11.1.2.3"}}}), Effect::none);
  EXPECT_EQ(with_condition(R"({"IpAddress":{"aws:SourceIp":"2001:db8::/32"}})", {{"aws:sourceip", {"2001:db8::1"}}}),
            Effect::allow);
  EXPECT_EQ(with_condition(R"({"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1/32"]}})",
                           {{"aws:sourceip", {"127.0.0.1"}}}),
            Effect::none);
  EXPECT_EQ(with_condition(R"({"Bool":{"aws:SecureTransport":false}})", {{"aws:securetransport", {"false"}}}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"NumericLessThan":{"s3:max-keys":"10"}})", {{"s3:max-keys", {"5"}}}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"NumericLessThan":{"s3:max-keys":"10"}})", {{"s3:max-keys", {"50"}}}), Effect::none);
  EXPECT_EQ(with_condition(R"({"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}})",
                           {{"aws:currenttime", {"2026-12-07T14:00:00.000Z"}}}),
            Effect::allow);
  EXPECT_EQ(with_condition(R"({"Null":{"s3:x-amz-acl":"true"}})", {}), Effect::allow);
  EXPECT_EQ(with_condition(R"({"Null":{"s3:x-amz-acl":"true"}})", {{"s3:x-amz-acl", {"private"}}}), Effect::none);
  EXPECT_EQ(with_condition(R"({"StringEquals":{"s3:ExistingObjectTag/Security":"public"}})",
                           {{"s3:existingobjecttag/Security", {"public"}}}),
            Effect::allow);
  // Set qualifiers over a multi-valued key.
  EXPECT_EQ(with_condition(R"({"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["a","b"]}})",
                           {{"s3:requestobjecttagkeys", {"a", "b"}}}),
            Effect::allow);
  EXPECT_EQ(with_condition(R"({"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["a","b"]}})",
                           {{"s3:requestobjecttagkeys", {"a", "c"}}}),
            Effect::none);
  EXPECT_EQ(with_condition(R"({"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":"c"}})",
                           {{"s3:requestobjecttagkeys", {"a", "c"}}}),
            Effect::allow);
  // Keys of one operator, and operators, must all hold.
  EXPECT_EQ(with_condition(R"({"StringEquals":{"s3:x-amz-acl":"private","s3:prefix":"p"}})", {{"s3:x-amz-acl", {"private"}}}),
            Effect::none);
}

TEST(Policy, PublicMeansEveryoneWithoutAPinningCondition) {
  EXPECT_TRUE(parse_ok(doc(statement("Allow", "\"*\"", "\"s3:GetObject\"", "\"*\"")))->is_public());
  EXPECT_TRUE(parse_ok(doc(statement("Allow", R"({"AWS":"*"})", "\"s3:GetObject\"", "\"*\"")))->is_public());
  EXPECT_FALSE(parse_ok(doc(statement("Allow", R"({"AWS":"arn:aws:iam::1:root"})", "\"s3:GetObject\"", "\"*\"")))->is_public());
  EXPECT_FALSE(parse_ok(doc(statement("Deny", "\"*\"", "\"s3:GetObject\"", "\"*\"")))->is_public());
  EXPECT_FALSE(parse_ok(doc(statement("Allow", "\"*\"", "\"s3:GetObject\"", "\"*\"",
                                      R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})")))
                   ->is_public());
  EXPECT_TRUE(parse_ok(doc(statement("Allow", "\"*\"", "\"s3:GetObject\"", "\"*\"",
                                     R"({"StringLike":{"s3:prefix":"public/*"}})")))
                  ->is_public());
}

}  // namespace
}  // namespace eddy::policy
