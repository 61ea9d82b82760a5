// Object data paths: PutObject/UploadPart bodies streamed into blob chunks, GetObject/HeadObject
// (ranges, conditions, overrides), CopyObject/UploadPartCopy, DeleteObject and multipart.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "server/s3/aws_chunked_decoder.h"
#include "server/s3/s3_internal.h"
#include "server/s3/sse.h"
#include "server/s3/s3_service.h"
#include "wire/base64.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace ck = wire::checksum;

// ---- blob writer / reader -----------------------------------------------------------------

ObjectWriter::ObjectWriter(store::Store& store, uint64_t blob_id, std::vector<ck::Algorithm> algorithms)
    : store_(store), blob_id_(blob_id) {
  for (auto a : algorithms) {
    if (a == ck::Algorithm::md5) continue;
    bool dup = false;
    for (auto& [b, h] : hashers_) dup = dup || b == a;
    if (!dup) hashers_.emplace_back(a, ck::Hasher(a));
  }
}

ObjectWriter::~ObjectWriter() { discard(); }

void ObjectWriter::discard() {
  if (kept_ || next_chunk_ == 0) return;
  store::WriteBatch batch(store_);
  batch.delete_range(store::Family::blobs, blob_key(blob_id_, 0), blob_key(blob_id_ + 1, 0));
  if (auto st = store_.write(batch); !st) spdlog::warn("s3: cannot drop blob {}: {}", blob_id_, st.message);
  else next_chunk_ = 0;
}

bool ObjectWriter::flush_chunk() {
  if (buf_.empty()) return true;
  store::WriteBatch batch(store_);
  batch.put(store::Family::blobs, blob_key(blob_id_, next_chunk_), buf_);
  ++next_chunk_;  // counted before the write, so the destructor cleans up a partial failure
  buf_.clear();
  return static_cast<bool>(store_.write(batch));
}

bool ObjectWriter::write(std::string_view data) {
  md5_.update(data);
  for (auto& [a, h] : hashers_) h.update(data);
  size_ += data.size();
  while (!data.empty()) {
    if (buf_.capacity() < kChunkBytes) {
      // The rest of the expected body, when it fits in this chunk (a larger body grows it).
      const uint64_t chunk_start = uint64_t(next_chunk_) * kChunkBytes;
      const uint64_t rest = size_hint_ > chunk_start ? size_hint_ - chunk_start : 0;
      const size_t want = rest && rest < kChunkBytes && buf_.size() + data.size() <= rest ? size_t(rest) : kChunkBytes;
      if (buf_.capacity() < want) buf_.reserve(want);
    }
    size_t take = std::min<size_t>(kChunkBytes - buf_.size(), data.size());
    buf_.append(data.data(), take);
    data.remove_prefix(take);
    if (buf_.size() == kChunkBytes && !flush_chunk()) {
      discard();
      return false;
    }
  }
  return true;
}

bool ObjectWriter::close(bool hold_last) {
  if (closed_) return true;
  closed_ = true;
  md5_raw_ = md5_.final();
  for (auto& [a, h] : hashers_) digests_.emplace_back(a, h.final());
  if (hold_last) return true;
  bool ok = flush_chunk();
  std::string().swap(buf_);
  if (!ok) discard();
  return ok;
}

void ObjectWriter::stage(store::WriteBatch& batch) {
  if (buf_.empty()) return;
  batch.put(store::Family::blobs, blob_key(blob_id_, next_chunk_), buf_);
  ++next_chunk_;  // if the batch is not written, the destructor's discard covers this chunk too
  std::string().swap(buf_);
}

std::vector<Segment> ObjectWriter::segments() const {
  if (size_ == 0) return {};
  return {Segment{blob_id_, size_}};
}

std::string ObjectWriter::digest(ck::Algorithm a) const {
  for (auto& [b, d] : digests_)
    if (a == b) return d;
  return {};
}

ObjectReader::ObjectReader(const store::Store& store, std::vector<Segment> segments, uint64_t begin, uint64_t end)
    : store_(store), segments_(std::move(segments)), pos_(begin), end_(end) {}

int64_t ObjectReader::read(char* buf, size_t cap) {
  size_t done = 0;
  while (done < cap && pos_ < end_) {
    // Locate pos_ in the segments.
    uint64_t seg_start = 0;
    const Segment* seg = nullptr;
    for (auto& s : segments_) {
      if (pos_ < seg_start + s.size) {
        seg = &s;
        break;
      }
      seg_start += s.size;
    }
    if (!seg) return -1;
    uint64_t off = pos_ - seg_start;
    uint32_t chunk = static_cast<uint32_t>(off / kChunkBytes);
    if (seg->blob_id != cached_blob_ || chunk != cached_chunk_) {
      auto v = store_.get(store::Family::blobs, blob_key(seg->blob_id, chunk));
      if (!v) {
        spdlog::warn("s3: blob {} chunk {} missing (object replaced while being read?)", seg->blob_id, chunk);
        return -1;
      }
      chunk_ = std::move(*v);
      cached_blob_ = seg->blob_id;
      cached_chunk_ = chunk;
    }
    uint64_t in_chunk = off % kChunkBytes;
    if (in_chunk >= chunk_.size()) return -1;
    uint64_t avail = std::min<uint64_t>({chunk_.size() - in_chunk, end_ - pos_, cap - done, seg->size - off});
    std::memcpy(buf + done, chunk_.data() + in_chunk, avail);
    done += avail;
    pos_ += avail;
  }
  return static_cast<int64_t>(done);
}

// ---- helpers ------------------------------------------------------------------------------

namespace {

// GetObject reads a body up to this size in one piece (the HTTP front end buffers a stream
// this small anyway).
constexpr uint64_t kSmallReadBytes = 64 * 1024;

constexpr std::string_view kContentHeaders[] = {"Content-Type", "Content-Encoding", "Content-Disposition",
                                                "Cache-Control", "Expires", "Content-Language",
                                                "x-amz-website-redirect-location"};

using wire::text::lower;

// Content headers and x-amz-meta-* of a request, as stored with the object.
void read_metadata(const http::Headers& h, Pairs& content, Pairs& user) {
  for (auto name : kContentHeaders) {
    if (!h.has(name)) continue;
    std::string v(h.get(name));
    if (name == "Content-Encoding") {
      // aws-chunked is the transfer framing, not the object's encoding.
      // A value without it is kept as sent ("deflate, gzip").
      std::string kept;
      bool framing = false;
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string part = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!part.empty() && part.front() == ' ') part.erase(0, 1);
        while (!part.empty() && part.back() == ' ') part.pop_back();
        if (lower(part) == "aws-chunked") framing = true;
        else if (!part.empty()) kept += (kept.empty() ? "" : ", ") + part;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (kept.empty()) continue;
      if (framing) v = kept;
    }
    content.emplace_back(std::string(name), v);
  }
  for (auto& [k, v] : h.items()) {
    std::string n = lower(k);
    if (n.rfind("x-amz-meta-", 0) == 0) user.emplace_back(n.substr(11), v);
  }
}

size_t metadata_size(const Pairs& user) {
  size_t n = 0;
  for (auto& [k, v] : user) n += k.size() + v.size();
  return n;
}

std::string new_upload_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string raw;
  for (int i = 0; i < 3; ++i) {
    uint64_t v = rng();
    raw.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  std::string id = wire::base64_encode(raw);
  for (auto& ch : id) {
    if (ch == '+') ch = '-';
    else if (ch == '/') ch = '_';
  }
  return id;
}

S3Error bad_checksum(ck::Algorithm a) {
  return err("BadDigest",
             "The " + std::string(ck::algorithm_name(a)) + " you specified did not match the calculated checksum.", 400);
}

// The checksum algorithm a request asks for: a x-amz-checksum-<alg> header, a declared
// trailer, or x-amz-sdk-checksum-algorithm / x-amz-checksum-algorithm.
struct ChecksumRequest {
  std::optional<ck::Algorithm> algorithm;
  std::string expected;  // base64 from the header; trailer values arrive later
  bool trailer = false;
  std::optional<S3Error> error;
};

