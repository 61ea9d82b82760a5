#pragma once
// Pieces shared by the S3 service's translation units: the per-request context, S3 error and
// XML helpers, and the blob writer. Not part of the service's public interface.
#include <pugixml.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth/authenticator.h"
#include "server/s3/s3_service.h"
#include "wire/checksum.h"

namespace eddy::s3 {

inline constexpr std::string_view kNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";
inline constexpr std::string_view kOwnerId = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
inline constexpr std::string_view kOwnerName = "eddy";
// The owner S3 gives what anonymous requests write into public-read-write buckets.
inline constexpr std::string_view kAnonymousPrincipal = "*anonymous*";
inline constexpr std::string_view kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
inline constexpr std::string_view kAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
inline constexpr std::string_view kLogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery";

// An ACL is stored as a canned ACL's name, or, when an AccessControlPolicy said something no
// canned ACL says, as its grants after this prefix (one per line: U|G, permission, canonical ID
// or group URI, display name; tab-separated).
inline constexpr std::string_view kExplicitAcl = "grants:";
struct Grant {
  bool group = false;
  std::string grantee;      // canonical ID or group URI
  std::string display_name; // users only, may be empty
  std::string permission;   // FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP
  bool operator==(const Grant& o) const { return group == o.group && grantee == o.grantee && permission == o.permission; }
};
bool is_explicit_acl(std::string_view acl);
std::string encode_acl(const std::vector<Grant>& grants);
std::vector<Grant> decode_acl(std::string_view acl);
inline constexpr std::string_view kAnonymousId = "65a011a29cdf8ec533ec3d1ccaae921c";
inline constexpr uint64_t kMaxPutBytes = 5ull * 1024 * 1024 * 1024;
inline constexpr uint64_t kMinPartBytes = 5ull * 1024 * 1024;
inline constexpr uint32_t kMaxPartNumber = 10000;
inline constexpr size_t kMaxXmlBody = 2 * 1024 * 1024;
// Request bodies keep whitespace-only text: "<Key> </Key>" names the key " ".
inline constexpr unsigned kXmlParse = pugi::parse_default | pugi::parse_ws_pcdata_single;

struct Ctx {
  std::string request_id;
  std::string method;
  // What the request addresses (from its S3Request, server/s3/s3_request.h).
  Op op = Op::other;
  std::string operation;                     // AWS's name (S3Request::operation)
  std::string remote_address;                // the peer (aws:SourceIp)
  bool tls = false;                          // aws:SecureTransport
  std::string bucket;
  std::string key;
  bool virtual_host = false;
  std::string path;                          // decoded
  std::string host;
  Query query;                               // decoded; first value of each name
  http::Headers headers;
  bool head = false;
  bool auth_checked = false;   // an authenticator looked at the request
  bool anonymous = false;      // ... and found no credentials in it
  auth::AuthResult auth;
  // Who asks (auth any/verify, signed): the account owns what it creates and is what owners
  // and grants are compared with; user is the principal within it (access key or IMDS role
  // ARN), which owned what eddy stored before ownership was per account.
  std::string account;
  std::string user;
  std::string display_name;
  // Access-Control-* headers every answer to this request carries (an Origin a CORS rule allows).
  std::vector<std::pair<std::string, std::string>> cors_headers;
  // The owner of what this request creates: the requester, the anonymous user, or "" (the
  // single owner of --auth off).
  std::string new_owner() const {
    if (!auth_checked) return {};
    return anonymous ? std::string(kAnonymousPrincipal) : account;
  }
  std::string new_owner_name() const { return auth_checked && !anonymous ? display_name : std::string(); }

  // (Most object requests have no query: they skip building a key string per name asked.)
  bool has(const char* name) const { return !query.empty() && query.count(name) != 0; }
  std::string q(const char* name) const {
    if (query.empty()) return {};
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
};

// Whether the requester's account owns what `owner` names (s3_service.cpp).
bool owns(const Ctx& c, const std::string& owner);

// --- errors --------------------------------------------------------------------------------
S3Error err(std::string code, std::string message, int status, std::vector<std::pair<std::string, std::string>> fields = {});
S3Error no_such_bucket(const std::string& bucket);
S3Error no_such_key(const std::string& key);
S3Error no_such_upload(const std::string& upload_id);
S3Error access_denied();
S3Error malformed_xml();
S3Error invalid_argument(std::string message, std::string name, std::string value);
S3Error internal_error();
S3Error not_implemented(std::string what = {});

http::Response error_response(const Ctx& c, const S3Error& e);
http::Response xml_response(const Ctx& c, int status, std::string body);
// The headers every S3 response carries (request ids, Server).
void stamp(const Ctx& c, http::Response& res);

// Object lock headers of GET/HEAD (s3_lock.cpp); ISO-8601 timestamps as S3 takes them.
void add_lock_headers(const ObjectMeta& m, http::Response& res);
std::optional<int64_t> parse_iso8601_ms(std::string_view v);
// A request body's XML document whose root is `root` (else MalformedXML).
std::optional<S3Error> parse_xml_body(std::string_view body, std::string_view root, pugi::xml_document& doc);
// A configuration or lock PUT: its XML body and, when refused, the answer.
struct XmlPut {
  http::Response refusal;
  pugi::xml_document doc;
  pugi::xml_node root() const { return doc.document_element(); }
};
// A configuration or lock PUT once its bucket is found (`b`, else put.refusal is already set):
// the body's XML document (root `root`) into put.doc, else nullopt with put.refusal the error.
std::optional<Bucket> with_xml_body(std::optional<Bucket> b, const Ctx& c, std::string_view body, std::string_view root,
                                    XmlPut& put);
// A decimal integer in [lo, hi] from a query parameter or header (strtoll's syntax, the
// whole value), else nullopt.
std::optional<long long> parse_int(const std::string& v, long long lo, long long hi);
// A listing's max-keys (default and cap 1000) and encoding-type=url.
struct Listing {
  size_t max = 1000;
  bool url = false;
  // A key or prefix as the listing returns it (URL-encoded under encoding-type=url).
  std::string enc(const std::string& s) const;
};
std::optional<S3Error> listing_params(const Ctx& c, Listing* out);
// Whether an If-Match / If-None-Match list names the ETag ("*" names any).
bool etag_matches(std::string_view header, const std::string& etag);

// --- XML -----------------------------------------------------------------------------------
class XmlOut {
 public:
  explicit XmlOut(const char* root, bool with_namespace = true);
  pugi::xml_node root() { return root_; }
  std::string str() const;
  static pugi::xml_node add(pugi::xml_node parent, const char* name, std::string_view text);
  static pugi::xml_node add(pugi::xml_node parent, const char* name) { return parent.append_child(name); }

