#include "server/auth/authenticator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "server/s3/s3_request.h"
#include "wire/sigv4.h"
#include "wire/text.h"

namespace eddy::auth {

namespace sv4 = wire::sigv4;
using wire::text::lower;
using wire::text::trim;
using std::chrono::sys_seconds;

std::optional<Mode> parse_mode(std::string_view text) {
  if (text == "off") return Mode::off;
  if (text == "any") return Mode::any;
  if (text == "verify") return Mode::verify;
  return std::nullopt;
}

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::off: return "off";
    case Mode::any: return "any";
    case Mode::verify: return "verify";
  }
  return "any";
}

// --- credentials ---------------------------------------------------------------------------

namespace {

constexpr int64_t kForgetExpiredAfterMs = 24LL * 3600 * 1000;

class MemoryCredentialStore final : public CredentialStore {
 public:
  void add(Credential c) override {
    std::unique_lock lk(mu_);
    // Rotating IMDS credentials would pile up forever: temporary keys that lapsed a day
    // before the newest one are forgotten (until then they still answer ExpiredToken).
    if (c.expires_ms) {
      const int64_t horizon = *c.expires_ms - kForgetExpiredAfterMs;
      std::erase_if(by_key_, [&](const auto& kv) { return kv.second.expires_ms && *kv.second.expires_ms < horizon; });
    }
    std::string key = c.access_key;
    by_key_[key] = std::move(c);
  }
  std::optional<Credential> find(std::string_view access_key) const override {
    std::shared_lock lk(mu_);
    auto it = by_key_.find(std::string(access_key));
    if (it == by_key_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Credential> by_key_;
};

}  // namespace

std::unique_ptr<CredentialStore> make_credential_store() { return std::make_unique<MemoryCredentialStore>(); }

bool load_credentials_file(const std::string& path, CredentialStore& store, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = "cannot read credentials file " + path;
    return false;
  }
  // One INI section (profile) at a time; its keys are added when the next section starts.
  Credential section;
  bool in_section = false;
  std::string section_name;
  auto flush_section = [&]() -> bool {
    if (!in_section) return true;
    in_section = false;
    if (section.access_key.empty() && section.secret_key.empty()) return true;  // e.g. a config-only profile
    if (section.access_key.empty() || section.secret_key.empty()) {
      if (error) *error = path + ": profile [" + section_name + "] needs both aws_access_key_id and aws_secret_access_key";
      return false;
    }
    store.add(section);
    return true;
  };
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      if (!flush_section()) return false;
      if (l.back() != ']') {
        if (error) *error = path + ":" + std::to_string(lineno) + ": unterminated section header";
        return false;
      }
      section = Credential{};
      section_name = std::string(trim(l.substr(1, l.size() - 2)));
      in_section = true;
      continue;
    }
    const auto eq = l.find('=');
    if (in_section && eq != std::string_view::npos) {
      const std::string_view key = trim(l.substr(0, eq));
      const std::string value(trim(l.substr(eq + 1)));
      if (key == "aws_access_key_id") section.access_key = value;
      else if (key == "aws_secret_access_key") section.secret_key = value;
      else if (key == "display_name") section.display_name = value;
      else if (key == "account_id") {
        if (value.size() != 12 || !std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          if (error) *error = path + ":" + std::to_string(lineno) + ": account_id must be 12 digits, not '" + value + "'";
          return false;
        }
        section.account_id = value;
      }
      else if (key == "aws_session_token" || key == "aws_security_token") section.session_token = value;
      // Other profile keys (region, output, ...) are not credentials.
      continue;
    }
    // A plain "ACCESS_KEY SECRET [DISPLAY_NAME]" line (outside or inside a section).
    const auto sp = l.find_first_of(" \t");
    if (eq == std::string_view::npos && sp != std::string_view::npos) {
      const std::string_view key = l.substr(0, sp);
      std::string_view rest = trim(l.substr(sp));
      const auto sp2 = rest.find_first_of(" \t");
      const std::string_view secret = rest.substr(0, sp2);
      const std::string_view name = sp2 == std::string_view::npos ? std::string_view() : trim(rest.substr(sp2));
      if (!secret.empty() && name.find_first_of(" \t") == std::string_view::npos) {
        Credential c{std::string(key), std::string(secret), {}, std::nullopt};
        c.display_name = std::string(name);
        store.add(std::move(c));
        continue;
      }
    }
    if (error) *error = path + ":" + std::to_string(lineno) + ": expected 'ACCESS_KEY SECRET [DISPLAY_NAME]' or an INI line";
    return false;
  }
  return flush_section();
}

