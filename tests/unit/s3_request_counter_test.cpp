// S3 requests are counted by pricing class; answers AWS does not bill (5xx) count as free.
#include "server/metrics/s3_request_counter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

S3Route answering(int status) {
  return [status](http::Request&) -> http::Dispatch {
    http::Response res;
    res.status = status;
    res.body = "<Error/>";
    return http::Immediate{std::move(res)};
  };
}

TEST(S3RequestCounter, ClassesByMethodAndQuery) {
  FakeObserver obs;
  auto route = count_s3_requests(obs, answering(200));
  for (auto [m, t] : std::vector<std::pair<std::string, std::string>>{
           {"PUT", "/b/k"}, {"GET", "/b/k"}, {"GET", "/b?list-type=2"}, {"GET", "/b?location"}, {"DELETE", "/b/k"}}) {
    auto req = request(m, t);
    route(req);
  }
  ASSERT_EQ(obs.seen.size(), 5u);
  EXPECT_EQ(obs.seen[0].cls, S3PricingClass::class_a);
  EXPECT_EQ(obs.seen[1].cls, S3PricingClass::class_b);
  EXPECT_EQ(obs.seen[2].cls, S3PricingClass::class_a);  // LIST
  EXPECT_EQ(obs.seen[3].cls, S3PricingClass::class_b);
  EXPECT_EQ(obs.seen[4].cls, S3PricingClass::free);
  EXPECT_EQ(obs.seen[0].bucket, "b");
}

TEST(S3RequestCounter, ServerErrorsAreNotBilled) {
  FakeObserver obs;
  for (int status : {503, 500}) {
    auto route = count_s3_requests(obs, answering(status));
    auto put = request("PUT", "/b/k");
    route(put);
    auto get = request("GET", "/b/k");
    route(get);
  }
  ASSERT_EQ(obs.seen.size(), 4u);
  for (const auto& s : obs.seen) EXPECT_EQ(s.cls, S3PricingClass::free);
  // A client error is billed.
  auto route = count_s3_requests(obs, answering(404));
  auto get = request("GET", "/b/missing");
  route(get);
  EXPECT_EQ(obs.seen.back().cls, S3PricingClass::class_b);
}

}  // namespace
}  // namespace eddy::metrics
