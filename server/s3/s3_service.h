#pragma once
// The S3 REST API (path-style and virtual-host addressing) over the bucket/object model in
// server/s3/s3_model.h. Bodies of PutObject/UploadPart stream into fixed-size blob chunks
// (bounded memory, aws-chunked decoded on the way); GetObject streams chunks back out.
#include <atomic>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/http/message.h"
#include "server/metrics/s3_observer.h"
#include "server/s3/s3_model.h"
#include "server/s3/s3_request.h"
#include "server/store/store.h"

namespace eddy::auth { class Authenticator; }
namespace eddy::policy { enum class Effect; }

namespace eddy::s3 {

struct Ctx;      // one request's parsed addressing, query and authentication (s3_internal.h)
class ObjectSink;
class ObjectWriter;
class PostSink;

// An S3 error before it becomes XML: code, message, status and extra elements.
struct S3Error {
  std::string code;
  std::string message;
  int status = 400;
  std::vector<std::pair<std::string, std::string>> fields;  // e.g. {"Key", "a/b"}
};

// The ACL permissions S3 checks (FULL_CONTROL is all four).
enum class Perm { read, write, read_acp, write_acp };

class S3Service {
 public:
  S3Service(const Config& config, Clock& clock, store::Store& store);
  ~S3Service();

  // Told of every change in objects and bytes stored per bucket (set before load(), which
  // reports each bucket's totals as found in storage).
  void set_observer(metrics::S3Observer* observer) { observer_ = observer; }
  // Loads buckets, sets the id counters, and drops blobs no object or part refers to (left by
  // uploads cut off by a crash). False with a message when storage cannot be read.
  bool load(std::string* error);
  // Requests are authenticated through this when set and not in mode off.
  void set_authenticator(const auth::Authenticator* authenticator) { auth_ = authenticator; }

  // One request's way through S3, as steps App::start runs in order with its hooks between
  // them (docs/architecture.md, "A request's way through"):
  //   address  the request's context from the S3 request model
  //   admit    decode and auth: an answer refusing the request (InvalidURI; an auth failure
  //            unless --auth off), else nothing. CORS preflights are never authenticated;
  //            other requests from an Origin a CORS rule allows get its Access-Control-* headers.
  //   operate  the operation
  //   finish   S3's headers (request ids, Server, CORS) on an answer: operate()'s or admit()'s
  std::shared_ptr<Ctx> address(const http::Request& req, const S3Request& s3req) const;
  std::optional<http::Response> admit(Ctx& c, const http::Request& req);
  http::Dispatch operate(std::shared_ptr<Ctx> ctx, http::Request& req);
  static void finish(const Ctx& c, http::Response& res);
  // All four steps with no hooks between (tests, fuzzing).
  http::Dispatch dispatch(http::Request& req);

  // Direct access for --seed: create a bucket (existing is fine) and store an object read
  // from a stream. Return an error message on failure.
  std::optional<std::string> seed_bucket(const std::string& name, const std::string& acl);
  std::optional<std::string> seed_object(const std::string& bucket, const std::string& key, std::istream& data,
                                         const std::string& content_type, const std::string& acl);

  std::optional<Bucket> find_bucket(const std::string& name) const;

  // Applies every bucket's lifecycle expiration rules as of the clock's now (App runs it
  // periodically; tests call it after moving a manual clock). Returns versions removed or
  // delete markers written.
  size_t apply_lifecycle();

 private:
  friend class ObjectSink;
  friend class ObjectWriter;
  friend class PostSink;

  http::Dispatch bucket_op(std::shared_ptr<Ctx> ctx, http::Request& req);
  // An XML request body (at most 2 MiB), aws-chunked decoded and its payload hash checked, for fn.
  http::Dispatch xml_body(std::shared_ptr<Ctx> ctx, std::function<http::Response(Ctx&, std::string&)> fn);
  http::Dispatch object_op(std::shared_ptr<Ctx> ctx, http::Request& req);
  // CORS (s3_cors.cpp): the answer to an OPTIONS preflight, the Access-Control-* headers of
  // an actual request from an allowed origin (into Ctx::cors_headers), and the configuration.
  http::Response preflight(Ctx& c);
  void cors_for_request(Ctx& c) const;
  http::Response put_cors(Ctx& c, const std::string& body);
  http::Response get_cors(Ctx& c);
  http::Response delete_cors(Ctx& c);
  std::optional<S3Error> set_bucket_cors(const std::string& name, uint32_t id, std::vector<CorsRule> rules);
  bool owns_bucket(const Ctx& c, const Bucket& b) const;
  bool owns_upload(const Ctx& c, const Upload& u) const;

