#pragma once
// The one raw-socket helper the tests use: send bytes exactly as given on a fresh connection to
// 127.0.0.1 and collect what comes back and how the connection ended. For requests no HTTP
// client would send (oversized heads, idle keep-alive, faults that drop or reset).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace eddy::test {

enum class RawEnd {
  response,  // a complete response (by Content-Length) arrived and stop_at_response was set
  closed,    // the peer closed the connection (EOF)
  reset,     // the peer reset the connection
  timeout,   // nothing more arrived within timeout_ms
  error,     // connect/send/recv failed otherwise (see RawExchange::error)
};
std::ostream& operator<<(std::ostream& os, RawEnd e);

struct RawOptions {
  bool stop_at_response = true;  // stop once one response with a Content-Length body is in
  bool half_close = false;       // shut down the sending side after the bytes
  int timeout_ms = 10'000;       // a broken server does not hang the test
};

struct RawExchange {
  std::string received;  // every byte before the exchange ended
  RawEnd end = RawEnd::error;
  std::string error;  // strerror text when end is reset or error
  int64_t elapsed_ms = 0;  // from the first byte sent to the end
  size_t reads = 0;        // non-empty reads (a slow drip shows up as many)
  bool closed() const { return end == RawEnd::closed || end == RawEnd::reset; }
};

RawExchange raw_exchange(uint16_t port, const std::string& bytes, const RawOptions& options = {});

// A signed-looking (auth is off in tests) Kinesis JSON 1.1 request, as bytes.
std::string kinesis_http_request(const std::string& op, const nlohmann::json& body);

}  // namespace eddy::test
