#pragma once
// ISO 8601 timestamps as AWS writes them ("2026-12-07T11:45:00Z", "...T11:45:00.123+01:00"),
// to and from epoch time.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::client {

// Epoch milliseconds of "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]" (no zone: UTC).
std::optional<int64_t> parse_iso8601_ms(std::string_view text);
// "2026-12-07T11:45:00.123Z"
void append_iso8601_ms(int64_t epoch_ms, std::string& out);

}  // namespace eddy::client
