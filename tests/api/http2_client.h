#pragma once
// A small blocking HTTP/2 client on libnghttp2 for the HTTP/2 API tests: prior knowledge,
// h2c via Upgrade, or TLS with ALPN; many streams on one connection; per-stream control of
// the flow-control window (a stalled stream is one whose window the client never reopens).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

// libnghttp2 and OpenSSL stay in http2_client.cpp.
struct nghttp2_session;
struct ssl_ctx_st;
struct ssl_st;

namespace eddy::test {

struct H2Response {
  int status = 0;
  std::vector<int> informational;           // 1xx statuses received before the final one
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool done = false;       // END_STREAM received
  bool closed = false;     // the stream is closed (done, or reset)
  uint32_t error_code = 0; // RST_STREAM's code when reset
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class H2Client {
 public:
  enum class Mode { prior_knowledge, upgrade, tls };
  using Fields = std::vector<std::pair<std::string, std::string>>;

  // Connects; for prior_knowledge and tls the HTTP/2 session starts at once. For upgrade the
  // first request goes through upgrade() below.
  // `assume_peer_streams`: the server's SETTINGS_MAX_CONCURRENT_STREAMS until its SETTINGS
  // arrive (nghttp2 assumes 100), so a test can open more streams than the server allows.
  H2Client(uint16_t port, Mode mode, uint32_t assume_peer_streams = 0);
  ~H2Client();
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  bool ok() const { return fd_ >= 0 && session_ != nullptr; }
  const std::string& alpn() const { return alpn_; }
  // The HTTP/1.1 reply to an upgrade request, up to the end of its head.
  const std::string& upgrade_head() const { return upgrade_head_; }

  // Mode::upgrade: sends `method path` as an HTTP/1.1 request with Upgrade: h2c; on 101 the
  // session starts and the response arrives on stream 1 (returned); else ok() is false.
  H2Response upgrade(const std::string& method, const std::string& path, const Fields& headers = {},
                     const std::string& body = {});

  // While set, submit() queues requests without sending them; the next run_until() sends all
  // of them in one write (so that the server reads them together).
  bool defer_send = false;
  // While set, submit() sends HEADERS only, without END_STREAM (the request's body never comes).
  bool leave_open = false;

  // Starts a request; returns its stream id. `authority` defaults to 127.0.0.1:port.
  int32_t submit(const std::string& method, const std::string& path, const Fields& headers = {},
                 std::string body = {});
  // Runs the connection until `done` holds, the connection closes, or 20 s pass (a broken
  // server does not hang the test). Returns done().
  bool run_until(const std::function<bool()>& done);
  // Submits and waits for one response.
  H2Response request(const std::string& method, const std::string& path, const Fields& headers = {},
                     std::string body = {});

  H2Response& response(int32_t id) { return responses_[id]; }
  // The client stops reopening this stream's window (its reader is "slow").
  void stall(int32_t id) { stalled_.insert(id); }
  // Reopens it, by the bytes received so far.
  void unstall(int32_t id);
  // Cancels a stream (RST_STREAM CANCEL).
  void reset(int32_t id);
  // Bytes received on a stream so far (its body, also while stalled).
  size_t received(int32_t id) { return responses_[id].body.size(); }

  bool goaway() const { return goaway_; }
  int32_t goaway_last_stream() const { return goaway_last_; }
  uint32_t goaway_error() const { return goaway_error_; }
  bool connection_closed() const { return closed_; }
  // Largest number of streams the server allowed at once (SETTINGS_MAX_CONCURRENT_STREAMS).
  uint32_t max_concurrent_streams() const;

 private:
  bool start_session(bool upgraded, const std::string& settings_payload, bool head);
  bool send_pending();
  bool read_some(int timeout_ms);
  long raw_write(const char* p, size_t n);
  long raw_read(char* p, size_t n);

  friend struct H2ClientCallbacks;  // nghttp2's callbacks (http2_client.cpp)

  uint16_t port_;
  Mode mode_;
  uint32_t assume_peer_streams_ = 0;
  int fd_ = -1;
  ::ssl_ctx_st* ctx_ = nullptr;
  ::ssl_st* ssl_ = nullptr;
  std::string alpn_;
  std::string upgrade_head_;
  std::string leftover_;  // bytes read past the 101 head
  ::nghttp2_session* session_ = nullptr;
  std::map<int32_t, H2Response> responses_;
  std::map<int32_t, std::shared_ptr<std::string>> bodies_;
  std::map<int32_t, size_t> body_pos_;
  std::map<int32_t, size_t> unconsumed_;
  std::set<int32_t> stalled_;
  bool goaway_ = false;
  int32_t goaway_last_ = -1;
  uint32_t goaway_error_ = 0;
  bool closed_ = false;
};

}  // namespace eddy::test
