// Versioning: how a write becomes a new version of a key (commit_object), delete markers and
// the null version, addressing a version by id, Put/GetBucketVersioning and
// ListObjectVersions. Storage (s3_model.h): the current object of a key is its objects-family
// row, as in an unversioned bucket, so GET and ListObjects read one row; noncurrent versions
// and delete markers are meta rows "v/<bucket id><key>\0\0<~seq>", newest first. Every visible
// change is one storage batch.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "server/s3/s3_internal.h"
#include "server/s3/s3_service.h"

namespace eddy::s3 {

namespace {

bool is_null_version(const std::string& id) { return id.empty() || id == "null"; }
std::string shown_version(const std::string& id) { return is_null_version(id) ? "null" : id; }

// Version ids look like S3's: 32 characters of [A-Za-z0-9._].
std::string make_version_id() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id;
  id.reserve(32);
  while (id.size() < 32) {
    uint64_t v = rng();
    for (int i = 0; i < 10 && id.size() < 32; ++i, v >>= 6) id.push_back(kAlphabet[v & 63]);
  }
  return id;
}

int64_t version_bytes(const ObjectMeta& m) { return m.delete_marker ? 0 : static_cast<int64_t>(m.size); }
int64_t version_count(const ObjectMeta& m) { return m.delete_marker ? 0 : 1; }

}  // namespace

std::optional<store::Status> S3Service::update_bucket(const std::string& name, const std::function<void(Bucket&)>& change) {
  std::lock_guard lk(buckets_mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) return std::nullopt;
  Bucket b = it->second;
  change(b);
  store::WriteBatch batch(store_);
  batch.put(store::Family::meta, bucket_key(name), encode(b));
  auto st = store_.write(batch);
  if (st) it->second = std::move(b);
  return st;
}

std::optional<Bucket> S3Service::owned_bucket(Ctx& c, http::Response* refusal) {
  auto b = find_bucket(c.bucket);
  if (!b) *refusal = error_response(c, no_such_bucket(c.bucket));
  else if (c.auth_checked && !owns_bucket(c, *b)) *refusal = error_response(c, access_denied());
  else return b;
  return std::nullopt;
}

http::Response S3Service::change_bucket(Ctx& c, const std::function<void(Bucket&)>& change, int status) {
  auto st = update_bucket(c.bucket, change);
  if (!st) return error_response(c, no_such_bucket(c.bucket));
  if (!*st) return error_response(c, internal_error());
  http::Response res;
  res.status = status;
  res.content_length = 0;
  return res;
}

std::optional<S3Error> parse_xml_body(std::string_view body, std::string_view root, pugi::xml_document& doc) {
  if (body.empty() || !doc.load_buffer(body.data(), body.size(), kXmlParse)) return malformed_xml();
  if (local_name(doc.document_element().name()) != root) return malformed_xml();
  return std::nullopt;
}

std::optional<Bucket> with_xml_body(std::optional<Bucket> b, const Ctx& c, std::string_view body, std::string_view root,
                                    XmlPut& put) {
  if (!b) return std::nullopt;
  if (auto e = parse_xml_body(body, root, put.doc)) {
    put.refusal = error_response(c, *e);
    return std::nullopt;
  }
  return b;
}

std::string Listing::enc(const std::string& s) const { return url ? url_encode_key(s) : s; }

std::optional<S3Error> listing_params(const Ctx& c, Listing* out) {
  const std::string encoding = c.q("encoding-type");
  if (c.has("encoding-type") && encoding != "url")
    return invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding);
  out->url = encoding == "url";
  if (!c.has("max-keys")) return std::nullopt;
  const std::string v = c.q("max-keys");
  auto n = parse_int(v, 0, INT32_MAX);
  if (!n) return invalid_argument("Provided max-keys not an integer or within integer range", "max-keys", v);
  out->max = static_cast<size_t>(std::min<long long>(*n, 1000));
  return std::nullopt;
}

