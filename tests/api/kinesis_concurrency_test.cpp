// Puts from several connections at once, spread over two worker loops, while a reader follows
// every shard: each shard's records are read exactly once, in sequence-number order, and they
// are exactly the acknowledged ones. A record that became readable after a later one of its
// shard had been read would be missing from the reader's list. This is a stress test: it
// catches such a race only when the reader lands in its window (a put that advanced the
// counter outside the stream lock and slept 3 ms before writing was caught in half the runs).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

class KinesisConcurrency : public KinesisFixture {
 protected:
  void tune(eddy::Config& c) override { c.threads = 2; }
};

TEST_F(KinesisConcurrency, ConcurrentPutsAreReadOnceInOrderPerShard) {
  constexpr int kShards = 4, kWriters = 4, kRounds = 200, kBatch = 25;
  create_stream("cc", kShards);
  const uint16_t port = app_->port();
  auto call = [](HttpClient& client, const std::string& op, const json& in) {
    auto r = client.request("POST", "/", kinesis_headers(op, "application/x-amz-json-1.1"), in.dump());
    return std::make_pair(r.status, json::parse(r.body, nullptr, false));
  };

  std::mutex mu;
  std::map<std::string, std::vector<std::string>> acked;  // shard id -> acknowledged sequence numbers
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client("127.0.0.1", port);
      for (int r = 0; r < kRounds; ++r) {
        const std::string tag = "w" + std::to_string(w) + "-" + std::to_string(r);
        if (r % 2 == 0) {
          json recs = json::array();
          for (int i = 0; i < kBatch; ++i) recs.push_back({{"PartitionKey", tag + "-" + std::to_string(i)}, {"Data", b64(tag)}});
          auto [st, out] = call(client, "PutRecords", {{"StreamName", "cc"}, {"Records", recs}});
          if (st != 200 || out["FailedRecordCount"] != 0) {
            ++failures;
            continue;
          }
          std::lock_guard lk(mu);
          for (auto& e : out["Records"]) acked[e["ShardId"]].push_back(e["SequenceNumber"]);
        } else {
          auto [st, out] = call(client, "PutRecord", {{"StreamName", "cc"}, {"PartitionKey", tag}, {"Data", b64(tag)}});
          if (st != 200) {
            ++failures;
            continue;
          }
          std::lock_guard lk(mu);
          acked[out["ShardId"]].push_back(out["SequenceNumber"]);
        }
      }
    });
  }

  std::map<std::string, std::vector<std::string>> seen;
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    HttpClient client("127.0.0.1", port);
    std::vector<std::string> its;
    for (int s = 0; s < kShards; ++s) {
      auto [st, out] = call(client, "GetShardIterator",
                            {{"StreamName", "cc"}, {"ShardId", shard_id(s)}, {"ShardIteratorType", "TRIM_HORIZON"}});
      if (st != 200) ++failures;
      its.push_back(st == 200 ? out["ShardIterator"].get<std::string>() : "");
    }
    // Poll while the writers run; then until a whole pass over the shards reads nothing.
    for (bool last_pass = false;;) {
      const bool done_writing = !writing.load();
      size_t got = 0;
      for (int s = 0; s < kShards; ++s) {
        if (its[s].empty()) continue;
        auto [st, out] = call(client, "GetRecords", {{"ShardIterator", its[s]}, {"Limit", 37}});
        if (st != 200) {
          ++failures;
          return;
        }
        for (auto& rec : out["Records"]) seen[shard_id(s)].push_back(rec["SequenceNumber"]);
        got += out["Records"].size();
        its[s] = out["NextShardIterator"].is_string() ? out["NextShardIterator"].get<std::string>() : "";
      }
      if (last_pass && got == 0) break;
      last_pass = done_writing;
    }
  });
  for (auto& t : writers) t.join();
  writing = false;
  reader.join();

  ASSERT_EQ(failures.load(), 0);
  size_t total = 0;
  for (int s = 0; s < kShards; ++s) {
    auto want = acked[shard_id(s)];
    std::sort(want.begin(), want.end());  // 56 digits each: text order is numeric order
    const auto& got = seen[shard_id(s)];
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end())) << shard_id(s);
    std::vector<std::string> missing, extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
    EXPECT_TRUE(missing.empty()) << shard_id(s) << ": " << missing.size() << " acknowledged records never read, first "
                                 << (missing.empty() ? "" : missing[0]);
    EXPECT_TRUE(extra.empty()) << shard_id(s) << ": " << extra.size() << " records read that were not acknowledged";
    EXPECT_EQ(got.size(), want.size()) << shard_id(s);  // duplicates
    total += got.size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kWriters * (kRounds / 2) * (kBatch + 1)));
}
