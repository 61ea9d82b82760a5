// KPL aggregates counted as their user records; what a KCL consumer would not de-aggregate
// (bad MD5, unparseable) or would drop (a user record outside the shard) counted and shown.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/kinesis/kinesis_service.h"
#include "server/metrics/registry.h"
#include "tests/support/in_process_metrics.h"
#include "wire/checksum.h"
#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"

namespace {

using namespace eddy;
using metrics::Counter;
using nlohmann::json;
namespace kpl = wire::kpl;

using test::kT0;
using test::op_info;

std::string shared_dir() {
  if (const char* env = std::getenv("EDDY_SHARED_DIR"); env && *env) return env;
  return EDDY_SHARED_DIR;
}

const json& vectors() {
  static const json doc = [] {
    std::ifstream in(shared_dir() + "/fixtures/kpl-agg-vectors.json");
    if (!in) throw std::runtime_error("cannot open kpl-agg-vectors.json");
    return json::parse(in);
  }();
  return doc;
}

std::string unhex(const std::string& hex) {
  auto b = wire::checksum::from_hex(hex);
  if (!b) throw std::runtime_error("bad hex");
  return *b;
}

struct Counting : test::InProcessMetrics {
  kinesis::Stream stream;

  explicit Counting(uint32_t shards) : InProcessMetrics(test::load_prices("")) {
    stream.name = "kpl";
    auto ranges = wire::even_split(shards);
    for (uint32_t i = 0; i < shards; ++i) {
      kinesis::Shard sh;
      sh.index = i;
      sh.range = ranges[i];
      stream.shards.push_back(sh);
    }
  }

  // Puts one Kinesis record the way Kinesis routes it: by explicit hash key, else MD5(key).
  void put(const std::string& pk, const std::string& data, std::optional<wire::u128> ehk = std::nullopt) {
    wire::u128 k = ehk ? *ehk : wire::hash_key_of_partition_key(pk);
    const kinesis::Shard* sh = stream.route(k);
    ASSERT_NE(sh, nullptr);
    std::vector<kinesis::PutRecordEvent> ev{{pk, data, ehk, sh->range, sh->index}};
    reg->after_put(op_info("PutRecords", stream.name, clock.now_ms()), stream, ev, {});
  }

