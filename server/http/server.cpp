#include "server/http/server.h"

#include <openssl/ssl.h>

#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <cerrno>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "server/http/dispatch.h"
#include "server/http/internal.h"

namespace eddy::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

using namespace detail;

namespace detail {

std::string make_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  // UUID v4 layout, as AWS request ids look: 8-4-4-4-12 hex digits, version 4, variant 10.
  a = (a & ~0xF000ULL) | 0x4000ULL;
  b = (b & ~(0xC000ULL << 48)) | (0x8000ULL << 48);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  auto put = [&](size_t at, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v >>= 4) id[at + static_cast<size_t>(i)] = kHex[v & 0xF];
  };
  put(0, a >> 32, 8);
  put(9, (a >> 16) & 0xFFFF, 4);
  put(14, a & 0xFFFF, 4);
  put(19, b >> 48, 4);
  put(24, b & 0xFFFFFFFFFFFFULL, 12);
  return id;
}

std::string http_date(const std::function<int64_t()>& now_ms) { return http_date_ref(now_ms); }

const std::string& http_date_ref(const std::function<int64_t()>& now_ms) {
  const std::time_t t = now_ms ? static_cast<std::time_t>(now_ms() / 1000) : std::time(nullptr);
  // One formatting per second and thread, not per response.
  thread_local std::time_t cached_t = -1;
  thread_local std::string cached;
  if (t != cached_t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_t = t;
  }
  return cached;
}

bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;
    else if (c == '_' || c == '/') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace detail

namespace {

constexpr size_t kReadBufferBytes = 16 * 1024;
constexpr size_t kLargeReadBufferBytes = 64 * 1024;
// 503 answers to connections over max_connections written at once; beyond, they are closed.
constexpr int kMaxRefusing = 256;
// The most of an h2c upgrade request's body read before switching (a bigger body is served
// over HTTP/1.1, the upgrade ignored, as RFC 9113 allows).
constexpr size_t kMaxUpgradeBody = 1024 * 1024;

// Does a comma-separated header value hold `token` (case-insensitive)?
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (http::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// ALPN on the TLS listener: h2 when the client offers it, else http/1.1.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  static const unsigned char kPrefs[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, kPrefs, sizeof kPrefs, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  // What handlers see of each loop, same index. Declared first, destroyed last: sessions that
  // an io_context destroys may still touch their Loop.
  std::vector<std::unique_ptr<Loop>> handles;
  // One event loop per worker thread; a connection stays on the loop that accepted it. A
  // shared io_context woke a second thread for queued work and locked its queue around every
  // handler: on two cores that cost a quarter of a small request's CPU.
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::atomic<size_t> next_loop{0};
  asio::io_context& ioc() { return *loops[0]; }
  size_t pick_loop() { return next_loop.fetch_add(1) % loops.size(); }
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::vector<std::shared_ptr<asio::ssl::context>> tls_contexts;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::set<std::shared_ptr<Connection>> connections;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // Sessions accepted and not yet ended (counted at accept, before the session registers on its
  // loop): what max_connections holds against.
  std::atomic<size_t> live{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<int> refusing{0};  // 503 answers being written (bounded by kMaxRefusing)
  std::atomic<int64_t> last_refusal_log_ns{0};
  std::atomic<int64_t> last_accept_error_log_ns{0};

  static ServerOptions settled(ServerOptions o) {
    if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
    return o;
  }
  explicit Impl(ServerOptions o) : options(settled(o)) {
    // Concurrency hint 1: one thread runs each loop (other threads only post to it).
    for (unsigned i = 0; i < options.threads; ++i) {
      loops.push_back(std::make_unique<asio::io_context>(1));
      handles.push_back(std::make_unique<Loop>());
      handles.back()->set_poster([ex = loops.back()->get_executor()](std::function<void()> fn) {
        asio::post(ex, std::move(fn));
      });
    }
  }

  void add(const std::shared_ptr<Connection>& c) {
    std::lock_guard lk(mu);
    connections.insert(c);
  }
  void remove(const std::shared_ptr<Connection>& c) {
    std::lock_guard lk(mu);
    connections.erase(c);
    cv.notify_all();
  }

  template <class Stream>
  Task<void> session(Stream stream, Handler& handler, bool tls, Loop& loop);

  // A connection over max_connections: answered 503 and closed (see accept_loop); over TLS
  // after the handshake (HTTP/2 by ALPN: SETTINGS and GOAWAY REFUSED_STREAM instead).
  Task<void> refuse(Socket socket);
  Task<void> refuse_tls(Socket socket, std::shared_ptr<asio::ssl::context> ctx);
  // True at most once per `every` for the given clock slot: a flood logs one line, not one per
  // connection.
  static bool log_due(std::atomic<int64_t>& last, std::chrono::seconds every);

  template <class Stream>
  Task<bool> write_response(Stream& stream, Connection& conn, Response& res, unsigned version, bool keep_alive);

  // A pushed body (Response::push) as HTTP/1.1 chunks.
  template <class Stream>
  Task<bool> write_pushed(Stream& stream, Connection& conn, Response& res, unsigned version, bool keep_alive);

  // Closes the connections whose deadline has passed; runs on loop 0 until stop().
  Task<void> sweep();

  Task<void> accept_loop(std::shared_ptr<tcp::acceptor> acc, Handler& handler,
                         std::shared_ptr<asio::ssl::context> tls);
};

Task<void> Server::Impl::sweep() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A quarter of the shortest timeout, within [50 ms, 1 s]: a connection is closed at most
  // that long after its deadline.
  const int shortest_s =
      std::max(1, std::min({options.idle_timeout_s, options.request_timeout_s, options.header_timeout_s}));
  const auto period = std::clamp(std::chrono::milliseconds(shortest_s * 250), 50ms, 1000ms);
  while (!stopping.load()) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec || stopping.load()) break;
    const int64_t now = Connection::now_ns();
    std::lock_guard lk(mu);
    for (const auto& c : connections) {
      if (!c->expired(now)) continue;
      // Checked again on the connection's own loop: it may have started a new operation since.
      asio::post(c->executor, [c] {
        if (!c->alive || !c->expired(Connection::now_ns())) return;
        if (c->deadline_passed) c->deadline_passed();
        else c->close();
      });
    }
  }
}

