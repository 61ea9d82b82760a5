// Object lock on eddy's clock: a bucket's lock configuration and default retention
// (Put/GetObjectLockConfiguration, x-amz-bucket-object-lock-enabled at creation), per-version
// retention (GOVERNANCE, bypassed with x-amz-bypass-governance-retention; COMPLIANCE) and legal
// holds, the x-amz-object-lock-* headers of PUT/copy/multipart and GET/HEAD, and refusing to
// delete a locked version. "Until" is compared with the App clock, so a manual clock releases
// a lock without waiting.
#include <cstdio>
#include <ctime>

#include "server/s3/s3_internal.h"
#include "server/s3/s3_service.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

bool valid_mode(std::string_view m) { return m == "GOVERNANCE" || m == "COMPLIANCE"; }

S3Error missing_lock_configuration() {
  return err("InvalidRequest", "Bucket is missing Object Lock Configuration", 400);
}
S3Error locked() { return err("AccessDenied", "Access Denied because object protected by object lock.", 403); }

bool bypass(const Ctx& c) { return http::iequals(c.headers.get("x-amz-bypass-governance-retention"), "true"); }

// Strictly positive decimal up to 9 digits.
std::optional<uint32_t> positive(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  uint32_t n = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (n == 0) return std::nullopt;
  return n;
}

}  // namespace

