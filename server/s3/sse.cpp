#include "server/s3/sse.h"

#include <openssl/rand.h>

#include "server/s3/s3_internal.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::s3::sse {

namespace {

namespace ck = wire::checksum;

constexpr std::string_view kSse = "x-amz-server-side-encryption";
constexpr std::string_view kKmsKey = "x-amz-server-side-encryption-aws-kms-key-id";
constexpr std::string_view kBucketKey = "x-amz-server-side-encryption-bucket-key-enabled";
constexpr std::string_view kContext = "x-amz-server-side-encryption-context";

struct CustomerHeaders {
  std::string algorithm, key, md5;
  std::string algorithm_name, key_name, md5_name;  // the headers' names, for ArgumentName
};

CustomerHeaders customer_headers(const http::Headers& h, bool copy_source) {
  const std::string prefix = copy_source ? "x-amz-copy-source-server-side-encryption-customer-"
                                         : "x-amz-server-side-encryption-customer-";
  CustomerHeaders c;
  c.algorithm_name = prefix + "algorithm";
  c.key_name = prefix + "key";
  c.md5_name = prefix + "key-MD5";
  c.algorithm = std::string(h.get(c.algorithm_name));
  c.key = std::string(h.get(c.key_name));
  c.md5 = std::string(h.get(c.md5_name));
  return c;
}

bool any(const CustomerHeaders& c) { return !c.algorithm.empty() || !c.key.empty() || !c.md5.empty(); }

// The SSE-C headers checked as S3 checks them; the raw key on success.
std::variant<std::string, S3Error> customer_key(const CustomerHeaders& c) {
  if (c.algorithm.empty())
    return invalid_argument("Requests specifying Server Side Encryption with Customer provided keys must provide a valid "
                            "encryption algorithm.",
                            c.algorithm_name, "null");
  if (c.algorithm != "AES256")
    return err("InvalidEncryptionAlgorithmError",
               "The encryption request you specified is not valid. Supported value: AES256.", 400,
               {{"ArgumentName", c.algorithm_name}, {"ArgumentValue", c.algorithm}});
  if (c.key.empty())
    return invalid_argument("Requests specifying Server Side Encryption with Customer provided keys must provide an "
                            "appropriate secret key.",
                            c.key_name, "null");
  auto key = wire::base64_decode(c.key);
  if (!key || key->size() != 32)
    return invalid_argument("The secret key was invalid for the specified algorithm.", c.key_name, "null");
  if (c.md5.empty())
    return invalid_argument("Requests specifying Server Side Encryption with Customer provided keys must provide the "
                            "client calculated MD5 of the secret key.",
                            c.md5_name, "null");
  if (wire::base64_encode(ck::digest(ck::Algorithm::md5, *key)) != c.md5)
    return invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.", c.md5_name,
                            "null");
  return *key;
}

constexpr size_t kSaltBytes = 16;

std::string key_digest(std::string_view salt, std::string_view key) {
  return std::string(salt) + wire::sigv4::hmac_sha256(salt, key);
}

S3Error mismatch() {
  return err("InvalidRequest", "The provided encryption parameters did not match the ones used originally.", 400);
}

}  // namespace

std::variant<Encryption, S3Error> for_write(const http::Headers& h, const BucketConfig& bucket) {
  Encryption e;
  const std::string method(h.get(kSse));
  const bool has_method = h.has(kSse);
  const CustomerHeaders c = customer_headers(h, false);
  if (has_method && method != "AES256" && method != "aws:kms" && method != "aws:kms:dsse")
    return invalid_argument("The encryption method specified is not supported", std::string(kSse), method);
  if (any(c)) {
    if (has_method)
      return invalid_argument("Server Side Encryption with Customer provided key is incompatible with the encryption "
                              "method specified",
                              std::string(kSse), method);
    if (h.has(kKmsKey))
      return invalid_argument("Server Side Encryption with Customer provided key is incompatible with the encryption "
                              "method specified",
                              std::string(kKmsKey), std::string(h.get(kKmsKey)));
    auto key = customer_key(c);
    if (auto* e2 = std::get_if<S3Error>(&key)) return *e2;
    std::string salt(kSaltBytes, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size()));
    e.customer_algorithm = c.algorithm;
    e.customer_key_md5 = c.md5;
    e.customer_key_digest = key_digest(salt, std::get<std::string>(key));
    return e;
  }
  if ((h.has(kKmsKey) || h.has(kContext)) && method.rfind("aws:kms", 0) != 0)
    return invalid_argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                            "x-amz-server-side-encryption : aws:kms",
                            std::string(h.has(kKmsKey) ? kKmsKey : kContext), "null");
  if (h.has(kBucketKey)) {
    const std::string v(h.get(kBucketKey));
    if (v != "true" && v != "false")
      return invalid_argument("Invalid value for x-amz-server-side-encryption-bucket-key-enabled", std::string(kBucketKey), v);
  }
  if (!has_method) {
    // The bucket's default encryption, else SSE-S3 (S3 encrypts every new object).
    if (bucket.encryption) e = *bucket.encryption;
    else e.algorithm = "AES256";
    return e;
  }
  e.algorithm = method;
  if (method.rfind("aws:kms", 0) == 0) {
    e.kms_key_id = std::string(h.get(kKmsKey));
    if (e.kms_key_id.empty() && bucket.encryption && bucket.encryption->algorithm == method)
      e.kms_key_id = bucket.encryption->kms_key_id;
    e.bucket_key = h.has(kBucketKey) ? h.get(kBucketKey) == "true" : bucket.encryption && bucket.encryption->bucket_key;
  }
  return e;
}

