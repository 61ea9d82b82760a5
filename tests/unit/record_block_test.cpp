// Record blocks: the encoding and the cursor that reads single records out of them.
#include "server/kinesis/record_block.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace eddy::kinesis {
namespace {

class RecordBlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::Status st;
    store_ = store::Store::open(store::StoreOptions{.path = "", .in_memory = true}, &st);
    ASSERT_TRUE(store_) << st.message;
  }

  // Puts one block of `n` records for shard 1 of stream 7, starting at `first`.
  void put_block(uint64_t first, int n, int64_t arrival, const std::string& tag) {
    RecordBlockWriter w;
    w.start(arrival);
    for (int i = 0; i < n; ++i) w.add("pk-" + tag + std::to_string(i), "data-" + tag + std::to_string(i));
    store::WriteBatch b(*store_);
    b.put(store::Family::records, record_key(7, 1, first), w.finish());
    ASSERT_TRUE(store_->write(b));
  }

  std::vector<uint64_t> counters_from(uint64_t start) {
    auto it = store_->iterate(store::Family::records, record_key(7, 1, 0), record_key(7, 2, 0));
    RecordCursor c(*it, 7, 1);
    std::vector<uint64_t> out;
    for (c.seek(start); c.valid(); c.next()) out.push_back(c.record().counter);
    return out;
  }

  // The record a seek to `counter` lands on, copied out of the cursor.
  struct Found {
    bool valid = false;
    StoredRecord rec;
    std::string partition_key, data, block_key;
  };
  Found seek(uint64_t counter) {
    auto it = store_->iterate(store::Family::records, record_key(7, 1, 0), record_key(7, 2, 0));
    RecordCursor c(*it, 7, 1);
    c.seek(counter);
    Found f;
    if (!c.valid()) return f;
    f = Found{true, c.record(), std::string(c.record().partition_key), std::string(c.record().data),
              std::string(c.block_key())};
    return f;
  }

  std::unique_ptr<store::Store> store_;
};

TEST_F(RecordBlockTest, HeaderAndRecordsRoundTrip) {
  RecordBlockWriter w;
  w.start(1234567);
  w.add("a", std::string("\0\1\2", 3));
  w.add(std::string(256, 'k'), std::string(70000, 'd'));  // lengths beyond one byte
  w.add("empty-data", "");
  std::string value(w.finish());
  BlockHeader h;
  ASSERT_TRUE(parse_block_header(value, h));
  EXPECT_EQ(h.arrival_ms, 1234567);
  EXPECT_EQ(h.count, 3u);

  store::WriteBatch b(*store_);
  b.put(store::Family::records, record_key(7, 1, 10), value);
  ASSERT_TRUE(store_->write(b));
  auto it = store_->iterate(store::Family::records, record_key(7, 1, 0), record_key(7, 2, 0));
  RecordCursor c(*it, 7, 1);
  c.seek_to_first();
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.record().counter, 10u);
  EXPECT_EQ(c.record().partition_key, "a");
  EXPECT_EQ(c.record().data, std::string("\0\1\2", 3));
  c.next();
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.record().counter, 11u);
  EXPECT_EQ(c.record().partition_key, std::string(256, 'k'));
  EXPECT_EQ(c.record().data.size(), 70000u);
  EXPECT_EQ(c.record().arrival_ms, 1234567);
  c.next();
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(c.record().counter, 12u);
  EXPECT_EQ(c.record().data, "");
  c.next();
  EXPECT_FALSE(c.valid());
}

TEST_F(RecordBlockTest, SeekLandsInsideBetweenAndAfterBlocks) {
  put_block(0, 3, 100, "x");   // counters 0..2
  put_block(5, 2, 200, "y");   // 5..6 (3 and 4 are absent, e.g. trimmed)
  put_block(7, 1, 300, "z");   // 7
  EXPECT_EQ(counters_from(0), (std::vector<uint64_t>{0, 1, 2, 5, 6, 7}));
  EXPECT_EQ(counters_from(2), (std::vector<uint64_t>{2, 5, 6, 7}));
  EXPECT_EQ(counters_from(3), (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(counters_from(6), (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(counters_from(8), std::vector<uint64_t>{});

  Found f = seek(6);
  ASSERT_TRUE(f.valid);
  EXPECT_EQ(f.partition_key, "pk-y1");
  EXPECT_EQ(f.data, "data-y1");
  EXPECT_EQ(f.rec.arrival_ms, 200);
  EXPECT_EQ(f.block_key, record_key(7, 1, 5));
}

TEST_F(RecordBlockTest, ReadsSingleRecordValuesOfEarlierVersions) {
  // format 0: arrival | 0 | key length (u16) | key | data
  std::string v;
  store::put_u64(v, 42);
  v.push_back(0);
  v.push_back(0);
  v.push_back(2);
  v += "pkDATA";
  store::WriteBatch b(*store_);
  b.put(store::Family::records, record_key(7, 1, 3), v);
  ASSERT_TRUE(store_->write(b));
  put_block(4, 2, 50, "n");
  EXPECT_EQ(counters_from(0), (std::vector<uint64_t>{3, 4, 5}));
  Found f = seek(3);
  ASSERT_TRUE(f.valid);
  EXPECT_EQ(f.partition_key, "pk");
  EXPECT_EQ(f.data, "DATA");
  EXPECT_EQ(f.rec.arrival_ms, 42);
}

TEST_F(RecordBlockTest, CorruptValuesAreSkipped) {
  put_block(0, 2, 100, "a");
  store::WriteBatch b(*store_);
  b.put(store::Family::records, record_key(7, 1, 2), std::string("\0\0\0\0\0\0\0\1\7garbage", 16));  // unknown format
  std::string truncated;
  store::put_u64(truncated, 1);
  truncated.push_back(1);
  store::put_u32(truncated, 2);  // claims two records, holds half of one
  truncated += std::string("\0\2\0\0\0\x09pk", 8);
  b.put(store::Family::records, record_key(7, 1, 3), truncated);
  ASSERT_TRUE(store_->write(b));
  put_block(5, 1, 100, "b");
  EXPECT_EQ(counters_from(0), (std::vector<uint64_t>{0, 1, 5}));
  EXPECT_EQ(counters_from(3), (std::vector<uint64_t>{5}));
}

}  // namespace
}  // namespace eddy::kinesis
