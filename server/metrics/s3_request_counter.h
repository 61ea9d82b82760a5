#pragma once
// Counts S3 requests per bucket and pricing class, and body bytes in and out, by wrapping the
// S3 route (no change to the S3 service). Stored bytes/objects need the service's own calls
// (S3Observer::on_stored_delta / on_stored_total).
#include <functional>
#include <string>

#include "server/http/message.h"
#include "server/metrics/s3_observer.h"

namespace eddy::metrics {

struct S3RequestClass {
  std::string bucket;  // empty for service-level requests (ListBuckets): not counted
  S3PricingClass cls = S3PricingClass::class_b;
};

// Bucket as the S3 service resolves it (virtual host, else first path segment) and the AWS
// pricing class: PUT/COPY/POST/LIST are class A, DELETE is free, GET/HEAD and the rest class B.
S3RequestClass classify_s3_request(const http::Request& req);

using S3Route = std::function<http::Dispatch(http::Request&)>;
S3Route count_s3_requests(S3Observer& observer, S3Route next);

}  // namespace eddy::metrics