std::optional<ObjectMeta> S3Service::read_version(Ctx& c, const Bucket& b, http::Response* refusal) const {
  std::optional<ObjectMeta> marker;
  const std::string version = c.q("versionId");
  auto m = addressed_version(b.id, c.key, c.has("versionId") ? &version : nullptr, &marker);
  if (m) {
    if (!object_allows(c, b, *m, Perm::read)) {
      *refusal = error_response(c, access_denied());
      return std::nullopt;
    }
    return m;
  }
  // A missing key is NoSuchKey only to those who may list the bucket, as in S3.
  if (!bucket_allows(c, b, Perm::read)) {
    *refusal = error_response(c, access_denied());
  } else if (marker) {
    // A delete marker: the key is gone (404), or, asked for by id, has no data (405).
    *refusal = c.has("versionId")
                   ? error_response(c, err("MethodNotAllowed", "The specified method is not allowed against this resource.",
                                           405, {{"Method", c.method}, {"ResourceType", "DeleteMarker"}}))
                   : error_response(c, no_such_key(c.key));
    refusal->headers.add("x-amz-delete-marker", "true");
    refusal->headers.add("x-amz-version-id", shown_version(marker->version_id));
    refusal->headers.add("Last-Modified", http_date(marker->mtime_ms));
  } else if (c.has("versionId")) {
    *refusal = error_response(c, err("NoSuchVersion", "The specified version does not exist.", 404,
                                     {{"Key", c.key}, {"VersionId", version}}));
  } else {
    *refusal = error_response(c, no_such_key(c.key));
  }
  return std::nullopt;
}

void S3Service::load_versions(std::set<uint64_t>& referenced, std::map<uint32_t, std::pair<uint64_t, uint64_t>>& stored) {
  // load() has read the current objects' rows (next_seq_ is past their seqs already).
  uint64_t max_seq = next_seq_ - 1;
  auto it = store_.iterate(store::Family::meta, "v/", "v0");
  for (it->seek("v/"); it->valid(); it->next()) {
    auto m = decode_object(it->value());
    if (!m) continue;
    max_seq = std::max(max_seq, m->seq);
    for (auto& s : m->segments) referenced.insert(s.blob_id);
    auto& [bytes, objects] = stored[store::get_u32(it->key(), 2)];
    bytes += static_cast<uint64_t>(version_bytes(*m));
    objects += static_cast<uint64_t>(version_count(*m));
  }
  next_seq_ = max_seq + 1;
}

std::vector<S3Service::Version> S3Service::key_versions(uint32_t bucket_id, const std::string& key) const {
  std::vector<Version> out;
  if (auto cur = load_object(bucket_id, key)) out.push_back(Version{std::move(*cur), true, {}});
  const std::string lo = version_key(bucket_id, key, UINT64_MAX);
  const std::string hi = prefix_successor(version_prefix(bucket_id, key) + std::string(2, '\0'));
  auto it = store_.iterate(store::Family::meta, lo, hi);
  for (it->seek(lo); it->valid(); it->next())
    if (auto m = decode_object(it->value())) out.push_back(Version{std::move(*m), false, std::string(it->key())});
  return out;
}

std::optional<S3Service::Version> S3Service::find_version(uint32_t bucket_id, const std::string& key,
                                                          const std::string& version_id) const {
  for (auto& v : key_versions(bucket_id, key)) {
    if (is_null_version(version_id) ? is_null_version(v.meta.version_id) : v.meta.version_id == version_id)
      return std::move(v);
  }
  return std::nullopt;
}

std::optional<S3Service::Version> S3Service::acl_version(const Ctx& c, uint32_t bucket_id) const {
  std::optional<Version> v;
  if (c.has("versionId")) v = find_version(bucket_id, c.key, c.q("versionId"));
  else if (auto cur = load_object(bucket_id, c.key)) v = Version{std::move(*cur), true, {}};
  if (v && v->meta.delete_marker) v.reset();
  return v;
}

