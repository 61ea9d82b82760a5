// Streams: CreateStream, DeleteStream, DescribeStream(Summary), ListStreams, DescribeLimits,
// and the tags (AddTagsToStream, RemoveTagsFromStream, ListTagsForStream).
#include "server/kinesis/service_impl.h"

#include <mutex>

#include "server/kinesis/keys.h"
#include "server/kinesis/sequence_number.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {

constexpr uint32_t kOnDemandShards = 4;

// A page of one stream's parts (DescribeStream's shards, ListTagsForStream's tags): "limit"
// (1..max_limit) and the exclusive start member `start_path` (1..128 characters, `pattern`)
// validated with the stream's name, the stream resolved.
std::shared_ptr<Stream> resolve_page(ServiceImpl& svc, Call& c, const std::optional<int64_t>& limit, int64_t max_limit,
                                     std::string_view start_path, const std::optional<std::string>& start,
                                     std::string_view pattern = {}) {
  return svc.resolve(c, [&](Validator& v) {
    v.integer("limit", limit, false, 1, max_limit);
    v.string(start_path, start, false, 1, 128, pattern);
  });
}

const char* mode_name(StreamMode m) { return m == StreamMode::on_demand ? "ON_DEMAND" : "PROVISIONED"; }

json enhanced_monitoring(const Stream& s) {
  return json::array({json{{"ShardLevelMetrics", s.shard_level_metrics}}});
}

// The members DescribeStream and DescribeStreamSummary share (with the stream's lock held).
json description(const Stream& s, const std::string& region, const std::string& account) {
  json d = json::object();
  d["StreamName"] = s.name;
  d["StreamARN"] = s.arn(region, account);
  d["StreamStatus"] = s.status;
  d["StreamModeDetails"] = json{{"StreamMode", mode_name(s.mode)}};
  d["RetentionPeriodHours"] = s.retention_hours;
  d["StreamCreationTimestamp"] = timestamp_value(s.created_ms);
  d["EnhancedMonitoring"] = enhanced_monitoring(s);
  d["EncryptionType"] = s.encryption;
  if (s.encryption == "KMS") d["KeyId"] = s.key_id;
  return d;
}

// A map or list member's count outside 1..max: AWS's length messages, the member `shown`.
void count_constraints(Validator& v, std::string_view path, const std::string& shown, size_t count, size_t max) {
  if (count == 0) v.add(path, shown, "Member must have length greater than or equal to 1");
  if (count > max) v.add(path, shown, "Member must have length less than or equal to " + std::to_string(max));
}

