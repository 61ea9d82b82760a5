// PostObject: a browser-form upload (POST /bucket, multipart/form-data). The form's fields
// before the file are read (bounded, server/s3/s3_post_form.h); when the file part starts, the
// policy's signature (SigV2 or SigV4, server/auth) and conditions are checked, the fields become
// the headers of a PutObject of the form's key, and the file's bytes stream into that upload
// as they arrive (S3Service::put_object, the same checks, encryption, tagging and commit).
#include <memory>
#include <optional>
#include <string>

#include "server/auth/authenticator.h"
#include "server/s3/s3_internal.h"
#include "server/s3/s3_post_form.h"
#include "server/s3/tagging.h"
#include "wire/sigv4.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace {

using wire::text::lower;

// After an error, this much more of the body is still read (and dropped) so that a client
// that sends the whole form before reading the answer gets it rather than a reset connection.
constexpr uint64_t kDrainBytes = 8ull * 1024 * 1024;

S3Error missing_field(const std::string& name) {
  return err("InvalidArgument",
             "Bucket POST must contain a field named '" + name + "'.  If it is specified, please check the order of the fields.",
             400, {{"ArgumentName", name}, {"ArgumentValue", ""}});
}

S3Error from_policy(const post::PolicyError& e) { return err(e.code, e.message, e.status, e.fields); }

// Whether a form field becomes a header of the upload (as the same-named PutObject header).
bool upload_header(const std::string& name) {
  static const char* const kExact[] = {"content-type", "cache-control", "content-disposition", "content-encoding",
                                       "content-language", "expires", "x-amz-storage-class",
                                       "x-amz-website-redirect-location"};
  for (const char* n : kExact)
    if (name == n) return true;
  return name.starts_with("x-amz-meta-") || name.starts_with("x-amz-server-side-encryption") ||
         name.starts_with("x-amz-checksum-") || name.starts_with("x-amz-object-lock-") ||
         name.starts_with("x-amz-grant-");
}

std::string query_encode(std::string_view s) { return wire::sigv4::uri_encode(s, true); }

}  // namespace

class PostSink final : public http::BodySink {
 public:
  PostSink(S3Service& svc, std::shared_ptr<Ctx> ctx, std::string boundary)
      : svc_(svc),
        ctx_(std::move(ctx)),
        reader_(std::move(boundary), [this](const std::string& filename) { return start(filename); },
                [this](std::string_view data) { return file_data(data); }) {}

  std::optional<http::Response> write(std::string_view piece) override {
    if (!failure_) {
      switch (reader_.feed(piece)) {
        case post::FormReader::Status::ok: break;
        case post::FormReader::Status::malformed: fail(malformed()); break;
        case post::FormReader::Status::too_large:
          fail(err("MaxPostPreDataLengthExceededError",
                   "Your POST request fields preceeding the upload file was too large.", 400,
                   {{"MaxPostPreDataLength", "20480"}}));
          break;
      }
      if (!failure_) return std::nullopt;
    } else {
      drained_ += piece.size();
    }
    if (drained_ > kDrainBytes) return std::move(*failure_);
    return std::nullopt;
  }

  http::Response finish() override {
    if (failure_) return std::move(*failure_);
    if (reader_.finish() != post::FormReader::Status::ok) return error_response(*ctx_, malformed());
    if (!reader_.file_seen() || !upload_)
      return error_response(*ctx_, err("InvalidArgument", "POST requires exactly one file upload per request.", 400,
                                       {{"ArgumentName", "file"}, {"ArgumentValue", "0"}}));
    if (range_ && size_ < range_->first)
      return error_response(*ctx_, err("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
                                       400, {{"ProposedSize", std::to_string(size_)},
                                             {"MinSizeAllowed", std::to_string(range_->first)}}));
    http::Response put = upload_->finish();
    if (put.status != 200) return put;
    return success(put);
  }

 private:
  static S3Error malformed() {
    return err("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", 400);
  }

  // Records the answer (the upload, if begun, is dropped with its chunks); false, to stop reading.
  bool fail(const S3Error& e) { return fail(error_response(*ctx_, e)); }
  bool fail(http::Response r) {
    upload_.reset();
    failure_ = std::move(r);
    return false;
  }

