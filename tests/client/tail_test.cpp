// eddy tail's de-aggregation (the KCL's rules) and JSON lines, and wire/kpl_reader against
// wire's own decoder, on ../shared/fixtures/kpl-agg-vectors.json (aws-kinesis-agg's bytes).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/records_cbor.h"
#include "client/tail.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/kpl_aggregate.h"
#include "wire/kpl_reader.h"
#include "wire/text.h"

namespace eddy::client {
namespace {

using nlohmann::json;
namespace kpl = wire::kpl;

const json& vectors() {
  static const json j = [] {
    std::ifstream in(std::string(EDDY_SHARED_DIR) + "/fixtures/kpl-agg-vectors.json");
    return json::parse(in);
  }();
  return j;
}

std::string unhex(const std::string& h) {
  return *wire::checksum::from_hex(h);
}

const wire::HashRange kAll{0, wire::kMaxHashKey};

// The JSON lines the tail prints for one Kinesis record read from a shard with `range`.
std::vector<json> tail_lines(const KinesisRecord& rec, const wire::HashRange& range, std::string* warning,
                             bool* kept = nullptr) {
  kpl::AggregateReader reader;
  std::string out;
  bool k = deaggregate(
      rec, "shardId-000000000000", range, reader, [&](const TailRecord& t) { append_tail_json(t, out); }, warning);
  if (kept) *kept = k;
  std::vector<json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

// A record as GetRecords returns it (its data given in hex) and the text its views point at.
struct HexRecord {
  HexRecord(std::string sequence_number, std::string partition_key, const std::string& hex)
      : seq(std::move(sequence_number)), key(std::move(partition_key)), bytes(unhex(hex)) {
    rec.sequence_number = seq;
    rec.partition_key = key;
    rec.data = bytes;
  }
  HexRecord(const HexRecord&) = delete;
  HexRecord& operator=(const HexRecord&) = delete;
  const std::string seq, key, bytes;
  KinesisRecord rec;
};

TEST(TailVectors, EveryFixtureDecodesToItsUserRecords) {
  const json all = vectors();  // kept: a range over a temporary's member would dangle
  for (const json& v : all["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    HexRecord hr("49600000000000000000000000000000000000000000000000000001", v["outerPartitionKey"],
                 v["aggregatedHex"]);
    KinesisRecord& rec = hr.rec;
    rec.approximate_arrival = 1700000000.123;
    std::string warning;
    auto lines = tail_lines(rec, kAll, &warning);
    EXPECT_TRUE(warning.empty()) << warning;
    const json& users = v["userRecords"];
    ASSERT_EQ(lines.size(), users.size());
    for (std::size_t i = 0; i < users.size(); ++i) {
      const json& l = lines[i];
      const json& u = users[i];
      EXPECT_EQ(l["shardId"], "shardId-000000000000");
      EXPECT_EQ(l["sequenceNumber"], rec.sequence_number);
      EXPECT_EQ(l["subSequenceNumber"], i);
      EXPECT_EQ(l["partitionKey"], u["partitionKey"]);
      EXPECT_EQ(l["arrival"], "2023-11-14T22:13:20.123Z");
      if (u.contains("explicitHashKey") && !u["explicitHashKey"].is_null()) {
        EXPECT_EQ(l["explicitHashKey"], u["explicitHashKey"]);
      } else {
        EXPECT_FALSE(l.contains("explicitHashKey"));
      }
      const std::string data = unhex(u["dataHex"]);
      if (l.contains("data")) {
        EXPECT_EQ(l["data"].get<std::string>(), data);
      } else {
        ASSERT_TRUE(l.contains("dataBase64"));
        EXPECT_EQ(*wire::base64_decode(l["dataBase64"].get<std::string>()), data);
      }
    }
  }
}

TEST(TailVectors, ReaderAgreesWithWireDecoder) {
  const json all = vectors();  // kept: a range over a temporary's member would dangle
  for (const json& v : all["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const std::string bytes = unhex(v["aggregatedHex"]);
    auto full = kpl::decode(bytes);
    kpl::AggregateReader r(bytes);
    ASSERT_EQ(r.status(), kpl::DecodeStatus::ok);
    ASSERT_EQ(r.size(), full.records.size());
    for (std::size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r[i].partition_key, full.records[i].partition_key);
      EXPECT_EQ(r[i].data, full.records[i].data);
      EXPECT_EQ(r[i].explicit_hash_key.has_value(), full.records[i].explicit_hash_key.has_value());
      if (r[i].explicit_hash_key) {
        EXPECT_EQ(*r[i].explicit_hash_key, *full.records[i].explicit_hash_key);
      }
    }
  }
}

TEST(TailVectors, BadMd5IsPassedOnAsOneRawRecord) {
  const json& neg = vectors()["negative"][0];
  ASSERT_EQ(neg["name"], "bad-md5-trailer");
  HexRecord hr("1", "outer", neg["aggregatedHex"]);
  KinesisRecord& rec = hr.rec;
  std::string warning;
  auto lines = tail_lines(rec, kAll, &warning);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["partitionKey"], "outer");
  EXPECT_EQ(lines[0]["subSequenceNumber"], 0);
  EXPECT_EQ(*wire::base64_decode(lines[0]["dataBase64"].get<std::string>()), rec.data);
  EXPECT_NE(warning.find("bad_md5"), std::string::npos) << warning;
  kpl::AggregateReader r(rec.data);
  EXPECT_EQ(r.status(), kpl::DecodeStatus::bad_md5);
  EXPECT_EQ(r.reset(rec.data, {.verify_md5 = false}), kpl::DecodeStatus::ok);
  EXPECT_EQ(r.size(), 5u);
}

TEST(TailVectors, PlainRecordIsOneUserRecord) {
  const json& neg = vectors()["negative"][1];
  ASSERT_EQ(neg["name"], "no-magic");
  HexRecord hr("7", "p", neg["dataHex"]);
  KinesisRecord& rec = hr.rec;
  std::string warning;
  auto lines = tail_lines(rec, kAll, &warning);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["data"], rec.data);
  EXPECT_TRUE(warning.empty());
}

TEST(TailDeaggregation, SubRecordOutsideTheShardDropsTheWholeRecord) {
  // Hash keys 0 and 2^128-1 can not both lie in one half of the key space.
  const json& v = vectors()["vectors"][2];
  ASSERT_EQ(v["name"], "explicit-hash-keys");
  HexRecord hr("9", "pk-a", v["aggregatedHex"]);
  KinesisRecord& rec = hr.rec;
  const auto halves = wire::even_split(2);
  std::string warning;
  bool kept = true;
  auto lines = tail_lines(rec, halves[0], &warning, &kept);
  EXPECT_FALSE(kept);
  EXPECT_TRUE(lines.empty());
  EXPECT_NE(warning.find("dropped"), std::string::npos);
  EXPECT_NE(warning.find("outside the shard"), std::string::npos);

  // Every sub-record in range (by MD5 of its partition key): all kept.
  std::vector<kpl::UserRecord> users;
  for (int i = 0; i < 50; ++i) users.push_back({"key-" + std::to_string(i), std::nullopt, "d" + std::to_string(i)});
  const std::string plain = kpl::encode(users);
  rec.data = plain;
  warning.clear();
  EXPECT_EQ(tail_lines(rec, kAll, &warning, &kept).size(), 50u);
  EXPECT_TRUE(kept);
  // Restricted to the half holding key-0's hash, some other key falls outside.
  const auto h0 = wire::hash_key_of_partition_key("key-0");
  const auto& half = halves[0].contains(h0) ? halves[0] : halves[1];
  EXPECT_TRUE(tail_lines(rec, half, &warning, &kept).empty());
  EXPECT_FALSE(kept);
}

TEST(TailDeaggregation, MalformedAggregatesPassThrough) {
  // Magic and a correct digest around bytes that are not an AggregatedRecord.
  std::string body = "\x1a\x05\x08\x00";  // a record field cut short
  std::string data = std::string(kpl::kMagic) + body + wire::checksum::digest(wire::checksum::Algorithm::md5, body);
  kpl::AggregateReader r(data);
  EXPECT_EQ(r.status(), kpl::DecodeStatus::bad_protobuf);
  EXPECT_EQ(kpl::decode(data).status, kpl::DecodeStatus::bad_protobuf);
  // An index past the key table.
  std::string idx = std::string("\x0a\x01k\x1a\x05\x08\x01\x1a\x01x", 10);
  data = std::string(kpl::kMagic) + idx + wire::checksum::digest(wire::checksum::Algorithm::md5, idx);
  EXPECT_EQ(r.reset(data), kpl::DecodeStatus::bad_index);
  EXPECT_EQ(kpl::decode(data).status, kpl::DecodeStatus::bad_index);
  KinesisRecord rec{.sequence_number = "3", .partition_key = "p", .data = data};
  std::string warning;
  EXPECT_EQ(tail_lines(rec, kAll, &warning).size(), 1u);
  EXPECT_NE(warning.find("bad_index"), std::string::npos);
}

TEST(TailJson, EscapesTextAndBase64ForBinary) {
  TailRecord t;
  t.shard_id = "shardId-000000000001";
  t.sequence_number = "42";
  t.partition_key = "a\"b\\c\n";
  // TailRecord holds views: the bytes they name must outlive each call.
  const std::string text("line\ttab \x01 \xC3\xA9", 13), binary("\xff\x00\x80", 3);
  t.data = text;
  t.arrival = 0.5;
  std::string out;
  append_tail_json(t, out);
  EXPECT_EQ(out,
            "{\"shardId\":\"shardId-000000000001\",\"sequenceNumber\":\"42\",\"subSequenceNumber\":0,"
            "\"partitionKey\":\"a\\\"b\\\\c\\n\",\"arrival\":\"1970-01-01T00:00:00.500Z\","
            "\"data\":\"line\\ttab \\u0001 \xC3\xA9\"}\n");
  out.clear();
  t.data = binary;
  t.explicit_hash_key = "5";
  t.sub_sequence_number = 3;
  append_tail_json(t, out);
  auto j = json::parse(out);
  EXPECT_EQ(j["dataBase64"], "/wCA");
  EXPECT_EQ(j["explicitHashKey"], "5");
  EXPECT_EQ(j["subSequenceNumber"], 3);
  // Overlong and surrogate encodings are not UTF-8.
  for (std::string bad : {std::string("\xC0\xAF"), std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80")}) {
    out.clear();
    t.data = bad;
    append_tail_json(t, out);
    EXPECT_TRUE(json::parse(out).contains("dataBase64"));
  }
}

// The shared JSON string writer (its eight-bytes-at-a-time path): every ASCII byte at every
// position of strings long enough for several words escapes as nlohmann's dump does; bytes of
// UTF-8 pass through.
TEST(TailJson, JsonStringEscapesEveryByteAtEveryPosition) {
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t len : {1u, 7u, 8u, 9u, 16u, 23u}) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'x');
        s[at] = static_cast<char>(c);
        std::string out;
        wire::text::append_json_string(out, s);
        ASSERT_EQ(out, json(s).dump()) << "byte " << c << " at " << at << " of " << len;
      }
    }
  }
  std::string out;
  wire::text::append_json_string(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 and \"quotes\" over eight bytes");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 and \\\"quotes\\\" over eight bytes\"");
}

