#pragma once
// A MetricsRegistry over an in-memory store on a manual clock, for unit tests that feed it
// events directly (metrics, cost, KPL counting), and the OperationInfo those events carry.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/clock.h"
#include "server/kinesis/kinesis_service.h"
#include "server/metrics/registry.h"
#include "server/store/store.h"

namespace eddy::test {

inline constexpr int64_t kT0 = 1'700'000'000'000;

inline kinesis::OperationInfo op_info(std::string_view op, std::string_view stream, int64_t now) {
  kinesis::OperationInfo i;
  i.operation = op;
  i.stream = stream;
  i.now_ms = now;
  return i;
}

// A price table loaded from `path` ("" = the built-in one).
inline metrics::PriceTable load_prices(const std::string& path) {
  metrics::PriceTable p;
  std::string err;
  EXPECT_TRUE(metrics::load_price_table(path, p, &err)) << path << ": " << err;
  return p;
}

struct InProcessMetrics {
  ManualClock clock{kT0};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<metrics::MetricsRegistry> reg;

  // On `existing` (a reopened store) when given, else a fresh in-memory one.
  explicit InProcessMetrics(const metrics::PriceTable& prices, std::unique_ptr<store::Store> existing = nullptr) {
    store::Status st;
    if (existing) store = std::move(existing);
    else store = store::Store::open(store::StoreOptions{.path = "", .in_memory = true}, &st);
    EXPECT_TRUE(store) << st.message;
    reg = std::make_unique<metrics::MetricsRegistry>(clock, *store, prices);
    std::string err;
    EXPECT_TRUE(reg->load(&err)) << err;
  }
};

}  // namespace eddy::test
