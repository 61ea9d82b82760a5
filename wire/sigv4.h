#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// AWS Signature Version 4 (and the legacy S3 Signature Version 2), for both sides: the
// server recomputes what a client signed, the clients sign and presign.
//
// Requests are kept as they travel: the path and query exactly as on the wire (still
// percent-encoded), headers as (name, value) pairs in arrival order.
namespace eddy::wire::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingPayloadTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedPayloadTrailer =
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// S3 caps presigned URL lifetimes at seven days.
inline constexpr std::int64_t kMaxPresignExpires = 604800;

using Header = std::pair<std::string, std::string>;

struct Request {
  std::string method;
  std::string path;   // raw, as on the wire: "/bucket/a%20b"
  std::string query;  // raw, without the '?': "prefix=a%2Fb&max-keys=2"
  std::vector<Header> headers;

  // First value of a header (case-insensitive name), if present.
  std::optional<std::string_view> header(std::string_view name) const;
  // Replaces every header of that name by one with this value.
  void set_header(std::string_view name, std::string_view value);
  void remove_header(std::string_view name);
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

// The credential scope: "<yyyymmdd>/<region>/<service>/aws4_request".
struct Scope {
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;
  std::string str() const;
  bool operator==(const Scope&) const = default;
};

// How the path enters the canonical request.
//  s3:       each segment decoded once and re-encoded (so "%2F" inside a key stays), no
//            dot-segment or slash normalization: what S3 and the S3 SDK signers do.
//  standard: dot segments removed and empty segments collapsed, then the wire path encoded
//            once more (the "double encoding" every other service uses).
enum class UriStyle { s3, standard };

// --- encoding ------------------------------------------------------------------------------

// RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ becomes
// %XX (uppercase hex); '/' is kept unless encode_slash.
std::string uri_encode(std::string_view bytes, bool encode_slash);
// Percent-decoding. A '%' not followed by two hex digits is kept as is; '+' becomes a space
// only when plus_as_space (query strings, as S3 reads them).
std::string uri_decode(std::string_view text, bool plus_as_space);

std::string canonical_uri(std::string_view raw_path, UriStyle style);

// Parameters decoded and re-encoded, sorted by name then value, joined with '&'. With
// exclude_signature, X-Amz-Signature is left out (presigned verification).
std::string canonical_query_string(std::string_view raw_query, bool exclude_signature = false);

// Decoded (name, value) pairs of a raw query, in order; '+' read as a space.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw_query);

// Value trimmed, inner runs of whitespace collapsed to one space.
std::string canonical_header_value(std::string_view value);

// "name:value\n" for each signed header (lowercase names, sorted as given); several
// headers of one name are joined with ','. A signed header absent from the request
// contributes "name:\n", so the signature simply fails to match.
std::string canonical_headers(const std::vector<Header>& headers,
                              const std::vector<std::string>& signed_headers);

// "a;b;c" from a list, and back (lowercased, sorted, duplicates removed).
std::string join_signed_headers(const std::vector<std::string>& names);
std::vector<std::string> split_signed_headers(std::string_view joined);

// Method, canonical URI, canonical query, canonical headers, signed headers and payload
// hash, newline-separated. signed_headers must be lowercase and sorted.
std::string canonical_request(const Request& req, const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash, UriStyle style,
                              bool exclude_signature_param = false);

// --- keys and signatures -------------------------------------------------------------------

using SigningKey = std::array<unsigned char, 32>;

std::string sha256_hex(std::string_view bytes);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string hmac_sha1(std::string_view key, std::string_view data);    // raw 20 bytes

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
SigningKey derive_signing_key(std::string_view secret_access_key, const Scope& scope);

// Lowercase hex HMAC-SHA256 of the string to sign.
std::string signature(const SigningKey& key, std::string_view string_to_sign);

// Constant-time comparison of two signatures.
bool signatures_equal(std::string_view a, std::string_view b);

// --- time ----------------------------------------------------------------------------------

// "20150830T123600Z"
std::string format_amz_date(std::chrono::sys_seconds t);
std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view text);
// IMF-fixdate, the HTTP Date header: "Fri, 24 May 2013 00:00:00 GMT".
std::string format_http_date(std::chrono::sys_seconds t);
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