ChecksumRequest checksum_request(const http::Headers& h) {
  ChecksumRequest r;
  int headers = 0;
  for (auto a : ck::kAllAlgorithms) {
    if (a == ck::Algorithm::md5) continue;
    if (!h.has(ck::header_name(a))) continue;
    ++headers;
    r.algorithm = a;
    r.expected = std::string(h.get(ck::header_name(a)));
    auto raw = wire::base64_decode(r.expected);
    if (!raw || raw->size() != ck::digest_size(a)) {
      r.error = err("InvalidRequest", "Value for " + std::string(ck::header_name(a)) + " header is invalid.", 400);
      return r;
    }
  }
  if (headers > 1) {
    r.error = err("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.", 400);
    return r;
  }
  if (!r.algorithm && h.has("x-amz-trailer")) {
    auto a = ck::algorithm_from_header(lower(h.get("x-amz-trailer")));
    if (!a || *a == ck::Algorithm::md5) {
      r.error = err("InvalidRequest", "The value specified in the x-amz-trailer header is not supported", 400);
      return r;
    }
    r.algorithm = a;
    r.trailer = true;
  }
  if (!r.algorithm) {
    std::string_view name = h.has("x-amz-sdk-checksum-algorithm") ? h.get("x-amz-sdk-checksum-algorithm")
                                                                  : h.get("x-amz-checksum-algorithm");
    if (!name.empty()) {
      auto a = ck::parse_algorithm(name);
      if (!a || *a == ck::Algorithm::md5) {
        r.error = invalid_argument("Value for x-amz-checksum-algorithm header is invalid.", "x-amz-checksum-algorithm",
                                   std::string(name));
        return r;
      }
      r.algorithm = a;
    }
  }
  return r;
}

std::optional<S3Error> check_content_md5(const http::Headers& h) {
  if (!h.has("Content-MD5")) return std::nullopt;
  auto md5 = wire::base64_decode(h.get("Content-MD5"));
  if (!md5 || md5->size() != 16)
    return err("InvalidDigest", "The Content-MD5 you specified was invalid.", 400,
               {{"Content-MD5", std::string(h.get("Content-MD5"))}});
  return std::nullopt;
}

}  // namespace

// ---- PutObject / UploadPart sink ----------------------------------------------------------

class ObjectSink final : public http::BodySink {
 public:
  // `attributes`: what put_object took from the request for a new object (its SSE, tags,
  // owner, content headers and user metadata), checked before the body arrived.
  ObjectSink(S3Service& svc, std::shared_ptr<Ctx> ctx, Bucket bucket, std::optional<Upload> upload, uint32_t part,
             ChecksumRequest checksum, std::optional<uint64_t> expected_size, bool chunked,
             std::optional<AwsChunkedDecoder::Signing> signing, ObjectMeta attributes)
      : svc_(svc),
        ctx_(std::move(ctx)),
        bucket_(std::move(bucket)),
        upload_(std::move(upload)),
        attributes_(std::move(attributes)),
        part_(part),
        checksum_(std::move(checksum)),
        expected_size_(expected_size),
        writer_(svc.store_, svc.next_blob_id(), algorithms()) {
    if (chunked) decoder_.emplace(std::move(signing));
    if (expected_size_) writer_.size_hint(*expected_size_);
    const std::string_view sha = ctx_->headers.get("x-amz-content-sha256");
    if (sha.size() == 64 && ck::from_hex(sha)) {
      payload_sha_.emplace(ck::Algorithm::sha256);
      expected_sha_ = ck::to_hex(*ck::from_hex(sha));
    }
  }

  std::optional<http::Response> write(std::string_view piece) override {
    if (decoder_) {
      auto e = decoder_->feed(piece, [this](std::string_view data) { consume(data); });
      if (e) return fail(err(e->code, e->message, e->status));
    } else {
      consume(piece);
    }
    if (error_) return fail(*error_);
    return std::nullopt;
  }

