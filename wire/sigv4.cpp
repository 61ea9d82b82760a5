#include "wire/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/text.h"

namespace eddy::wire::sigv4 {

namespace {

using text::iequals;
using text::lower;
using text::trim;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_hex_signature(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}


std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Calls fn with each piece of `s` between separators, as split() would return them (an empty
// piece included), without building a vector; stops early when fn returns false.
template <class Fn>
bool for_each_part(std::string_view s, char sep, Fn&& fn) {
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) return fn(s.substr(start));
    if (!fn(s.substr(start, pos - start))) return false;
    start = pos + 1;
  }
}

void set_error(std::string* error, std::string_view message) {
  if (error) error->assign(message);
}

// Headers a signer leaves out, because proxies may add, drop or rewrite them (botocore's
// list, plus Authorization itself).
bool excluded_from_signing(std::string_view lower_name) {
  static constexpr std::string_view kExcluded[] = {
      "authorization", "connection", "expect",   "keep-alive", "proxy-authenticate",
      "proxy-authorization", "te",   "trailer",  "transfer-encoding", "upgrade",
      "user-agent", "x-amzn-trace-id"};
  return std::find(std::begin(kExcluded), std::end(kExcluded), lower_name) !=
         std::end(kExcluded);
}

// RFC 3986 dot-segment removal as the SigV4 signers apply it: empty and "." segments are
// dropped, ".." drops the segment before it; a leading and a trailing slash survive.
std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  for (std::string_view seg : split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result;
  if (path.front() == '/') result += '/';
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i) result += '/';
    result += out[i];
  }
  if (path.back() == '/' && !out.empty()) result += '/';
  return result;
}

std::vector<std::string> names_to_sign(const Request& req) {
  std::vector<std::string> names;
  for (const auto& [name, value] : req.headers) {
    std::string n = lower(name);
    if (!excluded_from_signing(n)) names.push_back(std::move(n));
  }
  return split_signed_headers(join_signed_headers(names));
}

std::string two_digits(unsigned v) {
  char buf[3];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

constexpr std::string_view kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<std::chrono::sys_seconds> make_time(int y, unsigned mo, unsigned d, unsigned h,
                                                  unsigned mi, unsigned s) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

unsigned parse_uint(std::string_view digits) {
  unsigned v = 0;
  for (char c : digits) v = v * 10 + unsigned(c - '0');
  return v;
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
  if (!is_digits(s) || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

const std::string* find_param(const std::vector<std::pair<std::string, std::string>>& params,
                              std::string_view name) {
  for (const auto& [n, v] : params)
    if (n == name) return &v;
  return nullptr;
}

const std::string* find_param_ci(const std::vector<std::pair<std::string, std::string>>& params,
                                 std::string_view name) {
  for (const auto& [n, v] : params)
    if (iequals(n, name)) return &v;
  return nullptr;
}

}  // namespace

// --- Request -------------------------------------------------------------------------------

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

void Request::set_header(std::string_view name, std::string_view value) {
  remove_header(name);
  headers.emplace_back(std::string(name), std::string(value));
}

void Request::remove_header(std::string_view name) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.first, name); });
}

std::string Scope::str() const {
  std::string s;
  s.reserve(date.size() + region.size() + service.size() + 16);
  s.append(date).append("/").append(region).append("/").append(service).append("/");
  s.append(kTerminator);
  return s;
}

// --- encoding ------------------------------------------------------------------------------

