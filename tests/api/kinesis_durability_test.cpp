// Streams, records, sequence numbers and iterators survive a restart on the same data dir.
#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include <map>
#include <string>
#include <vector>

#include "server/kinesis/kinesis_service.h"
#include "server/store/store.h"
#include "tests/support/stored_blocks.h"
#include "tests/support/in_process_kinesis.h"

#include "tests/support/fixture_config.h"
#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

class KinesisRestart : public KinesisFixture {
 protected:
  void tune(eddy::Config& c) override {
    use_disk_store(c, temp_dir("eddy-kin-restart"));
    c.fsync = eddy::FsyncMode::always;
  }
};

TEST_F(KinesisRestart, StreamsRecordsSequenceNumbersAndIteratorsSurvive) {
  create_stream("keep", 2);
  ok("AddTagsToStream", {{"StreamName", "keep"}, {"Tags", {{"k", "v"}}}});
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "keep"}, {"RetentionPeriodHours", 48}});
  std::vector<std::string> seqs(2);
  json recs = json::array();
  for (int i = 0; i < 100; ++i) recs.push_back({{"PartitionKey", "pk" + std::to_string(i)}, {"Data", b64("d" + std::to_string(i))}});
  auto out = ok("PutRecords", {{"StreamName", "keep"}, {"Records", recs}});
  for (auto& r : out["Records"]) {
    int shard = r["ShardId"] == shard_id(0) ? 0 : 1;
    seqs[shard] = std::max(seqs[shard], r["SequenceNumber"].get<std::string>());
  }
  auto it0 = iterator("keep", 0, "TRIM_HORIZON");
  auto latest1 = iterator("keep", 1, "LATEST");
  auto before0 = read_all(it0);
  auto before1 = read_all(iterator("keep", 1, "TRIM_HORIZON"));
  ASSERT_EQ(before0.size() + before1.size(), 100u);
  ok("SplitShard", {{"StreamName", "keep"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1000"}});

  restart();

  auto d = ok("DescribeStream", {{"StreamName", "keep"}})["StreamDescription"];
  EXPECT_EQ(d["Shards"].size(), 4u);
  EXPECT_EQ(d["RetentionPeriodHours"], 48);
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamName", "keep"}})["Tags"].size(), 1u);
  // The iterator issued before the restart still reads the same records.
  auto after0 = read_all(it0);
  ASSERT_EQ(after0.size(), before0.size());
  for (size_t i = 0; i < after0.size(); ++i) EXPECT_EQ(after0[i], before0[i]);
  // Sequence numbers continue strictly increasing in each shard.
  auto p = put("keep", "x", "new", {{"ExplicitHashKey", "340282366920938463463374607431768211455"}});
  EXPECT_EQ(p["ShardId"], shard_id(1));
  EXPECT_LT(seqs[1], p["SequenceNumber"].get<std::string>());
  auto tail = read_all(latest1);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0]["Data"], b64("new"));
  // And once more, with records written after the first restart.
  std::string last = p["SequenceNumber"];
  restart();
  auto p2 = put("keep", "x", "newer", {{"ExplicitHashKey", "340282366920938463463374607431768211455"}});
  EXPECT_LT(last, p2["SequenceNumber"].get<std::string>());
  EXPECT_EQ(read_all(iterator("keep", 1, "TRIM_HORIZON")).size(), before1.size() + 2);
  // A stream created after a restart gets a fresh id: old sequence numbers are foreign to it.
  ok("DeleteStream", {{"StreamName", "keep"}});
  restart();
  create_stream("keep", 1);
  fails("GetShardIterator", {{"StreamName", "keep"}, {"ShardId", shard_id(0)}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"},
                             {"StartingSequenceNumber", before0[0]["SequenceNumber"]}},
        "InvalidArgumentException");
  EXPECT_TRUE(read_all(iterator("keep", 0, "TRIM_HORIZON")).empty());
}

// Puts do not write the shard counter; a trim does. Once retention has removed every row of a
// shard, the counter persisted by the trim keeps new sequence numbers above the old ones.
TEST_F(KinesisRestart, SequenceNumbersStayAboveRecordsRemovedByRetention) {
  create_stream("trim", 1);
  std::string last;
  for (int i = 0; i < 3; ++i) last = put("trim", "k", "old" + std::to_string(i))["SequenceNumber"];
  clock().advance_ms(25LL * 3600 * 1000);  // past the 24 h retention
  EXPECT_TRUE(read_all(iterator("trim", 0, "TRIM_HORIZON")).empty());  // the read trims the rows

  restart();

  auto p = put("trim", "k", "new");
  EXPECT_LT(last, p["SequenceNumber"].get<std::string>());
  auto recs = read_all(iterator("trim", 0, "TRIM_HORIZON"));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["Data"], b64("new"));
}

