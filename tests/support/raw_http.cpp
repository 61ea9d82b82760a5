#include "tests/support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace eddy::test {

std::ostream& operator<<(std::ostream& os, RawEnd e) {
  switch (e) {
    case RawEnd::response: return os << "response";
    case RawEnd::closed: return os << "closed";
    case RawEnd::reset: return os << "reset";
    case RawEnd::timeout: return os << "timeout";
    case RawEnd::error: return os << "error";
  }
  return os << "?";
}

namespace {

// True once `received` holds a full head and as many body bytes as its Content-Length says.
bool response_complete(const std::string& received) {
  const auto head_end = received.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  auto cl = received.find("Content-Length: ");
  if (cl == std::string::npos || cl > head_end) cl = received.find("content-length: ");
  if (cl == std::string::npos || cl > head_end) return false;
  const size_t len = std::stoul(received.substr(cl + 16));
  return received.size() >= head_end + 4 + len;
}

}  // namespace

RawExchange raw_exchange(uint16_t port, const std::string& bytes, const RawOptions& options) {
  RawExchange ex;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    ex.error = std::strerror(errno);
    return ex;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ex.error = std::strerror(errno);
    close(fd);
    return ex;
  }
  const auto start = std::chrono::steady_clock::now();
  for (size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (errno == EINTR) continue;
      ex.end = errno == ECONNRESET || errno == EPIPE ? RawEnd::reset : RawEnd::error;
      ex.error = std::strerror(errno);
      break;
    }
    sent += static_cast<size_t>(n);
  }
  if (ex.error.empty()) {
    if (options.half_close) shutdown(fd, SHUT_WR);
    char buf[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      const int r = poll(&p, 1, options.timeout_ms);
      if (r == 0) {
        ex.end = RawEnd::timeout;
        break;
      }
      const ssize_t n = r < 0 ? -1 : recv(fd, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        ex.end = errno == ECONNRESET ? RawEnd::reset : RawEnd::error;
        ex.error = std::strerror(errno);
        break;
      }
      if (n == 0) {
        ex.end = RawEnd::closed;
        break;
      }
      ex.received.append(buf, static_cast<size_t>(n));
      ++ex.reads;
      if (options.stop_at_response && response_complete(ex.received)) {
        ex.end = RawEnd::response;
        break;
      }
    }
  }
  ex.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  return ex;
}

std::string kinesis_http_request(const std::string& op, const nlohmann::json& body) {
  const std::string b = body.dump();
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "
         "Kinesis_20131202." +
         op +
         "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=00\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: " +
         std::to_string(b.size()) + "\r\n\r\n" + b;
}

}  // namespace eddy::test
