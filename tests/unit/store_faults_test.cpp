// The store under a failed WAL append (issue 16, docs/reliability.md "Full disk"): the store's
// WAL fault seam makes RocksDB's appends to its WAL fail with ENOSPC, exactly where a full disk
// fails them. Debian's librocksdb aborted when such a WAL was synced afterwards
// (WritableFileWriter::AssertFalseAndGetStatusForPrevError); the store now syncs nothing while
// RocksDB is in error, reports the error, refuses writes, resumes once appends work again, and
// closes without touching the failed WAL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "server/store/store.h"

using namespace eddy::store;
namespace fs = std::filesystem;

namespace {

class StoreFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() / ("eddy-store-faults-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir_);
    open();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void open() {
    StoreOptions o;
    o.path = dir_.string();
    o.fsync = eddy::FsyncMode::interval;
    o.fsync_interval_ms = 3600 * 1000;    // the test runs the sync itself (sync_now)
    o.recover_interval_ms = 3600 * 1000;  // ... and the recovery (recover_now)
    o.wal_fault_seam = true;
    Status st;
    store_ = Store::open(o, &st);
    ASSERT_TRUE(store_) << st.message;
  }
  Status put(const std::string& k, const std::string& v) {
    WriteBatch b(*store_);
    b.put(Family::meta, k, v);
    return store_->write(b);
  }
  fs::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace

TEST_F(StoreFaults, FailedWalAppendThenSyncDoesNotAbortAndRecovers) {
  ASSERT_TRUE(put("a", "1"));  // a write to sync: the periodic sync has work to do
  store_->fail_wal_appends(true);
  auto st = put("b", "2");
  ASSERT_FALSE(st);
  EXPECT_NE(st.message.find("disk full"), std::string::npos) << st.message;
  auto h = store_->health();
  EXPECT_FALSE(h.ok);
  EXPECT_TRUE(h.no_space);
  EXPECT_EQ(h.errors, 1u);
  EXPECT_NE(h.reason.find("No space left on device"), std::string::npos) << h.reason;

  // The periodic WAL sync: this call aborted the process before (a sync after a failed append).
  for (int i = 0; i < 3; ++i) store_->sync_now();

  // Reads go on; writes, deletes included, are refused while RocksDB is stopped.
  EXPECT_EQ(store_->get(Family::meta, "a"), "1");
  EXPECT_FALSE(store_->get(Family::meta, "b"));
  WriteBatch del(*store_);
  del.del(Family::meta, "a");
  EXPECT_FALSE(store_->write(del));

  // Appends work again (space returned): one recovery run resumes, writes work.
  store_->fail_wal_appends(false);
  ASSERT_TRUE(store_->recover_now()) << store_->health().reason;
  h = store_->health();
  EXPECT_TRUE(h.ok);
  EXPECT_TRUE(h.reason.empty());
  EXPECT_EQ(h.recoveries, 1u);
  ASSERT_TRUE(put("c", "3"));
  store_->sync_now();

  // Nothing refused shows up, nothing acknowledged is lost, also after a reopen.
  store_.reset();
  open();
  EXPECT_EQ(store_->get(Family::meta, "a"), "1");
  EXPECT_FALSE(store_->get(Family::meta, "b"));
  EXPECT_EQ(store_->get(Family::meta, "c"), "3");
  EXPECT_TRUE(store_->health().ok);
}

TEST_F(StoreFaults, CloseWhileInErrorKeepsAcknowledgedWrites) {
  ASSERT_TRUE(put("a", "1"));
  store_->fail_wal_appends(true);
  ASSERT_FALSE(put("b", "2"));
  store_->sync_now();
  EXPECT_FALSE(store_->flush()) << "a flush while in error must not reach RocksDB";
  // Close in error (no WAL flush or sync, no memtable flush), then open again.
  store_.reset();
  open();
  EXPECT_EQ(store_->get(Family::meta, "a"), "1");
  EXPECT_FALSE(store_->get(Family::meta, "b"));
  ASSERT_TRUE(put("c", "3"));
}
