#include "server/limits/shard_limiter.h"

#include <spdlog/spdlog.h>

#include "wire/text.h"

namespace eddy::limits {

using nlohmann::json;

namespace {
constexpr const char* kLimitKeys[] = {"write_bytes_per_sec", "write_records_per_sec", "read_calls_per_sec",
                                      "read_bytes_per_sec"};

std::optional<uint64_t>* field(ThrottleOverride& o, std::string_view key) {
  if (key == "write_bytes_per_sec") return &o.write_bytes_per_sec;
  if (key == "write_records_per_sec") return &o.write_records_per_sec;
  if (key == "read_calls_per_sec") return &o.read_calls_per_sec;
  if (key == "read_bytes_per_sec") return &o.read_bytes_per_sec;
  return nullptr;
}
}  // namespace

bool ThrottleOverride::empty() const {
  return !aws && !write_bytes_per_sec && !write_records_per_sec && !read_calls_per_sec && !read_bytes_per_sec;
}

bool ThrottleOverride::from_json(const json& j, ThrottleOverride& out, std::string* error) {
  if (!j.is_object()) {
    if (error) *error = "expected a JSON object";
    return false;
  }
  ThrottleOverride o;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (it->is_null()) continue;
    if (k == "mode") {
      if (!it->is_string() || (it->get<std::string>() != "aws" && it->get<std::string>() != "off")) {
        if (error) *error = "\"mode\" must be \"aws\" or \"off\"";
        return false;
      }
      o.aws = it->get<std::string>() == "aws";
    } else if (auto* f = field(o, k)) {
      if (!it->is_number_unsigned() || it->get<uint64_t>() == 0 || it->get<uint64_t>() > (1ULL << 40)) {
        if (error) *error = "\"" + k + "\" must be a positive integer (at most 2^40)";
        return false;
      }
      *f = it->get<uint64_t>();
    } else {
      if (error)
        *error = "unknown field \"" + k +
                 "\" (mode, write_bytes_per_sec, write_records_per_sec, read_calls_per_sec, read_bytes_per_sec)";
      return false;
    }
  }
  out = o;
  return true;
}

json ThrottleOverride::to_json() const {
  json j = json::object();
  if (aws) j["mode"] = *aws ? "aws" : "off";
  ThrottleOverride& self = const_cast<ThrottleOverride&>(*this);
  for (const char* k : kLimitKeys)
    if (auto* f = field(self, k); f && *f) j[k] = **f;
  return j;
}

void ThrottleOverride::merge(const ThrottleOverride& over) {
  if (over.aws) aws = over.aws;
  if (over.write_bytes_per_sec) write_bytes_per_sec = over.write_bytes_per_sec;
  if (over.write_records_per_sec) write_records_per_sec = over.write_records_per_sec;
  if (over.read_calls_per_sec) read_calls_per_sec = over.read_calls_per_sec;
  if (over.read_bytes_per_sec) read_bytes_per_sec = over.read_bytes_per_sec;
}

bool parse_stream_spec(const std::string& spec, std::string& name, ThrottleOverride& out, std::string* error) {
  auto colon = spec.find(':');
  name = spec.substr(0, colon);
  if (name.empty()) {
    if (error) *error = "--throttle-stream \"" + spec + "\": expected NAME:key=value,...";
    return false;
  }
  json j = json::object();
  if (colon != std::string::npos) {
    for (std::string_view piece : wire::text::split(std::string_view(spec).substr(colon + 1), ',')) {
      const std::string item(piece);
      auto eq = item.find('=');
      if (eq == std::string::npos) {
        if (error) *error = "--throttle-stream \"" + spec + "\": \"" + item + "\" is not key=value";
        return false;
      }
      std::string k = item.substr(0, eq), v = item.substr(eq + 1);
      if (k == "mode") {
        j[k] = v;
      } else {
        try {
          size_t used = 0;
          unsigned long long n = std::stoull(v, &used);
          if (used != v.size()) throw std::invalid_argument(v);
          j[k] = static_cast<uint64_t>(n);
        } catch (const std::exception&) {
          if (error) *error = "--throttle-stream \"" + spec + "\": \"" + v + "\" is not a number";
          return false;
        }
      }
    }
  }
  std::string why;
  if (!ThrottleOverride::from_json(j, out, &why)) {
    if (error) *error = "--throttle-stream \"" + spec + "\": " + why;
    return false;
  }
  return true;
}

ShardLimiter::ShardLimiter(const Config& config) : config_(config) {}

bool ShardLimiter::configure(std::string* error) {
  if (config_.throttle != "off" && config_.throttle != "aws") {
    if (error) *error = "--throttle must be off or aws";
    return false;
  }
  global_aws_.store(config_.throttle == "aws");
  for (const auto& spec : config_.throttle_streams) {
    std::string name;
    ThrottleOverride o;
    if (!parse_stream_spec(spec, name, o, error)) return false;
    config_overrides_[name].merge(o);
  }
  return true;
}

const ThrottleOverride* ShardLimiter::config_override(const std::string& name) const {
  auto it = config_overrides_.find(name);
  return it == config_overrides_.end() ? nullptr : &it->second;
}

