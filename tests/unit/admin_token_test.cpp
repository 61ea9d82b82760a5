// The admin token's decision (docs/reliability.md, "Security"), without binding anything: which
// --host values count as loopback, and when a token is generated. That the admin API then asks
// for the token is tests/api/security_test.cpp (AdminToken, on 127.0.0.1 with --admin-token).
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "server/admin_token.h"

namespace eddy {
namespace {

TEST(AdminTokenChoice, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]", "0:0:0:0:0:0:0:1",
                           "::ffff:127.0.0.1", "localhost"})
    EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const char* host : {"0.0.0.0", "::", "[::]", "10.0.0.1", "192.168.1.5", "128.0.0.1", "::ffff:10.0.0.1",
                           "fe80::1", "eddy.example.com", "localhost.example.com", "127.0.0.1.nip.io", ""})
    EXPECT_FALSE(is_loopback_host(host)) << host;
}

TEST(AdminTokenChoice, GeneratedOnlyBeyondLoopbackWithoutOne) {
  int calls = 0;
  auto gen = [&calls] {
    ++calls;
    return std::string("generated-token");
  };
  // Loopback, none given: the admin API stays open, no warning.
  auto c = choose_admin_token("127.0.0.1", "", gen);
  EXPECT_EQ(c.token, "");
  EXPECT_FALSE(c.beyond_loopback);
  EXPECT_FALSE(c.generated);
  // Loopback, one given: it is asked.
  c = choose_admin_token("::1", "mine", gen);
  EXPECT_EQ(c.token, "mine");
  EXPECT_FALSE(c.beyond_loopback);
  EXPECT_FALSE(c.generated);
  // Beyond loopback, one given: it is kept (warning, nothing generated).
  c = choose_admin_token("0.0.0.0", "mine", gen);
  EXPECT_EQ(c.token, "mine");
  EXPECT_TRUE(c.beyond_loopback);
  EXPECT_FALSE(c.generated);
  EXPECT_EQ(calls, 0);
  // Beyond loopback, none given: warning and a generated token.
  c = choose_admin_token("0.0.0.0", "", gen);
  EXPECT_EQ(c.token, "generated-token");
  EXPECT_TRUE(c.beyond_loopback);
  EXPECT_TRUE(c.generated);
  c = choose_admin_token("eddy.internal", "", gen);
  EXPECT_TRUE(c.generated);
  EXPECT_EQ(calls, 2);
}

TEST(AdminTokenChoice, RandomTokensAre128BitsOfHex) {
  const std::string a = random_admin_token(), b = random_admin_token();
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{32}"))) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace eddy