  // Bucket operations (s3_service.cpp).
  http::Response create_bucket(Ctx& c, const std::string& body);
  http::Response delete_bucket(Ctx& c);
  http::Response head_bucket(Ctx& c);
  http::Response list_buckets(Ctx& c);
  http::Response get_bucket_location(Ctx& c);
  http::Response list_objects(Ctx& c, bool v2);
  http::Response list_object_versions(Ctx& c);
  // bucket: the object's bucket, for the bucket-owner-* grants (nullptr for a bucket's ACL).
  http::Response get_acl(Ctx& c, const std::string& acl, const std::string& owner, const std::string& owner_name,
                         const Bucket* bucket);
  http::Response put_acl(Ctx& c, const std::string& body, bool bucket);
  http::Response delete_objects(Ctx& c, const std::string& body);
  http::Response list_multipart_uploads(Ctx& c);

  // Object operations (s3_objects.cpp). form: the body is a POST form's file part
  // (PostObject): its length is not known up front and no payload hash covers it.
  http::Dispatch put_object(std::shared_ptr<Ctx> ctx, http::Request& req, bool part, bool form = false);
  // PostObject (s3_post.cpp): a browser-form upload to the bucket.
  http::Dispatch post_object(std::shared_ptr<Ctx> ctx);
  http::Response get_object(Ctx& c, bool head);
  http::Response delete_object(Ctx& c);
  http::Response copy_object(Ctx& c, bool part);
  http::Response create_multipart(Ctx& c);
  http::Response complete_multipart(Ctx& c, const std::string& body);
  http::Response abort_multipart(Ctx& c);
  http::Response list_parts(Ctx& c);

  // Bucket sub-resources (policy, encryption, tagging, Block Public Access, ownership
  // controls) and object tagging (s3_config.cpp): the operation, or nullopt if the request is
  // none of them.
  std::optional<http::Dispatch> config_op(std::shared_ptr<Ctx> ctx);
  http::Response bucket_config_get(Ctx& c);
  http::Response bucket_config_put(Ctx& c, const std::string& body);
  http::Response bucket_config_delete(Ctx& c);
  http::Response object_tagging(Ctx& c, const std::string& body);
  // Applies fn to a bucket's sub-resources and stores them (fn's error leaves them as they were).
  std::optional<S3Error> update_config(const std::string& bucket, const std::function<std::optional<S3Error>(BucketConfig&)>& fn);
  bool load_configs(std::string* error);
  // What the bucket policy says about this request (on the bucket, or on `object`, or when
  // `copy_source` on the object a copy reads).
  policy::Effect policy_effect(const Ctx& c, const Bucket& b, const ObjectMeta* object, Perm p) const;
  // The encryption and tags a write records (PutObject, CopyObject, CreateMultipartUpload), after
  // S3's checks of the request's ACL against ownership controls and Block Public Access, its
  // SSE headers and x-amz-tagging. copy_tags: the source's tags (CopyObject). owner and
  // owner_name receive who owns what is written (the writer, or the bucket owner under
  // BucketOwnerEnforced, or BucketOwnerPreferred with bucket-owner-full-control).
  std::optional<S3Error> write_attributes(const Ctx& c, const Bucket& b, Encryption& sse, Pairs& tags,
                                          std::string& owner, std::string& owner_name,
                                          const Pairs* copy_tags = nullptr) const;

