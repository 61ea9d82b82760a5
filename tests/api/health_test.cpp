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

TEST_F(Health, MemoryReportsRssRocksDbAndTheAllocator) {
  create_stream("memory", 1);
  auto r = http("GET", "/_eddy/memory");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_GT(j["rss"].get<uint64_t>(), 1u << 20);
  EXPECT_GT(j["rocksdb"]["memtables"].get<uint64_t>(), 0u);  // the stream is in a memtable
  for (const char* k : {"table_readers", "block_cache", "block_cache_pinned", "table_files", "table_bytes",
                        "blob_files", "blob_bytes"})
    EXPECT_TRUE(j["rocksdb"][k].is_number_unsigned()) << k;
  // AddressSanitizer's allocator leaves glibc's mallinfo2 at zero (the sanitized test build).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDDY_TEST_ASAN_MALLOC 1
#endif
#endif
#if !defined(EDDY_TEST_ASAN_MALLOC) && !defined(__SANITIZE_ADDRESS__)
  EXPECT_GT(j["malloc"]["in_use"].get<uint64_t>(), 0u);
#endif
  EXPECT_LE(j["malloc"]["heap_free"].get<uint64_t>(), j["malloc"]["heap"].get<uint64_t>());
  EXPECT_EQ(http("POST", "/_eddy/memory").status, 405);
}
