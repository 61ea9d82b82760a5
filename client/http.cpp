#include "client/http.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <sys/mman.h>

namespace eddy::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

}  // namespace

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) h += ":" + std::to_string(port);
  return h;
}

std::string Url::str() const {
  return scheme + "://" + authority() + path;
}

std::optional<Url> Url::parse(std::string_view text, std::string* error) {
  auto bad = [&](const std::string& why) -> std::optional<Url> {
    if (error) *error = "invalid URL '" + std::string(text) + "': " + why;
    return std::nullopt;
  };
  Url u;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("expected http:// or https://");
  u.scheme = std::string(text.substr(0, sep));
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  std::string_view auth = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.path = std::string(path);
  if (auto at = auth.rfind('@'); at != std::string_view::npos) return bad("user information is not supported");
  std::string_view host = auth, port;
  if (!auth.empty() && auth.front() == '[') {
    auto close = auth.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = auth.substr(1, close - 1);
    if (close + 1 < auth.size()) {
      if (auth[close + 1] != ':') return bad("junk after ']'");
      port = auth.substr(close + 2);
    }
  } else if (auto colon = auth.rfind(':'); colon != std::string_view::npos) {
    host = auth.substr(0, colon);
    port = auth.substr(colon + 1);
  }
  if (host.empty()) return bad("no host");
  u.host = std::string(host);
  u.port = default_port(u.scheme);
  if (!port.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || ptr != port.data() + port.size() || p == 0 || p > 65535) return bad("bad port");
    u.port = static_cast<uint16_t>(p);
  }
  return u;
}

void reserve_large(std::string& s, std::size_t n) {
  if (s.capacity() >= n) return;
  s.reserve(n);
#ifdef MADV_HUGEPAGE
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  if (n < 2 * kHuge) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(s.data()) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(s.data()) + s.capacity()) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

// One connection and the io_context that runs its operations: every operation is started
// asynchronously under the stream's deadline and run to completion here, which gives the
// synchronous API its timeouts.
struct Connection {
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

  template <typename Start>
  error_code run(Start&& start) {
    error_code result = asio::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }
};

struct HttpClient::Impl {
  ssl::context tls_ctx{ssl::context::tls_client};
  // The system's CA store is read when the first TLS connection opens, not before: loading it
  // costs tens of milliseconds that a plain-HTTP client (eddy on localhost) never needs.
  std::once_flag tls_ready;
  std::mutex mu;
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle;
  uint64_t opened = 0;
};

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
  impl_->tls_ctx.set_verify_mode(options_.verify_tls ? ssl::verify_peer : ssl::verify_none);
}

HttpClient::~HttpClient() = default;

uint64_t HttpClient::connections_opened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->opened;
}

namespace {

std::string pool_key(const Url& u) {
  return u.scheme + "://" + u.host + ":" + std::to_string(u.port);
}

std::string describe(const error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  std::string m = ec.message();
  // OpenSSL's messages carry the library and reason; a failed verification says so.
  if (ec.category() == asio::error::get_ssl_category()) m = "TLS: " + m;
  return m;
}

std::unique_ptr<Connection> open_connection(const Url& url, ssl::context& ctx, const HttpOptions& o,
                                            TransportError* error) {
  auto c = std::make_unique<Connection>();
  auto fail = [&](const std::string& what, const error_code& ec) {
    if (error) {
      error->message = what + " " + url.authority() + ": " + describe(ec);
      error->timeout = ec == beast::error::timeout;
    }
    return nullptr;
  };
  tcp::resolver resolver(c->ioc);
  tcp::resolver::results_type endpoints;
  error_code ec = c->run([&](auto handler) {
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&endpoints, handler](error_code e, tcp::resolver::results_type r) mutable {
                             endpoints = std::move(r);
                             handler(e);
                           });
  });
  if (ec) return fail("resolve", ec);
  if (url.tls()) {
    c->tls.emplace(c->ioc, ctx);
    if (!SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str()))
      return fail("tls", error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
    if (o.verify_tls) c->tls->set_verify_callback(ssl::host_name_verification(url.host));
  } else {
    c->tcp.emplace(c->ioc);
  }
  c->lowest().expires_after(o.connect_timeout);
  ec = c->run([&](auto handler) { c->lowest().async_connect(endpoints, handler); });
  if (ec) return fail("connect", ec);
  c->lowest().socket().set_option(tcp::no_delay(true), ec);
  if (c->tls) {
    ec = c->run([&](auto handler) { c->tls->async_handshake(ssl::stream_base::client, handler); });
    if (ec) return fail("TLS handshake with", ec);
  }
  c->lowest().expires_never();
  return c;
}

