#include "server/metrics/s3_request_counter.h"

#include <algorithm>
#include <cctype>
#include <memory>

namespace eddy::metrics {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string uri_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 && hex_digit(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// The same addressing rules as the S3 service: bucket.localhost, bucket.s3.*, bucket.s3-*.
std::string virtual_host_bucket(std::string_view host) {
  if (host.empty() || host.front() == '[') return {};
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  std::string h(host);
  for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  constexpr std::string_view kLocal = ".localhost";
  if (h.size() > kLocal.size() && h.compare(h.size() - kLocal.size(), kLocal.size(), kLocal) == 0)
    return h.substr(0, h.size() - kLocal.size());
  for (std::string_view marker : {".s3.", ".s3-"}) {
    auto pos = h.find(marker);
    if (pos != std::string::npos && pos > 0) return h.substr(0, pos);
  }
  return {};
}

bool has_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    if (part.substr(0, part.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

uint64_t bytes_sent(const http::Response& r) {
  if (r.head) return 0;
  if (r.stream) return r.content_length.value_or(0);
  return r.body.size();
}

// AWS does not bill requests answered with a 5xx (503 SlowDown, 500 InternalError): they are
// counted with the free class. (AWS also waives a list of 3xx/4xx codes; those are billed here.)
S3PricingClass billed_class(S3PricingClass cls, const http::Response& r) {
  return r.status >= 500 ? S3PricingClass::free : cls;
}

class CountingSink final : public http::BodySink {
 public:
  CountingSink(std::unique_ptr<http::BodySink> inner, S3Observer& obs, S3RequestClass rc)
      : inner_(std::move(inner)), obs_(obs), rc_(std::move(rc)) {}
  std::optional<http::Response> write(std::string_view piece) override {
    in_ += piece.size();
    auto r = inner_->write(piece);
    if (r) record(*r);
    return r;
  }
  http::Response finish() override {
    auto r = inner_->finish();
    record(r);
    return r;
  }

 private:
  void record(const http::Response& r) {
    if (done_) return;
    done_ = true;
    obs_.on_request(rc_.bucket, billed_class(rc_.cls, r), in_, bytes_sent(r));
  }
  std::unique_ptr<http::BodySink> inner_;
  S3Observer& obs_;
  S3RequestClass rc_;
  uint64_t in_ = 0;
  bool done_ = false;
};

}  // namespace

S3RequestClass classify_s3_request(const http::Request& req) {
  S3RequestClass out;
  std::string key;
  std::string vb = virtual_host_bucket(req.headers.get("Host"));
  std::string path = uri_decode(req.path);
  if (!vb.empty()) {
    out.bucket = vb;
    key = path.size() > 1 ? path.substr(1) : std::string();
  } else {
    std::string_view p = path;
    if (!p.empty() && p.front() == '/') p.remove_prefix(1);
    auto slash = p.find('/');
    out.bucket = std::string(p.substr(0, slash));
    if (slash != std::string_view::npos) key = std::string(p.substr(slash + 1));
  }
  const std::string& m = req.method;
  if (m == "DELETE") {
    out.cls = S3PricingClass::free;
  } else if (m == "PUT" || m == "POST") {
    out.cls = S3PricingClass::class_a;
  } else if (m == "GET") {
    // LIST requests: ListObjects(V2), ListObjectVersions, ListMultipartUploads, ListParts.
    const bool list = key.empty() ? !has_param(req.query, "location") && !has_param(req.query, "acl") &&
                                        !has_param(req.query, "versioning") && !has_param(req.query, "policy")
                                  : has_param(req.query, "uploadId");
    out.cls = list ? S3PricingClass::class_a : S3PricingClass::class_b;
  } else {
    out.cls = S3PricingClass::class_b;
  }
  return out;
}

S3Route count_s3_requests(S3Observer& observer, S3Route next) {
  return [&observer, next = std::move(next)](http::Request& req) -> http::Dispatch {
    S3RequestClass rc = classify_s3_request(req);
    http::Dispatch d = next(req);
    if (rc.bucket.empty()) return d;
    if (auto* imm = std::get_if<http::Immediate>(&d)) {
      observer.on_request(rc.bucket, billed_class(rc.cls, imm->response), 0, bytes_sent(imm->response));
    } else if (auto* buf = std::get_if<http::BufferBody>(&d)) {
      auto wrap = [&observer, rc](std::function<http::Response(http::Request&)> inner) {
        return [&observer, rc, inner = std::move(inner)](http::Request& r) {
          http::Response res = inner(r);
          observer.on_request(rc.bucket, billed_class(rc.cls, res), r.body.size(), bytes_sent(res));
          return res;
        };
      };
      buf->handle = wrap(std::move(buf->handle));
      if (buf->too_large) buf->too_large = wrap(std::move(buf->too_large));
    } else if (auto* st = std::get_if<http::StreamBody>(&d)) {
      st->sink = std::make_unique<CountingSink>(std::move(st->sink), observer, rc);
    }
    return d;
  };
}

}  // namespace eddy::metrics
