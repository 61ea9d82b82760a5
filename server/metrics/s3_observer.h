#pragma once
// What the S3 service tells metrics. The S3 service calls these on its request path; they only
// touch memory (persisted with the Kinesis counters by the registry's flusher).
#include <cstdint>
#include <string_view>

namespace eddy::metrics {

// AWS bills S3 requests in two classes; DELETE and CANCEL are free.
enum class S3PricingClass {
  class_a,  // PUT, COPY, POST, LIST
  class_b,  // GET, HEAD, SELECT and every other request
  free,     // DELETE, CANCEL (counted, not billed)
};

class S3Observer {
 public:
  virtual ~S3Observer() = default;
  // One S3 request to a bucket (bytes of body received and sent).
  virtual void on_request(std::string_view bucket, S3PricingClass cls, uint64_t bytes_in, uint64_t bytes_out) = 0;
  // Objects and bytes stored changed by these amounts (a PUT over an existing key: the size
  // difference and 0 objects; a DELETE: negative values).
  virtual void on_stored_delta(std::string_view bucket, int64_t bytes, int64_t objects) = 0;
  // The absolute totals (at startup, after a bucket is loaded or deleted).
  virtual void on_stored_total(std::string_view bucket, uint64_t bytes, uint64_t objects) = 0;
};

}  // namespace eddy::metrics
