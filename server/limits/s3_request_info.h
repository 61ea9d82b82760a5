#pragma once
// What an S3 request is about, derived from method, path, query and a few headers before the
// S3 handler runs (fault rules match on it). Knows nothing of the S3 service's internals.
#include <string>

#include "server/http/message.h"

namespace eddy::limits {

struct S3RequestInfo {
  std::string operation;  // "PutObject", "GetObject", "ListObjectsV2", ...
  std::string bucket;
  std::string key;        // percent-decoded
};

S3RequestInfo describe_s3_request(const http::Request& req);

}  // namespace eddy::limits
