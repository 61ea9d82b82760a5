#pragma once
// Internal to server/http: what the HTTP/1.1 session (server.cpp) and the HTTP/2 session
// (h2.cpp) share. Includes Asio; nothing outside server/http includes this header.
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/http/message.h"
#include "server/http/server.h"

namespace eddy::http::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Coroutines carry their loop's concrete executor: with the type-erased any_io_executor every
// asynchronous operation copied and destroyed one (and its outstanding-work tracking) on the
// way through Beast's composed operations.
using Executor = asio::io_context::executor_type;
template <class T>
using Task = asio::awaitable<T, Executor>;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});

// Sessions run on the bare socket bound to its loop's executor (or TLS over it): deadlines are
// the connection's own (see Connection).
using Socket = asio::basic_stream_socket<tcp, Executor>;
using TlsStream = asio::ssl::stream<Socket>;
// The lowest layer (the TCP socket) of either.
inline Socket& tcp_layer(Socket& s) { return s; }
inline Socket& tcp_layer(TlsStream& s) { return s.next_layer(); }

std::string make_request_id();
std::string http_date(const std::function<int64_t()>& now_ms);
// The same, this thread's cached text (valid until its next call).
const std::string& http_date_ref(const std::function<int64_t()>& now_ms);

// A handler's Pending response (see http::Pending): none, or one that has already finished and
// whose response now stands in res, gives null; otherwise the Pending, still to be waited for.
inline std::shared_ptr<Pending> unfinished(Response& res) {
  if (!res.pending) return nullptr;
  std::shared_ptr<Pending> pending = std::move(res.pending);
  if (!pending->done()) return pending;
  res = pending->take();
  return nullptr;
}
// What the session adds to every response: x-amzn-RequestId and Date unless the handler set
// them, and no body for HEAD.
inline void add_session_headers(Response& res, const Request& req, const std::function<int64_t()>& now_ms) {
  if (!res.headers.has("x-amzn-RequestId")) res.headers.add("x-amzn-RequestId", req.request_id);
  if (!res.headers.has("Date")) res.headers.add("Date", http_date(now_ms));
  if (req.method == "HEAD") res.head = true;
}

// One live connection, registered so that stop() can close the idle ones and the sweep can
// close the ones past their deadline.
struct Connection {
  asio::any_io_executor executor;
  std::function<void()> close;  // runs on `executor`, only while `alive`
  // HTTP/2 only: tells the peer that no new stream will be accepted (GOAWAY); runs on
  // `executor` once when the server starts stopping.
  std::function<void()> goaway;
  // HTTP/2 only: the sweep found the deadline passed; the session decides what to end (a
  // stream past its own deadline is reset, the connection past its deadline closed). Runs on
  // `executor`, only while `alive`. Without it the sweep closes the connection.
  std::function<void()> deadline_passed;
  bool alive = true;            // read and written on `executor` only
  std::atomic<bool> busy{false};
  // Steady-clock nanoseconds by which the current read or write must finish (0: none). Set
  // before every operation; Server::Impl::sweep closes the connection once it has passed.
  std::atomic<int64_t> deadline_ns{0};

  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void arm(std::chrono::seconds within) {
    deadline_ns.store(now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(within).count(),
                      std::memory_order_relaxed);
  }
  // The same at an absolute steady-clock time (Connection::now_ns() scale).
  void arm_until(int64_t ns) { deadline_ns.store(ns, std::memory_order_relaxed); }
  void disarm() { deadline_ns.store(0, std::memory_order_relaxed); }
  bool expired(int64_t now) const {
    const int64_t d = deadline_ns.load(std::memory_order_relaxed);
    return d != 0 && d <= now;
  }
};