  uint64_t get(Counter c) {
    for (const auto& sc : reg->stream_counters())
      if (sc.name == stream.name) return sc.total()[static_cast<size_t>(c)];
    return 0;
  }
};

TEST(KplCounting, EveryVectorCountsAsItsUserRecords) {
  Counting c(1);
  uint64_t expected = 0;
  for (const auto& v : vectors().at("vectors")) {
    c.put(v.at("outerPartitionKey").get<std::string>(), unhex(v.at("aggregatedHex").get<std::string>()));
    expected += v.at("userRecords").size();
  }
  const uint64_t n = vectors().at("vectors").size();
  EXPECT_EQ(c.get(Counter::records), n);
  EXPECT_EQ(c.get(Counter::kpl_aggregates), n);
  EXPECT_EQ(c.get(Counter::user_records), expected);
  EXPECT_EQ(c.get(Counter::kpl_bad_md5) + c.get(Counter::kpl_unparseable) + c.get(Counter::kpl_misrouted), 0u);
  json recent;
  c.reg->recent_json("kpl", 100, recent);
  ASSERT_EQ(recent.size(), n);
  // Newest first: the last vector's user records with their real partition keys.
  const json& last = vectors().at("vectors").back();
  EXPECT_EQ(recent[0]["kpl"], "ok");
  EXPECT_EQ(recent[0]["user_record_count"].get<size_t>(), last.at("userRecords").size());
  EXPECT_EQ(recent[0]["user_records"][0]["partition_key"], last["userRecords"][0]["partitionKey"]);
}

TEST(KplCounting, NegativeVectorsAreRawOrPlain) {
  Counting c(1);
  for (const auto& v : vectors().at("negative")) {
    const std::string name = v.at("name");
    if (name == "bad-md5-trailer") c.put("a", unhex(v.at("aggregatedHex")));
    else if (name == "no-magic") c.put("plain", unhex(v.at("dataHex")));
  }
  EXPECT_EQ(c.get(Counter::records), 2u);
  EXPECT_EQ(c.get(Counter::kpl_aggregates), 1u);
  EXPECT_EQ(c.get(Counter::kpl_bad_md5), 1u);
  // A KCL consumer hands both on as one record each.
  EXPECT_EQ(c.get(Counter::user_records), 2u);

  // Magic prefix, correct MD5, but not a protobuf AggregatedRecord.
  std::string junk = "\xff\xff\xff\xff\x0f";
  c.put("a", std::string(kpl::kMagic) + junk + wire::checksum::digest(wire::checksum::Algorithm::md5, junk));
  EXPECT_EQ(c.get(Counter::kpl_unparseable), 1u);
  EXPECT_EQ(c.get(Counter::user_records), 3u);
}

TEST(KplCounting, AggregateRoutedToAShardThatDoesNotOwnASubRecordIsReported) {
  Counting c(2);
  const wire::u128 low = 5, high = wire::kMaxHashKey - 5;  // shard 0 and shard 1
  std::vector<kpl::UserRecord> users{{"u1", wire::to_decimal(low), "first"}, {"u2", wire::to_decimal(high), "second"}};
  std::string agg = kpl::encode(users);
  // The KPL's outer key "a" with an ExplicitHashKey sends it to shard 0, which does not own u2.
  c.put("a", agg, low);
  EXPECT_EQ(c.get(Counter::kpl_misrouted), 1u);
  EXPECT_EQ(c.get(Counter::user_records), 2u);
  json recent;
  c.reg->recent_json("kpl", 10, recent);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_TRUE(recent[0]["misrouted"].get<bool>());
  EXPECT_TRUE(recent[0]["kpl_outer_key"].get<bool>());
  EXPECT_EQ(recent[0]["user_records"][1]["partition_key"], "u2");

  // Sub-records routed by MD5 of their own keys: all inside the one shard of a 1-shard stream.
  Counting one(1);
  std::vector<kpl::UserRecord> plain{{"alpha", std::nullopt, "x"}, {"beta", std::nullopt, "y"}};
  one.put("a", kpl::encode(plain), wire::u128{0});
  EXPECT_EQ(one.get(Counter::kpl_misrouted), 0u);
  EXPECT_EQ(one.get(Counter::user_records), 2u);
  EXPECT_EQ(one.get(Counter::records), 1u);
}

// The verdict is per record even though each distinct key is hashed once: a partition key
// shared by records with and without an ExplicitHashKey is judged by whichever applies.
TEST(KplCounting, SharedKeysAreJudgedPerRecord) {
  const auto ranges = wire::even_split(2);
  auto key_in = [&](int shard) {
    for (int i = 0;; ++i) {
      std::string k = "k" + std::to_string(i);
      if (ranges[static_cast<size_t>(shard)].contains(wire::hash_key_of_partition_key(k))) return k;
    }
  };
  const std::string k0 = key_in(0), k1 = key_in(1);
  const std::string in0 = wire::to_decimal(5);
  // k1 hashes to shard 1 but every use of it carries an ExplicitHashKey inside shard 0.
  {
    Counting c(2);
    std::vector<kpl::UserRecord> users{{k0, std::nullopt, "a"}, {k1, in0, "b"}, {k0, std::nullopt, "c"}, {k1, in0, "d"}};
    c.put("a", kpl::encode(users), wire::u128{5});
    EXPECT_EQ(c.get(Counter::kpl_misrouted), 0u);
    EXPECT_EQ(c.get(Counter::user_records), 4u);
  }
  // The same, and one more use of k1 without the ExplicitHashKey: that record lies in shard 1.
  {
    Counting c(2);
    std::vector<kpl::UserRecord> users{{k1, in0, "b"}, {k0, std::nullopt, "a"}, {k1, std::nullopt, "e"}};
    c.put("a", kpl::encode(users), wire::u128{5});
    EXPECT_EQ(c.get(Counter::kpl_misrouted), 1u);
    EXPECT_EQ(c.get(Counter::user_records), 3u);
  }
  // An ExplicitHashKey that is not a number is outside every shard.
  {
    Counting c(1);
    std::vector<kpl::UserRecord> users{{k0, std::nullopt, "a"}, {k0, std::string("12x"), "b"}};
    c.put("a", kpl::encode(users), wire::u128{5});
    EXPECT_EQ(c.get(Counter::kpl_misrouted), 1u);
  }
}

}  // namespace
