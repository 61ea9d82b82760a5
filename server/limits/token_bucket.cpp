#include "server/limits/token_bucket.h"

#include <algorithm>
#include <limits>

namespace eddy::limits {

namespace {
constexpr int64_t kMaxUnits = std::numeric_limits<int64_t>::max() / 4;

int64_t saturating_mul(uint64_t a, uint64_t b) {
  if (a != 0 && b > static_cast<uint64_t>(kMaxUnits) / a) return kMaxUnits;
  return static_cast<int64_t>(a * b);
}
}  // namespace

TokenBucket::TokenBucket(uint64_t amount, int64_t period_ms, uint64_t capacity, int64_t now_ms)
    : amount_(amount), period_ms_(std::max<int64_t>(1, period_ms)), capacity_(capacity), last_ms_(now_ms) {
  level_ = units(capacity_);
}

int64_t TokenBucket::units(uint64_t tokens) const { return saturating_mul(tokens, static_cast<uint64_t>(period_ms_)); }

void TokenBucket::refill(int64_t now_ms) {
  // A clock set backwards adds nothing and does not move the reference point back, so the
  // same interval is never credited twice.
  if (now_ms <= last_ms_) return;
  const int64_t cap = units(capacity_);
  const int64_t elapsed = now_ms - last_ms_;
  last_ms_ = now_ms;
  if (level_ >= cap) return;
  const int64_t add = saturating_mul(static_cast<uint64_t>(elapsed), amount_);
  level_ = (add >= cap - level_) ? cap : level_ + add;
}

bool TokenBucket::try_take(uint64_t n, int64_t now_ms) {
  refill(now_ms);
  const int64_t need = units(n);
  if (level_ < need) return false;
  level_ -= need;
  return true;
}

bool TokenBucket::has(uint64_t n, int64_t now_ms) {
  refill(now_ms);
  return level_ >= units(n);
}

void TokenBucket::charge(uint64_t n, int64_t now_ms) {
  refill(now_ms);
  level_ = std::max(-kMaxUnits, level_ - units(n));
}

bool TokenBucket::positive(int64_t now_ms) {
  refill(now_ms);
  return level_ > 0;
}

int64_t TokenBucket::tokens(int64_t now_ms) {
  refill(now_ms);
  // Round toward negative infinity so a bucket in debt never reports 0.
  const int64_t p = period_ms_;
  return level_ >= 0 ? level_ / p : -((-level_ + p - 1) / p);
}

}  // namespace eddy::limits
