// HTTP/2 sessions (RFC 9113) on libnghttp2: framing, HPACK, flow control and stream states are
// nghttp2's; this file maps its streams onto the front end's one request/response model
// (Request, Dispatch, Response), so every service, hook and limit serves both protocols.
//
// A connection runs two coroutines on its loop: the reader feeds what arrives to
// nghttp2_session_mem_recv, the writer sends what nghttp2_session_mem_send produces. Handlers
// never run inside nghttp2's callbacks: the callbacks only record what arrived, and once a read
// has been parsed the requests it completed are marked ready on the loop together (Loop::
// enter_ready) and then handed to their handlers from a posted turn (process), so Kinesis'
// group commit takes all the PutRecords that arrived in one read, and in the other
// connections' reads of the same turn, into one write, as over HTTP/1.1.
//
// Deadlines (docs/reliability.md, "Slow and greedy clients"), the HTTP/1.1 flags in HTTP/2's
// terms: the client's preface and SETTINGS within --header-timeout of the connection (or of
// the preface's first byte); each request's header block (HEADERS and CONTINUATION) within
// --header-timeout of its first frame, else GOAWAY and close (nothing else may be sent on
// the connection meanwhile); each request body's pieces within --request-timeout and at
// --body-min-rate on average after a first --request-timeout, else RST_STREAM CANCEL for that
// stream alone (the handler's sink is dropped: nothing is stored); while no stream is open,
// --idle-timeout from the last stream's end (PINGs do not extend it); else each read and write
// must progress within --request-timeout. They are one deadline in the Connection (the
// earliest), which the server's sweep checks; when it passes the sweep asks the session
// (deadline_passed), which ends what is late and arms the next.
#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include "server/http/dispatch.h"
#include "server/http/internal.h"

namespace eddy::http::detail {

namespace {

constexpr uint32_t kMaxConcurrentStreams = 100;
// Per stream and per connection, what a client may send ahead of our reading it. Handlers
// consume bodies as they arrive (as over HTTP/1.1), so this only bounds one read's worth.
constexpr int32_t kStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;
// What one connection may hold in memory at once: request bodies buffered for their handlers
// plus response bodies the peer has not taken yet (its flow-control window closed). Over it, new
// streams are refused and a buffered body that would pass it is refused (RST_STREAM
// REFUSED_STREAM: nothing was processed, the client may retry). One request alone is bounded
// by its handler's own limit (--max-kinesis-body-bytes, 16 MiB), below this, so one stream
// always gets through. Without it 100 streams x 16 MiB bodies would be 1.6 GiB a connection.
constexpr size_t kConnectionHeldBytes = 32 << 20;
// RST_STREAM floods (CVE-2023-44487 "rapid reset"): nghttp2's token bucket, 1,000 at once and 33
// a second after that, then GOAWAY. Also nghttp2's bounds on SETTINGS entries (32 a frame),
// queued SETTINGS/PING acks (1,000) and CONTINUATION frames (8 a header block), set here so
// that they are eddy's stated limits whatever the library's defaults become.
constexpr uint64_t kResetBurst = 1000;
constexpr uint64_t kResetRate = 33;
constexpr size_t kMaxSettings = 32;
constexpr size_t kMaxOutboundAcks = 1000;
constexpr size_t kMaxContinuations = 8;
constexpr size_t kWriteBatch = 64 * 1024;
constexpr size_t kReadBytes = 64 * 1024;

// HTTP/1.1 connection-specific headers, which HTTP/2 forbids (RFC 9113 8.2.2).
bool connection_specific(std::string_view name) {
  switch (name.size()) {
    case 7: return iequals(name, "upgrade");
    case 10: return iequals(name, "connection") || iequals(name, "keep-alive");
    case 16: return iequals(name, "proxy-connection");
    case 17: return iequals(name, "transfer-encoding");
    default: return false;
  }
}

struct H2Stream {
  int32_t id = 0;
  Request req;
  size_t header_bytes = 0;
  bool headers_too_large = false;
  bool headers_done = false;  // the request's HEADERS have all arrived
  bool end_stream = false;    // so has its body
  bool dispatched = false;
  bool ready = false;         // counted as ready on the loop (H2Session::process)
  bool finished = false;      // the handler has its whole body (or has answered early)
  bool responded = false;
  size_t held = 0;  // its bytes counted in H2Session::held_
  // Deadlines (steady-clock ns, Connection::now_ns()): the header block's first frame, the
  // body's start, its bytes so far and the latest piece's arrival. `late`: reset for a deadline.
  int64_t head_start_ns = 0;
  int64_t body_start_ns = 0;
  int64_t piece_ns = 0;
  uint64_t body_received = 0;
  bool late = false;
  std::vector<std::string> data;  // body pieces not yet handed to the handler