template <typename Stream>
error_code exchange(Connection& c, Stream& stream, const HttpRequest& req, const Url& url, const HttpOptions& o,
                    HttpResponse& resp, const BodySink* sink, bool& keep_alive, bool& got_bytes) {
  auto set_fields = [&](auto& msg) {
    msg.method_string(req.method);
    msg.target(req.target);
    msg.version(11);
    bool has_host = false, has_ua = false;
    for (const auto& [n, v] : req.headers) {
      if (iequals(n, "host")) has_host = true;
      if (iequals(n, "user-agent")) has_ua = true;
      msg.insert(n, v);
    }
    if (!has_host) msg.set(bhttp::field::host, url.authority());
    if (!has_ua) msg.set(bhttp::field::user_agent, o.user_agent);
  };
  c.lowest().expires_after(o.request_timeout);
  error_code ec;
  if (req.body_file) {
    bhttp::request<bhttp::file_body> msg;
    set_fields(msg);
    msg.body().open(req.body_file->c_str(), beast::file_mode::scan, ec);
    if (ec) return ec;
    msg.prepare_payload();
    ec = c.run([&](auto handler) { bhttp::async_write(stream, msg, handler); });
  } else {
    // The body is sent from where it lies (a PutRecords request is megabytes): no copy.
    bhttp::request<bhttp::span_body<const char>> msg;
    set_fields(msg);
    msg.body() = boost::beast::span<const char>(req.body.data(), req.body.size());
    msg.prepare_payload();
    ec = c.run([&](auto handler) { bhttp::async_write(stream, msg, handler); });
  }
  if (ec) return ec;

  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  if (iequals(req.method, "HEAD")) parser.skip(true);
  ec = c.run([&](auto handler) { bhttp::async_read_header(stream, c.buffer, parser, handler); });
  if (ec) return ec;
  got_bytes = true;
  const auto& head = parser.get();
  resp.status = static_cast<int>(head.result_int());
  resp.headers.clear();
  resp.body.clear();
  for (const auto& f : head) resp.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  const bool to_sink = sink && (!sink->accept || sink->accept(resp.status));
  bool sink_ok = true;
  // A body of known length kept in memory is read straight into its place, past the parser: what
  // came with the header first, then socket reads as large as what has arrived (GetRecords
  // answers run to 10 MiB; the parser would read them 64 KiB at a time through its buffer).
  // resp.body keeps its capacity when the caller reuses resp (Session::call's reusing form).
  if (!to_sink && !parser.is_done() && parser.content_length() && !parser.chunked()) {
    const std::size_t n = static_cast<std::size_t>(*parser.content_length());
    reserve_large(resp.body, n);
    resp.body.resize(n);
    std::size_t got = std::min(c.buffer.size(), n);
    if (got > 0) {
      std::memcpy(resp.body.data(), c.buffer.data().data(), got);
      c.buffer.consume(got);
    }
    while (got < n) {
      std::size_t k = 0;
      ec = c.run([&](auto handler) {
        stream.async_read_some(asio::buffer(resp.body.data() + got, n - got),
                               [&k, handler](error_code e, std::size_t m) mutable {
                                 k = m;
                                 handler(e);
                               });
      });
      got += k;
      if (ec) return ec;
    }
    keep_alive = parser.keep_alive();
    c.lowest().expires_never();
    return {};
  }
  char buf[64 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    ec = c.run([&](auto handler) { bhttp::async_read(stream, c.buffer, parser, handler); });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return ec;
    std::size_t n = sizeof buf - parser.get().body().size;
    if (n == 0) continue;
    if (to_sink) {
      if (sink_ok && !sink->write(std::string_view(buf, n))) sink_ok = false;
      if (!sink_ok) {
        keep_alive = false;
        return asio::error::operation_aborted;
      }
    } else {
      resp.body.append(buf, n);
    }
  }
  keep_alive = parser.keep_alive();
  c.lowest().expires_never();
  return {};
}

}  // namespace

bool HttpClient::send(const Url& base, const HttpRequest& req, HttpResponse& resp, TransportError* error,
                      const BodySink* sink) {
  const std::string key = pool_key(base);
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Connection> conn;
    bool reused = false;
    if (round == 0) {
      std::lock_guard lock(impl_->mu);
      auto& q = impl_->idle[key];
      if (!q.empty()) {
        conn = std::move(q.back());
        q.pop_back();
        reused = true;
      }
    }
    if (!conn) {
      if (base.tls() && options_.verify_tls)
        std::call_once(impl_->tls_ready, [&] {
          error_code ec;
          impl_->tls_ctx.set_default_verify_paths(ec);
          if (!options_.ca_file.empty()) impl_->tls_ctx.load_verify_file(options_.ca_file, ec);
        });
      conn = open_connection(base, impl_->tls_ctx, options_, error);
      if (!conn) return false;
      std::lock_guard lock(impl_->mu);
      ++impl_->opened;
    }
    bool keep_alive = false, got_bytes = false;
    error_code ec = conn->tls ? exchange(*conn, *conn->tls, req, base, options_, resp, sink, keep_alive, got_bytes)
                              : exchange(*conn, *conn->tcp, req, base, options_, resp, sink, keep_alive, got_bytes);
    if (!ec) {
      if (keep_alive) {
        std::lock_guard lock(impl_->mu);
        auto& q = impl_->idle[key];
        if (q.size() < options_.max_idle_per_host) q.push_back(std::move(conn));
      }
      return true;
    }
    // A pooled connection the server closed while idle fails before any answer: try once more
    // on a new one (the request never reached a handler).
    if (reused && !got_bytes && ec != beast::error::timeout) continue;
    if (error) {
      if (ec == asio::error::operation_aborted && sink) {
        error->message = "writing the response body failed";
      } else {
        error->message = std::string(got_bytes ? "reading the response from " : "sending to ") + base.authority() +
                         ": " + describe(ec);
      }
      error->timeout = ec == beast::error::timeout;
    }
    return false;
  }
  return false;
}

}  // namespace eddy::client
