#include "server/auth/imds.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace eddy::auth {

namespace {

constexpr const char* kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr const char* kSecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kMaxTokens = 100000;
constexpr int64_t kMaxTokenTtl = 21600;

std::string iso8601(int64_t ms) {
  using namespace std::chrono;
  const sys_seconds t{seconds(ms / 1000)};
  const auto days = floor<std::chrono::days>(t);
  const year_month_day ymd{days};
  const hh_mm_ss hms{t - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()), int(hms.seconds().count()));
  return buf;
}

http::Response text(int status, std::string body) {
  http::Response res;
  res.status = status;
  res.headers.add("Content-Type", "text/plain");
  res.headers.add("Server", "EC2ws");
  res.body = std::move(body);
  return res;
}

http::Response error(int status) {
  switch (status) {
    case 400: return text(400, "Bad Request\n");
    case 401: return text(401, "Unauthorized\n");
    case 403: return text(403, "Forbidden\n");
    case 405: {
      auto r = text(405, "Method Not Allowed\n");
      r.headers.add("Allow", "GET, HEAD, PUT");
      return r;
    }
    default: return text(404, "Not Found\n");
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Imds::Imds(ImdsOptions options, CredentialStore& credentials, Clock& clock)
    : options_(std::move(options)), credentials_(credentials), clock_(clock), started_ms_(clock.now_ms()),
      rng_(std::random_device{}()) {
  if (options_.credential_lifetime_s < 1) options_.credential_lifetime_s = 1;
}

int64_t Imds::rotate_before_s() const { return std::min<int64_t>(300, options_.credential_lifetime_s / 2); }

std::string Imds::random_string(size_t n, const char* alphabet) {
  const size_t len = std::char_traits<char>::length(alphabet);
  std::uniform_int_distribution<size_t> pick(0, len - 1);
  std::string out(n, ' ');
  for (char& c : out) c = alphabet[pick(rng_)];
  return out;
}

Credential Imds::current_credentials() {
  std::lock_guard lk(mu_);
  const int64_t now = clock_.now_ms();
  // New credentials appear before the old ones lapse (AWS: "at least five minutes before");
  // the old ones stay valid until their own expiry.
  if (current_.access_key.empty() || !current_.expires_ms ||
      now >= *current_.expires_ms - rotate_before_s() * 1000) {
    Credential c;
    c.access_key = "ASIA" + random_string(16, kUpper);
    c.secret_key = random_string(40, kSecretAlphabet);
    c.session_token = "IQoJb3JpZ2luX2VkZHk" + random_string(300, kSecretAlphabet);
    c.expires_ms = now + options_.credential_lifetime_s * 1000;
    // Every key issued acts as the role of the account, as STS credentials do: S3 ownership
    // is the account's, so the role reads what the account's static keys wrote.
    c.principal = "arn:aws:iam::" + options_.account_id + ":role/" + options_.role;
    c.display_name = options_.role;
    c.account_id = options_.account_id;
    credentials_.add(c);
    current_ = std::move(c);
    last_updated_ms_ = now;
  }
  return current_;
}

http::Dispatch Imds::dispatch(http::Request&) {
  http::BufferBody b;
  b.max_bytes = 64 * 1024;
  b.handle = [this](http::Request& r) { return handle(r); };
  b.too_large = [](http::Request&) { return error(400); };
  return b;
}

http::Response Imds::handle(const http::Request& req) {
  const std::string& path = req.path;
  const int64_t now = clock_.now_ms();
  if (path == "/latest/api/token") {
    if (req.method != "PUT") return error(405);
    // IMDSv2 refuses tokens to requests that went through a proxy.
    if (req.headers.has("X-Forwarded-For")) return error(403);
    const std::string* ttl_text = req.headers.find("X-aws-ec2-metadata-token-ttl-seconds");
    if (!ttl_text || !all_digits(*ttl_text)) return error(400);
    const int64_t ttl = std::stoll(*ttl_text);
    if (ttl < 1 || ttl > kMaxTokenTtl) return error(400);
    std::string token;
    {
      std::lock_guard lk(mu_);
      std::erase_if(tokens_, [&](const auto& kv) { return kv.second <= now; });
      while (tokens_.size() >= kMaxTokens) tokens_.erase(tokens_.begin());
      token = random_string(56, kSecretAlphabet);
      tokens_[token] = now + ttl * 1000;
    }
    auto res = text(200, token);
    res.headers.add("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", std::to_string(ttl));
    return res;
  }
  if (req.method != "GET" && req.method != "HEAD") return error(405);
  if (const std::string* token = req.headers.find("X-aws-ec2-metadata-token")) {
    std::lock_guard lk(mu_);
    auto it = tokens_.find(*token);
    if (it == tokens_.end() || it->second <= now) return error(401);
  } else if (options_.v2_only) {
    return error(401);
  }
  auto res = get(path);
  if (req.method == "HEAD") {
    res.content_length = res.body.size();
    res.head = true;
  }
  return res;
}

http::Response Imds::credentials_document() {
  const Credential c = current_credentials();
  int64_t updated;
  {
    std::lock_guard lk(mu_);
    updated = last_updated_ms_;
  }
  nlohmann::ordered_json j;
  j["Code"] = "Success";
  j["LastUpdated"] = iso8601(updated);
  j["Type"] = "AWS-HMAC";
  j["AccessKeyId"] = c.access_key;
  j["SecretAccessKey"] = c.secret_key;
  j["Token"] = c.session_token;
  j["Expiration"] = iso8601(*c.expires_ms);
  return text(200, j.dump(2));
}

http::Response Imds::get(const std::string& raw_path) {
  std::string path = raw_path;
  // Directory listings answer with or without their trailing slash.
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string& role = options_.role;
  const std::string az = options_.region + "a";
  if (path == "/") return text(200, "latest");
  if (path == "/latest") return text(200, "dynamic\nmeta-data");
  if (path == "/latest/meta-data")
    return text(200,
                "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\n"
                "services/");
  if (path == "/latest/meta-data/ami-id") return text(200, "ami-0eddcafe000000001");
  if (path == "/latest/meta-data/instance-id") return text(200, kInstanceId);
  if (path == "/latest/meta-data/instance-type") return text(200, "t3.micro");
  if (path == "/latest/meta-data/hostname" || path == "/latest/meta-data/local-hostname")
    return text(200, "ip-127-0-0-1." + options_.region + ".compute.internal");
  if (path == "/latest/meta-data/local-ipv4") return text(200, "127.0.0.1");
  if (path == "/latest/meta-data/placement") return text(200, "availability-zone\nregion");
  if (path == "/latest/meta-data/placement/region") return text(200, options_.region);
  if (path == "/latest/meta-data/placement/availability-zone") return text(200, az);
  if (path == "/latest/meta-data/services") return text(200, "domain\npartition");
  if (path == "/latest/meta-data/services/domain") return text(200, "amazonaws.com");
  if (path == "/latest/meta-data/services/partition") return text(200, "aws");
  if (path == "/latest/meta-data/iam") return text(200, "info\nsecurity-credentials/");
  if (path == "/latest/meta-data/iam/info") {
    int64_t updated;
    current_credentials();
    {
      std::lock_guard lk(mu_);
      updated = last_updated_ms_;
    }
    nlohmann::ordered_json j;
    j["Code"] = "Success";
    j["LastUpdated"] = iso8601(updated);
    j["InstanceProfileArn"] = "arn:aws:iam::" + options_.account_id + ":instance-profile/" + role;
    j["InstanceProfileId"] = "AIPAEDDYEMULATOR00001";
    return text(200, j.dump(2));
  }
  if (path == "/latest/meta-data/iam/security-credentials") return text(200, role);
  if (path == "/latest/meta-data/iam/security-credentials/" + role) return credentials_document();
  if (path == "/latest/dynamic") return text(200, "instance-identity/");
  if (path == "/latest/dynamic/instance-identity") return text(200, "document");
  if (path == "/latest/dynamic/instance-identity/document") {
    nlohmann::ordered_json j;
    j["accountId"] = options_.account_id;
    j["architecture"] = "x86_64";
    j["availabilityZone"] = az;
    j["billingProducts"] = nullptr;
    j["devpayProductCodes"] = nullptr;
    j["marketplaceProductCodes"] = nullptr;
    j["imageId"] = "ami-0eddcafe000000001";
    j["instanceId"] = kInstanceId;
    j["instanceType"] = "t3.micro";
    j["kernelId"] = nullptr;
    j["pendingTime"] = iso8601(started_ms_);
    j["privateIp"] = "127.0.0.1";
    j["ramdiskId"] = nullptr;
    j["region"] = options_.region;
    j["version"] = "2017-09-30";
    return text(200, j.dump(2));
  }
  return error(404);
}

}  // namespace eddy::auth
