#include "client/producer/tool_options.h"

#include <algorithm>
#include <cstdio>

namespace eddy::producer {

namespace {
struct Setting {
  const char* flag;
  const char* kpl;
  const char* help;
};
constexpr Setting kSettings[] = {
    {"--record-max-buffered-time", "RecordMaxBufferedTime", "ms a record may wait to be aggregated and collected (100)"},
    {"--aggregation-enabled", "AggregationEnabled", "true/false: KPL aggregation (true)"},
    {"--aggregation-max-count", "AggregationMaxCount", "user records per aggregate (4294967295)"},
    {"--aggregation-max-size", "AggregationMaxSize", "bytes per aggregated record (51200)"},
    {"--collection-max-count", "CollectionMaxCount", "Kinesis records per PutRecords (500)"},
    {"--collection-max-size", "CollectionMaxSize", "bytes per PutRecords (5242880; put: 1 MiB)"},
    {"--rate-limit", "RateLimit", "percent of a shard's limits to send at most (150)"},
    {"--record-ttl", "RecordTtl", "ms before an unsent record fails as expired (30000)"},
    {"--max-connections", "MaxConnections", "concurrent PutRecords requests (24; put: 4)"},
    {"--fail-if-throttled", "FailIfThrottled", "true/false: fail throttled records instead of retrying (false)"},
    {"--max-buffer-bytes", "MaxBufferBytes", "user-record bytes buffered before put blocks (67108864; put: 4 MiB)"},
};
}  // namespace

void KplFlags::add_to(CLI::App& cmd, const std::vector<std::string>& skip) {
  cmd.add_option("--config", config_file, "KPL properties file (Name = value lines, KPL names)");
  for (const Setting& s : kSettings) {
    if (std::find(skip.begin(), skip.end(), s.kpl) != skip.end()) continue;
    const std::string kpl = s.kpl;
    cmd.add_option_function<std::string>(
        s.flag, [this, kpl](const std::string& v) { values[kpl] = v; },
        std::string(s.kpl) + ": " + s.help);
  }
}

bool KplFlags::build(ProducerConfig& c, std::string* error) const {
  if (!config_file.empty() && !load_config_file(c, config_file, error)) return false;
  for (const auto& [name, value] : values)
    if (!set_config(c, name, value, error)) return false;
  return validate(c, error);
}

std::string json_seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace eddy::producer
