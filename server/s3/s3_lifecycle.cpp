// Lifecycle configuration: Put/Get/DeleteBucketLifecycleConfiguration (validated as S3
// validates, stored as the XML it was given with IDs filled in) and expiration on eddy's clock:
// Expiration (Days, Date, ExpiredObjectDeleteMarker), NoncurrentVersionExpiration
// (NoncurrentDays, NewerNoncurrentVersions) and AbortIncompleteMultipartUpload, filtered by
// prefix and object size. Rules are applied by apply_lifecycle(), which the service runs before
// a request at most once a minute of clock time (so moving a manual clock and sending any
// request expires what is due). Transitions are stored and returned, never applied (eddy has
// one storage class).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>
#include <variant>

#include "server/s3/s3_internal.h"
#include "server/s3/s3_service.h"

namespace eddy::s3 {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

struct Rule {
  std::string id;
  bool enabled = false;
  std::string prefix;
  bool has_tags = false;  // a Tag filter: eddy keeps no object tags here, so it matches nothing
  int64_t size_gt = -1, size_lt = -1;
  int64_t days = 0;       // Expiration Days
  int64_t date_ms = -1;   // Expiration Date
  bool expired_marker = false;
  int64_t noncurrent_days = 0;
  int64_t newer_noncurrent = 0;
  int64_t abort_days = 0;
  bool matches(const std::string& key, const ObjectMeta* m) const {
    if (has_tags || key.rfind(prefix, 0) != 0) return false;
    if (m && size_gt >= 0 && !(static_cast<int64_t>(m->size) > size_gt)) return false;
    if (m && size_lt >= 0 && !(static_cast<int64_t>(m->size) < size_lt)) return false;
    return true;
  }
};

std::optional<int64_t> non_negative(const std::string& s) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  return n;
}

// S3 counts expiration days from the object's creation, rounded up to the next midnight UTC.
int64_t next_midnight(int64_t ms) { return (ms + kDayMs - 1) / kDayMs * kDayMs; }

bool has(pugi::xml_node n, std::string_view name) { return !children(n, name).empty(); }

// An action's day count `field` (under `action`): a positive integer, else InvalidArgument.
std::variant<int64_t, S3Error> positive_days(pugi::xml_node e, const char* field, const char* action) {
  const std::string text = child_text(e, field);
  auto n = non_negative(text);
  if (!n || *n == 0)
    return invalid_argument(std::string("'") + field + "' for " + action + " action must be a positive integer", field, text);
  return *n;
}

