#pragma once
// A quota of N calls per rolling window ("ten times per rolling 24-hour period"): a call is
// allowed when fewer than N calls were allowed in the window that ends now, i.e. in
// (now - window, now]. Unlike a token bucket nothing refills early: the (N+1)th call waits until
// the oldest of the N is a full window old. The clock is passed in, as for TokenBucket.
#include <algorithm>
#include <cstdint>
#include <deque>

namespace eddy::limits {

class RollingWindow {
 public:
  RollingWindow(uint64_t max_calls, int64_t window_ms) : max_(max_calls), window_ms_(window_ms) {}

  bool try_take(int64_t now_ms) {
    while (!calls_.empty() && calls_.front() <= now_ms - window_ms_) calls_.pop_front();
    if (calls_.size() >= max_) return false;
    // A clock that went backwards must not let old calls fall out early: keep times sorted.
    calls_.push_back(calls_.empty() ? now_ms : std::max(now_ms, calls_.back()));
    return true;
  }

  size_t in_window() const { return calls_.size(); }

 private:
  uint64_t max_;
  int64_t window_ms_;
  std::deque<int64_t> calls_;  // times of the allowed calls still in the window, oldest first
};

}  // namespace eddy::limits
