// S3 workloads: PUT/GET/HEAD of objects of any size (bodies of 1 MiB and more are streamed
// from a fixed pattern and read into a scratch buffer, never held whole), ListObjectsV2
// paging over a prefilled key space, and one multipart upload. Path-style addressing.
#include <atomic>
#include <chrono>
#include <mutex>

#include "bench/load/workload.h"
#include "wire/sigv4.h"

namespace eddy::bench {
namespace {

namespace sigv4 = eddy::wire::sigv4;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kInlineBody = 1u << 20;  // bodies up to this size are sent from memory

// Request heads: signed for real with --sign (wire/sigv4, UNSIGNED-PAYLOAD as SDKs do for
// big bodies), else a well-formed SigV4 header that eddy (--auth any), s3rver and moto accept
// without checking, or nothing with --anonymous.
class Heads {
 public:
  explicit Heads(const Options& o) : o_(o) {
    amz_date_ = sigv4::format_amz_date(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  }

  std::string head(std::string_view method, const std::string& path, const std::string& query,
                   std::optional<uint64_t> content_length,
                   const std::vector<sigv4::Header>& extra = {}) const {
    sigv4::Request r{std::string(method), path, query, {{"Host", o_.host_header}}};
    for (const auto& h : extra) r.headers.push_back(h);
    if (content_length) r.headers.emplace_back("Content-Length", std::to_string(*content_length));
    if (o_.sign) {
      sigv4::SigningParams p;
      p.credentials = {o_.access_key, o_.secret_key, ""};
      p.region = "us-east-1";
      p.service = "s3";
      p.time = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      p.payload_hash = std::string(sigv4::kUnsignedPayload);
      p.uri_style = sigv4::UriStyle::s3;
      p.set_content_sha256 = true;
      sigv4::sign_request(r, p);
    } else if (!o_.anonymous) {
      r.headers.emplace_back("X-Amz-Date", amz_date_);
      r.headers.emplace_back("X-Amz-Content-SHA256", std::string(sigv4::kUnsignedPayload));
      r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + o_.access_key + "/" +
                                                  amz_date_.substr(0, 8) +
                                                  "/us-east-1/s3/aws4_request, SignedHeaders="
                                                  "host;x-amz-content-sha256;x-amz-date, Signature=" +
                                                  std::string(64, '0'));
    }
    std::string out = r.method + " " + r.path + (r.query.empty() ? "" : "?" + r.query) + " HTTP/1.1\r\n";
    for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
    return out + "\r\n";
  }

  // A PUT of size bytes: from memory up to 1 MiB, else streamed.
  Request put(const std::string& path, const std::string& query, uint64_t size,
              const std::vector<sigv4::Header>& extra = {}) const {
    Request r;
    r.head = head("PUT", path, query, size, extra);
    if (size <= kInlineBody) r.body = pattern().substr(0, size);
    else r.stream_bytes = size;
    return r;
  }

 private:
  const Options& o_;
  std::string amz_date_;
};

Outcome fail(const Response& r) {
  Outcome out;
  out.error = true;
  out.detail = snippet(r.status, r.body);
  return out;
}

bool ok(int status) { return status >= 200 && status < 300; }

void create_bucket(BlockingClient& c, const Heads& h, const Options& o) {
  Request r;
  r.head = h.head("PUT", "/" + o.bucket, "", 0, o.public_read ? std::vector<sigv4::Header>{{"x-amz-acl", "public-read"}}
                                                                 : std::vector<sigv4::Header>{});
  auto reply = c.call(r);
  if (!ok(reply.status) && reply.body.find("BucketAlreadyOwnedByYou") == std::string::npos &&
      reply.body.find("BucketAlreadyExists") == std::string::npos)  // s3rver: one user, so it is ours
    throw std::runtime_error("CreateBucket: " + snippet(reply.status, reply.body));
}

// PUT of new keys: "<bucket>/put-<size>/<connection>/<n>"; with --objects N, n cycles over N keys
// a connection, so the PUTs overwrite (the soak's flat-data run).
class PutConn : public Connection {
 public:
  PutConn(const Options& o, const Heads& h, int id)
      : o_(o), h_(h), prefix_("/" + o.bucket + "/put-" + std::to_string(o.size) + "/" + std::to_string(id) + "/") {}
  const Request* next() override {
    const uint64_t n = n_++;
    req_ = h_.put(prefix_ + std::to_string(o_.objects > 0 ? n % static_cast<uint64_t>(o_.objects) : n), "", o_.size);
    return &req_;
  }
  Outcome done(const Response& r) override {
    if (!ok(r.status) || r.etag.empty()) return fail(r);
    return Outcome{1, o_.size, 0, false, {}};
  }

