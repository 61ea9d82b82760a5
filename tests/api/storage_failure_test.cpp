// Storage failures are a tested path: with the store's seam (Store::fail_next_writes) a write
// fails the way a full or broken disk makes it fail, and every operation answers it - once,
// with the service's internal error - and leaves nothing half done: PutRecord(s) hand their
// sequence numbers back, a reshard and every stream setting are rolled back, an S3 object is
// either whole or absent (its chunks removed), and metrics that could not be flushed are
// written by the next flush.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <sstream>

#include "server/kinesis/sequence_number.h"
#include "server/metrics/registry.h"
#include "server/s3/s3_model.h"
#include "server/store/store.h"
#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;
using eddy::store::Family;

namespace {

uint64_t counter_of(const json& put) {
  auto seq = eddy::kinesis::SequenceNumber::parse(put["SequenceNumber"].get<std::string>());
  EXPECT_TRUE(seq.has_value()) << put.dump();
  return seq ? seq->counter : 0;
}

// Captures the log lines written while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() { spdlog::default_logger()->sinks().pop_back(); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace

class StorageFailure : public KinesisFixture {
 protected:
  void tune(eddy::Config& c) override { c.auth = "off"; }
  // An injected failure goes to the next store write of any writer: the metrics flusher's
  // once-a-second write must not take the one meant for the operation under test (it did under
  // ThreadSanitizer, ./dev tsan). The tests flush with run_now().
  void SetUp() override {
    KinesisFixture::SetUp();
    app_->metrics().flusher().stop();
  }
  eddy::store::Store& store() { return app_->store(); }
  // The operation's answer while the next write fails: InternalFailure, 500.
  void fails_internally(const std::string& op, const json& in) {
    store().fail_next_writes(1);
    auto r = kinesis(op, in);
    EXPECT_EQ(r.status, 500) << op << " " << r.raw;
    EXPECT_EQ(r.type(), "InternalFailure") << op << " " << r.raw;
    store().fail_next_writes(0);
  }
  size_t count(Family f) {
    size_t n = 0;
    auto it = store().iterate(f);
    for (it->seek(""); it->valid(); it->next()) ++n;
    return n;
  }
};

TEST_F(StorageFailure, PutRecordFailsOnceAndHandsItsSequenceNumberBack) {
  create_stream("p", 1);
  const uint64_t first = counter_of(put("p", "k", "one"));
  fails_internally("PutRecord", {{"StreamName", "p"}, {"PartitionKey", "k"}, {"Data", b64("lost")}});
  const uint64_t next = counter_of(put("p", "k", "two"));
  EXPECT_EQ(next, first + 1) << "the failed put's counter is handed back: no gap";
  auto records = read_all(iterator("p", 0, "TRIM_HORIZON"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["Data"], b64("one"));
  EXPECT_EQ(records[1]["Data"], b64("two"));
}

TEST_F(StorageFailure, PutRecordsFailsWholeAndHandsCountersBack) {
  create_stream("ps", 2);
  json recs = json::array();
  for (int i = 0; i < 20; ++i) recs.push_back({{"PartitionKey", "k" + std::to_string(i)}, {"Data", b64("x")}});
  auto before = ok("PutRecords", {{"StreamName", "ps"}, {"Records", recs}});
  ASSERT_EQ(before["FailedRecordCount"], 0);
  fails_internally("PutRecords", {{"StreamName", "ps"}, {"Records", recs}});
  auto after = ok("PutRecords", {{"StreamName", "ps"}, {"Records", recs}});
  ASSERT_EQ(after["FailedRecordCount"], 0);
  // Per shard, the third call's numbers follow the first's without a gap.
  std::map<std::string, uint64_t> last_before, first_after;
  for (auto& r : before["Records"]) last_before[r["ShardId"]] = std::max(last_before[r["ShardId"]], counter_of(r));
  for (auto& r : after["Records"]) {
    auto [it, fresh] = first_after.emplace(r["ShardId"], counter_of(r));
    if (!fresh) it->second = std::min(it->second, counter_of(r));
  }
  for (auto& [shard, last] : last_before) EXPECT_EQ(first_after[shard], last + 1) << shard;
  EXPECT_EQ(read_all(iterator("ps", 0, "TRIM_HORIZON")).size() + read_all(iterator("ps", 1, "TRIM_HORIZON")).size(),
            40u);
}

TEST_F(StorageFailure, ReshardIsRolledBack) {
  create_stream("r", 2);
  const json before = ok("DescribeStream", {{"StreamName", "r"}})["StreamDescription"];
  fails_internally("SplitShard", {{"StreamName", "r"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1000"}});
  fails_internally("MergeShards", {{"StreamName", "r"}, {"ShardToMerge", shard_id(0)}, {"AdjacentShardToMerge", shard_id(1)}});
  fails_internally("UpdateShardCount", {{"StreamName", "r"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}});
  const json after = ok("DescribeStream", {{"StreamName", "r"}})["StreamDescription"];
  EXPECT_EQ(after["Shards"], before["Shards"]);
  EXPECT_EQ(after["StreamStatus"], "ACTIVE");
  // And the stream still reshards once writes work again.
  ok("SplitShard", {{"StreamName", "r"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "1000"}});
}

TEST_F(StorageFailure, EverySettingIsRolledBack) {
  create_stream("s", 1);
  ok("AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"keep", "v"}}}});
  const std::string arn_s = arn("s");
  auto summary = [&] { return ok("DescribeStreamSummary", {{"StreamName", "s"}})["StreamDescriptionSummary"]; };
  auto tags = [&] { return ok("ListTagsForStream", {{"StreamName", "s"}})["Tags"]; };
  const json summary_before = summary();
  const json tags_before = tags();
  struct Op {
    std::string name;
    json in;
  } ops[] = {
      {"IncreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 48}}},
      {"DecreaseStreamRetentionPeriod", {{"StreamName", "s"}, {"RetentionPeriodHours", 24}}},
      {"AddTagsToStream", {{"StreamName", "s"}, {"Tags", {{"new", "v"}}}}},
      {"RemoveTagsFromStream", {{"StreamName", "s"}, {"TagKeys", {"keep"}}}},
      {"UpdateStreamMode", {{"StreamARN", arn_s}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}}},
      {"StartStreamEncryption", {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}}},
      {"EnableEnhancedMonitoring", {{"StreamName", "s"}, {"ShardLevelMetrics", {"ALL"}}}},
      {"UpdateMaxRecordSize", {{"StreamARN", arn_s}, {"MaxRecordSizeInKiB", 2048}}},
  };
  for (const auto& op : ops) {
    SCOPED_TRACE(op.name);
    fails_internally(op.name, op.in);
    EXPECT_EQ(summary(), summary_before);
    EXPECT_EQ(tags(), tags_before);
  }
  // Settings that need a prior change to be undone: encryption on, monitoring on, then their
  // reversal fails.
  ok("StartStreamEncryption", {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}});
  ok("EnableEnhancedMonitoring", {{"StreamName", "s"}, {"ShardLevelMetrics", {"ALL"}}});
  const json on = summary();
  fails_internally("StopStreamEncryption", {{"StreamName", "s"}, {"EncryptionType", "KMS"}, {"KeyId", "alias/aws/kinesis"}});
  fails_internally("DisableEnhancedMonitoring", {{"StreamName", "s"}, {"ShardLevelMetrics", {"ALL"}}});
  EXPECT_EQ(summary(), on);
  // Deleting: the stream stays, ACTIVE.
  fails_internally("DeleteStream", {{"StreamName", "s"}});
  EXPECT_EQ(summary()["StreamStatus"], "ACTIVE");
}

class StorageFailureS3 : public StorageFailure {};

TEST_F(StorageFailureS3, ObjectWriteLeavesNoHalfObjectAndNoChunks) {
  ASSERT_EQ(http("PUT", "/bkt").status, 200);
  const std::string old_body(100, 'o');
  ASSERT_EQ(http("PUT", "/bkt/obj", {}, old_body).status, 200);
  const size_t blobs_before = count(Family::blobs);
  // Three chunks: the first is written, the second fails.
  const std::string body(2 * eddy::s3::kChunkBytes + 17, 'n');
  store().fail_next_writes(1, 1);
  auto r = http("PUT", "/bkt/obj", {}, body);
  store().fail_next_writes(0);
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("<Code>InternalError</Code>"), std::string::npos) << r.body;
  // The old object is whole, the new one nowhere, and its written chunk is gone.
  auto got = http("GET", "/bkt/obj");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, old_body);
  EXPECT_EQ(count(Family::blobs), blobs_before);
  // A new key that fails is absent altogether.
  store().fail_next_writes(1, 1);
  EXPECT_EQ(http("PUT", "/bkt/fresh", {}, body).status, 500);
  store().fail_next_writes(0);
  EXPECT_EQ(http("GET", "/bkt/fresh").status, 404);
  EXPECT_EQ(count(Family::blobs), blobs_before);
  // Once writes work the same PUT succeeds.
  ASSERT_EQ(http("PUT", "/bkt/fresh", {}, body).status, 200);
  EXPECT_EQ(http("GET", "/bkt/fresh").body, body);
}

TEST_F(StorageFailureS3, SmallPutIsOneWriteAndReplacedBlobsLeaveNoChunks) {
  ASSERT_EQ(http("PUT", "/bkt").status, 200);
  const size_t blobs_before = count(Family::blobs);
  // A small object's chunk goes in the batch with its row: the PUT is one storage write, so it
  // succeeds when only the next write may (the one after it would fail).
  const std::string small(4096, 's');
  store().fail_next_writes(1, 1);
  auto r = http("PUT", "/bkt/obj", {}, small);
  store().fail_next_writes(0);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(http("GET", "/bkt/obj").body, small);
  // A failed small PUT leaves neither its chunk nor a row.
  store().fail_next_writes(1);
  EXPECT_EQ(http("PUT", "/bkt/other", {}, small).status, 500);
  store().fail_next_writes(0);
  EXPECT_EQ(http("GET", "/bkt/other").status, 404);
  EXPECT_EQ(count(Family::blobs), blobs_before + 1);
  // Replacing objects of one chunk and of three (point deletes of each chunk) and deleting the
  // last leaves no chunk behind.
  const std::string large(2 * eddy::s3::kChunkBytes + 17, 'l');
  ASSERT_EQ(http("PUT", "/bkt/obj", {}, large).status, 200);
  EXPECT_EQ(count(Family::blobs), blobs_before + 3);
  ASSERT_EQ(http("PUT", "/bkt/obj", {}, small).status, 200);
  EXPECT_EQ(count(Family::blobs), blobs_before + 1);
  EXPECT_EQ(http("GET", "/bkt/obj").body, small);
  EXPECT_EQ(http("DELETE", "/bkt/obj").status, 204);
  EXPECT_EQ(count(Family::blobs), blobs_before);
}

TEST_F(StorageFailure, MetricsFlushFailureIsLoggedAndNotLost) {
  create_stream("m", 1);
  for (int i = 0; i < 5; ++i) put("m", "k", "data");
  auto& metrics = app_->metrics();
  const size_t rows_before = count(Family::metrics);
  {
    LogCapture log;
    store().fail_next_writes(1);
    metrics.flusher().run_now();
    EXPECT_NE(log.text().find("metrics flush failed"), std::string::npos) << log.text();
  }
  EXPECT_EQ(count(Family::metrics), rows_before) << "nothing written by the failed flush";
  metrics.flusher().run_now();
  EXPECT_GT(count(Family::metrics), rows_before) << "the next flush writes what the failed one could not";
  // And what it wrote is the count: a fresh registry on the same store loads 5 records.
  eddy::metrics::MetricsRegistry fresh(app_->clock(), store(), metrics.prices());
  std::string error;
  ASSERT_TRUE(fresh.load(&error)) << error;
  uint64_t records = 0;
  for (const auto& sc : fresh.stream_counters())
    if (sc.name == "m") records = sc.total()[static_cast<size_t>(eddy::metrics::Counter::records)];
  EXPECT_EQ(records, 5u);
}
