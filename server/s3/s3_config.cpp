// Bucket sub-resources kept in one row per bucket (meta `bc/<bucket>`): the bucket policy and
// its status, default encryption, bucket tags, Block Public Access and ownership controls; object
// tagging; how the bucket policy takes part in access decisions; and what a write records
// (encryption, tags) after the checks S3 makes of its ACL, SSE and tagging headers.
#include <chrono>

#include "server/s3/policy.h"
#include "server/s3/s3_internal.h"
#include "server/s3/s3_service.h"
#include "server/s3/sse.h"
#include "server/s3/tagging.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace {

// The IAM action of an S3 operation (most are "s3:" + the operation's name).
std::string iam_action(std::string_view operation) {
  static const std::pair<std::string_view, std::string_view> kRenamed[] = {
      {"ListObjects", "ListBucket"},
      {"ListObjectsV2", "ListBucket"},
      {"HeadBucket", "ListBucket"},
      {"HeadObject", "GetObject"},
      {"CopyObject", "PutObject"},
      {"UploadPart", "PutObject"},
      {"UploadPartCopy", "PutObject"},
      {"CreateMultipartUpload", "PutObject"},
      {"CompleteMultipartUpload", "PutObject"},
      {"PostObject", "PutObject"},
      {"ListObjectVersions", "ListBucketVersions"},
      {"ListMultipartUploads", "ListBucketMultipartUploads"},
      {"ListParts", "ListMultipartUploadParts"},
      {"DeleteObjects", "DeleteObject"},
      {"GetBucketCors", "GetBucketCORS"},
      {"PutBucketCors", "PutBucketCORS"},
      {"DeleteBucketCors", "PutBucketCORS"},
      {"GetBucketEncryption", "GetEncryptionConfiguration"},
      {"PutBucketEncryption", "PutEncryptionConfiguration"},
      {"DeleteBucketEncryption", "PutEncryptionConfiguration"},
      {"GetPublicAccessBlock", "GetBucketPublicAccessBlock"},
      {"PutPublicAccessBlock", "PutBucketPublicAccessBlock"},
      {"DeletePublicAccessBlock", "PutBucketPublicAccessBlock"},
      {"DeleteBucketTagging", "PutBucketTagging"},
      {"DeleteBucketOwnershipControls", "PutBucketOwnershipControls"},
      {"ListBuckets", "ListAllMyBuckets"},
  };
  for (auto& [op, action] : kRenamed)
    if (op == operation) return "s3:" + std::string(action);
  return "s3:" + std::string(operation);
}

bool is_policy_operation(std::string_view operation) {
  return operation == "GetBucketPolicy" || operation == "PutBucketPolicy" || operation == "DeleteBucketPolicy" ||
         operation == "GetBucketPolicyStatus";
}

// The bucket and key x-amz-copy-source names.
std::pair<std::string, std::string> copy_source(const Ctx& c) {
  std::string source = wire::text::percent_decode(c.headers.get("x-amz-copy-source"));
  if (auto q = source.find("?versionId="); q != std::string::npos) source.resize(q);
  if (!source.empty() && source.front() == '/') source.erase(0, 1);
  auto slash = source.find('/');
  if (slash == std::string::npos) return {source, {}};
  return {source.substr(0, slash), source.substr(slash + 1)};
}

bool public_canned_acl(std::string_view acl) {
  return acl == "public-read" || acl == "public-read-write" || acl == "authenticated-read";
}

S3Error acl_not_supported() {
  return err("AccessControlListNotSupported", "The bucket does not allow ACLs", 400);
}

http::Response empty_response(int status) {
  http::Response res;
  res.status = status;
  res.content_length = 0;
  return res;
}

std::optional<bool> xml_bool(pugi::xml_node parent, std::string_view name, bool* bad) {
  auto n = children(parent, name);
  if (n.empty()) return std::nullopt;
  const std::string v = n.front().text().get();
  if (v != "true" && v != "false") *bad = true;
  return v == "true";
}

}  // namespace