bool valid_tag_chars(std::string_view s) {
  // Unicode letters, digits, white space, _ . / = + - % @ (non-ASCII bytes are letters here).
  for (unsigned char ch : s) {
    if (ch >= 0x80 || isalnum(ch) || isspace(ch)) continue;
    if (std::string_view("_./=+-%@:").find(static_cast<char>(ch)) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

}  // namespace

http::Response ServiceImpl::create_stream(Call& c) {
  auto name = c.in.string("StreamName");
  auto shard_count = c.in.integer("ShardCount");
  const json* mode_details = c.in.object("StreamModeDetails");
  const json* tags = c.in.object("Tags");
  auto max_kib = c.in.integer("MaxRecordSizeInKiB");
  check(c.in);
  const std::optional<std::string> mode = stream_mode(mode_details, c.enc);
  Validator v;
  v.integer("shardCount", shard_count, false, 1, std::nullopt);
  if (mode_details) v.enumeration("streamModeDetails.streamMode", mode, true, {"PROVISIONED", "ON_DEMAND"});
  v.string("streamName", name, true, 1, 128, Validator::kNamePattern);
  v.integer("maxRecordSizeInKiB", max_kib, false, 1024, 10240);
  if (tags) {
    for (auto it = tags->begin(); it != tags->end(); ++it)
      if (!it.value().is_string()) throw ApiError::serialization("Expected map or null");
  }
  check(v);

  bool on_demand = mode ? *mode == "ON_DEMAND" : !shard_count.has_value();
  if (on_demand && shard_count)
    throw errors::shard_count_with_on_demand();
  if (!on_demand && !shard_count)
    throw errors::shard_count_null();
  // Compared as 64-bit: a huge ShardCount must hit the limit, not wrap.
  int64_t count = on_demand ? kOnDemandShards : *shard_count;
  if (tags && tags->size() > 50)
    throw errors::too_many_tags(account(), *name);

  std::unique_lock lk(mu_);
  if (auto it = streams_.find(*name); it != streams_.end()) {
    auto existing = it->second;
    bool gone;
    {
      std::lock_guard slk(existing->mu);
      gone = existing->status == "DELETING" && existing->status_until_ms <= c.now;
    }
    if (!gone)
      throw errors::stream_exists(account(), *name);
    lk.unlock();
    if (!finish_delete(existing)) throw ApiError::internal();
    lk.lock();
  }
  uint32_t open = 0, od = 0;
  for (auto& [n, s] : streams_) {
    std::lock_guard slk(s->mu);
    open += s->open_shard_count();
    od += s->mode == StreamMode::on_demand ? 1 : 0;
  }
  if (static_cast<int64_t>(open) + count > static_cast<int64_t>(config_.shard_limit)) {
    throw errors::shard_limit(account(), open, config_.shard_limit, count);
  }
  if (on_demand && od + 1 > config_.on_demand_stream_limit) {
    throw errors::on_demand_stream_limit(account(), config_.on_demand_stream_limit);
  }

  auto s = std::make_shared<Stream>();
  s->id = next_stream_id_++;
  s->name = *name;
  s->created_ms = c.now;
  s->mode = on_demand ? StreamMode::on_demand : StreamMode::provisioned;
  s->mode_changed_ms = c.now;
  s->set_status(config_.create_stream_ms > 0 ? "CREATING" : "ACTIVE", c.now + config_.create_stream_ms);
  if (max_kib) s->max_record_kib = static_cast<uint32_t>(*max_kib);
  if (tags)
    for (auto it = tags->begin(); it != tags->end(); ++it) s->tags[it.key()] = it.value().get<std::string>();
  auto ranges = wire::even_split(static_cast<uint32_t>(count));
  for (uint32_t i = 0; i < static_cast<uint32_t>(count); ++i) {
    Shard sh;
    sh.index = i;
    sh.range = ranges[i];
    sh.created_ms = c.now;
    s->shards.push_back(sh);
  }
  store::WriteBatch b(store_);
  persist(*s, b);
  std::string id;
  store::put_u32(id, next_stream_id_);
  b.put(store::Family::meta, keys::kNextStreamId, id);
  if (auto st = store_.write(b); !st) throw ApiError::internal();
  streams_[s->name] = s;
  by_id_[s->id] = s;
  return ok_empty(c);
}

http::Response ServiceImpl::delete_stream(Call& c) {
  const StreamRef ref(c.in);
  auto enforce = c.in.boolean("EnforceConsumerDeletion");
  check(c.in);
  Validator v;
  auto s = resolve(c, ref, v);
  {
    std::lock_guard lk(s->mu);
    settle_consumers(*s, c.now);
    if (!s->consumers.empty() && !enforce.value_or(false)) throw errors::stream_has_consumers(account(), s->name);
  }
  if (config_.delete_stream_ms <= 0) {
    if (!finish_delete(s)) throw ApiError::internal();
    return ok_empty(c);
  }
  std::lock_guard lk(s->mu);
  if (s->status != "DELETING")
    change_stream_or_throw(*s, [&] { s->set_status("DELETING", c.now + config_.delete_stream_ms); });
  return ok_empty(c);
}

http::Response ServiceImpl::describe_stream(Call& c) {
  auto limit = c.in.integer("Limit");
  auto start = c.in.string("ExclusiveStartShardId");
  auto s = resolve_page(*this, c, limit, 10000, "exclusiveStartShardId", start, Validator::kNamePattern);
  size_t max = static_cast<size_t>(limit.value_or(100));
  std::optional<uint32_t> after;
  if (start) after = Shard::parse_id(*start);

  std::lock_guard lk(s->mu);
  json d = description(*s, config_.region, config_.account_id);
  bool more = false;
  // After the ExclusiveStartShardId: by index when it parses as a shard id, else by name.
  d["Shards"] = shard_page(
      *s, max,
      [&](const Shard& sh) { return !start || (after ? sh.index > *after : sh.id() > *start); }, &more);
  d["HasMoreShards"] = more;
  return ok(c, json{{"StreamDescription", std::move(d)}});
}

http::Response ServiceImpl::describe_stream_summary(Call& c) {
  auto s = resolve(c, [](Validator&) {});
  std::lock_guard lk(s->mu);
  json d = description(*s, config_.region, config_.account_id);
  d["OpenShardCount"] = s->open_shard_count();
  settle_consumers(*s, c.now);
  d["ConsumerCount"] = s->consumers.size();
  if (s->mode == StreamMode::on_demand && s->warm_throughput_mibps > 0)
    d["WarmThroughput"] = json{{"TargetMiBps", s->warm_throughput_mibps}, {"CurrentMiBps", s->warm_throughput_mibps}};
  d["MaxRecordSizeInKiB"] = s->max_record_kib;
  return ok(c, json{{"StreamDescriptionSummary", std::move(d)}});
}

http::Response ServiceImpl::list_streams(Call& c) {
  auto limit = c.in.integer("Limit");
  auto start = c.in.string("ExclusiveStartStreamName");
  auto token = c.in.string("NextToken");
  check(c.in);
  Validator v;
  v.integer("limit", limit, false, 1, 10000);
  v.string("exclusiveStartStreamName", start, false, 1, 128, Validator::kNamePattern);
  v.string("nextToken", token, false, 1, 1048576);
  check(v);
  std::string after;
  if (start) after = *start;
  if (token) {
    auto from = NextTokenCodec::list_streams_after(*token);
    if (!from) throw errors::invalid_list_streams_token();
    after = std::move(*from);
  }
  size_t max = static_cast<size_t>(std::min<int64_t>(limit.value_or(100), 100));
  json names = json::array(), summaries = json::array();
  bool more = false;
  std::string last;
  for (auto& s : streams_snapshot()) {
    if (!after.empty() && s->name <= after) continue;
    if (!lookup(s->name)) continue;  // settles deletions
    if (names.size() >= max) {
      more = true;
      break;
    }
    std::lock_guard lk(s->mu);
    names.push_back(s->name);
    summaries.push_back(json{{"StreamName", s->name},
                             {"StreamARN", s->arn(config_.region, config_.account_id)},
                             {"StreamStatus", s->status},
                             {"StreamModeDetails", json{{"StreamMode", mode_name(s->mode)}}},
                             {"StreamCreationTimestamp", timestamp_value(s->created_ms)}});
    last = s->name;
  }
  json out = json{{"StreamNames", std::move(names)}, {"HasMoreStreams", more}, {"StreamSummaries", std::move(summaries)}};
  if (more) out["NextToken"] = NextTokenCodec::list_streams(last);
  return ok(c, out);
}

http::Response ServiceImpl::describe_limits(Call& c) {
  return ok(c, json{{"ShardLimit", config_.shard_limit},
                    {"OpenShardCount", account_open_shards()},
                    {"OnDemandStreamCount", account_on_demand_streams()},
                    {"OnDemandStreamCountLimit", config_.on_demand_stream_limit}});
}

void ServiceImpl::validate_tags(Validator& v, const json* tags) {
  if (!tags) {
    v.not_null("tags", false);
    return;
  }
  for (auto it = tags->begin(); it != tags->end(); ++it)
    if (!it.value().is_string()) throw ApiError::serialization("Expected map or null");
  std::string shown = "'{";
  bool first = true, bad_key = false, bad_value = false;
  for (auto it = tags->begin(); it != tags->end(); ++it) {
    shown += (first ? "" : ", ") + it.key() + "=" + it.value().get<std::string>();
    first = false;
    if (it.key().empty() || it.key().size() > 128) bad_key = true;
    if (it.value().get<std::string>().size() > 256) bad_value = true;
  }
  shown += "}'";
  count_constraints(v, "tags", shown, tags->size(), 200);
  if (bad_key)
    v.add("tags", shown, "Map keys must satisfy constraint: [Member must have length less than or equal to 128, "
                         "Member must have length greater than or equal to 1]");
  if (bad_value)
    v.add("tags", shown, "Map value must satisfy constraint: [Member must have length less than or equal to 256, "
                         "Member must have length greater than or equal to 0]");
}

void ServiceImpl::validate_tag_keys(Validator& v, const json* keys) {
  if (!keys) {
    v.not_null("tagKeys", false);
    return;
  }
  std::string shown = "'[";
  bool bad = false;
  for (size_t i = 0; i < keys->size(); ++i) {
    if (!(*keys)[i].is_string()) throw ApiError::serialization("class java.math.BigDecimal can not be converted to an String");
    const auto& k = (*keys)[i].get_ref<const std::string&>();
    shown += (i ? ", " : "") + k;
    if (k.empty() || k.size() > 128) bad = true;
  }
  shown += "]'";
  count_constraints(v, "tagKeys", shown, keys->size(), 50);
  if (bad)
    v.add("tagKeys", shown, "Member must satisfy constraint: [Member must have length less than or equal to 128, "
                            "Member must have length greater than or equal to 1]");
}

void ServiceImpl::merge_tags(std::map<std::string, std::string>& into, const json& tags, std::string_view stream) {
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    if (!valid_tag_chars(it.key()) || !valid_tag_chars(it.value().get<std::string>()))
      throw errors::invalid_tag_characters();
  }
  auto merged = into;
  for (auto it = tags.begin(); it != tags.end(); ++it) merged[it.key()] = it.value().get<std::string>();
  if (merged.size() > 50) throw errors::too_many_tags(account(), stream);
  into = std::move(merged);
}

http::Response ServiceImpl::add_tags(Call& c) {
  const json* tags = c.in.object("Tags");
  auto s = resolve(c, [&](Validator& v) {
    validate_tags(v, tags);
  });
  std::lock_guard lk(s->mu);
  auto merged = s->tags;
  merge_tags(merged, *tags, s->name);
  change_stream_or_throw(*s, [&] { s->tags = std::move(merged); });
  return ok_empty(c);
}

http::Response ServiceImpl::remove_tags(Call& c) {
  const json* keys = c.in.list("TagKeys");
  auto s = resolve(c, [&](Validator& v) {
    validate_tag_keys(v, keys);
  });
  std::lock_guard lk(s->mu);
  change_stream_or_throw(*s, [&] {
    for (const auto& k : *keys) s->tags.erase(k.get<std::string>());
  });
  return ok_empty(c);
}

http::Response ServiceImpl::list_tags(Call& c) {
  auto start = c.in.string("ExclusiveStartTagKey");
  auto limit = c.in.integer("Limit");
  auto s = resolve_page(*this, c, limit, 50, "exclusiveStartTagKey", start);
  std::lock_guard lk(s->mu);
  size_t max = static_cast<size_t>(limit.value_or(50));
  json tags = json::array();
  bool more = false;
  for (auto& [k, val] : s->tags) {
    if (start && k <= *start) continue;
    if (tags.size() >= max) {
      more = true;
      break;
    }
    tags.push_back(json{{"Key", k}, {"Value", val}});
  }
  return ok(c, json{{"Tags", std::move(tags)}, {"HasMoreTags", more}});
}

}  // namespace eddy::kinesis