ThrottlePolicy ShardLimiter::policy_for(const kinesis::Stream& s) const {
  ThrottleOverride o;
  if (auto* c = config_override(s.name)) o.merge(*c);
  if (!s.throttle_json.empty()) {
    json j = json::parse(s.throttle_json, nullptr, false);
    ThrottleOverride rt;
    if (!j.is_discarded() && ThrottleOverride::from_json(j, rt, nullptr)) o.merge(rt);
  }
  ThrottlePolicy p;
  p.aws = o.aws.value_or(global_aws_.load());
  p.stream_level = s.mode == kinesis::StreamMode::on_demand;
  if (p.stream_level) {
    p.limits.write_bytes_per_sec = kOnDemandWriteBytesPerSec;
    p.limits.write_records_per_sec = kOnDemandWriteRecordsPerSec;
    p.limits.read_bytes_per_sec = kOnDemandReadBytesPerSec;
  }
  if (o.write_bytes_per_sec) p.limits.write_bytes_per_sec = *o.write_bytes_per_sec;
  if (o.write_records_per_sec) p.limits.write_records_per_sec = *o.write_records_per_sec;
  if (o.read_calls_per_sec) p.limits.read_calls_per_sec = *o.read_calls_per_sec;
  if (o.read_bytes_per_sec) p.limits.read_bytes_per_sec = *o.read_bytes_per_sec;
  return p;
}

ShardLimiter::Buckets ShardLimiter::make_buckets(const ThrottlePolicy& p, int64_t now_ms) const {
  Buckets b;
  b.write_records = TokenBucket::per_second(p.limits.write_records_per_sec, now_ms);
  b.write_bytes = TokenBucket::per_second(p.limits.write_bytes_per_sec, now_ms);
  b.read_calls = TokenBucket::per_second(p.limits.read_calls_per_sec, now_ms);
  b.read_bytes = TokenBucket::per_second(p.limits.read_bytes_per_sec, now_ms);
  return b;
}

ShardLimiter::StreamState& ShardLimiter::state_for(const kinesis::Stream& s) {
  auto& st = streams_[s.id];
  std::string key;
  key.reserve(s.throttle_json.size() + 4);
  key += global_aws_.load() ? 'A' : 'o';
  key += s.mode == kinesis::StreamMode::on_demand ? 'D' : 'P';
  key += s.throttle_json;
  if (st.name.empty() || st.key != key) {
    st.name = s.name;
    st.key = std::move(key);
    st.policy = policy_for(s);
    st.shards.clear();
    st.stream.reset();
  }
  return st;
}

bool ShardLimiter::admit_write(const kinesis::Stream& s, const kinesis::Shard& sh, size_t bytes, int64_t now_ms) {
  std::lock_guard lk(mu_);
  auto& st = state_for(s);
  if (!st.policy.aws) return true;
  Buckets* b;
  if (st.policy.stream_level) {
    if (!st.stream) st.stream = make_buckets(st.policy, now_ms);
    b = &*st.stream;
  } else {
    auto it = st.shards.find(sh.index);
    if (it == st.shards.end()) it = st.shards.emplace(sh.index, make_buckets(st.policy, now_ms)).first;
    b = &it->second;
  }
  // Both limits must allow the record before either is charged.
  if (b->write_records.has(1, now_ms) && b->write_bytes.has(bytes, now_ms)) {
    b->write_records.try_take(1, now_ms);
    b->write_bytes.try_take(bytes, now_ms);
    return true;
  }
  ++st.write_throttled;
  write_throttled_.fetch_add(1);
  return false;
}

bool ShardLimiter::admit_read(const kinesis::Stream& s, const kinesis::Shard& sh, int64_t now_ms) {
  std::lock_guard lk(mu_);
  auto& st = state_for(s);
  if (!st.policy.aws) return true;
  auto it = st.shards.find(sh.index);
  if (it == st.shards.end()) it = st.shards.emplace(sh.index, make_buckets(st.policy, now_ms)).first;
  Buckets& b = it->second;
  TokenBucket* bytes = &b.read_bytes;
  if (st.policy.stream_level) {
    if (!st.stream) st.stream = make_buckets(st.policy, now_ms);
    bytes = &st.stream->read_bytes;
  }
  // A call is admitted when the 10 MiB penalty is over, the byte budget is not spent (reads
  // charge it after the fact and may leave it in debt), and a call token is there.
  if (now_ms >= b.read_blocked_until && bytes->positive(now_ms) && b.read_calls.try_take(1, now_ms)) return true;
  ++st.read_throttled;
  read_throttled_.fetch_add(1);
  return false;
}

void ShardLimiter::after_read(const kinesis::Stream& s, const kinesis::Shard& sh, size_t records, size_t bytes,
                              int64_t now_ms) {
  (void)records;
  std::lock_guard lk(mu_);
  // The stream's mutex is not held here: use the policy admit_read cached, don't re-read it.
  auto sit = streams_.find(s.id);
  if (sit == streams_.end() || !sit->second.policy.aws) return;
  auto& st = sit->second;
  auto it = st.shards.find(sh.index);
  if (it == st.shards.end()) return;
  TokenBucket& b = st.policy.stream_level && st.stream ? st.stream->read_bytes : it->second.read_bytes;
  b.charge(bytes, now_ms);
  if (bytes >= kBigReadBytes) it->second.read_blocked_until = now_ms + kBigReadPenaltyMs;
}

void ShardLimiter::on_stream_deleted(const std::string& name) {
  std::lock_guard lk(mu_);
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second.name == name) it = streams_.erase(it);
    else ++it;
  }
}

json ShardLimiter::stream_counters(uint32_t stream_id) const {
  std::lock_guard lk(mu_);
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return json{{"write_throttled", 0}, {"read_throttled", 0}};
  return json{{"write_throttled", it->second.write_throttled}, {"read_throttled", it->second.read_throttled}};
}

}  // namespace eddy::limits
