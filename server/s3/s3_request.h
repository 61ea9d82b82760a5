#pragma once
// The S3 request model: which bucket and key a request addresses (virtual-hosted or path
// style) and which AWS operation it is. The one parser the S3 service, fault rules, request
// metrics and SigV2 signing share, so they never disagree about a request (docs/s3.md,
// "Addressing"). Pure: no service state.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "server/http/message.h"

namespace eddy::s3 {

// The operations the S3 service implements; `other` is everything else (a sub-resource eddy
// answers 501 for, or a method that makes no operation).
enum class Op : uint8_t {
  other,
  list_buckets,
  // buckets
  create_bucket, delete_bucket, head_bucket, list_objects, list_objects_v2, list_object_versions,
  list_multipart_uploads, get_bucket_location, get_bucket_versioning, put_bucket_versioning, get_bucket_acl,
  put_bucket_acl, get_bucket_cors, put_bucket_cors, delete_bucket_cors, delete_objects,
  // objects
  get_object, head_object, put_object, copy_object, delete_object, get_object_acl, put_object_acl,
  create_multipart_upload, upload_part, upload_part_copy, complete_multipart_upload, abort_multipart_upload,
  list_parts,
  // versioning, object lock, lifecycle, attributes (s3_versioning.cpp, s3_lock.cpp, s3_lifecycle.cpp)
  put_object_lock_configuration, get_object_lock_configuration, put_object_retention, get_object_retention,
  put_object_legal_hold, get_object_legal_hold, put_bucket_lifecycle, get_bucket_lifecycle, delete_bucket_lifecycle,
  get_object_attributes,
  // CORS preflight (OPTIONS), never authenticated
  preflight,
};

// Query parameters, percent-decoded; the first value of each name.
using Query = std::map<std::string, std::string>;

struct S3Request {
  std::string bucket;         // "" addresses the service itself (ListBuckets)
  std::string key;            // percent-decoded; "" addresses the bucket
  bool virtual_host = false;  // the bucket came from the Host header
  std::string path;           // the request path percent-decoded (what must be UTF-8)
  Query query;                // without the SDKs' x-id hint
  Op op = Op::other;
  // AWS's operation name ("PutObject", "GetBucketTagging", "PostObject", ...); for requests
  // that name none, the HTTP method.
  std::string operation;
};

// Reads the method, Host, path, query and whether x-amz-copy-source is present.
S3Request parse_request(const http::Request& req);

// The bucket a virtual-hosted Host header names, lowercased: "b.localhost[:port]" (checked
// first, so "x.s3.localhost" is bucket "x.s3"), "b.s3.<anything>", "b.s3-<region>.amazonaws.com";
// "" for path-style hosts and IPv6 literals.
std::string virtual_host_bucket(std::string_view host);

// The AWS name of an operation eddy implements ("" for Op::other).
std::string_view operation_name(Op op);

// Pricing: PUT, COPY, POST and LIST requests are class A; GET, HEAD and the rest class B;
// DELETE is free (docs/metrics.md).
bool is_list_operation(Op op);

}  // namespace eddy::s3
