// Bucket CORS configuration (Put/Get/DeleteBucketCors), CORS preflights (OPTIONS) and the
// Access-Control-* headers of actual requests from a matching origin.
#include <algorithm>
#include <cctype>
#include <cstdint>

#include "server/s3/policy.h"
#include "server/s3/s3_internal.h"
#include "server/s3/s3_service.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace {

constexpr size_t kMaxCorsRules = 100;

bool cors_method(std::string_view m) { return m == "GET" || m == "PUT" || m == "POST" || m == "DELETE" || m == "HEAD"; }

std::vector<std::string> split_header_list(std::string_view v) {
  std::vector<std::string> out;
  for (std::string_view item : wire::text::split(v, ',', true)) out.emplace_back(item);
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The first rule allowing this origin, method and request headers, as S3 evaluates them.
const CorsRule* match_rule(const std::vector<CorsRule>& rules, std::string_view origin, std::string_view method,
                           const std::vector<std::string>& request_headers) {
  for (const CorsRule& r : rules) {
    if (std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) continue;
    if (std::none_of(r.origins.begin(), r.origins.end(),
                     [&](const std::string& o) { return policy::wildcard_match(o, origin, false, false); }))
      continue;
    const bool headers_ok = std::all_of(request_headers.begin(), request_headers.end(), [&](const std::string& h) {
      return std::any_of(r.headers.begin(), r.headers.end(),
                         [&](const std::string& allowed) { return policy::wildcard_match(allowed, h, true, false); });
    });
    if (headers_ok) return &r;
  }
  return nullptr;
}

bool any_origin(const CorsRule& r) { return std::find(r.origins.begin(), r.origins.end(), "*") != r.origins.end(); }

void allow_headers(const CorsRule& r, std::string_view origin, std::vector<std::pair<std::string, std::string>>& out) {
  if (any_origin(r)) {
    out.emplace_back("Access-Control-Allow-Origin", "*");
  } else {
    out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    out.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  out.emplace_back("Access-Control-Allow-Methods", join(r.methods));
  if (!r.expose.empty()) out.emplace_back("Access-Control-Expose-Headers", join(r.expose));
  if (r.max_age_s >= 0) out.emplace_back("Access-Control-Max-Age", std::to_string(r.max_age_s));
  out.emplace_back("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

}  // namespace

http::Response S3Service::preflight(Ctx& c) {
  if (!c.headers.has("Origin"))
    return error_response(c, err("BadRequest", "Insufficient information. Origin request header needed.", 400));
  const std::string origin(c.headers.get("Origin"));
  const std::string method(c.headers.get("Access-Control-Request-Method"));
  if (!cors_method(method))
    return error_response(c, err("BadRequest", "Invalid Access-Control-Request-Method: " + method, 400));
  const std::string type = c.key.empty() ? "BUCKET" : "OBJECT";
  auto denied = [&](const std::string& message) {
    return error_response(c, err("AccessForbidden", "CORSResponse: " + message, 403, {{"Method", method}, {"ResourceType", type}}));
  };
  auto b = c.bucket.empty() ? std::nullopt : find_bucket(c.bucket);
  if (!b) return denied("Bucket not found");
  if (b->cors.empty()) return denied("CORS is not enabled for this bucket.");
  const auto requested = split_header_list(c.headers.get("Access-Control-Request-Headers"));
  const CorsRule* rule = match_rule(b->cors, origin, method, requested);
  if (!rule)
    return denied(
        "This CORS request is not allowed. This is usually because the evalution of Origin, request method / "
        "Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
  http::Response res;
  std::vector<std::pair<std::string, std::string>> h;
  allow_headers(*rule, origin, h);
  if (!requested.empty()) h.emplace_back("Access-Control-Allow-Headers", join(requested));
  for (auto& [k, v] : h) res.headers.add(k, v);
  res.content_length = 0;
  stamp(c, res);
  return res;
}

void S3Service::cors_for_request(Ctx& c) const {
  if (!c.headers.has("Origin") || c.bucket.empty()) return;
  auto b = find_bucket(c.bucket);
  if (!b || b->cors.empty()) return;
  const CorsRule* rule = match_rule(b->cors, c.headers.get("Origin"), c.method, {});
  if (rule) allow_headers(*rule, c.headers.get("Origin"), c.cors_headers);
}

http::Response S3Service::put_cors(Ctx& c, const std::string& body) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (c.auth_checked && !owns_bucket(c, *b)) return error_response(c, access_denied());
  if (c.headers.has("Content-MD5")) {
    auto md5 = wire::base64_decode(c.headers.get("Content-MD5"));
    if (!md5 || md5->size() != 16)
      return error_response(c, err("InvalidDigest", "The Content-MD5 you specified was invalid.", 400));
    if (*md5 != wire::checksum::digest(wire::checksum::Algorithm::md5, body))
      return error_response(c, err("BadDigest", "The Content-MD5 you specified did not match what we received.", 400));
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
  auto root = doc.document_element();
  if (local_name(root.name()) != "CORSConfiguration") return error_response(c, malformed_xml());
  const auto rule_nodes = children(root, "CORSRule");
  if (rule_nodes.empty() || rule_nodes.size() > kMaxCorsRules) return error_response(c, malformed_xml());
  std::vector<CorsRule> rules;
  auto texts = [](pugi::xml_node n, std::string_view name) {
    std::vector<std::string> out;
    for (auto x : children(n, name)) out.emplace_back(x.text().get());
    return out;
  };
  for (auto n : rule_nodes) {
    CorsRule r;
    r.id = child_text(n, "ID");
    r.methods = texts(n, "AllowedMethod");
    r.origins = texts(n, "AllowedOrigin");
    r.headers = texts(n, "AllowedHeader");
    r.expose = texts(n, "ExposeHeader");
    if (r.methods.empty() || r.origins.empty()) return error_response(c, malformed_xml());
    for (const auto& m : r.methods)
      if (!cors_method(m))
        return error_response(c, err("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is " + m,
                                     400));
    for (const auto& o : r.origins)
      if (std::count(o.begin(), o.end(), '*') > 1)
        return error_response(c, err("InvalidRequest", "AllowedOrigin \"" + o + "\" can not have more than one wildcard.", 400));
    for (const auto& h : r.headers)
      if (std::count(h.begin(), h.end(), '*') > 1)
        return error_response(c, err("InvalidRequest", "AllowedHeader \"" + h + "\" can not have more than one wildcard.", 400));
    if (!children(n, "MaxAgeSeconds").empty()) {
      const std::string v = child_text(n, "MaxAgeSeconds");
      char* end = nullptr;
      long long age = std::strtoll(v.c_str(), &end, 10);
      // MaxAgeSeconds is an Integer in S3's schema; beyond it (strtoll saturates) the document
      // does not validate.
      if (v.empty() || *end != '\0' || age < 0 || age > INT32_MAX) return error_response(c, malformed_xml());
      r.max_age_s = age;
    }
    rules.push_back(std::move(r));
  }
  if (auto e = set_bucket_cors(c.bucket, b->id, std::move(rules))) return error_response(c, *e);
  http::Response res;
  res.content_length = 0;
  return res;
}

http::Response S3Service::get_cors(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (c.auth_checked && !owns_bucket(c, *b)) return error_response(c, access_denied());
  if (b->cors.empty())
    return error_response(c, err("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404,
                                 {{"BucketName", c.bucket}}));
  XmlOut x("CORSConfiguration");
  for (const CorsRule& r : b->cors) {
    auto n = XmlOut::add(x.root(), "CORSRule");
    if (!r.id.empty()) XmlOut::add(n, "ID", r.id);
    for (const auto& v : r.headers) XmlOut::add(n, "AllowedHeader", v);
    for (const auto& v : r.methods) XmlOut::add(n, "AllowedMethod", v);
    for (const auto& v : r.origins) XmlOut::add(n, "AllowedOrigin", v);
    for (const auto& v : r.expose) XmlOut::add(n, "ExposeHeader", v);
    if (r.max_age_s >= 0) XmlOut::add(n, "MaxAgeSeconds", std::to_string(r.max_age_s));
  }
  return xml_response(c, 200, x.str());
}

http::Response S3Service::delete_cors(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (c.auth_checked && !owns_bucket(c, *b)) return error_response(c, access_denied());
  if (auto e = set_bucket_cors(c.bucket, b->id, {})) return error_response(c, *e);
  http::Response res;
  res.status = 204;
  return res;
}

std::optional<S3Error> S3Service::set_bucket_cors(const std::string& name, uint32_t id, std::vector<CorsRule> rules) {
  std::lock_guard lk(buckets_mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end() || it->second.id != id) return no_such_bucket(name);
  Bucket updated = it->second;
  updated.cors = std::move(rules);
  store::WriteBatch batch(store_);
  batch.put(store::Family::meta, bucket_key(name), encode(updated));
  if (!store_.write(batch)) return internal_error();
  it->second = std::move(updated);
  return std::nullopt;
}

}  // namespace eddy::s3
