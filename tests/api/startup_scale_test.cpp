// Start-up work does not grow with the data stored: counted (RocksDB's perf context on the
// thread that runs App::start), never timed. bench/scale.py times it (docs/performance.md, "Scale").
#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include <string>

#include "server/s3/s3_model.h"
#include "server/store/store.h"
#include "tests/support/on_disk_fixture.h"

namespace eddy::test {
namespace {

class StartupOnDisk : public OnDiskFixture {
 protected:
  // Blob reads (object data) while the server restarts; the stop flushes the memtables, so
  // every object's data is in a blob file by then.
  uint64_t blob_reads_at_restart() {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
    restart();
    uint64_t n = rocksdb::get_perf_context()->blob_read_count;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return n;
  }
  static std::string body(int i) { return std::string(8192, static_cast<char>('a' + i % 26)) + std::to_string(i); }
  void put_objects(int n) {
    ASSERT_EQ(http("PUT", "/big").status, 200);
    for (int i = 0; i < n; ++i) ASSERT_EQ(http("PUT", "/big/k" + std::to_string(i), {}, body(i)).status, 200) << i;
  }
};

TEST_F(StartupOnDisk, S3ReadsABlobPerGapInTheIdsNotPerStoredObject) {
  put_objects(40);
  ASSERT_EQ(http("DELETE", "/big/k10").status, 204);
  ASSERT_EQ(http("DELETE", "/big/k30").status, 204);
  restart();  // the data reaches blob files

  // One read per run of consecutive blob ids (three runs around the two deleted objects'), not 38.
  EXPECT_LE(blob_reads_at_restart(), 3u);
  for (int i : {0, 9, 11, 29, 31, 39}) EXPECT_EQ(http("GET", "/big/k" + std::to_string(i)).body, body(i)) << i;
  EXPECT_EQ(http("GET", "/big/k10").status, 404);
}

TEST_F(StartupOnDisk, S3StillDropsBlobsNoObjectRefersTo) {
  put_objects(6);
  ASSERT_EQ(http("DELETE", "/big/k3").status, 204);
  // What a crash mid-PUT leaves: blob rows with no object row. One in the deleted object's id
  // (ids 1-6 went to k0-k5; k3 had id 4), one past every id handed out.
  {
    store::WriteBatch b(app_->store());
    b.put(store::Family::blobs, s3::blob_key(4, 0), "orphan in a gap");
    b.put(store::Family::blobs, s3::blob_key(9, 0), "orphan at the end");
    ASSERT_TRUE(app_->store().write(b));
  }
  restart();

  EXPECT_FALSE(app_->store().get(store::Family::blobs, s3::blob_key(4, 0)));
  EXPECT_FALSE(app_->store().get(store::Family::blobs, s3::blob_key(9, 0)));
  for (int i : {0, 1, 2, 4, 5}) EXPECT_EQ(http("GET", "/big/k" + std::to_string(i)).body, body(i)) << i;
  // New blobs get ids past the dropped ones' and read back.
  ASSERT_EQ(http("PUT", "/big/new", {}, body(7)).status, 200);
  restart();
  EXPECT_EQ(http("GET", "/big/new").body, body(7));
  EXPECT_EQ(http("GET", "/big/k5").body, body(5));
}

}  // namespace
}  // namespace eddy::test
