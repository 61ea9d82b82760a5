// Slow and greedy clients against the HTTP/1.1 front end (docs/reliability.md, "Slow and greedy
// clients"): a slowloris head, a trickling body and a reader that never reads are closed at
// their deadlines while a normal client keeps being answered; idle connections up to
// --max-connections are held, the next one is answered 503 and closed, connections already open
// are still served, and the idle timeout frees the rest. Deadlines are short settings (1 s);
// outcomes are polled for with a bounded wait, never slept for.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/http/server.h"
#include "tests/support/raw_http.h"
#include "tests/support/server_fixture.h"
#include "tests/support/tls_cert.h"

namespace eddy::test {
namespace {

using namespace std::chrono_literals;

// A client socket to eddy on 127.0.0.1; closed with the object.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port, int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawSocket() {
    if (fd_ >= 0) close(fd_);
  }
  RawSocket(RawSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send_all(const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads what is there within `wait`; false once the server has closed (EOF or reset).
  bool still_open(std::chrono::milliseconds wait, std::string* received = nullptr) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return true;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    if (received) received->append(buf, static_cast<size_t>(n));
    return true;
  }

 private:
  int fd_ = -1;
};

// Polls `done` until it holds or `limit` passes (a broken server does not hang the test).
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);  // the poll's pace, not a timing assumption
  }
  return done();
}

const std::string kHealth = "GET /_eddy/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

class SlowClients : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "off";
    c.idle_timeout_s = 60;  // longer than any wait here: what closes a connection is the rule under test
    c.header_timeout_s = 1;
    c.request_timeout_s = 1;
    c.body_min_rate = 1000;
  }
  size_t open() const { return app_->server()->open_connections(); }
  // A normal client's request on a fresh connection: its status.
  int normal_request() { return http("GET", "/_eddy/health").status; }
  // Sends bytes[from..] one byte at a time, `gap` apart, while the connection stays open (for
  // 10 s at most), checking at every third byte that a normal client is served meanwhile.
  // Returns how far it got.
  size_t trickle(RawSocket& s, const std::string& bytes, size_t from, std::chrono::milliseconds gap,
                 std::string& received) {
    size_t sent = from;
    bool open = true;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (open && sent < bytes.size() && std::chrono::steady_clock::now() < end) {
      open = s.still_open(gap, &received) && s.send_all(bytes.substr(sent++, 1));
      if (sent % 3 == 0) {
        EXPECT_EQ(normal_request(), 200);
      }
    }
    return sent;
  }
};

// A slowloris client sends a header line every 100 ms, each well within every per-read
// deadline: the head as a whole is cut off at --header-timeout (the idle timeout is a minute).
TEST_F(SlowClients, SlowlorisHeadIsClosedAtTheHeaderTimeout) {
  RawSocket s(app_->port());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.send_all("GET /_eddy/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  std::string received;
  int lines = 0;
  bool open = true;
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (open && std::chrono::steady_clock::now() < end) {
    open = s.still_open(100ms, &received) && s.send_all("X-Slow-" + std::to_string(lines++) + ": a\r\n");
    if (lines % 3 == 0) {
      EXPECT_EQ(normal_request(), 200);  // others are served meanwhile
    }
  }
  EXPECT_FALSE(open) << "a head trickled for 10 s was not cut off";
  EXPECT_EQ(received, "");  // no answer to a request that never arrived whole
  EXPECT_EQ(normal_request(), 200);
}

// A body of 1,000 bytes at one byte per 100 ms: every piece comes within --request-timeout,
// but the body falls behind --body-min-rate (1,000 B/s after 1 s of grace) and is cut off.
TEST_F(SlowClients, TricklingBodyIsClosedBelowTheMinimumRate) {
  RawSocket s(app_->port());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.send_all("PUT /trickle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"));
  std::string received;
  bool open = true;
  int sent = 0;
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (open && sent < 1000 && std::chrono::steady_clock::now() < end) {
    open = s.still_open(100ms, &received) && s.send_all("x");
    ++sent;
    if (sent % 3 == 0) {
      EXPECT_EQ(normal_request(), 200);
    }
  }
  EXPECT_FALSE(open) << "a body trickled at 10 B/s was not cut off (" << sent << " bytes sent)";
  EXPECT_LT(sent, 1000);
  EXPECT_EQ(received, "");
  EXPECT_EQ(normal_request(), 200);
}

