#pragma once
// What every AWS client of the harness shares: the HTTP pool, the credentials, the region, the
// endpoint of each service, the retry policy. One AwsCall = sign (SigV4 from wire/), send,
// retry with jittered backoff, parse the AWS error.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/credentials.h"
#include "client/http.h"
#include "client/retry.h"

namespace eddy::client {

struct SessionOptions {
  std::string endpoint;    // --endpoint: every service at this URL; empty: the regional AWS one
  std::string region;      // --region (then the environment, the profile, see resolve_region)
  bool verify_tls = true;  // --no-verify-ssl sets false
  std::string profile;     // overrides AWS_PROFILE when set
  // Static keys instead of the chain (tests, --access-key); empty: the default chain.
  std::optional<wire::sigv4::Credentials> static_credentials;
  HttpOptions http;
  RetryOptions retry;
};

// An AWS error as the client saw it. code is the AWS code ("ResourceNotFoundException",
// "NoSuchKey"), or "TransportError"/"CredentialsError" for failures before any response.
struct AwsError {
  int status = 0;
  std::string code;
  std::string message;
  // Attempts the call took; also set when the call succeeded (attempts - 1 retries).
  int attempts = 1;
  // "ResourceNotFoundException: Stream s under account 0000 not found." (one line)
  std::string str() const;
};

class Session {
 public:
  // Builds the chain of credentials from env (process_environment() by default).
  // Fails (nullptr, *error) when no region can be found.
  static std::unique_ptr<Session> create(SessionOptions options, std::string* error,
                                         Environment env = process_environment(),
                                         WallClock clock = system_wall_clock());
  Session(SessionOptions options, std::string region, std::unique_ptr<HttpClient> http,
          std::unique_ptr<CredentialsProvider> credentials, RetryPolicy retry, WallClock clock);
  ~Session();

  const std::string& region() const { return region_; }
  // --endpoint, else https://<service>.<region>.amazonaws.com (.amazonaws.com.cn in cn-*).
  Url endpoint(std::string_view service) const;
  HttpClient& http() { return *http_; }
  CredentialsProvider& credentials() { return *credentials_; }
  const RetryPolicy& retry() const { return retry_; }
  // A policy in "adaptive" mode brings its ClientRateLimiter (unless one is set already).
  void set_retry(RetryPolicy p);
  // The adaptive mode's send-rate limiter (nullptr in the other modes). Tests set one with an
  // injected clock and sleep.
  ClientRateLimiter* rate_limiter() { return limiter_.get(); }
  void set_rate_limiter(std::unique_ptr<ClientRateLimiter> l) { limiter_ = std::move(l); }
  // Retries made by call() so far, every call and thread together.
  std::uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

  // Signs req for `service` (signing name: "kinesis", "s3") at the endpoint and sends it,
  // retrying as the policy says. The error code of a non-2xx answer is read by parse_error
  // (JSON __type / XML Code / x-amzn-ErrorType header). payload_hash empty: SHA-256 of body;
  // S3 uses UNSIGNED-PAYLOAD for a body_file. Returns the final response, or nullopt with *error
  // for a transport or credentials failure after the last attempt. A non-2xx response is
  // returned as is (with *error filled too).
  // Signs req in place for `service` at `base` (Host, X-Amz-Date, X-Amz-Security-Token,
  // x-amz-content-sha256 for S3, Authorization) with wire::sigv4 at the session's clock.
  // req.target is complete (base.path already in it). False with *error without credentials.
  bool sign(std::string_view service, const Url& base, HttpRequest& req, const std::string& payload_hash,
            std::string* error);

  std::optional<HttpResponse> call(std::string_view service, const Url& base, HttpRequest req, AwsError* error,
                                   const BodySink* sink = nullptr, std::string payload_hash = {});
  // The same into a response the caller keeps: its body's capacity is reused, so a reader of
  // large answers (GetRecords, up to 10 MiB) does not fault in a fresh buffer per call. True
  // with resp set when a response came (a non-2xx one with *error filled too); false for a
  // transport or credentials failure.
  bool call(std::string_view service, const Url& base, HttpRequest req, HttpResponse& resp, AwsError* error,
            const BodySink* sink = nullptr, std::string payload_hash = {});

  // Milliseconds added to the clock when signing: learnt from a server's Date header after a
  // clock-skew error (RequestTimeTooSkewed, InvalidSignatureException "Signature expired"...).
  int64_t clock_offset_ms() const { return clock_offset_ms_.load(); }

 private:
  SessionOptions options_;
  std::string region_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<CredentialsProvider> credentials_;
  RetryPolicy retry_;
  std::unique_ptr<ClientRateLimiter> limiter_;
  WallClock clock_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::atomic<std::uint64_t> retries_{0};
  bool adjust_clock_offset(const HttpResponse& resp);
};

// Whether an error answer says the request's signing time was too far from the server's.
bool is_clock_skew_error(int status, const AwsError& e);

// Error code and message of an AWS error response (JSON or XML body, or headers).
AwsError parse_error(const HttpResponse& resp);

}  // namespace eddy::client
