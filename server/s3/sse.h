#pragma once
// Server-side encryption as S3 presents it (docs/s3.md, "Encryption"): SSE-S3 (AES256) and
// SSE-KMS (key id, bucket key) are recorded with an object and echoed on every answer about
// it; SSE-C is enforced: the customer key's MD5 is checked on write, the object keeps only a
// salted HMAC of the key, and reads (GET, HEAD, copy source) must present the same key. The
// data itself is stored as sent (an emulator has no secrets to protect). Bucket default
// encryption (PutBucketEncryption) applies to writes that name none. Pure: no service state.
#include <optional>
#include <string_view>
#include <variant>

#include "server/http/message.h"
#include "server/s3/s3_model.h"
#include "server/s3/s3_service.h"

namespace eddy::s3::sse {

// What a write asks for (PutObject, CopyObject's destination, CreateMultipartUpload, POST
// uploads), the bucket's default applying when it names none.
std::variant<Encryption, S3Error> for_write(const http::Headers& h, const BucketConfig& bucket);
// UploadPart / UploadPartCopy: parts of an SSE-C upload carry its key (SSE-S3/KMS headers on
// parts are ignored).
std::optional<S3Error> for_part(const http::Headers& h, const Encryption& upload);
// Reading an object: GET/HEAD (copy_source false) or the source of a copy (the
// x-amz-copy-source-server-side-encryption-customer-* headers).
std::optional<S3Error> for_read(const http::Headers& h, const Encryption& stored, bool copy_source);
// The x-amz-server-side-encryption* headers of an answer about an object so encrypted.
void add_headers(const Encryption& e, http::Headers& out);

// PutBucketEncryption's ServerSideEncryptionConfiguration, and what GetBucketEncryption returns.
std::variant<Encryption, S3Error> parse_bucket_encryption(std::string_view body);
std::string bucket_encryption_xml(const Encryption& e);

}  // namespace eddy::s3::sse