  http::Response finish() override {
    if (decoder_) {
      if (auto e = decoder_->finish()) return fail(err(e->code, e->message, e->status));
    }
    if (error_) return fail(*error_);
    if (expected_size_ && writer_.size() != *expected_size_)
      return fail(err("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header",
                      400));
    // The last chunk is written with the object's row or the part's (commit_object, commit_part).
    if (!writer_.close(true)) return fail(internal_error());
    if (payload_sha_ && payload_sha_->final_hex() != expected_sha_)
      return fail(err("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                      400, {{"ClientComputedContentSHA256", expected_sha_}}));
    const auto& h = ctx_->headers;
    if (h.has("Content-MD5")) {
      auto md5 = wire::base64_decode(h.get("Content-MD5"));
      if (*md5 != writer_.md5())
        return fail(err("BadDigest", "The Content-MD5 you specified did not match what we received.", 400,
                        {{"ExpectedDigest", ck::to_hex(*md5)}, {"CalculatedDigest", wire::base64_encode(writer_.md5())}}));
    }
    std::string checksum_b64;
    if (algorithm_) {
      checksum_b64 = wire::base64_encode(writer_.digest(*algorithm_));
      std::string expected = checksum_.expected;
      if (checksum_.trailer && decoder_) {
        for (auto& [name, value] : decoder_->trailers())
          if (ck::algorithm_from_header(name) == *algorithm_) expected = value;
        if (expected.empty())
          return fail(err("InvalidRequest", "x-amz-trailer " + std::string(ck::header_name(*algorithm_)) +
                                                " was declared but not sent", 400));
      }
      if (!expected.empty() && expected != checksum_b64) return fail(bad_checksum(*algorithm_));
    }
    // A trailer checksum without a declaring header is still checked.
    if (decoder_) {
      for (auto& [name, value] : decoder_->trailers()) {
        auto a = ck::algorithm_from_header(name);
        if (a && *a != ck::Algorithm::md5 && a != algorithm_) return fail(bad_checksum(*a));
      }
    }
    return upload_ ? commit_part(checksum_b64) : commit_object(checksum_b64);
  }

 private:
  std::vector<ck::Algorithm> algorithms() {
    if (upload_) {
      if (!upload_->checksum_algorithm.empty()) algorithm_ = ck::parse_algorithm(upload_->checksum_algorithm);
      if (checksum_.algorithm && algorithm_ && *checksum_.algorithm != *algorithm_) mismatch_ = true;
      if (!algorithm_) algorithm_ = checksum_.algorithm;
    } else {
      // S3 gives every new object a full-object checksum; CRC64NVME unless one was asked for.
      algorithm_ = checksum_.algorithm ? checksum_.algorithm : std::optional(ck::Algorithm::crc64nvme);
    }
    if (algorithm_) return {*algorithm_};
    return {};
  }

  void consume(std::string_view data) {
    if (error_) return;
    if (payload_sha_) payload_sha_->update(data);
    if (writer_.size() + data.size() > kMaxPutBytes) {
      error_ = err("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", 400,
                   {{"MaxSizeAllowed", std::to_string(kMaxPutBytes)}});
      return;
    }
    if (expected_size_ && writer_.size() + data.size() > *expected_size_) {
      error_ = err("IncompleteBody", "The request body is longer than x-amz-decoded-content-length", 400);
      return;
    }
    if (!writer_.write(data)) error_ = internal_error();
  }

  http::Response fail(const S3Error& e) {
    failed_ = true;
    return error_response(*ctx_, e);
  }

  http::Response commit_object(const std::string& checksum_b64) {
    ObjectMeta m = std::move(attributes_);
    m.size = writer_.size();
    m.etag = ck::to_hex(writer_.md5());
    m.mtime_ms = svc_.clock_.now_ms();
    m.segments = writer_.segments();
    m.acl = ctx_->headers.has("x-amz-acl") ? std::string(ctx_->headers.get("x-amz-acl")) : "private";
    if (algorithm_) {
      m.checksum_algorithm = std::string(ck::algorithm_name(*algorithm_));
      m.checksum_value = checksum_b64;
      m.checksum_type = "FULL_OBJECT";
    }
    if (ctx_->headers.has("x-amz-storage-class")) m.storage_class = std::string(ctx_->headers.get("x-amz-storage-class"));
    if (auto e = svc_.lock_from_request(*ctx_, bucket_, m)) return fail(*e);
    if (auto st = svc_.commit_object(bucket_, ctx_->key, m, ctx_.get(), &writer_); !st) {
      if (st.message == "NoSuchBucket") return fail(no_such_bucket(bucket_.name));
      if (auto e = svc_.write_conditions(*ctx_, bucket_.id)) return fail(*e);
      return fail(internal_error());
    }
    writer_.keep();
    http::Response res;
    res.headers.add("ETag", quote_etag(m.etag));
    if (!m.version_id.empty() && m.version_id != "null") res.headers.add("x-amz-version-id", m.version_id);
    sse::add_headers(m.sse, res.headers);
    if (algorithm_ && (checksum_.algorithm || ctx_->headers.has("x-amz-sdk-checksum-algorithm"))) {
      res.headers.add(std::string(ck::header_name(*algorithm_)), checksum_b64);
      res.headers.add("x-amz-checksum-type", "FULL_OBJECT");
    }
    res.content_length = 0;
    stamp(*ctx_, res);
    return res;
  }

  http::Response commit_part(const std::string& checksum_b64) {
    if (mismatch_)
      return fail(err("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: " +
                                            lower(upload_->checksum_algorithm) + ", actual checksum Type: " +
                                            lower(ck::algorithm_name(*checksum_.algorithm)), 400));
    Part p;
    p.number = part_;
    p.blob_id = writer_.blob_id();
    p.size = writer_.size();
    p.md5 = writer_.md5();
    p.etag = ck::to_hex(p.md5);
    p.mtime_ms = svc_.clock_.now_ms();
    p.checksum_value = checksum_b64;
    {
      std::lock_guard lk(svc_.commit_mu_);
      // The upload may have been completed or aborted while the part was arriving.
      if (!svc_.load_upload(upload_->id)) return fail(no_such_upload(upload_->id));
      store::WriteBatch batch(svc_.store_, writer_.held_bytes() + 512);
      writer_.stage(batch);
      const std::string k = part_key(upload_->id, part_);
      if (auto old = svc_.store_.get(store::Family::meta, k))
        if (auto op = decode_part(*old); op && op->size > 0) svc_.delete_blobs(batch, {Segment{op->blob_id, op->size}});
      batch.put(store::Family::meta, k, encode(p));
      if (!svc_.store_.write(batch)) return fail(internal_error());
    }
    writer_.keep();
    http::Response res;
    res.headers.add("ETag", quote_etag(p.etag));
    sse::add_headers(upload_->sse, res.headers);
    if (algorithm_) res.headers.add(std::string(ck::header_name(*algorithm_)), checksum_b64);
    res.content_length = 0;
    stamp(*ctx_, res);
    return res;
  }

  S3Service& svc_;
  std::shared_ptr<Ctx> ctx_;
  Bucket bucket_;
  std::optional<Upload> upload_;
  ObjectMeta attributes_;
  uint32_t part_;
  ChecksumRequest checksum_;
  std::optional<uint64_t> expected_size_;
  std::optional<ck::Algorithm> algorithm_;
  bool mismatch_ = false;
  ObjectWriter writer_;
  std::optional<AwsChunkedDecoder> decoder_;
  std::optional<ck::Hasher> payload_sha_;
  std::string expected_sha_;
  std::optional<S3Error> error_;
  bool failed_ = false;
};

http::Dispatch S3Service::put_object(std::shared_ptr<Ctx> ctx, http::Request& req, bool part, bool form) {
  Ctx& c = *ctx;
  auto fail = [&](const S3Error& e) { return http::Dispatch{http::Immediate{error_response(c, e)}}; };
  auto b = find_bucket(c.bucket);
  if (!b) return fail(no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return fail(access_denied());

  std::optional<Upload> upload;
  uint32_t part_number = 0;
  ObjectMeta attributes;
  if (part) {
    const std::string pn = c.q("partNumber");
    const auto n = parse_int(pn, 1, kMaxPartNumber);
    if (!n) return fail(invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", pn));
    part_number = static_cast<uint32_t>(*n);
    upload = load_upload(c.q("uploadId"));
    if (!upload || upload->bucket != c.bucket || upload->key != c.key) return fail(no_such_upload(c.q("uploadId")));
    if (auto e = sse::for_part(c.headers, upload->sse)) return fail(*e);
  } else {
    // Taken once, here, and kept for the commit (the bucket is the one found above either way).
    if (auto e = write_attributes(c, *b, attributes.sse, attributes.tags, attributes.owner, attributes.owner_name))
      return fail(*e);
    if (c.headers.has("x-amz-acl") && !valid_canned_acl(c.headers.get("x-amz-acl")))
      return fail(invalid_argument("", "x-amz-acl", std::string(c.headers.get("x-amz-acl"))));
    read_metadata(c.headers, attributes.content, attributes.user);
    if (metadata_size(attributes.user) > 2048)
      return fail(err("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", 400,
                      {{"Size", std::to_string(metadata_size(attributes.user))}, {"MaxSizeAllowed", "2048"}}));
    ObjectMeta probe;
    if (auto e = lock_from_request(c, *b, probe)) return fail(*e);
  }
  // Conditional writes: checked when the request arrives and again at commit.
  if (!part)
    if (auto e = write_conditions(c, b->id)) return fail(*e);
  if (auto e = check_content_md5(c.headers)) return fail(*e);
  ChecksumRequest checksum = checksum_request(c.headers);
  if (checksum.error) return fail(*checksum.error);

  // aws-chunked framing: a STREAMING-* payload hash, or Content-Encoding naming aws-chunked with
  // the decoded length S3 requires of it (a plain body whose Content-Encoding merely names
  // aws-chunked is stored as it is, without that token).
  const bool chunked = !form && (c.headers.get("x-amz-content-sha256").rfind("STREAMING-", 0) == 0 ||
                                 (c.headers.get("Content-Encoding").find("aws-chunked") != std::string_view::npos &&
                                  c.headers.has("x-amz-decoded-content-length")));
  std::optional<uint64_t> expected;
  auto parse_len = [](std::string_view v) -> std::optional<uint64_t> {
    if (v.empty() || v.size() > 19) return std::nullopt;
    uint64_t n = 0;
    for (char ch : v) {
      if (ch < '0' || ch > '9') return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(ch - '0');
    }
    return n;
  };
  if (chunked) {
    if (c.headers.has("x-amz-decoded-content-length")) {
      expected = parse_len(c.headers.get("x-amz-decoded-content-length"));
      if (!expected)
        return fail(invalid_argument("x-amz-decoded-content-length is not a number", "x-amz-decoded-content-length",
                                     std::string(c.headers.get("x-amz-decoded-content-length"))));
    }
  } else if (form) {
    // A form's file part ends where its delimiter is: no length to check it against.
  } else if (c.headers.has("Content-Length")) {
    expected = parse_len(c.headers.get("Content-Length"));
  } else if (!http::iequals(c.headers.get("Transfer-Encoding"), "chunked")) {
    return fail(err("MissingContentLength", "You must provide the Content-Length HTTP header.", 411));
  }
  if (expected && *expected > kMaxPutBytes)
    return fail(err("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", 400,
                    {{"ProposedSize", std::to_string(*expected)}, {"MaxSizeAllowed", std::to_string(kMaxPutBytes)}}));
  std::optional<AwsChunkedDecoder::Signing> signing;
  if (chunked && c.auth.verify_chunks && c.auth.signing_key.size() == 32) {
    AwsChunkedDecoder::Signing s;
    std::copy(c.auth.signing_key.begin(), c.auth.signing_key.end(), s.key.begin());
    s.amz_date = c.auth.amz_date;
    s.scope = c.auth.scope;
    s.seed_signature = c.auth.seed_signature;
    signing = std::move(s);
  }
  (void)req;
  return http::StreamBody{std::make_unique<ObjectSink>(*this, ctx, *b, std::move(upload), part_number,
                                                       std::move(checksum), expected, chunked, std::move(signing),
                                                       std::move(attributes))};
}

// ---- GetObject / HeadObject ---------------------------------------------------------------

bool etag_matches(std::string_view header, const std::string& etag) {
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    std::string_view item = header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string e = unquote_etag(item);
    if (e.rfind("W/", 0) == 0) e = unquote_etag(e.substr(2));
    if (e == "*" || e == etag) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

std::optional<S3Error> S3Service::write_conditions(const Ctx& c, uint32_t bucket_id) const {
  if (!c.headers.has("If-Match") && !c.headers.has("If-None-Match")) return std::nullopt;
  // Conditional writes: checked against the current object.
  auto existing = load_object(bucket_id, c.key);
  if (c.headers.has("If-Match")) {
    if (!existing) return no_such_key(c.key);
    if (!etag_matches(c.headers.get("If-Match"), existing->etag))
      return err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                 {{"Condition", "If-Match"}});
  }
  if (c.headers.has("If-None-Match") && existing && etag_matches(c.headers.get("If-None-Match"), existing->etag))
    return err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
               {{"Condition", "If-None-Match"}});
  return std::nullopt;
}

namespace {

std::optional<int64_t> http_time_ms(std::string_view v) {
  auto t = wire::sigv4::parse_http_date(v);
  if (!t) {
    // ISO-8601 forms some clients send.
    auto a = wire::sigv4::parse_amz_date(v);
    if (!a) return std::nullopt;
    t = a;
  }
  return static_cast<int64_t>(t->time_since_epoch().count()) * 1000;
}

// 0: go on; 304 or 412: the condition failed. RFC 7232 section 6 order, as S3 applies it.
int evaluate_conditions(const http::Headers& h, const ObjectMeta& m, const char* prefix, std::string* failed) {
  auto name = [&](const char* n) { return std::string(prefix) + n; };
  const int64_t mtime_s = m.mtime_ms / 1000;
  bool if_match_ok = false;
  if (h.has(name("If-Match"))) {
    if (!etag_matches(h.get(name("If-Match")), m.etag)) {
      *failed = "If-Match";
      return 412;
    }
    if_match_ok = true;
  } else if (h.has(name("If-Unmodified-Since"))) {
    auto t = http_time_ms(h.get(name("If-Unmodified-Since")));
    if (t && mtime_s > *t / 1000) {
      *failed = "If-Unmodified-Since";
      return 412;
    }
  }
  (void)if_match_ok;
  const bool copy = std::string_view(prefix).size() > 0;
  if (h.has(name("If-None-Match"))) {
    if (etag_matches(h.get(name("If-None-Match")), m.etag)) {
      *failed = "If-None-Match";
      return copy ? 412 : 304;
    }
  } else if (h.has(name("If-Modified-Since"))) {
    auto t = http_time_ms(h.get(name("If-Modified-Since")));
    if (t && mtime_s <= *t / 1000) {
      *failed = "If-Modified-Since";
      return copy ? 412 : 304;
    }
  }
  return 0;
}

// Parses "bytes=a-b", "bytes=a-", "bytes=-n". nullopt: not a single byte range (ignored as
// S3 ignores it); {-1,-1}: unsatisfiable.
std::optional<std::pair<int64_t, int64_t>> parse_range(std::string_view v, uint64_t size) {
  constexpr std::string_view kBytes = "bytes=";
  if (v.rfind(kBytes, 0) != 0) return std::nullopt;
  v.remove_prefix(kBytes.size());
  if (v.find(',') != std::string_view::npos) return std::nullopt;
  auto dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t n = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(ch - '0');
    }
    return n;
  };
  std::string_view a = v.substr(0, dash), b = v.substr(dash + 1);
  if (a.empty()) {
    auto n = num(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return std::pair<int64_t, int64_t>{-1, -1};
    uint64_t len = std::min<uint64_t>(*n, size);
    return std::pair<int64_t, int64_t>{static_cast<int64_t>(size - len), static_cast<int64_t>(size - 1)};
  }
  auto first = num(a);
  if (!first) return std::nullopt;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = num(b);
    if (!l || *l < *first) return std::nullopt;
    last = std::min<uint64_t>(*l, last);
  }
  if (*first >= size) return std::pair<int64_t, int64_t>{-1, -1};
  return std::pair<int64_t, int64_t>{static_cast<int64_t>(*first), static_cast<int64_t>(last)};
}

}  // namespace

http::Response S3Service::get_object(Ctx& c, bool head) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  http::Response refusal;
  auto m = read_version(c, *b, &refusal);
  if (!m) return refusal;
  if (auto e = sse::for_read(c.headers, m->sse, false)) return error_response(c, *e);

