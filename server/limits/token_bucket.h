#pragma once
// A token bucket that is told the time instead of reading a clock (the Ceph RGW rgw_ratelimit.h
// pattern): tests hold a ManualClock still and get exact answers, and nothing ever sleeps.
#include <cstdint>

namespace eddy::limits {

// Refills `amount` tokens every `period_ms`, continuously, up to `capacity`. The level is kept
// in integer units of token x period_ms, so each elapsed millisecond adds exactly `amount`
// units: no floating point, no rounding drift, no lost fractions between calls.
class TokenBucket {
 public:
  TokenBucket() = default;
  // Starts full (AWS lets a quiet shard burst one second's worth).
  TokenBucket(uint64_t amount, int64_t period_ms, uint64_t capacity, int64_t now_ms);
  static TokenBucket per_second(uint64_t rate, int64_t now_ms) { return TokenBucket(rate, 1000, rate, now_ms); }

  // Takes n tokens if all n are there; otherwise takes nothing.
  bool try_take(uint64_t n, int64_t now_ms);
  // Whether n tokens are there (refills first, takes nothing).
  bool has(uint64_t n, int64_t now_ms);
  // Takes n tokens even if that leaves the bucket in debt (GetRecords learns the size of a
  // response only after reading it; the debt throttles the calls that follow).
  void charge(uint64_t n, int64_t now_ms);
  // True while the level is above zero (not exhausted, not in debt).
  bool positive(int64_t now_ms);

  // Whole tokens available now (negative while in debt), for reports.
  int64_t tokens(int64_t now_ms);
  uint64_t amount() const { return amount_; }
  int64_t period_ms() const { return period_ms_; }
  uint64_t capacity() const { return capacity_; }

 private:
  void refill(int64_t now_ms);
  int64_t units(uint64_t tokens) const;

  uint64_t amount_ = 0;
  int64_t period_ms_ = 1000;
  uint64_t capacity_ = 0;
  int64_t level_ = 0;  // units; may be negative after charge()
  int64_t last_ms_ = 0;
};

}  // namespace eddy::limits