  std::string field(std::string_view name) const {
    const post::Field* f = reader_.find(name);
    return f ? f->value : std::string();
  }

  // The file part begins: every field S3 reads has arrived. False stops reading the form.
  bool start(const std::string& filename) {
    const post::Field* key_field = reader_.find("key");
    if (!key_field) return fail(missing_field("key"));
    key_ = key_field->value;
    for (size_t at = key_.find("${filename}"); at != std::string::npos; at = key_.find("${filename}", at + filename.size()))
      key_.replace(at, 11, filename);
    if (key_.empty())
      return fail(err("InvalidArgument", "User key must have a length greater than 0.", 400,
                      {{"ArgumentName", "key"}, {"ArgumentValue", ""}}));
    if (key_.size() > 1024) return fail(err("KeyTooLongError", "Your key is too long", 400));

    auto upload_ctx = std::make_shared<Ctx>(*ctx_);
    if (auto e = check_signature_and_policy(*upload_ctx)) return fail(*e);

    // The fields become the upload's headers.
    http::Headers h;
    h.add("Host", std::string(ctx_->headers.get("Host")));
    for (const post::Field& f : reader_.fields()) {
      const std::string name = lower(f.name);
      if (name == "acl") {
        h.add("x-amz-acl", f.value);
      } else if (name == "tagging") {
        // The form carries the <Tagging> document; PutObject's header is URL-encoded pairs.
        auto tags = tagging::parse_xml(f.value, tagging::kMaxObjectTags);
        if (auto* e = std::get_if<S3Error>(&tags)) return fail(*e);
        std::string header;
        for (auto& [k, v] : std::get<Pairs>(tags))
          header += (header.empty() ? "" : "&") + query_encode(k) + "=" + query_encode(v);
        h.add("x-amz-tagging", header);
      } else if (upload_header(name)) {
        h.add(f.name, f.value);
      }
    }
    upload_ctx->headers = std::move(h);
    upload_ctx->key = key_;
    http::Request unused;
    http::Dispatch d = svc_.put_object(upload_ctx, unused, false, true);
    if (auto* imm = std::get_if<http::Immediate>(&d)) return fail(std::move(imm->response));
    upload_ = std::move(std::get<http::StreamBody>(d).sink);
    upload_ctx_ = std::move(upload_ctx);
    return true;
  }