// Validates a configuration into rules (filling in missing IDs in the document).
std::optional<S3Error> parse_rules(pugi::xml_node root, std::vector<Rule>* out, bool fill_ids) {
  auto rules = children(root, "Rule");
  if (rules.empty() || rules.size() > 1000) return malformed_xml();
  std::set<std::string> ids;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  for (auto r : rules) {
    Rule rule;
    if (!has(r, "ID") && fill_ids) {
      std::string id;
      for (int i = 0; i < 3; ++i) id += std::to_string(rng() % 1000000000);
      r.prepend_child("ID").text().set(id.c_str());
    }
    rule.id = child_text(r, "ID");
    if (rule.id.size() > 255) return invalid_argument("ID length should not exceed allowed limit of 255", "ID", rule.id);
    if (!rule.id.empty() && !ids.insert(rule.id).second)
      return invalid_argument("Rule ID must be unique. Found same ID for more than one rule", "ID", rule.id);
    const std::string status = child_text(r, "Status");
    if (status != "Enabled" && status != "Disabled") return malformed_xml();
    rule.enabled = status == "Enabled";
    const bool has_prefix = has(r, "Prefix"), has_filter = has(r, "Filter");
    if (has_prefix == has_filter) return malformed_xml();
    if (has_prefix) {
      rule.prefix = child_text(r, "Prefix");
    } else {
      auto f = children(r, "Filter").front();
      auto scope = f;
      if (has(f, "And")) scope = children(f, "And").front();
      rule.prefix = child_text(scope, "Prefix");
      rule.has_tags = has(scope, "Tag");
      for (auto [name, field] : {std::pair{"ObjectSizeGreaterThan", &rule.size_gt}, {"ObjectSizeLessThan", &rule.size_lt}}) {
        if (!has(scope, name)) continue;
        auto n = non_negative(child_text(scope, name));
        if (!n) return malformed_xml();
        *field = *n;
      }
    }
    bool action = false;
    if (has(r, "Expiration")) {
      action = true;
      auto e = children(r, "Expiration").front();
      const int kinds = int(has(e, "Days")) + int(has(e, "Date")) + int(has(e, "ExpiredObjectDeleteMarker"));
      if (kinds != 1) return malformed_xml();
      if (has(e, "Days")) {
        auto n = positive_days(e, "Days", "Expiration");
        if (auto* bad = std::get_if<S3Error>(&n)) return *bad;
        rule.days = std::get<int64_t>(n);
      } else if (has(e, "Date")) {
        auto t = parse_iso8601_ms(child_text(e, "Date"));
        if (!t || *t % kDayMs != 0) return invalid_argument("'Date' must be at midnight GMT", "Date", child_text(e, "Date"));
        rule.date_ms = *t;
      } else {
        const std::string v = child_text(e, "ExpiredObjectDeleteMarker");
        if (v != "true" && v != "false") return malformed_xml();
        rule.expired_marker = v == "true";
      }
    }
    if (has(r, "NoncurrentVersionExpiration")) {
      action = true;
      auto e = children(r, "NoncurrentVersionExpiration").front();
      auto n = positive_days(e, "NoncurrentDays", "NoncurrentVersionExpiration");
      if (auto* bad = std::get_if<S3Error>(&n)) return *bad;
      rule.noncurrent_days = std::get<int64_t>(n);
      if (has(e, "NewerNoncurrentVersions")) {
        auto k = non_negative(child_text(e, "NewerNoncurrentVersions"));
        if (!k || *k == 0 || *k > 100)
          return invalid_argument("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
                                  "integer up to 100",
                                  "NewerNoncurrentVersions", child_text(e, "NewerNoncurrentVersions"));
        rule.newer_noncurrent = *k;
      }
    }
    if (has(r, "AbortIncompleteMultipartUpload")) {
      action = true;
      auto n = positive_days(children(r, "AbortIncompleteMultipartUpload").front(), "DaysAfterInitiation",
                             "AbortIncompleteMultipartUpload");
      if (auto* bad = std::get_if<S3Error>(&n)) return *bad;
      rule.abort_days = std::get<int64_t>(n);
    }
    for (const char* name : {"Transition", "NoncurrentVersionTransition"}) {
      for (auto t : children(r, name)) {
        action = true;
        if (has(t, "Date")) {
          auto d = parse_iso8601_ms(child_text(t, "Date"));
          if (!d || *d % kDayMs != 0) return invalid_argument("'Date' must be at midnight GMT", "Date", child_text(t, "Date"));
        }
        const char* days = std::string_view(name) == "Transition" ? "Days" : "NoncurrentDays";
        if (has(t, days) && !non_negative(child_text(t, days)))
          return invalid_argument(std::string("'") + days + "' in Transition action must be nonnegative", days,
                                  child_text(t, days));
        if (child_text(t, "StorageClass").empty()) return malformed_xml();
      }
    }
    if (!action) return err("InvalidRequest", "At least one action needs to be specified in a rule", 400);
    out->push_back(std::move(rule));
  }
  return std::nullopt;
}

}  // namespace

http::Response S3Service::put_lifecycle(Ctx& c, const std::string& body) {
  XmlPut put;
  if (!with_xml_body(owned_bucket(c, &put.refusal), c, body, "LifecycleConfiguration", put))
    return std::move(put.refusal);
  auto root = put.root();
  std::vector<Rule> rules;
  if (auto e = parse_rules(root, &rules, true)) return error_response(c, *e);
  root.remove_attribute("xmlns");
  root.prepend_attribute("xmlns") = std::string(kNamespace).c_str();
  std::ostringstream os;
  put.doc.save(os, "", pugi::format_raw);
  return change_bucket(c, [&](Bucket& nb) { nb.lifecycle = os.str(); });
}

http::Response S3Service::get_lifecycle(Ctx& c) {
  http::Response refusal;
  auto b = owned_bucket(c, &refusal);
  if (!b) return refusal;
  if (b->lifecycle.empty())
    return error_response(c, err("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", 404,
                                 {{"BucketName", c.bucket}}));
  return xml_response(c, 200, b->lifecycle);
}

http::Response S3Service::delete_lifecycle(Ctx& c) {
  http::Response refusal;
  if (!owned_bucket(c, &refusal)) return refusal;
  return change_bucket(c, [&](Bucket& nb) { nb.lifecycle.clear(); }, 204);
}

