#include "server/kinesis/stream.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace eddy::kinesis {

using nlohmann::json;

std::string_view Shard::shard_id_into(char (&out)[20], uint32_t index) {
  // "shardId-" and 12 digits, zero-padded (a u32 has at most 10). Every PutRecord names one.
  std::memcpy(out, "shardId-000000000000", sizeof out);
  for (size_t i = sizeof out; index != 0; index /= 10) out[--i] = static_cast<char>('0' + index % 10);
  return std::string_view(out, sizeof out);
}

std::string Shard::shard_id(uint32_t index) {
  char buf[20];
  return std::string(shard_id_into(buf, index));
}

std::optional<uint32_t> Shard::parse_id(std::string_view id) {
  constexpr std::string_view prefix = "shardId-";
  if (id.substr(0, prefix.size()) == prefix) id.remove_prefix(prefix.size());
  if (id.empty() || id.size() > 12) return std::nullopt;
  uint64_t v = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 2147483647ULL) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::string Stream::arn(const std::string& region, const std::string& account) const {
  return "arn:aws:kinesis:" + region + ":" + account + ":stream/" + name;
}

std::string Consumer::arn(const std::string& stream_arn) const {
  return stream_arn + "/consumer/" + name + ":" + std::to_string(created_ms / 1000);
}

Consumer* Stream::find_consumer(std::string_view n) {
  for (auto& c : consumers)
    if (c.name == n) return &c;
  return nullptr;
}

uint32_t Stream::open_shard_count() const {
  uint32_t n = 0;
  for (const auto& s : shards) n += s.open() ? 1 : 0;
  return n;
}

const Shard* Stream::route(wire::u128 key) const {
  for (const auto& s : shards)
    if (s.open() && s.range.contains(key)) return &s;
  return nullptr;
}

Shard* Stream::find(uint32_t index) { return index < shards.size() ? &shards[index] : nullptr; }
const Shard* Stream::find(uint32_t index) const { return index < shards.size() ? &shards[index] : nullptr; }

void Stream::to_json(json& j) const {
  j = json::object();
  j["id"] = id;
  j["name"] = name;
  j["created_ms"] = created_ms;
  j["status"] = status;
  j["status_until_ms"] = status_until_ms;
  j["mode"] = mode == StreamMode::on_demand ? "ON_DEMAND" : "PROVISIONED";
  j["mode_changed_ms"] = mode_changed_ms;
  j["retention_hours"] = retention_hours;
  j["max_record_kib"] = max_record_kib;
  j["tags"] = tags;
  j["encryption"] = encryption;
  j["key_id"] = key_id;
  j["shard_level_metrics"] = shard_level_metrics;
  j["throttle"] = throttle_json;
  json arr = json::array();
  for (const auto& s : shards) {
    json o;
    o["index"] = s.index;
    o["start"] = wire::to_decimal(s.range.start);
    o["end"] = wire::to_decimal(s.range.end);
    if (s.parent) o["parent"] = *s.parent;
    if (s.adjacent_parent) o["adjacent_parent"] = *s.adjacent_parent;
    o["created_ms"] = s.created_ms;
    if (s.closed_ms) o["closed_ms"] = *s.closed_ms;
    o["next_counter"] = s.next_counter;
    arr.push_back(std::move(o));
  }
  j["shards"] = std::move(arr);
  json cs = json::array();
  for (const auto& c : consumers) {
    json o{{"name", c.name}, {"created_ms", c.created_ms}, {"status", c.status},
           {"status_until_ms", c.status_until_ms}};
    if (!c.tags.empty()) o["tags"] = c.tags;
    if (!c.policy.empty()) o["policy"] = c.policy;
    cs.push_back(std::move(o));
  }
  if (!cs.empty()) j["consumers"] = std::move(cs);
  if (!policy.empty()) j["policy"] = policy;
  if (warm_throughput_mibps) j["warm_throughput_mibps"] = warm_throughput_mibps;
}

bool Stream::from_json(const json& j, Stream& s) {
  try {
    s.id = j.at("id").get<uint32_t>();
    s.name = j.at("name").get<std::string>();
    s.created_ms = j.at("created_ms").get<int64_t>();
    s.set_status(j.at("status").get<std::string>(), j.value("status_until_ms", int64_t{0}));
    s.mode = j.value("mode", std::string("PROVISIONED")) == "ON_DEMAND" ? StreamMode::on_demand
                                                                          : StreamMode::provisioned;
    s.mode_changed_ms = j.value("mode_changed_ms", int64_t{0});
    s.retention_hours = j.value("retention_hours", 24u);
    s.max_record_kib = j.value("max_record_kib", 1024u);
    s.tags = j.value("tags", std::map<std::string, std::string>{});
    s.encryption = j.value("encryption", std::string("NONE"));
    s.key_id = j.value("key_id", std::string());
    s.shard_level_metrics = j.value("shard_level_metrics", std::vector<std::string>{});
    s.throttle_json = j.value("throttle", std::string());
    s.shards.clear();
    for (const auto& o : j.at("shards")) {
      Shard sh;
      sh.index = o.at("index").get<uint32_t>();
      auto start = wire::parse_u128(o.at("start").get<std::string>());
      auto end = wire::parse_u128(o.at("end").get<std::string>());
      if (!start || !end) return false;
      sh.range = {*start, *end};
      if (o.contains("parent")) sh.parent = o["parent"].get<uint32_t>();
      if (o.contains("adjacent_parent")) sh.adjacent_parent = o["adjacent_parent"].get<uint32_t>();
      sh.created_ms = o.at("created_ms").get<int64_t>();
      if (o.contains("closed_ms")) sh.closed_ms = o["closed_ms"].get<int64_t>();
      sh.next_counter = o.value("next_counter", uint64_t{1});
      s.shards.push_back(sh);
    }
    s.consumers.clear();
    if (auto it = j.find("consumers"); it != j.end()) {
      for (const auto& o : *it) {
        Consumer c;
        c.name = o.at("name").get<std::string>();
        c.created_ms = o.at("created_ms").get<int64_t>();
        c.status = o.value("status", std::string("ACTIVE"));
        c.status_until_ms = o.value("status_until_ms", int64_t{0});
        c.tags = o.value("tags", std::map<std::string, std::string>{});
        c.policy = o.value("policy", std::string());
        s.consumers.push_back(std::move(c));
      }
    }
    s.policy = j.value("policy", std::string());
    s.warm_throughput_mibps = j.value("warm_throughput_mibps", int64_t{0});
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

StreamSettings StreamSettings::of(const Stream& s) {
  return StreamSettings{s.status,         s.status_until_ms, s.mode,       s.mode_changed_ms,
                        s.retention_hours, s.max_record_kib, s.tags,       s.encryption,
                        s.key_id,         s.shard_level_metrics, s.throttle_json};
}

void StreamSettings::restore(Stream& s) const {
  s.set_status(status, status_until_ms);
  s.mode = mode;
  s.mode_changed_ms = mode_changed_ms;
  s.retention_hours = retention_hours;
  s.max_record_kib = max_record_kib;
  s.tags = tags;
  s.encryption = encryption;
  s.key_id = key_id;
  s.shard_level_metrics = shard_level_metrics;
  s.throttle_json = throttle_json;
}

}  // namespace eddy::kinesis