void S3Service::store_version(store::WriteBatch& batch, uint32_t bucket_id, const std::string& key, const Version& v) {
  if (v.current_row) batch.put(store::Family::objects, object_key(bucket_id, key), encode(v.meta));
  else batch.put(store::Family::meta, v.row, encode(v.meta));
}

std::optional<ObjectMeta> S3Service::addressed_version(uint32_t bucket_id, const std::string& key,
                                                       const std::string* version_id,
                                                       std::optional<ObjectMeta>* marker) const {
  if (version_id) {
    auto v = find_version(bucket_id, key, *version_id);
    if (!v) return std::nullopt;
    if (v->meta.delete_marker) {
      *marker = std::move(v->meta);
      return std::nullopt;
    }
    return std::move(v->meta);
  }
  if (auto cur = load_object(bucket_id, key)) return cur;
  // No current object: a delete marker may be the newest version.
  const std::string lo = version_key(bucket_id, key, UINT64_MAX);
  auto it = store_.iterate(store::Family::meta, lo, prefix_successor(version_prefix(bucket_id, key) + std::string(2, '\0')));
  it->seek(lo);
  if (it->valid())
    if (auto m = decode_object(it->value()); m && m->delete_marker) *marker = std::move(*m);
  return std::nullopt;
}

S3Service::StoredDelta S3Service::put_object_row(store::WriteBatch& batch, const Bucket& bucket, const std::string& key,
                                                 ObjectMeta& meta) {
  const std::string k = object_key(bucket.id, key);
  StoredDelta d{version_bytes(meta), version_count(meta)};
  auto old = load_object(bucket.id, key);
  if (bucket.versioning.empty()) {
    // Unversioned: the new object replaces the old one.
    meta.version_id.clear();
    meta.seq = 0;
    if (old) {
      delete_blobs(batch, old->segments);
      d.bytes -= version_bytes(*old);
      d.objects -= version_count(*old);
    }
  } else {
    meta.seq = next_seq();
    meta.version_id = bucket.versioning == "Enabled" ? make_version_id() : "null";
    if (bucket.versioning == "Suspended") {
      // The new null version replaces the old one, wherever it is.
      for (auto& v : key_versions(bucket.id, key)) {
        if (!is_null_version(v.meta.version_id)) continue;
        delete_blobs(batch, v.meta.segments);
        d.bytes -= version_bytes(v.meta);
        d.objects -= version_count(v.meta);
        if (v.current_row) old.reset();
        else batch.del(store::Family::meta, v.row);
      }
    }
    // The current object becomes a noncurrent version.
    if (old) {
      if (old->version_id.empty()) old->version_id = "null";
      batch.put(store::Family::meta, version_key(bucket.id, key, old->seq), encode(*old));
    }
  }
  if (meta.delete_marker) {
    batch.del(store::Family::objects, k);
    batch.put(store::Family::meta, version_key(bucket.id, key, meta.seq), encode(meta));
  } else {
    batch.put(store::Family::objects, k, encode(meta));
  }
  return d;
}

store::Status S3Service::commit_object(const Bucket& bucket, const std::string& key, ObjectMeta& meta,
                                       const Ctx* conditions, ObjectWriter* data) {
  std::lock_guard lk(commit_mu_);
  // The bucket may have been deleted (and even re-created) while the data arrived; its
  // versioning may have changed.
  auto now = find_bucket(bucket.name);
  if (!now || now->id != bucket.id) return store::Status::error("NoSuchBucket");
  if (conditions && write_conditions(*conditions, bucket.id)) return store::Status::error("PreconditionFailed");
  store::WriteBatch batch(store_, (data ? data->held_bytes() : 0) + 512);
  if (data) data->stage(batch);
  const StoredDelta delta = put_object_row(batch, *now, key, meta);
  auto st = store_.write(batch);
  if (st) stored_delta(bucket.name, delta.bytes, delta.objects);
  return st;
}

