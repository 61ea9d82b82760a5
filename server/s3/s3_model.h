#pragma once
// What S3 state looks like in storage: bucket rows (meta `b/<bucket>`), object rows (objects
// family: bucket-id u32 BE + key), multipart uploads (meta `u/<upload-id>` and one row per
// part `u/<upload-id>/<part u32 BE>`), and the blob chunk keys (blobs family: blob-id u64 BE
// + chunk u32 BE). Values use a small length-prefixed binary encoding, so any header bytes
// survive unchanged.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::policy { class Document; }

namespace eddy::s3 {

// Data is stored in chunks of this size; a range GET reads only the chunks it needs.
inline constexpr uint32_t kChunkBytes = 1024 * 1024;

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One run of object data: the chunks of one blob id (a single PUT has one; a completed
// multipart upload has one per part, so completing copies nothing).
struct Segment {
  uint64_t blob_id = 0;
  uint64_t size = 0;
};

// One rule of a bucket's CORS configuration (PutBucketCors).
struct CorsRule {
  std::string id;
  std::vector<std::string> methods, origins, headers, expose;  // AllowedMethod, AllowedOrigin, AllowedHeader, ExposeHeader
  int64_t max_age_s = -1;                                       // MaxAgeSeconds (-1: none)
  bool operator==(const CorsRule&) const = default;
};

// Server-side encryption: what a bucket applies by default (PutBucketEncryption) or what an
// object or upload was written with (server/s3/sse.h).
struct Encryption {
  std::string algorithm;            // "", "AES256", "aws:kms" or "aws:kms:dsse"
  std::string kms_key_id;           // SSE-KMS key id or ARN as given
  bool bucket_key = false;          // x-amz-server-side-encryption-bucket-key-enabled
  std::string customer_algorithm;   // SSE-C: "AES256"
  std::string customer_key_md5;     // SSE-C: base64 MD5 of the key, as S3 echoes it
  std::string customer_key_digest;  // SSE-C: salt + HMAC-SHA256(salt, key): proves the key, never stores it
  bool operator==(const Encryption&) const = default;
};

// S3 Block Public Access of one bucket.
struct PublicAccessBlock {
  bool block_public_acls = false, ignore_public_acls = false, block_public_policy = false,
       restrict_public_buckets = false;
  bool operator==(const PublicAccessBlock&) const = default;
};

// The bucket sub-resources kept in their own row (meta `c/<bucket>`, s3_config.cpp): policy,
// default encryption, tags, Block Public Access, object ownership.
struct BucketConfig {
  std::string policy;                      // JSON as put ("" none)
  std::shared_ptr<const policy::Document> policy_doc;  // parsed (not stored)
  std::optional<Encryption> encryption;    // default encryption (algorithm, KMS key, bucket key)
  std::optional<Pairs> tags;               // bucket tag set
  std::optional<PublicAccessBlock> public_access_block;
  std::string ownership;                   // "", BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter
  bool empty() const {
    return policy.empty() && !encryption && !tags && !public_access_block && ownership.empty();
  }
};
std::string encode(const BucketConfig& c);
std::optional<BucketConfig> decode_bucket_config(std::string_view v);
std::string bucket_config_key(std::string_view bucket);       // meta: "c/<bucket>"

struct Bucket {
  std::string name;
  uint32_t id = 0;
  int64_t created_ms = 0;
  std::string region;        // LocationConstraint as given ("" for us-east-1)
  std::string acl = "private";
  // The account that created it (see auth::AuthResult::account; rows written before
  // ownership was per account hold the access key or IMDS role ARN instead): "" when created
  // with --auth off or by --seed.
  std::string owner_key;
  std::string owner_name;    // its DisplayName ("" = the principal)
  std::vector<CorsRule> cors;  // empty: no CORS configuration
  BucketConfig config;       // stored in its own row, not in the bucket row
};

struct ObjectMeta {
  uint64_t size = 0;
  std::string etag;          // without quotes
  int64_t mtime_ms = 0;
  std::vector<Segment> segments;
  Pairs content;             // Content-Type, Content-Encoding, ... as sent
  Pairs user;                // x-amz-meta-* (names lowercased, without the prefix)
  std::string acl = "private";
  std::string checksum_algorithm;  // "CRC32", ... or ""
  std::string checksum_value;      // base64 (with "-N" for composite multipart checksums)
  std::string checksum_type;       // FULL_OBJECT or COMPOSITE
  uint32_t parts = 0;              // >0 for objects made by CompleteMultipartUpload
  std::string storage_class = "STANDARD";
  std::string owner;         // account that wrote it (see Bucket::owner_key)
  std::string owner_name;
  Encryption sse;
  Pairs tags;                // object tag set (PutObjectTagging, x-amz-tagging)
};

struct Upload {
  std::string id;
  std::string bucket;
  std::string key;
  int64_t initiated_ms = 0;
  Pairs content;
  Pairs user;
  std::string acl = "private";
  std::string checksum_algorithm;
  std::string checksum_type;
  std::string storage_class = "STANDARD";
  std::string owner;         // the initiator, who owns the completed object
  std::string owner_name;
  Encryption sse;            // applies to every part and the completed object
  Pairs tags;
};

struct Part {
  uint32_t number = 0;
  uint64_t blob_id = 0;
  uint64_t size = 0;
  std::string etag;          // without quotes
  int64_t mtime_ms = 0;
  std::string checksum_value;  // base64, of the upload's algorithm
  std::string md5;             // raw 16 bytes (for the multipart ETag)
};

std::string encode(const Bucket& b);
std::optional<Bucket> decode_bucket(std::string_view v);
std::string encode(const ObjectMeta& m);
std::optional<ObjectMeta> decode_object(std::string_view v);
std::string encode(const Upload& u);
std::optional<Upload> decode_upload(std::string_view v);
std::string encode(const Part& p);
std::optional<Part> decode_part(std::string_view v);

std::string bucket_key(std::string_view bucket);              // meta: "b/<bucket>"
std::string object_key(uint32_t bucket_id, std::string_view key);  // objects family
std::string object_prefix(uint32_t bucket_id);
std::string upload_key(std::string_view upload_id);           // meta: "u/<id>"
std::string part_key(std::string_view upload_id, uint32_t part);  // meta: "u/<id>/<n BE>"
std::string blob_key(uint64_t blob_id, uint32_t chunk);       // blobs family
// The smallest string greater than every string starting with `prefix` ("" if none).
std::string prefix_successor(std::string_view prefix);

// S3's bucket naming rules (3-63 chars, lowercase letters, digits, '.', '-', start and end
// with a letter or digit, no "..", not an IP address, no xn-- / -s3alias / --ol-s3 forms).
bool valid_bucket_name(std::string_view name);

// Canned ACLs S3 accepts in x-amz-acl.
bool valid_canned_acl(std::string_view acl);
bool acl_allows_public_read(std::string_view acl);
bool acl_allows_public_write(std::string_view acl);

// ISO-8601 with milliseconds (ListObjects LastModified) and the HTTP date (Last-Modified).
std::string iso8601(int64_t ms);
std::string http_date(int64_t ms);

}  // namespace eddy::s3
