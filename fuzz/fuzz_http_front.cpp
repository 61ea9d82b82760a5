// The HTTP front end itself: the input is written to a real connection to the in-memory App's
// listener (fuzz/in_process.h), then the client half-closes and reads until the server closes.
// First byte even: the rest is HTTP/1.1 as sent (request heads, Content-Length and chunked
// framing, Expect: 100-continue, several requests kept alive in a row); odd: the HTTP/2
// connection preface, then the rest as frames. Either way the requests reach the real Router
// (Kinesis, S3, admin). Findings: a crash or sanitizer report anywhere in the process, an
// HTTP/1.1 answer that is not a status line, or a connection the server does not close within
// 10 s of the client's end (a hang).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/in_process.h"
#include "server/kinesis/kinesis_service.h"

using namespace eddy;

namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

uint16_t port() {
  static const uint16_t p = [] {
    auto& app = fuzz::app();
    // A stream and a bucket for the requests to find.
    http::Request r;
    r.method = "POST";
    r.target = r.path = "/";
    r.headers.add("Content-Type", "application/x-amz-json-1.1");
    r.headers.add("X-Amz-Target", "Kinesis_20131202.CreateStream");
    r.body = R"({"StreamName":"fuzz","ShardCount":2})";
    if (app.kinesis().handle(r).status != 200) std::abort();
    return app.port();
  }();
  return p;
}

[[noreturn]] void finding(const char* what, const std::string& got) {
  std::fprintf(stderr, "%s; received %zu bytes: %.300s\n", what, got.size(), got.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint16_t p = port();
  const bool h2 = (data[0] & 1) != 0;
  std::string bytes = h2 ? std::string(kPreface, sizeof kPreface - 1) : std::string();
  bytes.append(reinterpret_cast<const char*>(data) + 1, size - 1);

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(p);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  // Written while reading, so that a server answering early never blocks on a full socket.
  std::string got;
  size_t sent = 0;
  bool half_closed = false;
  char buf[65536];
  for (;;) {
    if (sent == bytes.size() && !half_closed) {
      ::shutdown(fd, SHUT_WR);
      half_closed = true;
    }
    pollfd pfd{fd, static_cast<short>(POLLIN | (half_closed ? 0 : POLLOUT)), 0};
    const int ready = ::poll(&pfd, 1, 10'000);
    if (ready == 0) finding("the server neither answered nor closed within 10 s", got);
    if (pfd.revents & POLLIN || pfd.revents & (POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;  // closed (or reset)
      if (got.size() < (1u << 20)) got.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (pfd.revents & POLLOUT) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {  // the server closed first: it may have refused the rest
        sent = bytes.size();
        half_closed = true;
        continue;
      }
      sent += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  static const bool verbose = std::getenv("EDDY_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s, %zu bytes back: %.200s\n", h2 ? "h2" : "http/1.1", got.size(), got.c_str());
  // Bytes that begin with the preface themselves are HTTP/2 with prior knowledge: h2 frames back.
  const bool preface_sent = h2 || bytes.compare(0, sizeof kPreface - 1, kPreface) == 0;
  if (!preface_sent && !got.empty() && got.rfind("HTTP/1.", 0) != 0)
    finding("an HTTP/1.1 answer without a status line", got);
  return 0;
}
