#include <gtest/gtest.h>

#include "wire/hash_key.h"

using namespace eddy::wire;

TEST(HashKey, DecimalRoundTripAndBounds) {
  EXPECT_EQ(to_decimal(0), "0");
  EXPECT_EQ(to_decimal(kMaxHashKey), "340282366920938463463374607431768211455");
  EXPECT_EQ(parse_u128("340282366920938463463374607431768211455"), kMaxHashKey);
  EXPECT_EQ(parse_u128("0"), u128{0});
  EXPECT_FALSE(parse_u128("340282366920938463463374607431768211456"));  // 2^128
  EXPECT_FALSE(parse_u128("1000000000000000000000000000000000000000"));
  EXPECT_FALSE(parse_u128(""));
  EXPECT_FALSE(parse_u128("-1"));
  EXPECT_FALSE(parse_u128("12a"));
  EXPECT_FALSE(parse_u128(" 1"));
  u128 v = (u128{0x0123456789abcdefULL} << 64) | 0xfedcba9876543210ULL;
  EXPECT_EQ(parse_u128(to_decimal(v)), v);
}

TEST(HashKey, Md5OfKnownPartitionKeys) {
  // md5("") = d41d8cd98f00b204e9800998ecf8427e
  EXPECT_EQ(to_decimal(hash_key_of_partition_key("")), "281949768489412648962353822266799178366");
  // md5("a") = 0cc175b9c0f1b6a831c399e269772661
  EXPECT_EQ(to_decimal(hash_key_of_partition_key("a")), "16955237001963240173058271559858726497");
  // md5("partitionKey") = 916fb4607e9099fa19225279d711a12e, read big-endian as kinesalite and
  // the KPL do (python3: int(hashlib.md5(b"partitionKey").hexdigest(), 16)).
  u128 k = hash_key_of_partition_key("partitionKey");
  EXPECT_EQ(to_decimal(k), "193318062818912349798954611745638949166");
  const unsigned char be[16] = {0x91, 0x6f, 0xb4, 0x60, 0x7e, 0x90, 0x99, 0xfa, 0x19, 0x22, 0x52, 0x79, 0xd7, 0x11, 0xa1, 0x2e};
  EXPECT_EQ(u128_from_big_endian(be), k);
  // The UTF-8 bytes are hashed, not a Latin-1 reading of the string.
  EXPECT_NE(hash_key_of_partition_key("\xc3\xa9"), hash_key_of_partition_key("\xe9"));
}

TEST(ShardRanges, SplitEvenlyLikeAws) {
  auto one = even_split(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].start, 0);
  EXPECT_EQ(one[0].end, kMaxHashKey);

  auto two = even_split(2);
  EXPECT_EQ(to_decimal(two[0].end), "170141183460469231731687303715884105727");
  EXPECT_EQ(to_decimal(two[1].start), "170141183460469231731687303715884105728");
  EXPECT_EQ(two[1].end, kMaxHashKey);

  auto three = even_split(3);
  EXPECT_EQ(to_decimal(three[0].end), "113427455640312821154458202477256070484");
  EXPECT_EQ(to_decimal(three[1].start), "113427455640312821154458202477256070485");
  EXPECT_EQ(to_decimal(three[1].end), "226854911280625642308916404954512140969");
  EXPECT_EQ(to_decimal(three[2].start), "226854911280625642308916404954512140970");
  EXPECT_EQ(three[2].end, kMaxHashKey);
}

TEST(ShardRanges, ContiguousAndCoveringForOneToManyShards) {
  for (uint32_t n : {1u, 2u, 3u, 4u, 5u, 7u, 10u, 16u, 50u, 100u, 500u, 1000u}) {
    auto r = even_split(n);
    ASSERT_EQ(r.size(), n);
    EXPECT_EQ(r.front().start, 0) << n;
    EXPECT_EQ(r.back().end, kMaxHashKey) << n;
    // AWS: shard i starts at floor(2^128 / n) * i.
    u128 width = kMaxHashKey / n + ((kMaxHashKey % n + 1) == n ? 1 : 0);
    for (uint32_t i = 0; i < n; ++i) {
      EXPECT_EQ(r[i].start, width * i) << n << " " << i;
      if (i + 1 < n) {
        EXPECT_EQ(r[i].end + 1, r[i + 1].start) << n << " " << i;
      }
    }
  }
}

TEST(ShardRanges, RoutingByHashKeyPicksTheOwningRange) {
  auto r = even_split(4);
  auto owner = [&](u128 k) {
    for (size_t i = 0; i < r.size(); ++i)
      if (r[i].contains(k)) return static_cast<int>(i);
    return -1;
  };
  EXPECT_EQ(owner(0), 0);
  EXPECT_EQ(owner(kMaxHashKey), 3);
  EXPECT_EQ(owner(r[1].start), 1);
  EXPECT_EQ(owner(r[1].start - 1), 0);
  EXPECT_EQ(owner(hash_key_of_partition_key("a")), 0);  // 0x0cc1... is in the first quarter
}
