#pragma once
// The HTTP/1.1 front end (Boost.Beast, C++20 coroutines). Beast stays inside server.cpp:
// this header is cheap to include.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/http/message.h"

namespace eddy::http {

struct ServerOptions {
  unsigned threads = 0;                 // 0: std::thread::hardware_concurrency()
  size_t max_header_bytes = 64 * 1024;
  int idle_timeout_s = 120;             // keep-alive connection with no request
  int request_timeout_s = 300;          // each read of a body / write of a response must progress within
  // Slow and greedy clients (docs/reliability.md, "Slow and greedy clients"):
  int header_timeout_s = 20;            // a whole request head, from its first byte (slowloris)
  // A body must keep up this average rate (bytes/s) after a first request_timeout_s of grace:
  // its deadline is start + request_timeout_s + received / body_min_rate. 0: no minimum.
  uint64_t body_min_rate = 1024;
  // Open connections beyond which a new one is answered 503 and closed (TLS: closed). 0: no cap.
  size_t max_connections = 0;
  int shutdown_grace_s = 10;
  // The time the Date header tells (epoch ms); unset: the system clock. eddy passes its one
  // clock, so under --clock manual an SDK that corrects its skew from Date signs with it.
  std::function<int64_t()> now_ms;
};

struct TlsOptions {
  std::string cert_file;  // PEM chain
  std::string key_file;   // PEM private key
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting (once run() has started threads). Port 0 picks an ephemeral
  // port; the bound port is returned. Throws std::runtime_error when the address is taken.
  uint16_t listen(const std::string& host, uint16_t port, Handler& handler);
  uint16_t listen_tls(const std::string& host, uint16_t port, Handler& handler, const TlsOptions& tls);

  // Starts the worker threads; returns at once.
  void start();
  // Graceful stop: stop accepting, let in-flight requests finish (up to the grace period),
  // close idle keep-alive connections, join the threads. Safe to call twice.
  void stop();
  // Blocks until SIGINT or SIGTERM arrives, then stop().
  void wait_for_signal();

  size_t open_connections() const;
  // Connections refused at max_connections since start.
  uint64_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::http