  enum class Mode { immediate, buffer, sink, discard } mode = Mode::discard;
  BufferBody buffer;
  std::unique_ptr<BodySink> sink;

  // The response body nghttp2 pulls (see read_body).
  enum class Body { none, string, source, pushed } body_kind = Body::none;
  std::string body;
  size_t body_pos = 0;
  std::unique_ptr<BodySource> source;
  std::shared_ptr<QueuedBodyWriter> pusher;
  bool deferred = false;  // nghttp2 waits for nghttp2_session_resume_data
  std::shared_ptr<asio::steady_timer> timer;  // delay and trickle faults
};

template <class Stream>
class H2Session : public std::enable_shared_from_this<H2Session<Stream>> {
 public:
  H2Session(Stream& stream, H2Context ctx)
      : stream_(stream), ctx_(std::move(ctx)), done_bell_(stream.get_executor()) {}
  ~H2Session() {
    if (session_) nghttp2_session_del(session_);
    // Only when the loop stopped under a posted hand-off (see ReadyMark).
    for (; ready_held_ > 0; --ready_held_) ctx_.loop.leave_ready(false);
  }

  Task<void> run(std::string already_read, H2Upgrade* upgrade) {
    now_ns_ = idle_since_ns_ = Connection::now_ns();
    preface_deadline_ns_ = now_ns_ + seconds_ns(ctx_.options.header_timeout_s);
    if (!upgrade && !already_read.empty()) {
      // A prior-knowledge preface, begun before the session: its first byte armed
      // --header-timeout, which the SETTINGS frame after it must meet too.
      const int64_t armed = ctx_.conn.deadline_ns.load(std::memory_order_relaxed);
      if (armed != 0) preface_deadline_ns_ = std::min(preface_deadline_ns_, armed);
    }
    if (!init(upgrade)) co_return;
    ctx_.conn.busy = true;
    ctx_.conn.goaway = [self = this->weak_from_this()] {
      if (auto s = self.lock()) s->go_away();
    };
    ctx_.conn.deadline_passed = [self = this->weak_from_this()] {
      if (auto s = self.lock()) s->deadline_passed();
    };
    if (ctx_.stopping.load()) go_away();

    // The writer runs beside this reader; the reader ends last (the stream, and this session,
    // live in the caller's frame until then), so the writer holds no reference of its own.
    writer_running_ = true;
    asio::co_spawn(stream_.get_executor(), write_loop(), asio::detached);

    if (!already_read.empty() && !feed(already_read.data(), already_read.size())) dead_ = true;
    std::vector<char> buf(kReadBytes);
    while (!dead_ && (nghttp2_session_want_read(session_) || nghttp2_session_want_write(session_))) {
      rearm();
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), use_nothrow);
      if (ec) break;
      if (!feed(buf.data(), n)) break;
      // The requests just read are answered from a posted turn (process): read again after
      // it, since a read now would mostly find the socket empty (one more recvfrom a request).
      if (handoff_posted_) co_await asio::post(stream_.get_executor(), asio::use_awaitable_t<Executor>{});
    }
    dead_ = true;
    kick();
    while (writer_running_) {
      done_bell_.expires_at(asio::steady_timer::time_point::max());
      co_await done_bell_.async_wait(use_nothrow);
    }
    end_streams();
    ctx_.conn.goaway = nullptr;
    ctx_.conn.deadline_passed = nullptr;
    auto& tcp = tcp_layer(stream_);
    boost::system::error_code ec;
    if constexpr (std::is_same_v<Stream, Socket>) {
      tcp.shutdown(Socket::shutdown_send, ec);
    } else {
      if (tcp.is_open()) {
        ctx_.conn.arm(std::chrono::seconds(2));
        co_await stream_.async_shutdown(use_nothrow);
      }
    }
    tcp.close(ec);
  }