// A PutRecords block of 4 KiB and up is stored in a RocksDB blob file once its memtable is
// flushed (the restart flushes): it reads back byte for byte, and retention still removes it.
TEST_F(KinesisRestart, LargeBlocksInBlobFilesSurviveRestartAndLeaveByRetention) {
  create_stream("big", 1);
  json recs = json::array();
  std::vector<std::string> sent;
  for (int i = 0; i < 200; ++i) {
    sent.push_back(std::string(200, static_cast<char>('a' + i % 26)) + std::to_string(i));
    recs.push_back({{"PartitionKey", "pk" + std::to_string(i)}, {"Data", b64(sent.back())}});
  }
  std::string last;
  for (int round = 0; round < 2; ++round) {
    auto out = ok("PutRecords", {{"StreamName", "big"}, {"Records", recs}});
    ASSERT_EQ(out["FailedRecordCount"], 0);
    last = out["Records"][199]["SequenceNumber"];
  }

  restart();

  auto got = read_all(iterator("big", 0, "TRIM_HORIZON"));
  ASSERT_EQ(got.size(), 400u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["Data"], b64(sent[i % 200])) << i;
    EXPECT_EQ(got[i]["PartitionKey"], "pk" + std::to_string(i % 200)) << i;
  }
  clock().advance_ms(25LL * 3600 * 1000);  // past the 24 h retention
  EXPECT_TRUE(read_all(iterator("big", 0, "TRIM_HORIZON")).empty());

  restart();

  EXPECT_TRUE(read_all(iterator("big", 0, "TRIM_HORIZON")).empty());
  auto p = put("big", "k", "after");
  EXPECT_LT(last, p["SequenceNumber"].get<std::string>());
}

// Retention finds a shard's first live block by binary search over its counters: a trim, and
// a read from TRIM_HORIZON across the expired stretch, read a few blocks (counted: RocksDB's
// blob reads on the calling thread), not every expired one. What is expired goes, what is
// live stays with its sequence numbers, and new sequence numbers stay above the trimmed ones.
TEST_F(KinesisRestart, RetentionSkipsExpiredBlocksByBinarySearch) {
  constexpr int kBlocks = 120, kLive = 30, kPerBlock = 8;
  json recs = json::array();
  for (int i = 0; i < kPerBlock; ++i) recs.push_back({{"PartitionKey", "pk"}, {"Data", b64(std::string(1024, 'a' + i))}});
  std::map<std::string, std::vector<std::string>> seqs;  // by stream: every block's first sequence number
  std::string last;
  const int64_t first_trim = clock().now_ms();  // the arrival of "trim"'s first block
  for (const std::string stream : {"trim", "read"}) {
    create_stream(stream, 1);
    for (int b = 0; b < kBlocks; ++b) {
      auto out = ok("PutRecords", {{"StreamName", stream}, {"Records", recs}});
      ASSERT_EQ(out["FailedRecordCount"], 0);
      seqs[stream].push_back(out["Records"][0]["SequenceNumber"]);
      last = out["Records"][kPerBlock - 1]["SequenceNumber"];
      clock().advance_ms(60'000);  // a block a minute (arrival times grow along the shard)
    }
  }
  restart();  // the blocks (8 KiB each) reach blob files (and the manual clock starts over)
  auto stored_blocks = [&](const std::string& stream) { return eddy::test::stored_blocks(*app_, stream); };
  auto blob_reads = [](auto&& fn) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
    fn();
    const uint64_t n = rocksdb::get_perf_context()->blob_read_count;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return n;
  };
  // "trim" was written first: 24 h + (kBlocks - kLive) minutes after its first block,
  // kBlocks - kLive of its blocks have expired and none of "read"'s (written after them).
  clock().set_ms(first_trim + 24LL * 3600 * 1000 + (kBlocks - kLive) * 60'000LL - 30'000);
  const uint64_t trim_reads = blob_reads([&] { app_->kinesis().trim_expired(); });
  EXPECT_LT(trim_reads, 25u) << "a binary search over " << kBlocks * kPerBlock << " counters";
  EXPECT_EQ(stored_blocks("trim"), static_cast<size_t>(kLive));
  EXPECT_EQ(stored_blocks("read"), static_cast<size_t>(kBlocks));
  auto live = read_all(iterator("trim", 0, "TRIM_HORIZON"));
  ASSERT_EQ(live.size(), static_cast<size_t>(kLive * kPerBlock));
  EXPECT_EQ(live[0]["SequenceNumber"], seqs["trim"][kBlocks - kLive]);
  EXPECT_EQ(live[kPerBlock]["SequenceNumber"], seqs["trim"][kBlocks - kLive + 1]);

  // "read": the same cut kBlocks minutes later, read through GetRecords (which jumps the
  // expired stretch and trims it).
  clock().advance_ms(kBlocks * 60'000LL);
  const std::string it = iterator("read", 0, "TRIM_HORIZON");
  json page;
  const uint64_t read_reads = blob_reads([&] {
    auto req = eddy::test::kinesis_request("GetRecords", json{{"ShardIterator", it}, {"Limit", 10}}.dump());
    page = json::parse(app_->kinesis().handle(req).body);
  });
  EXPECT_LT(read_reads, 30u);
  ASSERT_EQ(page["Records"].size(), 10u);
  EXPECT_EQ(page["Records"][0]["SequenceNumber"], seqs["read"][kBlocks - kLive]);
  EXPECT_EQ(stored_blocks("read"), static_cast<size_t>(kLive));
  EXPECT_EQ(read_all(iterator("read", 0, "TRIM_HORIZON")).size(), static_cast<size_t>(kLive * kPerBlock));

  // Past everything: both shards empty, and sequence numbers go on above the trimmed ones
  // (the trim persisted the counters) across a restart.
  clock().advance_ms(25LL * 3600 * 1000);
  app_->kinesis().trim_expired();
  EXPECT_EQ(stored_blocks("trim"), 0u);
  restart();
  EXPECT_LT(last, put("read", "k", "after")["SequenceNumber"].get<std::string>());
  EXPECT_LT(seqs["trim"].back(), put("trim", "k", "after")["SequenceNumber"].get<std::string>());
  EXPECT_EQ(read_all(iterator("trim", 0, "TRIM_HORIZON")).size(), 1u);
}
