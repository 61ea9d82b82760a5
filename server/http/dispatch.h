#pragma once
// Acting on the answer a Dispatch ends with, whichever way its body is read: the one helper
// for after-hooks (S3's headers, request counting, fault actions) instead of a hand-written
// wrapper per variant. Header-only; no Beast.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "server/http/message.h"

namespace eddy::http {

// Called once with the response about to be sent and the request-body bytes received so far
// (0 for Immediate; the buffered body's size; the bytes a StreamBody's sink was given).
using AfterResponse = std::function<void(Response& response, uint64_t body_bytes)>;

namespace detail {
class AfterSink final : public BodySink {
 public:
  AfterSink(std::unique_ptr<BodySink> inner, AfterResponse after) : inner_(std::move(inner)), after_(std::move(after)) {}
  std::optional<Response> write(std::string_view piece) override {
    in_ += piece.size();
    auto r = inner_->write(piece);
    if (r) done(*r);
    return r;
  }
  Response finish() override {
    Response r = inner_->finish();
    done(r);
    return r;
  }

 private:
  void done(Response& r) {
    if (called_) return;
    called_ = true;
    after_(r, in_);
  }
  std::unique_ptr<BodySink> inner_;
  AfterResponse after_;
  uint64_t in_ = 0;
  bool called_ = false;
};
}  // namespace detail

// Runs `after` on the response `d` ends with: now for Immediate, when the body has been
// handled (or found too large) for BufferBody, when the sink answers for StreamBody.
inline void after_response(Dispatch& d, AfterResponse after) {
  if (auto* imm = std::get_if<Immediate>(&d)) {
    after(imm->response, 0);
  } else if (auto* buf = std::get_if<BufferBody>(&d)) {
    auto wrap = [&after](std::function<Response(Request&)> inner) {
      return [after, inner = std::move(inner)](Request& r) {
        Response res = inner(r);
        after(res, r.body.size());
        return res;
      };
    };
    buf->handle = wrap(std::move(buf->handle));
    if (buf->too_large) buf->too_large = wrap(std::move(buf->too_large));
  } else if (auto* st = std::get_if<StreamBody>(&d)) {
    st->sink = std::make_unique<detail::AfterSink>(std::move(st->sink), std::move(after));
  }
}

// ---- The exception barrier ------------------------------------------------------------------
// Every call the front ends (HTTP/1.1 and HTTP/2) make into a handler - dispatch, a
// BufferBody's handle and too_large, a sink's write and finish - goes through guard(). An
// exception then becomes handler.internal_error(req) (a 500 in the service's error shape with
// the request id) marked ConnectionAction::close_after, and one error log line; it never
// reaches the session coroutine, where asio::detached would drop it with the connection.

// Logs the failure and builds the answer (message.cpp).
Response barrier_response(Handler& handler, const Request& req, std::string_view what);

template <class F>
auto guard(Handler& handler, const Request& req, F&& call) -> decltype(call()) {
  using R = decltype(call());
  auto answer = [&](std::string_view what) -> R {
    Response r = barrier_response(handler, req, what);
    if constexpr (std::is_same_v<R, Dispatch>) return Immediate{std::move(r)};
    else return R(std::move(r));
  };
  try {
    return call();
  } catch (const std::exception& e) {
    return answer(e.what());
  } catch (...) {
    return answer("an exception not derived from std::exception");
  }
}

// A response body's read once the head is sent: an exception is logged and read as -1 (the
// connection or stream is dropped, as for a failed read).
void log_body_failure(const Request& req, std::string_view what);
template <class F>
int64_t guard_read(const Request& req, F&& read) {
  try {
    return read();
  } catch (const std::exception& e) {
    log_body_failure(req, e.what());
  } catch (...) {
    log_body_failure(req, "an exception not derived from std::exception");
  }
  return -1;
}

}  // namespace eddy::http
