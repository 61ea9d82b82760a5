#include "client/credentials.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>

#include "client/http.h"
#include "client/iso8601.h"

namespace eddy::client {

namespace {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string env_or(const Environment& env, std::string_view name, std::string fallback = {}) {
  auto v = env(name);
  return v && !v->empty() ? *v : fallback;
}

std::string home_path(const Environment& env, const std::string& rest) {
  return env_or(env, "HOME", ".") + rest;
}

std::string expand_home(const Environment& env, const std::string& path) {
  if (path.size() >= 1 && path[0] == '~' && (path.size() == 1 || path[1] == '/')) return home_path(env, path.substr(1));
  return path;
}

std::optional<std::string> lookup(const std::vector<std::pair<std::string, std::string>>& kv, std::string_view key) {
  for (const auto& [k, v] : kv)
    if (k == key) return v;
  return std::nullopt;
}

// Keys of a profile as credentials (nullopt when it has none; partial keys are an error).
std::optional<AwsCredentials> keys_of(const std::vector<std::pair<std::string, std::string>>& kv,
                                      const std::string& source, const std::string& where, std::string* error) {
  auto ak = lookup(kv, "aws_access_key_id");
  auto sk = lookup(kv, "aws_secret_access_key");
  if (!ak && !sk) {
    if (error) *error = where + " has no aws_access_key_id";
    return std::nullopt;
  }
  if (!ak || !sk || ak->empty() || sk->empty()) {
    if (error) *error = where + " has only one of aws_access_key_id and aws_secret_access_key";
    return std::nullopt;
  }
  AwsCredentials c;
  c.keys.access_key_id = *ak;
  c.keys.secret_access_key = *sk;
  c.keys.session_token = lookup(kv, "aws_session_token").value_or(lookup(kv, "aws_security_token").value_or(""));
  c.source = source;
  return c;
}

}  // namespace

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Environment map_environment(std::vector<std::pair<std::string, std::string>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    for (const auto& [k, v] : vars)
      if (k == name) return v;
    return std::nullopt;
  };
}

WallClock system_wall_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

std::optional<AwsCredentials> EnvironmentCredentialsProvider::get(std::string* error) {
  auto ak = env_("AWS_ACCESS_KEY_ID");
  auto sk = env_("AWS_SECRET_ACCESS_KEY");
  if (!ak || ak->empty()) {
    if (error) *error = "AWS_ACCESS_KEY_ID is not set";
    return std::nullopt;
  }
  if (!sk || sk->empty()) {
    if (error) *error = "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not";
    return std::nullopt;
  }
  AwsCredentials c;
  c.keys.access_key_id = *ak;
  c.keys.secret_access_key = *sk;
  c.keys.session_token = env_or(env_, "AWS_SESSION_TOKEN", env_or(env_, "AWS_SECURITY_TOKEN"));
  c.source = "environment";
  return c;
}

std::optional<std::vector<std::pair<std::string, std::string>>> read_profile(const std::string& path,
                                                                             const std::string& profile,
                                                                             bool config_file) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::optional<std::vector<std::pair<std::string, std::string>>> found;
  bool in_section = false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      auto close = t.find(']');
      std::string name = trim(t.substr(1, close == std::string::npos ? std::string::npos : close - 1));
      if (config_file && name != "default") {
        if (name.rfind("profile", 0) == 0 && name.size() > 7 && (name[7] == ' ' || name[7] == '\t'))
          name = trim(name.substr(8));
        else
          name.clear();  // "[sso-session x]", "[services x]": not profiles
      }
      in_section = name == profile;
      if (in_section && !found) found.emplace();
      continue;
    }
    if (!in_section) continue;
    // Indented lines belong to a nested sub-section ("s3 =\n  addressing_style = path").
    if (line[0] == ' ' || line[0] == '\t') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = lower(trim(t.substr(0, eq)));
    std::string value = trim(t.substr(eq + 1));
    // Inline comments need whitespace before them (as botocore reads them).
    for (auto pos = value.find_first_of("#;"); pos != std::string::npos; pos = value.find_first_of("#;", pos + 1)) {
      if (pos > 0 && (value[pos - 1] == ' ' || value[pos - 1] == '\t')) {
        value = trim(value.substr(0, pos));
        break;
      }
    }
    found->emplace_back(std::move(key), std::move(value));
  }
  return found;
}