 private:
  pugi::xml_document doc_;
  pugi::xml_node root_;
};
// <Owner><ID>..</ID><DisplayName>..</DisplayName></Owner> of an owner (an account, see Ctx): a
// stable canonical ID derived from it ("" is eddy's single owner of --auth off).
void add_owner(pugi::xml_node parent, const std::string& principal, const std::string& display_name,
               const char* element = "Owner");
std::string canonical_id(const std::string& principal);
std::string display_name_of(const std::string& principal, const std::string& display_name);
// Children of `node` by local name, ignoring any namespace prefix.
std::string child_text(pugi::xml_node node, std::string_view name);
std::vector<pugi::xml_node> children(pugi::xml_node node, std::string_view name);
std::string_view local_name(const char* name);

std::string quote_etag(const std::string& etag);
std::string unquote_etag(std::string_view etag);
// Percent-encoding of keys for encoding-type=url listings ('/' kept).
std::string url_encode_key(std::string_view key);

// --- data ----------------------------------------------------------------------------------

// Writes one blob's chunks as data arrives, hashing on the way. If never kept, its chunks are
// deleted when it goes away (a failed or abandoned upload leaves nothing behind).
class ObjectWriter {
 public:
  ObjectWriter(store::Store& store, uint64_t blob_id, std::vector<wire::checksum::Algorithm> algorithms);
  ~ObjectWriter();
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // false: a storage error, after which the chunks written so far are already gone (the error
  // is answered only once nothing of the object is left behind).
  bool write(std::string_view data);
  // The size the body is expected to have (Content-Length): chunk buffers are sized to it, so
  // a small object does not allocate a whole chunk.
  void size_hint(uint64_t bytes) { size_hint_ = bytes; }
  // Flushes the last partial chunk (false as write()). With hold_last, a last chunk that is
  // still buffered is kept for stage(): the object's commit then writes it in its own batch
  // (a small object costs one storage write, not two).
  bool close(bool hold_last = false);
  // Puts the chunk close(true) held into `batch` (nothing when none is held).
  void stage(store::WriteBatch& batch);
  size_t held_bytes() const { return buf_.size(); }
  void keep() { kept_ = true; }
  uint64_t size() const { return size_; }
  uint64_t blob_id() const { return blob_id_; }
  std::vector<Segment> segments() const;
  const std::string& md5() const { return md5_raw_; }  // after close()
  // Raw digest of an algorithm asked for in the constructor (after close()), or "".
  std::string digest(wire::checksum::Algorithm a) const;

 private:
  bool flush_chunk();
  void discard();  // drops the chunks written (unless kept)
  store::Store& store_;
  uint64_t blob_id_;
  uint32_t next_chunk_ = 0;
  uint64_t size_ = 0;
  uint64_t size_hint_ = 0;
  std::string buf_;
  bool kept_ = false;
  bool closed_ = false;
  wire::checksum::Hasher md5_{wire::checksum::Algorithm::md5};
  std::string md5_raw_;
  std::vector<std::pair<wire::checksum::Algorithm, wire::checksum::Hasher>> hashers_;
  std::vector<std::pair<wire::checksum::Algorithm, std::string>> digests_;
};

// Reads [begin, end) of an object's data chunk by chunk (one chunk in memory at a time).
class ObjectReader final : public http::BodySource {
 public:
  ObjectReader(const store::Store& store, std::vector<Segment> segments, uint64_t begin, uint64_t end);
  int64_t read(char* buf, size_t cap) override;

 private:
  const store::Store& store_;
  std::vector<Segment> segments_;
  uint64_t pos_;
  uint64_t end_;
  uint64_t cached_blob_ = 0;
  uint32_t cached_chunk_ = UINT32_MAX;
  std::string chunk_;
};

}  // namespace eddy::s3