// --- parsing what clients send -------------------------------------------------------------

struct Authorization {
  std::string access_key_id;
  Scope scope;
  std::vector<std::string> signed_headers;  // as sent: lowercase, ';'-separated in the header
  std::string signature;                    // 64 lowercase hex digits
};

// "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/service/aws4_request,
//  SignedHeaders=host;x-amz-date, Signature=<hex>" (components separated by ',' with
// optional spaces, in any order). On failure *error (if given) says what was wrong.
std::optional<Authorization> parse_authorization_header(std::string_view value,
                                                        std::string* error = nullptr);
// True when parse_authorization_header would succeed; builds nothing.
bool authorization_header_valid(std::string_view value);

// "AK/20150830/us-east-1/service/aws4_request" -> access key and scope.
std::optional<std::pair<std::string, Scope>> parse_credential(std::string_view credential);

struct PresignedQuery {
  Authorization auth;
  std::string amz_date;        // X-Amz-Date
  std::int64_t expires = 0;    // X-Amz-Expires, seconds
  std::string security_token;  // X-Amz-Security-Token, empty when absent
};

// True when the query carries X-Amz-Algorithm (a SigV4 presigned URL, valid or not).
bool is_presigned_v4(std::string_view raw_query);
std::optional<PresignedQuery> parse_presigned_query(std::string_view raw_query,
                                                    std::string* error = nullptr);

// What the client should have signed, for a server to compare with auth.signature:
// the canonical request over auth.signed_headers, the string to sign at amz_date in
// auth.scope, and the signature under a key derived from secret.
struct Computed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};
Computed compute(const Request& req, const Authorization& auth, std::string_view amz_date,
                 std::string_view secret_access_key, std::string_view payload_hash,
                 UriStyle style, bool presigned);

// --- signing (clients) ---------------------------------------------------------------------

struct SigningParams {
  Credentials credentials;
  std::string region;
  std::string service;
  std::chrono::sys_seconds time{};
  // Hex SHA-256 of the body, or UNSIGNED-PAYLOAD, or one of the STREAMING-* markers.
  std::string payload_hash = std::string(kEmptySha256);
  UriStyle uri_style = UriStyle::standard;
  // S3 wants the payload hash in x-amz-content-sha256 as well.
  bool set_content_sha256 = false;
};

struct SigningResult {
  std::string amz_date;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "a;b;c"
  std::string signature;
  std::string authorization;   // the Authorization header value (header signing only)
};

// Signs in place: sets X-Amz-Date, X-Amz-Security-Token (with a session token),
// x-amz-content-sha256 (when asked) and Authorization. Every header present is signed except
// hop-by-hop ones and User-Agent/Expect/X-Amzn-Trace-Id (botocore's list). The request must
// already carry its Host header.
SigningResult sign_request(Request& req, const SigningParams& params);

// Presigns in place: appends X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders
// (and -Security-Token) to req.query, then X-Amz-Signature. The headers present (at least
// Host) are the signed ones; params.payload_hash is normally UNSIGNED-PAYLOAD for S3.
SigningResult presign(Request& req, const SigningParams& params, std::chrono::seconds expires);

// --- aws-chunked streaming signatures ------------------------------------------------------

// "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<prev>\n<sha256("")>\n<sha256(chunk)>"
std::string chunk_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex);
std::string chunk_signature(const SigningKey& key, std::string_view amz_date,
                            std::string_view scope, std::string_view previous_signature,
                            std::string_view chunk_data);