// --- helpers -------------------------------------------------------------------------------

namespace {

constexpr int64_t kS3MaxSkewMs = 15 * 60 * 1000;
// Kinesis (like the other JSON services) allows five minutes, as its error text says.
constexpr int64_t kKinesisMaxSkewMs = 5 * 60 * 1000;

// A verdict of ok with nothing else filled in (Kinesis in any mode: the caller reads ok alone).
AuthResult accepted() {
  AuthResult r;
  r.ok = true;
  return r;
}

AuthResult failure(std::string code, std::string message, int status) {
  AuthResult r;
  r.ok = false;
  r.code = std::move(code);
  r.message = std::move(message);
  r.status = status;
  return r;
}

std::string iso8601(sys_seconds t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{t - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
                int(hms.seconds().count()));
  return buf;
}

std::string hex_bytes(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}


bool valid_s3_payload_hash(std::string_view h) {
  return h == sv4::kUnsignedPayload || h == sv4::kStreamingPayload || h == sv4::kStreamingPayloadTrailer ||
         h == sv4::kStreamingUnsignedPayloadTrailer || h == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" ||
         h == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" || is_hex64(h);
}

sv4::Request to_sigv4(const http::Request& req) {
  sv4::Request r;
  r.method = req.method;
  r.path = req.path;
  r.query = req.query;
  r.headers = req.headers.items();
  return r;
}

struct DateInfo {
  sys_seconds time{};
  std::string amz_date;   // ISO-8601 basic, as signed
  std::string raw;        // the header value as sent
  bool present = false;
  bool valid = false;
};

DateInfo request_date(const http::Request& req) {
  DateInfo d;
  if (const std::string* x = req.headers.find("x-amz-date")) {
    d.present = true;
    d.raw = *x;
    if (auto t = sv4::parse_amz_date(trim(*x))) {
      d.time = *t;
      d.amz_date = std::string(trim(*x));
      d.valid = true;
    }
    return d;
  }
  if (const std::string* h = req.headers.find("Date")) {
    d.present = true;
    d.raw = *h;
    std::string_view v = trim(*h);
    auto t = sv4::parse_http_date(v);
    if (!t) t = sv4::parse_amz_date(v);
    if (t) {
      d.time = *t;
      d.amz_date = sv4::format_amz_date(*t);
      d.valid = true;
    }
  }
  return d;
}

sys_seconds to_seconds(int64_t ms) { return sys_seconds(std::chrono::seconds(ms / 1000)); }

// Everything one authentication needs, so the many checks stay flat.
struct Ctx {
  const http::Request& req;
  bool kinesis;
  Mode mode;
  const CredentialStore& store;
  int64_t now_ms;
};

AuthResult kinesis_incomplete_header(std::string_view raw, bool missing_date) {
  std::string msg;
  if (raw.find("Credential=") == std::string_view::npos) msg += "Authorization header requires 'Credential' parameter. ";
  if (raw.find("Signature=") == std::string_view::npos) msg += "Authorization header requires 'Signature' parameter. ";
  if (raw.find("SignedHeaders=") == std::string_view::npos)
    msg += "Authorization header requires 'SignedHeaders' parameter. ";
  if (missing_date) msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  if (msg.empty()) msg = "Authorization header is malformed. ";
  msg += "Authorization=" + std::string(raw);
  return failure("IncompleteSignatureException", msg, 400);
}

// The credential of an access key, with the session-token rules of temporary credentials.
// Returns an error result when the key cannot be used.
std::optional<AuthResult> check_credential(const Ctx& c, const std::string& access_key,
                                           std::optional<std::string_view> token, Credential& out) {
  auto cred = c.store.find(access_key);
  auto unknown = [&] {
    if (c.kinesis) return failure("UnrecognizedClientException", "The security token included in the request is invalid.", 400);
    AuthResult r = failure("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403);
    r.details.emplace_back("AWSAccessKeyId", access_key);
    return r;
  };
  auto bad_token = [&] {
    if (c.kinesis) return failure("UnrecognizedClientException", "The security token included in the request is invalid.", 400);
    return failure("InvalidToken", "The provided token is malformed or otherwise invalid.", 400);
  };
  if (!cred) return unknown();
  if (!cred->session_token.empty()) {
    // Temporary keys do not exist without their token, as with STS credentials on AWS.
    if (!token) return unknown();
    if (*token != cred->session_token) return bad_token();
    if (cred->expires_ms && *cred->expires_ms <= c.now_ms) {
      if (c.kinesis) return failure("ExpiredTokenException", "The security token included in the request is expired", 400);
      AuthResult r = failure("ExpiredToken", "The provided token has expired.", 400);
      r.details.emplace_back("Token-0", std::string(*token));
      return r;
    }
  } else if (token && !token->empty()) {
    return bad_token();
  }
  out = std::move(*cred);
  return std::nullopt;
}

AuthResult signature_mismatch(const Ctx& c, const std::string& access_key, const std::string& provided,
                              const std::string& string_to_sign, const std::string& canonical_request) {
  AuthResult r;
  if (c.kinesis) {
    std::string msg =
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.";
    if (!canonical_request.empty())
      msg += "\n\nThe Canonical String for this request should have been\n'" + canonical_request +
             "'\n\nThe String-to-Sign should have been\n'" + string_to_sign + "'\n";
    r = failure("InvalidSignatureException", msg, 400);
  } else {
    r = failure("SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and "
                "signing method.",
                403);
    r.details.emplace_back("AWSAccessKeyId", access_key);
    r.details.emplace_back("StringToSign", string_to_sign);
    r.details.emplace_back("SignatureProvided", provided);
    r.details.emplace_back("StringToSignBytes", hex_bytes(string_to_sign));
    if (!canonical_request.empty()) {
      r.details.emplace_back("CanonicalRequest", canonical_request);
      r.details.emplace_back("CanonicalRequestBytes", hex_bytes(canonical_request));
    }
  }
  r.string_to_sign = string_to_sign;
  r.canonical_request = canonical_request;
  r.access_key = access_key;
  return r;
}

AuthResult skewed(const Ctx& c, const DateInfo& d) {
  const int64_t t_ms = int64_t(d.time.time_since_epoch().count()) * 1000;
  if (c.kinesis) {
    const sys_seconds now = to_seconds(c.now_ms);
    const auto tolerance = std::chrono::milliseconds(kKinesisMaxSkewMs);
    const auto tol_s = std::chrono::duration_cast<std::chrono::seconds>(tolerance);
    if (t_ms < c.now_ms)
      return failure("InvalidSignatureException",
                     "Signature expired: " + d.amz_date + " is now earlier than " + sv4::format_amz_date(now - tol_s) +
                         " (" + sv4::format_amz_date(now) + " - 5 min.)",
                     400);
    return failure("InvalidSignatureException",
                   "Signature not yet current: " + d.amz_date + " is still later than " +
                       sv4::format_amz_date(now + tol_s) + " (" + sv4::format_amz_date(now) + " + 5 min.)",
                   400);
  }
  AuthResult r = failure("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", 403);
  r.details.emplace_back("RequestTime", d.raw);
  r.details.emplace_back("ServerTime", iso8601(to_seconds(c.now_ms)));
  r.details.emplace_back("MaxAllowedSkewMilliseconds", std::to_string(kS3MaxSkewMs));
  return r;
}

bool too_skewed(const Ctx& c, const DateInfo& d) {
  const int64_t t_ms = int64_t(d.time.time_since_epoch().count()) * 1000;
  const int64_t max = c.kinesis ? kKinesisMaxSkewMs : kS3MaxSkewMs;
  return t_ms < c.now_ms - max || t_ms > c.now_ms + max;
}

// Checks common to header and query SigV4: the scope against the date and the service, and
// that Host is signed.
std::optional<AuthResult> check_scope(const Ctx& c, const sv4::Authorization& a, std::string_view amz_date,
                                      std::string_view service, bool presigned) {
  const std::string date8(amz_date.substr(0, 8));
  if (a.scope.date != date8) {
    if (c.kinesis)
      return failure("InvalidSignatureException",
                     "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                         a.scope.date + "' != '" + date8 + "', from '" + std::string(amz_date) + "'.",
                     400);
    if (presigned)
      return failure("AuthorizationQueryParametersError",
                     "Invalid credential date \"" + a.scope.date + "\". This date is not the same as X-Amz-Date: \"" +
                         date8 + "\".",
                     400);
    return failure("AuthorizationHeaderMalformed",
                   "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.",
                   400);
  }
  if (a.scope.service != service) {
    if (c.kinesis)
      return failure("InvalidSignatureException",
                     "Credential should be scoped to correct service: '" + std::string(service) + "'. ", 400);
    if (presigned)
      return failure("AuthorizationQueryParametersError",
                     "Error parsing the X-Amz-Credential parameter; incorrect service \"" + a.scope.service +
                         "\". This endpoint belongs to \"" + std::string(service) + "\".",
                     400);
    return failure("AuthorizationHeaderMalformed",
                   "The authorization header is malformed; incorrect service \"" + a.scope.service +
                       "\". This endpoint belongs to \"" + std::string(service) + "\".",
                   400);
  }
  if (std::find(a.signed_headers.begin(), a.signed_headers.end(), "host") == a.signed_headers.end() &&
      std::find(a.signed_headers.begin(), a.signed_headers.end(), ":authority") == a.signed_headers.end()) {
    if (c.kinesis)
      return failure("InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
                     400);
    AuthResult r = failure("AccessDenied", "There were headers present in the request which were not signed", 403);
    r.details.emplace_back("HeadersNotSigned", "host");
    return r;
  }
  return std::nullopt;
}

// S3 wants every x-amz-* header that was sent to be signed.
std::optional<AuthResult> check_amz_headers_signed(const Ctx& c, const sv4::Authorization& a) {
  if (c.kinesis) return std::nullopt;
  std::vector<std::string> unsigned_names;
  for (const auto& [name, value] : c.req.headers.items()) {
    std::string n = lower(name);
    if (n.rfind("x-amz-", 0) != 0) continue;
    if (std::find(a.signed_headers.begin(), a.signed_headers.end(), n) != a.signed_headers.end()) continue;
    if (std::find(unsigned_names.begin(), unsigned_names.end(), n) == unsigned_names.end()) unsigned_names.push_back(n);
  }
  if (unsigned_names.empty()) return std::nullopt;
  std::sort(unsigned_names.begin(), unsigned_names.end());
  std::string joined;
  for (const auto& n : unsigned_names) joined += (joined.empty() ? "" : ", ") + n;
  AuthResult r = failure("AccessDenied", "There were headers present in the request which were not signed", 403);
  r.details.emplace_back("HeadersNotSigned", joined);
  return r;
}

// A Signature that is not 64 hex digits cannot match, but AWS answers it as a mismatch, not
// as a malformed header; any mode does not look at it at all.
std::optional<sv4::Authorization> parse_tolerating_signature(std::string_view raw, std::string* why) {
  auto parsed = sv4::parse_authorization_header(raw, why);
  if (parsed || *why != "malformed Signature") return parsed;
  const auto pos = raw.find("Signature=");
  if (pos == std::string_view::npos) return parsed;
  auto end = raw.find(',', pos);
  if (end == std::string_view::npos) end = raw.size();
  const std::string provided(trim(raw.substr(pos + 10, end - pos - 10)));
  if (provided.empty()) return parsed;
  std::string patched(raw.substr(0, pos + 10));
  patched += std::string(64, '0');
  patched += raw.substr(end);
  parsed = sv4::parse_authorization_header(patched, why);
  if (parsed) parsed->signature = provided;
  return parsed;
}

AuthResult header_v4(const Ctx& c, std::string_view raw, std::string_view service) {
  const DateInfo date = request_date(c.req);
  // All that any mode asks of a Kinesis request: a well-formed header (checked without
  // building anything) and a valid date. Anything else takes the full path for its error.
  const bool kinesis_any = c.kinesis && c.mode == Mode::any;
  if (kinesis_any && date.present && date.valid && sv4::authorization_header_valid(raw)) return accepted();
  std::string why;
  auto parsed = parse_tolerating_signature(raw, &why);
  if (!parsed) {
    if (c.kinesis) return kinesis_incomplete_header(raw, !date.present);
    return failure("AuthorizationHeaderMalformed", "The authorization header is malformed; " + why + ".", 400);
  }
  sv4::Authorization& a = *parsed;
  if (!date.present || !date.valid) {
    if (c.kinesis) return kinesis_incomplete_header(raw, true);
    return failure("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403);
  }
  if (kinesis_any) return accepted();  // a Signature that is not hex (tolerated above)
  // S3 takes the payload hash from x-amz-content-sha256 (required); others hash the body.
  std::string payload_hash;
  const std::string* content_sha = c.req.headers.find("x-amz-content-sha256");
  if (!c.kinesis) {
    if (!content_sha)
      return failure("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400);
    payload_hash = std::string(trim(*content_sha));
    if (!valid_s3_payload_hash(payload_hash))
      return failure("InvalidArgument",
                     "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
                     "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a "
                     "valid sha256 value.",
                     400);
  } else {
    // Only a signature check needs the body's hash (any mode returned above).
    if (content_sha) payload_hash = std::string(trim(*content_sha));
    else payload_hash = sv4::sha256_hex(c.req.body);
  }

  AuthResult ok;
  ok.ok = true;
  ok.access_key = a.access_key_id;
  ok.content_sha256 = payload_hash;
  ok.scope = a.scope.str();
  ok.amz_date = date.amz_date;
  ok.seed_signature = a.signature;
  if (c.mode == Mode::any) return ok;

  if (auto e = check_scope(c, a, date.amz_date, service, false)) return *e;
  if (auto e = check_amz_headers_signed(c, a)) return *e;
  // The date a signature is checked against must itself be signed.
  const std::string date_header = c.req.headers.has("x-amz-date") ? "x-amz-date" : "date";
  if (std::find(a.signed_headers.begin(), a.signed_headers.end(), date_header) == a.signed_headers.end()) {
    if (c.kinesis)
      return failure("InvalidSignatureException",
                     "'X-Amz-Date' or 'Date' must be a 'SignedHeader' in the AWS Authorization.", 400);
    AuthResult r = failure("AccessDenied", "There were headers present in the request which were not signed", 403);
    r.details.emplace_back("HeadersNotSigned", date_header);
    return r;
  }
  if (too_skewed(c, date)) return skewed(c, date);
  Credential cred;
  std::optional<std::string_view> token;
  if (const std::string* t = c.req.headers.find("x-amz-security-token")) token = trim(*t);
  if (auto e = check_credential(c, a.access_key_id, token, cred)) return *e;

  const auto computed = sv4::compute(to_sigv4(c.req), a, date.amz_date, cred.secret_key, payload_hash,
                                     c.kinesis ? sv4::UriStyle::standard : sv4::UriStyle::s3, false);
  if (!sv4::signatures_equal(computed.signature, a.signature))
    return signature_mismatch(c, a.access_key_id, a.signature, computed.string_to_sign, computed.canonical_request);
  if (payload_hash == sv4::kStreamingPayload || payload_hash == sv4::kStreamingPayloadTrailer) {
    const auto key = sv4::derive_signing_key(cred.secret_key, a.scope);
    ok.signing_key.assign(reinterpret_cast<const char*>(key.data()), key.size());
    ok.verify_chunks = true;
  }
  ok.string_to_sign = computed.string_to_sign;
  ok.canonical_request = computed.canonical_request;
  return ok;
}

AuthResult kinesis_incomplete_query(std::string_view raw_query) {
  const auto params = sv4::parse_query(raw_query);
  auto has = [&](std::string_view n) {
    return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == n; });
  };
  std::string msg;
  for (std::string_view n : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"})
    if (!has(n)) msg += "AWS query-string parameters must include '" + std::string(n) + "'. ";
  if (msg.empty()) msg = "AWS query-string parameters are malformed. ";
  msg += "Re-examine the query-string parameters.";
  return failure("IncompleteSignatureException", msg, 400);
}

AuthResult query_v4(const Ctx& c, std::string_view service) {
  std::string why;
  auto parsed = sv4::parse_presigned_query(c.req.query, &why);
  if (!parsed) {
    if (c.kinesis) return kinesis_incomplete_query(c.req.query);
    if (why.find("requires") != std::string::npos)
      return failure("AuthorizationQueryParametersError",
                     "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                     "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
                     400);
    if (why.find("X-Amz-Algorithm") != std::string::npos)
      return failure("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"", 400);
    if (why.find("X-Amz-Expires") != std::string::npos)
      return failure("AuthorizationQueryParametersError", "X-Amz-Expires should be a number", 400);
    if (why.find("X-Amz-Date") != std::string::npos)
      return failure("AuthorizationQueryParametersError",
                     "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"", 400);
    if (why.find("Credential") != std::string::npos)
      return failure("AuthorizationQueryParametersError",
                     "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
                     "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                     400);
    return failure("AuthorizationQueryParametersError", "Query-string authentication is malformed: " + why + ".", 400);
  }
  sv4::PresignedQuery& q = *parsed;
  if (q.expires < 0)
    return failure("AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative", 400);
  if (q.expires > sv4::kMaxPresignExpires)
    return failure("AuthorizationQueryParametersError",
                   "X-Amz-Expires must be less than a week (in seconds) that is 604800", 400);

  // A presigned URL's payload is not signed for S3; other services hash the body.
  std::string payload_hash = !c.kinesis ? std::string(sv4::kUnsignedPayload)
                             : c.mode != Mode::any ? sv4::sha256_hex(c.req.body)
                                                   : std::string();
  if (!c.kinesis)
    for (const auto& [name, value] : sv4::parse_query(c.req.query))
      if (name == "X-Amz-Content-Sha256") payload_hash = value;

  AuthResult ok;
  ok.ok = true;
  ok.access_key = q.auth.access_key_id;
  ok.content_sha256 = payload_hash;
  ok.scope = q.auth.scope.str();
  ok.amz_date = q.amz_date;
  ok.seed_signature = q.auth.signature;
  if (c.mode == Mode::any) return ok;

  if (auto e = check_scope(c, q.auth, q.amz_date, service, true)) return *e;
  const sys_seconds signed_at = *sv4::parse_amz_date(q.amz_date);
  const int64_t signed_ms = int64_t(signed_at.time_since_epoch().count()) * 1000;
  const sys_seconds now = to_seconds(c.now_ms);
  if (signed_ms > c.now_ms + (c.kinesis ? kKinesisMaxSkewMs : kS3MaxSkewMs)) {
    if (c.kinesis) {
      DateInfo d;
      d.time = signed_at;
      d.amz_date = q.amz_date;
      return skewed(c, d);
    }
    AuthResult r = failure("AccessDenied", "Request is not valid yet", 403);
    r.details.emplace_back("X-Amz-Date", q.amz_date);
    r.details.emplace_back("ServerTime", iso8601(now));
    return r;
  }
  if (c.now_ms > signed_ms + q.expires * 1000) {
    if (c.kinesis)
      return failure("InvalidSignatureException",
                     "Signature expired: " + q.amz_date + " is now earlier than " +
                         sv4::format_amz_date(now - std::chrono::seconds(q.expires)) + " (" + sv4::format_amz_date(now) +
                         " - " + std::to_string(q.expires) + " sec.)",
                     400);
    AuthResult r = failure("AccessDenied", "Request has expired", 403);
    r.details.emplace_back("X-Amz-Expires", std::to_string(q.expires));
    r.details.emplace_back("Expires", iso8601(signed_at + std::chrono::seconds(q.expires)));
    r.details.emplace_back("ServerTime", iso8601(now));
    return r;
  }
  Credential cred;
  std::optional<std::string_view> token;
  if (!q.security_token.empty()) token = q.security_token;
  else if (const std::string* t = c.req.headers.find("x-amz-security-token")) token = trim(*t);
  if (auto e = check_credential(c, q.auth.access_key_id, token, cred)) return *e;

  const auto computed = sv4::compute(to_sigv4(c.req), q.auth, q.amz_date, cred.secret_key, payload_hash,
                                     c.kinesis ? sv4::UriStyle::standard : sv4::UriStyle::s3, true);
  if (!sv4::signatures_equal(computed.signature, q.auth.signature))
    return signature_mismatch(c, q.auth.access_key_id, q.auth.signature, computed.string_to_sign,
                              computed.canonical_request);
  ok.string_to_sign = computed.string_to_sign;
  ok.canonical_request = computed.canonical_request;
  return ok;
}

// Signature Version 2 (S3 only), presigned query or "AWS AKID:signature" header.
AuthResult s3_v2(const Ctx& c, bool presigned, std::string_view raw_header) {
  std::string access_key, provided, token_value;
  bool have_token = false;
  int64_t expires = 0;
  DateInfo date;
  if (presigned) {
    auto p = sv4::parse_presigned_v2_query(c.req.query);
    if (!p)
      return failure("AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
                     403);
    access_key = p->access_key_id;
    provided = p->signature;
    expires = p->expires;
    if (!p->security_token.empty()) {
      have_token = true;
      token_value = p->security_token;
    }
  } else {
    auto h = sv4::parse_authorization_v2(raw_header);
    if (!h) return failure("InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature", 400);
    access_key = h->access_key_id;
    provided = h->signature;
    date = request_date(c.req);
    if (!date.present || !date.valid)
      return failure("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403);
  }
  if (!have_token)
    if (const std::string* t = c.req.headers.find("x-amz-security-token")) {
      have_token = true;
      token_value = std::string(trim(*t));
    }

  AuthResult ok;
  ok.ok = true;
  ok.access_key = access_key;
  ok.seed_signature = provided;
  if (const std::string* cs = c.req.headers.find("x-amz-content-sha256")) ok.content_sha256 = std::string(trim(*cs));
  if (c.mode == Mode::any) return ok;

  const sys_seconds now = to_seconds(c.now_ms);
  if (presigned) {
    if (c.now_ms > expires * 1000) {
      AuthResult r = failure("AccessDenied", "Request has expired", 403);
      r.details.emplace_back("Expires", iso8601(sys_seconds(std::chrono::seconds(expires))));
      r.details.emplace_back("ServerTime", iso8601(now));
      return r;
    }
  } else if (too_skewed(c, date)) {
    return skewed(c, date);
  }
  Credential cred;
  std::optional<std::string_view> token;
  if (have_token) token = token_value;
  if (auto e = check_credential(c, access_key, token, cred)) return *e;

  // The canonical resource names the bucket as "/bucket/" when the request is for the bucket
  // itself: a virtual-hosted "GET /?acl" on host jars.localhost signs "/jars/?acl", and so
  // does a path-style "GET /jars?acl" (AWS documents "/awsexamplebucket1/"; botocore's
  // HmacV1Auth signs that form). The bare "/jars" form of older signers is accepted too.
  // When the Host header does not say which form the client used, either is accepted.
  struct Candidate {
    std::string vbucket;
    std::string path;
  };
  std::vector<Candidate> candidates;
  // The bucket as the S3 service reads the Host header (server/s3/s3_request.h).
  const std::string vbucket = s3::virtual_host_bucket(c.req.headers.get("Host"));
  const std::string& path = c.req.path;
  if (!vbucket.empty()) candidates.push_back({vbucket, path});
  const bool bucket_only = path.size() > 1 && path.front() == '/' && path.find('/', 1) == std::string::npos;
  if (bucket_only) candidates.push_back({{}, path + "/"});
  candidates.push_back({{}, path});
  sv4::Request sreq = to_sigv4(c.req);
  std::string first_sts;
  for (const Candidate& cand : candidates) {
    sreq.path = cand.path;
    const std::string sts = sv4::v2_string_to_sign_for(sreq, cand.vbucket, presigned);
    if (first_sts.empty()) first_sts = sts;
    if (sv4::signatures_equal(sv4::v2_signature(cred.secret_key, sts), provided)) {
      ok.string_to_sign = sts;
      return ok;
    }
  }
  return signature_mismatch(c, access_key, provided, first_sts, {});
}

}  // namespace

// --- the authenticator ---------------------------------------------------------------------

Authenticator::Authenticator(Mode mode, CredentialStore& credentials, Clock& clock, std::string default_account)
    : mode_(mode), credentials_(credentials), clock_(clock), default_account_(std::move(default_account)) {}

AuthResult Authenticator::authenticate(const http::Request& req, std::string_view service) const {
  AuthResult r = check(req, service);
  if (r.ok && !r.anonymous && !r.access_key.empty()) identify(r);
  return r;
}

void Authenticator::identify(AuthResult& r) const {
  // A key eddy does not know (mode any) is a user and an account of its own.
  r.account = r.access_key;
  r.principal = r.access_key;
  r.display_name = r.access_key;
  if (auto cred = credentials_.find(r.access_key)) {
    r.account = cred->account_id.empty() ? default_account_ : cred->account_id;
    if (!cred->principal.empty()) r.principal = cred->principal;
    if (!cred->display_name.empty()) r.display_name = cred->display_name;
  }
}

AuthResult Authenticator::verify_post(const PostSignature& sig) const {
  AuthResult ok;
  ok.ok = true;
  if (mode_ == Mode::off) return ok;
  std::optional<sv4::Scope> scope;
  ok.access_key = sig.access_key;
  if (sig.v4) {
    auto parsed = sv4::parse_credential(sig.credential);
    if (!parsed) {
      AuthResult r = failure("InvalidArgument", "Invalid argument.", 400);
      r.details.emplace_back("ArgumentName", "x-amz-credential");
      r.details.emplace_back("ArgumentValue", sig.credential);
      return r;
    }
    ok.access_key = parsed->first;
    scope = parsed->second;
  }
  ok.seed_signature = sig.signature;
  if (mode_ == Mode::verify) {
    // check_credential reads only the store, the service and the time from its context.
    static const http::Request no_request;
    const Ctx c{no_request, false, mode_, credentials_, clock_.now_ms()};
    Credential cred;
    std::optional<std::string_view> token;
    if (!sig.security_token.empty()) token = sig.security_token;
    if (auto e = check_credential(c, ok.access_key, token, cred)) return *e;
    std::string expected;
    if (sig.v4) {
      if (scope->service != "s3" || sig.amz_date.substr(0, 8) != scope->date) {
        AuthResult r = failure("InvalidArgument", "Invalid argument.", 400);
        r.details.emplace_back("ArgumentName", "x-amz-credential");
        r.details.emplace_back("ArgumentValue", sig.credential);
        return r;
      }
      expected = sv4::signature(sv4::derive_signing_key(cred.secret_key, *scope), sig.policy);
    } else {
      expected = sv4::v2_signature(cred.secret_key, sig.policy);
    }
    if (!sv4::signatures_equal(expected, sig.signature))
      return signature_mismatch(c, ok.access_key, sig.signature, sig.policy, {});
  }
  identify(ok);
  return ok;
}

AuthResult Authenticator::check(const http::Request& req, std::string_view service) const {
  const bool kinesis = service != "s3";
  const std::string* header = req.headers.find("Authorization");
  const bool v4q = sv4::is_presigned_v4(req.query);
  const bool v2q = !kinesis && !v4q && sv4::is_presigned_v2(req.query);

  if (mode_ == Mode::off) {
    AuthResult r;
    r.ok = true;
    r.anonymous = !header && !v4q && !v2q;
    if (const std::string* cs = req.headers.find("x-amz-content-sha256")) r.content_sha256 = std::string(trim(*cs));
    return r;
  }
  if (header && (v4q || v2q)) {
    if (kinesis)
      return failure("InvalidSignatureException",
                     "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.", 400);
    return failure("InvalidArgument",
                   "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                   "parameter or the Authorization header should be specified",
                   400);
  }
  if (!header && !v4q && !v2q) {
    AuthResult r = kinesis ? failure("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
                           : failure("AccessDenied", "Access Denied", 403);
    r.anonymous = true;
    return r;
  }

  const Ctx c{req, kinesis, mode_, credentials_, clock_.now_ms()};
  if (v4q) return query_v4(c, service);
  if (v2q) return s3_v2(c, true, {});
  const std::string_view raw = trim(*header);
  if (raw.rfind(sv4::kAlgorithm, 0) == 0) return header_v4(c, raw, service);
  if (!kinesis && raw.rfind("AWS ", 0) == 0) return s3_v2(c, false, raw);
  if (kinesis) return kinesis_incomplete_header(raw, !request_date(req).present);
  AuthResult r = failure("InvalidArgument", "Unsupported Authorization Type", 400);
  r.details.emplace_back("ArgumentName", "Authorization");
  r.details.emplace_back("ArgumentValue", std::string(raw));
  return r;
}

AuthResult content_sha256_mismatch(std::string_view client_sha256, std::string_view computed_sha256) {
  AuthResult r = failure("XAmzContentSHA256Mismatch",
                         "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
  r.details.emplace_back("ClientComputedContentSHA256", std::string(client_sha256));
  r.details.emplace_back("S3ComputedContentSHA256", std::string(computed_sha256));
  return r;
}

}  // namespace eddy::auth
