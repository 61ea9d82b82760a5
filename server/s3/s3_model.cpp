#include "server/s3/s3_model.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "server/store/store.h"
#include "wire/sigv4.h"

namespace eddy::s3 {

namespace {

// Length-prefixed fields: a record is a version byte followed by fields in a fixed order.
class Writer {
 public:
  explicit Writer(uint8_t version) { out_.push_back(static_cast<char>(version)); }
  void u64(uint64_t v) { store::put_u64(out_, v); }
  void u32(uint32_t v) { store::put_u32(out_, v); }
  void str(std::string_view s) {
    store::put_u32(out_, static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    store::put_u32(out_, static_cast<uint32_t>(v.size()));
    for (auto& x : v) str(x);
  }
  void pairs(const Pairs& p) {
    store::put_u32(out_, static_cast<uint32_t>(p.size()));
    for (auto& [k, v] : p) {
      str(k);
      str(v);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool version(uint8_t want) {
    if (in_.empty() || static_cast<uint8_t>(in_[0]) != want) return ok_ = false;
    pos_ = 1;
    return true;
  }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = store::get_u64(in_, pos_);
    pos_ += 8;
    return v;
  }
  std::string str() {
    if (!need(4)) return {};
    uint32_t n = store::get_u32(in_, pos_);
    pos_ += 4;
    if (!need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = store::get_u32(in_, pos_);
    pos_ += 4;
    return v;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v;
    if (!need(4)) return v;
    uint32_t n = store::get_u32(in_, pos_);
    pos_ += 4;
    for (uint32_t i = 0; i < n && ok_; ++i) v.push_back(str());
    return v;
  }
  Pairs pairs() {
    Pairs p;
    if (!need(4)) return p;
    uint32_t n = store::get_u32(in_, pos_);
    pos_ += 4;
    for (uint32_t i = 0; i < n && ok_; ++i) {
      std::string k = str();
      std::string v = str();
      p.emplace_back(std::move(k), std::move(v));
    }
    return p;
  }
  bool ok() const { return ok_; }
  // Version 1 rows were written before owners were recorded; version 2 appends them (and,
  // for buckets, version 3 the CORS rules).
  int version_1_or_2() { return version_up_to(2); }
  int version_up_to(int newest) {
    for (int v = newest; v >= 1; --v) {
      ok_ = true;
      if (version(static_cast<uint8_t>(v))) return v;
    }
    ok_ = false;
    return 0;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) return ok_ = false;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void write_encryption(Writer& w, const Encryption& e) {
  w.str(e.algorithm);
  w.str(e.kms_key_id);
  w.u32(e.bucket_key ? 1 : 0);
  w.str(e.customer_algorithm);
  w.str(e.customer_key_md5);
  w.str(e.customer_key_digest);
}

Encryption read_encryption(Reader& r) {
  Encryption e;
  e.algorithm = r.str();
  e.kms_key_id = r.str();
  e.bucket_key = r.u32() != 0;
  e.customer_algorithm = r.str();
  e.customer_key_md5 = r.str();
  e.customer_key_digest = r.str();
  return e;
}

}  // namespace

std::string encode(const BucketConfig& c) {
  Writer w(1);
  w.str(c.policy);
  w.u32(c.encryption ? 1 : 0);
  if (c.encryption) write_encryption(w, *c.encryption);
  w.u32(c.tags ? 1 : 0);
  if (c.tags) w.pairs(*c.tags);
  w.u32(c.public_access_block ? 1 : 0);
  if (c.public_access_block) {
    const PublicAccessBlock& p = *c.public_access_block;
    w.u32((p.block_public_acls ? 1u : 0u) | (p.ignore_public_acls ? 2u : 0u) | (p.block_public_policy ? 4u : 0u) |
          (p.restrict_public_buckets ? 8u : 0u));
  }
  w.str(c.ownership);
  return w.take();
}

std::optional<BucketConfig> decode_bucket_config(std::string_view v) {
  Reader r(v);
  if (!r.version(1)) return std::nullopt;
  BucketConfig c;
  c.policy = r.str();
  if (r.u32()) c.encryption = read_encryption(r);
  if (r.u32()) c.tags = r.pairs();
  if (r.u32()) {
    const uint32_t bits = r.u32();
    c.public_access_block = PublicAccessBlock{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0};
  }
  c.ownership = r.str();
  if (!r.ok()) return std::nullopt;
  return c;
}

std::string bucket_config_key(std::string_view bucket) { return "c/" + std::string(bucket); }

std::string encode(const Bucket& b) {
  Writer w(3);
  w.str(b.name);
  w.u64(b.id);
  w.u64(static_cast<uint64_t>(b.created_ms));
  w.str(b.region);
  w.str(b.acl);
  w.str(b.owner_key);
  w.str(b.owner_name);
  w.u32(static_cast<uint32_t>(b.cors.size()));
  for (const CorsRule& r : b.cors) {
    w.str(r.id);
    w.u64(static_cast<uint64_t>(r.max_age_s + 1));
    w.strs(r.methods);
    w.strs(r.origins);
    w.strs(r.headers);
    w.strs(r.expose);
  }
  return w.take();
}

std::optional<Bucket> decode_bucket(std::string_view v) {
  Reader r(v);
  const int version = r.version_up_to(3);
  if (!version) return std::nullopt;
  Bucket b;
  b.name = r.str();
  b.id = static_cast<uint32_t>(r.u64());
  b.created_ms = static_cast<int64_t>(r.u64());
  b.region = r.str();
  b.acl = r.str();
  b.owner_key = r.str();
  if (version >= 2) b.owner_name = r.str();
  if (version >= 3) {
    const uint32_t n = r.u32();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      CorsRule c;
      c.id = r.str();
      c.max_age_s = static_cast<int64_t>(r.u64()) - 1;
      c.methods = r.strs();
      c.origins = r.strs();
      c.headers = r.strs();
      c.expose = r.strs();
      b.cors.push_back(std::move(c));
    }
  }
  if (!r.ok()) return std::nullopt;
  return b;
}

std::string encode(const ObjectMeta& m) {
  Writer w(3);
  w.u64(m.size);
  w.str(m.etag);
  w.u64(static_cast<uint64_t>(m.mtime_ms));
  w.u64(m.segments.size());
  for (auto& s : m.segments) {
    w.u64(s.blob_id);
    w.u64(s.size);
  }
  w.pairs(m.content);
  w.pairs(m.user);
  w.str(m.acl);
  w.str(m.checksum_algorithm);
  w.str(m.checksum_value);
  w.str(m.checksum_type);
  w.u64(m.parts);
  w.str(m.storage_class);
  w.str(m.owner);
  w.str(m.owner_name);
  write_encryption(w, m.sse);
  w.pairs(m.tags);
  return w.take();
}

std::optional<ObjectMeta> decode_object(std::string_view v) {
  Reader r(v);
  const int version = r.version_up_to(3);
  if (!version) return std::nullopt;
  ObjectMeta m;
  m.size = r.u64();
  m.etag = r.str();
  m.mtime_ms = static_cast<int64_t>(r.u64());
  uint64_t n = r.u64();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    Segment s;
    s.blob_id = r.u64();
    s.size = r.u64();
    m.segments.push_back(s);
  }
  m.content = r.pairs();
  m.user = r.pairs();
  m.acl = r.str();
  m.checksum_algorithm = r.str();
  m.checksum_value = r.str();
  m.checksum_type = r.str();
  m.parts = static_cast<uint32_t>(r.u64());
  m.storage_class = r.str();
  if (version >= 2) {
    m.owner = r.str();
    m.owner_name = r.str();
  }
  if (version >= 3) {
    m.sse = read_encryption(r);
    m.tags = r.pairs();
  }
  if (!r.ok()) return std::nullopt;
  return m;
}

std::string encode(const Upload& u) {
  Writer w(3);
  w.str(u.id);
  w.str(u.bucket);
  w.str(u.key);
  w.u64(static_cast<uint64_t>(u.initiated_ms));
  w.pairs(u.content);
  w.pairs(u.user);
  w.str(u.acl);
  w.str(u.checksum_algorithm);
  w.str(u.checksum_type);
  w.str(u.storage_class);
  w.str(u.owner);
  w.str(u.owner_name);
  write_encryption(w, u.sse);
  w.pairs(u.tags);
  return w.take();
}

std::optional<Upload> decode_upload(std::string_view v) {
  Reader r(v);
  const int version = r.version_up_to(3);
  if (!version) return std::nullopt;
  Upload u;
  u.id = r.str();
  u.bucket = r.str();
  u.key = r.str();
  u.initiated_ms = static_cast<int64_t>(r.u64());
  u.content = r.pairs();
  u.user = r.pairs();
  u.acl = r.str();
  u.checksum_algorithm = r.str();
  u.checksum_type = r.str();
  u.storage_class = r.str();
  if (version >= 2) {
    u.owner = r.str();
    u.owner_name = r.str();
  }
  if (version >= 3) {
    u.sse = read_encryption(r);
    u.tags = r.pairs();
  }
  if (!r.ok()) return std::nullopt;
  return u;
}

std::string encode(const Part& p) {
  Writer w(1);
  w.u64(p.number);
  w.u64(p.blob_id);
  w.u64(p.size);
  w.str(p.etag);
  w.u64(static_cast<uint64_t>(p.mtime_ms));
  w.str(p.checksum_value);
  w.str(p.md5);
  return w.take();
}

std::optional<Part> decode_part(std::string_view v) {
  Reader r(v);
  if (!r.version(1)) return std::nullopt;
  Part p;
  p.number = static_cast<uint32_t>(r.u64());
  p.blob_id = r.u64();
  p.size = r.u64();
  p.etag = r.str();
  p.mtime_ms = static_cast<int64_t>(r.u64());
  p.checksum_value = r.str();
  p.md5 = r.str();
  if (!r.ok()) return std::nullopt;
  return p;
}

std::string bucket_key(std::string_view bucket) { return "b/" + std::string(bucket); }

std::string object_key(uint32_t bucket_id, std::string_view key) {
  std::string k;
  store::put_u32(k, bucket_id);
  k.append(key);
  return k;
}

std::string object_prefix(uint32_t bucket_id) { return object_key(bucket_id, {}); }

std::string upload_key(std::string_view upload_id) { return "u/" + std::string(upload_id); }

std::string part_key(std::string_view upload_id, uint32_t part) {
  std::string k = "u/" + std::string(upload_id) + "/";
  store::put_u32(k, part);
  return k;
}

std::string blob_key(uint64_t blob_id, uint32_t chunk) {
  std::string k;
  store::put_u64(k, blob_id);
  store::put_u32(k, chunk);
  return k;
}

std::string prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    if (static_cast<unsigned char>(s.back()) != 0xff) {
      s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

bool valid_bucket_name(std::string_view n) {
  if (n.size() < 3 || n.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : n)
    if (!alnum(c) && c != '.' && c != '-') return false;
  if (!alnum(n.front()) || !alnum(n.back())) return false;
  if (n.find("..") != std::string_view::npos || n.find(".-") != std::string_view::npos ||
      n.find("-.") != std::string_view::npos)
    return false;
  if (n.rfind("xn--", 0) == 0 || n.rfind("sthree-", 0) == 0) return false;
  auto ends = [&](std::string_view suf) { return n.size() >= suf.size() && n.substr(n.size() - suf.size()) == suf; };
  if (ends("-s3alias") || ends("--ol-s3")) return false;
  // Formatted like an IPv4 address.
  int dots = 0;
  bool digits_only = true;
  for (char c : n) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') digits_only = false;
  }
  if (digits_only && dots == 3) return false;
  return true;
}

bool valid_canned_acl(std::string_view acl) {
  return acl == "private" || acl == "public-read" || acl == "public-read-write" || acl == "authenticated-read" ||
         acl == "aws-exec-read" || acl == "bucket-owner-read" || acl == "bucket-owner-full-control" ||
         acl == "log-delivery-write";
}

bool acl_allows_public_read(std::string_view acl) { return acl == "public-read" || acl == "public-read-write"; }
bool acl_allows_public_write(std::string_view acl) { return acl == "public-read-write"; }

std::string iso8601(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string http_date(int64_t ms) {
  return wire::sigv4::format_http_date(std::chrono::sys_seconds(std::chrono::seconds(ms / 1000)));
}

}  // namespace eddy::s3
