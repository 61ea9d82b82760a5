#include "server/metrics/s3_request_counter.h"

namespace eddy::metrics {

S3RequestClass classify_s3_request(const s3::S3Request& request, std::string_view method) {
  S3RequestClass out;
  out.bucket = request.bucket;
  if (method == "DELETE") out.cls = S3PricingClass::free;
  else if (method == "PUT" || method == "POST") out.cls = S3PricingClass::class_a;
  else if (s3::is_list_operation(request.op)) out.cls = S3PricingClass::class_a;
  else out.cls = S3PricingClass::class_b;
  return out;
}

void count_s3_request(S3Observer& observer, const S3RequestClass& request, const http::Response& response,
                      uint64_t bytes_in) {
  if (request.bucket.empty()) return;
  const uint64_t bytes_out = response.head ? 0 : response.stream ? response.content_length.value_or(0) : response.body.size();
  observer.on_request(request.bucket, response.status >= 500 ? S3PricingClass::free : request.cls, bytes_in, bytes_out);
}

}  // namespace eddy::metrics