  // A signed form: the signature, then the policy's expiration and conditions. The upload is
  // then the signer's (else the request's: anonymous, or its Authorization header's).
  std::optional<S3Error> check_signature_and_policy(Ctx& uc) {
    const bool v4 = reader_.find("x-amz-algorithm") || reader_.find("x-amz-credential");
    const bool signed_form = v4 || reader_.find("policy") || reader_.find("AWSAccessKeyId") ||
                             reader_.find("signature") || reader_.find("x-amz-signature");
    if (!signed_form) return std::nullopt;
    auth::PostSignature sig;
    sig.v4 = v4;
    if (v4) {
      for (const char* name : {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"})
        if (!reader_.find(name)) return missing_field(name);
      if (field("x-amz-algorithm") != "AWS4-HMAC-SHA256")
        return err("InvalidArgument", "Unsupported algorithm: only AWS4-HMAC-SHA256 is accepted.", 400,
                   {{"ArgumentName", "x-amz-algorithm"}, {"ArgumentValue", field("x-amz-algorithm")}});
      sig.credential = field("x-amz-credential");
      sig.amz_date = field("x-amz-date");
      sig.signature = field("x-amz-signature");
    } else {
      if (!reader_.find("AWSAccessKeyId")) return missing_field("AWSAccessKeyId");
      if (!reader_.find("signature")) return missing_field("Signature");
      sig.access_key = field("AWSAccessKeyId");
      sig.signature = field("signature");
    }
    if (!reader_.find("policy")) return missing_field("policy");
    sig.policy = field("policy");
    sig.security_token = field("x-amz-security-token");
    if (svc_.auth_) {
      const auth::AuthResult r = svc_.auth_->verify_post(sig);
      if (!r.ok) return err(r.code, r.message, r.status, r.details);
      if (!r.account.empty()) {
        uc.auth_checked = true;
        uc.anonymous = false;
        uc.account = r.account;
        uc.user = r.principal;
        uc.display_name = r.display_name;
        svc_.remember_user(uc.account, uc.display_name);
      }
    }
    post::Policy policy;
    if (auto e = post::parse_policy(sig.policy, policy)) return from_policy(*e);
    // The policy sees every field by its lowercase name, the key after ${filename}, and the
    // bucket posted to (a "bucket" field does not change where the object goes).
    std::vector<std::pair<std::string, std::string>> values;
    values.emplace_back("bucket", ctx_->bucket);
    for (const post::Field& f : reader_.fields()) {
      std::string name = lower(f.name);
      if (name == "bucket") continue;
      values.emplace_back(name, name == "key" ? key_ : f.value);
    }
    if (auto e = post::check_policy(policy, svc_.clock_.now_ms(), values)) return from_policy(*e);
    range_ = policy.length_range();
    return std::nullopt;
  }

  bool file_data(std::string_view data) {
    if (!upload_) return false;
    size_ += data.size();
    if (range_ && size_ > range_->second)
      return fail(err("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
                      {{"ProposedSize", std::to_string(size_)}, {"MaxSizeAllowed", std::to_string(range_->second)}}));
    if (auto refused = upload_->write(data)) return fail(std::move(*refused));
    return true;
  }

  // The answer S3 gives a stored upload: a redirect (success_action_redirect), else
  // success_action_status 200 or 201 (with a PostResponse document), else 204.
  http::Response success(http::Response& put) {
    const std::string etag(put.headers.get("ETag"));
    const std::string scheme = ctx_->tls ? "https://" : "http://";
    const std::string host(ctx_->headers.get("Host"));
    const std::string location = scheme + host + (ctx_->virtual_host ? "" : "/" + url_encode_key(ctx_->bucket)) + "/" +
                                 url_encode_key(key_);
    http::Response res;
    res.headers = put.headers;
    std::string redirect = field("success_action_redirect");
    if (redirect.empty()) redirect = field("redirect");
    if (!redirect.empty()) {
      res.status = 303;
      res.headers.set("Location", redirect + (redirect.find('?') == std::string::npos ? "?" : "&") + "bucket=" +
                                      query_encode(ctx_->bucket) + "&key=" + query_encode(key_) + "&etag=" +
                                      query_encode(etag));
      res.content_length = 0;
      return res;
    }
    res.headers.set("Location", location);
    const std::string status = field("success_action_status");
    if (status == "201") {
      XmlOut x("PostResponse", false);
      XmlOut::add(x.root(), "Location", location);
      XmlOut::add(x.root(), "Bucket", ctx_->bucket);
      XmlOut::add(x.root(), "Key", key_);
      XmlOut::add(x.root(), "ETag", etag);
      http::Response xml = xml_response(*upload_ctx_, 201, x.str());
      for (auto& [k, v] : res.headers.items())
        if (!xml.headers.has(k)) xml.headers.add(k, v);
      return xml;
    }
    res.status = status == "200" ? 200 : 204;
    res.content_length = 0;
    return res;
  }

  S3Service& svc_;
  std::shared_ptr<Ctx> ctx_;
  std::shared_ptr<Ctx> upload_ctx_;
  post::FormReader reader_;
  std::string key_;
  std::optional<std::pair<uint64_t, uint64_t>> range_;
  uint64_t size_ = 0;
  std::unique_ptr<http::BodySink> upload_;
  std::optional<http::Response> failure_;
  uint64_t drained_ = 0;
};

http::Dispatch S3Service::post_object(std::shared_ptr<Ctx> ctx) {
  Ctx& c = *ctx;
  auto fail = [&](const S3Error& e) { return http::Dispatch{http::Immediate{error_response(c, e)}}; };
  auto boundary = post::form_boundary(c.headers.get("Content-Type"));
  if (!boundary)
    return fail(err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                    {{"Condition", "Bucket POST must be of the enclosure-type multipart/form-data"}}));
  if (!find_bucket(c.bucket)) return fail(no_such_bucket(c.bucket));
  return http::StreamBody{std::make_unique<PostSink>(*this, ctx, std::move(*boundary))};
}

}  // namespace eddy::s3