 private:
  const Options& o_;
  const Heads& h_;
  std::string prefix_;
  Request req_;
  uint64_t n_ = 0;
};

std::string object_path(const Options& o, int i) {
  return "/" + o.bucket + "/obj-" + std::to_string(o.size) + "/" + std::to_string(i);
}

// GET or HEAD over the prefilled objects, each request signed once up front.
class ReadConn : public Connection {
 public:
  ReadConn(const Options& o, const Heads& h, int id, int objects, bool head) : o_(o) {
    for (int i = id % objects, n = 0; n < std::min(objects, 64); ++n, i = (i + o.connections) % objects) {
      Request r;
      r.head = h.head(head ? "HEAD" : "GET", object_path(o, i), "", std::nullopt);
      r.head_method = head;
      r.large_response = o.size > kInlineBody;
      reqs_.push_back(std::move(r));
    }
  }
  const Request* next() override { return &reqs_[n_++ % reqs_.size()]; }
  Outcome done(const Response& r) override {
    if (r.status != 200) return fail(r);
    const bool head = reqs_.front().head_method;
    if (!head && r.body_bytes != o_.size) {
      Outcome out = fail(r);
      out.detail = "GET answered " + std::to_string(r.body_bytes) + " bytes, not " + std::to_string(o_.size);
      return out;
    }
    return Outcome{1, head ? 0 : o_.size, 0, false, {}};
  }

 private:
  const Options& o_;
  std::vector<Request> reqs_;
  size_t n_ = 0;
};

// Pages through ListObjectsV2 (1,000 keys a page) from the start to the end, again and again;
// every complete pass must have listed every key.
class ListConn : public Connection {
 public:
  ListConn(const Options& o, const Heads& h) : o_(o), h_(h) {}
  const Request* next() override {
    std::string q = "list-type=2&prefix=list%2F";
    if (!token_.empty()) q += "&continuation-token=" + sigv4::uri_encode(token_, true);
    req_.head = h_.head("GET", "/" + o_.bucket, q, std::nullopt);
    return &req_;
  }
  Outcome done(const Response& r) override {
    if (r.status != 200) return fail(r);
    const uint64_t keys = count_of(r.body, "<Key>");
    seen_ += keys;
    if (scan_xml(r.body, "IsTruncated") == "true") {
      token_ = scan_xml(r.body, "NextContinuationToken");
      if (token_.empty()) return fail(r);
    } else {
      token_.clear();
      const uint64_t seen = std::exchange(seen_, 0);
      if (seen != static_cast<uint64_t>(o_.keys)) {
        Outcome out = fail(r);
        out.detail = "a pass listed " + std::to_string(seen) + " keys, not " + std::to_string(o_.keys);
        return out;
      }
    }
    return Outcome{1, keys, 0, false, {}};
  }

 private:
  const Options& o_;
  const Heads& h_;
  std::string token_;
  uint64_t seen_ = 0;
  Request req_;
};

// PUTs of --size bytes to keys list/<n> from a shared counter until --keys are stored (the list prefill).
class FillConn : public Connection {
 public:
  FillConn(const Options& o, const Heads& h, std::atomic<int>& next) : o_(o), h_(h), next_(next) {}
  const Request* next() override {
    const int i = next_++;
    if (i >= o_.keys) return nullptr;
    char key[32];
    std::snprintf(key, sizeof key, "list/%08d", i);
    req_ = h_.put("/" + o_.bucket + "/" + key, "", o_.size);
    return &req_;
  }
  Outcome done(const Response& r) override { return ok(r.status) ? Outcome{1, 0, 0, false, {}} : fail(r); }

 private:
  const Options& o_;
  const Heads& h_;
  std::atomic<int>& next_;
  Request req_;
};

// The parts of one multipart upload, taken from a shared counter by every connection.
struct Upload {
  std::string path, id;
  int parts = 0;
  std::atomic<int> next{1};
  std::vector<std::string> etags;
};

class PartConn : public Connection {
 public:
  PartConn(const Options& o, const Heads& h, Upload& u) : o_(o), h_(h), u_(u) {}
  const Request* next() override {
    part_ = u_.next++;
    if (part_ > u_.parts) return nullptr;
    const uint64_t offset = static_cast<uint64_t>(part_ - 1) * o_.part_size;
    bytes_ = std::min(o_.part_size, o_.size - offset);
    req_ = h_.put(u_.path, "partNumber=" + std::to_string(part_) + "&uploadId=" + sigv4::uri_encode(u_.id, true), bytes_);
    return &req_;
  }
  Outcome done(const Response& r) override {
    if (!ok(r.status) || r.etag.empty()) return fail(r);
    u_.etags[static_cast<size_t>(part_ - 1)] = std::string(r.etag);  // each part is one connection's
    return Outcome{1, bytes_, 0, false, {}};
  }

