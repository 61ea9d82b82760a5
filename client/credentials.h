#pragma once
// AWS credentials and region the way the AWS SDKs find them.
//
// Credentials, first that has them wins:
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
//   2. shared files: profile AWS_PROFILE (else "default") in AWS_SHARED_CREDENTIALS_FILE
//      (~/.aws/credentials), then in AWS_CONFIG_FILE (~/.aws/config, section "[profile NAME]",
//      or "[default]")
//   3. EC2 instance metadata: IMDSv2 token (PUT /latest/api/token), falling back to IMDSv1
//      GETs when the token call fails with 403/404/405 or a timeout; endpoint from
//      AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254); skipped when
//      AWS_EC2_METADATA_DISABLED=true. Temporary keys are refreshed 5 minutes before expiry.
// Region: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config file.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/sigv4.h"

namespace eddy::client {

class HttpClient;

// Reads an environment variable; tests inject a map instead of the process environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();
Environment map_environment(std::vector<std::pair<std::string, std::string>> vars);

using WallClock = std::function<std::chrono::system_clock::time_point()>;
WallClock system_wall_clock();

struct AwsCredentials {
  wire::sigv4::Credentials keys;
  std::string source;  // "environment", "shared-credentials-file", "config-file", "imds"
  // Temporary credentials expire; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials, or nullopt with *error saying why this source has none.
  virtual std::optional<AwsCredentials> get(std::string* error) = 0;
};

// Fixed keys (--access-key/--secret-key style, tests).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials c) : c_(std::move(c)) {}
  std::optional<AwsCredentials> get(std::string*) override { return c_; }

 private:
  AwsCredentials c_;
};

class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(Environment env) : env_(std::move(env)) {}
  std::optional<AwsCredentials> get(std::string* error) override;

 private:
  Environment env_;
};

// One profile of an AWS INI file ("[default]", "[profile x]" in config, "[x]" in credentials).
// Nested sub-sections ("s3 =\n  addressing_style = path") are skipped. nullopt when the file
// or the section does not exist.
std::optional<std::vector<std::pair<std::string, std::string>>> read_profile(const std::string& path,
                                                                             const std::string& profile,
                                                                             bool config_file);

// Paths and profile as the SDKs choose them (HOME from env for "~").
std::string shared_credentials_path(const Environment& env);
std::string config_file_path(const Environment& env);
std::string profile_name(const Environment& env);  // AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default"

class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  // profile empty: profile_name(env).
  ProfileCredentialsProvider(Environment env, std::string profile = {});
  std::optional<AwsCredentials> get(std::string* error) override;

 private:
  Environment env_;
  std::string profile_;
};

// Instance metadata. Caches the credentials and fetches new ones once now >= expiration - 5 min.
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  // Calls go through its own pool with the SDKs' IMDS timeouts (1 s connect, 1 s read).
  explicit ImdsCredentialsProvider(Environment env, WallClock clock = system_wall_clock());
  ~ImdsCredentialsProvider() override;
  std::optional<AwsCredentials> get(std::string* error) override;
  // Whether the last fetch used IMDSv1 (the token call failed); tests read it.
  bool used_v1() const { return used_v1_; }
  static constexpr std::chrono::minutes kRefreshBefore{5};

 private:
  std::optional<AwsCredentials> fetch(std::string* error);
  Environment env_;
  std::unique_ptr<HttpClient> http_;
  WallClock clock_;
  std::mutex mu_;
  std::optional<AwsCredentials> cached_;
  bool used_v1_ = false;
};

// The chain: environment, profile files, IMDS. Remembers which source answered (as the SDKs
// do) and asks only it again. The error names every source tried.
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ChainCredentialsProvider(std::vector<std::unique_ptr<CredentialsProvider>> chain);
  std::optional<AwsCredentials> get(std::string* error) override;

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<CredentialsProvider>> chain_;
  CredentialsProvider* chosen_ = nullptr;
};

// The default chain above. With an explicit profile (--profile) the environment's keys are
// skipped, as botocore does for Session(profile=...).
std::unique_ptr<CredentialsProvider> default_credentials_chain(Environment env, std::string explicit_profile = {},
                                                               WallClock clock = system_wall_clock());

// --region, then AWS_REGION, AWS_DEFAULT_REGION, the profile's region; empty when none.
std::string resolve_region(const std::string& flag, const Environment& env, const std::string& explicit_profile = {});

}  // namespace eddy::client