// A complete response whose framing is left to the front end (no Content-Length,
// Transfer-Encoding or Connection header of its own, and a status that has a body).
static bool framed_by_us(const Response& res) {
  return res.status >= 200 && res.status != 204 && res.status != 304 && !res.headers.has("Content-Length") &&
         !res.headers.has("Transfer-Encoding") && !res.headers.has("Connection");
}

// A streamed body small enough to hold (an S3 GET of a small object) is read whole here, so
// that it goes out like any complete response: with its head in one gathered write, and
// without a stream buffer per response. False when the source failed or ended short of its
// length: the connection then closes, as it would have mid-stream.
constexpr uint64_t kInlineStreamBytes = 64 * 1024;
static bool inline_small_stream(const Request& req, Response& res) {
  if (!res.stream || res.head || !res.content_length || *res.content_length > kInlineStreamBytes ||
      res.action != ConnectionAction::normal)
    return true;
  std::string body;
  body.resize(*res.content_length);
  for (size_t got = 0; got < body.size();) {
    // A throwing source is logged and ends the connection, as it would mid-stream.
    const int64_t n = guard_read(req, [&] { return res.stream->read(body.data() + got, body.size() - got); });
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  res.body = std::move(body);
  res.stream.reset();
  res.content_length.reset();
  return true;
}

// Such a response's head, written by hand: sent with the body in one gathered write. Beast's
// generic serializer cost more than a small PutRecord's handler.
static void append_decimal(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
static void append_status_line(std::string& head, int status, unsigned version) {
  if (status == 200) {
    head += version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
    return;
  }
  head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_decimal(head, static_cast<uint64_t>(status));
  head += ' ';
  head += bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  head += "\r\n";
}
static void append_header(std::string& head, std::string_view k, std::string_view v) {
  head.append(k).append(": ", 2).append(v).append("\r\n", 2);
}
// Connection (where the version's default does not hold) and Content-Length, then the blank line.
static void append_framing(std::string& head, unsigned version, bool keep_alive, size_t body_bytes) {
  if (version == 10 && keep_alive) head += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) head += "Connection: close\r\n";
  head += "Content-Length: ";
  append_decimal(head, body_bytes);
  head += "\r\n\r\n";
}

static std::string simple_head(const Response& res, unsigned version, bool keep_alive) {
  std::string head;
  head.reserve(256);
  append_status_line(head, res.status, version);
  for (auto& [k, v] : res.headers.items()) append_header(head, k, v);
  append_framing(head, version, keep_alive, res.body.size());
  return head;
}

// The HTTP/1.1 session's common case (a complete response it frames itself) in one pass over
// the handler's headers: the head goes into `head` (the session's, its capacity kept from one
// response to the next) with x-amzn-RequestId and Date appended as add_session_headers would
// add them, without adding them to the response. False, with `head` unspecified, when the
// response frames itself (Content-Length, Transfer-Encoding or Connection set): that one goes
// through add_session_headers and write_response. PutRecord: one scan and no allocation
// instead of five scans (framed_by_us, add_session_headers) and three allocations.
static bool session_head(std::string& head, const Response& res, const Request& req, unsigned version,
                         bool keep_alive, const std::function<int64_t()>& now_ms) {
  if (res.status < 200 || res.status == 204 || res.status == 304) return false;
  head.clear();
  append_status_line(head, res.status, version);
  bool has_id = false, has_date = false;
  for (auto& [k, v] : res.headers.items()) {
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") || iequals(k, "Connection")) return false;
    has_id = has_id || iequals(k, "x-amzn-RequestId");
    has_date = has_date || iequals(k, "Date");
    append_header(head, k, v);
  }
  if (!has_id) append_header(head, "x-amzn-RequestId", req.request_id);
  if (!has_date) append_header(head, "Date", http_date_ref(now_ms));
  append_framing(head, version, keep_alive, res.body.size());
  return true;
}

template <class Stream>
Task<bool> Server::Impl::write_response(Stream& stream, Connection& conn, Response& res, unsigned version,
                                        bool keep_alive) {
  auto& tcp = tcp_layer(stream);
  if (res.delay_ms > 0) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(std::chrono::milliseconds(res.delay_ms));
    co_await t.async_wait(use_nothrow);
  }
  if (res.action == ConnectionAction::close_without_response) {
    beast::error_code ec;
    tcp.shutdown(Socket::shutdown_both, ec);
    tcp.close(ec);
    co_return false;
  }
  if (res.action == ConnectionAction::reset) {
    beast::error_code ec;
    tcp.set_option(asio::socket_base::linger(true, 0), ec);
    tcp.close(ec);
    co_return false;
  }
  if (res.action == ConnectionAction::close_after) keep_alive = false;

  conn.arm(std::chrono::seconds(options.request_timeout_s));
  if (res.push && !res.head) co_return co_await write_pushed(stream, conn, res, version, keep_alive);
  const bool streamed = res.stream != nullptr || res.action == ConnectionAction::trickle;
  if (res.head || !streamed) {
    if (res.head) {
      bhttp::response<bhttp::empty_body> out{static_cast<bhttp::status>(res.status), version};
      for (auto& [k, v] : res.headers.items()) out.insert(k, v);
      out.keep_alive(keep_alive);
      if (res.content_length) out.content_length(*res.content_length);
      else if (!out.count(bhttp::field::content_length) && res.status != 204 && res.status != 304)
        out.content_length(res.body.size());
      bhttp::response_serializer<bhttp::empty_body> sr{out};
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_nothrow);
      co_return !ec && keep_alive;
    }
    if (framed_by_us(res)) {
      const std::string head = simple_head(res, version, keep_alive);
      const std::array<asio::const_buffer, 2> pieces{asio::buffer(head), asio::buffer(res.body)};
      auto [ec, n] = co_await asio::async_write(stream, pieces, use_nothrow);
      co_return !ec && keep_alive;
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
    for (auto& [k, v] : res.headers.items()) out.insert(k, v);
    out.keep_alive(keep_alive);
    out.body() = std::move(res.body);
    out.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(stream, out, use_nothrow);
    co_return !ec && keep_alive;
  }

  // Streamed (or trickled) body.
  bhttp::response<bhttp::buffer_body> out{static_cast<bhttp::status>(res.status), version};
  for (auto& [k, v] : res.headers.items()) out.insert(k, v);
  out.keep_alive(keep_alive);
  std::string trickle_body;
  size_t trickle_pos = 0;
  if (!res.stream) {
    trickle_body = std::move(res.body);
    out.content_length(trickle_body.size());
  } else if (res.content_length) {
    out.content_length(*res.content_length);
  } else {
    out.chunked(true);
  }
  out.body().data = nullptr;
  out.body().more = true;
  bhttp::response_serializer<bhttp::buffer_body> sr{out};
  {
    auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_nothrow);
    if (ec) co_return false;
  }
  // Not zero-filled, and no bigger than the body: a fresh 256 KiB vector per response cost
  // an S3 GET of 4 KiB more than everything else it did.
  const size_t buf_size = !res.stream ? 0
                          : res.content_length ? static_cast<size_t>(std::min<uint64_t>(*res.content_length + 1, 256 * 1024))
                                               : 256 * 1024;
  std::unique_ptr<char[]> buf(new char[std::max<size_t>(buf_size, 1)]);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    int64_t n = 0;
    if (res.stream) {
      n = res.stream->read(buf.get(), buf_size);
      if (n < 0) {
        beast::error_code ec;
        tcp.close(ec);
        co_return false;
      }
      out.body().data = buf.get();
    } else {
      n = static_cast<int64_t>(std::min<size_t>(res.trickle_bytes ? res.trickle_bytes : 1,
                                                trickle_body.size() - trickle_pos));
      out.body().data = trickle_body.data() + trickle_pos;
      trickle_pos += static_cast<size_t>(n);
      if (n > 0 && trickle_pos > static_cast<size_t>(n)) {
        timer.expires_after(std::chrono::milliseconds(res.trickle_interval_ms));
        co_await timer.async_wait(use_nothrow);
      }
    }
    out.body().size = static_cast<size_t>(n);
    out.body().more = n > 0;
    if (n == 0) out.body().data = nullptr;
    conn.arm(std::chrono::seconds(options.request_timeout_s));
    auto [ec, w] = co_await bhttp::async_write(stream, sr, use_nothrow);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return false;
    if (n == 0) break;
  }
  co_return keep_alive;
}