std::string uri_encode(std::string_view bytes, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string uri_decode(std::string_view text, bool plus_as_space) { return text::percent_decode(text, plus_as_space); }

std::string canonical_uri(std::string_view raw_path, UriStyle style) {
  if (raw_path.empty()) return "/";
  if (style == UriStyle::standard) return uri_encode(normalize_path(raw_path), false);
  std::string out;
  out.reserve(raw_path.size() + 8);
  bool first = true;
  for (std::string_view seg : split(raw_path, '/')) {
    if (!first) out += '/';
    first = false;
    out += uri_encode(uri_decode(seg, false), true);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  if (raw_query.empty()) return params;
  for (std::string_view part : split(raw_query, '&')) {
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      params.emplace_back(uri_decode(part, true), std::string());
    } else {
      params.emplace_back(uri_decode(part.substr(0, eq), true),
                          uri_decode(part.substr(eq + 1), true));
    }
  }
  return params;
}

std::string canonical_query_string(std::string_view raw_query, bool exclude_signature) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (auto& [name, value] : parse_query(raw_query)) {
    if (exclude_signature && name == "X-Amz-Signature") continue;
    encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string canonical_header_value(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

std::string canonical_headers(const std::vector<Header>& headers,
                              const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const std::string& name : signed_headers) {
    out += name;
    out += ':';
    bool first = true;
    for (const auto& [n, v] : headers) {
      if (!iequals(n, name)) continue;
      if (!first) out += ',';
      first = false;
      out += canonical_header_value(v);
    }
    out += '\n';
  }
  return out;
}

std::string join_signed_headers(const std::vector<std::string>& names) {
  std::vector<std::string> sorted;
  sorted.reserve(names.size());
  for (const auto& n : names) sorted.push_back(lower(n));
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (const auto& n : sorted) {
    if (!out.empty()) out += ';';
    out += n;
  }
  return out;
}

std::vector<std::string> split_signed_headers(std::string_view joined) {
  std::vector<std::string> names;
  if (joined.empty()) return names;
  names.reserve(8);
  for_each_part(joined, ';', [&](std::string_view n) {
    names.push_back(lower(n));
    return true;
  });
  return names;
}

std::string canonical_request(const Request& req, const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash, UriStyle style,
                              bool exclude_signature_param) {
  std::string out;
  out.reserve(256);
  out += req.method;
  out += '\n';
  out += canonical_uri(req.path, style);
  out += '\n';
  out += canonical_query_string(req.query, exclude_signature_param);
  out += '\n';
  out += canonical_headers(req.headers, signed_headers);
  out += '\n';
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i) out += ';';
    out += signed_headers[i];
  }
  out += '\n';
  out += payload_hash;
  return out;
}

// --- keys and signatures -------------------------------------------------------------------

std::string sha256_hex(std::string_view bytes) {
  return checksum::digest_hex(checksum::Algorithm::sha256, bytes);
}

static std::string hmac_with(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  return hmac_with(EVP_sha256(), key, data);
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  return hmac_with(EVP_sha1(), key, data);
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  out.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 67);
  out.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out += sha256_hex(canonical_request);
  return out;
}

SigningKey derive_signing_key(std::string_view secret_access_key, const Scope& scope) {
  std::string k = "AWS4";
  k += secret_access_key;
  k = hmac_sha256(k, scope.date);
  k = hmac_sha256(k, scope.region);
  k = hmac_sha256(k, scope.service);
  k = hmac_sha256(k, kTerminator);
  SigningKey key{};
  std::copy(k.begin(), k.end(), key.begin());
  return key;
}

std::string signature(const SigningKey& key, std::string_view string_to_sign) {
  return checksum::to_hex(hmac_sha256(
      std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), string_to_sign));
}

bool signatures_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// --- time ----------------------------------------------------------------------------------

std::string format_amz_date(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02u%02u%02uZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), unsigned(hms.hours().count()),
                unsigned(hms.minutes().count()), unsigned(hms.seconds().count()));
  return buf;
}

std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !is_digits(s.substr(0, 8)) ||
      !is_digits(s.substr(9, 6)))
    return std::nullopt;
  return make_time(int(parse_uint(s.substr(0, 4))), parse_uint(s.substr(4, 2)),
                   parse_uint(s.substr(6, 2)), parse_uint(s.substr(9, 2)),
                   parse_uint(s.substr(11, 2)), parse_uint(s.substr(13, 2)));
}

