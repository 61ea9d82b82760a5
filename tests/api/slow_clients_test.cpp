// Slow and greedy clients against the HTTP/1.1 front end (docs/reliability.md, "Slow and greedy
// clients"): a slowloris head, a trickling body and a reader that never reads are closed at
// their deadlines while a normal client keeps being answered; idle connections up to
// --max-connections are held, the next one is answered 503 and closed, connections already open
// are still served, and the idle timeout frees the rest. Deadlines are short settings (1 s);
// outcomes are polled for with a bounded wait, never slept for.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
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

}  // namespace
}  // namespace eddy::test