void S3Service::maybe_apply_lifecycle() {
  const int64_t now = clock_.now_ms();
  int64_t last = last_lifecycle_ms_.load();
  if (last >= 0 && now >= last && now - last < 60'000) return;
  if (!last_lifecycle_ms_.compare_exchange_strong(last, now)) return;
  bool any = false;
  {
    std::lock_guard lk(buckets_mu_);
    for (auto& [name, b] : buckets_) any = any || !b.lifecycle.empty();
  }
  if (any) apply_lifecycle();
}

size_t S3Service::apply_lifecycle() {
  const int64_t now = clock_.now_ms();
  std::vector<Bucket> buckets;
  {
    std::lock_guard lk(buckets_mu_);
    for (auto& [name, b] : buckets_)
      if (!b.lifecycle.empty()) buckets.push_back(b);
  }
  size_t done = 0;
  Ctx system;  // the lifecycle acts as the bucket owner, past no lock
  for (const Bucket& b : buckets) {
    pugi::xml_document doc;
    if (!doc.load_buffer(b.lifecycle.data(), b.lifecycle.size(), kXmlParse)) continue;
    std::vector<Rule> rules;
    if (parse_rules(doc.document_element(), &rules, false)) continue;
    // Keys with at least one version (current objects and version rows).
    std::set<std::string> keys;
    {
      auto it = store_.iterate(store::Family::objects, object_prefix(b.id), object_prefix(b.id + 1));
      for (it->seek(object_prefix(b.id)); it->valid(); it->next()) keys.insert(std::string(it->key().substr(4)));
      auto vit = store_.iterate(store::Family::meta, version_bucket_prefix(b.id), version_bucket_prefix(b.id + 1));
      std::string k;
      uint64_t seq = 0;
      for (vit->seek(version_bucket_prefix(b.id)); vit->valid(); vit->next())
        if (parse_version_key(vit->key(), &k, &seq)) keys.insert(k);
    }
    for (const std::string& key : keys) {
      for (const Rule& r : rules) {
        if (!r.enabled) continue;
        auto versions = key_versions(b.id, key);
        if (versions.empty()) break;
        const ObjectMeta& newest = versions.front().meta;
        // Current object expiration.
        if (versions.front().current_row && r.matches(key, &newest) &&
            ((r.days > 0 && now >= next_midnight(newest.mtime_ms + r.days * kDayMs)) ||
             (r.date_ms >= 0 && now >= r.date_ms))) {
          Deleted d;
          if (!delete_key(system, b, key, nullptr, &d)) ++done;
          continue;
        }
        // Noncurrent versions: days since each became noncurrent (the newer version's time).
        if (r.noncurrent_days > 0 && r.matches(key, nullptr)) {
          int64_t kept = 0;
          for (size_t i = 1; i < versions.size(); ++i) {
            const ObjectMeta& m = versions[i].meta;
            if (m.delete_marker) continue;
            if (!r.matches(key, &m)) continue;
            const int64_t since = versions[i - 1].meta.mtime_ms;
            if (r.newer_noncurrent > 0 && kept < r.newer_noncurrent) {
              ++kept;
              continue;
            }
            if (now < next_midnight(since + r.noncurrent_days * kDayMs) || lock_forbids_delete(system, m)) continue;
            const std::string id = m.version_id.empty() ? "null" : m.version_id;
            Deleted d;
            if (!delete_key(system, b, key, &id, &d)) ++done;
          }
        }
        // A delete marker left with no versions behind it.
        versions = key_versions(b.id, key);
        if (r.expired_marker && r.matches(key, nullptr) && versions.size() == 1 && versions.front().meta.delete_marker) {
          const std::string id = versions.front().meta.version_id;
          Deleted d;
          if (!delete_key(system, b, key, &id, &d)) ++done;
        }
      }
    }
    // Incomplete multipart uploads.
    std::vector<std::string> stale;
    {
      auto it = store_.iterate(store::Family::meta, "u/", "u0");
      for (it->seek("u/"); it->valid(); it->next()) {
        std::string_view k = it->key();
        if (k.find('/', 2) != std::string_view::npos) continue;
        auto u = decode_upload(it->value());
        if (!u || u->bucket != b.name) continue;
        for (const Rule& r : rules)
          if (r.enabled && r.abort_days > 0 && r.matches(u->key, nullptr) &&
              now >= next_midnight(u->initiated_ms + r.abort_days * kDayMs)) {
            stale.push_back(u->id);
            break;
          }
      }
    }
    for (const std::string& id : stale) {
      std::lock_guard lk(commit_mu_);
      store::WriteBatch batch(store_);
      std::string lo = "u/" + id + "/";
      auto it = store_.iterate(store::Family::meta, lo, prefix_successor(lo));
      for (it->seek(lo); it->valid(); it->next()) {
        if (auto p = decode_part(it->value()); p && p->size > 0) delete_blobs(batch, {Segment{p->blob_id, p->size}});
        batch.del(store::Family::meta, it->key());
      }
      batch.del(store::Family::meta, upload_key(id));
      if (store_.write(batch)) ++done;
    }
  }
  if (done) spdlog::info("s3: lifecycle expired {} version(s) or upload(s)", done);
  return done;
}

}  // namespace eddy::s3
