// GCC 12 reports Asio's awaitable frame operator delete as mismatched when a coroutine is a
// lambda (a false positive: Asio allocates and frees the frame with its own matching pair).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "bench/load/engine.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace eddy::bench {

std::string_view pattern() {
  static const std::string p = [] {
    std::string s(1 << 20, '\0');
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < s.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&s[i], &v, 8);
    }
    return s;
  }();
  return p;
}

namespace {

// One keep-alive connection's socket and buffers.
struct Wire {
  explicit Wire(const asio::any_io_executor& ex) : sock(ex) {}
  tcp::socket sock;
  beast::flat_buffer buf;
  std::string body;  // the last kept body
  std::string etag;
  std::vector<char> scratch;  // where big bodies are read to and dropped
  bool open = false;
};

asio::awaitable<void> connect(Wire& w, const Target& t) {
  tcp::resolver r(w.sock.get_executor());
  auto eps = co_await r.async_resolve(t.host, t.port, asio::use_awaitable);
  co_await asio::async_connect(w.sock, eps, asio::use_awaitable);
  w.sock.set_option(tcp::no_delay(true));
  w.buf.clear();
  w.buf.reserve(64 * 1024);  // Beast reads max(512, free capacity) bytes per recvmsg
  w.open = true;
}

// Sends r and reads its answer into resp; reconnects when the server closed the last one.
// Throws on I/O errors.
asio::awaitable<void> exchange(Wire& w, const Target& t, const Request& r, Response& resp) {
  if (!w.open) co_await connect(w, t);
  if (r.stream_bytes == 0) {
    std::array<asio::const_buffer, 2> out{asio::buffer(r.head), asio::buffer(r.body.data(), r.body.size())};
    co_await asio::async_write(w.sock, out, asio::use_awaitable);
  } else {
    co_await asio::async_write(w.sock, asio::buffer(r.head), asio::use_awaitable);
    const std::string_view p = pattern();
    for (uint64_t left = r.stream_bytes; left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, p.size()));
      co_await asio::async_write(w.sock, asio::buffer(p.data(), n), asio::use_awaitable);
      left -= n;
    }
  }
  bool keep_alive = true;
  if (!r.large_response) {
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(256u << 20);
    if (r.head_method) p.skip(true);
    co_await bhttp::async_read(w.sock, w.buf, p, asio::use_awaitable);
    auto& m = p.get();
    resp.status = static_cast<int>(m.result_int());
    w.body = std::move(m.body());
    w.etag = std::string(m[bhttp::field::etag]);
    resp.body = w.body;
    resp.body_bytes = w.body.size();
    keep_alive = m.keep_alive();
  } else {
    bhttp::response_parser<bhttp::buffer_body> p;
    p.body_limit(boost::none);
    if (r.head_method) p.skip(true);
    co_await bhttp::async_read_header(w.sock, w.buf, p, asio::use_awaitable);
    if (w.scratch.empty()) w.scratch.resize(1 << 20);
    uint64_t got = 0;
    while (!p.is_done()) {
      p.get().body().data = w.scratch.data();
      p.get().body().size = w.scratch.size();
      auto [ec, n] = co_await bhttp::async_read(w.sock, w.buf, p, asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) throw boost::system::system_error(ec);
      got += w.scratch.size() - p.get().body().size;
    }
    auto& m = p.get();
    resp.status = static_cast<int>(m.result_int());
    w.etag = std::string(m[bhttp::field::etag]);
    resp.body = {};
    resp.body_bytes = got;
    keep_alive = m.keep_alive();
  }
  resp.etag = w.etag;
  if (!keep_alive) {
    boost::system::error_code ec;
    w.sock.close(ec);
    w.open = false;
  }
}

struct Stats {
  uint64_t requests = 0, ok = 0, items = 0, bytes = 0, failed = 0, errors = 0;
  std::vector<std::string> samples;
  std::vector<double> latencies;
  std::vector<std::pair<double, double>> timeline;
  Clock::time_point last{};

  void error(std::string what) {
    ++errors;
    if (samples.size() < 3) samples.push_back(std::move(what));
  }
};

}  // namespace

struct BlockingClient::Impl {
  Target target;
  asio::io_context ioc{1};
  Wire wire{ioc.get_executor()};
};

BlockingClient::BlockingClient(const Target& t) : impl_(std::make_unique<Impl>()) { impl_->target = t; }
BlockingClient::~BlockingClient() = default;

BlockingClient::Reply BlockingClient::call(const Request& r) {
  // A server may close a keep-alive connection that sat idle (during a run, say): a request
  // on a reused connection that fails is sent once more on a new one, as HTTP clients do.
  for (int attempt = 0;; ++attempt) {
    const bool reused = impl_->wire.open;
    Reply out;
    std::exception_ptr failure;
    asio::co_spawn(
        impl_->ioc,
        [&]() -> asio::awaitable<void> {
          Response resp;
          co_await exchange(impl_->wire, impl_->target, r, resp);
          out.status = resp.status;
          out.body = std::string(resp.body);
          out.etag = std::string(resp.etag);
        },
        [&](std::exception_ptr e) { failure = e; });
    impl_->ioc.restart();
    impl_->ioc.run();
    if (!failure) return out;
    impl_->wire.open = false;
    boost::system::error_code ec;
    impl_->wire.sock.close(ec);
    if (!reused || attempt > 0) std::rethrow_exception(failure);
  }
}