// Trailing headers as they are hashed for the trailer signature: "name:value\n" each,
// names lowercased, values trimmed, in the order given.
std::string canonical_trailers(const std::vector<Header>& trailers);
// "AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n<prev>\n<sha256(canonical trailers)>"
std::string trailer_string_to_sign(std::string_view amz_date, std::string_view scope,
                                   std::string_view previous_signature,
                                   std::string_view trailers_sha256_hex);
std::string trailer_signature(const SigningKey& key, std::string_view amz_date,
                              std::string_view scope, std::string_view previous_signature,
                              std::string_view canonical_trailer_bytes);

// The chain of chunk signatures of one aws-chunked body, seeded with the request's
// signature. The same object serves the verifier (compare each result with the chunk's
// chunk-signature) and the signer.
class ChunkSigner {
 public:
  ChunkSigner(SigningKey key, std::string amz_date, std::string scope,
              std::string seed_signature);
  // Signature of the next chunk (the empty final chunk included); becomes the previous one.
  std::string next(std::string_view chunk_data);
  std::string next_hashed(std::string_view chunk_sha256_hex);
  // Signature of the trailing headers after the final chunk.
  std::string trailer(std::string_view canonical_trailer_bytes);
  const std::string& previous_signature() const { return previous_; }

 private:
  SigningKey key_;
  std::string amz_date_;
  std::string scope_;
  std::string previous_;
};

// --- legacy Signature Version 2 (S3) -------------------------------------------------------

// The sub-resources S3 includes in the V2 canonical resource.
bool is_v2_subresource(std::string_view name);

// "/bucket/key" plus "?sub&sub=value" of the sub-resources present (values decoded, sorted by
// name). raw_path is the wire path; for virtual-hosted requests pass the bucket from the
// Host header in virtual_host_bucket and it is prefixed.
std::string v2_canonical_resource(std::string_view virtual_host_bucket, std::string_view raw_path,
                                  std::string_view raw_query);
// "x-amz-name:value\n" for every x-amz-* header, names lowercased and sorted, values of one
// name joined with ','.
std::string v2_canonical_amz_headers(const std::vector<Header>& headers);
// "<METHOD>\n<Content-MD5>\n<Content-Type>\n<Date or Expires>\n<amz headers><resource>"
std::string v2_string_to_sign(std::string_view method, std::string_view content_md5,
                              std::string_view content_type, std::string_view date_or_expires,
                              std::string_view canonical_amz_headers,
                              std::string_view canonical_resource);
// base64(HMAC-SHA1(secret, string_to_sign))
std::string v2_signature(std::string_view secret_access_key, std::string_view string_to_sign);

struct PresignedV2 {
  std::string access_key_id;  // AWSAccessKeyId
  std::int64_t expires = 0;   // Expires, epoch seconds
  std::string signature;      // Signature, decoded (base64 text)
  std::string security_token; // x-amz-security-token, empty when absent
};
bool is_presigned_v2(std::string_view raw_query);
std::optional<PresignedV2> parse_presigned_v2_query(std::string_view raw_query);

// "AWS AKID:signature"
struct AuthorizationV2 {
  std::string access_key_id;
  std::string signature;
};
std::optional<AuthorizationV2> parse_authorization_v2(std::string_view value);

// The V2 string to sign of a received request. Content-MD5, Content-Type and x-amz-* values
// come from the headers; for a presigned request (presigned = true) also from query
// parameters of those names (botocore moves them into the query), and the date slot is the
// Expires parameter. For header authentication the date slot is the Date header, or empty
// when x-amz-date is present (which is then signed as an amz header).
std::string v2_string_to_sign_for(const Request& req, std::string_view virtual_host_bucket,
                                  bool presigned);

// Presigns a GET/HEAD/PUT the V2 way: appends AWSAccessKeyId, Signature and Expires (as
// botocore does) to req.query. Returns the signature.
std::string presign_v2(Request& req, const Credentials& credentials, std::int64_t expires_epoch,
                       std::string_view virtual_host_bucket = {});

}  // namespace eddy::wire::sigv4
