#pragma once
#include <atomic>
#include <cstdint>

namespace eddy {

// The one clock every time-dependent rule reads (iterator expiry, retention, arrival
// timestamps, token buckets, metrics series). Tests and `--clock manual` hold it still.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
  virtual bool is_manual() const { return false; }
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override;
};

// Starts at a given time (default: the system time when created) and moves only when told.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms);
  ManualClock();
  int64_t now_ms() const override { return now_.load(std::memory_order_acquire); }
  bool is_manual() const override { return true; }
  void set_ms(int64_t ms) { now_.store(ms, std::memory_order_release); }
  void advance_ms(int64_t delta) { now_.fetch_add(delta, std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace eddy