template <class Stream>
Task<bool> Server::Impl::write_pushed(Stream& stream, Connection& conn, Response& res, unsigned version,
                                      bool keep_alive) {
  bhttp::response<bhttp::empty_body> out{static_cast<bhttp::status>(res.status), version};
  for (auto& [k, v] : res.headers.items()) out.insert(k, v);
  out.keep_alive(keep_alive);
  out.chunked(true);
  {
    bhttp::response_serializer<bhttp::empty_body> sr{out};
    auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_nothrow);
    if (ec) co_return false;
  }
  // The session waits on `bell` for the handler's writes; the handler's wake, the server's
  // stop (goaway) and a forced close ring it.
  asio::steady_timer bell(co_await asio::this_coro::executor);
  auto writer = std::make_shared<QueuedBodyWriter>();
  bool stop_now = false;
  writer->wake = [&bell] { bell.cancel(); };
  conn.goaway = [&bell, &stop_now] {
    stop_now = true;
    bell.cancel();
  };
  auto closer = std::move(conn.close);
  conn.close = [&, closer] {
    stop_now = true;
    bell.cancel();
    closer();
  };
  // However this ends, the writer no longer reaches this frame, and the connection's hooks
  // are what they were.
  struct Restore {
    Connection& conn;
    std::shared_ptr<QueuedBodyWriter> writer;
    std::function<void()> closer;
    ~Restore() {
      writer->peer_gone();
      conn.goaway = nullptr;
      conn.close = std::move(closer);
    }
  } restore{conn, writer, closer};

  res.push(writer);
  constexpr size_t kMaxChunk = 256 * 1024;
  for (;;) {
    if (!writer->empty()) {
      std::string data = writer->take(kMaxChunk);
      char size_line[32];
      const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
      const std::array<asio::const_buffer, 3> pieces{asio::buffer(size_line, static_cast<size_t>(len)),
                                                     asio::buffer(data), asio::buffer("\r\n", 2)};
      conn.arm(std::chrono::seconds(options.request_timeout_s));
      auto [ec, n] = co_await asio::async_write(stream, pieces, use_nothrow);
      conn.disarm();
      if (ec) co_return false;
      writer->sent();
      continue;
    }
    if (writer->gone()) co_return false;
    if (writer->finished() || stop_now) {
      if (stop_now && !writer->finished()) {
        writer->peer_gone();
        keep_alive = false;
      }
      conn.arm(std::chrono::seconds(options.request_timeout_s));
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer("0\r\n\r\n", 5), use_nothrow);
      co_return !ec && keep_alive && !stop_now;
    }
    // Waiting for the producer is no network wait: no deadline.
    conn.disarm();
    bell.expires_at(asio::steady_timer::time_point::max());
    co_await bell.async_wait(use_nothrow);
  }
}

