#include <gtest/gtest.h>

#include "tests/support/server_fixture.h"

using namespace eddy::test;

class Health : public ServerFixture {};

TEST_F(Health, AnswersWithStatusAndRequestId) {
  auto r = http("GET", "/_eddy/health");
  EXPECT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["storage"], "memory");
  EXPECT_FALSE(r.header("x-amzn-requestid").empty());
}

TEST_F(Health, UnknownAdminPathIs404) {
  auto r = http("GET", "/_eddy/nope");
  EXPECT_EQ(r.status, 404);
}

TEST_F(Health, NonKinesisRequestsGetS3ShapedError) {
  auto r = http("GET", "/some-bucket/key");
  // Until S3 lands: an S3-shaped XML error, never a crash or an empty reply.
  EXPECT_TRUE(r.status == 501 || r.status == 403 || r.status == 404) << r.status;
  EXPECT_NE(r.body.find("<Error><Code>"), std::string::npos) << r.body;
}

TEST_F(Health, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 50; ++i) ASSERT_EQ(http("GET", "/_eddy/health").status, 200);
}