 private:
  const Options& o_;
  const Heads& h_;
  Upload& u_;
  int part_ = 0;
  uint64_t bytes_ = 0;
  Request req_;
};

class S3Workload : public Workload {
 public:
  // The set-up (bucket, prefill, the upload's create and complete) is always signed; only the
  // measured requests are anonymous with --anonymous.
  explicit S3Workload(const Options& o) : o_(o), signed_(with_auth(o)), heads_(o), setup_heads_(signed_) {}

  void setup(BlockingClient& c) override {
    // GET/HEAD with --no-setup: the bucket and objects of an earlier run are read (a profile
    // then counts only the measured requests).
    if (o_.no_setup && (o_.mode == "s3-get" || o_.mode == "s3-head")) return;
    create_bucket(c, setup_heads_, o_);
    const auto t0 = Clock::now();
    if (o_.mode == "s3-get" || o_.mode == "s3-head") {
      const std::vector<sigv4::Header> acl =
          o_.public_read ? std::vector<sigv4::Header>{{"x-amz-acl", "public-read"}} : std::vector<sigv4::Header>{};
      for (int i = 0; i < objects(); ++i) {
        auto reply = c.call(setup_heads_.put(object_path(o_, i), "", o_.size, acl));
        if (!ok(reply.status)) throw std::runtime_error("prefill PUT: " + snippet(reply.status, reply.body));
      }
    } else if (o_.mode == "s3-list") {
      std::atomic<int> next{0};
      EngineOptions eo;
      eo.target = o_.target;
      eo.connections = o_.connections;
      eo.seconds = 0;
      auto r = run(eo, [&](int) { return std::make_unique<FillConn>(o_, setup_heads_, next); });
      if (r.errors || r.ok != static_cast<uint64_t>(o_.keys))
        throw std::runtime_error("list prefill: " + std::to_string(r.ok) + " of " + std::to_string(o_.keys) +
                                 " keys stored" + (r.error_samples.empty() ? "" : ": " + r.error_samples[0]));
    } else if (o_.mode == "s3-multipart") {
      upload_.path = "/" + o_.bucket + "/multipart-" + std::to_string(o_.size);
      Request r;
      r.head = setup_heads_.head("POST", upload_.path, "uploads=", 0);
      auto reply = c.call(r);
      upload_.id = scan_xml(reply.body, "UploadId");
      if (!ok(reply.status) || upload_.id.empty())
        throw std::runtime_error("CreateMultipartUpload: " + snippet(reply.status, reply.body));
      upload_.parts = static_cast<int>((o_.size + o_.part_size - 1) / o_.part_size);
      upload_.etags.resize(static_cast<size_t>(upload_.parts));
      started_ = Clock::now();  // the create counts in the upload's time
      return;
    }
    setup_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }

  std::unique_ptr<Connection> connection(int id) override {
    if (o_.mode == "s3-put") return std::make_unique<PutConn>(o_, heads_, id);
    if (o_.mode == "s3-get") return std::make_unique<ReadConn>(o_, heads_, id, objects(), false);
    if (o_.mode == "s3-head") return std::make_unique<ReadConn>(o_, heads_, id, objects(), true);
    if (o_.mode == "s3-list") return std::make_unique<ListConn>(o_, heads_);
    return std::make_unique<PartConn>(o_, heads_, upload_);
  }

  void teardown(BlockingClient& c, EngineResult& r) override {
    if (o_.mode != "s3-multipart") return;
    std::string xml = "<CompleteMultipartUpload>";
    for (int i = 0; i < upload_.parts; ++i)
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
             upload_.etags[static_cast<size_t>(i)] + "</ETag></Part>";
    xml += "</CompleteMultipartUpload>";
    Request req;
    req.head = setup_heads_.head("POST", upload_.path, "uploadId=" + sigv4::uri_encode(upload_.id, true), xml.size());
    req.body = xml;
    auto reply = c.call(req);
    // S3 may answer 200 with an <Error> body when completing fails.
    if (!ok(reply.status) || scan_xml(reply.body, "ETag").empty()) {
      ++r.errors;
      r.error_samples.push_back("CompleteMultipartUpload: " + snippet(reply.status, reply.body));
    } else {
      r.items = 1;  // one object
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  }

 private:
  int objects() const { return o_.objects > 0 ? o_.objects : std::max(1, o_.connections); }

  static Options with_auth(Options o) {
    o.anonymous = false;
    return o;
  }

  const Options& o_;
  const Options signed_;
  Heads heads_, setup_heads_;
  Upload upload_;
  Clock::time_point started_{};
};

}  // namespace

std::unique_ptr<Workload> make_s3_workload(const Options& o) {
  if (o.mode.rfind("s3-", 0) != 0) return nullptr;
  return std::make_unique<S3Workload>(o);
}

}  // namespace eddy::bench
