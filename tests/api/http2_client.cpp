#include "tests/api/http2_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace eddy::test {

struct H2ClientCallbacks {
  static H2Client* self(void* p) { return static_cast<H2Client*>(p); }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto& r = self(user)->responses_[frame->hd.stream_id];
    const std::string n(reinterpret_cast<const char*>(name), namelen);
    const std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      const int status = std::stoi(v);
      if (status < 200) r.informational.push_back(status);
      else r.status = status;
    } else if (r.status >= 200) {
      r.headers[n] = v;
    }
    return 0;
  }

  static int on_data(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    auto* c = self(user);
    c->responses_[id].body.append(reinterpret_cast<const char*>(data), len);
    // The connection's window always reopens; a stalled stream's does not.
    if (c->stalled_.count(id)) {
      c->unconsumed_[id] += len;
      nghttp2_session_consume_connection(session, len);
    } else {
      nghttp2_session_consume(session, id, len);
    }
    return 0;
  }

  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* c = self(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      c->goaway_ = true;
      c->goaway_last_ = frame->goaway.last_stream_id;
      c->goaway_error_ = frame->goaway.error_code;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
      c->responses_[frame->hd.stream_id].done = true;
    return 0;
  }

  static int on_close(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    auto& r = self(user)->responses_[id];
    r.closed = true;
    r.error_code = code;
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void* user) {
    auto* c = self(user);
    auto& body = *static_cast<std::string*>(source->ptr);
    size_t& pos = c->body_pos_[id];
    const size_t n = std::min(length, body.size() - pos);
    std::memcpy(buf, body.data() + pos, n);
    pos += n;
    if (pos == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

H2Client::H2Client(uint16_t port, Mode mode, uint32_t assume_peer_streams)
    : port_(port), mode_(mode), assume_peer_streams_(assume_peer_streams) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (mode == Mode::tls) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    static const unsigned char kProtos[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx_, kProtos, sizeof kProtos);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    const unsigned char* p = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl_, &p, &len);
    alpn_.assign(reinterpret_cast<const char*>(p), len);
  }
  if (mode != Mode::upgrade) start_session(false, "", false);
}

H2Client::~H2Client() {
  if (session_) nghttp2_session_del(session_);
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool H2Client::start_session(bool upgraded, const std::string& settings_payload, bool head) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &H2ClientCallbacks::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2ClientCallbacks::on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2ClientCallbacks::on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2ClientCallbacks::on_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  if (assume_peer_streams_) nghttp2_option_set_peer_max_concurrent_streams(opt, assume_peer_streams_);
  nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (upgraded) {
    if (nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(settings_payload.data()),
                                 settings_payload.size(), head ? 1 : 0, nullptr) != 0)
      return false;
  } else {
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  return send_pending();
}

long H2Client::raw_write(const char* p, size_t n) {
  if (ssl_) return SSL_write(ssl_, p, static_cast<int>(n));
  return ::send(fd_, p, n, MSG_NOSIGNAL);
}

long H2Client::raw_read(char* p, size_t n) {
  if (ssl_) return SSL_read(ssl_, p, static_cast<int>(n));
  return ::recv(fd_, p, n, 0);
}

bool H2Client::send_pending() {
  // Everything nghttp2 has to send, in one write.
  std::string out;
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  size_t off = 0;
  while (off < out.size()) {
    const long w = raw_write(out.data() + off, out.size() - off);
    if (w <= 0) {
      closed_ = true;
      return false;
    }
    off += static_cast<size_t>(w);
  }
  return true;
}

bool H2Client::read_some(int timeout_ms) {
  if (!leftover_.empty()) {
    std::string bytes;
    bytes.swap(leftover_);
    return nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) >= 0;
  }
  if (!(ssl_ && SSL_pending(ssl_) > 0)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
  }
  char buf[65536];
  const long n = raw_read(buf, sizeof buf);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  return nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n)) >= 0;
}

