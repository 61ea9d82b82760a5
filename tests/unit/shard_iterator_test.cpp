#include "server/kinesis/shard_iterator.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/clock.h"
#include "server/config.h"
#include "server/kinesis/kinesis_service.h"
#include "server/store/store.h"
#include "tests/support/in_process_kinesis.h"
#include "wire/base64.h"

using namespace eddy;
using namespace eddy::kinesis;
using nlohmann::json;

namespace {
const ShardIterator kIt{3, 17, 123456789, 1'700'000'000'123};
}

TEST(ShardIterator, RoundTrips) {
  ShardIteratorCodec codec("secret-one");
  std::string token = codec.encode(kIt);
  EXPECT_LE(token.size(), 512u);
  auto back = codec.decode(token);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, kIt);
  ShardIterator zero{};
  EXPECT_EQ(*codec.decode(codec.encode(zero)), zero);
}

TEST(ShardIterator, AnyTamperedByteIsRejected) {
  ShardIteratorCodec codec("secret-one");
  auto raw = *wire::base64_decode(codec.encode(kIt));
  for (size_t i = 0; i < raw.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string t = raw;
      t[i] = static_cast<char>(static_cast<unsigned char>(t[i]) ^ flip);
      EXPECT_FALSE(codec.decode(wire::base64_encode(t))) << "byte " << i << " flip " << int(flip);
    }
  }
  // Truncated or extended.
  EXPECT_FALSE(codec.decode(wire::base64_encode(raw.substr(0, raw.size() - 1))));
  EXPECT_FALSE(codec.decode(wire::base64_encode(raw + "x")));
}

TEST(ShardIterator, WrongSecretIsRejected) {
  ShardIteratorCodec a("secret-one"), b("secret-two");
  EXPECT_FALSE(b.decode(a.encode(kIt)));
}

TEST(ShardIterator, GarbageIsRejectedWithoutCrashing) {
  ShardIteratorCodec codec("s");
  for (std::string g : std::initializer_list<std::string>{"", "x", "====", "AAAA", "!!!!not base64!!!!", std::string(600, 'A'), std::string(3, '\0'),
                        std::string(44, 'A'), std::string("\xff\xfe\xfd", 3)})
    EXPECT_FALSE(codec.decode(g)) << g;
}

// Expiry is judged by the service against the injected clock.
class IteratorExpiry : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(k_.open(&err)) << err;
  }
  json call(const std::string& op, const json& in, int* status = nullptr) {
    auto res = k_.call(op, in.dump());
    if (status) *status = res.status;
    return res.body.empty() ? json::object() : json::parse(res.body);
  }
  test::InProcessKinesis k_;
  ManualClock& clock_ = k_.clock;
};

TEST_F(IteratorExpiry, ValidFor300SecondsThenExpired) {
  int st = 0;
  call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}}, &st);
  ASSERT_EQ(st, 200);
  auto it = call("GetShardIterator", {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"},
                                      {"ShardIteratorType", "TRIM_HORIZON"}})["ShardIterator"].get<std::string>();
  clock_.advance_ms(300'000);
  auto r = call("GetRecords", {{"ShardIterator", it}}, &st);
  EXPECT_EQ(st, 200) << r.dump();
  clock_.advance_ms(1'000);
  r = call("GetRecords", {{"ShardIterator", it}}, &st);
  EXPECT_EQ(st, 400);
  EXPECT_EQ(r["__type"], "ExpiredIteratorException");
  EXPECT_EQ(r["message"],
            "Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while right now it is "
            "Tue Nov 14 22:18:21 UTC 2023 which is further in the future than the tolerated delay of 300000 "
            "milliseconds.");
}

TEST_F(IteratorExpiry, TamperedOrForeignIteratorIsInvalidArgument) {
  int st = 0;
  call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}}, &st);
  auto it = call("GetShardIterator", {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"},
                                      {"ShardIteratorType", "LATEST"}})["ShardIterator"].get<std::string>();
  auto raw = *wire::base64_decode(it);
  raw[5] ^= 1;
  for (std::string bad : {wire::base64_encode(raw), std::string("AAAA"), ShardIteratorCodec("other").encode(kIt),
                          std::string("not an iterator at all")}) {
    auto r = call("GetRecords", {{"ShardIterator", bad}}, &st);
    EXPECT_EQ(st, 400);
    EXPECT_EQ(r["__type"], "InvalidArgumentException");
    EXPECT_EQ(r["message"], "Invalid ShardIterator.");
  }
}
