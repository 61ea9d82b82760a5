#include "server/kinesis/validation.h"

#include <gtest/gtest.h>

using namespace eddy::kinesis;

TEST(KinesisValidation, NothingWrongIsOk) {
  Validator v;
  v.string("streamName", std::string("abc"), true, 1, 128, Validator::kNamePattern);
  v.integer("limit", int64_t{5}, false, 1, 10000);
  v.enumeration("t", std::string("LATEST"), true, {"LATEST"});
  EXPECT_TRUE(v.ok());
}

TEST(KinesisValidation, SingleErrorWording) {
  Validator v;
  v.string("streamName", std::nullopt, true, 1, 128, Validator::kNamePattern);
  ASSERT_FALSE(v.ok());
  auto e = v.error();
  EXPECT_EQ(e.type, "ValidationException");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message,
            "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null");
}

TEST(KinesisValidation, EmptyNameFailsPatternAndLengthInThatOrder) {
  Validator v;
  v.add("records", "'[]'", "Member must have length greater than or equal to 1");
  v.string("streamName", std::string(""), true, 1, 128, Validator::kNamePattern);
  EXPECT_EQ(v.error().message,
            "3 validation errors detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length "
            "greater than or equal to 1; Value '' at 'streamName' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
}

TEST(KinesisValidation, IntegerBoundsAndEnums) {
  Validator v;
  v.integer("limit", int64_t{0}, false, 1, 10000);
  v.integer("limit", int64_t{10001}, false, 1, 10000);
  v.enumeration("shardIteratorType", std::string("NOPE"), true,
                {"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"});
  EXPECT_EQ(v.error().message,
            "3 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1; Value '10001' at 'limit' failed to satisfy constraint: Member must have value "
            "less than or equal to 10000; Value 'NOPE' at 'shardIteratorType' failed to satisfy constraint: Member must "
            "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
}

TEST(KinesisValidation, AtMostTenErrorsAreReported) {
  Validator v;
  for (int i = 0; i < 15; ++i) v.not_null("records." + std::to_string(i + 1) + ".member.data", false);
  auto m = v.error().message;
  EXPECT_EQ(m.rfind("10 validation errors detected: ", 0), 0u) << m;
  EXPECT_EQ(m.find("records.11."), std::string::npos);
}

TEST(KinesisValidation, LengthCountsCharactersNotBytes) {
  Validator v;
  std::string key;
  for (int i = 0; i < 256; ++i) key += "\xc3\xa9";  // 256 x 'é' = 512 bytes
  v.string("partitionKey", key, true, 1, 256);
  EXPECT_TRUE(v.ok());
  v.string("partitionKey", key + "a", true, 1, 256);
  EXPECT_FALSE(v.ok());
}

TEST(KinesisValidation, Patterns) {
  EXPECT_TRUE(Validator::matches(Validator::kHashKeyPattern, "0"));
  EXPECT_TRUE(Validator::matches(Validator::kHashKeyPattern, "340282366920938463463374607431768211456"));  // 39 digits
  EXPECT_FALSE(Validator::matches(Validator::kHashKeyPattern, "01"));
  EXPECT_FALSE(Validator::matches(Validator::kHashKeyPattern, "-1"));
  EXPECT_FALSE(Validator::matches(Validator::kHashKeyPattern, std::string(40, '1')));
  EXPECT_FALSE(Validator::matches(Validator::kHashKeyPattern, ""));
  EXPECT_TRUE(Validator::matches(Validator::kSequencePattern, std::string(129, '9')));
  EXPECT_FALSE(Validator::matches(Validator::kSequencePattern, std::string(130, '9')));
  EXPECT_TRUE(Validator::matches(Validator::kNamePattern, "a-b_c.D9"));
  EXPECT_FALSE(Validator::matches(Validator::kNamePattern, "a b"));
  EXPECT_FALSE(Validator::matches(Validator::kNamePattern, "arn:aws:kinesis"));
  EXPECT_TRUE(Validator::matches(Validator::kArnPattern, "arn:aws:kinesis:us-east-1:000000000000:stream/s"));
  EXPECT_TRUE(Validator::matches(Validator::kArnPattern, "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s"));
  EXPECT_FALSE(Validator::matches(Validator::kArnPattern, "arn:aws:kinesis:us-east-1:0000:stream/s"));
  EXPECT_FALSE(Validator::matches(Validator::kArnPattern, "arn:aws:s3:::bucket"));
}