  std::string failed;
  int cond = evaluate_conditions(c.headers, *m, "", &failed);
  if (cond == 412)
    return error_response(c, err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                                 {{"Condition", failed}}));
  if (cond == 304) {
    http::Response res;
    res.status = 304;
    res.headers.add("ETag", quote_etag(m->etag));
    res.headers.add("Last-Modified", http_date(m->mtime_ms));
    stamp(c, res);
    return res;
  }

  uint64_t begin = 0, end = m->size;  // [begin, end)
  bool partial = false;
  std::string content_range;
  if (c.has("partNumber")) {
    const std::string pn = c.q("partNumber");
    const auto n = parse_int(pn, 1, kMaxPartNumber);
    if (!n)
      return error_response(c, invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", pn));
    uint32_t parts = m->parts ? m->parts : 1;
    if (!m->parts && *n > 1)
      return error_response(c, err("InvalidPart", "The requested partnumber is not satisfiable", 400,
                                   {{"PartNumberRequested", pn}, {"ActualPartCount", "1"}}));
    if (static_cast<uint32_t>(*n) > parts)
      return error_response(c, err("InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
                                   {{"PartNumberRequested", pn}, {"ActualPartCount", std::to_string(parts)}}));
    if (m->parts) {
      uint64_t off = 0;
      for (long i = 0; i < *n - 1; ++i) off += m->segments[static_cast<size_t>(i)].size;
      begin = off;
      end = off + m->segments[static_cast<size_t>(*n - 1)].size;
      partial = true;
    }
  } else if (c.headers.has("Range")) {
    auto r = parse_range(c.headers.get("Range"), m->size);
    if (r && r->first < 0)
      return error_response(c, err("InvalidRange", "The requested range is not satisfiable", 416,
                                   {{"RangeRequested", std::string(c.headers.get("Range"))},
                                    {"ActualObjectSize", std::to_string(m->size)}}));
    if (r) {
      begin = static_cast<uint64_t>(r->first);
      end = static_cast<uint64_t>(r->second) + 1;
      partial = true;
    }
  }
  if (partial && (begin != 0 || end != m->size || c.headers.has("Range") || c.has("partNumber")))
    content_range = "bytes " + std::to_string(begin) + "-" + std::to_string(end == 0 ? 0 : end - 1) + "/" +
                    std::to_string(m->size);

  http::Response res;
  res.status = partial ? 206 : 200;
  if (partial && m->size == 0) res.status = 200;
  stamp(c, res);
  bool has_type = false;
  for (auto& [k, v] : m->content) {
    has_type = has_type || k == "Content-Type";
    res.headers.add(k, v);
  }
  if (!has_type) res.headers.add("Content-Type", "binary/octet-stream");
  for (auto& [k, v] : m->user) res.headers.add("x-amz-meta-" + k, v);
  res.headers.add("ETag", quote_etag(m->etag));
  res.headers.add("Last-Modified", http_date(m->mtime_ms));
  res.headers.add("Accept-Ranges", "bytes");
  if (!m->version_id.empty() || !b->versioning.empty())
    res.headers.add("x-amz-version-id", m->version_id.empty() ? "null" : m->version_id);
  add_lock_headers(*m, res);
  if (m->storage_class != "STANDARD") res.headers.add("x-amz-storage-class", m->storage_class);
  sse::add_headers(m->sse, res.headers);
  if (!m->tags.empty()) res.headers.add("x-amz-tagging-count", std::to_string(m->tags.size()));
  if (!content_range.empty()) res.headers.add("Content-Range", content_range);
  if (c.has("partNumber")) res.headers.add("x-amz-mp-parts-count", std::to_string(m->parts ? m->parts : 1));
  // Checksums describe the whole object, so only full-object reads return them.
  if (http::iequals(c.headers.get("x-amz-checksum-mode"), "ENABLED") && !m->checksum_algorithm.empty() && !partial) {
    if (auto a = ck::parse_algorithm(m->checksum_algorithm)) {
      res.headers.add(std::string(ck::header_name(*a)), m->checksum_value);
      res.headers.add("x-amz-checksum-type", m->checksum_type.empty() ? "FULL_OBJECT" : m->checksum_type);
    }
  }
  static const std::pair<const char*, const char*> kOverrides[] = {
      {"response-content-type", "Content-Type"},         {"response-content-language", "Content-Language"},
      {"response-expires", "Expires"},                   {"response-cache-control", "Cache-Control"},
      {"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"}};
  for (auto& [param, header] : kOverrides) {
    if (!c.has(param)) continue;
    if (c.anonymous)
      return error_response(c, err("InvalidRequest",
                                   "Request specific response headers cannot be used for anonymous GET requests.", 400));
    res.headers.set(header, c.q(param));
  }
  res.content_length = end - begin;
  if (!head && end > begin) {
    // A small object in one chunk is read straight into the body (one read, no stream to
    // copy out of); anything else streams chunk by chunk.
    if (m->segments.size() == 1 && end - begin <= kSmallReadBytes && end <= kChunkBytes) {
      std::string chunk;
      bool found = false;
      if (store_.get(store::Family::blobs, blob_key(m->segments[0].blob_id, 0), &chunk, &found) && found &&
          chunk.size() >= end) {
        if (begin == 0 && end == chunk.size()) res.body = std::move(chunk);
        else res.body.assign(chunk, begin, end - begin);
        res.content_length.reset();
        return res;
      }
    }
    res.stream = std::make_unique<ObjectReader>(store_, m->segments, begin, end);
  }
  return res;
}

