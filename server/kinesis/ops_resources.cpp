// Resources addressed by ARN (a stream's or a consumer's): TagResource, UntagResource,
// ListTagsForResource, Put/Get/DeleteResourcePolicy (stored and returned, not evaluated); the
// account's settings (Describe/UpdateAccountSettings: the minimum throughput billing
// commitment) and UpdateStreamWarmThroughput.
#include <mutex>

#include "server/kinesis/keys.h"
#include "server/kinesis/service_impl.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {

constexpr std::string_view kResourceArnPattern = "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+";
constexpr int64_t kCommitmentMinMs = 24 * kHourMs;  // a commitment lasts at least 24 hours

}  // namespace

ServiceImpl::Resource ServiceImpl::resolve_resource(Call& c, Validator& v, const std::optional<std::string>& arn_member) {
  v.string("resourceARN", arn_member, true, 1, 2048, kResourceArnPattern);
  check(v);
  const std::string& arn = *arn_member;
  Resource r;
  if (arn.find("/consumer/") != std::string::npos) {
    auto parsed = parse_consumer_arn(arn);
    if (!parsed) throw errors::consumer_arn_not_found(arn);
    ApiError err;
    r.stream = resolve(c, std::nullopt, parsed->stream_arn, err);
    if (!r.stream) throw errors::consumer_arn_not_found(arn);
    r.lock = std::unique_lock(r.stream->mu);
    settle_consumers(*r.stream, c.now);
    const Consumer* k = r.stream->find_consumer(parsed->name);
    if (!k || k->created_ms / 1000 != parsed->created_s) throw errors::consumer_arn_not_found(arn);
    r.consumer = parsed->name;
    return r;
  }
  r.stream = resolve(c, StreamRef::of_arn(arn));
  r.lock = std::unique_lock(r.stream->mu);
  return r;
}

// With the stream's lock held: the tags of the resource.
std::map<std::string, std::string>& ServiceImpl::Resource::tags() const {
  if (consumer) return stream->find_consumer(*consumer)->tags;
  return stream->tags;
}

std::string& ServiceImpl::Resource::policy() const {
  if (consumer) return stream->find_consumer(*consumer)->policy;
  return stream->policy;
}

http::Response ServiceImpl::tag_resource(Call& c) {
  const json* tags = c.in.object("Tags");
  return change_resource_tags(c, tags, true);
}

http::Response ServiceImpl::untag_resource(Call& c) {
  const json* keys = c.in.list("TagKeys");
  return change_resource_tags(c, keys, false);
}

ServiceImpl::Resource ServiceImpl::resolve_resource(Call& c, std::optional<std::string>& arn,
                                                   const std::function<void(Validator&)>& rules) {
  arn = c.in.string("ResourceARN");
  c.in.string("StreamId");
  check(c.in);
  Validator v;
  if (rules) rules(v);
  return resolve_resource(c, v, arn);
}

http::Response ServiceImpl::change_resource_tags(Call& c, const json* input, bool add) {
  std::optional<std::string> arn;
  auto r = resolve_resource(c, arn, [&](Validator& v) {
    if (add) validate_tags(v, input);
    else validate_tag_keys(v, input);
  });
  auto& t = r.tags();
  const auto before = t;
  if (add) {
    merge_tags(t, *input, r.stream->name);
  } else {
    for (const auto& k : *input) t.erase(k.get<std::string>());
  }
  save_or_undo(*r.stream, [&] { t = before; });
  return ok_empty(c);
}

http::Response ServiceImpl::list_tags_for_resource(Call& c) {
  std::optional<std::string> arn;
  auto r = resolve_resource(c, arn);
  json tags = json::array();
  for (const auto& [k, val] : r.tags()) tags.push_back(json{{"Key", k}, {"Value", val}});
  return ok(c, json{{"Tags", std::move(tags)}});
}

http::Response ServiceImpl::put_resource_policy(Call& c) {
  auto arn = c.in.string("ResourceARN");
  c.in.string("StreamId");
  auto policy = c.in.string("Policy");
  check(c.in);
  Validator v;
  v.string("resourceARN", arn, true, 1, 2048, kResourceArnPattern);
  v.not_null("policy", policy.has_value());
  auto r = resolve_resource(c, v, arn);
  // The document must be a JSON object with a Statement (IAM's grammar is not checked further).
  json doc = json::parse(*policy, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("Statement"))
    throw errors::invalid_policy(*arn);
  std::string& p = r.policy();
  const std::string before = p;
  p = *policy;
  save_or_undo(*r.stream, [&] { p = before; });
  return ok_empty(c);
}

http::Response ServiceImpl::get_resource_policy(Call& c) {
  std::optional<std::string> arn;
  auto r = resolve_resource(c, arn);
  const std::string& p = r.policy();
  return ok(c, json{{"Policy", p.empty() ? std::string("{}") : p}});
}

http::Response ServiceImpl::delete_resource_policy(Call& c) {
  std::optional<std::string> arn;
  auto r = resolve_resource(c, arn);
  std::string& p = r.policy();
  if (p.empty()) throw errors::no_policy(*arn);
  const std::string before = p;
  p.clear();
  save_or_undo(*r.stream, [&] { p = before; });
  return ok_empty(c);
}