// The tail's data and partitionKey fields (a one-pass check for plain ASCII, else UTF-8
// validation and escaping, else base64): every byte value at every position of short and
// several-word values comes back as it went in.
TEST(TailJson, EveryByteAtEveryPositionOfDataAndKey) {
  for (int c = 0; c < 0x100; ++c) {
    for (std::size_t len : {1u, 7u, 8u, 9u, 17u}) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string v(len, 'x');
        v[at] = static_cast<char>(c);
        TailRecord t;
        t.shard_id = "s";
        t.sequence_number = "1";
        t.partition_key = "k";
        if (c < 0x80) t.partition_key = v;
        t.data = v;
        std::string out;
        append_tail_json(t, out);
        const json j = json::parse(out);
        if (c < 0x80) {
          ASSERT_EQ(j["data"], v) << "byte " << c << " at " << at << " of " << len;
          ASSERT_EQ(j["partitionKey"], v) << "byte " << c << " at " << at << " of " << len;
        } else {  // a lone byte >= 0x80 is not UTF-8
          ASSERT_EQ(j["dataBase64"], wire::base64_encode(v)) << "byte " << c << " at " << at << " of " << len;
        }
      }
    }
  }
}

// Lines written through a TailLineCache are the lines written without one, whatever record
// follows which (the cache compares content: same sequence number, other shard or arrival).
TEST(TailJson, LineCacheWritesTheSameLines) {
  std::vector<TailRecord> recs;
  for (int i = 0; i < 12; ++i) {
    TailRecord t;
    t.shard_id = i % 3 == 0 ? "shardId-000000000001" : "shardId-000000000002";
    t.sequence_number = i < 6 ? "4960000000000000000000000000000000000001" : "4960000000000000000000000000000000000002";
    t.sub_sequence_number = i;
    t.partition_key = "pk";
    if (i % 4 == 1) t.explicit_hash_key = "17";
    t.arrival = 1700000000.125 + (i % 5 == 0 ? 1 : 0);
    t.data = "some data";
    recs.push_back(t);
  }
  std::string plain, cached;
  TailLineCache cache;
  for (const TailRecord& t : recs) {
    append_tail_json(t, plain);
    append_tail_json(t, cached, cache);
  }
  EXPECT_EQ(cached, plain);
}

