// S3's size limits and recovery (docs/s3.md): user metadata over 2 KiB is MetadataTooLarge, a
// declared size over 5 GiB is EntityTooLarge before any body is read, and the chunks of an upload
// interrupted by a crash are dropped at the next start while committed objects stay whole.
#include <gtest/gtest.h>

#include "server/s3/s3_model.h"
#include "server/store/store.h"
#include "tests/api/limits_test_support.h"
#include "tests/support/on_disk_fixture.h"

namespace eddy::test {
namespace {

class S3Limits : public OnDiskFixture {
 protected:
  size_t blob_chunks(uint64_t blob_id) {
    size_t n = 0;
    auto lo = s3::blob_key(blob_id, 0), hi = s3::blob_key(blob_id + 1, 0);
    auto it = app_->store().iterate(store::Family::blobs, lo, hi);
    for (it->seek(lo); it->valid(); it->next()) ++n;
    return n;
  }
};

TEST_F(S3Limits, UserMetadataOverTwoKiBIsMetadataTooLarge) {
  ASSERT_EQ(http("PUT", "/lim").status, 200);
  // The size is the names (without x-amz-meta-) plus the values: "a" + 2047 = 2048 fits.
  EXPECT_EQ(http("PUT", "/lim/fits", {{"x-amz-meta-a", std::string(2047, 'v')}}, "x").status, 200);
  auto r = http("PUT", "/lim/over", {{"x-amz-meta-a", std::string(2048, 'v')}}, "x");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>MetadataTooLarge</Code><Message>Your metadata headers exceed the maximum allowed "
                        "metadata size.</Message>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<Size>2049</Size><MaxSizeAllowed>2048</MaxSizeAllowed>"), std::string::npos) << r.body;
  EXPECT_EQ(http("HEAD", "/lim/over").status, 404);
  // Spread over several headers, the sum counts.
  r = http("PUT", "/lim/multi", {{"x-amz-meta-one", std::string(1024, 'v')}, {"x-amz-meta-two", std::string(1024, 'v')}}, "x");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>MetadataTooLarge</Code>"), std::string::npos) << r.body;
  // CreateMultipartUpload checks it too.
  r = http("POST", "/lim/mp?uploads", {{"x-amz-meta-a", std::string(2048, 'v')}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>MetadataTooLarge</Code>"), std::string::npos) << r.body;
}

TEST_F(S3Limits, DeclaredSizeOverFiveGiBIsEntityTooLargeBeforeTheBody) {
  ASSERT_EQ(http("PUT", "/lim").status, 200);
  const uint64_t five_gib = 5ULL << 30;
  // Only the header: the answer comes without a byte of the body being sent.
  auto ex = raw_exchange(app_->port(), "PUT /lim/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                                          std::to_string(five_gib + 1) + "\r\n\r\n");
  EXPECT_EQ(ex.received.rfind("HTTP/1.1 400 ", 0), 0u) << ex.received;
  EXPECT_NE(ex.received.find("<Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed "
                             "object size.</Message>"),
            std::string::npos)
      << ex.received;
  EXPECT_NE(ex.received.find("<ProposedSize>" + std::to_string(five_gib + 1) + "</ProposedSize><MaxSizeAllowed>" +
                             std::to_string(five_gib) + "</MaxSizeAllowed>"),
            std::string::npos)
      << ex.received;
  EXPECT_EQ(http("HEAD", "/lim/huge").status, 404);
}

TEST_F(S3Limits, ChunksLeftByACrashAreDroppedAtTheNextStart) {
  ASSERT_EQ(http("PUT", "/lim").status, 200);
  const std::string body(3 * 1024 * 1024 + 5, 'b');  // four 1 MiB chunks
  ASSERT_EQ(http("PUT", "/lim/kept", {}, body).status, 200);
  // What an upload interrupted by kill -9 leaves: chunks under a blob id no object refers to.
  const uint64_t orphan = 1ULL << 40;
  store::WriteBatch b(app_->store());
  for (uint32_t chunk = 0; chunk < 3; ++chunk) b.put(store::Family::blobs, s3::blob_key(orphan, chunk), std::string(1024, 'o'));
  ASSERT_TRUE(app_->store().write(b));
  ASSERT_EQ(blob_chunks(orphan), 3u);
  restart();
  EXPECT_EQ(blob_chunks(orphan), 0u);
  auto r = http("GET", "/lim/kept");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
}

}  // namespace
}  // namespace eddy::test
