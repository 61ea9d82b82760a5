// SubscribeToShard: an enhanced fan-out consumer's push stream. The answer is an AWS event
// stream (wire/event_stream.h) written through the front end's BodyWriter (HTTP/1.1 chunks or
// HTTP/2 DATA frames): an `initial-response` event, then SubscribeToShardEvent messages.
//
// Records are pushed as they arrive: the hub is one of the service's own hooks, and its
// after_put pokes the subscriptions of the shards a put wrote to, which read from their
// position on their request's loop. A ticker thread (every 100 ms of real time) pokes every
// subscription so that what depends on eddy's clock happens when the clock says so: the end
// after 5 minutes, a shard closed by a reshard (ChildShards, then the end), a heartbeat event
// every 5 s, the --throttle aws budget of 2 MiB/s per shard per consumer refilling.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "server/kinesis/keys.h"
#include "server/kinesis/record_block.h"
#include "server/kinesis/sequence_number.h"
#include "server/kinesis/service_impl.h"
#include "wire/event_stream.h"

namespace eddy::kinesis {

using nlohmann::json;
namespace es = wire::event_stream;

namespace {

constexpr int64_t kSubscriptionMs = 5 * 60 * 1000;  // AWS ends every subscription after 5 minutes
constexpr int64_t kHeartbeatMs = 5000;               // an event at least this often
constexpr size_t kEventBytes = 1024 * 1024;          // records per event, at most about this much
constexpr size_t kMaxQueued = 2 * 1024 * 1024;       // written and not yet taken by the peer
constexpr size_t kThrottleBytesPerSec = 2 * 1024 * 1024;

const char* content_type(Encoding enc) { return enc == Encoding::json ? kJsonContentType : kCborContentType; }

es::Message event(std::string type, Encoding enc, std::string payload) {
  es::Message m;
  m.headers.push_back(es::Header::string(":event-type", std::move(type)));
  m.headers.push_back(es::Header::string(":content-type", content_type(enc)));
  m.headers.push_back(es::Header::string(":message-type", "event"));
  m.payload = std::move(payload);
  return m;
}

}  // namespace

// ---- one subscription ---------------------------------------------------------------------------

struct SubscriptionHub;

struct Subscription : std::enable_shared_from_this<Subscription> {
  std::weak_ptr<SubscriptionHub> hub;
  ServiceImpl* svc = nullptr;
  std::shared_ptr<Stream> stream;
  uint32_t stream_id = 0, shard = 0;
  std::string consumer_name;
  int64_t consumer_created_ms = 0;
  std::string key;  // consumer ARN + " " + shard id: one live subscription per pair
  uint64_t position = 0;
  Encoding enc = Encoding::json;
  int64_t start_ms = 0, end_ms = 0, last_event_ms = 0;
  int64_t window_ms = 0;  // --throttle aws: the current second and what it has sent
  size_t window_bytes = 0;
  bool throttled = false;
  const http::Loop* loop = nullptr;
  std::shared_ptr<http::BodyWriter> writer;  // loop thread only
  std::atomic<bool> started{false};          // the front end has handed over the writer
  std::chrono::steady_clock::time_point accepted_at = std::chrono::steady_clock::now();
  std::atomic<bool> scheduled{false};
  std::atomic<bool> peer_gone{false};  // no more posts to the loop (it may be stopping)
  bool done = false;
  bool waiting_drain = false;

  // From any thread: run pump() on the loop soon (once, however often poked meanwhile).
  void poke() {
    if (!loop || peer_gone.load() || scheduled.exchange(true)) return;
    loop->post([self = shared_from_this()] {
      self->scheduled.store(false);
      self->pump();
    });
  }
  void start(std::shared_ptr<http::BodyWriter> w);
  void pump();
  void end();
  void fail(const ApiError& e);
};

// ---- the hub: live subscriptions, the after-put notifications, the ticker ------------------------

struct SubscriptionHub : KinesisHooks, std::enable_shared_from_this<SubscriptionHub> {
  explicit SubscriptionHub(Clock& c) : clock(c) {}
  ~SubscriptionHub() override { stop(); }

  Clock& clock;
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::shared_ptr<Subscription>> live;  // by key
  std::map<std::string, int64_t> last_started;                // --throttle aws: by key, eddy's clock
  std::thread ticker;
  bool stopping = false;

