#include "server/kinesis/sequence_number.h"

#include <gtest/gtest.h>

#include <set>

using eddy::kinesis::SequenceNumber;
using eddy::kinesis::kSequenceNumberDigits;

TEST(SequenceNumber, EncodesFixedLayoutOf56Digits) {
  SequenceNumber s{7, 3, 42};
  std::string str = s.str();
  ASSERT_EQ(str.size(), kSequenceNumberDigits);
  EXPECT_EQ(str, "49" "0000000007" "0000000003" "00000000000000000042" "00000000000000");
  for (char c : str) EXPECT_TRUE(c >= '0' && c <= '9');
}

TEST(SequenceNumber, WritesEveryDigitCountExactly) {
  EXPECT_EQ((SequenceNumber{123, 4567, 89012}.str()),
            "49" "0000000123" "0000004567" "00000000000000089012" "00000000000000");
  EXPECT_EQ((SequenceNumber{9, 10, 99}.str()), "49" "0000000009" "0000000010" "00000000000000000099" "00000000000000");
  EXPECT_EQ((SequenceNumber{0, 100, 100}.str()), "49" "0000000000" "0000000100" "00000000000000000100" "00000000000000");
  EXPECT_EQ((SequenceNumber{UINT32_MAX, UINT32_MAX, UINT64_MAX}.str()),
            "49" "4294967295" "4294967295" "18446744073709551615" "00000000000000");
  for (uint64_t c = 0; c < 2000; ++c) {
    const std::string s = SequenceNumber{1, 2, c}.str();
    EXPECT_EQ(s.substr(22, 20), std::string(20 - std::to_string(c).size(), '0') + std::to_string(c));
  }
}

TEST(SequenceNumber, RoundTripsIncludingExtremes) {
  for (SequenceNumber s : {SequenceNumber{0, 0, 0}, SequenceNumber{1, 0, 1}, SequenceNumber{UINT32_MAX, UINT32_MAX, UINT64_MAX},
                           SequenceNumber{12, 2147483647u, 1234567890123ULL}}) {
    auto p = SequenceNumber::parse(s.str());
    ASSERT_TRUE(p.has_value()) << s.str();
    EXPECT_EQ(*p, s);
  }
}

TEST(SequenceNumber, RejectsMalformed) {
  std::string good = SequenceNumber{1, 2, 3}.str();
  EXPECT_FALSE(SequenceNumber::parse(""));
  EXPECT_FALSE(SequenceNumber::parse("0"));
  EXPECT_FALSE(SequenceNumber::parse(good.substr(1)));           // 55 digits
  EXPECT_FALSE(SequenceNumber::parse(good + "0"));               // 57 digits
  std::string bad = good;
  bad[0] = '5';
  EXPECT_FALSE(SequenceNumber::parse(bad));                      // wrong version prefix
  bad = good;
  bad[30] = 'x';
  EXPECT_FALSE(SequenceNumber::parse(bad));                      // not a digit
  bad = good;
  bad[50] = '1';
  EXPECT_FALSE(SequenceNumber::parse(bad));                      // non-zero tail
  // Fields that overflow their types are not ours.
  EXPECT_FALSE(SequenceNumber::parse("49" "9999999999" "0000000000" "00000000000000000001" "00000000000000"));
  EXPECT_FALSE(SequenceNumber::parse("49" "0000000001" "9999999999" "00000000000000000001" "00000000000000"));
  EXPECT_FALSE(SequenceNumber::parse("49" "0000000001" "0000000001" "99999999999999999999" "00000000000000"));
}

TEST(SequenceNumber, ComparesAsDecimalNumbersAndStrictlyIncreasesWithinAShard) {
  std::string prev;
  for (uint64_t c : std::initializer_list<uint64_t>{0, 1, 2, 9, 10, 99, 100, 1ULL << 32, (1ULL << 63) + 5, UINT64_MAX}) {
    std::string s = SequenceNumber{5, 1, c}.str();
    if (!prev.empty()) {
      EXPECT_LT(prev, s);  // same length, so string order is numeric order
    }
    prev = s;
  }
  // Numbers of a later shard (children after a reshard) sort after the parent's.
  EXPECT_LT((SequenceNumber{5, 1, UINT64_MAX}.str()), (SequenceNumber{5, 2, 0}.str()));
}

TEST(SequenceNumber, RecognisesAnotherShardOrStream) {
  auto p = SequenceNumber::parse(SequenceNumber{9, 4, 77}.str());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stream_id, 9u);
  EXPECT_EQ(p->shard_index, 4u);
  EXPECT_EQ(p->counter, 77u);
  // The neighbours' numbers differ, and parse back to their own shard and stream.
  const std::string s3 = SequenceNumber{9, 3, 77}.str(), s4 = SequenceNumber{9, 4, 77}.str();
  const std::string other_stream = SequenceNumber{8, 4, 77}.str();
  EXPECT_NE(s3, s4);
  EXPECT_EQ(SequenceNumber::parse(s3)->shard_index, 3u);
  EXPECT_EQ(SequenceNumber::parse(other_stream)->stream_id, 8u);
  std::set<std::string> distinct;
  for (uint32_t stream : {1u, 2u})
    for (uint32_t shard : {0u, 1u})
      for (uint64_t c : {1ULL, 2ULL}) distinct.insert(SequenceNumber{stream, shard, c}.str());
  EXPECT_EQ(distinct.size(), 8u);
}
