// wire::kpl::AggregateWriter: byte-for-byte what aws-kinesis-agg (the shared vectors) and
// wire::kpl::encode produce, with an exact size at every step.
#include "wire/kpl_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <random>

#include "wire/checksum.h"

namespace {

namespace kpl = eddy::wire::kpl;

std::string shared_dir() {
  if (const char* env = std::getenv("EDDY_SHARED_DIR"); env && *env) return env;
  return EDDY_SHARED_DIR;
}

std::string unhex(const std::string& hex) { return *eddy::wire::checksum::from_hex(hex); }

TEST(KplWriter, MatchesTheSharedVectorsByteForByte) {
  std::ifstream in(shared_dir() + "/fixtures/kpl-agg-vectors.json");
  ASSERT_TRUE(in);
  const auto doc = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& v : doc.at("vectors")) {
    kpl::AggregateWriter w;
    for (const auto& r : v.at("userRecords")) {
      std::optional<std::string> ehk;
      if (r.contains("explicitHashKey")) ehk = r.at("explicitHashKey").get<std::string>();
      const std::string pk = r.at("partitionKey").get<std::string>();
      const std::string data = unhex(r.at("dataHex").get<std::string>());
      const std::size_t predicted =
          w.size_with(pk, ehk ? std::optional<std::string_view>(*ehk) : std::nullopt, data.size());
      w.add(pk, ehk ? std::optional<std::string_view>(*ehk) : std::nullopt, data);
      EXPECT_EQ(w.size_bytes(), predicted);
    }
    const std::string out = w.finish();
    EXPECT_EQ(eddy::wire::checksum::to_hex(out), v.at("aggregatedHex").get<std::string>())
        << v.at("name");
    EXPECT_EQ(out.size(), w.size_bytes());
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST(KplWriter, EqualsEncodeAndDecodesBackForRandomRecords) {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    kpl::AggregateWriter w;
    std::vector<kpl::UserRecord> records;
    const int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      kpl::UserRecord u;
      u.partition_key = "pk" + std::to_string(rng() % 40);
      if (rng() % 3 == 0) u.explicit_hash_key = std::to_string(rng() % 7);
      u.data = std::string(rng() % 300, static_cast<char>('a' + rng() % 26));
      const std::size_t predicted = w.size_with(
          u.partition_key,
          u.explicit_hash_key ? std::optional<std::string_view>(*u.explicit_hash_key) : std::nullopt,
          u.data.size());
      w.add(u);
      records.push_back(u);
      EXPECT_EQ(w.size_bytes(), predicted);
    }
    const std::string out = w.finish();
    EXPECT_EQ(out, kpl::encode(records));
    EXPECT_EQ(out.size(), w.size_bytes());
    // In two steps: the digest is missing until seal(), then the bytes are the same.
    std::string unsealed;
    w.finish_unsealed_into(unsealed);
    EXPECT_EQ(kpl::decode(unsealed).status, kpl::DecodeStatus::bad_md5);
    kpl::AggregateWriter::seal(unsealed);
    EXPECT_EQ(unsealed, out);
    const auto back = kpl::decode(out);
    ASSERT_EQ(back.status, kpl::DecodeStatus::ok);
    EXPECT_EQ(back.records, records);
    w.clear();
    EXPECT_EQ(w.finish(), kpl::encode({}));
  }
}

}  // namespace