// ---- access -------------------------------------------------------------------------------

policy::Effect S3Service::policy_effect(const Ctx& c, const Bucket& b, const ObjectMeta* object, Perm p) const {
  const auto& doc = b.config.policy_doc;
  if (!doc) return policy::Effect::none;
  policy::Request r;
  r.anonymous = c.anonymous;
  if (!c.anonymous) {
    r.account = c.account;
    r.canonical_id = canonical_id(c.account);
    if (!c.user.empty() && c.user.rfind("arn:", 0) == 0) r.user_arn = c.user;
    else if (!c.user.empty()) r.user_arn = "arn:aws:iam::" + c.account + ":user/" + c.display_name;
  }
  const bool copy_read = (c.op == Op::copy_object || c.op == Op::upload_part_copy) && p == Perm::read;
  std::string key = c.key;
  if (copy_read) key = copy_source(c).second;
  const std::string arn = "arn:aws:s3:::" + b.name;
  auto& ctx = r.context;
  if (copy_read) {
    r.action = "s3:GetObject";
    r.resource = arn + "/" + key;
  } else if (!object && !c.key.empty() && p == Perm::read) {
    // May the requester learn that a key does not exist? That is s3:ListBucket on the key as prefix.
    r.action = "s3:ListBucket";
    r.resource = arn;
    ctx["s3:prefix"] = {c.key};
  } else {
    r.action = iam_action(c.operation);
    r.resource = c.key.empty() ? arn : arn + "/" + c.key;
    if (c.key.empty()) {
      for (const char* q : {"prefix", "delimiter", "max-keys"})
        if (c.has(q)) ctx[std::string("s3:") + q] = {c.q(q)};
    }
  }
  if (object)
    for (const auto& [k, v] : object->tags) ctx["s3:existingobjecttag/" + k] = {v};
  if (c.has("versionId")) ctx["s3:versionid"] = {c.q("versionId")};
  // Every x-amz-* header is a condition key of its own name (s3:x-amz-acl, s3:x-amz-server-side-encryption, ...).
  for (const auto& [name, value] : c.headers.items()) {
    std::string n = wire::text::lower(name);
    if (n.rfind("x-amz-", 0) == 0) ctx["s3:" + n].push_back(value);
  }
  if (c.headers.has("x-amz-tagging")) {
    auto tags = tagging::parse_header(c.headers.get("x-amz-tagging"));
    if (auto* t = std::get_if<Pairs>(&tags)) {
      auto& keys = ctx["s3:requestobjecttagkeys"];
      for (const auto& [k, v] : *t) {
        ctx["s3:requestobjecttag/" + k] = {v};
        keys.push_back(k);
      }
    }
  }
  if (!c.remote_address.empty()) ctx["aws:sourceip"] = {c.remote_address};
  ctx["aws:securetransport"] = {c.tls ? "true" : "false"};
  if (c.headers.has("Referer")) ctx["aws:referer"] = {std::string(c.headers.get("Referer"))};
  if (c.headers.has("User-Agent")) ctx["aws:useragent"] = {std::string(c.headers.get("User-Agent"))};
  if (!c.anonymous) ctx["aws:principalaccount"] = {c.account};
  const int64_t now_ms = clock_.now_ms();
  ctx["aws:currenttime"] = {iso8601(now_ms)};
  ctx["aws:epochtime"] = {std::to_string(now_ms / 1000)};
  if (c.auth_checked && !c.anonymous) {
    const std::string auth(c.headers.get("Authorization"));
    ctx["s3:signatureversion"] = {auth.rfind("AWS ", 0) == 0 || c.has("Signature") ? "AWS" : "AWS4-HMAC-SHA256"};
    ctx["s3:authtype"] = {auth.empty() ? "REST-QUERY-STRING" : "REST-HEADER"};
  }
  policy::Effect e = doc->evaluate(r);
  // RestrictPublicBuckets: a public policy grants only the bucket owner's account.
  if (e == policy::Effect::allow && b.config.public_access_block && b.config.public_access_block->restrict_public_buckets &&
      doc->is_public() && !owns(c, b.owner_key))
    e = policy::Effect::none;
  return e;
}

