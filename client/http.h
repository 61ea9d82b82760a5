#pragma once
// The clients' HTTP/1.1 transport: a keep-alive connection pool over Boost.Beast (kept out of
// this header), plain TCP or TLS (OpenSSL, peer verified against the system store unless told
// not to), a connect timeout and a per-request timeout. Thread-safe: any number of threads may
// send at once; each request borrows an idle connection to its host or opens one.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::client {

using Header = std::pair<std::string, std::string>;

// "http://127.0.0.1:4566/base", "https://kinesis.eu-west-1.amazonaws.com".
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;   // explicit or the scheme's default
  std::string path;    // "" or "/base" (no trailing '/'), raw (percent-encoded)
  bool tls() const { return scheme == "https"; }
  // "host" or "host:port" when the port is not the scheme's default: the Host header.
  std::string authority() const;
  std::string str() const;  // scheme://authority + path
  static std::optional<Url> parse(std::string_view text, std::string* error = nullptr);
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{30000};  // from sending to the last byte read
  bool verify_tls = true;                            // false: --no-verify-ssl
  std::string ca_file;                               // extra CA bundle (AWS_CA_BUNDLE), optional
  std::size_t max_idle_per_host = 64;
  std::string user_agent = "eddy-client";
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";     // raw path and query as sent: "/b/k%20x?versionId=1"
  std::vector<Header> headers;  // Host is added by the client when absent
  std::string body;
  // When set, the body is streamed from this file (body must be empty); Content-Length is
  // the file's size.
  std::optional<std::filesystem::path> body_file;
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;                                                     // empty when a sink took it
  std::optional<std::string_view> header(std::string_view name) const;  // case-insensitive
};

// Receives a response body in pieces instead of HttpResponse::body. Called only when
// accept(status) is true; a false return from write aborts the transfer (error "sink").
struct BodySink {
  std::function<bool(int status)> accept;
  std::function<bool(std::string_view chunk)> write;
};

// A transport failure: could not resolve, connect, handshake (TLS verification included),
// send or read in time. message is one line: "connect 127.0.0.1:1: Connection refused".
struct TransportError {
  std::string message;
  bool timeout = false;
};

// Reserves at least n bytes in s; a large buffer (4 MiB and up: response bodies, the tail's
// output) is asked to be backed by transparent huge pages, so filling it first takes a page fault
// per 2 MiB instead of per 4 KiB (a hint: without THP it is an ordinary reserve).
void reserve_large(std::string& s, std::size_t n);

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends req to the host of `base` (base.path is NOT prefixed: targets are complete).
  // Returns false with *error on a transport failure. A connection taken from the pool that
  // turns out closed by the peer before any response byte is retried once on a fresh one.
  bool send(const Url& base, const HttpRequest& req, HttpResponse& resp, TransportError* error,
            const BodySink* sink = nullptr);

  const HttpOptions& options() const { return options_; }
  // Connections opened so far (tests check keep-alive reuse with it).
  uint64_t connections_opened() const;

 private:
  struct Impl;
  HttpOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::client
