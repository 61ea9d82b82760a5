// Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers, DeregisterStreamConsumer. Consumers live in their stream's row
// (Stream::consumers, persisted with it); CREATING -> ACTIVE after --register-consumer-delay-ms
// and DELETING -> gone after --deregister-consumer-delay-ms, on eddy's clock.
#include "server/kinesis/service_impl.h"

#include <mutex>

#include "server/kinesis/sequence_number.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {

constexpr std::string_view kConsumerArnPattern =
    "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+";

json consumer_json(const Consumer& k, const std::string& stream_arn, bool with_stream) {
  json o{{"ConsumerName", k.name},
         {"ConsumerARN", k.arn(stream_arn)},
         {"ConsumerStatus", k.status},
         {"ConsumerCreationTimestamp", timestamp_value(k.created_ms)}};
  if (with_stream) o["StreamARN"] = stream_arn;
  return o;
}

}  // namespace

std::optional<ServiceImpl::ConsumerArn> ServiceImpl::parse_consumer_arn(std::string_view arn) {
  auto slash = arn.find(":stream/");
  auto mid = arn.rfind("/consumer/");
  auto colon = arn.rfind(':');
  if (slash == std::string_view::npos || mid == std::string_view::npos || mid < slash || colon < mid) return std::nullopt;
  ConsumerArn out;
  out.stream_arn = std::string(arn.substr(0, mid));
  out.name = std::string(arn.substr(mid + 10, colon - mid - 10));
  int64_t s = 0;
  std::string_view digits = arn.substr(colon + 1);
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return std::nullopt;
    s = s * 10 + (ch - '0');
  }
  out.created_s = s;
  return out;
}

bool ServiceImpl::settle_consumers(Stream& s, int64_t now) {
  bool changed = false;
  for (auto it = s.consumers.begin(); it != s.consumers.end();) {
    if (it->status == "CREATING" && it->status_until_ms <= now) {
      it->status = "ACTIVE";
      it->status_until_ms = 0;
      changed = true;
    } else if (it->status == "DELETING" && it->status_until_ms <= now) {
      it = s.consumers.erase(it);
      changed = true;
      continue;
    }
    ++it;
  }
  if (changed) {
    store::WriteBatch b(store_);
    persist(s, b);
    // The transitions follow from the clock: a lost write is redone at the next lookup or start.
    store_.write(b).ignore_failure("consumer status transitions are re-derived from the clock");
  }
  return changed;
}

ServiceImpl::FoundConsumer ServiceImpl::find_consumer(Call& c) {
  auto stream_arn = c.in.string("StreamARN");
  auto name = c.in.string("ConsumerName");
  auto consumer_arn = c.in.string("ConsumerARN");
  c.in.string("StreamId");
  check(c.in);
  Validator v;
  v.string("streamARN", stream_arn, false, 1, 2048, Validator::kArnPattern);
  v.string("consumerName", name, false, 1, 128, Validator::kNamePattern);
  v.string("consumerARN", consumer_arn, false, 1, 2048, kConsumerArnPattern);
  check(v);
  FoundConsumer f;
  if (consumer_arn) {
    auto parsed = parse_consumer_arn(*consumer_arn);
    if (!parsed) throw errors::consumer_arn_not_found(*consumer_arn);
    if (stream_arn && *stream_arn != parsed->stream_arn)
      throw errors::consumer_arn_and_stream_differ(*consumer_arn, *stream_arn);
    if (name && *name != parsed->name) throw errors::consumer_arn_and_name_differ(*consumer_arn, *name);
    ApiError err;
    f.stream = resolve(c, std::nullopt, parsed->stream_arn, err);
    if (!f.stream) throw errors::consumer_arn_not_found(*consumer_arn);
    std::lock_guard lk(f.stream->mu);
    settle_consumers(*f.stream, c.now);
    const Consumer* k = f.stream->find_consumer(parsed->name);
    if (!k || k->created_ms / 1000 != parsed->created_s) throw errors::consumer_arn_not_found(*consumer_arn);
    f.name = k->name;
    return f;
  }
  if (!stream_arn || !name) throw errors::consumer_needs_arn_or_name();
  f.stream = resolve(c, StreamRef::of_arn(stream_arn));
  std::lock_guard lk(f.stream->mu);
  settle_consumers(*f.stream, c.now);
  if (!f.stream->find_consumer(*name)) throw errors::consumer_not_found(account(), f.stream->name, *name);
  f.name = *name;
  return f;
}