template <class Stream>
Task<void> Server::Impl::session(Stream stream, Handler& handler, bool tls, Loop& loop) {
  auto conn = std::make_shared<Connection>();
  conn->executor = co_await asio::this_coro::executor;
  auto& tcp = tcp_layer(stream);
  conn->close = [&tcp] {
    beast::error_code ec;
    tcp.shutdown(Socket::shutdown_both, ec);
    tcp.close(ec);
  };
  add(conn);
  struct Unregister {
    Impl* self;
    std::shared_ptr<Connection> c;
    ~Unregister() {
      c->alive = false;
      // The cap's count first: once open_connections() no longer lists it, it holds no place.
      self->live.fetch_sub(1);
      self->remove(c);
    }
  } unregister{this, conn};

  std::string remote;
  uint16_t local_port = 0;
  {
    beast::error_code ec;
    auto ep = tcp.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
    auto lp = tcp.local_endpoint(ec);
    if (!ec) local_port = lp.port();
  }

  if constexpr (!std::is_same_v<Stream, Socket>) {
    conn->arm(std::chrono::seconds(options.request_timeout_s));
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (ec) co_return;
  }
  H2Context h2{options, handler, loop, *conn, stopping, tls, remote, local_port};
  if constexpr (!std::is_same_v<Stream, Socket>) {
    const unsigned char* proto = nullptr;
    unsigned int proto_len = 0;
    SSL_get0_alpn_selected(stream.native_handle(), &proto, &proto_len);
    if (proto_len == 2 && proto[0] == 'h' && proto[1] == '2') {
      co_await serve_h2(stream, h2, std::string(), nullptr);
      co_return;
    }
  }

  // Beast reads max(512, free capacity) bytes at a time: without room reserved, every read is
  // a 512-byte recvmsg (130 of them for a 64 KiB PutRecords body).
  beast::flat_buffer buffer;
  buffer.reserve(kReadBufferBytes);
  // An HTTP/2 client with prior knowledge opens with the connection preface; anything else is
  // HTTP/1.1. Read until the bytes differ from the preface or hold all of it.
  for (bool preface_begun = false;;) {
    const std::string_view got(static_cast<const char*>(buffer.data().data()), buffer.size());
    const size_t n = std::min(got.size(), kH2Preface.size());
    if (got.substr(0, n) != kH2Preface.substr(0, n)) break;
    if (n == kH2Preface.size()) {
      co_await serve_h2(stream, h2, std::string(got), nullptr);
      co_return;
    }
    // Idle until the first byte; a preface begun must be whole within --header-timeout.
    if (n == 0) conn->arm(std::chrono::seconds(options.idle_timeout_s));
    else if (!std::exchange(preface_begun, true)) conn->arm(std::chrono::seconds(options.header_timeout_s));
    auto [ec, r] = co_await stream.async_read_some(buffer.prepare(kReadBufferBytes), use_nothrow);
    if (ec) co_return;
    buffer.commit(r);
  }
  // Body pieces are read into `chunk`, allocated at the first body: an idle connection holds
  // only its read buffer.
  std::vector<char> chunk;
  constexpr size_t kChunkBytes = 64 * 1024;
  std::string head_buf;  // a response's head (session_head), its capacity kept
  for (;;) {
    if (stopping.load()) break;
    bhttp::request_parser<bhttp::empty_body> header_parser;
    header_parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
    header_parser.body_limit(boost::none);
    {
      // Waiting for a request is idle time (--idle-timeout); once its first byte is in, the
      // whole head must follow within --header-timeout (a slowloris client sends a byte now
      // and then to hold the connection). What is buffered is parsed here, without the post
      // with which Beast completes a read that needed no I/O.
      beast::error_code ec;
      if (buffer.size() == 0) {
        conn->arm(std::chrono::seconds(options.idle_timeout_s));
        auto [rec, r] = co_await stream.async_read_some(buffer.prepare(kReadBufferBytes), use_nothrow);
        if (rec) break;
        buffer.commit(r);
      }
      conn->arm(std::chrono::seconds(options.header_timeout_s));
      buffer.consume(header_parser.put(buffer.data(), ec));
      if (ec == bhttp::error::need_more) ec = {};
      if (!ec && !header_parser.is_header_done()) {
        auto [rec, n] = co_await bhttp::async_read_header(stream, buffer, header_parser, use_nothrow);
        ec = rec;
      }
      if (ec) {
        if (ec == bhttp::error::header_limit || ec == bhttp::error::bad_target ||
            ec == bhttp::error::bad_method || ec == bhttp::error::bad_field ||
            ec == bhttp::error::bad_value || ec == bhttp::error::bad_version ||
            ec == bhttp::error::bad_line_ending || ec == bhttp::error::bad_content_length ||
            ec == bhttp::error::bad_transfer_encoding || ec == bhttp::error::multiple_content_length) {
          Response bad;
          bad.status = ec == bhttp::error::header_limit ? 431 : 400;
          bad.headers.add("Content-Type", "text/plain");
          bad.body = ec.message() + "\n";
          co_await write_response(stream, *conn, bad, 11, false);
        }
        break;
      }
    }
    conn->busy = true;
    if (auto len = header_parser.content_length(); len && *len > kReadBufferBytes && buffer.capacity() < kLargeReadBufferBytes)
      buffer.reserve(kLargeReadBufferBytes);  // large bodies: 64 KiB reads
    auto& head = header_parser.get();
    Request req;
    req.method = std::string(head.method_string());
    req.target = std::string(head.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    req.headers.reserve(static_cast<size_t>(std::distance(head.begin(), head.end())));
    for (auto const& f : head) req.headers.add(std::string(f.name_string()), std::string(f.value()));
    req.remote_address = remote;
    req.request_id = make_request_id();
    req.tls = tls;
    req.local_port = local_port;
    req.loop = &loop;
    const unsigned version = head.version();
    bool keep_alive = head.keep_alive() && !stopping.load();
    const bool expect_continue = http::iequals(req.headers.get("Expect"), "100-continue");

    // h2c via Upgrade (cleartext only): the request, its body read here, becomes stream 1 of
    // an HTTP/2 session. A chunked or large body keeps the connection on HTTP/1.1.
    if constexpr (std::is_same_v<Stream, Socket>) {
      std::string settings;
      if (version == 11 && has_token(req.headers.get("Upgrade"), "h2c") && req.headers.has("HTTP2-Settings") &&
          has_token(req.headers.get("Connection"), "Upgrade") &&
          base64url_decode(req.headers.get("HTTP2-Settings"), settings) && !header_parser.chunked() &&
          header_parser.content_length().value_or(0) <= kMaxUpgradeBody && !stopping.load()) {
        bhttp::request_parser<bhttp::buffer_body> body_parser{std::move(header_parser)};
        bool failed = false;
        if (chunk.empty()) chunk.resize(kChunkBytes);
        if (expect_continue && !body_parser.is_done()) {
          static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kContinue, sizeof kContinue - 1), use_nothrow);
          failed = static_cast<bool>(ec);
        }
        while (!failed && !body_parser.is_done()) {
          body_parser.get().body().data = chunk.data();
          body_parser.get().body().size = chunk.size();
          conn->arm(std::chrono::seconds(options.request_timeout_s));
          auto [ec, got] = co_await bhttp::async_read(stream, buffer, body_parser, use_nothrow);
          if (ec == bhttp::error::need_buffer) ec = {};
          if (ec) { failed = true; break; }
          req.body.append(chunk.data(), chunk.size() - body_parser.get().body().size);
        }
        if (failed) break;
        for (const char* h : {"Upgrade", "HTTP2-Settings", "Connection"}) req.headers.erase(h);
        static const char kSwitch[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        conn->arm(std::chrono::seconds(options.request_timeout_s));
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kSwitch, sizeof kSwitch - 1), use_nothrow);
        if (ec) break;
        H2Upgrade up{std::move(req), std::move(settings)};
        std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
        co_await serve_h2(stream, h2, std::move(rest), &up);
        co_return;
      }
    }

    // A request whose body is in the buffer already reaches its handler without waiting for
    // the network: the loop counts it as ready until its handler has returned (see
    // Loop::when_settled). So the last of the requests read together gets its own put into
    // the group before the group commits.
    ReadyMark ready(loop, !header_parser.chunked() && header_parser.content_length().value_or(0) <= buffer.size());
    Dispatch dispatch = guard(handler, req, [&] { return handler.dispatch(req); });
    Response res;
    bhttp::request_parser<bhttp::buffer_body> body_parser{std::move(header_parser)};
    bool read_failed = false;

    // Helpers are awaited only when there is something to do: each call of a coroutine
    // allocates its frame, and most requests need neither a 100 nor more than one read.
    const bool wants_continue = expect_continue && !body_parser.is_done();
    auto send_continue = [&]() -> Task<bool> {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kContinue, sizeof kContinue - 1), use_nothrow);
      co_return !ec;
    };
    // A read of the next piece of the body into `chunk`: arm_piece() before the read,
    // piece_size() after it gives the byte count, or -1 on error. Each piece must come within
    // --request-timeout, and the body as a whole must keep up --body-min-rate after a first
    // --request-timeout of grace (a trickling client cannot hold the connection forever).
    const int64_t body_start_ns = Connection::now_ns();
    uint64_t body_received = 0;
    auto arm_piece = [&] {
      if (chunk.empty()) chunk.resize(kChunkBytes);
      body_parser.get().body().data = chunk.data();
      body_parser.get().body().size = chunk.size();
      const int64_t grace_ns = int64_t{options.request_timeout_s} * 1'000'000'000;
      int64_t deadline = Connection::now_ns() + grace_ns;
      if (const uint64_t rate = options.body_min_rate; rate > 0) {
        const uint64_t credit_s = body_received / rate;
        const uint64_t credit_ns = credit_s >= (uint64_t{1} << 32)
                                       ? (uint64_t{1} << 62)
                                       : credit_s * 1'000'000'000 + (body_received % rate) * 1'000'000'000 / rate;
        deadline = std::min(deadline, body_start_ns + grace_ns + static_cast<int64_t>(credit_ns));
      }
      conn->arm_until(deadline);
    };
    auto piece_size = [&](beast::error_code ec) -> int64_t {
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return -1;
      const size_t n = chunk.size() - body_parser.get().body().size;
      body_received += n;
      return static_cast<int64_t>(n);
    };

    if (auto* imm = std::get_if<Immediate>(&dispatch)) {
      res = std::move(imm->response);
      if (!body_parser.is_done()) {
        // The body was not wanted. Without a 100 we never invited it; otherwise drain a
        // little so that keep-alive survives, and close for anything bigger.
        auto len = body_parser.content_length();
        if (!expect_continue && len && *len <= 1024 * 1024) {
          while (!body_parser.is_done()) {
            arm_piece();
            auto [ec, got] = co_await bhttp::async_read(stream, buffer, body_parser, use_nothrow);
            if (piece_size(ec) < 0) { read_failed = true; break; }
          }
        } else {
          keep_alive = false;
        }
      }
    } else if (auto* buf = std::get_if<BufferBody>(&dispatch)) {
      auto len = body_parser.content_length();
      if (len && *len > buf->max_bytes) {
        res = guard(handler, req, [&] { return buf->too_large(req); });
        keep_alive = false;
      } else if (wants_continue && !(co_await send_continue())) {
        read_failed = true;
      } else {
        bool too_big = false;
        if (len) req.body.reserve(static_cast<size_t>(*len));  // one allocation, no growth copies
        while (!body_parser.is_done()) {
          arm_piece();
          auto [ec, got] = co_await bhttp::async_read(stream, buffer, body_parser, use_nothrow);
          const int64_t n = piece_size(ec);
          if (n < 0) { read_failed = true; break; }
          if (req.body.size() + static_cast<size_t>(n) > buf->max_bytes) { too_big = true; break; }
          req.body.append(chunk.data(), static_cast<size_t>(n));
        }
        if (!read_failed) {
          if (too_big) {
            res = guard(handler, req, [&] { return buf->too_large(req); });
            keep_alive = false;
          } else {
            res = guard(handler, req, [&] { return buf->handle(req); });
          }
        }
      }
    } else {
      auto& sink = std::get<StreamBody>(dispatch).sink;
      if (wants_continue && !(co_await send_continue())) {
        read_failed = true;
      } else {
        std::optional<Response> early;
        while (!body_parser.is_done()) {
          arm_piece();
          auto [ec, got] = co_await bhttp::async_read(stream, buffer, body_parser, use_nothrow);
          const int64_t n = piece_size(ec);
          if (n < 0) { read_failed = true; break; }
          if (n == 0) continue;
          early = guard(handler, req, [&] { return sink->write(std::string_view(chunk.data(), static_cast<size_t>(n))); });
          if (early) break;
        }
        if (!read_failed) {
          if (early) {
            res = std::move(*early);
            keep_alive = false;
          } else {
            res = guard(handler, req, [&] { return sink->finish(); });
          }
        }
      }
    }
    ready.leave();
    if (read_failed) break;
    if (std::shared_ptr<Pending> pending = unfinished(res)) {
      // Finished later on this loop (see http::Pending). The handler keeps the Pending until
      // it completes it; the session holds only a pointer, so an abandoned Pending takes the
      // waiting coroutine with it instead of the two keeping each other alive. The initiation
      // captures nothing with a destructor: GCC 12 may destroy a co_await operand's
      // temporaries twice.
      Pending* p = pending.get();
      pending.reset();
      Response* out = &res;
      auto init = [p, out](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        p->on_complete([h, out, p] {
          *out = p->take();
          // Resumed here, on this loop, inside the handler that finished it: the session
          // goes on to write at once (a post would cost one more round of the loop, and
          // with it one more epoll_wait).
          (*h)();
        });
      };
      co_await asio::async_initiate<const asio::use_awaitable_t<Executor>&, void()>(init,
                                                                                    asio::use_awaitable_t<Executor>{});
    }
    if (req.method == "HEAD") res.head = true;  // as add_session_headers; inline_small_stream reads it
    if (stopping.load()) keep_alive = false;
    if (!inline_small_stream(req, res)) break;
    bool again = false;
    if (res.delay_ms <= 0 && res.action == ConnectionAction::normal && !res.head && !res.stream && !res.push &&
        session_head(head_buf, res, req, version, keep_alive, options.now_ms)) {
      // The common case without write_response's coroutine frame (see session_head).
      conn->arm(std::chrono::seconds(options.request_timeout_s));
      const std::array<asio::const_buffer, 2> pieces{asio::buffer(head_buf), asio::buffer(res.body)};
      auto [ec, n] = co_await asio::async_write(stream, pieces, use_nothrow);
      again = !ec && keep_alive;
    } else {
      add_session_headers(res, req, options.now_ms);
      again = co_await write_response(stream, *conn, res, version, keep_alive);
    }
    conn->busy = false;
    if (!again) break;
  }

  beast::error_code ec;
  if constexpr (std::is_same_v<Stream, Socket>) {
    tcp.shutdown(Socket::shutdown_send, ec);
  } else {
    conn->arm(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_nothrow);
  }
  tcp.close(ec);
}

