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

TEST_F(Health, NonKinesisRequestsGoToS3) {
  // A request without X-Amz-Target is S3's: a missing bucket is S3's NoSuchBucket.
  auto r = http("GET", "/some-bucket/key");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "application/xml");
  EXPECT_NE(r.body.find("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
                        "<BucketName>some-bucket</BucketName>"),
            std::string::npos)
      << r.body;
}

TEST_F(Health, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 50; ++i) ASSERT_EQ(http("GET", "/_eddy/health").status, 200);
}