// ISO-8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]" in ms since the epoch.
std::optional<int64_t> parse_iso8601_ms(std::string_view v) {
  int Y, M, D, h, m, s;
  int n = 0;
  std::string str(v);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &s, &n) != 6) return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60) return std::nullopt;
  std::string_view rest = std::string_view(str).substr(static_cast<size_t>(n));
  int64_t ms = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) ms = ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  int64_t offset_s = 0;
  if (rest == "Z" || rest.empty()) {
  } else if ((rest.front() == '+' || rest.front() == '-') && rest.size() == 6 && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (rest.front() == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return (static_cast<int64_t>(timegm(&tm)) - offset_s) * 1000 + ms;
}

std::optional<S3Error> S3Service::lock_forbids_delete(const Ctx& c, const ObjectMeta& m) const {
  if (m.delete_marker) return std::nullopt;
  if (m.legal_hold) return locked();
  if (!m.lock_mode.empty() && m.lock_until_ms > clock_.now_ms()) {
    if (m.lock_mode == "GOVERNANCE" && bypass(c)) return std::nullopt;
    return locked();
  }
  return std::nullopt;
}

std::optional<S3Error> S3Service::lock_from_request(const Ctx& c, const Bucket& b, ObjectMeta& m) const {
  const auto& h = c.headers;
  const bool has_mode = h.has("x-amz-object-lock-mode"), has_until = h.has("x-amz-object-lock-retain-until-date");
  const bool has_hold = h.has("x-amz-object-lock-legal-hold");
  if ((has_mode || has_until || has_hold) && !b.object_lock)
    return err("InvalidRequest", "Bucket is missing ObjectLockConfiguration", 400);
  if (has_mode != has_until)
    return err("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied", 400);
  if (has_mode) {
    const std::string mode(h.get("x-amz-object-lock-mode"));
    if (!valid_mode(mode)) return invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", mode);
    auto until = parse_iso8601_ms(h.get("x-amz-object-lock-retain-until-date"));
    if (!until)
      return invalid_argument("The retain until date must be provided in ISO 8601 format",
                              "x-amz-object-lock-retain-until-date", std::string(h.get("x-amz-object-lock-retain-until-date")));
    if (*until <= clock_.now_ms()) return err("InvalidArgument", "The retain until date must be in the future!", 400);
    m.lock_mode = mode;
    m.lock_until_ms = *until;
  } else if (b.object_lock && !b.lock_mode.empty() && m.lock_mode.empty()) {
    // The bucket's default retention, counted from now.
    m.lock_mode = b.lock_mode;
    m.lock_until_ms = clock_.now_ms() + (b.lock_days ? int64_t(b.lock_days) * kDayMs : int64_t(b.lock_years) * 365 * kDayMs);
  }
  if (has_hold) {
    const std::string_view hold = h.get("x-amz-object-lock-legal-hold");
    if (hold != "ON" && hold != "OFF")
      return invalid_argument("Unknown legal hold status.", "x-amz-object-lock-legal-hold", std::string(hold));
    m.legal_hold = hold == "ON";
  }
  return std::nullopt;
}

void add_lock_headers(const ObjectMeta& m, http::Response& res) {
  if (!m.lock_mode.empty()) {
    res.headers.add("x-amz-object-lock-mode", m.lock_mode);
    res.headers.add("x-amz-object-lock-retain-until-date", iso8601(m.lock_until_ms));
  }
  if (m.legal_hold) res.headers.add("x-amz-object-lock-legal-hold", "ON");
}

// ---- bucket configuration -----------------------------------------------------------------

http::Response S3Service::put_object_lock(Ctx& c, const std::string& body) {
  XmlPut put;
  auto b = with_xml_body(owned_bucket(c, &put.refusal), c, body, "ObjectLockConfiguration", put);
  if (!b) return std::move(put.refusal);
  auto root = put.root();
  if (child_text(root, "ObjectLockEnabled") != "Enabled") return error_response(c, malformed_xml());
  std::string mode;
  uint32_t days = 0, years = 0;
  auto rules = children(root, "Rule");
  if (!rules.empty()) {
    auto def = children(rules.front(), "DefaultRetention");
    if (def.empty()) return error_response(c, malformed_xml());
    mode = child_text(def.front(), "Mode");
    const bool has_days = !children(def.front(), "Days").empty(), has_years = !children(def.front(), "Years").empty();
    if (!valid_mode(mode) || has_days == has_years) return error_response(c, malformed_xml());
    auto n = positive(child_text(def.front(), has_days ? "Days" : "Years"));
    if (!n)
      return error_response(c, err("InvalidRetentionPeriod", "Default retention period must be a positive integer value.", 400));
    (has_days ? days : years) = *n;
  }
  if (!b->object_lock && b->versioning != "Enabled")
    return error_response(c, err("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                                 409));
  return change_bucket(c, [&](Bucket& nb) {
    nb.object_lock = true;
    nb.lock_mode = mode;
    nb.lock_days = days;
    nb.lock_years = years;
  });
}

http::Response S3Service::get_object_lock(Ctx& c) {
  http::Response refusal;
  auto b = owned_bucket(c, &refusal);
  if (!b) return refusal;
  if (!b->object_lock)
    return error_response(c, err("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket",
                                 404, {{"BucketName", c.bucket}}));
  XmlOut x("ObjectLockConfiguration");
  XmlOut::add(x.root(), "ObjectLockEnabled", "Enabled");
  if (!b->lock_mode.empty()) {
    auto def = XmlOut::add(XmlOut::add(x.root(), "Rule"), "DefaultRetention");
    XmlOut::add(def, "Mode", b->lock_mode);
    if (b->lock_days) XmlOut::add(def, "Days", std::to_string(b->lock_days));
    else XmlOut::add(def, "Years", std::to_string(b->lock_years));
  }
  return xml_response(c, 200, x.str());
}

// ---- retention and legal hold -------------------------------------------------------------

// The version a retention / legal-hold request addresses, checked: nullopt with *e set.
std::optional<S3Service::Version> S3Service::lock_target(Ctx& c, const Bucket& b, Perm p, std::optional<S3Error>* e) {
  if (!b.object_lock) {
    *e = missing_lock_configuration();
    return std::nullopt;
  }
  auto v = acl_version(c, b.id);
  if (!v) {
    if (!bucket_allows(c, b, Perm::read)) *e = access_denied();
    else if (c.has("versionId"))
      *e = err("NoSuchVersion", "The specified version does not exist.", 404, {{"Key", c.key}, {"VersionId", c.q("versionId")}});
    else
      *e = no_such_key(c.key);
    return std::nullopt;
  }
  if (!object_allows(c, b, v->meta, p)) {
    *e = access_denied();
    return std::nullopt;
  }
  return v;
}

http::Response S3Service::change_version(Ctx& c, const Bucket& b,
                                         const std::function<std::optional<S3Error>(ObjectMeta&)>& change) {
  std::lock_guard lk(commit_mu_);
  std::optional<S3Error> e;
  auto v = lock_target(c, b, Perm::write, &e);
  if (!v) return error_response(c, *e);
  if ((e = change(v->meta))) return error_response(c, *e);
  store::WriteBatch batch(store_);
  store_version(batch, b.id, c.key, *v);
  if (!store_.write(batch)) return error_response(c, internal_error());
  http::Response res;
  res.content_length = 0;
  return res;
}

std::optional<Bucket> S3Service::lock_bucket(Ctx& c, http::Response* refusal) {
  auto b = find_bucket(c.bucket);
  if (!b) *refusal = error_response(c, no_such_bucket(c.bucket));
  else if (!b->object_lock) *refusal = error_response(c, missing_lock_configuration());
  else return b;
  return std::nullopt;
}

http::Response S3Service::read_lock(Ctx& c, const std::function<http::Response(const ObjectMeta&)>& answer) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  std::optional<S3Error> e;
  auto v = lock_target(c, *b, Perm::read, &e);
  if (!v) return error_response(c, *e);
  return answer(v->meta);
}

http::Response S3Service::put_retention(Ctx& c, const std::string& body) {
  XmlPut put;
  auto b = with_xml_body(lock_bucket(c, &put.refusal), c, body, "Retention", put);
  if (!b) return std::move(put.refusal);
  auto root = put.root();
  const std::string mode = child_text(root, "Mode");
  const std::string until_text = child_text(root, "RetainUntilDate");
  if (!mode.empty() && !valid_mode(mode)) return error_response(c, malformed_xml());
  std::optional<int64_t> until;
  if (!until_text.empty()) {
    until = parse_iso8601_ms(until_text);
    if (!until) return error_response(c, malformed_xml());
  }
  if (mode.empty() != until_text.empty()) return error_response(c, malformed_xml());
  if (until && *until <= clock_.now_ms())
    return error_response(c, err("InvalidArgument", "The retain until date must be in the future!", 400));
  return change_version(c, *b, [&](ObjectMeta& m) -> std::optional<S3Error> {
    if (!m.lock_mode.empty() && m.lock_until_ms > clock_.now_ms()) {
      // A lock in effect: COMPLIANCE only lengthens; GOVERNANCE needs the bypass to shorten,
      // remove or change mode.
      const bool weaker = mode != m.lock_mode || !until || *until < m.lock_until_ms;
      if (weaker && (m.lock_mode == "COMPLIANCE" || !bypass(c))) return locked();
    }
    m.lock_mode = mode;
    m.lock_until_ms = until ? *until : 0;
    return std::nullopt;
  });
}

http::Response S3Service::get_retention(Ctx& c) {
  return read_lock(c, [&](const ObjectMeta& m) {
    if (m.lock_mode.empty())
      return error_response(c, err("NoSuchObjectLockConfiguration",
                                   "The specified object does not have a ObjectLock configuration", 404));
    XmlOut x("Retention");
    XmlOut::add(x.root(), "Mode", m.lock_mode);
    XmlOut::add(x.root(), "RetainUntilDate", iso8601(m.lock_until_ms));
    return xml_response(c, 200, x.str());
  });
}

http::Response S3Service::put_legal_hold(Ctx& c, const std::string& body) {
  XmlPut put;
  auto b = with_xml_body(lock_bucket(c, &put.refusal), c, body, "LegalHold", put);
  if (!b) return std::move(put.refusal);
  const std::string status = child_text(put.root(), "Status");
  if (status != "ON" && status != "OFF") return error_response(c, malformed_xml());
  return change_version(c, *b, [&](ObjectMeta& m) -> std::optional<S3Error> {
    m.legal_hold = status == "ON";
    return std::nullopt;
  });
}

http::Response S3Service::get_legal_hold(Ctx& c) {
  return read_lock(c, [&](const ObjectMeta& m) {
    XmlOut x("LegalHold");
    XmlOut::add(x.root(), "Status", m.legal_hold ? "ON" : "OFF");
    return xml_response(c, 200, x.str());
  });
}

}  // namespace eddy::s3