LatencySummary summarize(std::vector<double>& l) {
  LatencySummary s;
  if (l.empty()) return s;
  std::sort(l.begin(), l.end());
  auto at = [&](double q) {
    const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(l.size()))) - 1;
    return l[std::min(i, l.size() - 1)];
  };
  s.p50_us = at(0.50);
  s.p99_us = at(0.99);
  s.p999_us = at(0.999);
  s.max_us = l.back();
  return s;
}

EngineResult run(const EngineOptions& o, const std::function<std::unique_ptr<Connection>(int)>& make,
                 bool keep_timeline) {
  asio::io_context ioc(o.threads);
  const int n = o.connections;
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<Stats> stats(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) conns.push_back(make(i));

  // Every connection connects first; the clock starts when all are ready, so no connect
  // time counts as latency or shortens the measured window.
  std::vector<std::unique_ptr<Wire>> wires;
  for (int i = 0; i < n; ++i) {
    wires.push_back(std::make_unique<Wire>(ioc.get_executor()));
    asio::co_spawn(ioc, connect(*wires.back(), o.target), [&st = stats[static_cast<size_t>(i)]](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        st.error(std::string("connect: ") + x.what());
      }
    });
  }
  ioc.run();
  ioc.restart();
  const Clock::time_point start = Clock::now();
  const double start_unix_ms =
      std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
  const bool open_loop = o.rate > 0;
  const double interval_s = open_loop ? static_cast<double>(n) / o.rate : 0;

  auto body = [&](int id) -> asio::awaitable<void> {
    Stats& st = stats[static_cast<size_t>(id)];
    Connection& c = *conns[static_cast<size_t>(id)];
    Wire& w = *wires[static_cast<size_t>(id)];
    if (!w.open) co_return;
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    asio::steady_timer timer(w.sock.get_executor());
    Response resp;
    for (uint64_t k = 0;; ++k) {
      Clock::time_point scheduled;
      if (open_loop) {
        const double at = (static_cast<double>(k) + static_cast<double>(id) / n) * interval_s;
        scheduled = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at));
        if (o.seconds > 0 && scheduled >= end) break;
        if (scheduled > Clock::now()) {
          timer.expires_at(scheduled);
          co_await timer.async_wait(asio::use_awaitable);
        }
      } else {
        if (o.seconds > 0 && Clock::now() >= end) break;
      }
      const Request* r = c.next();
      if (!r) break;
      if (!open_loop) scheduled = Clock::now();
      ++st.requests;
      try {
        co_await exchange(w, o.target, *r, resp);
      } catch (const std::exception& e) {
        st.error(std::string("connection: ") + e.what());
        break;
      }
      const auto now = Clock::now();
      st.last = now;
      const double lat = std::chrono::duration<double, std::micro>(now - scheduled).count();
      st.latencies.push_back(lat);
      if (keep_timeline)
        st.timeline.emplace_back(std::chrono::duration<double, std::micro>(scheduled - start).count(), lat);
      Outcome out = c.done(resp);
      st.failed += out.failed;
      if (out.error) {
        st.error(out.detail.empty() ? "HTTP " + std::to_string(resp.status) : out.detail);
        continue;
      }
      ++st.ok;
      st.items += out.items;
      st.bytes += out.bytes;
      if (out.failed && !out.detail.empty() && st.samples.size() < 3) st.samples.push_back(out.detail);
    }
  };
  for (int i = 0; i < n; ++i) asio::co_spawn(ioc, body(i), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 1; i < o.threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();  // returns when every connection has had its last answer
  for (auto& t : pool) t.join();

  EngineResult r;
  r.start_unix_ms = start_unix_ms;
  Clock::time_point last = start;
  std::vector<double> all;
  for (auto& s : stats) {
    r.requests += s.requests;
    r.ok += s.ok;
    r.items += s.items;
    r.bytes += s.bytes;
    r.failed += s.failed;
    r.errors += s.errors;
    for (auto& e : s.samples)
      if (r.error_samples.size() < 5) r.error_samples.push_back(e);
    all.insert(all.end(), s.latencies.begin(), s.latencies.end());
    r.timeline.insert(r.timeline.end(), s.timeline.begin(), s.timeline.end());
    last = std::max(last, s.last);
  }
  r.seconds = std::chrono::duration<double>(last - start).count();
  if (open_loop && o.seconds > r.seconds) r.seconds = o.seconds;  // the offered window, not its last answer
  r.latency = summarize(all);
  std::sort(r.timeline.begin(), r.timeline.end());
  return r;
}

}  // namespace eddy::bench