// A client that asks for 8 MiB and never reads: once the socket buffers are full the write
// makes no progress, and the connection is closed after --request-timeout.
TEST_F(SlowClients, ReaderThatNeverReadsIsClosedAtTheWriteDeadline) {
  ASSERT_EQ(http("PUT", "/big").status, 200);
  ASSERT_EQ(http("PUT", "/big/object", {}, std::string(8 * 1024 * 1024, 'b')).status, 200);
  const size_t before = open();
  RawSocket s(app_->port(), 4096);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.send_all("GET /big/object HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return open() == before + 1; }));
  // Others are answered while it stalls, and then it is gone.
  EXPECT_EQ(normal_request(), 200);
  EXPECT_TRUE(eventually([&] { return open() <= before; })) << open() << " connections still open";
  // What the reader finds at last: part of the body, then the end.
  std::string received;
  bool still = true;
  for (int i = 0; still && i < 1000; ++i) still = s.still_open(1000ms, &received);
  EXPECT_FALSE(still);
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_LT(received.size(), 8u * 1024 * 1024);
}

// Idle connections up to the cap are held; the next is answered 503 and closed (and counted);
// a client whose connection was already open keeps being served; the idle timeout frees them.
class GreedyClients : public ServerFixture {
 protected:
  static constexpr size_t kCap = 2000;
  void configure(Config& c) override {
    c.auth = "off";
    c.idle_timeout_s = 10;  // longer than opening kCap connections takes on a loaded machine
    c.max_connections = kCap;
  }
  size_t open() const { return app_->server()->open_connections(); }
};

TEST_F(GreedyClients, CapHoldsWithA503AndOthersAreServed) {
  EXPECT_EQ(app_->max_connections(), kCap);
  // A client already connected (it sends a request now and then: it does not fall idle).
  RawSocket regular(app_->port());
  ASSERT_TRUE(regular.ok());
  // One request and its whole response (by Content-Length).
  auto ask = [&regular] {
    std::string got;
    if (!regular.send_all(kHealth)) return got;
    auto complete = [&got] {
      const size_t end = got.find("\r\n\r\n");
      const size_t cl = got.find("Content-Length: ");
      return end != std::string::npos && cl != std::string::npos && cl < end &&
             got.size() >= end + 4 + std::stoul(got.substr(cl + 16));
    };
    for (int i = 0; i < 100 && !complete(); ++i)
      if (!regular.still_open(100ms, &got)) break;
    return got;
  };
  ASSERT_EQ(ask().rfind("HTTP/1.1 200", 0), 0u);
  ASSERT_TRUE(eventually([&] { return open() == 1; })) << open();

  // Idle connections until the cap is reached (some of the last may already be refused).
  std::vector<RawSocket> idle;
  idle.reserve(kCap);
  for (size_t i = 0; i + 1 < kCap; ++i) {
    idle.emplace_back(app_->port());
    ASSERT_TRUE(idle.back().ok()) << "connection " << i;
    if (i % 250 == 0) {
      ASSERT_EQ(ask().rfind("HTTP/1.1 200", 0), 0u);
    }
  }
  ASSERT_TRUE(eventually([&] { return open() == kCap; })) << open() << " of " << kCap;

  // One more: a clean refusal, counted.
  auto refused = raw_exchange(app_->port(), kHealth, {.stop_at_response = false, .half_close = true});
  EXPECT_EQ(refused.received.rfind("HTTP/1.1 503", 0), 0u) << refused.received.substr(0, 200);
  EXPECT_NE(refused.received.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(refused.received.find("--max-connections"), std::string::npos);
  EXPECT_TRUE(refused.closed()) << refused.end;
  EXPECT_GE(app_->server()->refused_connections(), 1u);

  // The connected client is still answered, with the figures in /_eddy/health.
  const std::string health = ask();
  ASSERT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health.substr(0, 200);
  const auto body = nlohmann::json::parse(health.substr(health.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["connections"]["max"], kCap);
  EXPECT_GE(body["connections"]["refused"].get<uint64_t>(), 1u);

  // The idle timeout (10 s) frees the idle ones; then new connections are served again.
  EXPECT_TRUE(eventually([&] { return open() <= 1; }, 30s)) << open() << " still open";
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);
}

// Over the cap on the TLS listener: the handshake, then the same 503 (HTTP/1.1), or for a client
// that chose h2 by ALPN the server's SETTINGS and a GOAWAY with REFUSED_STREAM.
class GreedyTlsClients : public ServerFixture {
 protected:
  static constexpr size_t kCap = 2;
  void configure(Config& c) override {
    c.auth = "off";
    c.idle_timeout_s = 60;
    c.max_connections = kCap;
    use_self_signed_tls(temp_dir("greedy-tls"), c);
  }
  size_t open() const { return app_->server()->open_connections(); }

  // One TLS connection (ALPN `alpn`, wire format), `send` after the handshake, then everything
  // until the server closes or the refusal is complete (bounded): what it answered. Empty if the handshake failed.
  std::string tls_exchange(const std::string& alpn, const std::string& send) {
    RawSocket sock(app_->tls_port());
    if (!sock.ok()) return "";
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, sock.fd());
    std::string got;
    if (SSL_connect(ssl) == 1) {
      got = "handshake\n";
      SSL_write(ssl, send.data(), static_cast<int>(send.size()));
      char buf[4096];
      for (int i = 0; i < 100; ++i) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
        // The refusal's text ends both refusals (the server would wait for our close).
        if (got.find("retry later\n") != std::string::npos) break;
      }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return got;
  }
};

TEST_F(GreedyTlsClients, RefusedAfterTheHandshakeWithA503OrAGoaway) {
  // The cap filled by plain connections (both listeners count against it).
  std::vector<RawSocket> idle;
  for (size_t i = 0; i < kCap; ++i) {
    idle.emplace_back(app_->port());
    ASSERT_TRUE(idle.back().ok());
  }
  ASSERT_TRUE(eventually([&] { return open() == kCap; })) << open();

  const std::string http11 = tls_exchange(std::string("\x08http/1.1", 9), kHealth);
  ASSERT_EQ(http11.rfind("handshake\nHTTP/1.1 503", 0), 0u) << http11.substr(0, 200);
  EXPECT_NE(http11.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(http11.find("--max-connections"), std::string::npos);

  const std::string h2 = tls_exchange(std::string("\x02h2", 3), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  ASSERT_EQ(h2.rfind("handshake\n", 0), 0u) << h2;
  const std::string frames = h2.substr(10);
  // SETTINGS (empty), then GOAWAY: last stream 0, REFUSED_STREAM (7), the text.
  ASSERT_GE(frames.size(), 9u + 9u + 8u);
  EXPECT_EQ(frames.substr(0, 9), std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9));
  EXPECT_EQ(frames[12], '\x07');  // GOAWAY
  EXPECT_EQ(frames.substr(18, 8), std::string("\x00\x00\x00\x00\x00\x00\x00\x07", 8));
  EXPECT_NE(frames.find("--max-connections"), std::string::npos);
  EXPECT_GE(app_->server()->refused_connections(), 2u);

  // Below the cap again, TLS connections are served.
  idle.clear();
  ASSERT_TRUE(eventually([&] { return open() == 0; })) << open();
  const std::string served = tls_exchange(std::string("\x08http/1.1", 9),
                                          "GET /_eddy/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(served.rfind("handshake\nHTTP/1.1 200", 0), 0u) << served.substr(0, 200);
}

// ---- HTTP/2 (prior knowledge): the same flags, HTTP/2's way ------------------------------
// (docs/reliability.md, "Slow and greedy clients"; the frames are written by hand so that a test
// can stop anywhere inside one.)

// A frame: the 9-byte header, then the payload.
std::string h2_frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  const size_t n = payload.size();
  std::string f{char(n >> 16), char(n >> 8), char(n), char(type), char(flags),
                char(stream >> 24), char(stream >> 16), char(stream >> 8), char(stream)};
  return f + payload;
}
constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kPing = 6, kGoaway = 7;
constexpr uint8_t kEndStream = 1, kEndHeaders = 4, kAck = 1;
const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A request's header block: HPACK literals without indexing (RFC 7541 6.2.2) on static-table
// names (:authority 1, :method 2, :path 4, content-length 28) and :scheme http (6), indexed.
std::string h2_request_block(const std::string& method, const std::string& path, int content_length = -1,
                             const std::string& padding = "") {
  auto literal = [](std::string name_index, const std::string& value) {
    return name_index + char(value.size()) + value;
  };
  std::string b = literal("\x02", method) + "\x86" + literal("\x04", path) + literal("\x01", "127.0.0.1");
  if (content_length >= 0) b += literal("\x0f\x0d", std::to_string(content_length));
  if (!padding.empty()) b += std::string("\x00\x05x-pad", 7) + char(padding.size()) + padding;
  return b;
}

struct H2Frame {
  uint8_t type = 0, flags = 0;
  uint32_t stream = 0;
  std::string payload;
};
// The whole frames in what the server sent.
std::vector<H2Frame> h2_frames(const std::string& bytes) {
  std::vector<H2Frame> out;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  for (size_t p = 0; p + 9 <= bytes.size();) {
    const size_t n = (size_t{byte(p)} << 16) | (size_t{byte(p + 1)} << 8) | byte(p + 2);
    if (p + 9 + n > bytes.size()) break;
    H2Frame f{byte(p + 3), byte(p + 4),
              (uint32_t{byte(p + 5)} << 24 | uint32_t{byte(p + 6)} << 16 | uint32_t{byte(p + 7)} << 8 | byte(p + 8)) &
                  0x7fffffffu,
              bytes.substr(p + 9, n)};
    out.push_back(std::move(f));
    p += 9 + n;
  }
  return out;
}
bool has_frame(const std::string& bytes, uint8_t type, uint32_t stream = 0) {
  for (const auto& f : h2_frames(bytes))
    if (f.type == type && f.stream == stream) return true;
  return false;
}

// A prior-knowledge preface sent a byte at a time is cut off at --header-timeout (the idle
// timeout is a minute); so is a whole preface whose SETTINGS frame never follows.
TEST_F(SlowClients, H2PrefaceAndSettingsMustArriveWithinTheHeaderTimeout) {
  {
    RawSocket s(app_->port());
    ASSERT_TRUE(s.ok());
    std::string received;
    const size_t sent = trickle(s, kPreface, 0, 200ms, received);
    // The last byte may still have been taken; nothing after it was.
    EXPECT_TRUE(eventually([&] { return !s.still_open(100ms, &received); })) << "a trickled preface was not cut off";
    EXPECT_LT(sent, kPreface.size());
    EXPECT_EQ(received, "");
  }
  {
    RawSocket s(app_->port());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s.send_all(kPreface));
    std::string received;
    EXPECT_TRUE(eventually([&] { return !s.still_open(100ms, &received); }))
        << "a preface without SETTINGS held the connection";
    EXPECT_TRUE(has_frame(received, kSettings));  // the server's own SETTINGS went out
    EXPECT_FALSE(has_frame(received, kHeaders, 1));
  }
  EXPECT_EQ(normal_request(), 200);
}

// A request's HEADERS frame whose header block comes a byte every 100 ms: at --header-timeout
// (each byte well within --request-timeout) the connection gets a GOAWAY and is closed.
TEST_F(SlowClients, H2HeaderBlockTrickledGetsAGoawayAtTheHeaderTimeout) {
  RawSocket s(app_->port());
  ASSERT_TRUE(s.ok());
  const std::string block = h2_request_block("GET", "/_eddy/health", -1, std::string(40, 'a'));
  const std::string frame = h2_frame(kHeaders, kEndHeaders | kEndStream, 1, block);
  ASSERT_TRUE(s.send_all(kPreface + h2_frame(kSettings, 0, 0, "") + frame.substr(0, 9)));
  std::string received;
  const size_t sent = trickle(s, frame, 9, 100ms, received);
  EXPECT_TRUE(eventually([&] { return !s.still_open(100ms, &received); })) << "a trickled head was not cut off";
  EXPECT_LT(sent, frame.size());
  EXPECT_TRUE(has_frame(received, kGoaway)) << received.size() << " bytes received";
  EXPECT_FALSE(has_frame(received, kHeaders, 1));  // no answer to a request that never arrived whole
  EXPECT_EQ(normal_request(), 200);
}

// A request body of 1,000 bytes in 1-byte DATA frames every 100 ms: each within
// --request-timeout, but behind --body-min-rate after its grace. That stream alone is reset
// (RST_STREAM CANCEL), nothing is stored, and the connection goes on (a PING is answered).
TEST_F(SlowClients, H2TricklingBodyIsResetBelowTheMinimumRate) {
  RawSocket s(app_->port());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.send_all(kPreface + h2_frame(kSettings, 0, 0, "") +
                         h2_frame(kHeaders, kEndHeaders, 1, h2_request_block("PUT", "/h2trickle", 1000))));
  std::string received;
  int sent = 0;
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (sent < 1000 && !has_frame(received, kRstStream, 1) && std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(s.still_open(100ms, &received) && s.send_all(h2_frame(kData, 0, 1, "x")));
    ++sent;
    if (sent % 3 == 0) {
      EXPECT_EQ(normal_request(), 200);
    }
  }
  ASSERT_TRUE(eventually([&] { return has_frame(received, kRstStream, 1) || !s.still_open(100ms, &received); }));
  EXPECT_LT(sent, 1000);
  bool reset = false;
  for (const auto& f : h2_frames(received))
    if (f.type == kRstStream && f.stream == 1) {
      reset = true;
      EXPECT_EQ(f.payload, std::string("\x00\x00\x00\x08", 4));  // CANCEL
    }
  EXPECT_TRUE(reset);
  EXPECT_FALSE(has_frame(received, kHeaders, 1));
  // The connection is still served.
  ASSERT_TRUE(s.send_all(h2_frame(kPing, 0, 0, "12345678")));
  EXPECT_TRUE(eventually([&] {
    s.still_open(100ms, &received);
    for (const auto& f : h2_frames(received))
      if (f.type == kPing && (f.flags & kAck) && f.payload == "12345678") return true;
    return false;
  }));
  EXPECT_EQ(http("HEAD", "/h2trickle").status, 404);  // the bucket was not created
  EXPECT_EQ(normal_request(), 200);
}

}  // namespace
}  // namespace eddy::test