Task<void> Server::Impl::accept_loop(std::shared_ptr<tcp::acceptor> acc, Handler& handler,
                                     std::shared_ptr<asio::ssl::context> tls) {
  for (;;) {
    // The loop's own executor, no strand: one thread runs each loop.
    const size_t li = pick_loop();
    auto [ec, socket] = co_await acc->async_accept(loops[li]->get_executor(), use_nothrow);
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted) co_return;
      // Out of file descriptors: accepting again at once would spin (the pending connection
      // stays in the backlog); pause a little, log once in a while.
      const bool no_fds = ec == asio::error::no_descriptors || ec.value() == ENFILE;
      if (!no_fds || log_due(last_accept_error_log_ns, 10s))
        spdlog::warn("accept failed: {}{}", ec.message(),
                     no_fds ? " (file descriptors exhausted: lower --max-connections or raise ulimit -n)" : "");
      if (no_fds) {
        asio::steady_timer pause(co_await asio::this_coro::executor);
        pause.expires_after(100ms);
        co_await pause.async_wait(use_nothrow);
      }
      continue;
    }
    if (options.max_connections > 0 && live.load() >= options.max_connections) {
      const uint64_t n = refused.fetch_add(1) + 1;
      if (log_due(last_refusal_log_ns, 10s)) {
        beast::error_code rec;
        auto ep = socket.remote_endpoint(rec);
        spdlog::warn("connection from {} refused: {} connections open, --max-connections is {} ({} refused since start)",
                     rec ? std::string("?") : ep.address().to_string(), live.load(), options.max_connections, n);
      }
      if (refusing.load() < kMaxRefusing) {
        refusing.fetch_add(1);
        auto ex = socket.get_executor();
        if (tls)
          asio::co_spawn(ex, refuse_tls(std::move(socket), tls), asio::detached);
        else
          asio::co_spawn(ex, refuse(std::move(socket)), asio::detached);
      } else {
        // Past kMaxRefusing answers in flight (handshakes included), a flood is only closed.
        beast::error_code cec;
        socket.close(cec);
      }
      continue;
    }
    live.fetch_add(1);
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    // What escapes a session (handlers' exceptions are answered inside it, see http::guard;
    // this is the rest, such as a response body's read) is logged; the frame, and with it the
    // socket, is gone.
    auto escaped = [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::error("connection closed by an exception: {}", x.what());
      } catch (...) {
        spdlog::error("connection closed by an exception not derived from std::exception");
      }
    };
    if (tls) {
      TlsStream s(std::move(socket), *tls);
      asio::co_spawn(ex, session(std::move(s), handler, true, *handles[li]), escaped);
    } else {
      asio::co_spawn(ex, session(std::move(socket), handler, false, *handles[li]), escaped);
    }
  }
}