std::string format_http_date(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const weekday wd{day};
  const hh_mm_ss hms{t - day};
  const int y = int(ymd.year());
  if (y >= 0 && y <= 9999) {
    // The common case in one fixed buffer (snprintf cost more than the rest of the call).
    char b[29];
    auto put2 = [&b](size_t at, unsigned v) {
      b[at] = char('0' + v / 10);
      b[at + 1] = char('0' + v % 10);
    };
    std::memcpy(b, kWeekdays[wd.c_encoding()].data(), 3);
    std::memcpy(b + 3, ", ", 2);
    put2(5, unsigned(ymd.day()));
    b[7] = ' ';
    std::memcpy(b + 8, kMonths[unsigned(ymd.month()) - 1].data(), 3);
    b[11] = ' ';
    put2(12, unsigned(y) / 100);
    put2(14, unsigned(y) % 100);
    b[16] = ' ';
    put2(17, unsigned(hms.hours().count()));
    b[19] = ':';
    put2(20, unsigned(hms.minutes().count()));
    b[22] = ':';
    put2(23, unsigned(hms.seconds().count()));
    std::memcpy(b + 25, " GMT", 4);
    return std::string(b, sizeof b);
  }
  std::string out;
  out.append(kWeekdays[wd.c_encoding()]).append(", ");
  out += two_digits(unsigned(ymd.day()));
  out.append(" ").append(kMonths[unsigned(ymd.month()) - 1]).append(" ");
  // IMF-fixdate's year is four digits (year 321 is "0321"), so the text parses back.
  char year[8];
  std::snprintf(year, sizeof year, "%04d", int(ymd.year()));
  out += year;
  out.append(" ").append(two_digits(unsigned(hms.hours().count())));
  out.append(":").append(two_digits(unsigned(hms.minutes().count())));
  out.append(":").append(two_digits(unsigned(hms.seconds().count())));
  out += " GMT";
  return out;
}

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s) {
  // "Fri, 24 May 2013 00:00:00 GMT"; "+0000"/"-0000"/"UTC" accepted for the zone, since
  // Python's email.utils.formatdate writes "-0000".
  if (s.size() < 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
      s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ')
    return std::nullopt;
  const std::string_view zone = s.substr(26);
  if (zone != "GMT" && zone != "UTC" && zone != "+0000" && zone != "-0000") return std::nullopt;
  if (std::find(std::begin(kWeekdays), std::end(kWeekdays), s.substr(0, 3)) ==
      std::end(kWeekdays))
    return std::nullopt;
  const auto month_it = std::find(std::begin(kMonths), std::end(kMonths), s.substr(8, 3));
  if (month_it == std::end(kMonths)) return std::nullopt;
  const std::string_view day = s.substr(5, 2), year = s.substr(12, 4), h = s.substr(17, 2),
                         mi = s.substr(20, 2), sec = s.substr(23, 2);
  if (!is_digits(day) || !is_digits(year) || !is_digits(h) || !is_digits(mi) || !is_digits(sec))
    return std::nullopt;
  return make_time(int(parse_uint(year)), unsigned(month_it - std::begin(kMonths)) + 1,
                   parse_uint(day), parse_uint(h), parse_uint(mi), parse_uint(sec));
}

// --- parsing -------------------------------------------------------------------------------

namespace {
// Splits "AK/date/region/service/aws4_request" into views: key, then tail = {aws4_request,
// service, region, date}. The access key is everything before the last four components (it
// may hold '/' itself).
bool split_credential(std::string_view credential, std::string_view& key, std::string_view (&tail)[4]) {
  std::string_view rest = credential;
  for (std::string_view& t : tail) {
    const std::size_t pos = rest.rfind('/');
    if (pos == std::string_view::npos) return false;
    t = rest.substr(pos + 1);
    rest = rest.substr(0, pos);
  }
  if (tail[0] != kTerminator) return false;
  if (tail[3].size() != 8 || !is_digits(tail[3]) || tail[2].empty() || tail[1].empty()) return false;
  key = rest;
  return !rest.empty();
}
}  // namespace

std::optional<std::pair<std::string, Scope>> parse_credential(std::string_view credential) {
  std::string_view key, tail[4];
  if (!split_credential(credential, key, tail)) return std::nullopt;
  return std::make_pair(std::string(key), Scope{std::string(tail[3]), std::string(tail[2]), std::string(tail[1])});
}

namespace {
// The one grammar of both: with `out` null, it only checks (no string is built).
bool parse_authorization(std::string_view value, std::string* error, Authorization* out) {
  value = trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm || value.size() == kAlgorithm.size() ||
      !is_space(value[kAlgorithm.size()])) {
    set_error(error, "unsupported authorization type");
    return false;
  }
  bool have_credential = false, have_signed = false, have_signature = false;
  const bool parsed = for_each_part(value.substr(kAlgorithm.size()), ',', [&](std::string_view part) {
    part = trim(part);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      set_error(error, "malformed component '" + std::string(part) + "'");
      return false;
    }
    const std::string_view key = trim(part.substr(0, eq));
    const std::string_view val = trim(part.substr(eq + 1));
    if (key == "Credential" && !have_credential) {
      std::string_view access_key, tail[4];
      if (!split_credential(val, access_key, tail)) {
        set_error(error, "malformed Credential '" + std::string(val) + "'");
        return false;
      }
      if (out) {
        out->access_key_id = std::string(access_key);
        out->scope = Scope{std::string(tail[3]), std::string(tail[2]), std::string(tail[1])};
      }
      have_credential = true;
    } else if (key == "SignedHeaders" && !have_signed) {
      bool any_empty = false;
      for_each_part(val, ';', [&](std::string_view n) { return !(any_empty = n.empty()); });
      if (val.empty() || any_empty) {
        set_error(error, "malformed SignedHeaders");
        return false;
      }
      if (out) out->signed_headers = split_signed_headers(val);
      have_signed = true;
    } else if (key == "Signature" && !have_signature) {
      if (!is_hex_signature(val)) {
        set_error(error, "malformed Signature");
        return false;
      }
      if (out) out->signature = lower(val);
      have_signature = true;
    } else {
      set_error(error, "unexpected or repeated component '" + std::string(key) + "'");
      return false;
    }
    return true;
  });
  if (!parsed) return false;
  if (!have_credential || !have_signed || !have_signature) {
    set_error(error, !have_credential ? "missing Credential"
                     : !have_signed   ? "missing SignedHeaders"
                                      : "missing Signature");
    return false;
  }
  return true;
}
}  // namespace

