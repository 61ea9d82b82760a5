// Stream settings: retention, mode, encryption, enhanced monitoring, maximum record size. Each
// changes the stream through change_stream_or_throw: a change that cannot be written is undone.
#include "server/kinesis/service_impl.h"

#include <algorithm>
#include <mutex>
#include <set>

namespace eddy::kinesis {

using nlohmann::json;

http::Response ServiceImpl::retention_change(Call& c, bool increase) {
  auto hours = c.in.integer("RetentionPeriodHours");
  Validator v;
  const StreamRef ref = stream_ref(c.in);
  v.integer("retentionPeriodHours", hours, true, std::nullopt, std::nullopt);
  ref.validate(v);
  check(v);
  int64_t h = *hours;
  if (h < 24)
    throw errors::retention_too_short(h);
  if (h > 8760)
    throw errors::retention_too_long(h);
  auto s = resolve(c, ref);
  std::lock_guard lk(s->mu);
  int64_t cur = s->retention_hours;
  if (increase && h < cur)
    throw errors::retention_below_current(s->name, h, cur);
  if (!increase && h > cur)
    throw errors::retention_above_current(s->name, h, cur);
  change_stream_or_throw(*s, [&] { s->retention_hours = static_cast<uint32_t>(h); });
  return ok_empty(c);
}

http::Response ServiceImpl::increase_retention(Call& c) { return retention_change(c, true); }

http::Response ServiceImpl::decrease_retention(Call& c) { return retention_change(c, false); }

http::Response ServiceImpl::update_stream_mode(Call& c) {
  auto arn = c.in.string("StreamARN");
  const json* details = c.in.object("StreamModeDetails");
  check(c.in);
  const std::optional<std::string> mode = stream_mode(details, c.enc);
  Validator v;
  v.string("streamARN", arn, true, 1, 2048, Validator::kArnPattern);
  if (!details) v.not_null("streamModeDetails", false);
  else v.enumeration("streamModeDetails.streamMode", mode, true, {"PROVISIONED", "ON_DEMAND"});
  check(v);
  auto s = resolve(c, StreamRef::of_arn(arn));
  bool to_od = *mode == "ON_DEMAND";
  if (to_od && account_on_demand_streams() + 1 > config_.on_demand_stream_limit)
    throw errors::on_demand_stream_limit(account());
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    throw errors::stream_not_active(account(), s->name, s->status);
  StreamMode m = to_od ? StreamMode::on_demand : StreamMode::provisioned;
  if (s->mode == m)
    throw errors::already_in_mode(account(), s->name, *mode);
  change_stream_or_throw(*s, [&] {
    s->mode = m;
    s->mode_changed_ms = c.now;
    if (config_.update_stream_ms > 0) s->set_status("UPDATING", c.now + config_.update_stream_ms);
  });
  return ok_empty(c);
}

http::Response ServiceImpl::encryption_change(Call& c, bool start) {
  auto type = c.in.string("EncryptionType");
  auto key = c.in.string("KeyId");
  Validator v;
  const StreamRef ref = stream_ref(c.in);
  v.enumeration("encryptionType", type, true, {"KMS", "NONE"});
  v.string("keyId", key, true, 1, 2048);
  ref.validate(v);
  check(v);
  if (*type != "KMS")
    throw errors::kms_only();
  auto s = resolve(c, ref);
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    throw errors::stream_not_active(account(), s->name, s->status);
  change_stream_or_throw(*s, [&] {
    if (start) {
      s->encryption = "KMS";
      s->key_id = *key;
    } else {
      s->encryption = "NONE";
      s->key_id.clear();
    }
    if (config_.update_stream_ms > 0) s->set_status("UPDATING", c.now + config_.update_stream_ms);
  });
  return ok_empty(c);
}

http::Response ServiceImpl::start_encryption(Call& c) { return encryption_change(c, true); }

http::Response ServiceImpl::stop_encryption(Call& c) { return encryption_change(c, false); }

http::Response ServiceImpl::monitoring_change(Call& c, bool enable) {
  const json* metrics = c.in.list("ShardLevelMetrics");
  const StreamRef ref = stream_ref(c.in);
  static const std::vector<std::string_view> kAll = {
      "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
      "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "ALL"};
  Validator v;
  if (!metrics) v.not_null("shardLevelMetrics", false);
  else if (metrics->empty()) v.add("shardLevelMetrics", "'[]'", "Member must have length greater than or equal to 1");
  ref.validate(v);
  check(v);
  std::set<std::string> asked;
  for (const auto& m : *metrics) {
    if (!m.is_string() || std::find(kAll.begin(), kAll.end(), m.get<std::string>()) == kAll.end())
      throw ApiError::validation("1 validation error detected: Value '" + (m.is_string() ? m.get<std::string>() : m.dump()) +
                                          "' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy "
                                          "enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, "
                                          "OutgoingRecords, WriteProvisionedThroughputExceeded, "
                                          "ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]");
    if (m.get<std::string>() == "ALL")
      for (size_t i = 0; i + 1 < kAll.size(); ++i) asked.insert(std::string(kAll[i]));
    else asked.insert(m.get<std::string>());
  }
  auto s = resolve(c, ref);
  std::lock_guard lk(s->mu);
  json current = s->shard_level_metrics;
  std::set<std::string> now_set(s->shard_level_metrics.begin(), s->shard_level_metrics.end());
  for (const auto& m : asked) {
    if (enable) now_set.insert(m);
    else now_set.erase(m);
  }
  change_stream_or_throw(*s, [&] { s->shard_level_metrics.assign(now_set.begin(), now_set.end()); });
  return ok(c, json{{"StreamName", s->name}, {"StreamARN", s->arn(config_.region, config_.account_id)},
                    {"CurrentShardLevelMetrics", current}, {"DesiredShardLevelMetrics", s->shard_level_metrics}});
}

http::Response ServiceImpl::enable_monitoring(Call& c) { return monitoring_change(c, true); }

http::Response ServiceImpl::disable_monitoring(Call& c) { return monitoring_change(c, false); }

http::Response ServiceImpl::update_max_record_size(Call& c) {
  auto arn = c.in.string("StreamARN");
  auto kib = c.in.integer("MaxRecordSizeInKiB");
  check(c.in);
  Validator v;
  v.string("streamARN", arn, false, 1, 2048, Validator::kArnPattern);
  v.integer("maxRecordSizeInKiB", kib, true, 1024, 10240);
  check(v);
  auto s = resolve(c, StreamRef::of_arn(arn));
  std::lock_guard lk(s->mu);
  change_stream_or_throw(*s, [&] { s->max_record_kib = static_cast<uint32_t>(*kib); });
  return ok_empty(c);
}

}  // namespace eddy::kinesis
