#include "server/limits/s3_request_info.h"

#include <cctype>
#include <string_view>

namespace eddy::limits {

namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool has_param(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    std::string_view key = part.substr(0, part.find('='));
    if (key == name) return true;
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return false;
}

std::string param(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    auto eq = part.find('=');
    if (part.substr(0, eq) == name) return eq == std::string_view::npos ? std::string() : std::string(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return {};
}

// "bucket.s3.us-east-1.amazonaws.com", "bucket.s3.localhost.localstack.cloud", "bucket.localhost".
std::string bucket_from_host(std::string_view host) {
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']') == std::string_view::npos)
    host = host.substr(0, colon);
  for (std::string_view marker : {".s3.", ".s3-"}) {
    auto p = host.find(marker);
    if (p != std::string_view::npos && p > 0) return std::string(host.substr(0, p));
  }
  constexpr std::string_view kLocal = ".localhost";
  if (host.size() > kLocal.size() && host.substr(host.size() - kLocal.size()) == kLocal)
    return std::string(host.substr(0, host.size() - kLocal.size()));
  return {};
}

std::string bucket_operation(const http::Request& req) {
  const std::string_view q = req.query;
  const std::string& m = req.method;
  struct Sub {
    const char* param;
    const char* get;
    const char* put;
    const char* del;
  };
  static constexpr Sub kSubs[] = {
      {"acl", "GetBucketAcl", "PutBucketAcl", nullptr},
      {"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
      {"cors", "GetBucketCors", "PutBucketCors", "DeleteBucketCors"},
      {"lifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle"},
      {"versioning", "GetBucketVersioning", "PutBucketVersioning", nullptr},
      {"tagging", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
      {"location", "GetBucketLocation", nullptr, nullptr},
      {"uploads", "ListMultipartUploads", nullptr, nullptr},
      {"versions", "ListObjectVersions", nullptr, nullptr},
      {"encryption", "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"},
      {"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
      {"notification", "GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", nullptr},
      {"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"},
      {"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"},
  };
  if (m == "POST" && has_param(q, "delete")) return "DeleteObjects";
  for (const auto& s : kSubs) {
    if (!has_param(q, s.param)) continue;
    const char* op = m == "GET" ? s.get : m == "PUT" ? s.put : m == "DELETE" ? s.del : nullptr;
    if (op) return op;
  }
  if (m == "GET") return param(q, "list-type") == "2" ? "ListObjectsV2" : "ListObjects";
  if (m == "PUT") return "CreateBucket";
  if (m == "DELETE") return "DeleteBucket";
  if (m == "HEAD") return "HeadBucket";
  if (m == "POST") return "PostObject";
  return m;
}

std::string object_operation(const http::Request& req) {
  const std::string_view q = req.query;
  const std::string& m = req.method;
  const bool upload = has_param(q, "uploadId");
  if (m == "GET") {
    if (has_param(q, "acl")) return "GetObjectAcl";
    if (has_param(q, "tagging")) return "GetObjectTagging";
    if (has_param(q, "attributes")) return "GetObjectAttributes";
    if (upload) return "ListParts";
    return "GetObject";
  }
  if (m == "HEAD") return "HeadObject";
  if (m == "PUT") {
    if (has_param(q, "acl")) return "PutObjectAcl";
    if (has_param(q, "tagging")) return "PutObjectTagging";
    const bool copy = req.headers.has("x-amz-copy-source");
    if (upload && has_param(q, "partNumber")) return copy ? "UploadPartCopy" : "UploadPart";
    return copy ? "CopyObject" : "PutObject";
  }
  if (m == "DELETE") {
    if (has_param(q, "tagging")) return "DeleteObjectTagging";
    return upload ? "AbortMultipartUpload" : "DeleteObject";
  }
  if (m == "POST") {
    if (has_param(q, "uploads")) return "CreateMultipartUpload";
    if (upload) return "CompleteMultipartUpload";
    if (has_param(q, "restore")) return "RestoreObject";
    if (has_param(q, "select")) return "SelectObjectContent";
  }
  return m;
}

}  // namespace

S3RequestInfo describe_s3_request(const http::Request& req) {
  S3RequestInfo info;
  std::string_view path = req.path;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  info.bucket = bucket_from_host(req.headers.get("Host"));
  std::string_view key_part;
  if (info.bucket.empty()) {
    auto slash = path.find('/');
    info.bucket = percent_decode(path.substr(0, slash));
    if (slash != std::string_view::npos) key_part = path.substr(slash + 1);
  } else {
    key_part = path;
  }
  info.key = percent_decode(key_part);
  if (info.bucket.empty()) info.operation = req.method == "GET" ? "ListBuckets" : req.method;
  else if (info.key.empty()) info.operation = bucket_operation(req);
  else info.operation = object_operation(req);
  return info;
}

}  // namespace eddy::limits