  // --throttle aws: one SubscribeToShard a second per consumer and shard.
  bool admit(const std::string& key, int64_t now) {
    std::lock_guard lk(mu);
    auto [it, fresh] = last_started.try_emplace(key, now);
    if (!fresh && now - it->second < 1000) return false;
    it->second = now;
    return true;
  }
  // False when a subscription for the same consumer and shard is live.
  bool add(const std::shared_ptr<Subscription>& s) {
    std::lock_guard lk(mu);
    if (live.count(s->key)) return false;
    live[s->key] = s;
    if (!ticker.joinable()) ticker = std::thread([this] { tick_loop(); });
    cv.notify_all();
    return true;
  }
  void remove(const Subscription* s) {
    std::lock_guard lk(mu);
    auto it = live.find(s->key);
    if (it != live.end() && it->second.get() == s) live.erase(it);
  }
  std::vector<std::shared_ptr<Subscription>> snapshot() {
    std::lock_guard lk(mu);
    std::vector<std::shared_ptr<Subscription>> out;
    for (auto& [k, s] : live) out.push_back(s);
    return out;
  }
  void tick_loop() {
    std::unique_lock lk(mu);
    while (!stopping) {
      if (live.empty()) cv.wait(lk);
      else cv.wait_for(lk, std::chrono::milliseconds(100));
      if (stopping) break;
      std::vector<std::shared_ptr<Subscription>> subs;
      for (auto& [k, s] : live) subs.push_back(s);
      lk.unlock();
      const auto real_now = std::chrono::steady_clock::now();
      for (auto& s : subs) {
        // A subscription whose head never went out (the peer left first, or a fault replaced
        // the answer) does not hold its consumer and shard for long.
        if (!s->started.load()) {
          if (real_now - s->accepted_at > std::chrono::seconds(10)) remove(s.get());
        } else {
          s->poke();
        }
      }
      lk.lock();
    }
  }
  void stop() {
    {
      std::lock_guard lk(mu);
      stopping = true;
      cv.notify_all();
    }
    if (ticker.joinable()) ticker.join();
  }

