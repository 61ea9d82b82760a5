#include "client/producer/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>

namespace eddy::producer {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_uint(std::string_view v, std::uint64_t& out) {
  v = trim(v);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && p == v.data() + v.size() && !v.empty();
}

bool parse_bool(std::string_view v, bool& out) {
  const std::string l = lower(trim(v));
  if (l == "true") return out = true, true;
  if (l == "false") return out = false, true;
  return false;
}

// Settings of the KPL that have no meaning here (credentials, metrics upload, endpoints
// are eddy's own flags): accepted so a real kpl.properties loads unchanged.
constexpr std::string_view kIgnored[] = {
    "region", "metricslevel", "metricsgranularity", "metricsnamespace", "metricsuploaddelay",
    "kinesisendpoint", "kinesisport", "cloudwatchendpoint", "cloudwatchport", "verifycertificate",
    "loglevel", "connecttimeout", "requesttimeout", "enablecoredumps", "threadingmodel",
    "threadpoolsize", "minconnections", "credentialsrefreshdelay", "tempdirectory", "nativeexecutable", "stsendpoint", "stsport",
    "proxyhost", "proxyport", "proxyusername", "proxypassword", "certificatepath"};

}  // namespace

bool set_config(ProducerConfig& c, std::string_view name, std::string_view value,
                std::string* error) {
  const std::string key = lower(trim(name));
  std::uint64_t n = 0;
  auto number = [&](auto& field) {
    if (!parse_uint(value, n)) {
      *error = std::string(name) + ": not a non-negative integer: " + std::string(value);
      return false;
    }
    field = static_cast<std::remove_reference_t<decltype(field)>>(n);
    return true;
  };
  auto millis = [&](std::chrono::milliseconds& field) {
    if (!parse_uint(value, n)) {
      *error = std::string(name) + ": not a number of milliseconds: " + std::string(value);
      return false;
    }
    field = std::chrono::milliseconds(n);
    return true;
  };
  auto boolean = [&](bool& field) {
    if (!parse_bool(value, field)) {
      *error = std::string(name) + ": not true or false: " + std::string(value);
      return false;
    }
    return true;
  };
  if (key == "recordmaxbufferedtime") return millis(c.record_max_buffered_time);
  if (key == "aggregationenabled") return boolean(c.aggregation_enabled);
  if (key == "aggregationmaxcount") return number(c.aggregation_max_count);
  if (key == "aggregationmaxsize") return number(c.aggregation_max_size);
  if (key == "collectionmaxcount") return number(c.collection_max_count);
  if (key == "collectionmaxsize") return number(c.collection_max_size);
  if (key == "ratelimit") return number(c.rate_limit);
  if (key == "recordttl") return millis(c.record_ttl);
  if (key == "maxconnections") return number(c.max_connections);
  if (key == "failifthrottled") return boolean(c.fail_if_throttled);
  if (key == "maxbufferbytes") return number(c.max_buffer_bytes);
  if (std::find(std::begin(kIgnored), std::end(kIgnored), key) != std::end(kIgnored)) return true;
  *error = "unknown producer setting: " + std::string(trim(name));
  return false;
}

bool load_config_file(ProducerConfig& c, const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#' || l.front() == '!') continue;
    const auto sep = l.find_first_of("=:");
    if (sep == std::string_view::npos) {
      *error = path + ":" + std::to_string(lineno) + ": expected Name = value";
      return false;
    }
    std::string err;
    if (!set_config(c, l.substr(0, sep), trim(l.substr(sep + 1)), &err)) {
      *error = path + ":" + std::to_string(lineno) + ": " + err;
      return false;
    }
  }
  return true;
}

bool validate(const ProducerConfig& c, std::string* error) {
  auto bad = [&](std::string m) { return *error = std::move(m), false; };
  if (c.aggregation_max_count < 1) return bad("AggregationMaxCount must be at least 1");
  if (c.aggregation_max_size < 64 || c.aggregation_max_size > 1048576)
    return bad("AggregationMaxSize must be between 64 and 1048576");
  if (c.collection_max_count < 1 || c.collection_max_count > 500)
    return bad("CollectionMaxCount must be between 1 and 500");
  if (c.collection_max_size < 52224 || c.collection_max_size > 9223372036854775807ull)
    return bad("CollectionMaxSize must be at least 52224");
  if (c.rate_limit < 1) return bad("RateLimit must be at least 1");
  if (c.max_connections < 1 || c.max_connections > 256)
    return bad("MaxConnections must be between 1 and 256");
  if (c.record_max_buffered_time.count() > 9223372036854775807ll / 2)
    return bad("RecordMaxBufferedTime is too large");
  if (c.max_buffer_bytes < 1) return bad("MaxBufferBytes must be at least 1");
  return true;
}

}  // namespace eddy::producer