  // Shared steps.
  std::optional<S3Error> decode_small_body(Ctx& c, std::string& body);
  std::optional<ObjectMeta> load_object(uint32_t bucket_id, std::string_view key) const;
  std::optional<Upload> load_upload(std::string_view upload_id) const;
  // Stores `meta` as the new version of `key` (s3_versioning.cpp): replacing the current
  // object and freeing its blobs in an unversioned bucket, keeping it as a noncurrent version
  // when versioning is enabled, replacing the null version when suspended. Sets meta's
  // version id and seq. One storage batch.
  // With `conditions`, its If-Match/If-None-Match are checked again under the commit lock
  // (Status message "PreconditionFailed" / "NoSuchKey"). With `data`, the last chunk it holds
  // (ObjectWriter::close(true)) is written in the same batch.
  store::Status commit_object(const Bucket& bucket, const std::string& key, ObjectMeta& meta,
                              const Ctx* conditions = nullptr, ObjectWriter* data = nullptr);
  // If-Match / If-None-Match of a write against the current object of c.key.
  std::optional<S3Error> write_conditions(const Ctx& c, uint32_t bucket_id) const;
  // What is stored changed by (bytes, object versions).
  struct StoredDelta {
    int64_t bytes = 0;
    int64_t objects = 0;
  };
  // commit_object's step into a batch (callers hold commit_mu_; `bucket` as it is now).
  StoredDelta put_object_row(store::WriteBatch& batch, const Bucket& bucket, const std::string& key, ObjectMeta& meta);

  // Versioning (s3_versioning.cpp).
  // One version of a key and where it is stored: the objects row (the current object) or a
  // "v/" row (noncurrent versions and delete markers, s3_model.h).
  struct Version {
    ObjectMeta meta;
    bool current_row = false;
    std::string row;  // the "v/" row key when !current_row
  };
  // The versions of a key, newest first.
  std::vector<Version> key_versions(uint32_t bucket_id, const std::string& key) const;
  // The object version an ACL request addresses (versionId or the current one; no delete
  // markers), and the batch step storing a changed version where it was.
  std::optional<Version> acl_version(const Ctx& c, uint32_t bucket_id) const;
  void store_version(store::WriteBatch& batch, uint32_t bucket_id, const std::string& key, const Version& v);
  // The version a version id names ("null": the null version).
  std::optional<Version> find_version(uint32_t bucket_id, const std::string& key, const std::string& version_id) const;
  // The version a GET/HEAD/copy source names (a versionId, else the newest): nullopt with
  // *marker set when that is a delete marker.
  std::optional<ObjectMeta> addressed_version(uint32_t bucket_id, const std::string& key, const std::string* version_id,
                                              std::optional<ObjectMeta>* marker) const;
  // Removes one stored version into `batch` (promoting the next newest to current when it is
  // an object).
  StoredDelta remove_version(store::WriteBatch& batch, uint32_t bucket_id, const std::string& key, const Version& v);
  // DeleteObject and each key of DeleteObjects: with a version id that version, else the
  // current object (unversioned), or a new delete marker (versioned). Object lock applies.
  // Conditions of a delete (If-Match, x-amz-if-match-last-modified-time / -size, or
  // DeleteObjects' ETag, LastModifiedTime, Size), checked against the version deleted.
  struct DeleteConditions {
    std::string etag;
    std::optional<int64_t> mtime_ms;
    std::optional<uint64_t> size;
  };
  struct Deleted {
    bool delete_marker = false;  // a marker was created or removed
    std::string version_id;      // of the marker created or the version removed ("" none)
  };
  std::optional<S3Error> delete_key(const Ctx& c, const Bucket& b, const std::string& key, const std::string* version_id,
                                    Deleted* out, const DeleteConditions* conditions = nullptr);
  http::Response put_versioning(Ctx& c, const std::string& body);
  http::Response get_versioning(Ctx& c);
  // Changes a bucket's stored settings (under buckets_mu_); nullopt: no such bucket.
  std::optional<store::Status> update_bucket(const std::string& name, const std::function<void(Bucket&)>& change);
  // A bucket configuration request's steps: the bucket, if it exists and the requester owns
  // it (else *refusal); the change stored and an empty 200 (or `status`).
  std::optional<Bucket> owned_bucket(Ctx& c, http::Response* refusal);
  http::Response change_bucket(Ctx& c, const std::function<void(Bucket&)>& change, int status = 200);
  // The object version a GET/HEAD/GetObjectAttributes names, or the answer refusing it (no
  // such key or version, a delete marker, access denied).
  std::optional<ObjectMeta> read_version(Ctx& c, const Bucket& b, http::Response* refusal) const;
  // Version rows at load: blobs they refer to, bytes and versions per bucket id, newest seq.
  void load_versions(std::set<uint64_t>& referenced, std::map<uint32_t, std::pair<uint64_t, uint64_t>>& stored);
  uint64_t next_seq() { return next_seq_.fetch_add(1); }