// AggregateReader::first_outside: the first sub-record whose hash key lies outside the range
// (explicit hash keys and partition keys, each distinct key judged once).
TEST(KplReader, FirstOutsideFindsTheFirstSubRecordOutsideTheRange) {
  const wire::u128 half = wire::kMaxHashKey / 2;
  const wire::HashRange low{0, half};
  std::vector<kpl::UserRecord> users;
  for (int i = 0; i < 5; ++i) users.push_back({"k", std::string("1"), "d" + std::to_string(i)});
  std::string agg = kpl::encode(users);
  kpl::AggregateReader reader(agg);
  ASSERT_EQ(reader.status(), kpl::DecodeStatus::ok);
  EXPECT_FALSE(reader.first_outside(low));
  users[3].explicit_hash_key = wire::to_decimal(half + 1);
  agg = kpl::encode(users);
  ASSERT_EQ(reader.reset(agg), kpl::DecodeStatus::ok);
  EXPECT_EQ(reader.first_outside(low), 3u);
  EXPECT_FALSE(reader.first_outside(kAll));
  users[3].explicit_hash_key = "not a number";
  agg = kpl::encode(users);
  ASSERT_EQ(reader.reset(agg), kpl::DecodeStatus::ok);
  EXPECT_EQ(reader.first_outside(kAll), 3u);
  // Partition keys: the MD5 of each decides.
  std::string inside_pk, outside_pk;
  for (int i = 0; inside_pk.empty() || outside_pk.empty(); ++i) {
    const std::string k = "key-" + std::to_string(i);
    (low.contains(wire::hash_key_of_partition_key(k)) ? inside_pk : outside_pk) = k;
  }
  std::vector<kpl::UserRecord> by_pk = {{inside_pk, std::nullopt, "a"}, {inside_pk, std::nullopt, "b"},
                                        {outside_pk, std::nullopt, "c"}, {inside_pk, std::nullopt, "d"}};
  agg = kpl::encode(by_pk);
  ASSERT_EQ(reader.reset(agg), kpl::DecodeStatus::ok);
  EXPECT_EQ(reader.first_outside(low), 2u);
}

