// Inputs the libFuzzer targets in fuzz/ found (docs/testing.md, "Fuzzing"), kept as tests so
// the g++ build checks them too.
#include <gtest/gtest.h>

#include <string>

#include "wire/sigv4.h"

namespace {

namespace s4 = eddy::wire::sigv4;

// fuzz_sigv4: a Date with a year before 1000 parsed, but was formatted back as "321", which
// is not an IMF-fixdate and did not parse again.
TEST(FuzzRegressions, HttpDateYearIsFourDigits) {
  auto t = s4::parse_http_date("Fri, 24 May 0321 00:00:00 GMT");
  ASSERT_TRUE(t.has_value());
  const std::string text = s4::format_http_date(*t);
  EXPECT_EQ(text.substr(12, 4), "0321");
  EXPECT_EQ(s4::parse_http_date(text), t);
}

}  // namespace
