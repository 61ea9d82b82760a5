#pragma once
// A KinesisService over an in-memory store with a manual clock, for unit tests that call
// handle() directly (no front end).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/clock.h"
#include "server/config.h"
#include "server/kinesis/kinesis_service.h"
#include "server/store/store.h"

namespace eddy::test {

struct InProcessKinesis {
  Config config;
  ManualClock clock{1'700'000'000'000};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<kinesis::KinesisService> svc;

  // Call from SetUp (ASSERT_NO_FATAL_FAILURE): opens the store and loads the service.
  void open() {
    store::StoreOptions o;
    o.in_memory = true;
    store::Status st;
    store = store::Store::open(o, &st);
    ASSERT_TRUE(store) << st.message;
    svc = std::make_unique<kinesis::KinesisService>(config, clock, *store);
    std::string err;
    ASSERT_TRUE(svc->load(&err)) << err;
  }
};

}  // namespace eddy::test