// The shared base64 decoder (the tail decodes every record's Data with it): every length round
// trips, and a character outside the alphabet at any position is refused.
TEST(TailBase64, DecodesEveryLengthAndRefusesEveryBadCharacter) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) bytes.push_back(static_cast<char>((i * 151 + 7) & 0xFF));
  for (std::size_t len = 0; len <= bytes.size(); ++len) {
    const std::string raw = bytes.substr(0, len);
    const std::string b64 = wire::base64_encode(raw);
    auto back = wire::base64_decode(b64);
    ASSERT_TRUE(back) << len;
    EXPECT_EQ(*back, raw) << len;
    for (std::size_t at = 0; at < b64.size() && b64[at] != '='; ++at) {
      for (char bad : {'*', '\0', '\x80', '-', '_', ' '}) {
        std::string broken = b64;
        broken[at] = bad;
        std::string out = "kept";
        EXPECT_FALSE(wire::base64_decode_append(broken, out)) << len << " at " << at;
        EXPECT_EQ(out, "kept");
      }
    }
  }
}

// --- GetRecords in CBOR, read in place -------------------------------------------------------

std::string cbor(const json& v) {
  const auto b = json::to_cbor(v);
  return std::string(b.begin(), b.end());
}

// A record map as eddy and AWS write it: the timestamp as tag 1 with epoch milliseconds.
std::string cbor_record(const std::string& seq, const std::string& key, const std::string& data, int64_t ms) {
  return "\xA4" + cbor("SequenceNumber") + cbor(seq) + cbor("ApproximateArrivalTimestamp") + "\xC1" + cbor(ms) +
         cbor("Data") + cbor(json::binary(std::vector<uint8_t>(data.begin(), data.end()))) + cbor("PartitionKey") +
         cbor(key);
}

