#pragma once
// Calendar time in UTC, for the date parsers of bucket policies (policy.cpp) and object lock
// (s3_lock.cpp).
#include <cstdint>
#include <ctime>

namespace eddy::s3 {

// Seconds since the epoch of a UTC calendar time (month 1-12; out-of-range fields carry over
// as timegm's do).
inline int64_t utc_seconds(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace eddy::s3
