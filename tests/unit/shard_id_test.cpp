// Shard ids: "shardId-" and the index in 12 zero-padded digits, both ways.
#include <gtest/gtest.h>

#include <cstdint>

#include "server/kinesis/stream.h"

using eddy::kinesis::Shard;

TEST(ShardId, FormatsTwelveZeroPaddedDigits) {
  EXPECT_EQ(Shard::shard_id(0), "shardId-000000000000");
  EXPECT_EQ(Shard::shard_id(1), "shardId-000000000001");
  EXPECT_EQ(Shard::shard_id(10), "shardId-000000000010");
  EXPECT_EQ(Shard::shard_id(123456789), "shardId-000123456789");
  EXPECT_EQ(Shard::shard_id(UINT32_MAX), "shardId-004294967295");
}

TEST(ShardId, ParsesWhatItFormats) {
  for (uint32_t i : {0u, 7u, 99u, 100u, 65535u, 2147483647u}) {
    auto back = Shard::parse_id(Shard::shard_id(i));
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(*back, i);
  }
  EXPECT_FALSE(Shard::parse_id("shardId-").has_value());
  EXPECT_FALSE(Shard::parse_id("shardId-0000000000001").has_value());  // 13 digits
  EXPECT_FALSE(Shard::parse_id("shardId-00000000000x").has_value());
}