http::Response S3Service::delete_object(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return error_response(c, access_denied());
  const std::string version = c.q("versionId");
  DeleteConditions cond;
  const bool conditional = c.headers.has("If-Match") || c.headers.has("x-amz-if-match-last-modified-time") ||
                           c.headers.has("x-amz-if-match-size");
  if (conditional) {
    cond.etag = std::string(c.headers.get("If-Match"));
    if (c.headers.has("x-amz-if-match-last-modified-time")) {
      cond.mtime_ms = http_time_ms(c.headers.get("x-amz-if-match-last-modified-time"));
      if (!cond.mtime_ms)
        return error_response(c, invalid_argument("Invalid x-amz-if-match-last-modified-time", "x-amz-if-match-last-modified-time",
                                                  std::string(c.headers.get("x-amz-if-match-last-modified-time"))));
    }
    if (c.headers.has("x-amz-if-match-size")) {
      const std::string v(c.headers.get("x-amz-if-match-size"));
      char* e = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &e, 10);
      if (v.empty() || *e != '\0')
        return error_response(c, invalid_argument("Invalid x-amz-if-match-size", "x-amz-if-match-size", v));
      cond.size = n;
    }
  }
  Deleted done;
  if (auto e = delete_key(c, *b, c.key, c.has("versionId") ? &version : nullptr, &done, conditional ? &cond : nullptr))
    return error_response(c, *e);
  http::Response res;
  res.status = 204;
  if (done.delete_marker) res.headers.add("x-amz-delete-marker", "true");
  if (!done.version_id.empty()) res.headers.add("x-amz-version-id", done.version_id);
  stamp(c, res);
  return res;
}

// ---- CopyObject / UploadPartCopy ----------------------------------------------------------

std::optional<S3Error> S3Service::copy_range(const ObjectMeta& src, uint64_t begin, uint64_t end, ObjectWriter& out) {
  ObjectReader reader(store_, src.segments, begin, end);
  std::string buf(kChunkBytes, '\0');
  for (;;) {
    int64_t n = reader.read(buf.data(), buf.size());
    if (n < 0) return internal_error();
    if (n == 0) break;
    if (!out.write(std::string_view(buf.data(), static_cast<size_t>(n)))) return internal_error();
  }
  if (!out.close()) return internal_error();
  return std::nullopt;
}

http::Response S3Service::copy_object(Ctx& c, bool part) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return error_response(c, access_denied());
  std::string source = wire::sigv4::uri_decode(c.headers.get("x-amz-copy-source"), false);
  std::string src_version;
  bool by_version = false;
  if (auto q = source.find("?versionId="); q != std::string::npos) {
    by_version = true;
    src_version = source.substr(q + 11);
    source.resize(q);
  }
  if (!source.empty() && source.front() == '/') source.erase(0, 1);
  auto slash = source.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == source.size())
    return error_response(c, invalid_argument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                                              "x-amz-copy-source", std::string(c.headers.get("x-amz-copy-source"))));
  const std::string src_bucket = source.substr(0, slash), src_key = source.substr(slash + 1);
  auto sb = find_bucket(src_bucket);
  if (!sb) return error_response(c, no_such_bucket(src_bucket));
  std::optional<ObjectMeta> src_marker;
  auto src = addressed_version(sb->id, src_key, by_version ? &src_version : nullptr, &src_marker);
  if (!src && !bucket_allows(c, *sb, Perm::read)) return error_response(c, access_denied());
  if (src && !object_allows(c, *sb, *src, Perm::read)) return error_response(c, access_denied());
  if (src_marker && by_version)
    return error_response(c, err("InvalidRequest",
                                 "The source of a copy request may not specifically refer to a delete marker by version id.",
                                 400));
  if (!src && by_version)
    return error_response(c, err("NoSuchVersion", "The specified version does not exist.", 404,
                                 {{"Key", src_key}, {"VersionId", src_version}}));
  if (!src) return error_response(c, no_such_key(src_key));
  if (auto e = sse::for_read(c.headers, src->sse, true)) return error_response(c, *e);
  std::string failed;
  if (evaluate_conditions(c.headers, *src, "x-amz-copy-source-", &failed))
    return error_response(c, err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                                 {{"Condition", "x-amz-copy-source-" + failed}}));

  if (part) {
    const std::string pn = c.q("partNumber");
    const auto n = parse_int(pn, 1, kMaxPartNumber);
    if (!n)
      return error_response(c, invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", pn));
    auto upload = load_upload(c.q("uploadId"));
    if (!upload || upload->bucket != c.bucket || upload->key != c.key) return error_response(c, no_such_upload(c.q("uploadId")));
    if (auto e2 = sse::for_part(c.headers, upload->sse)) return error_response(c, *e2);
    uint64_t begin = 0, end = src->size;
    if (c.headers.has("x-amz-copy-source-range")) {
      std::string_view rv = c.headers.get("x-amz-copy-source-range");
      // Only an explicit "bytes=first-last" inside the source object is allowed here.
      std::optional<std::pair<uint64_t, uint64_t>> r;
      if (rv.rfind("bytes=", 0) == 0) {
        std::string_view spec = rv.substr(6);
        auto dash = spec.find('-');
        auto num = [](std::string_view s) -> std::optional<uint64_t> {
          if (s.empty() || s.size() > 19) return std::nullopt;
          uint64_t n = 0;
          for (char ch : s) {
            if (ch < '0' || ch > '9') return std::nullopt;
            n = n * 10 + static_cast<uint64_t>(ch - '0');
          }
          return n;
        };
        if (dash != std::string_view::npos) {
          auto first = num(spec.substr(0, dash)), last = num(spec.substr(dash + 1));
          if (first && last && *first <= *last && *last >= src->size)
            return error_response(c, err("InvalidRange", "The requested range is not satisfiable", 416,
                                         {{"RangeRequested", std::string(rv)},
                                          {"ActualObjectSize", std::to_string(src->size)}}));
          if (first && last && *first <= *last) r.emplace(*first, *last);
        }
      }
      if (!r)
        return error_response(c, invalid_argument("Range specified is not valid for source object of size: " +
                                                      std::to_string(src->size),
                                                  "x-amz-copy-source-range", std::string(rv)));
      begin = static_cast<uint64_t>(r->first);
      end = static_cast<uint64_t>(r->second) + 1;
    }
    std::vector<ck::Algorithm> algs;
    auto alg = upload->checksum_algorithm.empty() ? std::nullopt : ck::parse_algorithm(upload->checksum_algorithm);
    if (alg) algs.push_back(*alg);
    ObjectWriter w(store_, next_blob_id(), algs);
    if (auto e2 = copy_range(*src, begin, end, w)) return error_response(c, *e2);
    Part p;
    p.number = static_cast<uint32_t>(*n);
    p.blob_id = w.blob_id();
    p.size = w.size();
    p.md5 = w.md5();
    p.etag = ck::to_hex(p.md5);
    p.mtime_ms = clock_.now_ms();
    if (alg) p.checksum_value = wire::base64_encode(w.digest(*alg));
    {
      std::lock_guard lk(commit_mu_);
      if (!load_upload(upload->id)) return error_response(c, no_such_upload(upload->id));
      store::WriteBatch batch(store_);
      const std::string k = part_key(upload->id, p.number);
      if (auto old = store_.get(store::Family::meta, k))
        if (auto op = decode_part(*old); op && op->size > 0) delete_blobs(batch, {Segment{op->blob_id, op->size}});
      batch.put(store::Family::meta, k, encode(p));
      if (!store_.write(batch)) return error_response(c, internal_error());
    }
    w.keep();
    XmlOut x("CopyPartResult");
    XmlOut::add(x.root(), "LastModified", iso8601(p.mtime_ms));
    XmlOut::add(x.root(), "ETag", quote_etag(p.etag));
    if (alg) XmlOut::add(x.root(), std::string(ck::xml_element_name(*alg)).c_str(), p.checksum_value);
    auto res = xml_response(c, 200, x.str());
    sse::add_headers(upload->sse, res.headers);
    return res;
  }

  const std::string directive = c.headers.has("x-amz-metadata-directive")
                                    ? std::string(c.headers.get("x-amz-metadata-directive")) : "COPY";
  if (directive != "COPY" && directive != "REPLACE")
    return error_response(c, invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive));
  if (c.headers.has("x-amz-acl") && !valid_canned_acl(c.headers.get("x-amz-acl")))
    return error_response(c, invalid_argument("", "x-amz-acl", std::string(c.headers.get("x-amz-acl"))));
  ChecksumRequest cr = checksum_request(c.headers);
  if (cr.error) return error_response(c, *cr.error);
  const bool same = src_bucket == c.bucket && src_key == c.key;
  if (same && directive == "COPY" && !c.headers.has("x-amz-storage-class") && !cr.algorithm &&
      !c.headers.has("x-amz-server-side-encryption") && !c.headers.has("x-amz-website-redirect-location") &&
      !c.headers.has("x-amz-server-side-encryption-customer-algorithm"))
    return error_response(c, err("InvalidRequest",
                                 "This copy request is illegal because it is trying to copy an object to itself without "
                                 "changing the object's metadata, storage class, website redirect location or encryption "
                                 "attributes.",
                                 400));
  std::optional<ck::Algorithm> alg = cr.algorithm;
  if (!alg && !src->checksum_algorithm.empty()) alg = ck::parse_algorithm(src->checksum_algorithm);
  if (!alg) alg = ck::Algorithm::crc64nvme;
  ObjectMeta m;
  if (auto e = write_attributes(c, *b, m.sse, m.tags, m.owner, m.owner_name, &src->tags)) return error_response(c, *e);
  if (directive == "COPY") {
    m.content = src->content;
    m.user = src->user;
  } else {
    read_metadata(c.headers, m.content, m.user);
  }
  ObjectWriter w(store_, next_blob_id(), {*alg});
  if (auto e = copy_range(*src, 0, src->size, w)) return error_response(c, *e);
  m.size = w.size();
  m.etag = ck::to_hex(w.md5());
  m.mtime_ms = clock_.now_ms();
  m.segments = w.segments();
  m.acl = c.headers.has("x-amz-acl") ? std::string(c.headers.get("x-amz-acl")) : "private";
  m.checksum_algorithm = std::string(ck::algorithm_name(*alg));
  m.checksum_value = wire::base64_encode(w.digest(*alg));
  m.checksum_type = "FULL_OBJECT";
  m.storage_class = c.headers.has("x-amz-storage-class") ? std::string(c.headers.get("x-amz-storage-class")) : "STANDARD";
  if (auto e = lock_from_request(c, *b, m)) return error_response(c, *e);
  if (auto st = commit_object(*b, c.key, m, &c); !st) {
    if (st.message == "NoSuchBucket") return error_response(c, no_such_bucket(c.bucket));
    if (auto e = write_conditions(c, b->id)) return error_response(c, *e);
    return error_response(c, internal_error());
  }
  w.keep();
  XmlOut x("CopyObjectResult");
  XmlOut::add(x.root(), "LastModified", iso8601(m.mtime_ms));
  XmlOut::add(x.root(), "ETag", quote_etag(m.etag));
  XmlOut::add(x.root(), "ChecksumType", m.checksum_type);
  XmlOut::add(x.root(), std::string(ck::xml_element_name(*alg)).c_str(), m.checksum_value);
  auto res = xml_response(c, 200, x.str());
  if (!src->version_id.empty() || !sb->versioning.empty())
    res.headers.add("x-amz-copy-source-version-id", src->version_id.empty() ? "null" : src->version_id);
  if (!m.version_id.empty() && m.version_id != "null") res.headers.add("x-amz-version-id", m.version_id);
  sse::add_headers(m.sse, res.headers);
  return res;
}