// ---- account settings --------------------------------------------------------------------------

json ServiceImpl::commitment_json(int64_t now) {
  std::lock_guard lk(account_mu_);
  // A disable scheduled for the earliest allowed end takes effect once it has passed.
  if (commitment_.status == "ENABLED_UNTIL_EARLIEST_ALLOWED_END" && now >= commitment_.earliest_end_ms) {
    commitment_.status = "DISABLED";
    commitment_.ended_ms = commitment_.earliest_end_ms;
  }
  json o{{"Status", commitment_.status}};
  if (commitment_.started_ms) o["StartedAt"] = timestamp_value(commitment_.started_ms);
  if (commitment_.status != "DISABLED" && commitment_.earliest_end_ms)
    o["EarliestAllowedEndAt"] = timestamp_value(commitment_.earliest_end_ms);
  if (commitment_.status != "ENABLED" && commitment_.ended_ms) o["EndedAt"] = timestamp_value(commitment_.ended_ms);
  return o;
}

void ServiceImpl::load_account_settings() {
  auto v = store_.get(store::Family::meta, keys::kAccountSettings);
  if (!v) return;
  json j = json::parse(*v, nullptr, false);
  if (!j.is_object()) return;
  commitment_.status = j.value("status", std::string("DISABLED"));
  commitment_.started_ms = j.value("started_ms", int64_t{0});
  commitment_.earliest_end_ms = j.value("earliest_end_ms", int64_t{0});
  commitment_.ended_ms = j.value("ended_ms", int64_t{0});
}

http::Response ServiceImpl::describe_account_settings(Call& c) {
  return ok(c, json{{"MinimumThroughputBillingCommitment", commitment_json(c.now)}});
}

http::Response ServiceImpl::update_account_settings(Call& c) {
  const json* mtbc = c.in.object("MinimumThroughputBillingCommitment");
  check(c.in);
  std::optional<std::string> status;
  if (mtbc) {
    Reader r{*mtbc, c.enc};
    status = r.string("Status");
    check(r);
  }
  Validator v;
  v.not_null("minimumThroughputBillingCommitment", mtbc != nullptr);
  if (mtbc) v.enumeration("minimumThroughputBillingCommitment.status", status, true, {"ENABLED", "DISABLED"});
  check(v);
  commitment_json(c.now);  // settles a scheduled disable
  {
    std::lock_guard lk(account_mu_);
    const Commitment before = commitment_;
    if (*status == "ENABLED") {
      if (commitment_.status == "DISABLED") {
        commitment_.started_ms = c.now;
        commitment_.earliest_end_ms = c.now + kCommitmentMinMs;
        commitment_.ended_ms = 0;
      }
      commitment_.status = "ENABLED";  // also cancels a scheduled disable
    } else if (commitment_.status != "DISABLED") {
      if (c.now >= commitment_.earliest_end_ms) {
        commitment_.status = "DISABLED";
        commitment_.ended_ms = c.now;
      } else {
        commitment_.status = "ENABLED_UNTIL_EARLIEST_ALLOWED_END";
        commitment_.ended_ms = commitment_.earliest_end_ms;
      }
    }
    json j{{"status", commitment_.status},
           {"started_ms", commitment_.started_ms},
           {"earliest_end_ms", commitment_.earliest_end_ms},
           {"ended_ms", commitment_.ended_ms}};
    store::WriteBatch b(store_);
    b.put(store::Family::meta, keys::kAccountSettings, j.dump());
    if (!store_.write(b)) {
      commitment_ = before;
      throw ApiError::internal();
    }
  }
  return ok(c, json{{"MinimumThroughputBillingCommitment", commitment_json(c.now)}});
}

http::Response ServiceImpl::update_stream_warm_throughput(Call& c) {
  Validator v;
  const StreamRef ref = StreamRef(c.in);
  c.in.string("StreamId");
  auto mibps = c.in.integer("WarmThroughputMiBps");
  check(c.in);
  ref.validate(v);
  v.integer("warmThroughputMiBps", mibps, true, 0, std::nullopt);
  auto s = resolve(c, ref, v);
  const std::string status = commitment_json(c.now)["Status"];
  std::lock_guard lk(s->mu);
  if (s->mode != StreamMode::on_demand) throw errors::warm_throughput_needs_on_demand(account(), s->name);
  if (status == "DISABLED") throw errors::warm_throughput_needs_commitment();
  if (s->status != "ACTIVE") throw errors::stream_not_active(account(), s->name, s->status);
  const int64_t before = s->warm_throughput_mibps;
  s->warm_throughput_mibps = *mibps;
  save_or_undo(*s, [&] { s->warm_throughput_mibps = before; });
  // eddy has no capacity to scale: the target is reached at once.
  return ok(c, json{{"StreamARN", s->arn(config_.region, config_.account_id)},
                    {"StreamName", s->name},
                    {"WarmThroughput", {{"TargetMiBps", *mibps}, {"CurrentMiBps", *mibps}}}});
}

}  // namespace eddy::kinesis
