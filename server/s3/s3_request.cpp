#include "server/s3/s3_request.h"

#include "wire/sigv4.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace {

constexpr std::string_view kNames[] = {
    "",                          // other
    "ListBuckets",
    "CreateBucket", "DeleteBucket", "HeadBucket", "ListObjects", "ListObjectsV2", "ListObjectVersions",
    "ListMultipartUploads", "GetBucketLocation", "GetBucketVersioning", "PutBucketVersioning", "GetBucketAcl",
    "PutBucketAcl", "GetBucketCors", "PutBucketCors", "DeleteBucketCors", "DeleteObjects",
    "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl",
    "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload",
    "ListParts",
    "PutObjectLockConfiguration", "GetObjectLockConfiguration", "PutObjectRetention", "GetObjectRetention",
    "PutObjectLegalHold", "GetObjectLegalHold", "PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration",
    "DeleteBucketLifecycle", "GetObjectAttributes",
    "OPTIONS",                   // preflight: no AWS operation; rules name it by its method
};
static_assert(std::size(kNames) == static_cast<size_t>(Op::preflight) + 1);

// Bucket sub-resources eddy does not implement, by the name each method makes of them (the
// service answers them 501; fault rules and logs still name them as AWS does).
struct Named {
  const char* param;
  const char* get;
  const char* put;
  const char* del;
};
constexpr Named kBucketNamed[] = {
    {"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
    {"tagging", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
    {"encryption", "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"},
    {"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
    {"notification", "GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", nullptr},
    {"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"},
    {"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"},
};

struct Classifier {
  const std::string& method;
  const Query& query;
  bool copy;
  bool has(const char* name) const { return query.count(name) != 0; }
};

// Bucket sub-resources the service implements, by method (Op::other: not for that method), in
// the order the service checks them.
struct Typed {
  const char* param;
  Op get, put, del;
};
constexpr Typed kBucketTyped[] = {
    {"acl", Op::get_bucket_acl, Op::put_bucket_acl, Op::other},
    {"location", Op::get_bucket_location, Op::other, Op::other},
    {"cors", Op::get_bucket_cors, Op::put_bucket_cors, Op::delete_bucket_cors},
    {"versions", Op::list_object_versions, Op::other, Op::other},
    {"uploads", Op::list_multipart_uploads, Op::other, Op::other},
    {"versioning", Op::get_bucket_versioning, Op::put_bucket_versioning, Op::other},
    {"object-lock", Op::get_object_lock_configuration, Op::put_object_lock_configuration, Op::other},
    {"lifecycle", Op::get_bucket_lifecycle, Op::put_bucket_lifecycle, Op::delete_bucket_lifecycle},
};

// The order of the checks is the service's: the first that applies names the operation.
std::pair<Op, std::string_view> bucket_op(const Classifier& q) {
  const std::string& m = q.method;
  if (m == "POST") {
    if (q.has("delete")) return {Op::delete_objects, {}};
    return {Op::other, "PostObject"};
  }
  if (m == "HEAD") return {Op::head_bucket, {}};
  if (m != "GET" && m != "PUT" && m != "DELETE") return {Op::other, {}};
  for (const Typed& t : kBucketTyped) {
    const Op op = m == "GET" ? t.get : m == "PUT" ? t.put : t.del;
    if (op != Op::other && q.has(t.param)) return {op, {}};
  }
  for (const Named& n : kBucketNamed) {
    if (!q.has(n.param)) continue;
    const char* name = m == "GET" ? n.get : m == "PUT" ? n.put : n.del;
    if (name) return {Op::other, name};
  }
  if (m == "PUT") return {Op::create_bucket, {}};
  if (m == "DELETE") return {Op::delete_bucket, {}};
  auto lt = q.query.find("list-type");
  return {lt != q.query.end() && lt->second == "2" ? Op::list_objects_v2 : Op::list_objects, {}};
}

std::pair<Op, std::string_view> object_op(const Classifier& q) {
  const std::string& m = q.method;
  if (m == "PUT") {
    if (q.has("acl")) return {Op::put_object_acl, {}};
    if (q.has("tagging")) return {Op::other, "PutObjectTagging"};
    if (q.has("retention")) return {Op::put_object_retention, {}};
    if (q.has("legal-hold")) return {Op::put_object_legal_hold, {}};
    if (q.has("partNumber") || q.has("uploadId")) return {q.copy ? Op::upload_part_copy : Op::upload_part, {}};
    return {q.copy ? Op::copy_object : Op::put_object, {}};
  }
  if (m == "GET") {
    if (q.has("acl")) return {Op::get_object_acl, {}};
    if (q.has("tagging")) return {Op::other, "GetObjectTagging"};
    if (q.has("attributes")) return {Op::get_object_attributes, {}};
    if (q.has("retention")) return {Op::get_object_retention, {}};
    if (q.has("legal-hold")) return {Op::get_object_legal_hold, {}};
    if (q.has("uploadId")) return {Op::list_parts, {}};
    return {Op::get_object, {}};
  }
  if (m == "HEAD") return {Op::head_object, {}};
  if (m == "DELETE") {
    if (q.has("tagging")) return {Op::other, "DeleteObjectTagging"};
    if (q.has("uploadId")) return {Op::abort_multipart_upload, {}};
    return {Op::delete_object, {}};
  }
  if (m == "POST") {
    if (q.has("uploads")) return {Op::create_multipart_upload, {}};
    if (q.has("uploadId")) return {Op::complete_multipart_upload, {}};
    if (q.has("restore")) return {Op::other, "RestoreObject"};
    if (q.has("select")) return {Op::other, "SelectObjectContent"};
  }
  return {Op::other, {}};
}

}  // namespace

std::string_view operation_name(Op op) { return kNames[static_cast<size_t>(op)]; }

bool is_list_operation(Op op) {
  return op == Op::list_objects || op == Op::list_objects_v2 || op == Op::list_object_versions ||
         op == Op::list_multipart_uploads || op == Op::list_parts;
}

std::string virtual_host_bucket(std::string_view host) {
  host = wire::text::trim(host);
  if (host.empty() || host.front() == '[') return {};  // IPv6 literal
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  const std::string h = wire::text::lower(host);
  constexpr std::string_view kLocal = ".localhost";
  if (h.size() > kLocal.size() && h.ends_with(kLocal)) return h.substr(0, h.size() - kLocal.size());
  // bucket.s3.<anything> and bucket.s3-<region>.amazonaws.com
  for (std::string_view marker : {".s3.", ".s3-"}) {
    auto pos = h.find(marker);
    if (pos != std::string::npos && pos > 0) return h.substr(0, pos);
  }
  return {};
}

S3Request parse_request(const http::Request& req) {
  S3Request r;
  for (auto& [k, v] : wire::sigv4::parse_query(req.query))
    if (!r.query.count(k)) r.query.emplace(std::move(k), std::move(v));
  r.query.erase("x-id");  // the SDKs' operation hint, not a sub-resource

  r.path = wire::text::percent_decode(req.path);
  r.bucket = virtual_host_bucket(req.headers.get("Host"));
  if (!r.bucket.empty()) {
    r.virtual_host = true;
    if (r.path.size() > 1) r.key = r.path.substr(1);
  } else {
    std::string_view p = r.path;
    if (!p.empty() && p.front() == '/') p.remove_prefix(1);
    const auto slash = p.find('/');
    r.bucket = std::string(p.substr(0, slash));
    if (slash != std::string_view::npos) r.key = std::string(p.substr(slash + 1));
  }

  std::string_view name;
  if (req.method == "OPTIONS") {
    r.op = Op::preflight;
  } else if (r.bucket.empty()) {
    r.op = req.method == "GET" ? Op::list_buckets : Op::other;
  } else {
    const Classifier q{req.method, r.query, req.headers.has("x-amz-copy-source")};
    std::tie(r.op, name) = r.key.empty() ? bucket_op(q) : object_op(q);
  }
  if (name.empty()) name = operation_name(r.op);
  r.operation = name.empty() ? req.method : std::string(name);
  return r;
}

}  // namespace eddy::s3
