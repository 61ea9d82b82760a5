#pragma once
// Request authentication for every service: SigV4 (header or presigned query), SigV2
// presigned query (S3), in the modes of `eddy serve --auth off|any|verify`.
// Implementation: server/auth/authenticator.cpp (owned by the auth work).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/clock.h"
#include "server/http/message.h"

namespace eddy::auth {

enum class Mode { off, any, verify };

struct Credential {
  std::string access_key;
  std::string secret_key;
  std::string session_token;        // non-empty for temporary (IMDS-issued) credentials
  std::optional<int64_t> expires_ms;
};

// Static keys (flags, --credentials file) and temporary ones (issued by the IMDS emulator).
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual void add(Credential c) = 0;
  virtual std::optional<Credential> find(std::string_view access_key) const = 0;
};
std::unique_ptr<CredentialStore> make_credential_store();

struct AuthResult {
  bool ok = false;
  bool anonymous = false;     // no Authorization header and no presigned query
  // On failure: S3's error code (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
  // RequestTimeTooSkewed, ExpiredToken, AuthorizationHeaderMalformed, ...), message, status.
  // The Kinesis side maps these to its JSON types (UnrecognizedClientException, ...).
  std::string code;
  std::string message;
  int status = 403;
  std::string string_to_sign;      // for SignatureDoesNotMatch, as S3 returns it
  std::string canonical_request;
  std::string access_key;
  // For payload checks after authentication:
  std::string content_sha256;      // x-amz-content-sha256 as sent (hex, UNSIGNED-PAYLOAD, STREAMING-...)
  // For STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) chunk verification (verify mode only):
  std::string seed_signature;      // the request's own signature
  std::string signing_key;         // raw 32-byte derived key
  std::string scope;               // "<date>/<region>/<service>/aws4_request"
  std::string amz_date;            // "20150830T123600Z"
  bool verify_chunks = false;
};

class Authenticator {
 public:
  Authenticator(Mode mode, CredentialStore& credentials, Clock& clock);
  Mode mode() const { return mode_; }
  // service: "s3" or "kinesis" (the scope's service must match in verify mode).
  AuthResult authenticate(const http::Request& req, std::string_view service) const;

 private:
  Mode mode_;
  CredentialStore& credentials_;
  Clock& clock_;
};

}  // namespace eddy::auth
