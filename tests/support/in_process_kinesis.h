#pragma once
// The in-process Kinesis harness: a KinesisService over an in-memory store with a manual
// clock, called through handle() as the Router hands requests over (no sockets, no front end).
// One harness for the unit tests, the fuzz targets (fuzz/fuzz_kinesis_handle.cpp) and the
// micro benchmarks (bench/kinesis_bench.cpp); it needs neither gtest nor the test library.
#include <memory>
#include <string>
#include <string_view>

#include "server/clock.h"
#include "server/config.h"
#include "server/http/message.h"
#include "server/kinesis/kinesis_service.h"
#include "server/store/store.h"

namespace eddy::test {

inline constexpr std::string_view kKinesisJson = "application/x-amz-json-1.1";
inline constexpr std::string_view kKinesisCbor = "application/x-amz-cbor-1.1";

// A Kinesis request for operation `op` (e.g. "PutRecord") with `body` as it is on the wire.
inline http::Request kinesis_request(std::string_view op, std::string body,
                                     std::string_view content_type = kKinesisJson) {
  http::Request r;
  r.method = "POST";
  r.target = r.path = "/";
  r.headers.add("Content-Type", std::string(content_type));
  r.headers.add("X-Amz-Target", "Kinesis_20131202." + std::string(op));
  r.body = std::move(body);
  return r;
}

struct InProcessKinesis {
  Config config;  // set fields before open()
  ManualClock clock{1'700'000'000'000};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<kinesis::KinesisService> svc;

  // Opens the in-memory store and loads the service; false with a message on failure.
  // Tests: ASSERT_TRUE(k.open(&err)) << err;
  bool open(std::string* error) {
    store::StoreOptions o;
    o.in_memory = true;
    store::Status st;
    store = store::Store::open(o, &st);
    if (!store) {
      *error = st.message;
      return false;
    }
    svc = std::make_unique<kinesis::KinesisService>(config, clock, *store);
    return svc->load(error);
  }

  // One call through handle() (in-process calls are trusted: no authentication).
  http::Response call(std::string_view op, std::string body, std::string_view content_type = kKinesisJson) {
    auto req = kinesis_request(op, std::move(body), content_type);
    return svc->handle(req);
  }
};

}  // namespace eddy::test
