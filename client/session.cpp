#include "client/session.h"

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
  if (first != std::string::npos && b[first] == '{') {
    auto j = nlohmann::json::parse(b, nullptr, false);
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
      clock_(std::move(clock)) {}

Session::~Session() = default;

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
  params.time = std::chrono::time_point_cast<std::chrono::seconds>(clock_());
  params.payload_hash = payload_hash;
  params.uri_style = s3 ? wire::sigv4::UriStyle::s3 : wire::sigv4::UriStyle::standard;
  params.set_content_sha256 = s3;
  wire::sigv4::sign_request(sreq, params);
  req.headers = std::move(sreq.headers);
  return true;
}

std::optional<HttpResponse> Session::call(std::string_view service, const Url& base, HttpRequest req, AwsError* error,
                                          const BodySink* sink, std::string payload_hash) {
  if (payload_hash.empty()) payload_hash = wire::sigv4::sha256_hex(req.body);
  // Host is signed; a base path ("http://host/prefix") prefixes every target.
  if (!base.path.empty()) req.target = base.path + req.target;
  const std::vector<Header> unsigned_headers = req.headers;
  for (int attempt = 1;; ++attempt) {
    // Each attempt is signed anew (its own X-Amz-Date; refreshed credentials); the body is not copied.
    req.headers = unsigned_headers;
    std::string why;
    if (!sign(service, base, req, payload_hash, &why)) {
      if (error) *error = AwsError{0, "CredentialsError", why, attempt};
      return std::nullopt;
    }

    HttpResponse resp;
    TransportError te;
    if (!http_->send(base, req, resp, &te, sink)) {
      if (retry_.should_retry(attempt, 0, "")) {
        retry_.sleep(retry_.delay(attempt));
        continue;
      }
      if (error) *error = AwsError{0, "TransportError", te.message, attempt};
      return std::nullopt;
    }
    if (resp.status >= 200 && resp.status < 300) return resp;
    AwsError e = parse_error(resp);
    e.attempts = attempt;
    if (retry_.should_retry(attempt, resp.status, e.code)) {
      retry_.sleep(retry_.delay(attempt));
      continue;
    }
    if (error) *error = std::move(e);
    return resp;
  }
}

}  // namespace eddy::client