  // Object lock (s3_lock.cpp).
  std::optional<S3Error> lock_forbids_delete(const Ctx& c, const ObjectMeta& m) const;
  // The x-amz-object-lock-* headers of a write (else the bucket's default retention) into m.
  std::optional<S3Error> lock_from_request(const Ctx& c, const Bucket& b, ObjectMeta& m) const;
  std::optional<Version> lock_target(Ctx& c, const Bucket& b, Perm p, std::optional<S3Error>* e);
  // The bucket of a retention / legal-hold request, with object lock on (else *refusal).
  std::optional<Bucket> lock_bucket(Ctx& c, http::Response* refusal);
  // Get{ObjectRetention,ObjectLegalHold}: the addressed version's lock fields, read-checked, to `answer`.
  http::Response read_lock(Ctx& c, const std::function<http::Response(const ObjectMeta&)>& answer);
  // Changes the lock fields of the version a request addresses and stores it (200 or the error).
  http::Response change_version(Ctx& c, const Bucket& b, const std::function<std::optional<S3Error>(ObjectMeta&)>& change);
  http::Response put_object_lock(Ctx& c, const std::string& body);
  http::Response get_object_lock(Ctx& c);
  http::Response put_retention(Ctx& c, const std::string& body);
  http::Response get_retention(Ctx& c);
  http::Response put_legal_hold(Ctx& c, const std::string& body);
  http::Response get_legal_hold(Ctx& c);

  // Lifecycle (s3_lifecycle.cpp).
  http::Response put_lifecycle(Ctx& c, const std::string& body);
  http::Response get_lifecycle(Ctx& c);
  http::Response delete_lifecycle(Ctx& c);
  // apply_lifecycle() when a bucket has a configuration and a minute of clock time has passed.
  void maybe_apply_lifecycle();
  std::atomic<int64_t> last_lifecycle_ms_{-1};

  // GetObjectAttributes (s3_objects.cpp).
  http::Response get_object_attributes(Ctx& c);
  // Objects and bytes stored changed (callers hold commit_mu_, so deltas arrive in order).
  void stored_delta(const std::string& bucket, int64_t bytes, int64_t objects) {
    if (observer_ && (bytes != 0 || objects != 0)) observer_->on_stored_delta(bucket, bytes, objects);
  }
  void delete_blobs(store::WriteBatch& batch, const std::vector<Segment>& segments);
  uint64_t next_blob_id() { return next_blob_id_.fetch_add(1); }
  std::optional<S3Error> copy_range(const ObjectMeta& src, uint64_t begin, uint64_t end, ObjectWriter& out);
  // What a request may do, from the owner and canned ACL of the bucket or object (always
  // true with --auth off).
  bool bucket_allows(const Ctx& c, const Bucket& b, Perm p) const;
  bool object_allows(const Ctx& c, const Bucket& b, const ObjectMeta& m, Perm p) const;

  const Config& config_;
  Clock& clock_;
  store::Store& store_;
  // Canonical IDs of the users seen so far and their display names, for explicit grants.
  void remember_user(const std::string& account, const std::string& display_name);
  std::string known_display_name(const std::string& canonical_id) const;
  mutable std::mutex users_mu_;
  std::map<std::string, std::string> users_;
  // principal -> the display name last remembered for it: a known user costs a lookup, not
  // the SHA-256 of its canonical id on every request.
  std::unordered_map<std::string, std::string> remembered_;

  const auth::Authenticator* auth_ = nullptr;
  metrics::S3Observer* observer_ = nullptr;
  mutable std::mutex buckets_mu_;
  std::map<std::string, Bucket> buckets_;
  uint32_t next_bucket_id_ = 1;
  std::atomic<uint64_t> next_blob_id_{1};
  std::atomic<uint64_t> next_seq_{1};  // orders the versions of a key
  // Serialises read-old-row/write-new-row of objects and parts, so an overwritten version's
  // blobs are freed exactly once.
  std::mutex commit_mu_;
};

}  // namespace eddy::s3
