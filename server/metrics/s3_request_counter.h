#pragma once
// Counts S3 requests per bucket and pricing class, and body bytes in and out: an after-hook of
// the S3 pipeline (App::start). Stored bytes/objects need the service's own calls
// (S3Observer::on_stored_delta / on_stored_total).
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/message.h"
#include "server/metrics/s3_observer.h"
#include "server/s3/s3_request.h"

namespace eddy::metrics {

struct S3RequestClass {
  std::string bucket;  // empty for service-level requests (ListBuckets): not counted
  S3PricingClass cls = S3PricingClass::class_b;
};

// The bucket of the S3 request model and the AWS pricing class: PUT, COPY, POST and LIST
// requests are class A, DELETE is free, GET, HEAD and the rest class B.
S3RequestClass classify_s3_request(const s3::S3Request& request, std::string_view method);

// Counts one answered request with the body bytes received; AWS does not bill answers with a
// 5xx status (503 SlowDown, 500 InternalError): they count with the free class.
void count_s3_request(S3Observer& observer, const S3RequestClass& request, const http::Response& response,
                      uint64_t bytes_in);

}  // namespace eddy::metrics
