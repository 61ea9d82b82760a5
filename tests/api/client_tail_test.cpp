// eddy tail and the KinesisClient against eddy started in-process: every shard, parents before
// children across a reshard, KPL de-aggregation of the shared vectors, checkpoints, one-line
// errors, keep-alive, and retries of 5xx answers (eddy's fault rules) with no real waiting.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "client/kinesis_client.h"
#include "client/iso8601.h"
#include "client/tail.h"
#include "tests/support/kinesis_fixture.h"
#include "wire/checksum.h"
#include "wire/kpl_aggregate.h"

using namespace eddy::test;
using nlohmann::json;
namespace client = eddy::client;
namespace wire = eddy::wire;

namespace {

class ClientTail : public KinesisFixture {
 protected:
  void SetUp() override {
    KinesisFixture::SetUp();
    client::SessionOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
    o.region = "us-east-1";
    o.static_credentials = wire::sigv4::Credentials{"AKIDTEST", "secret", ""};
    std::string why;
    session_ = client::Session::create(o, &why, client::map_environment({}));
    ASSERT_TRUE(session_) << why;
    // Retries sleep through this hook: recorded, not waited for.
    session_->set_retry(client::RetryPolicy(
        client::RetryOptions{}, [] { return 0.5; }, [this](std::chrono::milliseconds d) { slept_.push_back(d); }));
    kinesis_ = std::make_unique<client::KinesisClient>(*session_);
  }
  // A fault rule: Kinesis `operation` answers `code` with `status` (its first `first_n` calls; 0: all).
  static json error_rule(const std::string& operation, const std::string& code, int status, int first_n = 0) {
    json r{{"service", "kinesis"}, {"operation", operation}, {"action", "error"}, {"error_code", code}, {"status", status}};
    if (first_n > 0) r["first_n"] = first_n;
    return r;
  }
  // Sets the fault rules (PUT: replace) or adds one (POST).
  void faults(const std::string& method, const json& rules) {
    auto r = http(method, "/_eddy/faults", {{"Content-Type", "application/json"}}, rules.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  struct TailRun {
    int rc = 0;
    std::vector<json> lines;
    std::string err;
  };
  TailRun tail(client::TailOptions o) {
    std::ostringstream out, err;
    TailRun r;
    r.rc = client::run_tail(o, *session_, out, err);
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) r.lines.push_back(json::parse(line));
    r.err = err.str();
    return r;
  }
  client::TailOptions options(const std::string& stream) {
    client::TailOptions o;
    o.stream = stream;
    return o;
  }

  void put_plain(const std::string& stream, const std::vector<std::pair<std::string, std::string>>& recs) {
    std::vector<client::PutRecordsEntry> entries;
    for (const auto& [k, d] : recs) entries.push_back({d, k, std::nullopt});
    auto r = kinesis_->put_records(stream, entries);
    ASSERT_TRUE(r) << r.error.str();
    ASSERT_EQ(r->failed_record_count, 0);
  }

  std::unique_ptr<client::Session> session_;
  std::unique_ptr<client::KinesisClient> kinesis_;
  std::vector<std::chrono::milliseconds> slept_;
};

TEST_F(ClientTail, KinesisClientCalls) {
  create_stream("calls", 3);
  auto streams = kinesis_->list_streams();
  ASSERT_TRUE(streams) << streams.error.str();
  EXPECT_EQ(*streams, std::vector<std::string>{"calls"});
  auto sum = kinesis_->describe_stream_summary("calls");
  ASSERT_TRUE(sum) << sum.error.str();
  EXPECT_EQ(sum->open_shard_count, 3);
  EXPECT_EQ(sum->stream_status, "ACTIVE");
  auto shards = kinesis_->list_shards("calls");
  ASSERT_TRUE(shards);
  ASSERT_EQ(shards->size(), 3u);
  EXPECT_EQ((*shards)[0].hash_range.start, 0u);
  EXPECT_EQ((*shards)[2].hash_range.end, wire::kMaxHashKey);
  auto put = kinesis_->put_records("calls", {{"a", "k1", std::nullopt}, {"b", "k2", std::string("0")}});
  ASSERT_TRUE(put);
  EXPECT_EQ(put->records.size(), 2u);
  EXPECT_EQ(put->records[1].shard_id, "shardId-000000000000");
  auto it = kinesis_->get_shard_iterator("calls", "shardId-000000000000", {});
  ASSERT_TRUE(it);
  auto got = kinesis_->get_records(*it);
  ASSERT_TRUE(got);
  bool found = false;
  for (auto& r : got->records) found |= r.data == "b" && r.partition_key == "k2";
  EXPECT_TRUE(found);
  // Many calls, one connection.
  EXPECT_EQ(session_->http().connections_opened(), 1u);
  auto missing = kinesis_->describe_stream_summary("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error.code, "ResourceNotFoundException");
  EXPECT_EQ(missing.error.status, 400);
  EXPECT_TRUE(slept_.empty());  // a 400 is not retried
}

TEST_F(ClientTail, RetriesServerErrorsWithBackoff) {
  create_stream("r", 1);
  faults("POST", error_rule("ListShards", "InternalFailure", 500, 2));
  auto shards = kinesis_->list_shards("r");
  ASSERT_TRUE(shards) << shards.error.str();
  EXPECT_EQ(slept_,
            (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500), std::chrono::milliseconds(1000)}));
  // A third failure in a row is the caller's: three attempts in all.
  slept_.clear();
  faults("PUT", json::array({error_rule("ListShards", "InternalFailure", 500)}));
  shards = kinesis_->list_shards("r");
  ASSERT_FALSE(shards);
  EXPECT_EQ(shards.error.code, "InternalFailure");
  EXPECT_EQ(shards.error.attempts, 3);
  EXPECT_EQ(slept_.size(), 2u);
}

TEST_F(ClientTail, EveryShardParentsBeforeChildrenAcrossAReshard) {
  create_stream("rs", 2);
  std::vector<std::pair<std::string, std::string>> before, after;
  for (int i = 0; i < 40; ++i) before.emplace_back("k" + std::to_string(i), "before-" + std::to_string(i));
  put_plain("rs", before);
  // Split shard 0, then merge shard 1 with the upper child.
  auto shards0 = kinesis_->list_shards("rs");
  ASSERT_TRUE(shards0);
  const wire::u128 mid = (*shards0)[0].hash_range.end / 2;
  ok("SplitShard",
     {{"StreamName", "rs"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", wire::to_decimal(mid)}});
  ok("MergeShards", {{"StreamName", "rs"}, {"ShardToMerge", shard_id(3)}, {"AdjacentShardToMerge", shard_id(1)}});
  for (int i = 0; i < 40; ++i) after.emplace_back("k" + std::to_string(i), "after-" + std::to_string(i));
  put_plain("rs", after);

  auto run = tail(options("rs"));
  ASSERT_EQ(run.rc, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 80u);
  std::multiset<std::string> seen;
  std::map<std::string, std::size_t> first_line, last_line;
  for (std::size_t i = 0; i < run.lines.size(); ++i) {
    const std::string s = run.lines[i]["shardId"];
    seen.insert(run.lines[i]["data"].get<std::string>());
    if (!first_line.count(s)) first_line[s] = i;
    last_line[s] = i;
  }
  for (const auto& [k, d] : before) EXPECT_EQ(seen.count(d), 1u) << d;
  for (const auto& [k, d] : after) EXPECT_EQ(seen.count(d), 1u) << d;
  // Lineage: 0 -> 2, 3; 3 + 1 -> 4. Every parent's last line precedes its children's first.
  auto shards = kinesis_->list_shards("rs");
  ASSERT_TRUE(shards);
  for (const auto& s : *shards) {
    if (!first_line.count(s.shard_id)) continue;
    for (const std::string& parent : {s.parent_shard_id, s.adjacent_parent_shard_id}) {
      if (parent.empty() || !last_line.count(parent)) continue;
      EXPECT_LT(last_line[parent], first_line[s.shard_id]) << parent << " before " << s.shard_id;
    }
  }
  EXPECT_TRUE(first_line.count(shard_id(4)));
  EXPECT_TRUE(run.err.empty()) << run.err;
}

TEST_F(ClientTail, SharedKplVectorsDecodeThroughTheTail) {
  create_stream("kpl", 1);
  std::ifstream in(std::string(EDDY_SHARED_DIR) + "/fixtures/kpl-agg-vectors.json");
  const json vectors = json::parse(in);
  std::vector<client::PutRecordsEntry> entries;
  std::vector<json> expected;
  for (const json& v : vectors["vectors"]) {
    entries.push_back(
        {*wire::checksum::from_hex(v["aggregatedHex"].get<std::string>()), v["outerPartitionKey"], std::nullopt});
    for (const json& u : v["userRecords"]) expected.push_back(u);
  }
  auto put = kinesis_->put_records("kpl", entries);
  ASSERT_TRUE(put && put->failed_record_count == 0);
  auto run = tail(options("kpl"));
  ASSERT_EQ(run.rc, 0) << run.err;
  ASSERT_EQ(run.lines.size(), expected.size());
  // GetRecords in JSON (base64 Data) prints the very same lines as in CBOR (the default).
  auto json_options = options("kpl");
  json_options.protocol = "json";
  auto over_json = tail(json_options);
  ASSERT_EQ(over_json.rc, 0) << over_json.err;
  EXPECT_EQ(over_json.lines, run.lines);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(run.lines[i]["partitionKey"], expected[i]["partitionKey"]);
    const std::string data = *wire::checksum::from_hex(expected[i]["dataHex"].get<std::string>());
    if (run.lines[i].contains("data")) {
      EXPECT_EQ(run.lines[i]["data"].get<std::string>(), data);
    } else {
      EXPECT_EQ(run.lines[i]["dataBase64"].get<std::string>(), expected[i]["dataBase64"].get<std::string>());
    }
  }
}

TEST_F(ClientTail, AggregatesOnAReshardedStreamAndCheckpointResume) {
  create_stream("cp", 2);
  auto shards = kinesis_->list_shards("cp");
  ASSERT_TRUE(shards);
  // One aggregate per shard, explicit hash keys inside the shard ("magic a"), plus plain records.
  std::vector<client::PutRecordsEntry> entries;
  std::set<std::string> want;
  for (std::size_t s = 0; s < shards->size(); ++s) {
    std::vector<wire::kpl::UserRecord> users;
    for (int i = 0; i < 25; ++i) {
      std::string d = "agg" + std::to_string(s) + "-" + std::to_string(i);
      users.push_back({"u" + std::to_string(i), wire::to_decimal((*shards)[s].hash_range.start + i), d});
      want.insert(d);
    }
    entries.push_back({wire::kpl::encode(users), "a", wire::to_decimal((*shards)[s].hash_range.start)});
  }
  for (int i = 0; i < 10; ++i) {
    entries.push_back({"plain" + std::to_string(i), "p" + std::to_string(i), std::nullopt});
    want.insert("plain" + std::to_string(i));
  }
  auto put = kinesis_->put_records("cp", entries);
  ASSERT_TRUE(put && put->failed_record_count == 0);

  const auto file = temp_dir("tail-cp") / "cp.json";
  auto o = options("cp");
  o.checkpoint = file.string();
  o.max_records = 7;  // stops inside the first aggregate
  std::set<std::string> got;
  std::size_t total = 0;
  for (int round = 0; round < 20; ++round) {
    auto run = tail(o);
    ASSERT_EQ(run.rc, 0) << run.err;
    for (auto& l : run.lines) got.insert(l["data"].get<std::string>());
    total += run.lines.size();
    if (run.lines.empty()) break;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(total, want.size());  // exactly once across the resumed runs
  auto cp = json::parse(std::ifstream(file));
  EXPECT_EQ(cp["stream"], "cp");

  // A checkpoint of another stream is refused in one line.
  create_stream("other", 1);
  auto other = options("other");
  other.checkpoint = file.string();
  auto run = tail(other);
  EXPECT_EQ(run.rc, 1);
  EXPECT_EQ(run.err, "eddy tail: checkpoint file " + file.string() + " belongs to stream 'cp'\n");
}

TEST_F(ClientTail, FromLatestAndAtTimestamp) {
  create_stream("ts", 1);
  put_plain("ts", {{"a", "old"}});
  clock().advance_ms(60000);
  const int64_t t_ms = clock().now_ms();
  put_plain("ts", {{"a", "new"}});
  auto o = options("ts");
  std::string iso;
  client::append_iso8601_ms(t_ms, iso);
  o.from = "at_timestamp:" + iso;
  auto run = tail(o);
  ASSERT_EQ(run.rc, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_EQ(run.lines[0]["data"], "new");
  EXPECT_EQ(run.lines[0]["arrival"], iso);
  o.from = "latest";
  run = tail(o);
  ASSERT_EQ(run.rc, 0) << run.err;
  EXPECT_TRUE(run.lines.empty());
  o.from = "yesterday";
  run = tail(o);
  EXPECT_EQ(run.rc, 1);
  EXPECT_EQ(run.err, "eddy tail: --from must be trim_horizon, latest or at_timestamp:ISO8601, not 'yesterday'\n");
}

TEST_F(ClientTail, ThrottledGetRecordsAreRetried) {
  create_stream("thr", 1);
  put_plain("thr", {{"a", "one"}, {"b", "two"}});
  faults("POST", error_rule("GetRecords", "ProvisionedThroughputExceededException", 400, 2));
  auto run = tail(options("thr"));
  ASSERT_EQ(run.rc, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[0]["data"], "one");
  EXPECT_EQ(slept_.size(), 2u);  // two backoffs, no real waiting
}

TEST_F(ClientTail, UnknownStreamIsOneLine) {
  auto run = tail(options("missing"));
  EXPECT_EQ(run.rc, 1);
  EXPECT_EQ(run.err.rfind("eddy tail: ResourceNotFoundException: ", 0), 0u) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1);
}

}  // namespace