// ---- multipart ----------------------------------------------------------------------------

http::Response S3Service::create_multipart(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return error_response(c, access_denied());
  if (c.headers.has("x-amz-acl") && !valid_canned_acl(c.headers.get("x-amz-acl")))
    return error_response(c, invalid_argument("", "x-amz-acl", std::string(c.headers.get("x-amz-acl"))));
  Upload u;
  u.id = new_upload_id();
  u.bucket = c.bucket;
  u.key = c.key;
  u.initiated_ms = clock_.now_ms();
  read_metadata(c.headers, u.content, u.user);
  if (metadata_size(u.user) > 2048)
    return error_response(c, err("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", 400));
  u.acl = c.headers.has("x-amz-acl") ? std::string(c.headers.get("x-amz-acl")) : "private";
  u.owner = c.new_owner();
  u.owner_name = c.new_owner_name();
  if (c.headers.has("x-amz-storage-class")) u.storage_class = std::string(c.headers.get("x-amz-storage-class"));
  if (auto e = write_attributes(c, *b, u.sse, u.tags, u.owner, u.owner_name)) return error_response(c, *e);
  {
    // Explicit lock headers hold for the completed object (a default retention is applied then).
    ObjectMeta lock;
    if (auto e = lock_from_request(c, *b, lock)) return error_response(c, *e);
    if (c.headers.has("x-amz-object-lock-mode")) {
      u.lock_mode = lock.lock_mode;
      u.lock_until_ms = lock.lock_until_ms;
    }
    u.legal_hold = lock.legal_hold;
  }
  std::string_view alg_name = c.headers.get("x-amz-checksum-algorithm");
  if (!alg_name.empty()) {
    auto a = ck::parse_algorithm(alg_name);
    if (!a || *a == ck::Algorithm::md5)
      return error_response(c, invalid_argument("Checksum algorithm provided is unsupported. Please try again with any of the "
                                                "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                                                "x-amz-checksum-algorithm", std::string(alg_name)));
    u.checksum_algorithm = std::string(ck::algorithm_name(*a));
    std::string type = c.headers.has("x-amz-checksum-type") ? std::string(c.headers.get("x-amz-checksum-type")) : "";
    if (type.empty()) type = *a == ck::Algorithm::crc64nvme ? "FULL_OBJECT" : "COMPOSITE";
    const bool crc = *a == ck::Algorithm::crc32 || *a == ck::Algorithm::crc32c || *a == ck::Algorithm::crc64nvme;
    if ((type != "FULL_OBJECT" && type != "COMPOSITE") || (type == "FULL_OBJECT" && !crc) ||
        (type == "COMPOSITE" && *a == ck::Algorithm::crc64nvme))
      return error_response(c, err("InvalidRequest", "The " + u.checksum_algorithm + " checksum algorithm does not support the " +
                                                         type + " checksum type.", 400));
    u.checksum_type = type;
  }
  store::WriteBatch batch(store_);
  batch.put(store::Family::meta, upload_key(u.id), encode(u));
  if (!store_.write(batch)) return error_response(c, internal_error());
  XmlOut x("InitiateMultipartUploadResult");
  XmlOut::add(x.root(), "Bucket", c.bucket);
  XmlOut::add(x.root(), "Key", c.key);
  XmlOut::add(x.root(), "UploadId", u.id);
  auto res = xml_response(c, 200, x.str());
  sse::add_headers(u.sse, res.headers);
  if (!u.checksum_algorithm.empty()) {
    res.headers.add("x-amz-checksum-algorithm", u.checksum_algorithm);
    res.headers.add("x-amz-checksum-type", u.checksum_type);
  }
  return res;
}

namespace {

std::vector<Part> load_parts(const store::Store& store, const std::string& upload_id) {
  std::vector<Part> parts;
  std::string lo = "u/" + upload_id + "/";
  auto it = store.iterate(store::Family::meta, lo, prefix_successor(lo));
  for (it->seek(lo); it->valid(); it->next())
    if (auto p = decode_part(it->value())) parts.push_back(std::move(*p));
  return parts;
}

}  // namespace

http::Response S3Service::complete_multipart(Ctx& c, const std::string& body) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return error_response(c, access_denied());
  const std::string upload_id = c.q("uploadId");
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), kXmlParse)) return error_response(c, malformed_xml());
  auto root = doc.document_element();
  if (local_name(root.name()) != "CompleteMultipartUpload") return error_response(c, malformed_xml());
  struct Wanted {
    uint32_t number;
    std::string etag;
    std::string checksum;
  };
  std::vector<Wanted> wanted;
  for (auto p : children(root, "Part")) {
    const auto n = parse_int(child_text(p, "PartNumber"), 1, kMaxPartNumber);
    if (!n) return error_response(c, malformed_xml());
    Wanted w{static_cast<uint32_t>(*n), unquote_etag(child_text(p, "ETag")), {}};
    for (auto a : ck::kAllAlgorithms)
      if (a != ck::Algorithm::md5) {
        std::string v = child_text(p, ck::xml_element_name(a));
        if (!v.empty()) w.checksum = v;
      }
    wanted.push_back(std::move(w));
  }
  if (wanted.empty())
    return error_response(c, err("MalformedXML",
                                 "The XML you provided was not well-formed or did not validate against our published schema",
                                 400));
  std::lock_guard lk(commit_mu_);
  if (auto now = find_bucket(c.bucket); !now || now->id != b->id) return error_response(c, no_such_bucket(c.bucket));
  auto upload = load_upload(upload_id);
  if (!upload || upload->bucket != c.bucket || upload->key != c.key) {
    // A repeated Complete of an upload that built the current object succeeds again, as in S3.
    auto done = load_object(b->id, c.key);
    if (done && done->parts == wanted.size() && done->etag.size() > 2 &&
        done->etag.substr(done->etag.rfind('-') + 1) == std::to_string(wanted.size())) {
      XmlOut x("CompleteMultipartUploadResult");
      XmlOut::add(x.root(), "Location", "http://" + (c.host.empty() ? std::string("localhost") : c.host) + "/" +
                                            (c.virtual_host ? "" : c.bucket + "/") + url_encode_key(c.key));
      XmlOut::add(x.root(), "Bucket", c.bucket);
      XmlOut::add(x.root(), "Key", c.key);
      XmlOut::add(x.root(), "ETag", quote_etag(done->etag));
      return xml_response(c, 200, x.str());
    }
    return error_response(c, no_such_upload(upload_id));
  }
  if (auto e = write_conditions(c, b->id)) return error_response(c, *e);
  auto stored = load_parts(store_, upload_id);
  std::map<uint32_t, const Part*> by_number;
  for (auto& p : stored) by_number[p.number] = &p;

  for (size_t i = 1; i < wanted.size(); ++i)
    if (wanted[i].number <= wanted[i - 1].number)
      return error_response(c, err("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.",
                                   400, {{"UploadId", upload_id}}));
  const std::string invalid_part_msg =
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified "
      "entity tag may not match the part's entity tag.";
  std::vector<const Part*> chosen;
  for (size_t i = 0; i < wanted.size(); ++i) {
    auto it = by_number.find(wanted[i].number);
    if (it == by_number.end() || it->second->etag != wanted[i].etag)
      return error_response(c, err("InvalidPart", invalid_part_msg, 400,
                                   {{"UploadId", upload_id}, {"PartNumber", std::to_string(wanted[i].number)},
                                    {"ETag", wanted[i].etag}}));
    if (!wanted[i].checksum.empty() && !it->second->checksum_value.empty() && wanted[i].checksum != it->second->checksum_value)
      return error_response(c, err("InvalidPart", invalid_part_msg, 400,
                                   {{"UploadId", upload_id}, {"PartNumber", std::to_string(wanted[i].number)},
                                    {"ETag", wanted[i].etag}}));
    chosen.push_back(it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i)
    if (chosen[i]->size < kMinPartBytes)
      return error_response(c, err("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", 400,
                                   {{"ProposedSize", std::to_string(chosen[i]->size)},
                                    {"MinSizeAllowed", std::to_string(kMinPartBytes)},
                                    {"PartNumber", std::to_string(chosen[i]->number)},
                                    {"ETag", chosen[i]->etag}}));

  ObjectMeta m;
  std::string md5s;
  for (auto* p : chosen) {
    md5s += p->md5;
    m.size += p->size;
    if (p->size > 0) m.segments.push_back(Segment{p->blob_id, p->size});
  }
  if (m.size > 5ull * 1024 * 1024 * 1024 * 1024)
    return error_response(c, err("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", 400));
  m.etag = ck::digest_hex(ck::Algorithm::md5, md5s) + "-" + std::to_string(chosen.size());
  m.mtime_ms = clock_.now_ms();
  m.content = upload->content;
  m.user = upload->user;
  m.acl = upload->acl;
  m.owner = upload->owner;
  m.owner_name = upload->owner_name;
  m.storage_class = upload->storage_class;
  m.sse = upload->sse;
  m.tags = upload->tags;
  m.parts = static_cast<uint32_t>(chosen.size());
  m.lock_mode = upload->lock_mode;
  m.lock_until_ms = upload->lock_until_ms;
  m.legal_hold = upload->legal_hold;
  if (!upload->checksum_algorithm.empty()) {
    auto a = *ck::parse_algorithm(upload->checksum_algorithm);
    m.checksum_algorithm = upload->checksum_algorithm;
    m.checksum_type = upload->checksum_type;
    if (upload->checksum_type == "FULL_OBJECT") {
      uint64_t crc = 0;
      bool first = true;
      for (auto* p : chosen) {
        auto raw = wire::base64_decode(p->checksum_value);
        auto v = raw ? ck::crc_from_digest(a, *raw) : std::nullopt;
        if (!v) return error_response(c, internal_error());
        crc = first ? *v : ck::crc_combine(a, crc, *v, p->size);
        first = false;
      }
      m.checksum_value = wire::base64_encode(ck::crc_to_digest(a, crc));
    } else {
      std::string raw_all;
      for (auto* p : chosen) {
        auto raw = wire::base64_decode(p->checksum_value);
        if (!raw) return error_response(c, internal_error());
        raw_all += *raw;
      }
      m.checksum_value = ck::digest_base64(a, raw_all) + "-" + std::to_string(chosen.size());
    }
    // A checksum sent with the request must agree: the full-object one, or the composite one
    // (the checksum of the parts' checksums, with or without its "-<parts>" suffix).
    if (c.headers.has(ck::header_name(a))) {
      const std::string_view sent = c.headers.get(ck::header_name(a));
      const std::string_view ours = m.checksum_value;
      const bool agrees = sent == ours || (m.checksum_type != "FULL_OBJECT" && sent == ours.substr(0, ours.rfind('-')));
      if (!agrees) return error_response(c, bad_checksum(a));
    }
  }

  if (auto e = lock_from_request(c, *b, m)) return error_response(c, *e);
  store::WriteBatch batch(store_);
  const StoredDelta delta = put_object_row(batch, *find_bucket(c.bucket), c.key, m);
  std::set<uint64_t> used;
  for (auto* p : chosen) used.insert(p->blob_id);
  for (auto& p : stored) {
    if (!used.count(p.blob_id) && p.size > 0) delete_blobs(batch, {Segment{p.blob_id, p.size}});
    batch.del(store::Family::meta, part_key(upload_id, p.number));
  }
  batch.del(store::Family::meta, upload_key(upload_id));
  if (!store_.write(batch)) return error_response(c, internal_error());
  stored_delta(c.bucket, delta.bytes, delta.objects);

  XmlOut x("CompleteMultipartUploadResult");
  std::string scheme = "http://";
  XmlOut::add(x.root(), "Location", scheme + (c.host.empty() ? "localhost" : c.host) + "/" +
                                        (c.virtual_host ? "" : c.bucket + "/") + url_encode_key(c.key));
  XmlOut::add(x.root(), "Bucket", c.bucket);
  XmlOut::add(x.root(), "Key", c.key);
  XmlOut::add(x.root(), "ETag", quote_etag(m.etag));
  if (!m.checksum_algorithm.empty()) {
    auto a = *ck::parse_algorithm(m.checksum_algorithm);
    XmlOut::add(x.root(), std::string(ck::xml_element_name(a)).c_str(), m.checksum_value);
    XmlOut::add(x.root(), "ChecksumType", m.checksum_type);
  }
  auto res = xml_response(c, 200, x.str());
  if (!m.version_id.empty() && m.version_id != "null") res.headers.add("x-amz-version-id", m.version_id);
  sse::add_headers(m.sse, res.headers);
  return res;
}

