#pragma once
// Acting on the answer a Dispatch ends with, whichever way its body is read: the one helper
// for after-hooks (S3's headers, request counting, fault actions) instead of a hand-written
// wrapper per variant. Header-only; no Beast.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
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

}  // namespace eddy::http