std::string cbor_answer() {
  return "\xA3" + cbor("Records") + "\x82" + cbor_record("4901", "k1", std::string("a\0b", 3), 1700000000123) +
         cbor_record("4902", "k2", "", 1700000000124) + cbor("MillisBehindLatest") + cbor(250) +
         cbor("NextShardIterator") + cbor("it-2");
}

// body read by parse_get_records_cbor (its views point into body).
GetRecordsResult parsed(std::string_view body) {
  GetRecordsResult r;
  std::string error;
  EXPECT_TRUE(parse_get_records_cbor(body, r, &error)) << error;
  return r;
}

TEST(TailCbor, ReadsAnAnswerInPlace) {
  const std::string body = cbor_answer();
  GetRecordsResult r = parsed(body);
  std::string error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].sequence_number, "4901");
  EXPECT_EQ(r.records[0].partition_key, "k1");
  EXPECT_EQ(r.records[0].data, std::string("a\0b", 3));
  EXPECT_EQ(std::llround(r.records[0].approximate_arrival * 1000), 1700000000123);
  EXPECT_EQ(r.records[1].data, "");
  EXPECT_EQ(r.records[1].sequence_number, "4902");
  EXPECT_EQ(r.millis_behind_latest, 250);
  EXPECT_EQ(r.next_shard_iterator, "it-2");
  EXPECT_TRUE(r.child_shards.empty());
  // Views into the body: nothing copied.
  EXPECT_GE(r.records[0].data.data(), body.data());
  EXPECT_LT(r.records[0].data.data(), body.data() + body.size());
  // Reused for the next answer: what it held is replaced.
  ASSERT_TRUE(parse_get_records_cbor(cbor(json{{"Records", json::array()}, {"MillisBehindLatest", 0}}), r, &error));
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.next_shard_iterator, "");
}

