#include "server/s3/s3_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "server/http/dispatch.h"
#include "server/s3/aws_chunked_decoder.h"
#include "server/s3/policy.h"
#include "server/s3/s3_internal.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::s3 {

namespace ck = wire::checksum;

// ---- errors and XML -------------------------------------------------------------------------

S3Error err(std::string code, std::string message, int status, std::vector<std::pair<std::string, std::string>> fields) {
  return S3Error{std::move(code), std::move(message), status, std::move(fields)};
}
S3Error no_such_bucket(const std::string& bucket) {
  return err("NoSuchBucket", "The specified bucket does not exist", 404, {{"BucketName", bucket}});
}
S3Error no_such_key(const std::string& key) {
  return err("NoSuchKey", "The specified key does not exist.", 404, {{"Key", key}});
}
S3Error no_such_upload(const std::string& upload_id) {
  return err("NoSuchUpload",
             "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
             "aborted or completed.",
             404, {{"UploadId", upload_id}});
}
S3Error access_denied() { return err("AccessDenied", "Access Denied", 403); }
S3Error malformed_xml() {
  return err("MalformedXML",
             "The XML you provided was not well-formed or did not validate against our published schema", 400);
}
S3Error invalid_argument(std::string message, std::string name, std::string value) {
  return err("InvalidArgument", std::move(message), 400, {{"ArgumentName", std::move(name)}, {"ArgumentValue", std::move(value)}});
}
S3Error internal_error() {
  return err("InternalError", "We encountered an internal error. Please try again.", 500);
}
S3Error not_implemented(std::string what) {
  std::vector<std::pair<std::string, std::string>> f;
  if (!what.empty()) f.emplace_back("Header", std::move(what));
  return err("NotImplemented", "A header you provided implies functionality that is not implemented", 501, std::move(f));
}

void stamp(const Ctx& c, http::Response& res) {
  if (!res.headers.has("x-amz-request-id")) res.headers.add("x-amz-request-id", c.request_id);
  if (!res.headers.has("x-amz-id-2"))
    res.headers.add("x-amz-id-2", wire::opaque_base64(32));
  if (!res.headers.has("Server")) res.headers.add("Server", "AmazonS3");
  for (const auto& [k, v] : c.cors_headers)
    if (!res.headers.has(k)) res.headers.add(k, v);
}

XmlOut::XmlOut(const char* root, bool with_namespace) {
  root_ = doc_.append_child(root);
  if (with_namespace) root_.append_attribute("xmlns") = std::string(kNamespace).c_str();
}

namespace {
struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
};
}  // namespace