namespace {

// The SSE-C headers of a request that reads `stored` (or adds a part to it): none when it has
// no customer key; its key, proven against the stored digest, when it has. `missing`: the
// error when they are absent.
std::optional<S3Error> same_customer_key(const CustomerHeaders& c, const Encryption& stored, const S3Error& missing) {
  if (stored.customer_key_digest.empty()) {
    if (any(c)) return err("InvalidRequest", "The encryption parameters are not applicable to this object.", 400);
    return std::nullopt;
  }
  if (!any(c)) return missing;
  auto key = customer_key(c);
  if (auto* e = std::get_if<S3Error>(&key)) return *e;
  const std::string& d = stored.customer_key_digest;
  // A different key is refused as the suite (and moto) expect it: 400, not 403.
  if (d.size() <= kSaltBytes || key_digest(d.substr(0, kSaltBytes), std::get<std::string>(key)) != d) return mismatch();
  return std::nullopt;
}

S3Error sse_not_supported(const http::Headers& h) {
  return invalid_argument("x-amz-server-side-encryption header is not supported for this operation.", std::string(kSse),
                          std::string(h.get(kSse)));
}

}  // namespace

std::optional<S3Error> for_part(const http::Headers& h, const Encryption& upload) {
  // SSE-S3/KMS headers on a part are ignored (clients repeat the upload's), as RGW and moto do.
  return same_customer_key(customer_headers(h, false), upload,
                           err("InvalidRequest",
                               "The multipart upload initiate requested encryption. Subsequent part requests must "
                               "include the appropriate encryption parameters.",
                               400));
}

std::optional<S3Error> for_read(const http::Headers& h, const Encryption& stored, bool copy_source) {
  if (!copy_source && h.has(kSse)) return sse_not_supported(h);
  return same_customer_key(customer_headers(h, copy_source), stored,
                           err("InvalidRequest",
                               "The object was stored using a form of Server Side Encryption. The correct parameters "
                               "must be provided to retrieve the object.",
                               400));
}

void add_headers(const Encryption& e, http::Headers& out) {
  if (!e.customer_algorithm.empty()) {
    out.add("x-amz-server-side-encryption-customer-algorithm", e.customer_algorithm);
    out.add("x-amz-server-side-encryption-customer-key-MD5", e.customer_key_md5);
    return;
  }
  if (e.algorithm.empty()) return;
  out.add(std::string(kSse), e.algorithm);
  if (e.algorithm.rfind("aws:kms", 0) == 0) {
    if (!e.kms_key_id.empty()) out.add(std::string(kKmsKey), e.kms_key_id);
    if (e.bucket_key) out.add(std::string(kBucketKey), "true");
  }
}

std::variant<Encryption, S3Error> parse_bucket_encryption(std::string_view body) {
  pugi::xml_document doc;
  if (auto e = parse_xml_body(body, "ServerSideEncryptionConfiguration", doc)) return *e;
  auto rules = children(doc.document_element(), "Rule");
  if (rules.size() != 1) return malformed_xml();
  auto by_default = children(rules.front(), "ApplyServerSideEncryptionByDefault");
  if (by_default.size() != 1) return malformed_xml();
  Encryption e;
  e.algorithm = child_text(by_default.front(), "SSEAlgorithm");
  e.kms_key_id = child_text(by_default.front(), "KMSMasterKeyID");
  const std::string bucket_key = child_text(rules.front(), "BucketKeyEnabled");
  if (e.algorithm != "AES256" && e.algorithm != "aws:kms" && e.algorithm != "aws:kms:dsse") return malformed_xml();
  if (!e.kms_key_id.empty() && e.algorithm == "AES256")
    return invalid_argument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
                            "aws:kms:dsse",
                            "ApplyServerSideEncryptionByDefault", "");
  if (!bucket_key.empty() && bucket_key != "true" && bucket_key != "false") return malformed_xml();
  e.bucket_key = bucket_key == "true";
  return e;
}

std::string bucket_encryption_xml(const Encryption& e) {
  XmlOut x("ServerSideEncryptionConfiguration");
  auto rule = XmlOut::add(x.root(), "Rule");
  auto d = XmlOut::add(rule, "ApplyServerSideEncryptionByDefault");
  XmlOut::add(d, "SSEAlgorithm", e.algorithm);
  if (!e.kms_key_id.empty()) XmlOut::add(d, "KMSMasterKeyID", e.kms_key_id);
  XmlOut::add(rule, "BucketKeyEnabled", e.bucket_key ? "true" : "false");
  return x.str();
}

}  // namespace eddy::s3::sse