bool Server::Impl::log_due(std::atomic<int64_t>& last, std::chrono::seconds every) {
  const int64_t now = Connection::now_ns();
  int64_t prev = last.load();
  const int64_t every_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(every).count();
  if (prev != 0 && now - prev < every_ns) return false;
  return last.compare_exchange_strong(prev, now);
}

namespace {

const std::string kRefusalText = "eddy is at its connection limit (--max-connections); retry later\n";

const std::string& refusal_503() {
  static const std::string r = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
                               "Connection: close\r\nContent-Length: " +
                               std::to_string(kRefusalText.size()) + "\r\n\r\n" + kRefusalText;
  return r;
}

// HTTP/2's refusal (RFC 9113): the server's preface (an empty SETTINGS frame), then GOAWAY with
// last-stream-id 0 (no stream processed: safe to retry) and REFUSED_STREAM, the text as debug data.
const std::string& refusal_h2() {
  static const std::string r = [] {
    std::string f("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
    const size_t len = 8 + kRefusalText.size();
    f += static_cast<char>((len >> 16) & 0xff);
    f += static_cast<char>((len >> 8) & 0xff);
    f += static_cast<char>(len & 0xff);
    f += std::string("\x07\x00\x00\x00\x00\x00", 6);        // GOAWAY, no flags, stream 0
    f += std::string("\x00\x00\x00\x00\x00\x00\x00\x07", 8);  // last stream 0, REFUSED_STREAM
    return f + kRefusalText;
  }();
  return r;
}

// Reads and drops what the client sends, until it closes or 64 KiB have come.
template <class Stream>
Task<void> drain(Stream& s) {
  std::array<char, 4096> sink;
  for (size_t drained = 0; drained < 64 * 1024;) {
    auto [rec, r] = co_await s.async_read_some(asio::buffer(sink), use_nothrow);
    if (rec) break;
    drained += r;
  }
}

}  // namespace

Task<void> Server::Impl::refuse(Socket socket) {
  struct Done {
    Impl* self;
    ~Done() { self->refusing.fetch_sub(1); }
  } done{this};
  // The answer, then the request (if any) is read and dropped until the client closes: closing
  // with its bytes unread would reset the connection, and the client might lose the 503. All
  // of it within 2 s and 64 KiB.
  // Shared with the deadline's handler, which may run after this frame is gone.
  auto sock = std::make_shared<Socket>(std::move(socket));
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  deadline.expires_after(2s);
  deadline.async_wait([sock](const beast::error_code& ec) {
    beast::error_code cec;
    if (!ec) sock->close(cec);
  });
  beast::error_code ec;
  auto [wec, w] = co_await asio::async_write(*sock, asio::buffer(refusal_503()), use_nothrow);
  if (!wec) {
    sock->shutdown(Socket::shutdown_send, ec);
    co_await drain(*sock);
  }
  deadline.cancel();
  sock->close(ec);
}

Task<void> Server::Impl::refuse_tls(Socket socket, std::shared_ptr<asio::ssl::context> ctx) {
  struct Done {
    Impl* self;
    ~Done() { self->refusing.fetch_sub(1); }
  } done{this};
  // As refuse(), after the handshake, and all of it (handshake included) within the same 2 s.
  auto stream = std::make_shared<TlsStream>(std::move(socket), *ctx);
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  deadline.expires_after(2s);
  deadline.async_wait([stream, ctx](const beast::error_code& ec) {
    beast::error_code cec;
    if (!ec) stream->next_layer().close(cec);
  });
  beast::error_code ec;
  auto [hec] = co_await stream->async_handshake(asio::ssl::stream_base::server, use_nothrow);
  if (!hec) {
    const unsigned char* proto = nullptr;
    unsigned int proto_len = 0;
    SSL_get0_alpn_selected(stream->native_handle(), &proto, &proto_len);
    const bool h2 = proto_len == 2 && proto[0] == 'h' && proto[1] == '2';
    auto [wec, w] = co_await asio::async_write(*stream, asio::buffer(h2 ? refusal_h2() : refusal_503()), use_nothrow);
    // What the client sends (its request, or its preface) is read and dropped until it closes.
    if (!wec) co_await drain(*stream);
  }
  deadline.cancel();
  stream->next_layer().close(ec);
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(options)) {}

Server::~Server() { stop(); }

static std::shared_ptr<tcp::acceptor> bind_acceptor(asio::io_context& ioc, const std::string& host,
                                                    uint16_t port) {
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive);
  if (results.empty()) throw std::runtime_error("cannot resolve " + host);
  tcp::endpoint ep = results.begin()->endpoint();
  auto acc = std::make_shared<tcp::acceptor>(ioc);
  acc->open(ep.protocol());
  acc->set_option(asio::socket_base::reuse_address(true));
  beast::error_code ec;
  acc->bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  acc->listen(asio::socket_base::max_listen_connections);
  return acc;
}