std::optional<Authorization> parse_authorization_header(std::string_view value, std::string* error) {
  Authorization auth;
  if (!parse_authorization(value, error, &auth)) return std::nullopt;
  return auth;
}

bool authorization_header_valid(std::string_view value) { return parse_authorization(value, nullptr, nullptr); }

bool is_presigned_v4(std::string_view raw_query) {
  for (const auto& [name, value] : parse_query(raw_query))
    if (name == "X-Amz-Algorithm") return true;
  return false;
}

std::optional<PresignedQuery> parse_presigned_query(std::string_view raw_query,
                                                    std::string* error) {
  const auto params = parse_query(raw_query);
  const std::string* algorithm = find_param(params, "X-Amz-Algorithm");
  const std::string* credential = find_param(params, "X-Amz-Credential");
  const std::string* date = find_param(params, "X-Amz-Date");
  const std::string* expires = find_param(params, "X-Amz-Expires");
  const std::string* signed_headers = find_param(params, "X-Amz-SignedHeaders");
  const std::string* sig = find_param(params, "X-Amz-Signature");
  const std::string* token = find_param(params, "X-Amz-Security-Token");
  if (!algorithm || !credential || !date || !expires || !signed_headers || !sig) {
    set_error(error,
              "query-string authentication requires X-Amz-Algorithm, X-Amz-Credential, "
              "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Expires");
    return std::nullopt;
  }
  if (*algorithm != kAlgorithm) {
    set_error(error, "unsupported X-Amz-Algorithm '" + *algorithm + "'");
    return std::nullopt;
  }
  PresignedQuery q;
  auto cred = parse_credential(*credential);
  if (!cred) {
    set_error(error, "malformed X-Amz-Credential '" + *credential + "'");
    return std::nullopt;
  }
  q.auth.access_key_id = std::move(cred->first);
  q.auth.scope = std::move(cred->second);
  if (!parse_amz_date(*date)) {
    set_error(error, "malformed X-Amz-Date '" + *date + "'");
    return std::nullopt;
  }
  q.amz_date = *date;
  auto exp = parse_int64(*expires);
  if (!exp) {
    set_error(error, "X-Amz-Expires should be a number");
    return std::nullopt;
  }
  q.expires = *exp;
  q.auth.signed_headers = split_signed_headers(*signed_headers);
  if (q.auth.signed_headers.empty() ||
      std::any_of(q.auth.signed_headers.begin(), q.auth.signed_headers.end(),
                  [](const std::string& h) { return h.empty(); })) {
    set_error(error, "malformed X-Amz-SignedHeaders");
    return std::nullopt;
  }
  if (!is_hex_signature(*sig)) {
    set_error(error, "malformed X-Amz-Signature");
    return std::nullopt;
  }
  q.auth.signature = lower(*sig);
  if (token) q.security_token = *token;
  return q;
}