http::Response ServiceImpl::register_consumer(Call& c) {
  auto stream_arn = c.in.string("StreamARN");
  auto name = c.in.string("ConsumerName");
  c.in.string("StreamId");
  const json* tags = c.in.object("Tags");
  check(c.in);
  Validator v;
  v.string("streamARN", stream_arn, true, 1, 2048, Validator::kArnPattern);
  v.string("consumerName", name, true, 1, 128, Validator::kNamePattern);
  if (tags) validate_tags(v, tags);
  check(v);
  auto s = resolve(c, StreamRef::of_arn(stream_arn));
  // "Only 5 consumers can be created simultaneously" (the API reference): a sixth while five of
  // the account's consumers are CREATING is LimitExceededException. Counted before this
  // stream's lock is taken (one stream lock at a time); only a --register-consumer-delay-ms
  // keeps consumers CREATING.
  if (config_.register_consumer_ms > 0) {
    size_t creating = 0;
    for (const auto& other : streams_snapshot()) {
      std::lock_guard lk(other->mu);
      settle_consumers(*other, c.now);
      for (const auto& k : other->consumers) creating += k.status == "CREATING";
    }
    if (creating >= kMaxCreatingConsumers) throw errors::consumers_creating(account(), kMaxCreatingConsumers);
  }
  std::lock_guard lk(s->mu);
  settle_consumers(*s, c.now);
  if (s->status != "ACTIVE" && s->status != "UPDATING") throw errors::stream_not_active(account(), s->name, s->status);
  if (s->find_consumer(*name)) throw errors::consumer_exists(account(), s->name, *name);
  if (s->consumers.size() >= kMaxConsumersPerStream)
    throw errors::consumer_limit(account(), s->name, kMaxConsumersPerStream);
  Consumer k;
  if (tags) merge_tags(k.tags, *tags, s->name);
  k.name = *name;
  k.created_ms = c.now;
  k.status = config_.register_consumer_ms > 0 ? "CREATING" : "ACTIVE";
  k.status_until_ms = config_.register_consumer_ms > 0 ? c.now + config_.register_consumer_ms : 0;
  s->consumers.push_back(k);
  save_or_undo(*s, [&] { s->consumers.pop_back(); });
  return ok(c, json{{"Consumer", consumer_json(k, *stream_arn, false)}});
}

http::Response ServiceImpl::describe_consumer(Call& c) {
  auto f = find_consumer(c);
  std::lock_guard lk(f.stream->mu);
  const Consumer* k = f.stream->find_consumer(f.name);
  if (!k) throw errors::consumer_not_found(account(), f.stream->name, f.name);
  return ok(c, json{{"ConsumerDescription",
                     consumer_json(*k, f.stream->arn(config_.region, config_.account_id), true)}});
}

http::Response ServiceImpl::list_consumers(Call& c) {
  auto stream_arn = c.in.string("StreamARN");
  auto token = c.in.string("NextToken");
  auto max = c.in.integer("MaxResults");
  auto created = c.in.timestamp("StreamCreationTimestamp");
  c.in.string("StreamId");
  check(c.in);
  Validator v;
  v.string("streamARN", stream_arn, true, 1, 2048, Validator::kArnPattern);
  v.string("nextToken", token, false, 1, 1048576);
  v.integer("maxResults", max, false, 1, 10000);
  check(v);
  auto s = resolve(c, StreamRef::of_arn(stream_arn));
  size_t after = 0;
  if (token) {
    auto st = next_tokens_->open(*token);
    if (!st || !st->contains("lsc") || (*st)["lsc"] != s->id || !st->contains("i") || !(*st)["i"].is_number_unsigned())
      throw errors::invalid_list_streams_token();
    if (c.now - st->value("t", int64_t{0}) > kIteratorLifetimeMs) throw errors::expired_next_token();
    after = (*st)["i"].get<size_t>();
  }
  std::lock_guard lk(s->mu);
  settle_consumers(*s, c.now);
  if (created && *created / 1000 != s->created_ms / 1000)
    throw errors::stream_not_found(account(), s->name);
  const std::string sarn = s->arn(config_.region, config_.account_id);
  const size_t limit = static_cast<size_t>(max.value_or(100));
  json list = json::array();
  size_t i = after;
  for (; i < s->consumers.size() && list.size() < limit; ++i) list.push_back(consumer_json(s->consumers[i], sarn, false));
  json out{{"Consumers", std::move(list)}};
  if (i < s->consumers.size()) out["NextToken"] = next_tokens_->seal(json{{"lsc", s->id}, {"i", i}, {"t", c.now}});
  return ok(c, out);
}

http::Response ServiceImpl::deregister_consumer(Call& c) {
  auto f = find_consumer(c);
  std::lock_guard lk(f.stream->mu);
  auto& list = f.stream->consumers;
  auto it = std::find_if(list.begin(), list.end(), [&](const Consumer& k) { return k.name == f.name; });
  if (it == list.end()) throw errors::consumer_not_found(account(), f.stream->name, f.name);
  if (it->status == "DELETING")
    throw errors::consumer_not_active(account(), f.stream->name, it->name, it->created_ms / 1000);
  const Consumer before = *it;
  if (config_.deregister_consumer_ms > 0) {
    it->status = "DELETING";
    it->status_until_ms = c.now + config_.deregister_consumer_ms;
  } else {
    list.erase(it);
  }
  save_or_undo(*f.stream, [&] {
    if (auto* k = f.stream->find_consumer(before.name)) *k = before;
    else list.push_back(before);
  });
  return ok_empty(c);
}

}  // namespace eddy::kinesis
