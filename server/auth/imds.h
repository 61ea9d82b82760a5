#pragma once
// An EC2 instance-metadata (IMDS) emulator on its own listener: IMDSv2 session tokens,
// IMDSv1 GETs, an instance-profile role whose temporary credentials rotate and are accepted
// by eddy's verify mode while they are valid. See docs/auth.md.
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "server/auth/authenticator.h"
#include "server/clock.h"
#include "server/http/message.h"

namespace eddy::auth {

struct ImdsOptions {
  std::string role = "eddy-role";
  int64_t credential_lifetime_s = 3600;
  bool v2_only = false;
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

class Imds final : public http::Handler {
 public:
  Imds(ImdsOptions options, CredentialStore& credentials, Clock& clock);
  http::Dispatch dispatch(http::Request& req) override;

  // The credentials served now (issued, or rotated when due, as a GET would).
  Credential current_credentials();
  // Seconds before expiry at which new credentials are issued: min(300, lifetime / 2).
  int64_t rotate_before_s() const;

  static constexpr const char* kInstanceId = "i-0eddcafe000000001";

 private:
  http::Response handle(const http::Request& req);
  http::Response get(const std::string& path);
  http::Response credentials_document();
  std::string random_string(size_t n, const char* alphabet);

  ImdsOptions options_;
  CredentialStore& credentials_;
  Clock& clock_;
  int64_t started_ms_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  Credential current_;
  int64_t last_updated_ms_ = 0;
  std::map<std::string, int64_t> tokens_;  // IMDSv2 token -> expiry (ms, App clock)
};

}  // namespace eddy::auth