Computed compute(const Request& req, const Authorization& auth, std::string_view amz_date,
                 std::string_view secret_access_key, std::string_view payload_hash,
                 UriStyle style, bool presigned) {
  Computed c;
  c.canonical_request = canonical_request(req, auth.signed_headers, payload_hash, style, presigned);
  c.string_to_sign = string_to_sign(amz_date, auth.scope.str(), c.canonical_request);
  c.signature = signature(derive_signing_key(secret_access_key, auth.scope), c.string_to_sign);
  return c;
}

// --- signing -------------------------------------------------------------------------------

SigningResult sign_request(Request& req, const SigningParams& params) {
  SigningResult r;
  r.amz_date = format_amz_date(params.time);
  const Scope scope{r.amz_date.substr(0, 8), params.region, params.service};
  req.remove_header("Authorization");
  req.set_header("X-Amz-Date", r.amz_date);
  if (!params.credentials.session_token.empty())
    req.set_header("X-Amz-Security-Token", params.credentials.session_token);
  if (params.set_content_sha256) req.set_header("X-Amz-Content-SHA256", params.payload_hash);

  const std::vector<std::string> names = names_to_sign(req);
  r.signed_headers = join_signed_headers(names);
  r.canonical_request =
      canonical_request(req, names, params.payload_hash, params.uri_style, false);
  r.string_to_sign = string_to_sign(r.amz_date, scope.str(), r.canonical_request);
  r.signature =
      signature(derive_signing_key(params.credentials.secret_access_key, scope), r.string_to_sign);
  r.authorization = std::string(kAlgorithm) + " Credential=" + params.credentials.access_key_id +
                    "/" + scope.str() + ", SignedHeaders=" + r.signed_headers +
                    ", Signature=" + r.signature;
  req.set_header("Authorization", r.authorization);
  return r;
}

SigningResult presign(Request& req, const SigningParams& params, std::chrono::seconds expires) {
  SigningResult r;
  r.amz_date = format_amz_date(params.time);
  const Scope scope{r.amz_date.substr(0, 8), params.region, params.service};
  const std::vector<std::string> names = names_to_sign(req);
  r.signed_headers = join_signed_headers(names);

  std::string added = "X-Amz-Algorithm=" + std::string(kAlgorithm);
  added += "&X-Amz-Credential=" +
           uri_encode(params.credentials.access_key_id + "/" + scope.str(), true);
  added += "&X-Amz-Date=" + r.amz_date;
  added += "&X-Amz-Expires=" + std::to_string(expires.count());
  added += "&X-Amz-SignedHeaders=" + uri_encode(r.signed_headers, true);
  if (!params.credentials.session_token.empty())
    added += "&X-Amz-Security-Token=" + uri_encode(params.credentials.session_token, true);
  if (!req.query.empty()) req.query += '&';
  req.query += added;

  r.canonical_request = canonical_request(req, names, params.payload_hash, params.uri_style, true);
  r.string_to_sign = string_to_sign(r.amz_date, scope.str(), r.canonical_request);
  r.signature =
      signature(derive_signing_key(params.credentials.secret_access_key, scope), r.string_to_sign);
  req.query += "&X-Amz-Signature=" + r.signature;
  return r;
}

// --- streaming -----------------------------------------------------------------------------

std::string chunk_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex) {
  std::string out = "AWS4-HMAC-SHA256-PAYLOAD\n";
  out.append(amz_date).append("\n").append(scope).append("\n");
  out.append(previous_signature).append("\n").append(kEmptySha256).append("\n");
  out.append(chunk_sha256_hex);
  return out;
}

std::string chunk_signature(const SigningKey& key, std::string_view amz_date,
                            std::string_view scope, std::string_view previous_signature,
                            std::string_view chunk_data) {
  return signature(key, chunk_string_to_sign(amz_date, scope, previous_signature,
                                             sha256_hex(chunk_data)));
}

std::string canonical_trailers(const std::vector<Header>& trailers) {
  std::string out;
  for (const auto& [name, value] : trailers) {
    out += lower(trim(name));
    out += ':';
    out += trim(value);
    out += '\n';
  }
  return out;
}