std::string shared_credentials_path(const Environment& env) {
  return expand_home(env, env_or(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"));
}

std::string config_file_path(const Environment& env) {
  return expand_home(env, env_or(env, "AWS_CONFIG_FILE", "~/.aws/config"));
}

std::string profile_name(const Environment& env) {
  return env_or(env, "AWS_PROFILE", env_or(env, "AWS_DEFAULT_PROFILE", "default"));
}

ProfileCredentialsProvider::ProfileCredentialsProvider(Environment env, std::string profile)
    : env_(std::move(env)), profile_(std::move(profile)) {}

std::optional<AwsCredentials> ProfileCredentialsProvider::get(std::string* error) {
  const std::string profile = profile_.empty() ? profile_name(env_) : profile_;
  const std::string creds_path = shared_credentials_path(env_);
  const std::string config_path = config_file_path(env_);
  std::string e1, e2;
  if (auto kv = read_profile(creds_path, profile, false)) {
    if (auto c = keys_of(*kv, "shared-credentials-file", "profile " + profile + " in " + creds_path, &e1)) return c;
  } else {
    e1 = "no profile " + profile + " in " + creds_path;
  }
  if (auto kv = read_profile(config_path, profile, true)) {
    if (auto c = keys_of(*kv, "config-file", "profile " + profile + " in " + config_path, &e2)) return c;
  } else {
    e2 = "no profile " + profile + " in " + config_path;
  }
  if (error) *error = e1 + "; " + e2;
  return std::nullopt;
}

ImdsCredentialsProvider::ImdsCredentialsProvider(Environment env, WallClock clock)
    : env_(std::move(env)), clock_(std::move(clock)) {
  HttpOptions o;
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.request_timeout = std::chrono::milliseconds(1000);
  o.max_idle_per_host = 2;
  http_ = std::make_unique<HttpClient>(o);
}

ImdsCredentialsProvider::~ImdsCredentialsProvider() = default;

std::optional<AwsCredentials> ImdsCredentialsProvider::get(std::string* error) {
  std::lock_guard lock(mu_);
  if (lower(env_or(env_, "AWS_EC2_METADATA_DISABLED")) == "true") {
    if (error) *error = "instance metadata disabled (AWS_EC2_METADATA_DISABLED=true)";
    return std::nullopt;
  }
  if (cached_ && (!cached_->expiration || clock_() < *cached_->expiration - kRefreshBefore)) return cached_;
  auto fresh = fetch(error);
  if (fresh) {
    cached_ = fresh;
    return fresh;
  }
  // The SDKs keep using credentials that are still valid when a refresh fails.
  if (cached_ && cached_->expiration && clock_() < *cached_->expiration) return cached_;
  return std::nullopt;
}

std::optional<AwsCredentials> ImdsCredentialsProvider::fetch(std::string* error) {
  std::string where = env_or(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254");
  std::string perr;
  auto base = Url::parse(where, &perr);
  if (!base) {
    if (error) *error = "AWS_EC2_METADATA_SERVICE_ENDPOINT: " + perr;
    return std::nullopt;
  }
  auto fail = [&](const std::string& m) -> std::optional<AwsCredentials> {
    if (error) *error = "instance metadata at " + base->str() + ": " + m;
    return std::nullopt;
  };
  // IMDSv2: a session token first; 403/404/405 or no answer means IMDSv1 only.
  std::string token;
  {
    HttpRequest req;
    req.method = "PUT";
    req.target = base->path + "/latest/api/token";
    req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    HttpResponse resp;
    TransportError te;
    if (http_->send(*base, req, resp, &te)) {
      if (resp.status == 200) {
        token = resp.body;
      } else if (resp.status != 403 && resp.status != 404 && resp.status != 405) {
        return fail("token request answered HTTP " + std::to_string(resp.status));
      }
    } else if (!te.timeout) {
      return fail(te.message);
    }
  }
  used_v1_ = token.empty();
  auto get = [&](const std::string& path, std::string& body, std::string* why) {
    HttpRequest req;
    req.target = base->path + path;
    if (!token.empty()) req.headers.emplace_back("X-aws-ec2-metadata-token", token);
    HttpResponse resp;
    TransportError te;
    if (!http_->send(*base, req, resp, &te)) {
      *why = te.message;
      return false;
    }
    if (resp.status != 200) {
      *why = "GET " + path + " answered HTTP " + std::to_string(resp.status);
      return false;
    }
    body = std::move(resp.body);
    return true;
  };
  std::string roles, doc, why;
  if (!get("/latest/meta-data/iam/security-credentials/", roles, &why)) return fail(why);
  std::string role = trim(roles.substr(0, roles.find('\n')));
  if (role.empty()) return fail("no instance-profile role");
  if (!get("/latest/meta-data/iam/security-credentials/" + role, doc, &why)) return fail(why);
  auto j = nlohmann::json::parse(doc, nullptr, false);
  if (!j.is_object() || !j.contains("AccessKeyId") || !j.contains("SecretAccessKey") || !j["AccessKeyId"].is_string() ||
      !j["SecretAccessKey"].is_string())
    return fail("the credentials document of role " + role + " is not valid JSON with AccessKeyId and SecretAccessKey");
  AwsCredentials c;
  c.keys.access_key_id = j["AccessKeyId"].get<std::string>();
  c.keys.secret_access_key = j["SecretAccessKey"].get<std::string>();
  if (j.contains("Token") && j["Token"].is_string()) c.keys.session_token = j["Token"].get<std::string>();
  c.source = "imds";
  if (j.contains("Expiration") && j["Expiration"].is_string()) {
    if (auto ms = parse_iso8601_ms(j["Expiration"].get<std::string>()))
      c.expiration = std::chrono::system_clock::time_point(std::chrono::milliseconds(*ms));
  }
  return c;
}

ChainCredentialsProvider::ChainCredentialsProvider(std::vector<std::unique_ptr<CredentialsProvider>> chain)
    : chain_(std::move(chain)) {}

std::optional<AwsCredentials> ChainCredentialsProvider::get(std::string* error) {
  std::lock_guard lock(mu_);
  if (chosen_) return chosen_->get(error);
  std::string all;
  for (auto& p : chain_) {
    std::string why;
    if (auto c = p->get(&why)) {
      chosen_ = p.get();
      return c;
    }
    all += (all.empty() ? "" : "; ") + why;
  }
  if (error) *error = "no AWS credentials found (" + all + ")";
  return std::nullopt;
}

std::unique_ptr<CredentialsProvider> default_credentials_chain(Environment env, std::string explicit_profile,
                                                               WallClock clock) {
  std::vector<std::unique_ptr<CredentialsProvider>> chain;
  if (explicit_profile.empty()) chain.push_back(std::make_unique<EnvironmentCredentialsProvider>(env));
  chain.push_back(std::make_unique<ProfileCredentialsProvider>(env, explicit_profile));
  chain.push_back(std::make_unique<ImdsCredentialsProvider>(env, std::move(clock)));
  return std::make_unique<ChainCredentialsProvider>(std::move(chain));
}

std::string resolve_region(const std::string& flag, const Environment& env, const std::string& explicit_profile) {
  if (!flag.empty()) return flag;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (auto v = env(name); v && !v->empty()) return *v;
  const std::string profile = explicit_profile.empty() ? profile_name(env) : explicit_profile;
  if (auto kv = read_profile(config_file_path(env), profile, true))
    if (auto r = lookup(*kv, "region"); r && !r->empty()) return *r;
  return {};
}

}  // namespace eddy::client