 private:
  // ---- setup ----------------------------------------------------------------------------
  bool init(H2Upgrade* upgrade) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &H2Session::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Session::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2Session::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Session::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Session::on_stream_close);
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    // The peer's header blocks are bounded by --max-header-bytes below; nghttp2's own bound
    // on what it decodes is the same.
    nghttp2_option_set_max_send_header_block_length(opt, 256 * 1024);
    nghttp2_option_set_stream_reset_rate_limit(opt, kResetBurst, kResetRate);
    nghttp2_option_set_max_settings(opt, kMaxSettings);
    nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundAcks);
    nghttp2_option_set_max_continuations(opt, kMaxContinuations);
    const int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return false;

    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(ctx_.options.max_header_bytes)},
    };
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0) return false;
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);

    if (upgrade) {
      const bool head = upgrade->request.method == "HEAD";
      if (nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(upgrade->settings.data()),
                                   upgrade->settings.size(), head ? 1 : 0, nullptr) != 0)
        return false;
      auto st = std::make_unique<H2Stream>();
      st->id = 1;
      st->req = std::move(upgrade->request);
      if (!st->req.body.empty()) st->data.push_back(std::move(st->req.body));
      st->req.body.clear();
      st->headers_done = true;
      st->end_stream = true;
      streams_[1] = std::move(st);
      touched_.push_back(1);
      process();
    }
    return true;
  }

  // ---- reading --------------------------------------------------------------------------
  bool feed(const char* data, size_t n) {
    now_ns_ = Connection::now_ns();
    const ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), n);
    if (rv < 0) {
      spdlog::debug("http2: {}", nghttp2_strerror(static_cast<int>(rv)));
      kick();
      return false;
    }
    process();
    kick();
    return true;
  }

  // The stream of the last lookup is kept: nghttp2 calls back for every header of a request in
  // turn (ten and more a request), so the map is searched once a frame, not once a header.
  H2Stream* find(int32_t id) {
    if (last_ && last_->id == id) return last_;
    auto it = streams_.find(id);
    if (it == streams_.end()) return nullptr;
    return last_ = it->second.get();
  }
  void touch(int32_t id) {
    if (touched_.empty() || touched_.back() != id) touched_.push_back(id);
  }

  static H2Session* self(void* p) { return static_cast<H2Session*>(p); }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto* s = self(user);
    if (s->held_ > kConnectionHeldBytes) {
      // The connection holds its share of memory: no new work until the peer reads (or its
      // bodies are handled). Its frames are ignored (no H2Stream).
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    auto st = std::make_unique<H2Stream>();
    st->id = frame->hd.stream_id;
    st->head_start_ns = s->now_ns_;
    Request& req = st->req;
    req.request_id = make_request_id();
    req.remote_address = s->ctx_.remote;
    req.tls = s->ctx_.tls;
    req.local_port = s->ctx_.local_port;
    req.loop = &s->ctx_.loop;
    req.headers.reserve(16);  // SDK requests carry 10-14 fields: no regrowth
    s->streams_[st->id] = std::move(st);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* s = self(user);
    H2Stream* st = s->find(frame->hd.stream_id);
    if (!st || st->headers_done) return 0;  // trailers: not passed on (as over HTTP/1.1)
    st->header_bytes += namelen + valuelen + 32;  // RFC 9113's accounting
    if (st->header_bytes > s->ctx_.options.max_header_bytes) {
      st->headers_too_large = true;
      return 0;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    Request& req = st->req;
    if (!n.empty() && n[0] == ':') {
      if (n == ":method") req.method = std::move(v);
      else if (n == ":path") req.target = std::move(v);
      else if (n == ":authority") {
        // Services read Host; a SigV4 signature over HTTP/2 may cover ":authority" instead
        // (the JS SDK's NodeHttp2Handler signs that), so both are kept.
        req.headers.add("host", v);
        req.headers.add(":authority", std::move(v));
      }
      return 0;
    }
    if (n == "host" && req.headers.has("host")) return 0;  // :authority already gave it
    req.headers.add(std::string(n), std::move(v));
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* s = self(user);
    // The client's first SETTINGS completes its preface.
    if (frame->hd.type == NGHTTP2_SETTINGS) s->preface_done_ = true;
    H2Stream* st = s->find(frame->hd.stream_id);
    if (!st) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (!st->headers_done) {
        st->headers_done = true;
        st->body_start_ns = st->piece_ns = s->now_ns_;
        s->touch(st->id);
      }
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        st->end_stream = true;
        s->touch(st->id);
      }
    } else if (frame->hd.type == NGHTTP2_DATA && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      st->end_stream = true;
      s->touch(st->id);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                           void* user) {
    auto* s = self(user);
    H2Stream* st = s->find(stream_id);
    if (!st) return 0;
    st->body_received += len;
    st->piece_ns = s->now_ns_;
    if (st->finished) return 0;
    st->data.emplace_back(reinterpret_cast<const char*>(data), len);
    s->touch(stream_id);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
    auto* s = self(user);
    auto it = s->streams_.find(stream_id);
    if (it == s->streams_.end()) return 0;
    H2Stream& st = *it->second;
    s->release(st, st.held);
    if (st.pusher) st.pusher->peer_gone();
    if (st.timer) st.timer->cancel();
    if (s->last_ == &st) s->last_ = nullptr;
    s->streams_.erase(it);
    if (s->streams_.empty()) s->idle_since_ns_ = Connection::now_ns();
    return 0;
  }

  // What the last read completed, handed to the handlers (see the file comment). The requests
  // it completed whole count as ready on the loop at once, and their handlers run from a
  // posted turn, after the reads of the other connections that this turn of the event loop
  // completed: those count as ready too before any handler runs, so the PutRecords that
  // arrived on several connections together commit in one write (as the HTTP/1.1 session's
  // body read, completed through a posted handler, lets them).
  void process() {
    if (touched_.empty()) return;
    for (int32_t id : touched_) {
      H2Stream* st = find(id);
      const bool whole = st && st->headers_done && !st->dispatched && st->end_stream && !st->ready;
      if (whole) {
        st->ready = true;
        ctx_.loop.enter_ready();
        ++ready_held_;
      }
      queued_.push_back(id);
    }
    touched_.clear();
    if (std::exchange(handoff_posted_, true)) return;
    asio::post(stream_.get_executor(), [self = this->weak_from_this()] {
      if (auto s = self.lock()) s->hand_off();
    });
  }

  void hand_off() {
    handoff_posted_ = false;
    std::vector<int32_t> ids;
    ids.swap(queued_);
    for (int32_t id : ids) {
      H2Stream* st = find(id);
      if (!st) continue;
      advance(*st);
      // Its handler has returned: it is no longer ready (the last one settles the loop).
      if (std::exchange(st->ready, false)) leave_ready();
    }
    // Marks of streams closed meanwhile.
    while (ready_held_ > 0 && queued_.empty() && !any_ready()) leave_ready();
    kick();
  }
  bool any_ready() const {
    for (auto& [id, st] : streams_)
      if (st->ready) return true;
    return false;
  }
  void leave_ready() {
    --ready_held_;
    ctx_.loop.leave_ready();
  }

  void advance(H2Stream& st) {
    if (!st.headers_done) return;
    if (!st.dispatched) dispatch(st);
    if (st.finished) {
      st.data.clear();
      return;
    }
    std::vector<std::string> pieces;
    pieces.swap(st.data);
    for (auto& piece : pieces) {
      if (st.mode == H2Stream::Mode::buffer) {
        if (held_ + piece.size() > kConnectionHeldBytes && held_ > st.held) {
          // Other streams hold the connection's share: this one is refused, unprocessed.
          st.finished = true;
          st.responded = true;
          nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_REFUSED_STREAM);
          return;
        }
        if (st.req.body.size() + piece.size() > st.buffer.max_bytes) {
          st.finished = true;
          respond(st, guard(ctx_.handler, st.req, [&] { return st.buffer.too_large(st.req); }));
          return;
        }
        st.req.body += piece;
        hold(st, piece.size());
      } else if (st.mode == H2Stream::Mode::sink) {
        if (auto early = guard(ctx_.handler, st.req, [&] { return st.sink->write(piece); })) {
          st.finished = true;
          respond(st, std::move(*early));
          return;
        }
      }
    }
    if (!st.end_stream) return;
    st.finished = true;
    if (st.mode == H2Stream::Mode::buffer) respond(st, guard(ctx_.handler, st.req, [&] { return st.buffer.handle(st.req); }));
    else if (st.mode == H2Stream::Mode::sink) respond(st, guard(ctx_.handler, st.req, [&] { return st.sink->finish(); }));
  }

  void dispatch(H2Stream& st) {
    st.dispatched = true;
    Request& req = st.req;
    if (st.headers_too_large || req.method.empty() || req.target.empty()) {
      Response bad;
      bad.status = st.headers_too_large ? 431 : 400;
      bad.headers.add("Content-Type", "text/plain");
      bad.body = st.headers_too_large ? "header fields too large\n" : "bad request\n";
      st.finished = true;
      respond(st, std::move(bad));
      return;
    }
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    const bool expect_continue = iequals(req.headers.get("Expect"), "100-continue");
    Dispatch d = guard(ctx_.handler, req, [&] { return ctx_.handler.dispatch(req); });
    if (auto* imm = std::get_if<Immediate>(&d)) {
      st.mode = H2Stream::Mode::discard;
      st.finished = true;
      respond(st, std::move(imm->response));
      return;
    }
    if (auto* buf = std::get_if<BufferBody>(&d)) {
      st.mode = H2Stream::Mode::buffer;
      st.buffer = std::move(*buf);
      uint64_t len = 0;
      const auto cl = req.headers.get("content-length");
      if (!cl.empty() && std::from_chars(cl.data(), cl.data() + cl.size(), len).ec == std::errc() &&
          len > st.buffer.max_bytes) {
        st.finished = true;
        respond(st, guard(ctx_.handler, req, [&] { return st.buffer.too_large(req); }));
        return;
      }
    } else {
      st.mode = H2Stream::Mode::sink;
      st.sink = std::move(std::get<StreamBody>(d).sink);
    }
    if (expect_continue && !st.end_stream) {
      static char status[] = ":status", hundred[] = "100";
      const nghttp2_nv nv[] = {{reinterpret_cast<uint8_t*>(status), reinterpret_cast<uint8_t*>(hundred), 7, 3,
                                NGHTTP2_NV_FLAG_NONE}};
      nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, st.id, nullptr, nv, 1, nullptr);
    }
  }

  // ---- responding -----------------------------------------------------------------------
  void respond(H2Stream& st, Response res) {
    if (st.responded) return;
    st.responded = true;
    if (std::shared_ptr<Pending> pending = unfinished(res)) {
      // The handler keeps the Pending until it completes it (see the HTTP/1.1 session).
      Pending* p = pending.get();
      p->on_complete([self = this->weak_from_this(), id = st.id, p] {
        auto s = self.lock();
        if (!s) return;
        H2Stream* st = s->find(id);
        if (!st) return;
        s->send(*st, p->take());
        s->kick();
      });
      return;
    }
    send(st, std::move(res));
  }

  void send(H2Stream& st, Response res) {
    add_session_headers(res, st.req, ctx_.options.now_ms);
    if (res.delay_ms > 0) {
      const uint32_t delay = res.delay_ms;
      res.delay_ms = 0;
      auto shared = std::make_shared<Response>(std::move(res));
      st.timer = std::make_shared<asio::steady_timer>(stream_.get_executor());
      st.timer->expires_after(std::chrono::milliseconds(delay));
      st.timer->async_wait([self = this->weak_from_this(), id = st.id, shared](boost::system::error_code ec) {
        auto s = self.lock();
        if (ec || !s) return;
        if (H2Stream* st = s->find(id)) {
          s->send(*st, std::move(*shared));
          s->kick();
        }
      });
      return;
    }
    switch (res.action) {
      case ConnectionAction::close_without_response:
      case ConnectionAction::reset:
        // HTTP/2's way of dropping one request without answering: RST_STREAM.
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id,
                                  res.action == ConnectionAction::reset ? NGHTTP2_CANCEL : NGHTTP2_INTERNAL_ERROR);
        return;
      case ConnectionAction::close_after:
        go_away_after_ = true;
        break;
      default:
        break;
    }

    // The head: nghttp2 copies names and values, so they point into `res` and two small
    // buffers. Names go lower-case in place (HTTP/2 wants them so; the response is ours).
    auto nv_of = [](std::string_view k, std::string_view v, uint8_t flags = NGHTTP2_NV_FLAG_NONE) {
      return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(k.data())),
                        reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), k.size(), v.size(), flags};
    };
    std::vector<nghttp2_nv>& nv = nv_scratch_;
    nv.clear();
    char status[8], length[24];
    const auto status_end = std::to_chars(status, status + sizeof status, res.status).ptr;
    nv.push_back(nv_of(":status", std::string_view(status, static_cast<size_t>(status_end - status))));
    bool has_length = false;
    // The per-response ids (x-amzn-RequestId, x-amz-id-2) are sent never-indexed: a value
    // unique to each response would only churn the peer's HPACK table. Their names, though,
    // are then sent as literals every time (Huffman-coded: ~600 instructions a response)
    // unless the table holds them: once a second the ids go indexed, so the table always
    // holds an entry of each name (Date, the other entry that changes, also does once a
    // second) and the rest refer to the name by index.
    const int64_t second =
        ctx_.options.now_ms ? ctx_.options.now_ms() / 1000 : static_cast<int64_t>(std::time(nullptr));
    const bool index_ids = second != ids_indexed_s_;
    for (auto& [k, v] : res.headers.items()) {
      if (connection_specific(k)) continue;
      for (char& c : k)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (k == "content-length") has_length = true;
      // Values unique to each response would only churn the peer's HPACK table.
      const bool unique = k == "x-amzn-requestid" || k == "x-amz-id-2" || k == "x-amz-request-id";
      nv.push_back(nv_of(k, v, unique && !index_ids ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE));
    }
    if (index_ids) ids_indexed_s_ = second;
    const bool no_body_status = res.status == 204 || res.status == 304 || res.status < 200;
    if (!has_length && !no_body_status && !res.push && (res.content_length || !res.stream)) {
      const uint64_t n = res.content_length ? *res.content_length : res.body.size();
      const auto end = std::to_chars(length, length + sizeof length, n).ptr;
      nv.push_back(nv_of("content-length", std::string_view(length, static_cast<size_t>(end - length))));
    }

    // The body, pulled by nghttp2 as the peer's window allows (read_body).
    nghttp2_data_provider prd{};
    prd.source.ptr = &st;
    prd.read_callback = &H2Session::read_body;
    bool has_body = !res.head && !no_body_status;
    if (has_body) {
      if (res.push) {
        st.body_kind = H2Stream::Body::pushed;
        st.pusher = std::make_shared<QueuedBodyWriter>();
      } else if (res.action == ConnectionAction::trickle) {
        st.body_kind = H2Stream::Body::pushed;
        st.pusher = std::make_shared<QueuedBodyWriter>();
      } else if (res.stream) {
        st.body_kind = H2Stream::Body::source;
        st.source = std::move(res.stream);
      } else if (!res.body.empty()) {
        st.body_kind = H2Stream::Body::string;
        st.body = std::move(res.body);
        hold(st, st.body.size());
      } else {
        has_body = false;
      }
    }
    const int rv = nghttp2_submit_response(session_, st.id, nv.data(), nv.size(), has_body ? &prd : nullptr);
    if (rv != 0) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (st.pusher) {
      st.pusher->wake = [self = this->weak_from_this(), id = st.id] {
        if (auto s = self.lock()) {
          s->resume_.push_back(id);
          s->kick();
        }
      };
      if (res.push) {
        res.push(st.pusher);
      } else {
        trickle(st.id, std::make_shared<std::string>(std::move(res.body)), 0, std::max<uint32_t>(1, res.trickle_bytes),
                res.trickle_interval_ms);
      }
    }
    if (go_away_after_) go_away();
  }

  // A trickle fault: `bytes` at a time, `interval_ms` apart.
  void trickle(int32_t id, std::shared_ptr<std::string> body, size_t pos, uint32_t bytes, uint32_t interval_ms) {
    H2Stream* st = find(id);
    if (!st || !st->pusher || st->pusher->closed()) return;
    const size_t n = std::min<size_t>(bytes, body->size() - pos);
    if (n == 0) {
      st->pusher->finish();
      return;
    }
    st->pusher->write(body->substr(pos, n));
    st->timer = std::make_shared<asio::steady_timer>(stream_.get_executor());
    st->timer->expires_after(std::chrono::milliseconds(interval_ms));
    st->timer->async_wait([self = this->weak_from_this(), id, body, pos, n, bytes,
                           interval_ms](boost::system::error_code ec) {
      if (auto s = self.lock(); s && !ec) {
        s->trickle(id, body, pos + n, bytes, interval_ms);
      }
    });
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void* user) {
    auto& st = *static_cast<H2Stream*>(source->ptr);
    switch (st.body_kind) {
      case H2Stream::Body::string: {
        const size_t n = std::min(length, st.body.size() - st.body_pos);
        std::memcpy(buf, st.body.data() + st.body_pos, n);
        st.body_pos += n;
        self(user)->release(st, n);
        if (st.body_pos == st.body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
      }
      case H2Stream::Body::source: {
        // The head is out: a throwing source can only end the stream (logged, never unwound
        // through nghttp2).
        const int64_t n = guard_read(st.req, [&] { return st.source->read(reinterpret_cast<char*>(buf), length); });
        if (n < 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
        if (n == 0) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
      }
      case H2Stream::Body::pushed: {
        auto& w = *st.pusher;
        if (w.gone()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        if (w.empty()) {
          if (w.finished()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
          }
          st.deferred = true;
          return NGHTTP2_ERR_DEFERRED;
        }
        std::string piece = w.take(length);
        std::memcpy(buf, piece.data(), piece.size());
        if (w.empty() && w.finished()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        // The producer hears that its bytes have gone out on the writer's next turn.
        st.deferred = false;
        return static_cast<ssize_t>(piece.size());
      }
      case H2Stream::Body::none:
        break;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }

  // The connection's held bytes (kConnectionHeldBytes).
  void hold(H2Stream& st, size_t n) {
    st.held += n;
    held_ += n;
  }
  void release(H2Stream& st, size_t n) {
    n = std::min(n, st.held);
    st.held -= n;
    held_ -= n;
  }

  // ---- writing --------------------------------------------------------------------------
  // Wakes the writer: resumes it here and now when it waits (as the HTTP/1.1 session resumes on
  // a Pending), else makes its next wait return at once; no timer is re-armed per response.
  void kick() {
    if (writer_waiting_) std::exchange(writer_waiting_, nullptr)();
    else rung_ = true;
  }

  Task<void> write_loop() {
    std::string out;
    while (true) {
      // Deferred pushed bodies with new bytes (or their end) go on.
      if (!resume_.empty()) {
        std::vector<int32_t> ids;
        ids.swap(resume_);
        for (int32_t id : ids)
          if (H2Stream* st = find(id); st && st->deferred) {
            st->deferred = false;
            nghttp2_session_resume_data(session_, id);
          }
      }
      out.clear();
      while (out.size() < kWriteBatch) {
        const uint8_t* data = nullptr;
        const ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
          spdlog::debug("http2: {}", nghttp2_strerror(static_cast<int>(n)));
          dead_ = true;
          break;
        }
        if (n == 0) break;
        out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      if (!out.empty()) {
        progress_deadline_ns_ = Connection::now_ns() + seconds_ns(ctx_.options.request_timeout_s);
        arm();
        auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(out), use_nothrow);
        if (ec) break;
        rearm();
        notify_drained();
        continue;
      }
      notify_drained();
      if (!resume_.empty()) continue;
      if (dead_ || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) break;
      if (std::exchange(rung_, false)) continue;
      // The initiation captures nothing with a destructor (GCC 12: see the HTTP/1.1 session).
      auto init = [waiting = &writer_waiting_](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        *waiting = [h] { (*h)(); };
      };
      co_await asio::async_initiate<const asio::use_awaitable_t<Executor>&, void()>(init,
                                                                                    asio::use_awaitable_t<Executor>{});
    }
    dead_ = true;
    // Ends the reader's wait on the socket.
    boost::system::error_code ec;
    tcp_layer(stream_).cancel(ec);
    if (!nghttp2_session_want_read(session_)) tcp_layer(stream_).shutdown(Socket::shutdown_receive, ec);
    writer_running_ = false;
    done_bell_.cancel();
  }

  // Producers whose queued bytes have all gone out hear it (they may write more: the bell).
  void notify_drained() {
    std::vector<std::shared_ptr<QueuedBodyWriter>> ws;
    for (auto& [id, st] : streams_)
      if (st->pusher && st->pusher->queued() == 0) ws.push_back(st->pusher);
    for (auto& w : ws) w->sent();
  }

  static int64_t seconds_ns(int s) { return int64_t{s} * 1'000'000'000; }

  // After progress (a read, a write): the idle timeout from the last stream's end while no
  // stream is open, else the request timeout from now; then the earliest deadline is armed.
  void rearm() {
    if (streams_.empty()) progress_deadline_ns_ = idle_since_ns_ + seconds_ns(ctx_.options.idle_timeout_s);
    else progress_deadline_ns_ = Connection::now_ns() + seconds_ns(ctx_.options.request_timeout_s);
    arm();
  }

  // A stream's own deadline (0: none): its header block's, or while its body comes, the next
  // piece's (--request-timeout) or the body's minimum rate's (the HTTP/1.1 session's rule:
  // start + --request-timeout + received / --body-min-rate), whichever is first.
  int64_t stream_deadline(const H2Stream& st) const {
    if (st.late) return 0;
    if (!st.headers_done) return st.head_start_ns + seconds_ns(ctx_.options.header_timeout_s);
    if (st.end_stream) return 0;
    const int64_t grace = seconds_ns(ctx_.options.request_timeout_s);
    int64_t d = st.piece_ns + grace;
    if (const uint64_t rate = ctx_.options.body_min_rate; rate > 0) {
      const uint64_t credit_s = st.body_received / rate;
      const uint64_t credit_ns = credit_s >= (uint64_t{1} << 32) ? (uint64_t{1} << 62)
                                                                  : credit_s * 1'000'000'000 +
                                                                        (st.body_received % rate) * 1'000'000'000 / rate;
      d = std::min(d, st.body_start_ns + grace + static_cast<int64_t>(credit_ns));
    }
    return d;
  }

  // The connection's deadline: the earliest of the progress deadline, the preface's, a
  // closing connection's and the streams'.
  void arm() {
    int64_t d = std::min(progress_deadline_ns_, closing_deadline_ns_);
    if (!preface_done_) d = std::min(d, preface_deadline_ns_);
    for (auto& [id, st] : streams_)
      if (const int64_t sd = stream_deadline(*st); sd != 0 && sd < d) d = sd;
    ctx_.conn.arm_until(d);
  }

  // The sweep found the connection's deadline passed (see the file comment).
  void deadline_passed() {
    const int64_t now = Connection::now_ns();
    if (progress_deadline_ns_ <= now || closing_deadline_ns_ <= now || (!preface_done_ && preface_deadline_ns_ <= now)) {
      if (!preface_done_) spdlog::debug("http2: no preface from {} within --header-timeout: closed", ctx_.remote);
      ctx_.conn.close();
      return;
    }
    bool header_late = false, reset = false;
    for (auto& [id, st] : streams_) {
      const int64_t sd = stream_deadline(*st);
      if (sd == 0 || sd > now) continue;
      if (!st->headers_done) {
        header_late = true;
        continue;
      }
      // A body too slow: this stream alone ends (its handler's sink goes with it).
      spdlog::debug("http2: stream {} from {}: request body below --body-min-rate or a piece later than "
                    "--request-timeout ({} bytes): reset",
                    id, ctx_.remote, st->body_received);
      st->late = true;
      reset = true;
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    }
    if (header_late) {
      // A header block holds the whole connection (nothing may come between its frames): it
      // goes: a GOAWAY, and the connection is closed once that is sent, or within 2 s if the
      // peer does not read it.
      spdlog::debug("http2: a request head from {} took longer than --header-timeout: GOAWAY", ctx_.remote);
      nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
      closing_deadline_ns_ = now + seconds_ns(2);
      goaway_sent_ = true;
      reset = true;
    }
    arm();
    if (reset) kick();
  }

  // Graceful end (server stopping, a close_after fault): GOAWAY naming the last stream taken;
  // the streams under way finish, pushed bodies end, then the connection closes.
  void go_away() {
    if (goaway_sent_ || !session_) return;
    goaway_sent_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    std::vector<std::shared_ptr<QueuedBodyWriter>> ws;
    for (auto& [id, st] : streams_)
      if (st->pusher) ws.push_back(st->pusher);
    for (auto& w : ws) w->finish();
    kick();
  }

  // The connection is gone: producers learn it.
  void end_streams() {
    std::vector<std::shared_ptr<QueuedBodyWriter>> ws;
    for (auto& [id, st] : streams_) {
      if (st->pusher) ws.push_back(st->pusher);
      if (st->timer) st->timer->cancel();
    }
    for (auto& w : ws) w->peer_gone();
  }

  Stream& stream_;
  H2Context ctx_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<H2Stream>> streams_;
  H2Stream* last_ = nullptr;  // find()'s last answer
  int64_t ids_indexed_s_ = -1;  // the second in which send() last indexed the per-response ids
  size_t held_ = 0;  // request bodies buffered + response bytes unsent, all streams
  std::vector<int32_t> touched_;  // streams the current read reached, in order
  std::vector<nghttp2_nv> nv_scratch_;  // send()'s header list, reused
  std::vector<int32_t> queued_;   // ... waiting for the posted hand-off (process)
  bool handoff_posted_ = false;
  size_t ready_held_ = 0;         // enter_ready calls not yet left
  std::vector<int32_t> resume_;   // pushed streams with something new
  std::function<void()> writer_waiting_;  // resumes the writer (kick)
  bool rung_ = false;                     // kicked while the writer was busy
  asio::steady_timer done_bell_;  // the writer has ended
  bool writer_running_ = false;
  bool dead_ = false;
  bool goaway_sent_ = false;
  bool go_away_after_ = false;
  // Deadlines (see the file comment), steady-clock ns.
  int64_t now_ns_ = 0;                 // the current read's time (the callbacks' clock)
  int64_t progress_deadline_ns_ = INT64_MAX;
  int64_t closing_deadline_ns_ = INT64_MAX;
  int64_t preface_deadline_ns_ = 0;
  int64_t idle_since_ns_ = 0;          // when the last stream ended (or the session began)
  bool preface_done_ = false;          // the client's SETTINGS has arrived
};

}  // namespace

template <class Stream>
Task<void> serve_h2(Stream& stream, H2Context ctx, std::string already_read, H2Upgrade* upgrade) {
  auto session = std::make_shared<H2Session<Stream>>(stream, std::move(ctx));
  co_await session->run(std::move(already_read), upgrade);
}

template Task<void> serve_h2<Socket>(Socket&, H2Context, std::string, H2Upgrade*);
template Task<void> serve_h2<TlsStream>(TlsStream&, H2Context, std::string, H2Upgrade*);

}  // namespace eddy::http::detail