std::string trailer_string_to_sign(std::string_view amz_date, std::string_view scope,
                                   std::string_view previous_signature,
                                   std::string_view trailers_sha256_hex) {
  std::string out = "AWS4-HMAC-SHA256-TRAILER\n";
  out.append(amz_date).append("\n").append(scope).append("\n");
  out.append(previous_signature).append("\n").append(trailers_sha256_hex);
  return out;
}

std::string trailer_signature(const SigningKey& key, std::string_view amz_date,
                              std::string_view scope, std::string_view previous_signature,
                              std::string_view canonical_trailer_bytes) {
  return signature(key, trailer_string_to_sign(amz_date, scope, previous_signature,
                                               sha256_hex(canonical_trailer_bytes)));
}

ChunkSigner::ChunkSigner(SigningKey key, std::string amz_date, std::string scope,
                         std::string seed_signature)
    : key_(key),
      amz_date_(std::move(amz_date)),
      scope_(std::move(scope)),
      previous_(std::move(seed_signature)) {}

std::string ChunkSigner::next(std::string_view chunk_data) {
  return next_hashed(sha256_hex(chunk_data));
}

std::string ChunkSigner::next_hashed(std::string_view chunk_sha256_hex) {
  previous_ = signature(key_, chunk_string_to_sign(amz_date_, scope_, previous_, chunk_sha256_hex));
  return previous_;
}

std::string ChunkSigner::trailer(std::string_view canonical_trailer_bytes) {
  previous_ = trailer_signature(key_, amz_date_, scope_, previous_, canonical_trailer_bytes);
  return previous_;
}

// --- Signature Version 2 -------------------------------------------------------------------

bool is_v2_subresource(std::string_view name) {
  static constexpr std::string_view kSubresources[] = {
      "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
      "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
      "partNumber", "policy", "replication", "requestPayment", "response-cache-control",
      "response-content-disposition", "response-content-encoding", "response-content-language",
      "response-content-type", "response-expires", "restore", "select", "select-type",
      "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
      "versions", "website"};
  return std::find(std::begin(kSubresources), std::end(kSubresources), name) !=
         std::end(kSubresources);
}

std::string v2_canonical_resource(std::string_view virtual_host_bucket, std::string_view raw_path,
                                  std::string_view raw_query) {
  std::string out;
  if (!virtual_host_bucket.empty()) {
    out += '/';
    out += virtual_host_bucket;
  }
  out += raw_path.empty() ? std::string_view("/") : raw_path;

  struct Sub {
    std::string name;
    std::optional<std::string> value;
  };
  std::vector<Sub> subs;
  if (!raw_query.empty()) {
    for (std::string_view part : split(raw_query, '&')) {
      const std::size_t eq = part.find('=');
      const std::string_view name = part.substr(0, eq);
      if (!is_v2_subresource(name)) continue;
      if (eq == std::string_view::npos)
        subs.push_back({std::string(name), std::nullopt});
      else
        subs.push_back({std::string(name), uri_decode(part.substr(eq + 1), false)});
    }
  }
  std::stable_sort(subs.begin(), subs.end(),
                   [](const Sub& a, const Sub& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < subs.size(); ++i) {
    out += (i == 0) ? '?' : '&';
    out += subs[i].name;
    if (subs[i].value) {
      out += '=';
      out += *subs[i].value;
    }
  }
  return out;
}

std::string v2_canonical_amz_headers(const std::vector<Header>& headers) {
  std::vector<std::pair<std::string, std::string>> amz;  // name, joined values
  for (const auto& [name, value] : headers) {
    std::string n = lower(trim(name));
    if (n.rfind("x-amz-", 0) != 0) continue;
    auto it = std::find_if(amz.begin(), amz.end(), [&](const auto& p) { return p.first == n; });
    if (it == amz.end()) {
      amz.emplace_back(std::move(n), std::string(trim(value)));
    } else {
      it->second += ',';
      it->second += trim(value);
    }
  }
  std::sort(amz.begin(), amz.end());
  std::string out;
  for (const auto& [name, value] : amz) out.append(name).append(":").append(value).append("\n");
  return out;
}

std::string v2_string_to_sign(std::string_view method, std::string_view content_md5,
                              std::string_view content_type, std::string_view date_or_expires,
                              std::string_view canonical_amz_headers,
                              std::string_view canonical_resource) {
  std::string out;
  out.append(method).append("\n").append(content_md5).append("\n").append(content_type);
  out.append("\n").append(date_or_expires).append("\n").append(canonical_amz_headers);
  out.append(canonical_resource);
  return out;
}

std::string v2_signature(std::string_view secret_access_key, std::string_view string_to_sign) {
  return base64_encode(hmac_sha1(secret_access_key, string_to_sign));
}

bool is_presigned_v2(std::string_view raw_query) {
  const auto params = parse_query(raw_query);
  return find_param(params, "AWSAccessKeyId") && find_param(params, "Signature");
}

std::optional<PresignedV2> parse_presigned_v2_query(std::string_view raw_query) {
  const auto params = parse_query(raw_query);
  const std::string* key = find_param(params, "AWSAccessKeyId");
  const std::string* sig = find_param(params, "Signature");
  const std::string* expires = find_param(params, "Expires");
  if (!key || !sig || !expires || key->empty() || sig->empty()) return std::nullopt;
  auto exp = parse_int64(*expires);
  if (!exp) return std::nullopt;
  PresignedV2 p;
  p.access_key_id = *key;
  p.expires = *exp;
  // Base64 has no spaces: a '+' that a client forgot to encode was read as one.
  p.signature = *sig;
  std::replace(p.signature.begin(), p.signature.end(), ' ', '+');
  if (const std::string* token = find_param_ci(params, "x-amz-security-token"))
    p.security_token = *token;
  return p;
}

std::optional<AuthorizationV2> parse_authorization_v2(std::string_view value) {
  value = trim(value);
  if (value.substr(0, 4) != "AWS ") return std::nullopt;
  value = trim(value.substr(4));
  const std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size())
    return std::nullopt;
  return AuthorizationV2{std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))};
}

