// S3 requests are counted by pricing class; answers AWS does not bill (5xx) count as free.
#include "server/metrics/s3_request_counter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/http/dispatch.h"

namespace eddy::metrics {
namespace {

struct Seen {
  std::string bucket;
  S3PricingClass cls;
  uint64_t in, out;
};

class FakeObserver final : public S3Observer {
 public:
  void on_request(std::string_view bucket, S3PricingClass cls, uint64_t in, uint64_t out) override {
    seen.push_back({std::string(bucket), cls, in, out});
  }
  void on_stored_delta(std::string_view, int64_t, int64_t) override {}
  void on_stored_total(std::string_view, uint64_t, uint64_t) override {}
  std::vector<Seen> seen;
};

http::Request request(std::string method, std::string target) {
  http::Request r;
  r.method = std::move(method);
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  if (auto q = target.find('?'); q != std::string::npos) r.query = target.substr(q + 1);
  r.headers.add("Host", "127.0.0.1:4566");
  return r;
}

// A request answered with `status`, counted as the S3 pipeline's after-hook counts it.
void answer(FakeObserver& obs, const std::string& method, const std::string& target, int status) {
  http::Request req = request(method, target);
  http::Response res;
  res.status = status;
  res.body = "<Error/>";
  count_s3_request(obs, classify_s3_request(s3::parse_request(req), req.method), res, 0);
}

TEST(S3RequestCounter, ClassesByMethodAndQuery) {
  FakeObserver obs;
  for (auto [m, t] : std::vector<std::pair<std::string, std::string>>{
           {"PUT", "/b/k"}, {"GET", "/b/k"}, {"GET", "/b?list-type=2"}, {"GET", "/b?location"}, {"DELETE", "/b/k"}})
    answer(obs, m, t, 200);
  ASSERT_EQ(obs.seen.size(), 5u);
  EXPECT_EQ(obs.seen[0].cls, S3PricingClass::class_a);
  EXPECT_EQ(obs.seen[1].cls, S3PricingClass::class_b);
  EXPECT_EQ(obs.seen[2].cls, S3PricingClass::class_a);  // LIST
  EXPECT_EQ(obs.seen[3].cls, S3PricingClass::class_b);
  EXPECT_EQ(obs.seen[4].cls, S3PricingClass::free);
  EXPECT_EQ(obs.seen[0].bucket, "b");
  EXPECT_EQ(obs.seen[0].out, 8u);
  // Service-level requests (ListBuckets) belong to no bucket and are not counted.
  answer(obs, "GET", "/", 200);
  EXPECT_EQ(obs.seen.size(), 5u);
}

TEST(S3RequestCounter, ServerErrorsAreNotBilled) {
  FakeObserver obs;
  for (int status : {503, 500}) {
    answer(obs, "PUT", "/b/k", status);
    answer(obs, "GET", "/b/k", status);
  }
  ASSERT_EQ(obs.seen.size(), 4u);
  for (const auto& s : obs.seen) EXPECT_EQ(s.cls, S3PricingClass::free);
  // A client error is billed.
  answer(obs, "GET", "/b/missing", 404);
  EXPECT_EQ(obs.seen.back().cls, S3PricingClass::class_b);
}

// The after-hook sees the bytes a streamed body brought in, once, whether the sink finishes
// or answers early.
class CountingSink final : public http::BodySink {
 public:
  explicit CountingSink(bool stop_early) : stop_early_(stop_early) {}
  std::optional<http::Response> write(std::string_view) override {
    if (!stop_early_) return std::nullopt;
    http::Response r;
    r.status = 400;
    return r;
  }
  http::Response finish() override { return http::Response{}; }

 private:
  bool stop_early_;
};

TEST(S3RequestCounter, StreamedBodiesCountTheirBytesOnce) {
  FakeObserver obs;
  for (bool early : {false, true}) {
    http::Request req = request("PUT", "/b/k");
    http::Dispatch d = http::StreamBody{std::make_unique<CountingSink>(early)};
    const auto billed = classify_s3_request(s3::parse_request(req), req.method);
    http::after_response(d, [&obs, billed](http::Response& res, uint64_t in) { count_s3_request(obs, billed, res, in); });
    auto& sink = *std::get<http::StreamBody>(d).sink;
    auto first = sink.write("12345");
    if (!first) {
      sink.write("678");
      sink.finish();
    }
  }
  ASSERT_EQ(obs.seen.size(), 2u);
  EXPECT_EQ(obs.seen[0].in, 8u);
  EXPECT_EQ(obs.seen[1].in, 5u);
}

}  // namespace
}  // namespace eddy::metrics
