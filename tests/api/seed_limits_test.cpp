// --seed runs before throttling and fault rules attach: seeded streams are set-up, not
// traffic. Limits apply to every request after start-up.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/server_fixture.h"

namespace eddy::test {
namespace {

using nlohmann::json;

class SeedUnderThrottle : public ServerFixture {
 protected:
  void configure(Config& c) override {
    dir_ = temp_dir("eddy-seed-limits");
    json streams = json::array();
    for (int i = 0; i < 8; ++i) streams.push_back({{"StreamName", "seeded-" + std::to_string(i)}, {"ShardCount", 1}});
    std::ofstream(dir_ / "streams.json") << streams.dump();
    c.seed_dirs.push_back(dir_.string());
    c.throttle = "aws";
    c.clock = "manual";
  }
  std::filesystem::path dir_;
};

TEST_F(SeedUnderThrottle, EightSeededStreamsDespiteTheCreateStreamRateAndLimitsStillApply) {
  auto list = kinesis("ListStreams", json::object());
  ASSERT_EQ(list.status, 200) << list.raw;
  EXPECT_EQ(list.body["StreamNames"].size(), 8u) << list.raw;
  // After start-up the account's CreateStream rate (5/s) holds: the clock is held still.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(kinesis("CreateStream", {{"StreamName", "late-" + std::to_string(i)}, {"ShardCount", 1}}).status, 200) << i;
  auto r = kinesis("CreateStream", {{"StreamName", "late-5"}, {"ShardCount", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "LimitExceededException");
}

TEST_F(SeedUnderThrottle, HealthAnswersOnlyOnItsExactPath) {
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);
  EXPECT_EQ(http("GET", "/_eddy/healthz").status, 404);
}

}  // namespace
}  // namespace eddy::test