std::string XmlOut::str() const {
  StringWriter w;
  w.out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  doc_.save(w, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return std::move(w.out);
}

pugi::xml_node XmlOut::add(pugi::xml_node parent, const char* name, std::string_view text) {
  auto n = parent.append_child(name);
  n.text().set(std::string(text).c_str());
  return n;
}

std::string canonical_id(const std::string& principal) {
  if (principal.empty()) return std::string(kOwnerId);
  if (principal == kAnonymousPrincipal) return std::string(kAnonymousId);
  return ck::digest_hex(ck::Algorithm::sha256, "eddy canonical user\n" + principal);
}

std::string display_name_of(const std::string& principal, const std::string& display_name) {
  if (principal.empty()) return std::string(kOwnerName);
  if (principal == kAnonymousPrincipal) return "anonymous";
  return display_name.empty() ? principal : display_name;
}

void add_owner(pugi::xml_node parent, const std::string& principal, const std::string& display_name,
               const char* element) {
  auto o = parent.append_child(element);
  XmlOut::add(o, "ID", canonical_id(principal));
  XmlOut::add(o, "DisplayName", display_name_of(principal, display_name));
}

std::string_view local_name(const char* name) {
  std::string_view n(name);
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

std::vector<pugi::xml_node> children(pugi::xml_node node, std::string_view name) {
  std::vector<pugi::xml_node> out;
  for (auto child : node.children())
    if (child.type() == pugi::node_element && local_name(child.name()) == name) out.push_back(child);
  return out;
}

std::string child_text(pugi::xml_node node, std::string_view name) {
  auto c = children(node, name);
  return c.empty() ? std::string() : std::string(c.front().text().get());
}

http::Response error_response(const Ctx& c, const S3Error& e) {
  http::Response res;
  res.status = e.status;
  stamp(c, res);
  if (c.head) {
    // HEAD errors carry no body; the code travels in a header only some clients read.
    res.content_length = 0;
    return res;
  }
  XmlOut x("Error", false);
  XmlOut::add(x.root(), "Code", e.code);
  XmlOut::add(x.root(), "Message", e.message);
  for (auto& [k, v] : e.fields) XmlOut::add(x.root(), k.c_str(), v);
  XmlOut::add(x.root(), "RequestId", c.request_id);
  XmlOut::add(x.root(), "HostId", res.headers.get("x-amz-id-2"));
  res.headers.add("Content-Type", "application/xml");
  res.body = x.str();
  return res;
}

http::Response xml_response(const Ctx& c, int status, std::string body) {
  http::Response res;
  res.status = status;
  stamp(c, res);
  res.headers.add("Content-Type", "application/xml");
  res.body = std::move(body);
  return res;
}

std::string quote_etag(const std::string& etag) { return "\"" + etag + "\""; }

std::string unquote_etag(std::string_view etag) {
  while (!etag.empty() && (etag.front() == ' ')) etag.remove_prefix(1);
  while (!etag.empty() && (etag.back() == ' ')) etag.remove_suffix(1);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  // &quot; survives some XML writers unescaped.
  if (etag.rfind("&quot;", 0) == 0 && etag.size() >= 12 && etag.substr(etag.size() - 6) == "&quot;")
    etag = etag.substr(6, etag.size() - 12);
  return std::string(etag);
}

std::string url_encode_key(std::string_view key) { return wire::sigv4::uri_encode(key, false); }

std::optional<long long> parse_int(const std::string& v, long long lo, long long hi) {
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi) return std::nullopt;
  return n;
}

// ---- service ------------------------------------------------------------------------------

S3Service::S3Service(const Config& config, Clock& clock, store::Store& store)
    : config_(config), clock_(clock), store_(store) {}

S3Service::~S3Service() = default;

bool S3Service::load(std::string* error) {
  std::set<uint64_t> referenced;
  {
    auto it = store_.iterate(store::Family::meta, "b/", "b0");
    for (it->seek("b/"); it->valid(); it->next()) {
      auto b = decode_bucket(it->value());
      if (!b) {
        if (error) *error = "unreadable bucket row " + std::string(it->key());
        return false;
      }
      next_bucket_id_ = std::max(next_bucket_id_, b->id + 1);
      remember_user(b->owner_key, b->owner_name);
      buckets_[b->name] = std::move(*b);
    }
    if (auto st = it->status(); !st) {
      if (error) *error = st.message;
      return false;
    }
  }
  if (!load_configs(error)) return false;
  {
    // Objects and bytes stored per bucket are recomputed from the rows, so the metrics are
    // exact after a restart whatever the registry last flushed.
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> stored;  // bucket id -> bytes, objects
    auto it = store_.iterate(store::Family::objects);
    for (it->seek(""); it->valid(); it->next()) {
      if (auto m = decode_object(it->value())) {
        for (auto& s : m->segments) referenced.insert(s.blob_id);
        // The versions' order goes on past every stored one (load_versions adds the "v/" rows).
        if (m->seq >= next_seq_) next_seq_ = m->seq + 1;
        if (it->key().size() >= 4) {
          auto& [bytes, objects] = stored[store::get_u32(it->key(), 0)];
          bytes += m->size;
          ++objects;
        }
      }
    }
    load_versions(referenced, stored);
    if (observer_) {
      for (const auto& [name, b] : buckets_) {
        auto st = stored.find(b.id);
        observer_->on_stored_total(name, st == stored.end() ? 0 : st->second.first,
                                   st == stored.end() ? 0 : st->second.second);
      }
    }
  }
  {
    auto it = store_.iterate(store::Family::meta, "u/", "u0");
    for (it->seek("u/"); it->valid(); it->next()) {
      std::string_view k = it->key();
      if (k.find('/', 2) == std::string_view::npos) continue;
      if (auto p = decode_part(it->value())) referenced.insert(p->blob_id);
    }
  }
  // Blobs nobody refers to come from uploads that never committed (a crash mid-PUT). Each
  // positioning of the iterator reads a blob's first chunk (RocksDB loads blob values eagerly),
  // so a run of consecutive referenced ids is stepped over with one seek: start-up reads a blob
  // per gap in the ids, not one per stored object.
  uint64_t max_id = 0;
  store::WriteBatch batch(store_);
  auto it = store_.iterate(store::Family::blobs);
  it->seek("");
  while (it->valid()) {
    if (it->key().size() < 12) {
      it->next();
      continue;
    }
    uint64_t id = store::get_u64(it->key(), 0);
    max_id = std::max(max_id, id);
    if (auto r = referenced.find(id); r == referenced.end()) {
      batch.delete_range(store::Family::blobs, blob_key(id, 0), blob_key(id + 1, 0));
    } else {
      while (std::next(r) != referenced.end() && *std::next(r) == id + 1) ++r, ++id;
    }
    if (id == UINT64_MAX) break;
    it->seek(blob_key(id + 1, 0));
  }
  if (batch.count() > 0) {
    spdlog::info("s3: dropping {} unreferenced blob(s) left by interrupted uploads", batch.count());
    if (auto st = store_.write(batch); !st) {
      if (error) *error = st.message;
      return false;
    }
  }
  uint64_t max_ref = referenced.empty() ? 0 : *referenced.rbegin();
  next_blob_id_ = std::max(max_id, max_ref) + 1;
  return true;
}

std::optional<Bucket> S3Service::find_bucket(const std::string& name) const {
  std::lock_guard lk(buckets_mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) return std::nullopt;
  return it->second;
}

std::optional<ObjectMeta> S3Service::load_object(uint32_t bucket_id, std::string_view key) const {
  auto v = store_.get(store::Family::objects, object_key(bucket_id, key));
  if (!v) return std::nullopt;
  return decode_object(*v);
}

std::optional<Upload> S3Service::load_upload(std::string_view upload_id) const {
  if (upload_id.empty() || upload_id.find('/') != std::string_view::npos) return std::nullopt;
  auto v = store_.get(store::Family::meta, upload_key(upload_id));
  if (!v) return std::nullopt;
  return decode_upload(*v);
}

void S3Service::delete_blobs(store::WriteBatch& batch, const std::vector<Segment>& segments) {
  for (auto& s : segments) {
    // A blob's chunks are full but for its last, so a small blob's keys are known: they go by
    // point deletes. A range tombstone would stay in the memtable, and every later read of the
    // family would check it (and every later range delete re-fragment them all) until a flush.
    const uint64_t chunks = (s.size + kChunkBytes - 1) / kChunkBytes;
    if (chunks <= 4) {
      for (uint32_t i = 0; i < chunks; ++i) batch.del(store::Family::blobs, blob_key(s.blob_id, i));
    } else {
      batch.delete_range(store::Family::blobs, blob_key(s.blob_id, 0), blob_key(s.blob_id + 1, 0));
    }
  }
}

// The requester's account owns; an owner of "" owns for every signed requester: the single
// owner of --auth off (and of rows written before owners were recorded). Rows written before
// ownership was per account name the access key or IMDS role that wrote them: that user
// still owns them.
bool owns(const Ctx& c, const std::string& owner) {
  return !c.anonymous && (owner.empty() || owner == c.account || (!c.user.empty() && owner == c.user));
}

namespace {

std::string_view permission_name(Perm p) {
  switch (p) {
    case Perm::read: return "READ";
    case Perm::write: return "WRITE";
    case Perm::read_acp: return "READ_ACP";
    case Perm::write_acp: return "WRITE_ACP";
  }
  return "";
}

// What the grants of an ACL (other than its owner's) give the requester: a canned ACL's group
// grants (READ_ACP and WRITE_ACP: nothing), or explicit grants to users and groups.
// ignore_public: Block Public Access's IgnorePublicAcls (grants to AllUsers and
// AuthenticatedUsers count for nothing).
bool group_grants(const Ctx& c, const std::string& acl, Perm p, bool ignore_public) {
  if (is_explicit_acl(acl)) {
    const std::string me = c.anonymous ? std::string() : canonical_id(c.account);
    // Grants made before ownership was per account name the user's own canonical ID.
    const std::string legacy = c.anonymous || c.user.empty() || c.user == c.account ? std::string() : canonical_id(c.user);
    for (const Grant& g : decode_acl(acl)) {
      const bool applies = g.group ? !ignore_public && (g.grantee == kAllUsers || (g.grantee == kAuthUsers && !c.anonymous))
                                   : (!me.empty() && (g.grantee == me || g.grantee == legacy));
      if (applies && (g.permission == "FULL_CONTROL" || g.permission == permission_name(p))) return true;
    }
    return false;
  }
  if (ignore_public) return false;
  if (p == Perm::read)
    return acl_allows_public_read(acl) || (acl == "authenticated-read" && !c.anonymous);
  if (p == Perm::write) return acl_allows_public_write(acl);
  return false;
}

}  // namespace

bool S3Service::owns_bucket(const Ctx& c, const Bucket& b) const { return owns(c, b.owner_key); }
bool S3Service::owns_upload(const Ctx& c, const Upload& u) const { return owns(c, u.owner); }

namespace {
// Ownership controls' BucketOwnerEnforced: ACLs grant nothing, the bucket owner owns every object.
bool acls_disabled(const Bucket& b) { return b.config.ownership == "BucketOwnerEnforced"; }
bool ignore_public_acls(const Bucket& b) {
  return b.config.public_access_block && b.config.public_access_block->ignore_public_acls;
}
}  // namespace

// The bucket policy first (an explicit Deny wins over everything, an Allow grants), then
// ownership and ACLs.
bool S3Service::bucket_allows(const Ctx& c, const Bucket& b, Perm p) const {
  if (!c.auth_checked) return true;
  const policy::Effect e = policy_effect(c, b, nullptr, p);
  if (e == policy::Effect::deny) return false;
  if (owns(c, b.owner_key) || e == policy::Effect::allow) return true;
  return !acls_disabled(b) && group_grants(c, b.acl, p, ignore_public_acls(b));
}

bool S3Service::object_allows(const Ctx& c, const Bucket& b, const ObjectMeta& m, Perm p) const {
  if (!c.auth_checked) return true;
  const policy::Effect e = policy_effect(c, b, &m, p);
  if (e == policy::Effect::deny) return false;
  if (e == policy::Effect::allow) return true;
  if (acls_disabled(b)) return owns(c, b.owner_key);
  if (owns(c, m.owner)) return true;
  // bucket-owner-read / -full-control grant the bucket's owner READ / FULL_CONTROL.
  if (owns(c, b.owner_key) &&
      (m.acl == "bucket-owner-full-control" || (m.acl == "bucket-owner-read" && p == Perm::read)))
    return true;
  return p != Perm::write && group_grants(c, m.acl, p, ignore_public_acls(b));
}

bool is_explicit_acl(std::string_view acl) { return acl.rfind(kExplicitAcl, 0) == 0; }

std::string encode_acl(const std::vector<Grant>& grants) {
  std::string out(kExplicitAcl);
  for (const Grant& g : grants) {
    out += g.group ? 'G' : 'U';
    out.append("\t").append(g.permission).append("\t").append(g.grantee).append("\t").append(g.display_name).append("\n");
  }
  return out;
}

std::vector<Grant> decode_acl(std::string_view acl) {
  std::vector<Grant> out;
  if (!is_explicit_acl(acl)) return out;
  acl.remove_prefix(kExplicitAcl.size());
  while (!acl.empty()) {
    const auto nl = acl.find('\n');
    std::string_view line = acl.substr(0, nl);
    acl = nl == std::string_view::npos ? std::string_view() : acl.substr(nl + 1);
    std::vector<std::string_view> f;
    for (size_t start = 0;;) {
      const auto tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (f.size() != 4) continue;
    out.push_back(Grant{f[0] == "G", std::string(f[2]), std::string(f[3]), std::string(f[1])});
  }
  return out;
}

void S3Service::remember_user(const std::string& principal, const std::string& display_name) {
  if (principal.empty()) return;
  std::lock_guard lk(users_mu_);
  if (auto it = remembered_.find(principal); it != remembered_.end() && it->second == display_name) return;
  if (users_.size() >= 100000) return;
  users_[canonical_id(principal)] = display_name_of(principal, display_name);
  remembered_[principal] = display_name;
}

std::string S3Service::known_display_name(const std::string& id) const {
  std::lock_guard lk(users_mu_);
  auto it = users_.find(id);
  return it == users_.end() ? std::string() : it->second;
}

std::optional<S3Error> S3Service::decode_small_body(Ctx& c, std::string& body) {
  const bool chunked = c.headers.get("Content-Encoding").find("aws-chunked") != std::string_view::npos ||
                       c.auth.content_sha256.rfind("STREAMING-", 0) == 0 ||
                       c.headers.get("x-amz-content-sha256").rfind("STREAMING-", 0) == 0;
  if (chunked) {
    std::optional<AwsChunkedDecoder::Signing> signing;
    if (c.auth.verify_chunks && c.auth.signing_key.size() == 32) {
      AwsChunkedDecoder::Signing s;
      std::copy(c.auth.signing_key.begin(), c.auth.signing_key.end(), s.key.begin());
      s.amz_date = c.auth.amz_date;
      s.scope = c.auth.scope;
      s.seed_signature = c.auth.seed_signature;
      signing = std::move(s);
    }
    AwsChunkedDecoder dec(std::move(signing));
    std::string out;
    auto e = dec.feed(body, [&](std::string_view p) { out.append(p); });
    if (!e) e = dec.finish();
    if (e) return err(e->code, e->message, e->status);
    // A checksum sent as a trailer is checked like the header form.
    for (auto& [name, value] : dec.trailers()) {
      if (auto a = ck::algorithm_from_header(name)) {
        if (ck::digest_base64(*a, out) != value) {
          return err("BadDigest",
                     "The " + std::string(ck::algorithm_name(*a)) + " you specified did not match the calculated checksum.",
                     400);
        }
      }
    }
    body = std::move(out);
  }
  std::string_view sha = c.headers.get("x-amz-content-sha256");
  if (sha.size() == 64 && ck::from_hex(sha)) {
    std::string computed = ck::digest_hex(ck::Algorithm::sha256, body);
    if (computed != ck::to_hex(*ck::from_hex(sha)))
      return err("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                 400, {{"ClientComputedContentSHA256", std::string(sha)}, {"S3ComputedContentSHA256", computed}});
  }
  return std::nullopt;
}

// ---- routing ------------------------------------------------------------------------------

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cb = static_cast<unsigned char>(s[i + k]);
      if ((cb & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cb & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

// 405 for a method the addressed resource (SERVICE, BUCKET, OBJECT) does not take.
S3Error method_not_allowed(const Ctx& c, const char* resource) {
  return err("MethodNotAllowed", "The specified method is not allowed against this resource.", 405,
             {{"Method", c.method}, {"ResourceType", resource}});
}

// Sub-resources eddy does not implement: answered 501 instead of being mistaken for a plain
// GET/PUT of the bucket or object.
constexpr std::string_view kUnsupported[] = {
    "accelerate", "analytics", "encryption", "intelligent-tiering", "inventory",
    "logging", "metrics", "notification", "ownershipControls",
    "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore",
    "select", "tagging", "torrent", "website", "session", "metadataTable"};

}  // namespace

std::shared_ptr<Ctx> S3Service::address(const http::Request& req, const S3Request& s3req) const {
  auto ctx = std::make_shared<Ctx>();
  Ctx& c = *ctx;
  c.request_id = req.request_id;
  c.method = req.method;
  c.head = req.method == "HEAD";
  c.headers = req.headers;
  c.host = std::string(req.headers.get("Host"));
  c.op = s3req.op;
  c.operation = s3req.operation;
  c.remote_address = req.remote_address;
  c.tls = req.tls;
  c.bucket = s3req.bucket;
  c.key = s3req.key;
  c.virtual_host = s3req.virtual_host;
  c.path = s3req.path;
  c.query = s3req.query;
  return ctx;
}

std::optional<http::Response> S3Service::admit(Ctx& c, const http::Request& req) {
  // A key or bucket that does not decode to UTF-8 cannot name anything; S3 refuses the URI.
  if (!valid_utf8(c.path))
    return error_response(c, err("InvalidURI", "Couldn't parse the specified URI.", 400, {{"URI", req.target}}));
  // CORS preflights are never authenticated (a browser sends no credentials with them), so a
  // presigned URL answers OPTIONS as S3 does whatever its signature says.
  if (c.op == Op::preflight) return std::nullopt;
  // Every other answer to an allowed Origin carries the CORS headers, auth failures included.
  cors_for_request(c);
  if (!auth_ || auth_->mode() == auth::Mode::off) {
    c.auth.ok = true;
    c.auth.content_sha256 = std::string(req.headers.get("x-amz-content-sha256"));
    return std::nullopt;
  }
  c.auth = auth_->authenticate(req, "s3");
  c.auth_checked = true;
  c.anonymous = c.auth.anonymous;
  if (!c.auth.ok && !c.auth.anonymous) {
    std::vector<std::pair<std::string, std::string>> f = c.auth.details;
    if (f.empty() && !c.auth.access_key.empty()) f.emplace_back("AWSAccessKeyId", c.auth.access_key);
    if (c.auth.details.empty() && c.auth.code == "SignatureDoesNotMatch") {
      f.emplace_back("StringToSign", c.auth.string_to_sign);
      if (!c.auth.canonical_request.empty()) f.emplace_back("CanonicalRequest", c.auth.canonical_request);
    }
    return error_response(c, err(c.auth.code.empty() ? "AccessDenied" : c.auth.code,
                                 c.auth.message.empty() ? "Access Denied" : c.auth.message, c.auth.status, std::move(f)));
  }
  c.account = c.auth.account;
  c.user = c.auth.principal;
  c.display_name = c.auth.display_name;
  if (!c.anonymous) remember_user(c.account, c.display_name);
  return std::nullopt;
}

void S3Service::finish(const Ctx& c, http::Response& res) { stamp(c, res); }

http::Dispatch S3Service::dispatch(http::Request& req) {
  auto ctx = address(req, parse_request(req));
  http::Dispatch d;
  if (auto refused = admit(*ctx, req)) d = http::Immediate{std::move(*refused)};
  else d = operate(ctx, req);
  http::after_response(d, [ctx](http::Response& res, uint64_t) { finish(*ctx, res); });
  return d;
}

http::Dispatch S3Service::operate(std::shared_ptr<Ctx> ctx, http::Request& req) {
  Ctx& c = *ctx;
  auto fail = [&](const S3Error& e) { return http::Dispatch{http::Immediate{error_response(c, e)}}; };

  // eddy stores no CORS configuration per object: a well-formed preflight is refused the way
  // S3 refuses it for a bucket without a matching rule.
  if (c.op == Op::preflight) return http::Immediate{preflight(c)};
  maybe_apply_lifecycle();
  // x-amz-expected-bucket-owner: a bucket of another account is refused as S3 refuses it.
  if (c.headers.has("x-amz-expected-bucket-owner") && !c.bucket.empty()) {
    if (auto b = find_bucket(c.bucket)) {
      const std::string& owner = b->owner_key.empty() ? config_.account_id : b->owner_key;
      if (c.headers.get("x-amz-expected-bucket-owner") != owner) return fail(access_denied());
    }
  }
  if (auto d = config_op(ctx)) return std::move(*d);
  for (auto name : kUnsupported)
    if (c.has(std::string(name).c_str())) return fail(not_implemented());
  if (c.has("cors") && !c.key.empty()) return fail(not_implemented());

  if (c.bucket.empty()) {
    if (c.op != Op::list_buckets)
      return fail(method_not_allowed(c, "SERVICE"));
    if (c.anonymous) return fail(access_denied());
    return http::Immediate{list_buckets(c)};
  }
  if (c.key.size() > 1024) return fail(err("KeyTooLongError", "Your key is too long", 400));
  http::Dispatch d = c.key.empty() ? bucket_op(ctx, req) : object_op(ctx, req);
  // XML bodies larger than S3 takes.
  if (auto* buf = std::get_if<http::BufferBody>(&d))
    buf->too_large = [ctx](http::Request&) {
      return error_response(*ctx, err("MaxMessageLengthExceeded", "Your request was too big.", 400));
    };
  return d;
}

http::Dispatch S3Service::xml_body(std::shared_ptr<Ctx> ctx, std::function<http::Response(Ctx&, std::string&)> fn) {
  return http::BufferBody{kMaxXmlBody,
                          [this, ctx, fn = std::move(fn)](http::Request& r) {
                            if (auto e = decode_small_body(*ctx, r.body)) return error_response(*ctx, *e);
                            return fn(*ctx, r.body);
                          },
                          {}};
}

http::Dispatch S3Service::bucket_op(std::shared_ptr<Ctx> ctx, http::Request& req) {
  Ctx& c = *ctx;
  (void)req;
  auto imm = [](http::Response r) { return http::Dispatch{http::Immediate{std::move(r)}}; };
  auto buffered = [this, ctx](std::function<http::Response(Ctx&, std::string&)> fn) { return xml_body(ctx, std::move(fn)); };
  switch (c.op) {
    case Op::put_bucket_acl: return buffered([this](Ctx& cx, std::string& b) { return put_acl(cx, b, true); });
    case Op::put_bucket_cors: return buffered([this](Ctx& cx, std::string& b) { return put_cors(cx, b); });
    case Op::put_bucket_versioning: return buffered([this](Ctx& cx, std::string& b) { return put_versioning(cx, b); });
    case Op::create_bucket: return buffered([this](Ctx& cx, std::string& b) { return create_bucket(cx, b); });
    case Op::delete_objects: return buffered([this](Ctx& cx, std::string& b) { return delete_objects(cx, b); });
    case Op::get_bucket_acl: {
      auto b = find_bucket(c.bucket);
      if (!b) return imm(error_response(c, no_such_bucket(c.bucket)));
      if (!bucket_allows(c, *b, Perm::read_acp)) return imm(error_response(c, access_denied()));
      return imm(get_acl(c, b->acl, b->owner_key, b->owner_name, nullptr));
    }
    case Op::get_bucket_location: return imm(get_bucket_location(c));
    case Op::get_bucket_cors: return imm(get_cors(c));
    case Op::list_object_versions: return imm(list_object_versions(c));
    case Op::list_multipart_uploads: return imm(list_multipart_uploads(c));
    case Op::get_bucket_versioning: return imm(get_versioning(c));
    case Op::put_object_lock_configuration: return buffered([this](Ctx& cx, std::string& b) { return put_object_lock(cx, b); });
    case Op::get_object_lock_configuration: return imm(get_object_lock(c));
    case Op::put_bucket_lifecycle: return buffered([this](Ctx& cx, std::string& b) { return put_lifecycle(cx, b); });
    case Op::get_bucket_lifecycle: return imm(get_lifecycle(c));
    case Op::delete_bucket_lifecycle: return imm(delete_lifecycle(c));
    case Op::list_objects: return imm(list_objects(c, false));
    case Op::list_objects_v2: return imm(list_objects(c, true));
    case Op::head_bucket: return imm(head_bucket(c));
    case Op::delete_bucket_cors: return imm(delete_cors(c));
    case Op::delete_bucket: return imm(delete_bucket(c));
    default:
      if (c.method == "POST" && c.operation == "PostObject") return post_object(ctx);
      break;
  }
  return imm(error_response(c, method_not_allowed(c, "BUCKET")));
}

http::Dispatch S3Service::object_op(std::shared_ptr<Ctx> ctx, http::Request& req) {
  Ctx& c = *ctx;
  auto imm = [](http::Response r) { return http::Dispatch{http::Immediate{std::move(r)}}; };
  switch (c.op) {
    case Op::put_object_acl:
      return xml_body(ctx, [this](Ctx& cx, std::string& b) { return put_acl(cx, b, false); });
    case Op::upload_part_copy: return imm(copy_object(c, true));
    case Op::upload_part: return put_object(ctx, req, true);
    case Op::copy_object: return imm(copy_object(c, false));
    case Op::put_object: return put_object(ctx, req, false);
    case Op::get_object_acl: {
      auto b = find_bucket(c.bucket);
      if (!b) return imm(error_response(c, no_such_bucket(c.bucket)));
      auto v = acl_version(c, b->id);
      auto o = v ? std::optional(v->meta) : std::nullopt;
      if (!o) return imm(error_response(c, bucket_allows(c, *b, Perm::read) ? no_such_key(c.key) : access_denied()));
      if (!object_allows(c, *b, *o, Perm::read_acp)) return imm(error_response(c, access_denied()));
      return imm(get_acl(c, o->acl, o->owner, o->owner_name, &*b));
    }
    case Op::list_parts: return imm(list_parts(c));
    case Op::put_object_retention: return xml_body(ctx, [this](Ctx& cx, std::string& b) { return put_retention(cx, b); });
    case Op::get_object_retention: return imm(get_retention(c));
    case Op::put_object_legal_hold: return xml_body(ctx, [this](Ctx& cx, std::string& b) { return put_legal_hold(cx, b); });
    case Op::get_object_legal_hold: return imm(get_legal_hold(c));
    case Op::get_object_attributes: return imm(get_object_attributes(c));
    case Op::get_object: return imm(get_object(c, false));
    case Op::head_object: return imm(get_object(c, true));
    case Op::abort_multipart_upload: return imm(abort_multipart(c));
    case Op::delete_object: return imm(delete_object(c));
    case Op::create_multipart_upload: return imm(create_multipart(c));
    case Op::complete_multipart_upload:
      return xml_body(ctx, [this](Ctx& cx, std::string& b) { return complete_multipart(cx, b); });
    default: break;
  }
  return imm(error_response(c, method_not_allowed(c, "OBJECT")));
}

// ---- buckets ------------------------------------------------------------------------------

http::Response S3Service::create_bucket(Ctx& c, const std::string& body) {
  if (c.anonymous) return error_response(c, access_denied());
  if (!valid_bucket_name(c.bucket))
    return error_response(c, err("InvalidBucketName", "The specified bucket is not valid.", 400, {{"BucketName", c.bucket}}));
  std::string region;
  if (!body.empty()) {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
    auto root = doc.document_element();
    if (local_name(root.name()) != "CreateBucketConfiguration") return error_response(c, malformed_xml());
    region = child_text(root, "LocationConstraint");
  }
  std::string acl = c.headers.has("x-amz-acl") ? std::string(c.headers.get("x-amz-acl")) : "private";
  if (!valid_canned_acl(acl)) return error_response(c, invalid_argument("", "x-amz-acl", acl));
  const std::string ownership(c.headers.get("x-amz-object-ownership"));
  if (!ownership.empty() && ownership != "BucketOwnerEnforced" && ownership != "BucketOwnerPreferred" &&
      ownership != "ObjectWriter")
    return error_response(c, invalid_argument("Invalid x-amz-object-ownership header: " + ownership,
                                              "x-amz-object-ownership", ownership));
  if (ownership == "BucketOwnerEnforced" && acl != "private" && acl != "bucket-owner-full-control")
    return error_response(c, err("InvalidBucketAclWithObjectOwnership",
                                 "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 400));
  if (region == "us-east-1") region.clear();
  std::lock_guard lk(buckets_mu_);
  if (auto it = buckets_.find(c.bucket); it != buckets_.end()) {
    if (c.auth_checked && !owns(c, it->second.owner_key))
      return error_response(c, err("BucketAlreadyExists",
                                   "The requested bucket name is not available. The bucket namespace is shared by all "
                                   "users of the system. Please select a different name and try again.",
                                   409, {{"BucketName", c.bucket}}));
    // us-east-1 answers a repeated create of your own bucket with 200 (and resets its ACL);
    // every other region says BucketAlreadyOwnedByYou.
    if (config_.region == "us-east-1" && region.empty()) {
      it->second.acl = acl;
      store::WriteBatch batch(store_);
      batch.put(store::Family::meta, bucket_key(c.bucket), encode(it->second));
      if (!store_.write(batch)) return error_response(c, internal_error());
      http::Response res;
      res.headers.add("Location", "/" + c.bucket);
      res.content_length = 0;
      return res;
    }
    return error_response(c, err("BucketAlreadyOwnedByYou",
                                 "Your previous request to create the named bucket succeeded and you already own it.",
                                 409, {{"BucketName", c.bucket}}));
  }
  Bucket b;
  b.name = c.bucket;
  b.id = next_bucket_id_++;
  b.created_ms = clock_.now_ms();
  b.region = region;
  b.acl = acl;
  b.owner_key = c.new_owner();
  b.owner_name = c.new_owner_name();
  b.config.ownership = ownership;
  if (http::iequals(c.headers.get("x-amz-bucket-object-lock-enabled"), "true")) b.object_lock = true, b.versioning = "Enabled";
  store::WriteBatch batch(store_);
  batch.put(store::Family::meta, bucket_key(b.name), encode(b));
  if (!b.config.empty()) batch.put(store::Family::meta, bucket_config_key(b.name), encode(b.config));
  if (!store_.write(batch)) return error_response(c, internal_error());
  buckets_[b.name] = b;
  http::Response res;
  res.headers.add("Location", "/" + c.bucket);
  res.content_length = 0;
  return res;
}

http::Response S3Service::delete_bucket(Ctx& c) {
  if (c.anonymous) return error_response(c, access_denied());
  if (auto b = find_bucket(c.bucket); b && c.auth_checked && !owns(c, b->owner_key))
    return error_response(c, access_denied());
  // Object commits hold commit_mu_ and re-check their bucket, so none lands after the
  // emptiness check below (lock order: commit_mu_, then buckets_mu_).
  std::lock_guard commit_lk(commit_mu_);
  std::lock_guard lk(buckets_mu_);
  auto it = buckets_.find(c.bucket);
  if (it == buckets_.end()) return error_response(c, no_such_bucket(c.bucket));
  const uint32_t id = it->second.id;
  {
    auto oit = store_.iterate(store::Family::objects, object_prefix(id), object_prefix(id + 1));
    oit->seek(object_prefix(id));
    auto vit = store_.iterate(store::Family::meta, version_bucket_prefix(id), version_bucket_prefix(id + 1));
    vit->seek(version_bucket_prefix(id));
    if (oit->valid() || vit->valid())
      return error_response(c, err("BucketNotEmpty", "The bucket you tried to delete is not empty", 409,
                                   {{"BucketName", c.bucket}}));
  }
  store::WriteBatch batch(store_);
  batch.del(store::Family::meta, bucket_key(c.bucket));
  batch.del(store::Family::meta, bucket_config_key(c.bucket));
  // Uploads in progress go with the bucket.
  auto uit = store_.iterate(store::Family::meta, "u/", "u0");
  std::set<std::string> dead;
  for (uit->seek("u/"); uit->valid(); uit->next()) {
    std::string_view k = uit->key();
    if (k.find('/', 2) == std::string_view::npos) {
      auto u = decode_upload(uit->value());
      if (u && u->bucket == c.bucket) {
        dead.insert(u->id);
        batch.del(store::Family::meta, k);
      }
    } else {
      std::string id(k.substr(2, k.find('/', 2) - 2));
      if (dead.count(id)) {
        if (auto p = decode_part(uit->value())) delete_blobs(batch, {Segment{p->blob_id, p->size}});
        batch.del(store::Family::meta, k);
      }
    }
  }
  if (!store_.write(batch)) return error_response(c, internal_error());
  buckets_.erase(it);
  if (observer_) observer_->on_stored_total(c.bucket, 0, 0);
  http::Response res;
  res.status = 204;
  return res;
}

http::Response S3Service::head_bucket(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, err("NoSuchBucket", "", 404));
  if (!bucket_allows(c, *b, Perm::read)) return error_response(c, access_denied());
  http::Response res;
  res.headers.add("x-amz-bucket-region", b->region.empty() ? "us-east-1" : b->region);
  res.content_length = 0;
  return res;
}

http::Response S3Service::list_buckets(Ctx& c) {
  XmlOut x("ListAllMyBucketsResult");
  add_owner(x.root(), c.account, c.display_name);
  auto list = XmlOut::add(x.root(), "Buckets");
  std::string prefix = c.q("prefix");
  // Paging (max-buckets 1..10000; the continuation token is the last name listed, base64).
  size_t max = 10000;
  if (c.has("max-buckets")) {
    const std::string v = c.q("max-buckets");
    const auto n = parse_int(v, 1, 10000);
    if (!n)
      return error_response(c, invalid_argument("Argument max-buckets must be an integer between 1 and 10000.",
                                                "max-buckets", v));
    max = static_cast<size_t>(*n);
  }
  std::string after;
  if (c.has("continuation-token")) {
    auto decoded = wire::base64_decode(c.q("continuation-token"));
    if (!decoded || decoded->empty())
      return error_response(c, invalid_argument("The continuation token provided is incorrect", "continuation-token",
                                                c.q("continuation-token")));
    after = *decoded;
  }
  std::string next, last;
  size_t listed = 0;
  std::lock_guard lk(buckets_mu_);
  for (auto it = after.empty() ? buckets_.begin() : buckets_.upper_bound(after); it != buckets_.end(); ++it) {
    const auto& [name, b] = *it;
    if (!prefix.empty() && name.rfind(prefix, 0) != 0) continue;
    if (c.auth_checked && !owns(c, b.owner_key)) continue;  // S3 lists the requester's buckets
    if (listed == max) {
      next = wire::base64_encode(last);
      break;
    }
    auto n = XmlOut::add(list, "Bucket");
    XmlOut::add(n, "Name", name);
    XmlOut::add(n, "CreationDate", iso8601(b.created_ms));
    XmlOut::add(n, "BucketRegion", b.region.empty() ? "us-east-1" : b.region);
    last = name;
    ++listed;
  }
  if (!next.empty()) XmlOut::add(x.root(), "ContinuationToken", next);
  if (!prefix.empty()) XmlOut::add(x.root(), "Prefix", prefix);
  return xml_response(c, 200, x.str());
}

http::Response S3Service::get_bucket_location(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (c.auth_checked && !owns(c, b->owner_key)) return error_response(c, access_denied());
  XmlOut x("LocationConstraint");
  if (!b->region.empty()) x.root().text().set(b->region.c_str());
  return xml_response(c, 200, x.str());
}

// ---- listing ------------------------------------------------------------------------------

namespace {

struct ListPage {
  std::vector<std::pair<std::string, ObjectMeta>> keys;
  std::vector<std::string> prefixes;
  bool truncated = false;
  std::string last;  // the last key or common prefix returned
};

// Keys (and common prefixes) under `prefix` that sort after `after`, at most `max` entries.
ListPage list_page(const store::Store& store, uint32_t bucket_id, const std::string& prefix, const std::string& delimiter,
                   const std::string& after, size_t max) {
  ListPage page;
  if (max == 0) return page;
  const std::string base = object_prefix(bucket_id);
  std::string upper = prefix.empty() ? object_prefix(bucket_id + 1) : base + prefix_successor(prefix);
  if (!prefix.empty() && prefix_successor(prefix).empty()) upper = object_prefix(bucket_id + 1);
  auto it = store.iterate(store::Family::objects, base + prefix, upper);
  std::string start = prefix;
  if (!after.empty() && after + std::string(1, '\0') > start) start = after + std::string(1, '\0');
  it->seek(base + start);
  size_t count = 0;
  while (it->valid()) {
    std::string key(it->key().substr(4));
    if (!delimiter.empty()) {
      auto pos = key.find(delimiter, prefix.size());
      if (pos != std::string::npos) {
        std::string cp = key.substr(0, pos + delimiter.size());
        std::string next = prefix_successor(cp);
        if (!after.empty() && cp <= after) {
          if (next.empty()) break;
          it->seek(base + next);
          continue;
        }
        if (count == max) {
          page.truncated = true;
          break;
        }
        page.prefixes.push_back(cp);
        page.last = cp;
        ++count;
        if (next.empty()) break;
        it->seek(base + next);
        continue;
      }
    }
    if (count == max) {
      page.truncated = true;
      break;
    }
    auto m = decode_object(it->value());
    if (m) {
      page.keys.emplace_back(key, std::move(*m));
      page.last = key;
      ++count;
    }
    it->next();
  }
  return page;
}

}  // namespace

http::Response S3Service::list_objects(Ctx& c, bool v2) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::read)) return error_response(c, access_denied());
  Listing l;
  if (auto e = listing_params(c, &l)) return error_response(c, *e);
  const std::string prefix = c.q("prefix"), delimiter = c.q("delimiter");
  std::string after;
  if (v2) {
    if (!c.q("continuation-token").empty()) {
      auto t = wire::base64_decode(c.q("continuation-token"));
      if (!t || t->empty())
        return error_response(c, invalid_argument("The continuation token provided is incorrect", "continuation-token",
                                                  c.q("continuation-token")));
      after = *t;
    } else {
      after = c.q("start-after");
    }
  } else {
    after = c.q("marker");
  }
  ListPage page = list_page(store_, b->id, prefix, delimiter, after, l.max);

  XmlOut x("ListBucketResult");
  auto r = x.root();
  XmlOut::add(r, "Name", c.bucket);
  // ListObjects v1 echoes the prefix as sent (clients decode only Marker, NextMarker,
  // Delimiter and the keys/prefixes below).
  XmlOut::add(r, "Prefix", v2 ? l.enc(prefix) : prefix);
  if (v2) {
    if (c.has("start-after")) XmlOut::add(r, "StartAfter", l.enc(c.q("start-after")));
    if (c.has("continuation-token")) XmlOut::add(r, "ContinuationToken", c.q("continuation-token"));
    XmlOut::add(r, "KeyCount", std::to_string(page.keys.size() + page.prefixes.size()));
  } else {
    XmlOut::add(r, "Marker", l.enc(after));
  }
  XmlOut::add(r, "MaxKeys", c.has("max-keys") ? c.q("max-keys") : "1000");
  if (!delimiter.empty()) XmlOut::add(r, "Delimiter", l.enc(delimiter));
  if (l.url) XmlOut::add(r, "EncodingType", "url");
  XmlOut::add(r, "IsTruncated", page.truncated ? "true" : "false");
  if (page.truncated) {
    if (v2) XmlOut::add(r, "NextContinuationToken", wire::base64_encode(page.last));
    else if (!delimiter.empty()) XmlOut::add(r, "NextMarker", l.enc(page.last));
  }
  const bool owner = !v2 || c.q("fetch-owner") == "true";
  for (auto& [key, m] : page.keys) {
    auto n = XmlOut::add(r, "Contents");
    XmlOut::add(n, "Key", l.enc(key));
    XmlOut::add(n, "LastModified", iso8601(m.mtime_ms));
    XmlOut::add(n, "ETag", quote_etag(m.etag));
    if (!m.checksum_algorithm.empty()) {
      XmlOut::add(n, "ChecksumAlgorithm", m.checksum_algorithm);
      XmlOut::add(n, "ChecksumType", m.checksum_type.empty() ? "FULL_OBJECT" : m.checksum_type);
    }
    XmlOut::add(n, "Size", std::to_string(m.size));
    if (owner) add_owner(n, m.owner, m.owner_name);
    XmlOut::add(n, "StorageClass", m.storage_class);
  }
  for (auto& p : page.prefixes) XmlOut::add(XmlOut::add(r, "CommonPrefixes"), "Prefix", l.enc(p));
  return xml_response(c, 200, x.str());
}

// ---- ACLs ---------------------------------------------------------------------------------

namespace {

void add_grant(pugi::xml_node list, const Grant& grant) {
  auto g = XmlOut::add(list, "Grant");
  auto grantee = XmlOut::add(g, "Grantee");
  grantee.append_attribute("xmlns:xsi") = "http://www.w3.org/2001/XMLSchema-instance";
  grantee.append_attribute("xsi:type") = grant.group ? "Group" : "CanonicalUser";
  if (grant.group) {
    XmlOut::add(grantee, "URI", grant.grantee);
  } else {
    XmlOut::add(grantee, "ID", grant.grantee);
    if (!grant.display_name.empty()) XmlOut::add(grantee, "DisplayName", grant.display_name);
  }
  XmlOut::add(g, "Permission", grant.permission);
}

Grant user_grant(const std::string& principal, const std::string& name, const char* permission) {
  return Grant{false, canonical_id(principal), display_name_of(principal, name), permission};
}

// The grants a canned ACL stands for, in the order S3 lists them: group grants first, then the
// owner's, then the bucket owner's (objects only).
std::vector<Grant> canned_grants(const std::string& acl, const std::string& owner, const std::string& owner_name,
                                 const Bucket* bucket) {
  std::vector<Grant> g;
  if (acl == "public-read" || acl == "public-read-write") g.push_back(Grant{true, std::string(kAllUsers), {}, "READ"});
  if (acl == "public-read-write") g.push_back(Grant{true, std::string(kAllUsers), {}, "WRITE"});
  if (acl == "authenticated-read") g.push_back(Grant{true, std::string(kAuthUsers), {}, "READ"});
  if (acl == "log-delivery-write") {
    g.push_back(Grant{true, std::string(kLogDelivery), {}, "WRITE"});
    g.push_back(Grant{true, std::string(kLogDelivery), {}, "READ_ACP"});
  }
  g.push_back(user_grant(owner, owner_name, "FULL_CONTROL"));
  if (bucket && bucket->owner_key != owner) {
    if (acl == "bucket-owner-read") g.push_back(user_grant(bucket->owner_key, bucket->owner_name, "READ"));
    if (acl == "bucket-owner-full-control") g.push_back(user_grant(bucket->owner_key, bucket->owner_name, "FULL_CONTROL"));
  }
  return g;
}

bool canonical_id_shape(std::string_view id) {
  if (id.size() != 64) return false;
  for (char ch : id)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  return true;
}

}  // namespace

http::Response S3Service::get_acl(Ctx& c, const std::string& acl, const std::string& owner, const std::string& owner_name,
                                  const Bucket* bucket) {
  XmlOut x("AccessControlPolicy");
  add_owner(x.root(), owner, owner_name);
  auto list = XmlOut::add(x.root(), "AccessControlList");
  for (const Grant& g : is_explicit_acl(acl) ? decode_acl(acl) : canned_grants(acl, owner, owner_name, bucket))
    add_grant(list, g);
  return xml_response(c, 200, x.str());
}

http::Response S3Service::put_acl(Ctx& c, const std::string& body, bool bucket) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (c.anonymous) return error_response(c, access_denied());
  std::optional<ObjectMeta> object;
  if (bucket) {
    if (!bucket_allows(c, *b, Perm::write_acp)) return error_response(c, access_denied());
  } else {
    if (auto v = acl_version(c, b->id)) object = v->meta;
    if (!object) return error_response(c, bucket_allows(c, *b, Perm::read) ? no_such_key(c.key) : access_denied());
    if (!object_allows(c, *b, *object, Perm::write_acp)) return error_response(c, access_denied());
  }
  const std::string owner = bucket ? b->owner_key : object->owner;
  const std::string owner_name = bucket ? b->owner_name : object->owner_name;
  std::string acl;
  if (c.headers.has("x-amz-acl")) {
    acl = std::string(c.headers.get("x-amz-acl"));
    if (!valid_canned_acl(acl)) return error_response(c, invalid_argument("", "x-amz-acl", acl));
  } else if (!body.empty()) {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
    auto root = doc.document_element();
    if (local_name(root.name()) != "AccessControlPolicy") return error_response(c, malformed_xml());
    auto lists = children(root, "AccessControlList");
    if (lists.empty()) return error_response(c, malformed_xml());
    std::vector<Grant> grants;
    for (auto g : children(lists.front(), "Grant")) {
      auto grantee = children(g, "Grantee");
      const std::string perm = child_text(g, "Permission");
      if (grantee.empty()) return error_response(c, malformed_xml());
      if (perm != "FULL_CONTROL" && perm != "READ" && perm != "WRITE" && perm != "READ_ACP" && perm != "WRITE_ACP")
        return error_response(c, malformed_xml());
      const pugi::xml_node who = grantee.front();
      if (!children(who, "EmailAddress").empty())
        return error_response(c, err("UnresolvableGrantByEmailAddress",
                                     "The e-mail address you provided does not match any account on record.", 400,
                                     {{"EmailAddress", child_text(who, "EmailAddress")}}));
      if (!children(who, "URI").empty()) {
        const std::string uri = child_text(who, "URI");
        if (uri != kAllUsers && uri != kAuthUsers && uri != kLogDelivery)
          return error_response(c, invalid_argument("Invalid group uri", "Group/URI", uri));
        grants.push_back(Grant{true, uri, {}, perm});
        continue;
      }
      const std::string id = child_text(who, "ID");
      if (!canonical_id_shape(id)) return error_response(c, invalid_argument("Invalid id", "CanonicalUser/ID", id));
      grants.push_back(Grant{false, id, known_display_name(id), perm});
    }
    // Grants that say what a canned ACL says are stored as that ACL.
    auto same = [](std::vector<Grant> a, std::vector<Grant> b) {
      auto less = [](const Grant& x, const Grant& y) {
        return std::tie(x.group, x.grantee, x.permission) < std::tie(y.group, y.grantee, y.permission);
      };
      std::sort(a.begin(), a.end(), less);
      std::sort(b.begin(), b.end(), less);
      return a == b;
    };
    acl = encode_acl(grants);
    for (const char* canned : {"private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read",
                               "bucket-owner-full-control"}) {
      if (same(grants, canned_grants(canned, owner, owner_name, bucket ? nullptr : &*b))) {
        acl = canned;
        break;
      }
    }
  } else {
    return error_response(c, err("MissingSecurityHeader", "Your request was missing a required header", 400,
                                 {{"MissingHeaderName", "x-amz-acl"}}));
  }
  // Ownership controls and Block Public Access have the last word on ACLs.
  if (acls_disabled(*b) && acl != "bucket-owner-full-control")
    return error_response(c, err("AccessControlListNotSupported", "The bucket does not allow ACLs", 400));
  if (b->config.public_access_block && b->config.public_access_block->block_public_acls) {
    bool is_public = acl == "public-read" || acl == "public-read-write" || acl == "authenticated-read";
    for (const Grant& g : decode_acl(acl)) is_public = is_public || (g.group && g.grantee != kLogDelivery);
    if (is_public) return error_response(c, access_denied());
  }
  if (bucket) {
    std::lock_guard lk(buckets_mu_);
    auto it = buckets_.find(c.bucket);
    if (it == buckets_.end()) return error_response(c, no_such_bucket(c.bucket));
    it->second.acl = acl;
    store::WriteBatch batch(store_);
    batch.put(store::Family::meta, bucket_key(c.bucket), encode(it->second));
    if (!store_.write(batch)) return error_response(c, internal_error());
  } else {
    std::lock_guard lk(commit_mu_);
    auto v = acl_version(c, b->id);
    if (!v) return error_response(c, no_such_key(c.key));
    v->meta.acl = acl;
    store::WriteBatch batch(store_);
    store_version(batch, b->id, c.key, *v);
    if (!store_.write(batch)) return error_response(c, internal_error());
  }
  http::Response res;
  res.content_length = 0;
  return res;
}

// ---- DeleteObjects ------------------------------------------------------------------------

http::Response S3Service::delete_objects(Ctx& c, const std::string& body) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return error_response(c, access_denied());
  bool integrity = false;
  if (c.headers.has("Content-MD5")) {
    integrity = true;
    auto md5 = wire::base64_decode(c.headers.get("Content-MD5"));
    if (!md5 || md5->size() != 16)
      return error_response(c, err("InvalidDigest", "The Content-MD5 you specified was invalid.", 400,
                                   {{"Content-MD5", std::string(c.headers.get("Content-MD5"))}}));
    if (*md5 != ck::digest(ck::Algorithm::md5, body))
      return error_response(c, err("BadDigest", "The Content-MD5 you specified did not match what we received.", 400));
  }
  for (auto a : ck::kAllAlgorithms) {
    if (a == ck::Algorithm::md5) continue;
    if (!c.headers.has(ck::header_name(a))) continue;
    integrity = true;
    if (ck::digest_base64(a, body) != c.headers.get(ck::header_name(a)))
      return error_response(c, err("BadDigest", "The " + std::string(ck::algorithm_name(a)) +
                                                    " you specified did not match the calculated checksum.", 400));
  }
  // Trailing checksums were checked while the body was decoded.
  if (c.headers.has("x-amz-trailer") || c.headers.has("x-amz-sdk-checksum-algorithm")) integrity = true;
  if (!integrity)
    return error_response(c, err("InvalidRequest", "Missing required header for this request: Content-MD5", 400));
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
  auto root = doc.document_element();
  if (local_name(root.name()) != "Delete") return error_response(c, malformed_xml());
  const bool quiet = child_text(root, "Quiet") == "true";
  auto objects = children(root, "Object");
  if (objects.empty() || objects.size() > 1000) return error_response(c, malformed_xml());
  XmlOut x("DeleteResult");
  for (auto o : objects) {
    if (children(o, "Key").empty()) return error_response(c, malformed_xml());
  }
  for (auto o : objects) {
    std::string key = child_text(o, "Key");
    std::string version = child_text(o, "VersionId");
    const bool by_version = !children(o, "VersionId").empty();
    DeleteConditions cond;
    cond.etag = child_text(o, "ETag");
    if (!children(o, "LastModifiedTime").empty()) cond.mtime_ms = parse_iso8601_ms(child_text(o, "LastModifiedTime"));
    if (!children(o, "Size").empty()) cond.size = std::strtoull(child_text(o, "Size").c_str(), nullptr, 10);
    const bool conditional = !cond.etag.empty() || cond.mtime_ms || cond.size;
    Deleted done;
    if (auto e = delete_key(c, *b, key, by_version ? &version : nullptr, &done, conditional ? &cond : nullptr)) {
      auto n = XmlOut::add(x.root(), "Error");
      XmlOut::add(n, "Key", key);
      if (by_version) XmlOut::add(n, "VersionId", version);
      XmlOut::add(n, "Code", e->code);
      XmlOut::add(n, "Message", e->message);
      continue;
    }
    if (!quiet) {
      auto d = XmlOut::add(x.root(), "Deleted");
      XmlOut::add(d, "Key", key);
      if (by_version) XmlOut::add(d, "VersionId", version);
      if (done.delete_marker) {
        XmlOut::add(d, "DeleteMarker", "true");
        XmlOut::add(d, "DeleteMarkerVersionId", done.version_id);
      }
    }
  }
  return xml_response(c, 200, x.str());
}