uint16_t Server::listen(const std::string& host, uint16_t port, Handler& handler) {
  auto acc = bind_acceptor(impl_->ioc(), host, port);
  impl_->acceptors.push_back(acc);
  asio::co_spawn(impl_->ioc(), impl_->accept_loop(acc, handler, nullptr), asio::detached);
  return acc->local_endpoint().port();
}

uint16_t Server::listen_tls(const std::string& host, uint16_t port, Handler& handler,
                            const TlsOptions& tls) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3);
  ctx->use_certificate_chain_file(tls.cert_file);
  ctx->use_private_key_file(tls.key_file, asio::ssl::context::pem);
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), select_alpn, nullptr);
  impl_->tls_contexts.push_back(ctx);
  auto acc = bind_acceptor(impl_->ioc(), host, port);
  impl_->acceptors.push_back(acc);
  asio::co_spawn(impl_->ioc(), impl_->accept_loop(acc, handler, ctx), asio::detached);
  return acc->local_endpoint().port();
}

void Server::start() {
  if (impl_->started) return;
  impl_->started = true;
  asio::co_spawn(impl_->ioc(), impl_->sweep(), asio::detached);
  for (auto& loop : impl_->loops) {
    impl_->work.push_back(asio::make_work_guard(*loop));
    impl_->threads.emplace_back([l = loop.get()] { l->run(); });
  }
}