TEST(TailCbor, IndefiniteLengthsChunksNullsUnknownMembersAndChildShards) {
  // Indefinite map and array, chunked Data and partition key (joined, not viewed), a float
  // timestamp, null and unknown members skipped, a closed shard's ChildShards.
  const std::string rec = "\xBF" + cbor("Data") + "\x5F\x42xy\x41z\xFF" + cbor("PartitionKey") + "\x7F\x61k\x61" "1\xFF" +
                          cbor("SequenceNumber") + cbor("49") + cbor("ApproximateArrivalTimestamp") + "\xC1" +
                          cbor(1700000000500.0) + cbor("EncryptionType") + "\xF6" + cbor("Future") +
                          cbor(json{{"a", {1, -2, 2.5, nullptr, true, "s"}}}) + "\xFF";
  const std::string body = "\xBF" + cbor("Records") + "\x9F" + rec + "\xFF" + cbor("NextShardIterator") + "\xF6" +
                           cbor("ChildShards") +
                           cbor(json::array({json{{"ShardId", "shardId-000000000002"},
                                                  {"ParentShards", {"shardId-000000000000", "shardId-000000000001"}},
                                                  {"HashKeyRange", {{"StartingHashKey", "0"}, {"EndingHashKey", "99"}}}}})) +
                           cbor("MillisBehindLatest") + std::string("\xF9\x3C\x00", 3) + "\xFF";
  const GetRecordsResult r = parsed(body);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].data, "xyz");
  EXPECT_EQ(r.records[0].partition_key, "k1");
  EXPECT_EQ(r.records[0].sequence_number, "49");
  EXPECT_EQ(std::llround(r.records[0].approximate_arrival * 1000), 1700000000500);
  EXPECT_EQ(r.next_shard_iterator, "");
  EXPECT_EQ(r.millis_behind_latest, 1);  // half-precision 1.0
  ASSERT_EQ(r.child_shards.size(), 1u);
  EXPECT_EQ(r.child_shards[0].shard_id, "shardId-000000000002");
  EXPECT_EQ(r.child_shards[0].parent_shard_id, "shardId-000000000000");
  EXPECT_EQ(r.child_shards[0].adjacent_parent_shard_id, "shardId-000000000001");
  EXPECT_EQ(r.child_shards[0].hash_range.start, 0u);
  EXPECT_EQ(r.child_shards[0].hash_range.end, 99u);
}

TEST(TailCbor, RefusesEveryTruncationAndMalformedInput) {
  const std::string body = cbor_answer();
  GetRecordsResult r;
  std::string error;
  for (std::size_t n = 0; n < body.size(); ++n)
    EXPECT_FALSE(parse_get_records_cbor(body.substr(0, n), r, &error)) << "prefix of " << n << " bytes";
  EXPECT_FALSE(parse_get_records_cbor(body + std::string(1, '\0'), r, &error));  // trailing bytes
  EXPECT_EQ(error, "cannot read the GetRecords response (malformed CBOR)");
  // Wrong types: Records not an array, Data a text string, a key that is not text.
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("Records") + cbor("x"), r, &error));
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("Records") + "\x81\xA1" + cbor("Data") + cbor("text"), r, &error));
  EXPECT_FALSE(parse_get_records_cbor("\xA1\x01\x02", r, &error));
  // A length beyond the input, a break out of place, reserved additional information.
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("NextShardIterator") + "\x7A\xFF\xFF\xFF\xFF", r, &error));
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("X") + "\xFF", r, &error));
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("X") + "\x1C", r, &error));
  // A chunk of another type inside a chunked string.
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("NextShardIterator") + "\x7F\x41x\xFF", r, &error));
  // Nesting deeper than the reader goes, in a member it skips.
  EXPECT_FALSE(parse_get_records_cbor("\xA1" + cbor("X") + std::string(100, '\x81') + std::string(1, '\0'), r, &error));
  EXPECT_TRUE(parse_get_records_cbor("\xA1" + cbor("X") + std::string(20, '\x81') + std::string(1, '\0'), r, &error)) << error;
  // Every single-byte corruption of a valid answer is read or refused, never a crash.
  for (std::size_t i = 0; i < body.size(); ++i)
    for (int b : {0x00, 0x1B, 0x5B, 0x7F, 0x9F, 0xBF, 0xFF}) {
      std::string bad = body;
      bad[i] = static_cast<char>(b);
      parse_get_records_cbor(bad, r, &error);
    }
}

}  // namespace
}  // namespace eddy::client
