// The Date response header tells eddy's one clock: under --clock manual an SDK that corrects
// its clock skew from Date (the JS SDK v3 does) signs with the time eddy checks against.
#include <gtest/gtest.h>

#include "server/app.h"
#include "tests/support/server_fixture.h"

namespace eddy::test {
namespace {

class DateHeader : public ServerFixture {
 protected:
  void configure(Config& c) override { c.clock = "manual"; }
};

TEST_F(DateHeader, FollowsTheManualClock) {
  ManualClock* clock = app_->manual_clock();
  ASSERT_NE(clock, nullptr);
  clock->set_ms(1577934245000);  // 2020-01-02T03:04:05Z
  auto r = http("GET", "/_eddy/health");
  EXPECT_EQ(r.header("date"), "Thu, 02 Jan 2020 03:04:05 GMT");
  clock->set_ms(1577934245000 + 86400000 + 1500);
  r = http("GET", "/_eddy/health");
  EXPECT_EQ(r.header("date"), "Fri, 03 Jan 2020 03:04:06 GMT");
}

}  // namespace
}  // namespace eddy::test
