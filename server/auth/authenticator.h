#pragma once
// Request authentication for every service: SigV4 (header or presigned query), SigV2
// presigned query (S3), in the modes of `eddy serve --auth off|any|verify`.
// Implementation: server/auth/authenticator.cpp (owned by the auth work).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/clock.h"
#include "server/http/message.h"

namespace eddy::auth {

enum class Mode { off, any, verify };
std::optional<Mode> parse_mode(std::string_view text);
std::string_view to_string(Mode mode);

struct Credential {
  Credential() = default;
  Credential(std::string key, std::string secret, std::string token, std::optional<int64_t> expires,
             std::string principal_ = {}, std::string display_name_ = {})
      : access_key(std::move(key)),
        secret_key(std::move(secret)),
        session_token(std::move(token)),
        expires_ms(expires),
        principal(std::move(principal_)),
        display_name(std::move(display_name_)) {}
  std::string access_key;
  std::string secret_key;
  std::string session_token;        // non-empty for temporary (IMDS-issued) credentials
  std::optional<int64_t> expires_ms;
  // Who the key acts as within its account: "" means the access key itself (a static key is
  // an IAM user); the IMDS gives every key it issues its role's ARN, so one role stays one
  // principal across credential rotation.
  std::string principal;
  std::string display_name;         // S3 DisplayName ("" = the access key)
  // The account the key belongs to; S3 buckets and objects are owned by accounts, so every
  // key of one account is their owner. "" = the Authenticator's default (--account-id).
  std::string account_id;
};

// Static keys (flags, --credentials file) and temporary ones (issued by the IMDS emulator).
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual void add(Credential c) = 0;
  virtual std::optional<Credential> find(std::string_view access_key) const = 0;
};
std::unique_ptr<CredentialStore> make_credential_store();

// Loads a credentials file into the store: AWS shared-credentials INI sections
// (aws_access_key_id / aws_secret_access_key / aws_session_token, and eddy's display_name and
// account_id = 12 digits for a key of another account) and/or plain lines
// "ACCESS_KEY SECRET [DISPLAY_NAME]" (keys of the default account). '#' and ';' start
// comments. Returns false with *error on a bad line or an unreadable file.
bool load_credentials_file(const std::string& path, CredentialStore& store, std::string* error);

struct AuthResult {
  bool ok = false;
  bool anonymous = false;     // no Authorization header and no presigned query
  // On failure: S3's error code (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
  // RequestTimeTooSkewed, ExpiredToken, AuthorizationHeaderMalformed, ...), message, status.
  // For service "kinesis" the code is already the Kinesis __type (UnrecognizedClientException,
  // InvalidSignatureException, ...; KinesisService answers it in JSON or CBOR).
  std::string code;
  std::string message;
  int status = 403;
  std::string string_to_sign;      // for SignatureDoesNotMatch, as S3 returns it
  std::string canonical_request;
  // Extra elements S3 puts in its <Error> after <Message>, in order (AWSAccessKeyId,
  // StringToSign, SignatureProvided, RequestTime, ServerTime, ...).
  std::vector<std::pair<std::string, std::string>> details;
  std::string access_key;
  // Who made the request (ok and not anonymous; authenticate() only):
  //   account: the owner of what S3 requests create and the identity ACLs grant to: the
  //     credential's account (--account-id unless its profile names another). In mode any a
  //     key eddy does not know is an account of its own (account = the access key).
  //   principal: the user within the account: the access key, or the IMDS role's ARN.
  //   display_name: the credential's display_name, the IMDS role, else the access key.
  std::string account;
  std::string principal;
  std::string display_name;
  // For payload checks after authentication:
  std::string content_sha256;      // x-amz-content-sha256 as sent (hex, UNSIGNED-PAYLOAD, STREAMING-...)
  // For STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) chunk verification (verify mode only):
  std::string seed_signature;      // the request's own signature
  std::string signing_key;         // raw 32-byte derived key
  std::string scope;               // "<date>/<region>/<service>/aws4_request"
  std::string amz_date;            // "20150830T123600Z"
  bool verify_chunks = false;
};

// The signature fields of a browser-form upload (S3 PostObject): the form's policy field signed
// with the secret of the form's access key. SigV2: AWSAccessKeyId and signature (base64
// HMAC-SHA1 of the policy field). SigV4: x-amz-credential, x-amz-date and x-amz-signature (hex
// HMAC-SHA256 of the policy field with the key derived for the credential's scope).
struct PostSignature {
  bool v4 = false;
  std::string access_key;      // v2: AWSAccessKeyId
  std::string credential;      // v4: x-amz-credential (AKID/date/region/s3/aws4_request)
  std::string amz_date;        // v4: x-amz-date
  std::string signature;       // v2: signature; v4: x-amz-signature
  std::string security_token;  // x-amz-security-token ("" none)
  std::string policy;          // the policy field as sent (base64)
};

class Authenticator {
 public:
  // default_account: the account of credentials that name none (--account-id).
  Authenticator(Mode mode, CredentialStore& credentials, Clock& clock, std::string default_account = "000000000000");
  Mode mode() const { return mode_; }
  // service: "s3" or "kinesis" (the scope's service must match in verify mode).
  // S3 is authenticated on the headers alone (the payload hash is x-amz-content-sha256);
  // Kinesis signs the body, so call it with req.body filled.
  AuthResult authenticate(const http::Request& req, std::string_view service) const;
  // The verdict alone: authenticate() without resolving who the caller is (principal,
  // display name), for callers that only need ok or the error (Kinesis requests). In any
  // mode a Kinesis verdict carries no access key either: the header is only checked for form.
  AuthResult check(const http::Request& req, std::string_view service) const;
  const std::string& default_account() const { return default_account_; }
  // A form upload's policy signature (mode verify: the key known, its token and the signature
  // right; mode any: the form only) with the signer's identity as authenticate() gives it.
  // Failures are S3's: InvalidAccessKeyId, SignatureDoesNotMatch (403), InvalidArgument (400).
  AuthResult verify_post(const PostSignature& sig) const;

 private:
  // Fills account, principal and display_name of a verdict for r.access_key.
  void identify(AuthResult& r) const;
  Mode mode_;
  CredentialStore& credentials_;
  Clock& clock_;
  std::string default_account_;
};

// The S3 error for a hex x-amz-content-sha256 that does not match the body received
// (XAmzContentSHA256Mismatch, 400).
AuthResult content_sha256_mismatch(std::string_view client_sha256, std::string_view computed_sha256);

}  // namespace eddy::auth