H2Response H2Client::upgrade(const std::string& method, const std::string& path, const Fields& headers,
                             const std::string& body) {
  // The SETTINGS we would send, as the HTTP2-Settings header (base64url).
  uint8_t payload[64];
  const ssize_t plen = nghttp2_pack_settings_payload(payload, sizeof payload, nullptr, 0);
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string settings64;
  for (ssize_t i = 0; i < plen; i += 3) {
    uint32_t v = static_cast<uint32_t>(payload[i]) << 16;
    if (i + 1 < plen) v |= static_cast<uint32_t>(payload[i + 1]) << 8;
    if (i + 2 < plen) v |= payload[i + 2];
    settings64 += kAlphabet[(v >> 18) & 63];
    settings64 += kAlphabet[(v >> 12) & 63];
    if (i + 1 < plen) settings64 += kAlphabet[(v >> 6) & 63];
    if (i + 2 < plen) settings64 += kAlphabet[v & 63];
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                    "\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + settings64 + "\r\n";
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  raw_write(req.data(), req.size());
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20000) <= 0) return {};
    const long n = raw_read(buf, sizeof buf);
    if (n <= 0) return {};
    got.append(buf, static_cast<size_t>(n));
  }
  const size_t end = got.find("\r\n\r\n") + 4;
  upgrade_head_ = got.substr(0, end);
  leftover_ = got.substr(end);
  if (upgrade_head_.rfind("HTTP/1.1 101", 0) != 0) return {};
  if (!start_session(true, std::string(reinterpret_cast<char*>(payload), static_cast<size_t>(plen)), method == "HEAD"))
    return {};
  run_until([&] { return responses_[1].done || responses_[1].closed; });
  return responses_[1];
}

int32_t H2Client::submit(const std::string& method, const std::string& path, const Fields& headers,
                         std::string body) {
  Fields all = {{":method", method},
                {":scheme", mode_ == Mode::tls ? "https" : "http"},
                {":authority", "127.0.0.1:" + std::to_string(port_)},
                {":path", path}};
  for (auto& h : headers) {
    std::string k = h.first;
    for (char& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    all.emplace_back(std::move(k), h.second);
  }
  if (!body.empty() || method == "PUT" || method == "POST") all.emplace_back("content-length", std::to_string(body.size()));
  std::vector<nghttp2_nv> nv;
  for (auto& [k, v] : all)
    nv.push_back({reinterpret_cast<uint8_t*>(k.data()), reinterpret_cast<uint8_t*>(v.data()), k.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  if (leave_open) {
    const int32_t id = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, -1, nullptr, nv.data(), nv.size(), nullptr);
    if (id > 0) responses_[id];
    if (!defer_send) send_pending();
    return id;
  }
  auto owned = std::make_shared<std::string>(std::move(body));
  nghttp2_data_provider prd{};
  prd.source.ptr = owned.get();
  prd.read_callback = &H2ClientCallbacks::read_body;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), owned->empty() ? nullptr : &prd,
                                            nullptr);
  if (id > 0) {
    bodies_[id] = owned;
    responses_[id];
  }
  if (!defer_send) send_pending();
  return id;
}

bool H2Client::run_until(const std::function<bool()>& done) {
  defer_send = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (closed_ || std::chrono::steady_clock::now() > deadline) return done();
    if (!send_pending()) return done();
    if (!read_some(50)) return done();
    send_pending();
  }
  return true;
}

H2Response H2Client::request(const std::string& method, const std::string& path, const Fields& headers,
                             std::string body) {
  const int32_t id = submit(method, path, headers, std::move(body));
  if (id <= 0) return {};
  run_until([&] { return responses_[id].done || responses_[id].closed; });
  return responses_[id];
}

void H2Client::unstall(int32_t id) {
  stalled_.erase(id);
  if (size_t n = unconsumed_[id]) {
    unconsumed_[id] = 0;
    // The connection's share was returned as it arrived; the stream's goes back now.
    nghttp2_session_consume_stream(session_, id, n);
  }
  send_pending();
}

void H2Client::reset(int32_t id) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  send_pending();
}

uint32_t H2Client::max_concurrent_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

}  // namespace eddy::test
