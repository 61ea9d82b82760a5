// After UpdateShardCount (up, uneven, down), every closed parent lists all its children
// (ChildShards at the end of GetRecords matches ListShards' ParentShardId and
// AdjacentParentShardId), and a reader that starts at the root shards and follows the children
// (a child only once all its parents are read, as the KCL does) reads every record once, each
// partition key's records in the order they were put.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

class KinesisLineage : public KinesisFixture {};

TEST_F(KinesisLineage, ClosedParentsListAllChildrenAndReadersLoseNothing) {
  create_stream("lin", 3);
  std::map<std::string, std::vector<std::string>> put_by_key;  // partition key -> data, in put order
  int n = 0;
  auto put_some = [&](int count) {
    json recs = json::array();
    std::vector<std::pair<std::string, std::string>> sent;
    for (int i = 0; i < count; ++i, ++n) {
      std::string pk = "pk" + std::to_string(n % 37), data = "r" + std::to_string(n);
      recs.push_back({{"PartitionKey", pk}, {"Data", b64(data)}});
      sent.emplace_back(pk, data);
    }
    auto out = ok("PutRecords", {{"StreamName", "lin"}, {"Records", recs}});
    ASSERT_EQ(out["FailedRecordCount"], 0);
    for (auto& [pk, data] : sent) put_by_key[pk].push_back(data);
  };
  put_some(200);
  ok("UpdateShardCount", {{"StreamName", "lin"}, {"TargetShardCount", 5}, {"ScalingType", "UNIFORM_SCALING"}});
  put_some(200);
  ok("UpdateShardCount", {{"StreamName", "lin"}, {"TargetShardCount", 3}, {"ScalingType", "UNIFORM_SCALING"}});
  put_some(200);
  ok("UpdateShardCount", {{"StreamName", "lin"}, {"TargetShardCount", 6}, {"ScalingType", "UNIFORM_SCALING"}});
  put_some(200);

  // The lineage as ListShards tells it.
  auto shards = ok("ListShards", {{"StreamName", "lin"}})["Shards"];
  std::map<std::string, std::set<std::string>> children, parents;
  std::set<std::string> all, closed;
  for (auto& s : shards) {
    const std::string id = s["ShardId"];
    all.insert(id);
    if (s["SequenceNumberRange"].contains("EndingSequenceNumber")) closed.insert(id);
    for (const char* p : {"ParentShardId", "AdjacentParentShardId"})
      if (s.contains(p)) {
        children[s[p].get<std::string>()].insert(id);
        parents[id].insert(s[p].get<std::string>());
      }
  }
  ASSERT_GT(closed.size(), 3u);

  // Read from the roots, following ChildShards.
  std::map<std::string, std::vector<std::string>> read_by_key;
  std::set<std::string> finished, started;
  std::deque<std::string> ready;
  for (auto& id : all)
    if (!parents.count(id)) ready.push_back(id);
  while (!ready.empty()) {
    const std::string id = ready.front();
    ready.pop_front();
    if (!started.insert(id).second) continue;
    std::string it = ok("GetShardIterator", {{"StreamName", "lin"}, {"ShardId", id}, {"ShardIteratorType", "TRIM_HORIZON"}})
                         ["ShardIterator"];
    for (int calls = 0; calls < 100; ++calls) {
      auto r = ok("GetRecords", {{"ShardIterator", it}, {"Limit", 37}});
      for (auto& rec : r["Records"]) {
        read_by_key[rec["PartitionKey"]].push_back(rec["Data"]);
      }
      if (r.contains("ChildShards")) {
        EXPECT_TRUE(closed.count(id)) << id;
        std::set<std::string> listed;
        for (auto& ch : r["ChildShards"]) {
          listed.insert(ch["ShardId"].get<std::string>());
          std::set<std::string> ps;
          for (auto& p : ch["ParentShards"]) ps.insert(p.get<std::string>());
          EXPECT_EQ(ps, parents[ch["ShardId"]]) << "parents of " << ch["ShardId"];
        }
        EXPECT_EQ(listed, children[id]) << "children of " << id;
        finished.insert(id);
        for (auto& ch : children[id]) {
          bool all_parents = true;
          for (auto& p : parents[ch]) all_parents = all_parents && finished.count(p);
          if (all_parents) ready.push_back(ch);
        }
        break;
      }
      ASSERT_TRUE(r.contains("NextShardIterator"));
      it = r["NextShardIterator"];
      if (r["Records"].empty() && !closed.count(id)) break;  // an open shard read to its tip
    }
  }
  EXPECT_EQ(started, all);
  EXPECT_EQ(finished, closed);
  ASSERT_EQ(read_by_key.size(), put_by_key.size());
  for (auto& [pk, sent] : put_by_key) {
    std::vector<std::string> want;
    for (auto& d : sent) want.push_back(b64(d));
    EXPECT_EQ(read_by_key[pk], want) << pk;
  }
}

}  // namespace