std::string v2_string_to_sign_for(const Request& req, std::string_view virtual_host_bucket,
                                  bool presigned) {
  const auto params = parse_query(req.query);
  auto header_or_param = [&](std::string_view name) -> std::string {
    if (auto h = req.header(name)) return std::string(trim(*h));
    if (presigned)
      if (const std::string* p = find_param_ci(params, name)) return *p;
    return {};
  };
  std::vector<Header> amz = req.headers;
  std::string date;
  if (presigned) {
    for (const auto& [name, value] : params)
      if (lower(name).rfind("x-amz-", 0) == 0 && !req.header(name)) amz.emplace_back(name, value);
    if (const std::string* e = find_param(params, "Expires")) date = *e;
  } else if (!req.header("x-amz-date")) {
    // With x-amz-date present the Date slot stays empty; x-amz-date is signed as an amz header.
    date = std::string(trim(req.header("date").value_or("")));
  }
  return v2_string_to_sign(req.method, header_or_param("content-md5"),
                           header_or_param("content-type"), date, v2_canonical_amz_headers(amz),
                           v2_canonical_resource(virtual_host_bucket, req.path, req.query));
}

std::string presign_v2(Request& req, const Credentials& credentials, std::int64_t expires_epoch,
                       std::string_view virtual_host_bucket) {
  std::vector<Header> amz = req.headers;
  if (!credentials.session_token.empty())
    amz.emplace_back("x-amz-security-token", credentials.session_token);
  const std::string expires = std::to_string(expires_epoch);
  const std::string sts = v2_string_to_sign(
      req.method, trim(req.header("content-md5").value_or("")),
      trim(req.header("content-type").value_or("")), expires, v2_canonical_amz_headers(amz),
      v2_canonical_resource(virtual_host_bucket, req.path, req.query));
  const std::string sig = v2_signature(credentials.secret_access_key, sts);
  if (!req.query.empty()) req.query += '&';
  req.query += "AWSAccessKeyId=" + uri_encode(credentials.access_key_id, true);
  req.query += "&Signature=" + uri_encode(sig, true);
  req.query += "&Expires=" + expires;
  if (!credentials.session_token.empty())
    req.query += "&x-amz-security-token=" + uri_encode(credentials.session_token, true);
  return sig;
}

}  // namespace eddy::wire::sigv4
