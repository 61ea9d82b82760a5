#pragma once
// S3 tag sets: the <Tagging> document of Put/GetObjectTagging and Put/GetBucketTagging, the
// x-amz-tagging header of PutObject/CopyObject/CreateMultipartUpload, and S3's limits (10 tags
// per object, 50 per bucket, keys up to 128 and values up to 256 characters, no duplicate
// keys, no "aws:" keys). Pure: no service state.
#include <string>
#include <string_view>
#include <variant>

#include "server/s3/s3_model.h"
#include "server/s3/s3_service.h"

namespace eddy::s3::tagging {

inline constexpr size_t kMaxObjectTags = 10;
inline constexpr size_t kMaxBucketTags = 50;

// A <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging> body.
std::variant<Pairs, S3Error> parse_xml(std::string_view body, size_t max_tags);
// "k1=v1&k2=v2" (URL-encoded), as x-amz-tagging carries it.
std::variant<Pairs, S3Error> parse_header(std::string_view header);
// The limits above (max_tags: kMaxObjectTags or kMaxBucketTags).
std::optional<S3Error> validate(const Pairs& tags, size_t max_tags);
std::string to_xml(const Pairs& tags);

}  // namespace eddy::s3::tagging