// ---- ListMultipartUploads -----------------------------------------------------------------

http::Response S3Service::list_multipart_uploads(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::read)) return error_response(c, access_denied());
  size_t max = 1000;
  if (c.has("max-uploads")) {
    const std::string v = c.q("max-uploads");
    const auto n = parse_int(v, 0, INT32_MAX);
    if (!n)
      return error_response(c, invalid_argument("Provided max-uploads not an integer or within integer range", "max-uploads", v));
    max = static_cast<size_t>(std::min<long long>(*n, 1000));
  }
  const std::string prefix = c.q("prefix"), delimiter = c.q("delimiter");
  const std::string key_marker = c.q("key-marker"), id_marker = c.q("upload-id-marker");
  const bool url = c.q("encoding-type") == "url";
  auto enc = [&](const std::string& s) { return url ? url_encode_key(s) : s; };
  std::vector<Upload> uploads;
  auto it = store_.iterate(store::Family::meta, "u/", "u0");
  for (it->seek("u/"); it->valid(); it->next()) {
    std::string_view k = it->key();
    if (k.find('/', 2) != std::string_view::npos) continue;
    auto u = decode_upload(it->value());
    if (!u || u->bucket != c.bucket || u->key.rfind(prefix, 0) != 0) continue;
    uploads.push_back(std::move(*u));
  }
  std::sort(uploads.begin(), uploads.end(), [](const Upload& a, const Upload& b) {
    return a.key != b.key ? a.key < b.key : a.initiated_ms != b.initiated_ms ? a.initiated_ms < b.initiated_ms : a.id < b.id;
  });
  XmlOut x("ListMultipartUploadsResult");
  auto r = x.root();
  XmlOut::add(r, "Bucket", c.bucket);
  XmlOut::add(r, "KeyMarker", enc(key_marker));
  XmlOut::add(r, "UploadIdMarker", id_marker);
  std::vector<const Upload*> shown;
  std::vector<std::string> prefixes;
  bool truncated = false;
  bool past_id_marker = id_marker.empty();
  for (auto& u : uploads) {
    if (!key_marker.empty()) {
      if (u.key < key_marker) continue;
      if (u.key == key_marker) {
        if (id_marker.empty()) continue;
        if (!past_id_marker) {
          if (u.id == id_marker) past_id_marker = true;
          continue;
        }
      }
    }
    if (!delimiter.empty()) {
      auto pos = u.key.find(delimiter, prefix.size());
      if (pos != std::string::npos) {
        std::string cp = u.key.substr(0, pos + delimiter.size());
        if (!prefixes.empty() && prefixes.back() == cp) continue;
        if (shown.size() + prefixes.size() == max) {
          truncated = true;
          break;
        }
        prefixes.push_back(cp);
        continue;
      }
    }
    if (shown.size() + prefixes.size() == max) {
      truncated = true;
      break;
    }
    shown.push_back(&u);
  }
  if (truncated && !shown.empty()) {
    XmlOut::add(r, "NextKeyMarker", enc(shown.back()->key));
    XmlOut::add(r, "NextUploadIdMarker", shown.back()->id);
  }
  if (!delimiter.empty()) XmlOut::add(r, "Delimiter", enc(delimiter));
  XmlOut::add(r, "Prefix", enc(prefix));
  XmlOut::add(r, "MaxUploads", std::to_string(max));
  if (url) XmlOut::add(r, "EncodingType", "url");
  XmlOut::add(r, "IsTruncated", truncated ? "true" : "false");
  for (auto* u : shown) {
    auto n = XmlOut::add(r, "Upload");
    XmlOut::add(n, "Key", enc(u->key));
    XmlOut::add(n, "UploadId", u->id);
    add_owner(n, u->owner, u->owner_name, "Initiator");
    add_owner(n, u->owner, u->owner_name);
    XmlOut::add(n, "StorageClass", u->storage_class);
    XmlOut::add(n, "Initiated", iso8601(u->initiated_ms));
    if (!u->checksum_algorithm.empty()) {
      XmlOut::add(n, "ChecksumAlgorithm", u->checksum_algorithm);
      XmlOut::add(n, "ChecksumType", u->checksum_type);
    }
  }
  for (auto& p : prefixes) XmlOut::add(XmlOut::add(r, "CommonPrefixes"), "Prefix", enc(p));
  return xml_response(c, 200, x.str());
}

}  // namespace eddy::s3
