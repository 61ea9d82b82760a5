// The front end's bounds as a raw client sees them: an oversized request head is refused with
// 431, a keep-alive connection that sends nothing is closed after the idle timeout, and a
// request whose body stops arriving is closed after the request timeout.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/raw_http.h"
#include "tests/support/server_fixture.h"

namespace eddy::test {
namespace {

class HttpLimits : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.max_header_bytes = 8 * 1024;
    c.idle_timeout_s = 1;
    c.request_timeout_s = 1;
  }
  // Sends `bytes` on a new connection and returns everything the server sends until it closes
  // the connection (then `closed` is true) or 10 s pass (a broken server does not hang the test).
  std::string send_and_read_until_closed(const std::string& bytes, bool& closed) {
    auto ex = raw_exchange(app_->port(), bytes, {.stop_at_response = false});
    closed = ex.closed();
    return ex.received;
  }
};

TEST_F(HttpLimits, OversizedRequestHeadIs431AndTheConnectionCloses) {
  const std::string head = "GET /_eddy/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " +
                           std::string(16 * 1024, 'a') + "\r\n\r\n";
  bool closed = false;
  const std::string reply = send_and_read_until_closed(head, closed);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 431") << reply.substr(0, 200);
  EXPECT_TRUE(closed);
  // A head within the bound is served as usual.
  EXPECT_EQ(http("GET", "/_eddy/health", {{"X-Padding", std::string(4 * 1024, 'a')}}).status, 200);
}

TEST_F(HttpLimits, IdleKeepAliveConnectionIsClosed) {
  // One answered request, then silence: the server closes the connection (idle timeout 1 s).
  bool closed = false;
  const std::string reply = send_and_read_until_closed("GET /_eddy/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", closed);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 200") << reply.substr(0, 200);
  EXPECT_TRUE(closed);
}

TEST_F(HttpLimits, RequestWhoseBodyStallsIsClosed) {
  // A head that promises 100 bytes, then 10 of them, then silence.
  const std::string req =
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
      "X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 100\r\n\r\n{\"Limit\":1";
  bool closed = false;
  const std::string reply = send_and_read_until_closed(req, closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply, "");  // no answer to a request that never arrived whole
  // The server still serves others.
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);
}

}  // namespace
}  // namespace eddy::test