// Marks a request as ready on its loop (Loop::enter_ready) until leave(). Leaving runs what
// waited for the loop to settle; a mark still held when it is destroyed (the loop stopped
// under it) only lowers the count.
struct ReadyMark {
  Loop* loop = nullptr;
  ReadyMark(Loop& l, bool on) : loop(on ? &l : nullptr) {
    if (loop) loop->enter_ready();
  }
  ReadyMark(const ReadyMark&) = delete;
  ReadyMark& operator=(const ReadyMark&) = delete;
  void leave() {
    if (loop) std::exchange(loop, nullptr)->leave_ready();
  }
  ~ReadyMark() {
    if (loop) loop->leave_ready(false);
  }
};

// The BodyWriter both protocols hand to a pushed response (Response::push): a queue of the
// handler's writes that the session drains as the peer takes them.
class QueuedBodyWriter : public BodyWriter {
 public:
  bool write(std::string bytes) override {
    if (closed_ || finished_) return false;
    if (bytes.empty()) return true;
    queued_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (wake) wake();
    return true;
  }
  size_t queued() const override { return queued_; }
  void on_drained(std::function<void()> fn) override {
    if (queued_ == 0 || closed_) fn();
    else drained_ = std::move(fn);
  }
  void finish() override {
    if (closed_ || finished_) return;
    finished_ = true;
    if (wake) wake();
  }
  bool closed() const override { return closed_ || finished_; }
  void on_closed(std::function<void()> fn) override {
    if (closed_) fn();
    else closed_fn_ = std::move(fn);
  }

  // The session's side.
  std::function<void()> wake;  // new bytes or the end are queued
  bool finished() const { return finished_; }
  bool gone() const { return closed_; }
  bool empty() const { return queue_.empty(); }
  // Up to `max` bytes from the front of the queue, removed from it.
  std::string take(size_t max) {
    std::string out;
    while (!queue_.empty() && out.size() < max) {
      std::string& front = queue_.front();
      const size_t n = std::min(max - out.size(), front.size());
      if (out.empty() && n == front.size()) out = std::move(front);
      else out.append(front, 0, n);
      if (n == front.size()) queue_.pop_front();
      else front.erase(0, n);
    }
    queued_ -= out.size();
    return out;
  }
  // Everything taken so far has been handed to the connection.
  void sent() {
    if (queued_ == 0 && drained_) std::exchange(drained_, nullptr)();
  }
  // The peer went away (or the server stops): the producer learns it, nothing more is sent.
  void peer_gone() {
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    queued_ = 0;
    wake = nullptr;
    if (closed_fn_) std::exchange(closed_fn_, nullptr)();
    if (drained_) std::exchange(drained_, nullptr)();
  }

 private:
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  bool finished_ = false;
  bool closed_ = false;
  std::function<void()> drained_;
  std::function<void()> closed_fn_;
};

// What an HTTP/2 session needs of the server and of its connection.
struct H2Context {
  const ServerOptions& options;
  Handler& handler;
  Loop& loop;
  Connection& conn;
  const std::atomic<bool>& stopping;
  bool tls = false;
  std::string remote;
  uint16_t local_port = 0;
};

// An HTTP/1.1 request that asked to be upgraded to h2c (Upgrade: h2c, HTTP2-Settings) and
// whose body has been read: it becomes stream 1.
struct H2Upgrade {
  Request request;
  std::string settings;  // the HTTP2-Settings payload, base64url-decoded
};

// The connection preface a prior-knowledge client opens with.
inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Decodes base64url (no padding required); false on a bad character.
bool base64url_decode(std::string_view in, std::string& out);

// Serves one HTTP/2 connection to its end. `already_read` are bytes read from the stream
// before (the preface, or what followed the upgraded request).
template <class Stream>
Task<void> serve_h2(Stream& stream, H2Context ctx, std::string already_read, H2Upgrade* upgrade);
extern template Task<void> serve_h2<Socket>(Socket&, H2Context, std::string, H2Upgrade*);
extern template Task<void> serve_h2<TlsStream>(TlsStream&, H2Context, std::string, H2Upgrade*);

}  // namespace eddy::http::detail