S3Service::StoredDelta S3Service::remove_version(store::WriteBatch& batch, uint32_t bucket_id, const std::string& key,
                                                 const Version& v) {
  const auto versions = key_versions(bucket_id, key);
  const bool newest = !versions.empty() && versions[0].current_row == v.current_row && versions[0].row == v.row;
  delete_blobs(batch, v.meta.segments);
  StoredDelta d{-version_bytes(v.meta), -version_count(v.meta)};
  if (v.current_row) batch.del(store::Family::objects, object_key(bucket_id, key));
  else batch.del(store::Family::meta, v.row);
  // Removing the newest version makes the next newest current when it is an object (a delete
  // marker stays a "v/" row and makes the key look deleted).
  if (newest && versions.size() >= 2 && !versions[1].meta.delete_marker) {
    batch.del(store::Family::meta, versions[1].row);
    batch.put(store::Family::objects, object_key(bucket_id, key), encode(versions[1].meta));
  }
  return d;
}

std::optional<S3Error> S3Service::delete_key(const Ctx& c, const Bucket& b, const std::string& key,
                                             const std::string* version_id, Deleted* out,
                                             const DeleteConditions* conditions) {
  std::lock_guard lk(commit_mu_);
  auto now = find_bucket(b.name);
  if (!now || now->id != b.id) return no_such_bucket(b.name);
  store::WriteBatch batch(store_);
  StoredDelta delta;
  auto failed = [&](const ObjectMeta& m) -> std::optional<S3Error> {
    if (!conditions) return std::nullopt;
    const bool ok = (conditions->etag.empty() || etag_matches(conditions->etag, m.etag)) &&
                    (!conditions->mtime_ms || m.mtime_ms / 1000 == *conditions->mtime_ms / 1000) &&
                    (!conditions->size || m.size == *conditions->size);
    if (ok) return std::nullopt;
    return err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
               {{"Condition", !conditions->etag.empty() ? "If-Match" : conditions->mtime_ms ? "x-amz-if-match-last-modified-time"
                                                                                            : "x-amz-if-match-size"}});
  };
  if (version_id) {
    auto v = find_version(b.id, key, *version_id);
    if (!v) {
      // S3 answers a version that is not there (any more) as deleted.
      out->version_id = *version_id;
      return std::nullopt;
    }
    if (auto e = failed(v->meta)) return e;
    if (auto e = lock_forbids_delete(c, v->meta)) return e;
    out->delete_marker = v->meta.delete_marker;
    out->version_id = shown_version(v->meta.version_id);
    delta = remove_version(batch, b.id, key, *v);
  } else if (now->versioning.empty()) {
    auto old = load_object(b.id, key);
    if (!old) return std::nullopt;
    if (auto e = failed(*old)) return e;
    if (auto e = lock_forbids_delete(c, *old)) return e;
    delete_blobs(batch, old->segments);
    batch.del(store::Family::objects, object_key(b.id, key));
    delta = StoredDelta{-version_bytes(*old), -version_count(*old)};
  } else {
    if (conditions) {
      auto versions = key_versions(b.id, key);
      if (!versions.empty())
        if (auto e = failed(versions.front().meta)) return e;
    }
    ObjectMeta marker;
    marker.delete_marker = true;
    marker.mtime_ms = clock_.now_ms();
    marker.owner = c.new_owner();
    marker.owner_name = c.new_owner_name();
    marker.etag.clear();
    delta = put_object_row(batch, *now, key, marker);
    out->delete_marker = true;
    out->version_id = shown_version(marker.version_id);
  }
  if (!store_.write(batch)) return internal_error();
  stored_delta(b.name, delta.bytes, delta.objects);
  return std::nullopt;
}

// ---- Put/GetBucketVersioning --------------------------------------------------------------