void Server::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  for (auto& acc : impl_->acceptors) {
    asio::post(impl_->ioc(), [acc] {
      beast::error_code ec;
      acc->close(ec);
    });
  }
  // HTTP/2 connections send GOAWAY; pushed HTTP/1.1 bodies end.
  {
    std::lock_guard lk(impl_->mu);
    for (auto& c : impl_->connections)
      asio::post(c->executor, [c] {
        if (c->alive && c->goaway) c->goaway();
      });
  }
  // Close idle keep-alive connections now; busy ones finish their request and then close.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(impl_->options.shutdown_grace_s);
  {
    std::unique_lock lk(impl_->mu);
    while (!impl_->connections.empty() && std::chrono::steady_clock::now() < deadline) {
      for (auto& c : impl_->connections)
        if (!c->busy) asio::post(c->executor, [c] { if (c->alive) c->close(); });
      impl_->cv.wait_for(lk, 50ms);
    }
    for (auto& c : impl_->connections) asio::post(c->executor, [c] { if (c->alive) c->close(); });
  }
  impl_->work.clear();
  if (impl_->started) {
    // Give closed sessions a moment to unwind, then stop the loop.
    std::unique_lock lk(impl_->mu);
    impl_->cv.wait_for(lk, 1s, [&] { return impl_->connections.empty(); });
  }
  for (auto& loop : impl_->loops) loop->stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

void Server::wait_for_signal() {
  asio::io_context sig_ioc;
  asio::signal_set signals(sig_ioc, SIGINT, SIGTERM);
  int got = 0;
  signals.async_wait([&](const beast::error_code&, int sig) { got = sig; });
  sig_ioc.run();
  spdlog::info("signal {} received: finishing in-flight requests", got);
  stop();
}

size_t Server::open_connections() const {
  std::lock_guard lk(impl_->mu);
  return impl_->connections.size();
}

uint64_t Server::refused_connections() const { return impl_->refused.load(); }

}  // namespace eddy::http
