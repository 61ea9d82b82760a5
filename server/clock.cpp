#include "server/clock.h"

#include <chrono>

namespace eddy {

int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

ManualClock::ManualClock(int64_t start_ms) : now_(start_ms) {}
ManualClock::ManualClock() : now_(SystemClock().now_ms()) {}

}  // namespace eddy