http::Response S3Service::put_versioning(Ctx& c, const std::string& body) {
  XmlPut put;
  auto b = with_xml_body(owned_bucket(c, &put.refusal), c, body, "VersioningConfiguration", put);
  if (!b) return std::move(put.refusal);
  auto root = put.root();
  const std::string status = child_text(root, "Status");
  const std::string mfa = child_text(root, "MfaDelete");
  if (!children(root, "Status").empty() && status != "Enabled" && status != "Suspended")
    return error_response(c, malformed_xml());
  if (!children(root, "MfaDelete").empty() && mfa != "Enabled" && mfa != "Disabled") return error_response(c, malformed_xml());
  if (mfa == "Enabled")
    return error_response(c, err("NotImplemented", "eddy does not emulate MFA delete", 501, {{"Header", "MfaDelete"}}));
  if (status == "Suspended" && b->object_lock)
    return error_response(c, err("InvalidBucketState",
                                 "An Object Lock configuration is present on this bucket, so the versioning state cannot be "
                                 "changed.",
                                 409));
  return change_bucket(c, [&](Bucket& nb) {
    if (!status.empty()) nb.versioning = status;
  });
}

http::Response S3Service::get_versioning(Ctx& c) {
  http::Response refusal;
  auto b = owned_bucket(c, &refusal);
  if (!b) return refusal;
  XmlOut x("VersioningConfiguration");
  if (!b->versioning.empty()) XmlOut::add(x.root(), "Status", b->versioning);
  return xml_response(c, 200, x.str());
}

// ---- ListObjectVersions -------------------------------------------------------------------

namespace {

// Walks every version of a bucket under a prefix in S3's order (key, then newest first),
// merging the current objects (objects family) with the "v/" rows.
class VersionWalk {
 public:
  VersionWalk(const store::Store& store, uint32_t bucket_id, const std::string& prefix) : bucket_id_(bucket_id) {
    const std::string base = object_prefix(bucket_id);
    std::string upper = base + prefix_successor(prefix);
    if (prefix.empty() || prefix_successor(prefix).empty()) upper = object_prefix(bucket_id + 1);
    cur_ = store.iterate(store::Family::objects, base + prefix, upper);
    const std::string vlo = version_prefix(bucket_id, prefix);
    std::string vhi = prefix_successor(vlo);
    ver_ = store.iterate(store::Family::meta, vlo, vhi);
    seek(prefix);
  }
  // Positions at the first key >= key.
  void seek(const std::string& key) {
    cur_->seek(object_key(bucket_id_, key));
    ver_->seek(version_prefix(bucket_id_, key));
  }
  // The next key with versions ("" and false at the end).
  bool next_key(std::string* key) {
    bool have = false;
    if (cur_->valid()) {
      *key = std::string(cur_->key().substr(4));
      have = true;
    }
    if (ver_->valid()) {
      std::string k;
      uint64_t seq = 0;
      if (parse_version_key(ver_->key(), &k, &seq) && (!have || k < *key)) {
        *key = std::move(k);
        have = true;
      }
    }
    return have;
  }
  // All versions of `key` (the walk's next key), newest first; moves past them.
  std::vector<ObjectMeta> take(const std::string& key) {
    std::vector<ObjectMeta> out;
    if (cur_->valid() && cur_->key().substr(4) == key) {
      if (auto m = decode_object(cur_->value())) out.push_back(std::move(*m));
      cur_->next();
    }
    std::string k;
    uint64_t seq = 0;
    while (ver_->valid() && parse_version_key(ver_->key(), &k, &seq) && k == key) {
      if (auto m = decode_object(ver_->value())) out.push_back(std::move(*m));
      ver_->next();
    }
    return out;
  }

 private:
  uint32_t bucket_id_;
  std::unique_ptr<store::Iterator> cur_, ver_;
};

}  // namespace

