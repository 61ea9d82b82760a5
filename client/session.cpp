#include "client/session.h"

#include <charconv>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "wire/sigv4.h"

namespace eddy::client {

std::string AwsError::str() const {
  std::string s = code.empty() ? "HTTP " + std::to_string(status) : code;
  if (!message.empty()) s += ": " + message;
  if (attempts > 1) s += " (after " + std::to_string(attempts) + " attempts)";
  return s;
}

AwsError parse_error(const HttpResponse& resp) {
  AwsError e;
  e.status = resp.status;
  const std::string& b = resp.body;
  auto first = b.find_first_not_of(" \t\r\n");
  // Kinesis answers a CBOR request (GetRecords from the tail) in CBOR, errors included.
  const auto type = resp.header("Content-Type");
  const bool cbor = type && type->substr(0, 24) == "application/x-amz-cbor-1";
  if (cbor || (first != std::string::npos && b[first] == '{')) {
    auto j = cbor ? nlohmann::json::from_cbor(b, true, false, nlohmann::json::cbor_tag_handler_t::ignore)
                  : nlohmann::json::parse(b, nullptr, false);
    if (j.is_object()) {
      for (const char* k : {"__type", "code", "Code"})
        if (j.contains(k) && j[k].is_string()) {
          e.code = j[k].get<std::string>();
          break;
        }
      for (const char* k : {"message", "Message"})
        if (j.contains(k) && j[k].is_string()) {
          e.message = j[k].get<std::string>();
          break;
        }
    }
  } else if (first != std::string::npos && b[first] == '<') {
    pugi::xml_document doc;
    if (doc.load_buffer(b.data(), b.size())) {
      pugi::xml_node root = doc.document_element();
      pugi::xml_node err = std::string_view(root.name()) == "Error" ? root : root.child("Errors").child("Error");
      if (!err) err = root;
      e.code = err.child_value("Code");
      e.message = err.child_value("Message");
      if (e.message.empty() && err.child("Key")) e.message = std::string("key ") + err.child_value("Key");
    }
  }
  if (e.code.empty()) {
    if (auto h = resp.header("x-amzn-ErrorType")) e.code = std::string(h->substr(0, h->find(':')));
  }
  // "com.amazonaws.kinesis#ResourceNotFoundException" -> the code alone.
  if (auto hash = e.code.rfind('#'); hash != std::string::npos) e.code = e.code.substr(hash + 1);
  if (e.code.empty()) {
    switch (resp.status) {
      case 404: e.code = "NotFound"; break;
      case 403: e.code = "Forbidden"; break;
      case 400: e.code = "BadRequest"; break;
      default: break;
    }
  }
  if (e.message.empty() && e.code.empty()) e.message = "HTTP " + std::to_string(resp.status);
  return e;
}

std::unique_ptr<Session> Session::create(SessionOptions options, std::string* error, Environment env, WallClock clock) {
  std::string region = resolve_region(options.region, env, options.profile);
  if (region.empty()) {
    if (error) *error = "no region: pass --region or set AWS_REGION (or a region in the profile)";
    return nullptr;
  }
  if (!options.endpoint.empty()) {
    std::string perr;
    if (!Url::parse(options.endpoint, &perr)) {
      if (error) *error = "--endpoint: " + perr;
      return nullptr;
    }
  }
  options.http.verify_tls = options.verify_tls;
  if (options.http.ca_file.empty())
    if (auto ca = env("AWS_CA_BUNDLE")) options.http.ca_file = *ca;
  std::unique_ptr<CredentialsProvider> creds;
  if (options.static_credentials) {
    AwsCredentials c;
    c.keys = *options.static_credentials;
    c.source = "static";
    creds = std::make_unique<StaticCredentialsProvider>(std::move(c));
  } else {
    creds = default_credentials_chain(env, options.profile, clock);
  }
  // Retry mode and attempts as the SDKs read them: flag, else AWS_RETRY_MODE / AWS_MAX_ATTEMPTS,
  // else the profile's retry_mode / max_attempts in the config file, else the mode's default
  // (standard and adaptive 3 attempts, legacy 5).
  std::optional<std::vector<std::pair<std::string, std::string>>> profile_kv;
  std::string profile_where;
  auto profile_value = [&](std::string_view key) -> std::optional<std::string> {
    if (!profile_kv) {
      const std::string profile = options.profile.empty() ? profile_name(env) : options.profile;
      const std::string path = config_file_path(env);
      profile_where = "profile " + profile + " in " + path;
      profile_kv = read_profile(path, profile, true).value_or(std::vector<std::pair<std::string, std::string>>{});
    }
    for (const auto& [k, v] : *profile_kv)
      if (k == key && !v.empty()) return v;
    return std::nullopt;
  };
  if (options.retry.mode.empty()) {
    if (auto v = env("AWS_RETRY_MODE")) {
      options.retry.mode = *v;
      if (options.retry.mode != "standard" && options.retry.mode != "legacy" && options.retry.mode != "adaptive") {
        if (error) *error = "retry mode '" + options.retry.mode + "' is not standard, legacy or adaptive (AWS_RETRY_MODE)";
        return nullptr;
      }
    } else if (auto p = profile_value("retry_mode")) {
      options.retry.mode = *p;
      if (*p != "standard" && *p != "legacy" && *p != "adaptive") {
        if (error) *error = "retry_mode '" + *p + "' (" + profile_where + ") is not standard, legacy or adaptive";
        return nullptr;
      }
    } else {
      options.retry.mode = "standard";
    }
  }
  if (options.retry.mode != "standard" && options.retry.mode != "legacy" && options.retry.mode != "adaptive") {
    if (error) *error = "retry mode '" + options.retry.mode + "' is not standard, legacy or adaptive";
    return nullptr;
  }
  if (!options.retry.max_attempts_explicit) {
    options.retry.max_attempts = options.retry.mode == "legacy" ? 5 : 3;
    auto positive = [](const std::string& v, int& n) {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      return ec == std::errc() && p == v.data() + v.size() && n >= 1;
    };
    if (auto v = env("AWS_MAX_ATTEMPTS")) {
      if (!positive(*v, options.retry.max_attempts)) {
        if (error) *error = "AWS_MAX_ATTEMPTS must be a positive integer, not '" + *v + "'";
        return nullptr;
      }
    } else if (auto p = profile_value("max_attempts")) {
      if (!positive(*p, options.retry.max_attempts)) {
        if (error) *error = "max_attempts (" + profile_where + ") must be a positive integer, not '" + *p + "'";
        return nullptr;
      }
    }
  }
  auto http = std::make_unique<HttpClient>(options.http);
  RetryPolicy retry(options.retry);
  return std::make_unique<Session>(std::move(options), std::move(region), std::move(http), std::move(creds),
                                   std::move(retry), std::move(clock));
}

Session::Session(SessionOptions options, std::string region, std::unique_ptr<HttpClient> http,
                 std::unique_ptr<CredentialsProvider> credentials, RetryPolicy retry, WallClock clock)
    : options_(std::move(options)),
      region_(std::move(region)),
      http_(std::move(http)),
      credentials_(std::move(credentials)),
      retry_(std::move(retry)),
      clock_(std::move(clock)) {
  if (retry_.options().mode == "adaptive") limiter_ = std::make_unique<ClientRateLimiter>();
}

Session::~Session() = default;

void Session::set_retry(RetryPolicy p) {
  retry_ = std::move(p);
  if (retry_.options().mode == "adaptive" && !limiter_) limiter_ = std::make_unique<ClientRateLimiter>();
  if (retry_.options().mode != "adaptive") limiter_.reset();
}

bool is_clock_skew_error(int status, const AwsError& e) {
  if (e.code == "RequestTimeTooSkewed" || e.code == "RequestExpired" || e.code == "RequestInTheFuture" ||
      (e.code == "SignatureDoesNotMatch" && e.message.find("expired") != std::string::npos))
    return true;
  // Kinesis: InvalidSignatureException "Signature expired: ..." / "Signature not yet current: ...".
  return (status == 400 || status == 403) && e.code == "InvalidSignatureException" &&
         (e.message.find("Signature expired") != std::string::npos ||
          e.message.find("not yet current") != std::string::npos);
}

bool Session::adjust_clock_offset(const HttpResponse& resp) {
  auto date = resp.header("Date");
  if (!date) return false;
  auto server = wire::sigv4::parse_http_date(*date);
  if (!server) return false;
  const auto local = clock_();
  const int64_t offset =
      std::chrono::duration_cast<std::chrono::milliseconds>(*server - local).count();
  const int64_t current = clock_offset_ms_.load(std::memory_order_relaxed);
  // botocore's threshold: a difference under 4 minutes is not what failed the signature.
  if (std::llabs(offset - current) < 4 * 60 * 1000) return false;
  clock_offset_ms_.store(offset, std::memory_order_relaxed);
  return true;
}

Url Session::endpoint(std::string_view service) const {
  if (!options_.endpoint.empty()) return *Url::parse(options_.endpoint);
  Url u;
  u.scheme = "https";
  u.port = 443;
  u.host = std::string(service) + "." + region_ + ".amazonaws.com";
  if (region_.rfind("cn-", 0) == 0) u.host += ".cn";
  return u;
}

bool Session::sign(std::string_view service, const Url& base, HttpRequest& req, const std::string& payload_hash,
                   std::string* error) {
  auto creds = credentials_->get(error);
  if (!creds) return false;
  const bool s3 = service == "s3";
  wire::sigv4::Request sreq;
  sreq.method = req.method;
  auto q = req.target.find('?');
  sreq.path = req.target.substr(0, q);
  if (q != std::string::npos) sreq.query = req.target.substr(q + 1);
  sreq.headers = std::move(req.headers);
  if (!sreq.header("host")) sreq.headers.emplace_back("Host", base.authority());
  wire::sigv4::SigningParams params;
  params.credentials = creds->keys;
  params.region = region_;
  params.service = std::string(service);
  params.time = std::chrono::time_point_cast<std::chrono::seconds>(
      clock_() + std::chrono::milliseconds(clock_offset_ms_.load(std::memory_order_relaxed)));
  params.payload_hash = payload_hash;
  params.uri_style = s3 ? wire::sigv4::UriStyle::s3 : wire::sigv4::UriStyle::standard;
  params.set_content_sha256 = s3;
  wire::sigv4::sign_request(sreq, params);
  req.headers = std::move(sreq.headers);
  return true;
}

std::optional<HttpResponse> Session::call(std::string_view service, const Url& base, HttpRequest req, AwsError* error,
                                          const BodySink* sink, std::string payload_hash) {
  HttpResponse resp;
  if (!call(service, base, std::move(req), resp, error, sink, std::move(payload_hash))) return std::nullopt;
  return resp;
}

bool Session::call(std::string_view service, const Url& base, HttpRequest req, HttpResponse& resp, AwsError* error,
                   const BodySink* sink, std::string payload_hash) {
  if (payload_hash.empty()) payload_hash = wire::sigv4::sha256_hex(req.body);
  // Host is signed; a base path ("http://host/prefix") prefixes every target.
  if (!base.path.empty()) req.target = base.path + req.target;
  const std::vector<Header> unsigned_headers = req.headers;
  bool skew_retried = false;
  for (int attempt = 1;; ++attempt) {
    // Each attempt is signed anew (its own X-Amz-Date; refreshed credentials); the body is not copied.
    req.headers = unsigned_headers;
    std::string why;
    if (!sign(service, base, req, payload_hash, &why)) {
      if (error) *error = AwsError{0, "CredentialsError", why, attempt};
      return false;
    }

    TransportError te;
    if (limiter_) limiter_->acquire();  // adaptive mode: a token per attempt once throttled
    if (!http_->send(base, req, resp, &te, sink)) {
      if (limiter_) limiter_->on_response(false);
      if (retry_.should_retry(attempt, 0, "")) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        retry_.sleep(retry_.delay(attempt));
        continue;
      }
      if (error) *error = AwsError{0, "TransportError", te.message, attempt};
      return false;
    }
    if (resp.status >= 200 && resp.status < 300) {
      if (limiter_) limiter_->on_response(false);
      if (error) error->attempts = attempt;
      return true;
    }
    AwsError e = parse_error(resp);
    e.attempts = attempt;
    if (limiter_) limiter_->on_response(is_throttling_error(e.code));
    // Clock skew, as the SDKs correct it: a signature refused for its time, and a Date header
    // more than 4 minutes from our clock, set the offset every later signature uses, and the
    // call is tried again at once (once per call; it counts as an attempt).
    if (!skew_retried && is_clock_skew_error(resp.status, e) && adjust_clock_offset(resp)) {
      skew_retried = true;
      if (attempt < retry_.options().max_attempts) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    if (retry_.should_retry(attempt, resp.status, e.code)) {
      retries_.fetch_add(1, std::memory_order_relaxed);
      retry_.sleep(retry_.delay(attempt));
      continue;
    }
    if (error) *error = std::move(e);
    return true;
  }
}

}  // namespace eddy::client