http::Response S3Service::abort_multipart(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (!bucket_allows(c, *b, Perm::write)) return error_response(c, access_denied());
  const std::string upload_id = c.q("uploadId");
  std::lock_guard lk(commit_mu_);
  auto upload = load_upload(upload_id);
  if (!upload || upload->bucket != c.bucket || upload->key != c.key) return error_response(c, no_such_upload(upload_id));
  store::WriteBatch batch(store_);
  for (auto& p : load_parts(store_, upload_id)) {
    if (p.size > 0) delete_blobs(batch, {Segment{p.blob_id, p.size}});
    batch.del(store::Family::meta, part_key(upload_id, p.number));
  }
  batch.del(store::Family::meta, upload_key(upload_id));
  if (!store_.write(batch)) return error_response(c, internal_error());
  http::Response res;
  res.status = 204;
  stamp(c, res);
  return res;
}

http::Response S3Service::list_parts(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  if (c.anonymous) return error_response(c, access_denied());
  const std::string upload_id = c.q("uploadId");
  auto upload = load_upload(upload_id);
  if (!upload || upload->bucket != c.bucket || upload->key != c.key) return error_response(c, no_such_upload(upload_id));
  // The initiator and whoever may write to the bucket see the parts.
  if (c.auth_checked && !owns_upload(c, *upload) && !bucket_allows(c, *b, Perm::write))
    return error_response(c, access_denied());
  size_t max = 1000;
  if (c.has("max-parts")) {
    const std::string v = c.q("max-parts");
    const auto n = parse_int(v, 0, INT32_MAX);
    if (!n) return error_response(c, invalid_argument("Provided max-parts not an integer or within integer range", "max-parts", v));
    max = static_cast<size_t>(std::min<long long>(*n, 1000));
  }
  uint32_t marker = 0;
  if (c.has("part-number-marker")) {
    const std::string v = c.q("part-number-marker");
    const auto n = parse_int(v, 0, INT32_MAX);
    if (!n)
      return error_response(c, invalid_argument("Provided part-number-marker not an integer or within integer range",
                                                "part-number-marker", v));
    marker = static_cast<uint32_t>(*n);
  }
  auto parts = load_parts(store_, upload_id);
  XmlOut x("ListPartsResult");
  auto r = x.root();
  XmlOut::add(r, "Bucket", c.bucket);
  XmlOut::add(r, "Key", c.key);
  XmlOut::add(r, "UploadId", upload_id);
  add_owner(r, upload->owner, upload->owner_name, "Initiator");
  add_owner(r, upload->owner, upload->owner_name);
  XmlOut::add(r, "StorageClass", upload->storage_class);
  XmlOut::add(r, "PartNumberMarker", std::to_string(marker));
  std::vector<const Part*> shown;
  bool truncated = false;
  for (auto& p : parts) {
    if (p.number <= marker) continue;
    if (shown.size() == max) {
      truncated = true;
      break;
    }
    shown.push_back(&p);
  }
  XmlOut::add(r, "NextPartNumberMarker", shown.empty() ? "0" : std::to_string(shown.back()->number));
  XmlOut::add(r, "MaxParts", std::to_string(max));
  XmlOut::add(r, "IsTruncated", truncated ? "true" : "false");
  std::optional<ck::Algorithm> alg;
  if (!upload->checksum_algorithm.empty()) {
    alg = ck::parse_algorithm(upload->checksum_algorithm);
    XmlOut::add(r, "ChecksumAlgorithm", upload->checksum_algorithm);
    XmlOut::add(r, "ChecksumType", upload->checksum_type);
  }
  for (auto* p : shown) {
    auto n = XmlOut::add(r, "Part");
    XmlOut::add(n, "PartNumber", std::to_string(p->number));
    XmlOut::add(n, "LastModified", iso8601(p->mtime_ms));
    XmlOut::add(n, "ETag", quote_etag(p->etag));
    XmlOut::add(n, "Size", std::to_string(p->size));
    if (alg && !p->checksum_value.empty()) XmlOut::add(n, std::string(ck::xml_element_name(*alg)).c_str(), p->checksum_value);
  }
  return xml_response(c, 200, x.str());
}

