#include "wire/kpl_aggregate.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "wire/checksum.h"
#include "wire/kpl.pb.h"

namespace {

namespace kpl = eddy::wire::kpl;
namespace ck = eddy::wire::checksum;
using kpl::DecodeStatus;
using kpl::UserRecord;

std::string shared_dir() {
  if (const char* env = std::getenv("EDDY_SHARED_DIR"); env && *env) return env;
  return EDDY_SHARED_DIR;
}

const nlohmann::json& vectors_file() {
  static const nlohmann::json doc = [] {
    const std::string path = shared_dir() + "/fixtures/kpl-agg-vectors.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
  }();
  return doc;
}

std::string unhex(const std::string& hex) {
  auto bytes = ck::from_hex(hex);
  if (!bytes) throw std::runtime_error("bad hex in fixture");
  return *bytes;
}

std::vector<UserRecord> user_records_of(const nlohmann::json& v) {
  std::vector<UserRecord> out;
  for (const auto& r : v.at("userRecords")) {
    UserRecord u;
    u.partition_key = r.at("partitionKey").get<std::string>();
    if (r.contains("explicitHashKey")) u.explicit_hash_key = r.at("explicitHashKey").get<std::string>();
    u.data = unhex(r.at("dataHex").get<std::string>());
    out.push_back(std::move(u));
  }
  return out;
}

std::string framed(const std::string& body) {
  return std::string(kpl::kMagic) + body + ck::digest(ck::Algorithm::md5, body);
}

TEST(KplAggregate, FixtureHasVectors) {
  ASSERT_GE(vectors_file().at("vectors").size(), 5u);
  ASSERT_GE(vectors_file().at("negative").size(), 2u);
}

// Every positive vector decodes to its user records, with no EHK where the wire omits field 2
// (the fixture's note on aws-kinesis-agg's quirk), and encodes back to the same bytes.
TEST(KplAggregate, DecodesEveryVector) {
  for (const auto& v : vectors_file().at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const std::string aggregated = unhex(v.at("aggregatedHex").get<std::string>());
    EXPECT_TRUE(kpl::is_aggregated(aggregated));
    const kpl::DecodeResult result = kpl::decode(aggregated);
    ASSERT_EQ(result.status, DecodeStatus::ok) << kpl::to_string(result.status);
    const std::vector<UserRecord> expected = user_records_of(v);
    ASSERT_EQ(result.records.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(result.records[i].partition_key, expected[i].partition_key) << "record " << i;
      EXPECT_EQ(result.records[i].explicit_hash_key, expected[i].explicit_hash_key) << "record " << i;
      EXPECT_EQ(result.records[i].data, expected[i].data) << "record " << i;
    }
  }
}

TEST(KplAggregate, EncodesEveryVectorByteForByte) {
  for (const auto& v : vectors_file().at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const std::vector<UserRecord> records = user_records_of(v);
    const std::string encoded = kpl::encode(records);
    EXPECT_EQ(ck::to_hex(encoded), v.at("aggregatedHex").get<std::string>());
    const std::string body = encoded.substr(kpl::kMagic.size(),
                                            encoded.size() - kpl::kMagic.size() - kpl::kDigestSize);
    EXPECT_EQ(ck::to_hex(body), v.at("protobufBodyHex").get<std::string>());
    EXPECT_EQ(ck::to_hex(encoded.substr(encoded.size() - kpl::kDigestSize)),
              v.at("md5TrailerHex").get<std::string>());
    EXPECT_EQ(ck::to_hex(ck::digest(ck::Algorithm::md5, body)), v.at("md5TrailerHex").get<std::string>());
  }
}

// The tables and indices on the wire are the ones the fixture lists in "decoded".
TEST(KplAggregate, WireTablesMatchTheFixture) {
  for (const auto& v : vectors_file().at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const std::string body = unhex(v.at("protobufBodyHex").get<std::string>());
    eddy::kpl::AggregatedRecord message;
    ASSERT_TRUE(message.ParseFromString(body));
    const auto& decoded = v.at("decoded");
    ASSERT_EQ(static_cast<std::size_t>(message.partition_key_table_size()),
              decoded.at("partition_key_table").size());
    for (int i = 0; i < message.partition_key_table_size(); ++i)
      EXPECT_EQ(message.partition_key_table(i), decoded.at("partition_key_table")[i].get<std::string>());
    ASSERT_EQ(static_cast<std::size_t>(message.explicit_hash_key_table_size()),
              decoded.at("explicit_hash_key_table").size());
    for (int i = 0; i < message.explicit_hash_key_table_size(); ++i)
      EXPECT_EQ(message.explicit_hash_key_table(i),
                decoded.at("explicit_hash_key_table")[i].get<std::string>());
    ASSERT_EQ(static_cast<std::size_t>(message.records_size()), decoded.at("records").size());
    for (int i = 0; i < message.records_size(); ++i) {
      const auto& want = decoded.at("records")[static_cast<std::size_t>(i)];
      EXPECT_EQ(message.records(i).partition_key_index(), want.at("partition_key_index").get<std::uint64_t>());
      EXPECT_EQ(message.records(i).has_explicit_hash_key_index(), want.contains("explicit_hash_key_index"));
      if (want.contains("explicit_hash_key_index")) {
        EXPECT_EQ(message.records(i).explicit_hash_key_index(),
                  want.at("explicit_hash_key_index").get<std::uint64_t>());
      }
      EXPECT_EQ(ck::to_hex(message.records(i).data()), want.at("dataHex").get<std::string>());
    }
  }
}

TEST(KplAggregate, AggregatorSizeIsExactAtEveryStep) {
  for (const auto& v : vectors_file().at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    kpl::Aggregator agg;
    EXPECT_EQ(agg.size_bytes(), kpl::encode({}).size());
    for (const UserRecord& r : user_records_of(v)) {
      const std::size_t predicted = agg.size_with(r);
      agg.add(r);
      EXPECT_EQ(agg.size_bytes(), predicted);
      EXPECT_EQ(agg.size_bytes(), agg.encode().size());
    }
    EXPECT_EQ(ck::to_hex(agg.encode()), v.at("aggregatedHex").get<std::string>());
    agg.clear();
    EXPECT_TRUE(agg.empty());
    EXPECT_EQ(agg.size_bytes(), kpl::kMagic.size() + kpl::kDigestSize);
  }
}

TEST(KplAggregate, NegativeVectors) {
  for (const auto& v : vectors_file().at("negative")) {
    const std::string name = v.at("name").get<std::string>();
    SCOPED_TRACE(name);
    if (name == "bad-md5-trailer") {
      const std::string data = unhex(v.at("aggregatedHex").get<std::string>());
      EXPECT_TRUE(kpl::is_aggregated(data));
      const auto checked = kpl::decode(data);
      EXPECT_EQ(checked.status, DecodeStatus::bad_md5);
      EXPECT_TRUE(checked.records.empty());
      // "parses to 5 records if not verifying"
      const auto unchecked = kpl::decode(data, {.verify_md5 = false});
      ASSERT_EQ(unchecked.status, DecodeStatus::ok);
      ASSERT_EQ(unchecked.records.size(), 5u);
      EXPECT_EQ(unchecked.records[3].partition_key, "gamma");
      EXPECT_EQ(unchecked.records[3].data, "hello-3");
    } else if (name == "no-magic") {
      const std::string data = unhex(v.at("dataHex").get<std::string>());
      EXPECT_FALSE(kpl::is_aggregated(data));
      const auto result = kpl::decode(data);
      EXPECT_EQ(result.status, DecodeStatus::not_aggregated);
      EXPECT_TRUE(result.records.empty());
    } else {
      ADD_FAILURE() << "negative vector this test does not know: " << name;
    }
  }
}

TEST(KplAggregate, ShortOrPlainDataIsNotAggregated) {
  EXPECT_FALSE(kpl::is_aggregated(""));
  EXPECT_FALSE(kpl::is_aggregated(kpl::kMagic));
  // Magic plus fewer than 16 bytes cannot hold the digest.
  EXPECT_FALSE(kpl::is_aggregated(std::string(kpl::kMagic) + std::string(15, 'x')));
  EXPECT_EQ(kpl::decode(std::string(kpl::kMagic) + "short").status, DecodeStatus::not_aggregated);
  // Magic and a digest of an empty body: an aggregate holding no records.
  const auto empty = kpl::decode(framed(""));
  EXPECT_EQ(empty.status, DecodeStatus::ok);
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(kpl::encode({}), framed(""));
}

TEST(KplAggregate, IndexPastTheTableIsBadIndex) {
  eddy::kpl::AggregatedRecord m;
  m.add_partition_key_table("only");
  auto* r = m.add_records();
  r->set_partition_key_index(0);
  r->set_data("fine");
  r = m.add_records();
  r->set_partition_key_index(1);  // one past the end
  r->set_data("broken");
  EXPECT_EQ(kpl::decode(framed(m.SerializeAsString())).status, DecodeStatus::bad_index);

  eddy::kpl::AggregatedRecord e;
  e.add_partition_key_table("pk");
  e.add_explicit_hash_key_table("42");
  r = e.add_records();
  r->set_partition_key_index(0);
  r->set_explicit_hash_key_index(1);
  r->set_data("x");
  const auto result = kpl::decode(framed(e.SerializeAsString()));
  EXPECT_EQ(result.status, DecodeStatus::bad_index);
  EXPECT_TRUE(result.records.empty());
}

TEST(KplAggregate, GarbageBodyIsBadProtobuf) {
  // A length-delimited field running past the end.
  EXPECT_EQ(kpl::decode(framed("\x0a\x05" "ab")).status, DecodeStatus::bad_protobuf);
  // A record without its required partition_key_index (field 1): Record{3: "x"}.
  EXPECT_EQ(kpl::decode(framed("\x1a\x03\x1a\x01x")).status, DecodeStatus::bad_protobuf);
  // An end-group tag with no group open.
  EXPECT_EQ(kpl::decode(framed("\x0c")).status, DecodeStatus::bad_protobuf);
}

TEST(KplAggregate, RoundTripsArbitraryRecords) {
  std::vector<UserRecord> records;
  for (int i = 0; i < 300; ++i) {
    UserRecord u;
    u.partition_key = "key-" + std::to_string(i % 140);
    if (i % 3 == 0) u.explicit_hash_key = std::to_string(i % 7) + "0000000000000000000000";
    u.data = std::string(static_cast<std::size_t>(i), static_cast<char>(i & 0xFF));
    records.push_back(std::move(u));
  }
  const std::string encoded = kpl::encode(records);
  const auto decoded = kpl::decode(encoded);
  ASSERT_EQ(decoded.status, DecodeStatus::ok);
  EXPECT_EQ(decoded.records, records);

  kpl::Aggregator agg;
  for (const auto& r : records) agg.add(r);
  EXPECT_EQ(agg.count(), records.size());
  EXPECT_EQ(agg.size_bytes(), encoded.size());
  EXPECT_EQ(agg.encode(), encoded);

  // Flipping any byte of the body makes the digest disagree.
  std::string corrupt = encoded;
  corrupt[kpl::kMagic.size() + 10] ^= 0x01;
  EXPECT_EQ(kpl::decode(corrupt).status, DecodeStatus::bad_md5);
}

TEST(KplAggregate, StatusNames) {
  EXPECT_EQ(kpl::to_string(DecodeStatus::ok), "ok");
  EXPECT_EQ(kpl::to_string(DecodeStatus::not_aggregated), "not_aggregated");
  EXPECT_EQ(kpl::to_string(DecodeStatus::bad_md5), "bad_md5");
  EXPECT_EQ(kpl::to_string(DecodeStatus::bad_protobuf), "bad_protobuf");
  EXPECT_EQ(kpl::to_string(DecodeStatus::bad_index), "bad_index");
}

}  // namespace