http::Response S3Service::list_object_versions(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::read)) return error_response(c, access_denied());
  Listing l;
  if (auto e = listing_params(c, &l)) return error_response(c, *e);
  const std::string prefix = c.q("prefix"), delimiter = c.q("delimiter"), key_marker = c.q("key-marker");
  const std::string version_marker = c.q("version-id-marker");
  if (!version_marker.empty() && key_marker.empty())
    return error_response(c, invalid_argument("A version-id marker cannot be specified without a key marker.",
                                              "version-id-marker", version_marker));

  XmlOut x("ListVersionsResult");
  auto r = x.root();
  XmlOut::add(r, "Name", c.bucket);
  XmlOut::add(r, "Prefix", l.enc(prefix));
  XmlOut::add(r, "KeyMarker", l.enc(key_marker));
  XmlOut::add(r, "VersionIdMarker", version_marker);
  auto next_key_node = XmlOut::add(r, "NextKeyMarker");
  auto next_version_node = XmlOut::add(r, "NextVersionIdMarker");
  XmlOut::add(r, "MaxKeys", c.has("max-keys") ? c.q("max-keys") : "1000");
  if (!delimiter.empty()) XmlOut::add(r, "Delimiter", l.enc(delimiter));
  if (l.url) XmlOut::add(r, "EncodingType", "url");
  auto truncated_node = XmlOut::add(r, "IsTruncated");

  VersionWalk walk(store_, b->id, prefix);
  if (!key_marker.empty() && key_marker > prefix) walk.seek(key_marker);
  size_t count = 0;
  bool truncated = false;
  std::string last_key, last_version;
  std::vector<std::string> prefixes;
  std::string key;
  while (!truncated && walk.next_key(&key)) {
    if (!delimiter.empty()) {
      auto pos = key.find(delimiter, prefix.size());
      if (pos != std::string::npos) {
        std::string cp = key.substr(0, pos + delimiter.size());
        std::string next = prefix_successor(cp);
        if (!key_marker.empty() && cp <= key_marker) {
          if (next.empty()) break;
          walk.seek(next);
          continue;
        }
        if (count == l.max) {
          truncated = true;
          break;
        }
        prefixes.push_back(cp);
        last_key = cp;
        last_version.clear();
        ++count;
        if (next.empty()) break;
        walk.seek(next);
        continue;
      }
    }
    auto versions = walk.take(key);
    if (key < key_marker || (key == key_marker && version_marker.empty())) continue;
    size_t start = 0;
    if (key == key_marker) {
      // Resume after the version-id marker.
      start = versions.size();
      for (size_t i = 0; i < versions.size(); ++i)
        if (shown_version(versions[i].version_id) == version_marker) start = i + 1;
    }
    for (size_t i = start; i < versions.size(); ++i) {
      if (count == l.max) {
        truncated = true;
        break;
      }
      const ObjectMeta& m = versions[i];
      auto n = XmlOut::add(r, m.delete_marker ? "DeleteMarker" : "Version");
      XmlOut::add(n, "Key", l.enc(key));
      XmlOut::add(n, "VersionId", shown_version(m.version_id));
      XmlOut::add(n, "IsLatest", i == 0 ? "true" : "false");
      XmlOut::add(n, "LastModified", iso8601(m.mtime_ms));
      if (!m.delete_marker) {
        XmlOut::add(n, "ETag", quote_etag(m.etag));
        if (!m.checksum_algorithm.empty()) {
          XmlOut::add(n, "ChecksumAlgorithm", m.checksum_algorithm);
          XmlOut::add(n, "ChecksumType", m.checksum_type.empty() ? "FULL_OBJECT" : m.checksum_type);
        }
        XmlOut::add(n, "Size", std::to_string(m.size));
        XmlOut::add(n, "StorageClass", m.storage_class);
      }
      add_owner(n, m.owner, m.owner_name);
      last_key = key;
      last_version = shown_version(m.version_id);
      ++count;
    }
  }
  for (auto& p : prefixes) XmlOut::add(XmlOut::add(r, "CommonPrefixes"), "Prefix", l.enc(p));
  truncated_node.text().set(truncated ? "true" : "false");
  if (truncated) {
    next_key_node.text().set(l.enc(last_key).c_str());
    if (!last_version.empty()) next_version_node.text().set(last_version.c_str());
    else r.remove_child(next_version_node);
  } else {
    r.remove_child(next_key_node);
    r.remove_child(next_version_node);
  }
  return xml_response(c, 200, x.str());
}

}  // namespace eddy::s3