// ---- seeding ------------------------------------------------------------------------------

std::optional<std::string> S3Service::seed_bucket(const std::string& name, const std::string& acl) {
  if (!valid_bucket_name(name)) return "invalid bucket name: " + name;
  if (!valid_canned_acl(acl)) return "invalid canned ACL for bucket " + name + ": " + acl;
  std::lock_guard lk(buckets_mu_);
  Bucket b;
  if (auto it = buckets_.find(name); it != buckets_.end()) {
    b = it->second;
  } else {
    b.name = name;
    b.id = next_bucket_id_++;
    b.created_ms = clock_.now_ms();
  }
  b.acl = acl;
  store::WriteBatch batch(store_);
  batch.put(store::Family::meta, bucket_key(name), encode(b));
  if (auto st = store_.write(batch); !st) return st.message;
  buckets_[name] = b;
  return std::nullopt;
}

std::optional<std::string> S3Service::seed_object(const std::string& bucket, const std::string& key, std::istream& data,
                                                  const std::string& content_type, const std::string& acl) {
  auto b = find_bucket(bucket);
  if (!b) return "no bucket " + bucket;
  ObjectWriter w(store_, next_blob_id(), {ck::Algorithm::crc64nvme});
  std::string buf(kChunkBytes, '\0');
  while (data) {
    data.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = data.gcount();
    if (n <= 0) break;
    if (!w.write(std::string_view(buf.data(), static_cast<size_t>(n)))) return "storage write failed";
  }
  if (data.bad()) return "read error";
  if (!w.close()) return "storage write failed";
  ObjectMeta m;
  m.size = w.size();
  m.etag = ck::to_hex(w.md5());
  m.mtime_ms = clock_.now_ms();
  m.segments = w.segments();
  if (!content_type.empty()) m.content.emplace_back("Content-Type", content_type);
  m.acl = acl;  // seeded data has eddy's default owner: every signed user owns it
  m.checksum_algorithm = "CRC64NVME";
  m.checksum_value = wire::base64_encode(w.digest(ck::Algorithm::crc64nvme));
  m.checksum_type = "FULL_OBJECT";
  if (auto st = commit_object(*b, key, m); !st) return st.message;
  w.keep();
  return std::nullopt;
}

}  // namespace eddy::s3

namespace eddy::s3 {

// ---- GetObjectAttributes ------------------------------------------------------------------

http::Response S3Service::get_object_attributes(Ctx& c) {
  auto b = find_bucket(c.bucket);
  if (!b) return error_response(c, no_such_bucket(c.bucket));
  std::set<std::string> wanted;
  {
    const std::string_view list = c.headers.get("x-amz-object-attributes");
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      std::string name(wire::text::trim(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
      if (!name.empty()) {
        if (name != "ETag" && name != "Checksum" && name != "ObjectParts" && name != "StorageClass" && name != "ObjectSize")
          return error_response(c, invalid_argument("Invalid attribute name specified.", "x-amz-object-attributes", name));
        wanted.insert(name);
      }
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  if (wanted.empty())
    return error_response(c, invalid_argument("Invalid attribute name specified.", "x-amz-object-attributes", ""));
  auto int_header = [&](const char* name, long long def, long long* out) {
    if (!c.headers.has(name)) {
      *out = def;
      return true;
    }
    const auto n = parse_int(std::string(c.headers.get(name)), 0, INT32_MAX);
    if (!n) return false;
    *out = *n;
    return true;
  };
  long long max_parts = 1000, marker = 0;
  if (!int_header("x-amz-max-parts", 1000, &max_parts))
    return error_response(c, invalid_argument("Provided max-parts not an integer or within integer range", "max-parts",
                                              std::string(c.headers.get("x-amz-max-parts"))));
  if (!int_header("x-amz-part-number-marker", 0, &marker))
    return error_response(c, invalid_argument("Provided part-number-marker not an integer or within integer range",
                                              "part-number-marker", std::string(c.headers.get("x-amz-part-number-marker"))));
  http::Response refusal;
  auto m = read_version(c, *b, &refusal);
  if (!m) return refusal;
  // An SSE-C object's attributes need its key, as its data does.
  if (auto e = sse::for_read(c.headers, m->sse, false)) return error_response(c, *e);
  XmlOut x("GetObjectAttributesResponse");
  auto r = x.root();
  if (wanted.count("ETag")) XmlOut::add(r, "ETag", m->etag);
  if (wanted.count("Checksum") && !m->checksum_algorithm.empty()) {
    if (auto a = ck::parse_algorithm(m->checksum_algorithm)) {
      auto n = XmlOut::add(r, "Checksum");
      XmlOut::add(n, std::string(ck::xml_element_name(*a)).c_str(), m->checksum_value);
      XmlOut::add(n, "ChecksumType", m->checksum_type.empty() ? "FULL_OBJECT" : m->checksum_type);
    }
  }
  if (wanted.count("ObjectParts") && m->parts > 0) {
    auto n = XmlOut::add(r, "ObjectParts");
    XmlOut::add(n, "PartsCount", std::to_string(m->parts));
    XmlOut::add(n, "PartNumberMarker", std::to_string(marker));
    const auto shown_from = static_cast<size_t>(marker);
    const size_t shown_to = std::min<size_t>(m->segments.size(), shown_from + static_cast<size_t>(max_parts));
    const bool truncated = shown_to < m->segments.size();
    XmlOut::add(n, "NextPartNumberMarker", std::to_string(shown_to > shown_from ? shown_to : shown_from));
    XmlOut::add(n, "MaxParts", std::to_string(max_parts));
    XmlOut::add(n, "IsTruncated", truncated ? "true" : "false");
    // Parts are numbered in the order they make the object (eddy keeps their sizes, not the
    // numbers the client chose, nor per-part checksums).
    for (size_t i = shown_from; i < shown_to; ++i) {
      auto p = XmlOut::add(n, "Part");
      XmlOut::add(p, "PartNumber", std::to_string(i + 1));
      XmlOut::add(p, "Size", std::to_string(m->segments[i].size));
    }
  }
  if (wanted.count("StorageClass")) XmlOut::add(r, "StorageClass", m->storage_class);
  if (wanted.count("ObjectSize")) XmlOut::add(r, "ObjectSize", std::to_string(m->size));
  auto res = xml_response(c, 200, x.str());
  res.headers.add("Last-Modified", http_date(m->mtime_ms));
  if (!m->version_id.empty() || !b->versioning.empty())
    res.headers.add("x-amz-version-id", m->version_id.empty() ? "null" : m->version_id);
  return res;
}

}  // namespace eddy::s3