std::optional<S3Error> S3Service::write_attributes(const Ctx& c, const Bucket& b, Encryption& sse, Pairs& tags,
                                                   std::string& owner, std::string& owner_name,
                                                   const Pairs* copy_tags) const {
  const std::string_view acl_header = c.headers.get("x-amz-acl");
  if (b.config.ownership == "BucketOwnerEnforced" ||
      (b.config.ownership == "BucketOwnerPreferred" && acl_header == "bucket-owner-full-control")) {
    owner = b.owner_key;
    owner_name = b.owner_name;
  } else {
    owner = c.new_owner();
    owner_name = c.new_owner_name();
  }
  if (c.headers.has("x-amz-acl")) {
    const std::string acl(acl_header);
    if (b.config.ownership == "BucketOwnerEnforced" && acl != "bucket-owner-full-control") return acl_not_supported();
    if (b.config.public_access_block && b.config.public_access_block->block_public_acls && public_canned_acl(acl))
      return access_denied();
  }
  if (b.config.ownership == "BucketOwnerEnforced")
    for (const char* g : {"x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                          "x-amz-grant-full-control"})
      if (c.headers.has(g)) return acl_not_supported();
  auto enc = sse::for_write(c.headers, b.config);
  if (auto* e = std::get_if<S3Error>(&enc)) return *e;
  sse = std::get<Encryption>(enc);
  const std::string directive = c.headers.has("x-amz-tagging-directive")
                                    ? std::string(c.headers.get("x-amz-tagging-directive")) : "COPY";
  if (copy_tags && directive != "COPY" && directive != "REPLACE")
    return invalid_argument("Unknown tagging directive.", "x-amz-tagging-directive", directive);
  if (copy_tags && directive == "COPY") {
    tags = *copy_tags;
  } else if (c.headers.has("x-amz-tagging")) {
    auto t = tagging::parse_header(c.headers.get("x-amz-tagging"));
    if (auto* e = std::get_if<S3Error>(&t)) return *e;
    tags = std::get<Pairs>(t);
  } else {
    tags.clear();
  }
  return std::nullopt;
}

// ---- storage ------------------------------------------------------------------------------

bool S3Service::load_configs(std::string* error) {
  auto it = store_.iterate(store::Family::meta, "bc/", "bc0");
  for (it->seek("bc/"); it->valid(); it->next()) {
    auto cfg = decode_bucket_config(it->value());
    if (!cfg) {
      if (error) *error = "unreadable bucket configuration row " + std::string(it->key());
      return false;
    }
    auto b = buckets_.find(std::string(it->key().substr(3)));  // after "bc/"
    if (b == buckets_.end()) continue;
    if (!cfg->policy.empty()) {
      auto doc = policy::Document::parse(cfg->policy, [](std::string_view) { return true; },
                                         [](std::string_view) { return true; });
      if (auto* d = std::get_if<std::shared_ptr<const policy::Document>>(&doc)) cfg->policy_doc = *d;
    }
    b->second.config = std::move(*cfg);
  }
  if (auto st = it->status(); !st) {
    if (error) *error = st.message;
    return false;
  }
  return true;
}

std::optional<S3Error> S3Service::update_config(const std::string& bucket,
                                                const std::function<std::optional<S3Error>(BucketConfig&)>& fn) {
  std::lock_guard lk(buckets_mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return no_such_bucket(bucket);
  BucketConfig next = it->second.config;
  if (auto e = fn(next)) return e;
  store::WriteBatch batch(store_);
  if (next.empty()) batch.del(store::Family::meta, bucket_config_key(bucket));
  else batch.put(store::Family::meta, bucket_config_key(bucket), encode(next));
  if (!store_.write(batch)) return internal_error();
  it->second.config = std::move(next);
  return std::nullopt;
}

// ---- routing ------------------------------------------------------------------------------

std::optional<http::Dispatch> S3Service::config_op(std::shared_ptr<Ctx> ctx) {
  Ctx& c = *ctx;
  auto imm = [](http::Response r) { return std::optional<http::Dispatch>(http::Immediate{std::move(r)}); };
  auto buffered = [this, ctx](std::function<http::Response(Ctx&, std::string&)> fn) {
    return std::optional<http::Dispatch>(xml_body(ctx, std::move(fn)));
  };
  static const char* kBucketParams[] = {"policy", "encryption", "tagging", "publicAccessBlock", "ownershipControls"};
  if (!c.key.empty()) {
    if (!c.has("tagging") || (c.method != "GET" && c.method != "PUT" && c.method != "DELETE")) return std::nullopt;
    return buffered([this](Ctx& cx, std::string& body) { return object_tagging(cx, body); });
  }
  if (c.method == "GET" && c.has("policyStatus")) {
    c.operation = "GetBucketPolicyStatus";
    return imm(bucket_config_get(c));
  }
  bool mine = false;
  for (const char* p : kBucketParams) mine = mine || c.has(p);
  if (!mine) return std::nullopt;
  if (c.method == "GET") return imm(bucket_config_get(c));
  if (c.method == "DELETE") return imm(bucket_config_delete(c));
  if (c.method == "PUT") return buffered([this](Ctx& cx, std::string& body) { return bucket_config_put(cx, body); });
  return std::nullopt;
}

namespace {

// Who may read or change a bucket's sub-resources: its owner's account unless the policy
// denies, other accounts where the policy allows. The policy itself is the owner's alone.
bool config_allowed(const Ctx& c, const Bucket& b, policy::Effect e) {
  if (!c.auth_checked) return true;
  if (is_policy_operation(c.operation)) return owns(c, b.owner_key);
  if (e == policy::Effect::deny) return false;
  return owns(c, b.owner_key) || e == policy::Effect::allow;
}

}  // namespace

http::Response S3Service::bucket_config_get(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!config_allowed(c, *b, policy_effect(c, *b, nullptr, Perm::read_acp))) return error_response(c, access_denied());
  const BucketConfig& cfg = b->config;
  const std::vector<std::pair<std::string, std::string>> name{{"BucketName", c.bucket}};
  if (c.operation == "GetBucketPolicy") {
    if (cfg.policy.empty()) return error_response(c, err("NoSuchBucketPolicy", "The bucket policy does not exist", 404, name));
    http::Response res;
    res.headers.add("Content-Type", "application/json");
    res.body = cfg.policy;
    return res;
  }
  if (c.operation == "GetBucketPolicyStatus") {
    XmlOut x("PolicyStatus");
    XmlOut::add(x.root(), "IsPublic", cfg.policy_doc && cfg.policy_doc->is_public() ? "true" : "false");
    return xml_response(c, 200, x.str());
  }
  if (c.operation == "GetBucketEncryption") {
    if (!cfg.encryption)
      return error_response(c, err("ServerSideEncryptionConfigurationNotFoundError",
                                   "The server side encryption configuration was not found", 404, name));
    return xml_response(c, 200, sse::bucket_encryption_xml(*cfg.encryption));
  }
  if (c.operation == "GetBucketTagging") {
    if (!cfg.tags) return error_response(c, err("NoSuchTagSet", "The TagSet does not exist", 404, name));
    return xml_response(c, 200, tagging::to_xml(*cfg.tags));
  }
  if (c.operation == "GetPublicAccessBlock") {
    if (!cfg.public_access_block)
      return error_response(c, err("NoSuchPublicAccessBlockConfiguration",
                                   "The public access block configuration was not found", 404, name));
    const PublicAccessBlock& p = *cfg.public_access_block;
    XmlOut x("PublicAccessBlockConfiguration");
    XmlOut::add(x.root(), "BlockPublicAcls", p.block_public_acls ? "true" : "false");
    XmlOut::add(x.root(), "IgnorePublicAcls", p.ignore_public_acls ? "true" : "false");
    XmlOut::add(x.root(), "BlockPublicPolicy", p.block_public_policy ? "true" : "false");
    XmlOut::add(x.root(), "RestrictPublicBuckets", p.restrict_public_buckets ? "true" : "false");
    return xml_response(c, 200, x.str());
  }
  if (c.operation == "GetBucketOwnershipControls") {
    if (cfg.ownership.empty())
      return error_response(c, err("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404,
                                   name));
    XmlOut x("OwnershipControls");
    XmlOut::add(XmlOut::add(x.root(), "Rule"), "ObjectOwnership", cfg.ownership);
    return xml_response(c, 200, x.str());
  }
  return error_response(c, not_implemented());
}

http::Response S3Service::bucket_config_put(Ctx& c, const std::string& body) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!config_allowed(c, *b, policy_effect(c, *b, nullptr, Perm::write_acp))) return error_response(c, access_denied());
  std::optional<S3Error> e;
  if (c.operation == "PutBucketPolicy") {
    const std::string name = b->name;
    auto parsed = policy::Document::parse(
        body,
        [&name](std::string_view r) {
          // arn:aws:s3:::<bucket>[/<key>] where the bucket part may match this bucket.
          constexpr std::string_view kArn = "arn:aws:s3:::";
          if (r.rfind(kArn, 0) != 0) return false;
          std::string_view rest = r.substr(kArn.size());
          return policy::wildcard_match(rest.substr(0, rest.find('/')), name);
        },
        [](std::string_view a) {
          return a == "*" || (a.size() > 3 && wire::text::lower(a.substr(0, 3)) == "s3:");
        });
    if (auto* msg = std::get_if<std::string>(&parsed))
      return error_response(c, err("MalformedPolicy", *msg, 400));
    auto doc = std::get<std::shared_ptr<const policy::Document>>(parsed);
    if (b->config.public_access_block && b->config.public_access_block->block_public_policy && doc->is_public())
      return error_response(c, access_denied());
    e = update_config(c.bucket, [&](BucketConfig& cfg) -> std::optional<S3Error> {
      cfg.policy = body;
      cfg.policy_doc = doc;
      return std::nullopt;
    });
    if (!e) return empty_response(204);
  } else if (c.operation == "PutBucketEncryption") {
    auto enc = sse::parse_bucket_encryption(body);
    if (auto* bad = std::get_if<S3Error>(&enc)) return error_response(c, *bad);
    e = update_config(c.bucket, [&](BucketConfig& cfg) -> std::optional<S3Error> {
      cfg.encryption = std::get<Encryption>(enc);
      return std::nullopt;
    });
  } else if (c.operation == "PutBucketTagging") {
    auto tags = tagging::parse_xml(body, tagging::kMaxBucketTags);
    if (auto* bad = std::get_if<S3Error>(&tags)) return error_response(c, *bad);
    e = update_config(c.bucket, [&](BucketConfig& cfg) -> std::optional<S3Error> {
      cfg.tags = std::get<Pairs>(tags);
      return std::nullopt;
    });
    if (!e) return empty_response(204);
  } else if (c.operation == "PutPublicAccessBlock") {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
    auto root = doc.document_element();
    if (local_name(root.name()) != "PublicAccessBlockConfiguration") return error_response(c, malformed_xml());
    bool bad = false;
    PublicAccessBlock p;
    p.block_public_acls = xml_bool(root, "BlockPublicAcls", &bad).value_or(false);
    p.ignore_public_acls = xml_bool(root, "IgnorePublicAcls", &bad).value_or(false);
    p.block_public_policy = xml_bool(root, "BlockPublicPolicy", &bad).value_or(false);
    p.restrict_public_buckets = xml_bool(root, "RestrictPublicBuckets", &bad).value_or(false);
    if (bad) return error_response(c, malformed_xml());
    e = update_config(c.bucket, [&](BucketConfig& cfg) -> std::optional<S3Error> {
      cfg.public_access_block = p;
      return std::nullopt;
    });
  } else if (c.operation == "PutBucketOwnershipControls") {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
    auto root = doc.document_element();
    if (local_name(root.name()) != "OwnershipControls") return error_response(c, malformed_xml());
    auto rules = children(root, "Rule");
    if (rules.size() != 1) return error_response(c, malformed_xml());
    const std::string o = child_text(rules.front(), "ObjectOwnership");
    if (o != "BucketOwnerEnforced" && o != "BucketOwnerPreferred" && o != "ObjectWriter")
      return error_response(c, malformed_xml());
    if (o == "BucketOwnerEnforced" && b->acl != "private" && b->acl != "bucket-owner-full-control")
      return error_response(c, err("InvalidBucketAclWithObjectOwnership",
                                   "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 400));
    e = update_config(c.bucket, [&](BucketConfig& cfg) -> std::optional<S3Error> {
      cfg.ownership = o;
      return std::nullopt;
    });
  } else {
    return error_response(c, not_implemented());
  }
  if (e) return error_response(c, *e);
  return empty_response(200);
}

http::Response S3Service::bucket_config_delete(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!config_allowed(c, *b, policy_effect(c, *b, nullptr, Perm::write_acp))) return error_response(c, access_denied());
  std::function<void(BucketConfig&)> clear;
  if (c.operation == "DeleteBucketPolicy") clear = [](BucketConfig& cfg) {
    cfg.policy.clear();
    cfg.policy_doc.reset();
  };
  else if (c.operation == "DeleteBucketEncryption") clear = [](BucketConfig& cfg) { cfg.encryption.reset(); };
  else if (c.operation == "DeleteBucketTagging") clear = [](BucketConfig& cfg) { cfg.tags.reset(); };
  else if (c.operation == "DeletePublicAccessBlock") clear = [](BucketConfig& cfg) { cfg.public_access_block.reset(); };
  else if (c.operation == "DeleteBucketOwnershipControls") clear = [](BucketConfig& cfg) { cfg.ownership.clear(); };
  else return error_response(c, not_implemented());
  if (auto e = update_config(c.bucket, [&](BucketConfig& cfg) -> std::optional<S3Error> {
        clear(cfg);
        return std::nullopt;
      }))
    return error_response(c, *e);
  return empty_response(204);
}

// ---- object tagging -----------------------------------------------------------------------

http::Response S3Service::object_tagging(Ctx& c, const std::string& body) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  auto m = load_object(b->id, c.key);
  if (!m) return error_response(c, bucket_allows(c, *b, Perm::read) ? no_such_key(c.key) : access_denied());
  if (c.auth_checked) {
    const policy::Effect e = policy_effect(c, *b, &*m, c.method == "GET" ? Perm::read : Perm::write);
    const bool owner = b->config.ownership == "BucketOwnerEnforced" ? owns(c, b->owner_key) : owns(c, m->owner);
    if (e == policy::Effect::deny || (!owner && e != policy::Effect::allow)) return error_response(c, access_denied());
  }
  if (c.method == "GET") {
    auto res = xml_response(c, 200, tagging::to_xml(m->tags));
    return res;
  }
  Pairs tags;
  if (c.method == "PUT") {
    auto parsed = tagging::parse_xml(body, tagging::kMaxObjectTags);
    if (auto* bad = std::get_if<S3Error>(&parsed)) return error_response(c, *bad);
    tags = std::get<Pairs>(parsed);
  }
  {
    std::lock_guard lk(commit_mu_);
    auto o = load_object(b->id, c.key);
    if (!o) return error_response(c, no_such_key(c.key));
    o->tags = tags;
    store::WriteBatch batch(store_);
    batch.put(store::Family::objects, object_key(b->id, c.key), encode(*o));
    if (!store_.write(batch)) return error_response(c, internal_error());
  }
  return empty_response(c.method == "PUT" ? 200 : 204);
}

}  // namespace eddy::s3