  // The put path's after-put notification: the shards that took records.
  void after_put(const OperationInfo&, const Stream& s, std::span<const PutRecordEvent> accepted,
                 std::span<const PutRejection>) override {
    if (accepted.empty()) return;
    std::vector<std::shared_ptr<Subscription>> hit;
    {
      std::lock_guard lk(mu);
      if (live.empty()) return;
      for (auto& [k, sub] : live) {
        if (sub->stream_id != s.id) continue;
        for (const auto& e : accepted)
          if (e.shard_index == sub->shard) {
            hit.push_back(sub);
            break;
          }
      }
    }
    for (auto& sub : hit) sub->poke();
  }
};

std::shared_ptr<SubscriptionHub> make_subscription_hub(Clock& clock) { return std::make_shared<SubscriptionHub>(clock); }
KinesisHooks* subscription_hooks(SubscriptionHub& hub) { return &hub; }

void Subscription::start(std::shared_ptr<http::BodyWriter> w) {
  writer = std::move(w);
  started.store(true);
  // The peer went (or the server stops): the subscription ends here and now, on the loop
  // thread, so that nothing is posted to a loop that may be going away.
  writer->on_closed([self = shared_from_this()] {
    self->peer_gone.store(true);
    self->done = true;
    if (auto h = self->hub.lock()) h->remove(self.get());
  });
  writer->write(es::encode(event("initial-response", enc, enc == Encoding::json ? "{}" : encode_cbor(json::object()))));
  pump();
}

void Subscription::end() {
  if (done) return;
  done = true;
  if (writer) writer->finish();
  if (auto h = hub.lock()) h->remove(this);
}

void Subscription::fail(const ApiError& e) {
  if (done) return;
  es::Message m;
  m.headers.push_back(es::Header::string(":exception-type", e.type));
  m.headers.push_back(es::Header::string(":content-type", content_type(enc)));
  m.headers.push_back(es::Header::string(":message-type", "exception"));
  m.payload = encode(enc, json{{"message", e.message}});
  writer->write(es::encode(m));
  end();
}

void Subscription::pump() {
  if (done || !writer || waiting_drain) return;
  if (writer->closed()) return end();
  auto h = hub.lock();
  if (!h) return end();
  const int64_t now = h->clock.now_ms();
  if (now >= end_ms) return end();
  if (writer->queued() > kMaxQueued) {
    waiting_drain = true;
    writer->on_drained([self = shared_from_this()] {
      self->waiting_drain = false;
      self->pump();
    });
    return;
  }
  // The stream, the consumer and the shard as they are now.
  auto s = svc->lookup_id(stream_id);
  if (!s || s != stream) {
    return fail(errors::stream_not_found(svc->account(), stream->name));
  }
  Shard sh;
  int64_t retention_ms;
  bool kms;
  std::vector<Shard> children;
  {
    std::lock_guard lk(s->mu);
    svc->settle_consumers(*s, now);
    const Consumer* k = s->find_consumer(consumer_name);
    if (!k || k->created_ms != consumer_created_ms || k->status != "ACTIVE")
      return fail(errors::consumer_arn_not_found(key.substr(0, key.find(' '))));
    sh = *s->find(shard);
    retention_ms = static_cast<int64_t>(s->retention_hours) * kHourMs;
    kms = s->encryption == "KMS";
    if (!sh.open()) children = ServiceImpl::children_of(*s, sh.index);
  }
  // --throttle aws: 2 MiB a second per shard per consumer.
  size_t budget = kEventBytes;
  if (throttled) {
    if (now - window_ms >= 1000) {
      window_ms = now;
      window_bytes = 0;
    }
    if (window_bytes >= kThrottleBytesPerSec) return;  // the ticker comes back
    budget = std::min(budget, kThrottleBytesPerSec - window_bytes);
  }
  const bool heartbeat = now - last_event_ms >= kHeartbeatMs;
  if (position >= sh.next_counter && sh.open() && !heartbeat) return;  // nothing new

  json records = json::array();
  size_t bytes = 0;
  int64_t last_arrival = -1;
  const int64_t cutoff = now - retention_ms;
  if (position < sh.next_counter) {
    std::string p = keys::shard_records(stream_id, shard);
    auto it = svc->store_.iterate(store::Family::records, p, record_key(stream_id, shard, sh.next_counter));
    RecordCursor cursor(*it, stream_id, shard);
    bool stopped = false;  // by the event's size or the throttle, not by the end of the shard
    for (cursor.seek(position); cursor.valid(); cursor.next()) {
      const StoredRecord& r = cursor.record();
      if (r.arrival_ms < cutoff) {
        position = r.counter + 1;
        continue;
      }
      const size_t sz = r.data.size() + r.partition_key.size();
      // One record at least per event, unless --throttle aws has spent part of this second.
      if (bytes + sz > budget && (!records.empty() || (throttled && window_bytes > 0))) {
        stopped = true;
        break;
      }
      json rec{{"SequenceNumber", SequenceNumber{stream_id, shard, r.counter}.str()},
               {"ApproximateArrivalTimestamp", timestamp_value(r.arrival_ms)},
               {"Data", blob_value(r.data)},
               {"PartitionKey", std::string(r.partition_key)}};
      if (kms) rec["EncryptionType"] = "KMS";
      records.push_back(std::move(rec));
      bytes += sz;
      position = r.counter + 1;
      last_arrival = r.arrival_ms;
    }
    // Read to the tip: rows trimmed or expired below it are behind the subscription too.
    if (!stopped && it->status().ok) position = sh.next_counter;
  }
  const bool finished = !sh.open() && position >= sh.next_counter;
  if (records.empty() && !finished && !heartbeat) return;  // throttled: the ticker comes back
  json ev = json::object();
  ev["Records"] = std::move(records);
  if (!finished) ev["ContinuationSequenceNumber"] = SequenceNumber{stream_id, shard, position > 0 ? position - 1 : 0}.str();
  ev["MillisBehindLatest"] = position < sh.next_counter && last_arrival >= 0 ? std::max<int64_t>(0, now - last_arrival) : 0;
  if (finished) ev["ChildShards"] = ServiceImpl::child_shards_json(children);
  const size_t count = ev["Records"].size();
  writer->write(es::encode(event("SubscribeToShardEvent", enc, encode(enc, ev))));
  last_event_ms = now;
  window_bytes += bytes;
  for (auto* hk : svc->hooks_) hk->after_subscribe_event(*s, shard, count, bytes, now);
  if (finished) return end();
  if (position < sh.next_counter) poke();  // more to send: after what is queued has moved on
}

// ---- the operation ----------------------------------------------------------------------------

http::Response ServiceImpl::subscribe_to_shard(Call& c) {
  auto consumer_arn = c.in.string("ConsumerARN");
  c.in.string("StreamId");
  auto shard_id = c.in.string("ShardId");
  const json* pos = c.in.object("StartingPosition");
  check(c.in);
  const Position p = read_position(pos, c.enc, "SequenceNumber");
  const auto& type = p.type;
  const auto& seq = p.member;
  Validator v;
  v.string("consumerARN", consumer_arn, true, 1, 2048,
           "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+");
  v.string("shardId", shard_id, true, 1, 128, Validator::kNamePattern);
  v.not_null("startingPosition", pos != nullptr);
  if (pos) {
    v.enumeration("startingPosition.type", type, true,
                  {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"});
    v.string("startingPosition.sequenceNumber", seq, false, 0, SIZE_MAX, Validator::kSequencePattern);
  }
  check(v);
  if (!c.req.loop) throw ApiError::internal();  // an in-process call has no connection to push to

  // The consumer: its stream, ACTIVE.
  auto parsed = parse_consumer_arn(*consumer_arn);
  if (!parsed) throw errors::consumer_arn_not_found(*consumer_arn);
  ApiError err;
  auto s = resolve(c, std::nullopt, parsed->stream_arn, err);
  if (!s) throw errors::consumer_arn_not_found(*consumer_arn);
  c.shard_id = *shard_id;
  int64_t consumer_created = 0;
  {
    std::lock_guard lk(s->mu);
    settle_consumers(*s, c.now);
    const Consumer* k = s->find_consumer(parsed->name);
    if (!k || k->created_ms / 1000 != parsed->created_s) throw errors::consumer_arn_not_found(*consumer_arn);
    if (k->status != "ACTIVE") throw errors::subscriber_not_active(account(), s->name, k->name, parsed->created_s);
    consumer_created = k->created_ms;
  }

  // The starting position, as GetShardIterator finds it (its checks and messages).
  json gsi{{"StreamARN", parsed->stream_arn}, {"ShardId", *shard_id}, {"ShardIteratorType", *type}};
  if (auto m = pos->find("SequenceNumber"); m != pos->end() && !m->is_null()) gsi["StartingSequenceNumber"] = *m;
  if (auto m = pos->find("Timestamp"); m != pos->end() && !m->is_null()) gsi["Timestamp"] = *m;
  Call inner(c.req, c.enc);
  inner.operation = "GetShardIterator";
  inner.input = std::move(gsi);
  inner.now = c.now;
  http::Response started = get_shard_iterator(inner);
  if (started.status != 200) return started;
  json out;
  ApiError decode_err;
  if (!decode_body(c.enc, started.body, out, decode_err) || !out.contains("ShardIterator")) throw ApiError::internal();
  auto it = iterators_->decode(out["ShardIterator"].get<std::string>());
  if (!it) throw ApiError::internal();

  auto sub = std::make_shared<Subscription>();
  sub->hub = subscriptions_;
  sub->svc = this;
  sub->stream = s;
  sub->stream_id = it->stream_id;
  sub->shard = it->shard_index;
  sub->consumer_name = parsed->name;
  sub->consumer_created_ms = consumer_created;
  sub->key = *consumer_arn + " " + Shard::shard_id(it->shard_index);
  sub->position = it->position;
  sub->enc = c.enc;
  sub->start_ms = c.now;
  sub->end_ms = c.now + kSubscriptionMs;
  sub->last_event_ms = c.now - kHeartbeatMs;  // the first event goes out at once
  sub->throttled = config_.throttle == "aws";
  sub->loop = c.req.loop;
  if (sub->throttled && !subscriptions_->admit(sub->key, c.now))
    throw errors::subscribe_rate_exceeded(*consumer_arn, Shard::shard_id(it->shard_index));
  if (!subscriptions_->add(sub)) throw errors::subscription_in_use();

  http::Response res;
  res.headers.add("Content-Type", "application/vnd.amazon.eventstream");
  res.push = [sub](std::shared_ptr<http::BodyWriter> w) { sub->start(std::move(w)); };
  return res;
}

}  // namespace eddy::kinesis
