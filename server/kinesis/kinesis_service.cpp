#include "server/kinesis/kinesis_service.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "server/kinesis/errors.h"
#include "server/kinesis/keys.h"
#include "server/kinesis/next_token.h"
#include "server/kinesis/put_fast_parser.h"
#include "server/kinesis/record_block.h"
#include "server/kinesis/sequence_number.h"
#include "server/kinesis/validation.h"
#include "wire/base64.h"

namespace eddy::kinesis {

using nlohmann::json;
using wire::u128;

namespace {
constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr size_t kMaxRequestRecordBytes = 10 * 1024 * 1024;
constexpr size_t kMaxGetRecordsBytes = 10 * 1024 * 1024;
constexpr int64_t kHourMs = 3600LL * 1000;
constexpr uint32_t kOnDemandShards = 4;

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

// x-amz-id-2: 72 opaque bytes in base64, as AWS sends. It identifies nothing, so a fast
// per-thread generator (seeded once from the CSPRNG) serves instead of RAND_bytes per response.
std::string amz_id_2() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
    return seed | 1;
  }();
  char raw[72];
  for (size_t i = 0; i < sizeof raw; i += 8) {
    // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    memcpy(raw + i, &z, 8);
  }
  return wire::base64_encode(std::string_view(raw, sizeof raw));
}

const char* mode_name(StreamMode m) { return m == StreamMode::on_demand ? "ON_DEMAND" : "PROVISIONED"; }

json hash_range_json(const wire::HashRange& r) {
  return json{{"StartingHashKey", wire::to_decimal(r.start)}, {"EndingHashKey", wire::to_decimal(r.end)}};
}
}  // namespace

namespace {
size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::optional<std::string> owned(const std::optional<std::string_view>& v) {
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

}  // namespace

struct KinesisService::Call {
  http::Request& req;
  Encoding enc;
  std::string operation;
  json input;
  Reader in;
  int64_t now;
  OperationInfo info() const {
    return OperationInfo{operation, stream_name, req.request_id, now, shard_id, partition_key};
  }
  std::string stream_name;
  std::string shard_id;       // for hooks: the request's ShardId (GetRecords: the iterator's)
  std::string partition_key;  // for hooks: PutRecord's PartitionKey
  // Set when a JSON PutRecords was read by the fast parser (c.input is then empty).
  std::unique_ptr<FastPut> fast_put;
  Call(http::Request& r, Encoding e) : req(r), enc(e), in(input, e) {}
};

KinesisService::KinesisService(const Config& config, Clock& clock, store::Store& store)
    : config_(config), clock_(clock), store_(store) {
  ops_ = {
      {"CreateStream", &KinesisService::create_stream},
      {"DeleteStream", &KinesisService::delete_stream},
      {"DescribeStream", &KinesisService::describe_stream},
      {"DescribeStreamSummary", &KinesisService::describe_stream_summary},
      {"ListStreams", &KinesisService::list_streams},
      {"ListShards", &KinesisService::list_shards},
      {"PutRecord", &KinesisService::put_record},
      {"PutRecords", &KinesisService::put_records},
      {"GetShardIterator", &KinesisService::get_shard_iterator},
      {"GetRecords", &KinesisService::get_records},
      {"SplitShard", &KinesisService::split_shard},
      {"MergeShards", &KinesisService::merge_shards},
      {"UpdateShardCount", &KinesisService::update_shard_count},
      {"IncreaseStreamRetentionPeriod", &KinesisService::increase_retention},
      {"DecreaseStreamRetentionPeriod", &KinesisService::decrease_retention},
      {"AddTagsToStream", &KinesisService::add_tags},
      {"RemoveTagsFromStream", &KinesisService::remove_tags},
      {"ListTagsForStream", &KinesisService::list_tags},
      {"DescribeLimits", &KinesisService::describe_limits},
      {"UpdateStreamMode", &KinesisService::update_stream_mode},
      {"StartStreamEncryption", &KinesisService::start_encryption},
      {"StopStreamEncryption", &KinesisService::stop_encryption},
      {"EnableEnhancedMonitoring", &KinesisService::enable_monitoring},
      {"DisableEnhancedMonitoring", &KinesisService::disable_monitoring},
      {"UpdateMaxRecordSize", &KinesisService::update_max_record_size},
  };
}

KinesisService::~KinesisService() = default;

bool KinesisService::load(std::string* error) {
  // The secret that signs iterators and NextTokens: persisted, so they survive restarts.
  auto secret = store_.get(store::Family::meta, keys::kIteratorSecret);
  if (!secret) {
    secret = random_bytes(32);
    store::WriteBatch b(store_);
    b.put(store::Family::meta, keys::kIteratorSecret, *secret);
    if (auto st = store_.write(b); !st) {
      if (error) *error = st.message;
      return false;
    }
  }
  next_tokens_ = std::make_unique<NextTokenCodec>(*secret);
  iterators_ = std::make_unique<ShardIteratorCodec>(*secret);
  if (auto v = store_.get(store::Family::meta, keys::kNextStreamId); v && v->size() == 4)
    next_stream_id_ = store::get_u32(*v, 0);

  auto it = store_.iterate(store::Family::meta, keys::kStreamsBegin, keys::kStreamsEnd);
  for (it->seek(keys::kStreamsBegin); it->valid(); it->next()) {
    json j = json::parse(it->value(), nullptr, false);
    auto s = std::make_shared<Stream>();
    if (j.is_discarded() || !Stream::from_json(j, *s)) {
      if (error) *error = "corrupt stream record " + std::string(it->key());
      return false;
    }
    // Counters: the persisted high-water mark, or past the last stored record.
    for (auto& sh : s->shards) {
      if (auto c = store_.get(store::Family::meta, keys::counter(s->id, sh.index)); c && c->size() == 8)
        sh.next_counter = std::max(sh.next_counter, store::get_u64(*c, 0));
      auto rit = store_.iterate(store::Family::records, keys::shard_records(s->id, sh.index),
                                keys::prefix_end(keys::shard_records(s->id, sh.index)));
      rit->seek_for_prev(record_key(s->id, sh.index, UINT64_MAX));
      BlockHeader h;
      if (rit->valid() && rit->key().size() == 16 && parse_block_header(rit->value(), h))
        sh.next_counter = std::max(sh.next_counter, store::get_u64(rit->key(), 8) + h.count);
    }
    next_stream_id_ = std::max(next_stream_id_, s->id + 1);
    by_id_[s->id] = s;
    streams_[s->name] = s;
  }
  return it->status().ok || (error && (*error = it->status().message, false));
}

// ---- HTTP entry ---------------------------------------------------------------------------

http::Dispatch KinesisService::dispatch(http::Request& req) {
  http::BufferBody b;
  b.max_bytes = config_.max_kinesis_body_bytes;
  b.handle = [this](http::Request& r) { return handle(r); };
  b.too_large = [](http::Request&) {
    http::Response res;
    res.status = 413;
    res.headers.add("x-amz-id-2", amz_id_2());
    res.headers.add("Content-Type", "text/plain");
    res.body = "Request Entity Too Large\n";
    return res;
  };
  (void)req;
  return b;
}

http::Response KinesisService::fail(Encoding enc, const ApiError& e) {
  http::Response res;
  res.status = e.status;
  res.headers.add("Content-Type", enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amzn-ErrorType", e.type);
  res.headers.add("x-amz-id-2", amz_id_2());
  res.body = encode_error(enc, e);
  return res;
}

http::Response KinesisService::fail(Call& c, const ApiError& e) { return fail(c.enc, e); }

http::Response KinesisService::ok(Call& c, const json& out) {
  http::Response res;
  res.headers.add("Content-Type", c.enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amz-id-2", amz_id_2());
  res.body = encode(c.enc, out);
  return res;
}

http::Response KinesisService::ok_body(Encoding enc, std::string body) {
  http::Response res;
  res.headers.reserve(4);  // these two, then x-amzn-RequestId and Date from the front end
  res.headers.add("Content-Type", enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amz-id-2", amz_id_2());
  res.body = std::move(body);
  return res;
}

http::Response KinesisService::ok_empty(Call& c) {
  http::Response res;
  res.headers.add("Content-Type", c.enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amz-id-2", amz_id_2());
  if (c.enc == Encoding::cbor) res.body = encode_cbor(json::object());
  return res;
}

http::Response KinesisService::handle(http::Request& req) {
  std::string_view ct = req.headers.get("Content-Type");
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  Encoding enc;
  if (http::iequals(ct, kJsonContentType) || http::iequals(ct, "application/json")) {
    enc = Encoding::json;
  } else if (http::iequals(ct, kCborContentType)) {
    enc = Encoding::cbor;
  } else if (req.body.empty()) {
    enc = Encoding::cbor;  // AWS answers an empty body of unknown type in CBOR
  } else {
    http::Response res;
    res.status = 404;
    res.headers.add("x-amz-id-2", amz_id_2());
    res.body = "<UnknownOperationException/>\n";
    return res;
  }

  std::string_view target = req.headers.get("X-Amz-Target");
  std::string_view op_name;
  if (target.substr(0, kTargetPrefix.size()) == kTargetPrefix) op_name = target.substr(kTargetPrefix.size());
  auto op = ops_.find(op_name);
  if (op == ops_.end()) return fail(enc, ApiError{"UnknownOperationException", "", 400, ApiError::MessageKey::none});

  Call c(req, enc);
  c.operation = std::string(op_name);
  c.now = clock_.now_ms();
  ApiError err;
  if (enc == Encoding::json && (op_name == "PutRecords" || op_name == "PutRecord")) {
    c.fast_put = std::make_unique<FastPut>();
    const bool parsed = op_name == "PutRecords" ? parse_put_records_fast(req.body, *c.fast_put)
                                                : parse_put_record_fast(req.body, *c.fast_put);
    if (!parsed) c.fast_put.reset();
  }
  if (c.fast_put) {
    if (c.fast_put->name) c.stream_name = std::string(*c.fast_put->name);
    else if (auto a = c.fast_put->arn; a && a->find(":stream/") != std::string_view::npos)
      c.stream_name = std::string(a->substr(a->find(":stream/") + 8));
    if (op_name == "PutRecord") c.partition_key = std::string(c.fast_put->entries[0].partition_key);
  } else if (req.body.empty() || !decode_body(enc, req.body, c.input, err)) {
    return fail(c, ApiError::serialization(""));
  }

  // Name for hooks and logs (validated by the operation itself).
  if (auto n = c.input.find("StreamName"); n != c.input.end() && n->is_string()) {
    c.stream_name = n->get<std::string>();
  } else if (auto a = c.input.find("StreamARN"); a != c.input.end() && a->is_string()) {
    auto s = a->get<std::string>();
    auto p = s.find(":stream/");
    if (p != std::string::npos) c.stream_name = s.substr(p + 8);
  }
  if (auto s = c.input.find("ShardId"); s != c.input.end() && s->is_string()) c.shard_id = s->get<std::string>();
  if (auto k = c.input.find("PartitionKey"); k != c.input.end() && k->is_string())
    c.partition_key = k->get<std::string>();
  auto done = [&](http::Response r) {
    if (r.pending) return r;  // the operation runs the hooks when it finishes it
    for (auto* h : hooks_) h->after_operation(c.info(), r);
    return r;
  };
  for (auto* h : hooks_)
    if (auto e = h->before_operation(c.info())) return done(fail(c, *e));
  try {
    return done((this->*(op->second))(c));
  } catch (const std::exception& e) {
    spdlog::error("kinesis {} failed: {}", c.operation, e.what());
    return done(fail(c, ApiError::internal()));
  }
}

// ---- stream lookup ------------------------------------------------------------------------

std::shared_ptr<Stream> KinesisService::lookup(const std::string& name) {
  std::shared_ptr<Stream> s;
  {
    std::shared_lock lk(mu_);
    auto it = streams_.find(name);
    if (it == streams_.end()) return nullptr;
    s = it->second;
  }
  if (s->stable.load(std::memory_order_acquire)) return s;  // ACTIVE: nothing to settle
  bool gone = false;
  {
    std::lock_guard lk(s->mu);
    settle(*s, clock_.now_ms());
    gone = s->status == "DELETING" && s->status_until_ms <= clock_.now_ms();
  }
  if (gone) {
    finish_delete(s);
    return nullptr;
  }
  return s;
}

std::shared_ptr<Stream> KinesisService::lookup_id(uint32_t id) {
  std::string name;
  {
    std::shared_lock lk(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return nullptr;
    name = it->second->name;
  }
  auto s = lookup(name);
  return s && s->id == id ? s : nullptr;
}

std::shared_ptr<Stream> KinesisService::find_stream_by_name(const std::string& name) const {
  std::shared_lock lk(mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Stream>> KinesisService::streams_snapshot() const {
  std::shared_lock lk(mu_);
  std::vector<std::shared_ptr<Stream>> out;
  for (auto& [n, s] : streams_) out.push_back(s);
  return out;
}

void KinesisService::settle(Stream& s, int64_t now) {
  if ((s.status == "CREATING" || s.status == "UPDATING") && s.status_until_ms <= now) {
    s.set_status("ACTIVE");
    store::WriteBatch b(store_);
    persist(s, b);
    store_.write(b);
  }
}

void KinesisService::finish_delete(const std::shared_ptr<Stream>& s) {
  {
    std::unique_lock lk(mu_);
    auto it = streams_.find(s->name);
    if (it == streams_.end() || it->second != s) return;
    streams_.erase(it);
    by_id_.erase(s->id);
    deleted_names_[s->id] = s->name;
  }
  store::WriteBatch b(store_);
  b.del(store::Family::meta, keys::stream(s->name));
  {
    // A put that resolved the stream before it left the map (a queued PutRecord, see
    // commit_puts) finds it DELETING under the mutex and answers ResourceNotFound; one that
    // wrote before is removed by the range delete below.
    std::lock_guard lk(s->mu);
    s->set_status("DELETING", 0);
    for (const auto& sh : s->shards) b.del(store::Family::meta, keys::counter(s->id, sh.index));
  }
  std::string p = keys::stream_records(s->id);
  b.delete_range(store::Family::records, p, keys::prefix_end(p));
  store_.write(b);
  for (auto* h : hooks_) h->on_stream_deleted(s->name);
}

bool KinesisService::persist(const Stream& s, store::WriteBatch& batch) {
  json j;
  s.to_json(j);
  batch.put(store::Family::meta, keys::stream(s.name), j.dump());
  return true;
}

bool KinesisService::save_stream(const Stream& s) {
  store::WriteBatch b(store_);
  persist(s, b);
  return store_.write(b).ok;
}

std::shared_ptr<Stream> KinesisService::resolve(Call& c, const std::optional<std::string>& name,
                                                const std::optional<std::string>& arn, ApiError& err) {
  std::string n;
  if (arn) {
    auto p = arn->find(":stream/");
    std::string from_arn = p == std::string::npos ? std::string() : arn->substr(p + 8);
    if (name && *name != from_arn) {
      err = errors::arn_and_name_differ(*arn, *name);
      return nullptr;
    }
    // The account and region of the ARN must be ours.
    std::string expect = "arn:aws:kinesis:" + config_.region + ":" + config_.account_id + ":stream/" + from_arn;
    if (*arn != expect) {
      err = errors::stream_not_found(account(), from_arn);
      return nullptr;
    }
    n = from_arn;
  } else if (name) {
    n = *name;
  } else {
    err = errors::stream_name_null();
    return nullptr;
  }
  c.stream_name = n;
  auto s = lookup(n);
  if (!s) err = errors::stream_not_found(account(), n);
  return s;
}

uint32_t KinesisService::account_open_shards() {
  uint32_t n = 0;
  for (auto& s : streams_snapshot()) {
    std::lock_guard lk(s->mu);
    n += s->open_shard_count();
  }
  return n;
}

uint32_t KinesisService::account_on_demand_streams() {
  uint32_t n = 0;
  for (auto& s : streams_snapshot()) {
    std::lock_guard lk(s->mu);
    n += s->mode == StreamMode::on_demand ? 1 : 0;
  }
  return n;
}

// Validation of the members every stream-addressed operation has.
static void validate_stream_ref(Validator& v, const std::optional<std::string>& name,
                                const std::optional<std::string>& arn, bool required = true) {
  // StreamName is optional in the model now that StreamARN exists; with neither, AWS reports
  // the name as missing (in the same message as the other members' errors).
  v.string("streamName", name, required && !arn, 1, 128, Validator::kNamePattern);
  v.string("streamARN", arn, false, 1, 2048, Validator::kArnPattern);
}

// ---- control plane ------------------------------------------------------------------------

http::Response KinesisService::create_stream(Call& c) {
  auto name = c.in.string("StreamName");
  auto shard_count = c.in.integer("ShardCount");
  const json* mode_details = c.in.object("StreamModeDetails");
  const json* tags = c.in.object("Tags");
  auto max_kib = c.in.integer("MaxRecordSizeInKiB");
  if (c.in.failed()) return fail(c, *c.in.error);
  std::optional<std::string> mode;
  if (mode_details) {
    Reader r{*mode_details, c.enc};
    mode = r.string("StreamMode");
    if (r.failed()) return fail(c, *r.error);
  }
  Validator v;
  v.integer("shardCount", shard_count, false, 1, std::nullopt);
  if (mode_details) v.enumeration("streamModeDetails.streamMode", mode, true, {"PROVISIONED", "ON_DEMAND"});
  v.string("streamName", name, true, 1, 128, Validator::kNamePattern);
  v.integer("maxRecordSizeInKiB", max_kib, false, 1024, 10240);
  if (tags) {
    for (auto it = tags->begin(); it != tags->end(); ++it)
      if (!it.value().is_string()) return fail(c, ApiError::serialization("Expected map or null"));
  }
  if (!v.ok()) return fail(c, v.error());

  bool on_demand = mode ? *mode == "ON_DEMAND" : !shard_count.has_value();
  if (on_demand && shard_count)
    return fail(c, errors::shard_count_with_on_demand());
  if (!on_demand && !shard_count)
    return fail(c, errors::shard_count_null());
  // Compared as 64-bit: a huge ShardCount must hit the limit, not wrap.
  int64_t count = on_demand ? kOnDemandShards : *shard_count;
  if (tags && tags->size() > 50)
    return fail(c, errors::too_many_tags(account(), *name));

  std::unique_lock lk(mu_);
  if (auto it = streams_.find(*name); it != streams_.end()) {
    auto existing = it->second;
    bool gone;
    {
      std::lock_guard slk(existing->mu);
      gone = existing->status == "DELETING" && existing->status_until_ms <= c.now;
    }
    if (!gone)
      return fail(c, errors::stream_exists(account(), *name));
    lk.unlock();
    finish_delete(existing);
    lk.lock();
  }
  uint32_t open = 0, od = 0;
  for (auto& [n, s] : streams_) {
    std::lock_guard slk(s->mu);
    open += s->open_shard_count();
    od += s->mode == StreamMode::on_demand ? 1 : 0;
  }
  if (static_cast<int64_t>(open) + count > static_cast<int64_t>(config_.shard_limit)) {
    return fail(c, errors::shard_limit(account(), open, config_.shard_limit, count));
  }
  if (on_demand && od + 1 > config_.on_demand_stream_limit) {
    return fail(c, errors::on_demand_stream_limit(account(), config_.on_demand_stream_limit));
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
  if (auto st = store_.write(b); !st) return fail(c, ApiError::internal());
  streams_[s->name] = s;
  by_id_[s->id] = s;
  return ok_empty(c);
}

http::Response KinesisService::delete_stream(Call& c) {
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  c.in.boolean("EnforceConsumerDeletion");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  if (config_.delete_stream_ms <= 0) {
    finish_delete(s);
    return ok_empty(c);
  }
  std::lock_guard lk(s->mu);
  if (s->status != "DELETING") {
    s->set_status("DELETING", c.now + config_.delete_stream_ms);
    store::WriteBatch b(store_);
    persist(*s, b);
    store_.write(b);
  }
  return ok_empty(c);
}

void KinesisService::shard_json(const Stream& s, const Shard& sh, json& o) const {
  o = json::object();
  o["ShardId"] = sh.id();
  if (sh.parent) o["ParentShardId"] = Shard::shard_id(*sh.parent);
  if (sh.adjacent_parent) o["AdjacentParentShardId"] = Shard::shard_id(*sh.adjacent_parent);
  o["HashKeyRange"] = hash_range_json(sh.range);
  json seq = json::object();
  seq["StartingSequenceNumber"] = SequenceNumber{s.id, sh.index, 0}.str();
  if (!sh.open()) seq["EndingSequenceNumber"] = SequenceNumber{s.id, sh.index, sh.next_counter - 1}.str();
  o["SequenceNumberRange"] = std::move(seq);
}

static json enhanced_monitoring(const Stream& s) {
  return json::array({json{{"ShardLevelMetrics", s.shard_level_metrics}}});
}

http::Response KinesisService::describe_stream(Call& c) {
  auto limit = c.in.integer("Limit");
  auto start = c.in.string("ExclusiveStartShardId");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.integer("limit", limit, false, 1, 10000);
  v.string("exclusiveStartShardId", start, false, 1, 128, Validator::kNamePattern);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  size_t max = static_cast<size_t>(limit.value_or(100));
  std::optional<uint32_t> after;
  if (start) after = Shard::parse_id(*start);

  std::lock_guard lk(s->mu);
  json d = json::object();
  d["StreamName"] = s->name;
  d["StreamARN"] = s->arn(config_.region, config_.account_id);
  d["StreamStatus"] = s->status;
  d["StreamModeDetails"] = json{{"StreamMode", mode_name(s->mode)}};
  json shards = json::array();
  bool more = false;
  for (const auto& sh : s->shards) {
    if (start && (!after || sh.index <= *after)) {
      if (!after && sh.id() <= *start) continue;
      if (after) continue;
    }
    if (shards.size() >= max) {
      more = true;
      break;
    }
    json o;
    shard_json(*s, sh, o);
    shards.push_back(std::move(o));
  }
  d["Shards"] = std::move(shards);
  d["HasMoreShards"] = more;
  d["RetentionPeriodHours"] = s->retention_hours;
  d["StreamCreationTimestamp"] = timestamp_value(s->created_ms);
  d["EnhancedMonitoring"] = enhanced_monitoring(*s);
  d["EncryptionType"] = s->encryption;
  if (s->encryption == "KMS") d["KeyId"] = s->key_id;
  return ok(c, json{{"StreamDescription", std::move(d)}});
}

http::Response KinesisService::describe_stream_summary(Call& c) {
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  json d = json::object();
  d["StreamName"] = s->name;
  d["StreamARN"] = s->arn(config_.region, config_.account_id);
  d["StreamStatus"] = s->status;
  d["StreamModeDetails"] = json{{"StreamMode", mode_name(s->mode)}};
  d["RetentionPeriodHours"] = s->retention_hours;
  d["StreamCreationTimestamp"] = timestamp_value(s->created_ms);
  d["EnhancedMonitoring"] = enhanced_monitoring(*s);
  d["EncryptionType"] = s->encryption;
  if (s->encryption == "KMS") d["KeyId"] = s->key_id;
  d["OpenShardCount"] = s->open_shard_count();
  d["ConsumerCount"] = 0;
  d["MaxRecordSizeInKiB"] = s->max_record_kib;
  return ok(c, json{{"StreamDescriptionSummary", std::move(d)}});
}

http::Response KinesisService::list_streams(Call& c) {
  auto limit = c.in.integer("Limit");
  auto start = c.in.string("ExclusiveStartStreamName");
  auto token = c.in.string("NextToken");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.integer("limit", limit, false, 1, 10000);
  v.string("exclusiveStartStreamName", start, false, 1, 128, Validator::kNamePattern);
  v.string("nextToken", token, false, 1, 1048576);
  if (!v.ok()) return fail(c, v.error());
  std::string after;
  if (start) after = *start;
  if (token) {
    auto from = NextTokenCodec::list_streams_after(*token);
    if (!from) return fail(c, errors::invalid_list_streams_token());
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

http::Response KinesisService::list_shards(Call& c) {
  auto start = c.in.string("ExclusiveStartShardId");
  auto max_results = c.in.integer("MaxResults");
  auto token = c.in.string("NextToken");
  auto created = c.in.timestamp("StreamCreationTimestamp");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  const json* filter = c.in.object("ShardFilter");
  if (c.in.failed()) return fail(c, *c.in.error);
  std::optional<std::string> ftype, fshard;
  std::optional<int64_t> fts;
  if (filter) {
    Reader r{*filter, c.enc};
    ftype = r.string("Type");
    fshard = r.string("ShardId");
    fts = r.timestamp("Timestamp");
    if (r.failed()) return fail(c, *r.error);
  }
  Validator v;
  v.string("exclusiveStartShardId", start, false, 1, 128, Validator::kNamePattern);
  v.integer("maxResults", max_results, false, 1, 10000);
  v.string("nextToken", token, false, 1, 1048576);
  validate_stream_ref(v, name, arn, false);
  if (filter) {
    v.enumeration("shardFilter.type", ftype, true,
                  {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP",
                   "FROM_TIMESTAMP"});
    v.string("shardFilter.shardId", fshard, false, 1, 128, Validator::kNamePattern);
  }
  if (!v.ok()) return fail(c, v.error());

  // A NextToken carries the stream, the filter and the last shard listed.
  json state;
  if (token) {
    if (name) return fail(c, errors::next_token_with("StreamName"));
    if (arn) return fail(c, errors::next_token_with("StreamARN"));
    if (start)
      return fail(c, errors::next_token_with("ExclusiveStartShardId"));
    if (filter) return fail(c, errors::next_token_with("ShardFilter"));
    if (created)
      return fail(c, errors::next_token_with("StreamCreationTimestamp"));
    auto opened = next_tokens_->open(*token);
    if (!opened || !opened->contains("s") || !opened->contains("t")) return fail(c, errors::malformed_shard_token());
    state = std::move(*opened);
    if (c.now - state["t"].get<int64_t>() > kIteratorLifetimeMs)
      return fail(c, errors::expired_next_token());
    name = state["s"].get<std::string>();
    if (state.contains("f")) ftype = state["f"].get<std::string>();
    if (state.contains("fs")) fshard = state["fs"].get<std::string>();
    if (state.contains("ft")) fts = state["ft"].get<int64_t>();
    if (state.contains("a")) start = state["a"].get<std::string>();
  } else if (!name && !arn) {
    return fail(c, errors::next_token_or_stream_name());
  }
  if (ftype && (*ftype == "AT_TIMESTAMP" || *ftype == "FROM_TIMESTAMP") && !fts)
    return fail(c, errors::filter_needs_timestamp(*ftype));
  if (ftype && *ftype == "AFTER_SHARD_ID" && !fshard)
    return fail(c, errors::filter_needs_shard_id());

  ApiError err;
  auto s = resolve(c, name, token ? std::nullopt : arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  if (created && *created / 1000 != s->created_ms / 1000)
    return fail(c, errors::stream_not_found(account(), s->name));
  // AWS documents 1..10000 as valid but returns at most 1000 shards a page.
  size_t max = static_cast<size_t>(std::min<int64_t>(max_results.value_or(1000), 1000));
  int64_t horizon = c.now - static_cast<int64_t>(s->retention_hours) * kHourMs;
  std::optional<std::string> after = start;
  if (ftype && *ftype == "AFTER_SHARD_ID") after = fshard;
  auto included = [&](const Shard& sh) {
    if (!ftype || *ftype == "AFTER_SHARD_ID") return true;
    bool initial = !sh.parent && !sh.adjacent_parent;
    int64_t opened = initial ? INT64_MIN : sh.created_ms;
    if (*ftype == "AT_LATEST") return sh.open();
    if (*ftype == "FROM_TRIM_HORIZON") return sh.open() || *sh.closed_ms >= horizon;
    if (*ftype == "AT_TRIM_HORIZON")
      return opened <= horizon && (sh.open() || *sh.closed_ms > horizon);
    int64_t ts = std::max(*fts, horizon);
    if (*ftype == "AT_TIMESTAMP") return opened <= *fts && (sh.open() || *sh.closed_ms >= *fts);
    return sh.open() || *sh.closed_ms >= ts;  // FROM_TIMESTAMP
  };
  json shards = json::array();
  bool more = false;
  std::string last;
  for (const auto& sh : s->shards) {
    if (after && sh.id() <= *after) continue;
    if (!included(sh)) continue;
    if (shards.size() >= max) {
      more = true;
      break;
    }
    json o;
    shard_json(*s, sh, o);
    shards.push_back(std::move(o));
    last = sh.id();
  }
  json out = json{{"Shards", std::move(shards)}};
  if (more) {
    json t = json{{"s", s->name}, {"t", c.now}, {"a", last}};
    if (ftype) t["f"] = *ftype;
    if (fshard) t["fs"] = *fshard;
    if (fts) t["ft"] = *fts;
    out["NextToken"] = next_tokens_->seal(std::move(t));
  }
  return ok(c, out);
}

// ---- data plane ---------------------------------------------------------------------------

namespace {

// Validates one entry's members (paths prefixed for PutRecords) in AWS's order.
void validate_entry(Validator& v, const std::string& prefix, const std::optional<std::string>& pk,
                    const std::optional<std::string>& ehk, const std::optional<std::string>& data) {
  v.string(prefix + "partitionKey", pk, true, 1, 256);
  v.string(prefix + "explicitHashKey", ehk, false, 0, SIZE_MAX, Validator::kHashKeyPattern);
  if (!data) v.not_null(prefix + "data", false);
  else if (data->size() > 10 * 1024 * 1024)
    v.add(prefix + "data", errors::heap_buffer(data->size()), "Member must have length less than or equal to 10485760");
}
}  // namespace

// A PutRecord that passed validation and waits for its write (commit_puts). The request
// outlives it: its session waits for the answer.
struct KinesisService::PutEntry {
  std::shared_ptr<Stream> stream;
  Encoding enc = Encoding::json;
  int64_t now = 0;
  u128 key;
  bool explicit_key = false;
  std::string pk, data;
  RecordBlockWriter block;
  std::string_view request_id;
  std::string stream_name;  // for hooks
  std::shared_ptr<http::Pending> pending;  // null: answered by put_record itself
  // Set by the commit.
  bool written = false;
  uint32_t shard_index = 0;
  uint64_t counter = 0;
  wire::HashRange range;
  std::string encryption;
  http::Response response;  // an error, when not written
  OperationInfo info() const { return OperationInfo{"PutRecord", stream_name, request_id, now, {}, pk}; }
};

// The PutRecords that one loop has read since its last commit.
struct KinesisService::PutQueue {
  std::vector<PutEntry> items, spare;
  bool scheduled = false;
};

http::Response KinesisService::put_record(Call& c) {
  std::optional<std::string> seq_order, pk, ehk, data, name, arn;
  if (c.fast_put) {
    const FastPut& f = *c.fast_put;
    const RecordEntry& e = f.entries[0];
    seq_order = owned(f.sequence_number_for_ordering);
    pk = std::string(e.partition_key);
    ehk = owned(e.explicit_hash_key);
    data = std::string(e.data);
    name = owned(f.name);
    arn = owned(f.arn);
  } else {
    seq_order = c.in.string("SequenceNumberForOrdering");
    pk = c.in.string("PartitionKey");
    ehk = c.in.string("ExplicitHashKey");
    data = c.in.blob("Data");
    name = c.in.string("StreamName");
    arn = c.in.string("StreamARN");
    if (c.in.failed()) return fail(c, *c.in.error);
  }
  Validator v;
  v.string("sequenceNumberForOrdering", seq_order, false, 0, SIZE_MAX, Validator::kSequencePattern);
  validate_entry(v, "", pk, ehk, data);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);

  PutEntry e;
  if (ehk) {
    auto k = wire::parse_u128(*ehk);
    if (!k)
      return fail(c, errors::bad_explicit_hash_key(*ehk));
    e.key = *k;
    e.explicit_key = true;
  } else {
    e.key = wire::hash_key_of_partition_key(*pk);
  }
  if (seq_order && !SequenceNumber::parse(*seq_order)) {
    return fail(c, errors::bad_sequence_for_ordering(account(), s->name, *seq_order));
  }
  e.stream = std::move(s);
  e.enc = c.enc;
  e.now = c.now;
  e.pk = std::move(*pk);
  e.data = std::move(*data);
  // The row is made before the stream's lock is taken, hooks and the response after it is
  // released: two workers putting to one stream meet less often.
  e.block.reserve(1, e.pk.size() + e.data.size());
  e.block.start(c.now);
  e.block.add(e.pk, e.data);
  e.request_id = c.req.request_id;
  e.stream_name = c.stream_name;  // handle() still names the stream to its hooks

  if (!c.req.loop) {
    // In-process call: commit now (handle() runs the after_operation hooks).
    std::vector<PutEntry> one;
    one.push_back(std::move(e));
    commit_puts(one);
    return finish_put(one[0]);
  }
  // Through the front end: queue it, and commit once the loop has settled, that is once
  // every request it has read whole has reached its handler. PutRecords that arrived
  // together then share one stream lock and one write; a lone one is committed at once.
  auto pending = std::make_shared<http::Pending>();
  e.pending = pending;
  http::Loop& loop = *c.req.loop;
  PutQueue& q = loop.local<PutQueue>(this);
  q.items.push_back(std::move(e));
  if (!q.scheduled) {
    q.scheduled = true;
    loop.when_settled([this, &q] { commit_queued(q); });
  }
  http::Response res;
  res.pending = std::move(pending);
  return res;
}

void KinesisService::commit_queued(PutQueue& q) {
  q.scheduled = false;
  q.spare.swap(q.items);  // puts queued while these commit go to the next round
  try {
    commit_puts(q.spare);
    for (auto& p : q.spare) {
      http::Response r = finish_put(p);
      for (auto* h : hooks_) h->after_operation(p.info(), r);
      p.pending->complete(std::move(r));
    }
  } catch (const std::exception& ex) {
    // Every queued put is answered once. Those left get InternalFailure, as a client may get
    // after a timeout (its record may have been written: a retry duplicates it).
    spdlog::error("kinesis PutRecord commit failed: {}", ex.what());
    for (auto& p : q.spare)
      if (!p.pending->done()) p.pending->complete(fail(p.enc, ApiError::internal()));
  }
  q.spare.clear();
}

void KinesisService::commit_puts(std::vector<PutEntry>& puts) {
  // Consecutive puts to one stream are one run: one lock, one write.
  for (size_t begin = 0, end; begin < puts.size(); begin = end) {
    Stream& s = *puts[begin].stream;
    size_t run_bytes = 0;
    for (end = begin; end < puts.size() && puts[end].stream.get() == &s; ++end) run_bytes += puts[end].block.size();
    store::WriteBatch b(store_, run_bytes + (end - begin) * 32);  // + per put: key, lengths, family
    std::lock_guard lk(s.mu);
    // Stamped under the lock: arrival times then never go backwards along a shard's counters
    // (AT_TIMESTAMP searches on that), although a put may wait a turn of its loop to commit.
    const int64_t arrival = clock_.now_ms();
    for (size_t i = begin; i < end; ++i) {
      PutEntry& e = puts[i];
      if (s.status != "ACTIVE" && s.status != "UPDATING") {
        e.response = fail(e.enc, errors::stream_not_found(account(), s.name));
        continue;
      }
      const size_t bytes = e.data.size() + e.pk.size();
      const size_t max_bytes = static_cast<size_t>(s.max_record_kib) * 1024;
      if (bytes > max_bytes) {
        e.response = fail(e.enc, errors::record_too_large("data", e.data.size(), e.pk.size(), max_bytes));
        continue;
      }
      Shard* sh = const_cast<Shard*>(s.route(e.key));
      if (!sh) {
        e.response = fail(e.enc, ApiError::internal());
        continue;
      }
      bool admitted = true;
      for (auto* h : hooks_) {
        if (!h->admit_write(s, *sh, bytes, e.now)) {
          const PutRejection rejected{sh->index, true};
          for (auto* o : hooks_) o->after_put(e.info(), s, {}, std::span(&rejected, 1));
          e.response = fail(e.enc, errors::shard_throttled(account(), s.name, sh->id()));
          admitted = false;
          break;
        }
      }
      if (!admitted) continue;
      e.counter = sh->next_counter++;
      e.shard_index = sh->index;
      e.range = sh->range;
      e.encryption = s.encryption;
      e.written = true;
      char rkey[16];
      record_key_into(rkey, s.id, sh->index, e.counter);
      e.block.set_arrival(arrival);
      b.put(store::Family::records, std::string_view(rkey, sizeof rkey), e.block.finish());
    }
    if (b.count() == 0) continue;
    if (auto st = store_.write(b); !st) {
      spdlog::error("PutRecord write failed: {}", st.message);
      // Nothing of the run was written: hand the counters back (the lock is still held).
      for (size_t i = end; i-- > begin;) {
        PutEntry& e = puts[i];
        if (!e.written) continue;
        s.shards[e.shard_index].next_counter = e.counter;
        e.written = false;
        e.response = fail(e.enc, ApiError::internal());
      }
    }
  }
}

http::Response KinesisService::finish_put(PutEntry& e) {
  if (!e.written) return std::move(e.response);
  const PutRecordEvent ev{e.pk, e.data, e.explicit_key ? std::optional<u128>(e.key) : std::nullopt, e.range,
                          e.shard_index};
  for (auto* h : hooks_) h->after_put(e.info(), *e.stream, std::span(&ev, 1), {});
  const SequenceNumber seq{e.stream->id, e.shard_index, e.counter};
  char id_buf[20];
  const std::string_view shard_id = Shard::shard_id_into(id_buf, e.shard_index);
  std::string body;
  body.reserve(160);
  if (e.enc == Encoding::json) {
    body += "{\"ShardId\":\"";
    body += shard_id;
    body += "\",\"SequenceNumber\":\"";
    seq.append_to(body);
    body += "\",\"EncryptionType\":";
    emit::json_string(body, e.encryption);
    body += '}';
  } else {
    emit::cbor_head(body, 5, 3);
    emit::cbor_text(body, "ShardId");
    emit::cbor_text(body, shard_id);
    emit::cbor_text(body, "SequenceNumber");
    emit::cbor_head(body, 3, kSequenceNumberDigits);
    seq.append_to(body);
    emit::cbor_text(body, "EncryptionType");
    emit::cbor_text(body, e.encryption);
  }
  return ok_body(e.enc, std::move(body));
}

http::Response KinesisService::put_records(Call& c) {
  std::optional<std::string> name, arn;
  Validator v;
  std::vector<RecordEntry> parsed;
  std::vector<RecordEntry>& entries = c.fast_put ? c.fast_put->entries : parsed;
  if (c.fast_put) {
    if (c.fast_put->name) name = std::string(*c.fast_put->name);
    if (c.fast_put->arn) arn = std::string(*c.fast_put->arn);
  } else {
    const json* records = c.in.list("Records");
    name = c.in.string("StreamName");
    arn = c.in.string("StreamARN");
    if (c.in.failed()) return fail(c, *c.in.error);
    if (!records) {
      v.not_null("records", false);
    } else {
      if (records->empty())
        v.add("records", "'[]'", "Member must have length greater than or equal to 1");
      if (records->size() > 500) {
        std::string shown = "'[";
        for (size_t i = 0; i < records->size(); ++i)
          shown += (i ? ", " : "") + std::string("com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310");
        shown += "]'";
        v.add("records", shown, "Member must have length less than or equal to 500");
      }
      entries.reserve(records->size());
      size_t i = 0;
      for (const auto& r : *records) {
        ++i;
        if (!r.is_object()) {
          if (r.is_array()) return fail(c, ApiError::serialization("Start of list found where not expected"));
          return fail(c, ApiError::serialization("Expected null"));
        }
        auto member = [&](const char* n) -> const json* {
          auto f = r.find(n);
          return f == r.end() || f->is_null() ? nullptr : &*f;
        };
        const json* pkj = member("PartitionKey");
        const json* ehkj = member("ExplicitHashKey");
        const json* dj = member("Data");
        bool types_ok = (!pkj || pkj->is_string()) && (!ehkj || ehkj->is_string()) &&
                        (!dj || dj->is_string() || dj->is_binary());
        if (!types_ok) {
          Reader rr{r, c.enc};  // for AWS's wording of the type error
          rr.string("PartitionKey");
          rr.string("ExplicitHashKey");
          rr.blob("Data");
          return fail(c, rr.error ? *rr.error : ApiError::serialization(""));
        }
        RecordEntry& e = entries.emplace_back();  // reserved: views into `decoded` stay valid
        if (pkj) e.partition_key = pkj->get_ref<const std::string&>();
        if (ehkj) e.explicit_hash_key = std::string_view(ehkj->get_ref<const std::string&>());
        if (dj && dj->is_binary()) {
          const auto& bin = dj->get_binary();
          e.data = std::string_view(reinterpret_cast<const char*>(bin.data()), bin.size());
        } else if (dj) {
          if (!wire::base64_decode_append(dj->get_ref<const std::string&>(), e.decoded)) {
            std::optional<ApiError> be;
            blob_of(*dj, c.enc, be);
            return fail(c, be ? *be : ApiError::serialization(""));
          }
          e.data = e.decoded;
        }
        size_t pk_len = pkj ? utf8_chars(e.partition_key) : 0;
        bool valid = pkj && pk_len >= 1 && pk_len <= 256 && (!ehkj || is_hash_key_text(*e.explicit_hash_key)) && dj &&
                     e.data.size() <= 10 * 1024 * 1024;
        if (!valid) {
          validate_entry(v, "records." + std::to_string(i) + ".member.", owned(pkj ? std::optional(e.partition_key) : std::nullopt),
                         owned(e.explicit_hash_key),
                         dj ? std::optional<std::string>(std::string(e.data)) : std::nullopt);
        }
      }
    }
  }
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);

  std::vector<u128> keys(entries.size());
  size_t total = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.explicit_hash_key) {
      auto k = wire::parse_u128(*e.explicit_hash_key);
      if (!k)
        return fail(c, errors::bad_explicit_hash_key(*e.explicit_hash_key));
      keys[i] = *k;
    } else {
      keys[i] = wire::hash_key_of_partition_key(e.partition_key);
    }
    total += e.data.size() + e.partition_key.size();
  }
  if (total > kMaxRequestRecordBytes) return fail(c, errors::records_over_10mb());

  // Under the stream's lock only what orders the shard: routing, admission, counters and the
  // write. Hooks and the response come after, so that another call can take the lock.
  struct Outcome {
    uint32_t shard;
    uint64_t counter;
    enum Kind : uint8_t { stored, throttled, injected } kind;
  };
  std::vector<Outcome> outcomes;
  outcomes.reserve(entries.size());
  std::vector<PutRecordEvent> accepted;
  accepted.reserve(entries.size());
  const auto info = c.info();
  std::string encryption;
  // Ids of the shards named; a deque keeps the strings in place for the views given to hooks.
  std::deque<std::pair<uint32_t, std::string>> shard_ids;
  auto shard_id_of = [&](uint32_t index) -> const std::string& {
    for (auto& [i, id] : shard_ids)
      if (i == index) return id;
    return shard_ids.emplace_back(index, Shard::shard_id(index)).second;
  };
  {
    std::lock_guard lk(s->mu);
    // Stamped under the lock, so arrival times never go backwards along a shard's counters.
    const int64_t arrival = clock_.now_ms();
    if (s->status != "ACTIVE" && s->status != "UPDATING") return fail(c, errors::stream_not_found(account(), s->name));
    size_t max_bytes = static_cast<size_t>(s->max_record_kib) * 1024;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].data.size() + entries[i].partition_key.size() > max_bytes)
        return fail(c, errors::record_too_large("records." + std::to_string(i + 1) + ".member.data", entries[i].data.size(),
                                        entries[i].partition_key.size(), max_bytes));
    }
    encryption = s->encryption;

    store::WriteBatch b(store_);
    // One open block per shard written to; blocks are put into the batch when full and at the end.
    struct ShardWrite {
      Shard* shard;
      uint64_t before;       // the shard's counter before this call
      uint64_t block_first;  // counter of the open block's first record
      RecordBlockWriter block;
    };
    std::vector<ShardWrite> touched;
    touched.reserve(s->shards.size() < 8 ? s->shards.size() : 8);
    auto put_block = [&](ShardWrite& w) {
      if (w.block.count() == 0) return;
      char bkey[16];
      record_key_into(bkey, s->id, w.shard->index, w.block_first);
      b.put(store::Family::records, std::string_view(bkey, sizeof bkey), w.block.finish());
      w.block.start(arrival);
      w.block_first = w.shard->next_counter;
    };
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      Shard* sh = const_cast<Shard*>(s->route(keys[i]));
      if (!sh) return fail(c, ApiError::internal());
      bool admitted = true;
      for (auto* h : hooks_)
        if (!h->admit_write(*s, *sh, e.data.size() + e.partition_key.size(), c.now)) {
          admitted = false;
          break;
        }
      if (!admitted) {
        outcomes.push_back({sh->index, 0, Outcome::throttled});
        continue;
      }
      if (!hooks_.empty()) {
        bool injected = false;
        OperationInfo entry_info = info;
        entry_info.partition_key = e.partition_key;
        entry_info.shard = shard_id_of(sh->index);
        for (auto* h : hooks_)
          if (h->fail_entry(entry_info, *s, *sh)) injected = true;
        if (injected) {
          outcomes.push_back({sh->index, 0, Outcome::injected});
          continue;
        }
      }
      auto w = std::find_if(touched.begin(), touched.end(), [&](const ShardWrite& t) { return t.shard == sh; });
      if (w == touched.end()) {
        w = touched.insert(touched.end(), ShardWrite{sh, sh->next_counter, sh->next_counter, {}});
        w->block.start(arrival);
      } else if (w->block.size() + e.partition_key.size() + e.data.size() > kRecordBlockTarget) {
        put_block(*w);
      }
      outcomes.push_back({sh->index, sh->next_counter++, Outcome::stored});
      w->block.add(e.partition_key, e.data);
      accepted.push_back(PutRecordEvent{e.partition_key, e.data,
                                        e.explicit_hash_key ? std::optional<u128>(keys[i]) : std::nullopt, sh->range,
                                        sh->index});
    }
    for (auto& w : touched) put_block(w);
    if (b.count() > 0) {
      if (auto st = store_.write(b); !st) {
        for (auto& w : touched) w.shard->next_counter = w.before;
        spdlog::error("PutRecords write failed: {}", st.message);
        return fail(c, ApiError::internal());
      }
    }
  }
  std::vector<PutRejection> rejected;
  for (const Outcome& o : outcomes)
    if (o.kind != Outcome::stored) rejected.push_back({o.shard, o.kind == Outcome::throttled});
  for (auto* h : hooks_) h->after_put(info, *s, accepted, rejected);

  // Results in the response encoding, in request order.
  const bool as_json = c.enc == Encoding::json;
  std::string results;
  results.reserve(entries.size() * 110);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    if (o.kind != Outcome::stored) {
      const std::string code = o.kind == Outcome::throttled ? "ProvisionedThroughputExceededException" : "InternalFailure";
      const std::string message = o.kind == Outcome::throttled
                                      ? errors::shard_throttled(account(), s->name, shard_id_of(o.shard)).message
                                      : "Internal service failure.";
      if (as_json) {
        results += i ? ",{\"ErrorCode\":" : "{\"ErrorCode\":";
        emit::json_string(results, code);
        results += ",\"ErrorMessage\":";
        emit::json_string(results, message);
        results += '}';
      } else {
        emit::cbor_head(results, 5, 2);
        emit::cbor_text(results, "ErrorCode");
        emit::cbor_text(results, code);
        emit::cbor_text(results, "ErrorMessage");
        emit::cbor_text(results, message);
      }
      continue;
    }
    const SequenceNumber seq{s->id, o.shard, o.counter};
    if (as_json) {
      results += i ? ",{\"SequenceNumber\":\"" : "{\"SequenceNumber\":\"";
      seq.append_to(results);
      results += "\",\"ShardId\":\"";
      results += shard_id_of(o.shard);
      results += "\"}";
    } else {
      emit::cbor_head(results, 5, 2);
      emit::cbor_text(results, "SequenceNumber");
      emit::cbor_head(results, 3, kSequenceNumberDigits);
      seq.append_to(results);
      emit::cbor_text(results, "ShardId");
      emit::cbor_text(results, shard_id_of(o.shard));
    }
  }
  std::string body;
  body.reserve(results.size() + 80);
  if (as_json) {
    body += "{\"FailedRecordCount\":";
    body += std::to_string(rejected.size());
    body += ",\"Records\":[";
    body += results;
    body += "],\"EncryptionType\":";
    emit::json_string(body, encryption);
    body += '}';
  } else {
    emit::cbor_head(body, 5, 3);
    emit::cbor_text(body, "FailedRecordCount");
    emit::cbor_int(body, static_cast<int64_t>(rejected.size()));
    emit::cbor_text(body, "Records");
    emit::cbor_head(body, 4, outcomes.size());
    body += results;
    emit::cbor_text(body, "EncryptionType");
    emit::cbor_text(body, encryption);
  }
  return ok_body(c.enc, std::move(body));
}

http::Response KinesisService::get_shard_iterator(Call& c) {
  auto shard_id = c.in.string("ShardId");
  auto type = c.in.string("ShardIteratorType");
  auto seq = c.in.string("StartingSequenceNumber");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  auto ts = c.in.timestamp("Timestamp");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.string("shardId", shard_id, true, 1, 128, Validator::kNamePattern);
  v.enumeration("shardIteratorType", type, true,
                {"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"});
  v.string("startingSequenceNumber", seq, false, 0, SIZE_MAX, Validator::kSequencePattern);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  auto idx = Shard::parse_id(*shard_id);
  std::string shown_name = name ? *name : (arn ? arn->substr(arn->find(":stream/") + 8) : "");
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!idx) {
    return fail(c, errors::shard_not_found(account(), shown_name, *shard_id));
  }
  std::string sid = Shard::shard_id(*idx);
  auto shard_missing = [&] {
    return errors::shard_does_not_exist(account(), shown_name, sid);
  };
  if (!s) return fail(c, err.type == "ResourceNotFoundException" ? shard_missing() : err);

  const std::string& t = *type;
  bool needs_seq = t == "AT_SEQUENCE_NUMBER" || t == "AFTER_SEQUENCE_NUMBER";
  if (needs_seq && !seq) {
    return fail(c, errors::iterator_type_and_sequence(t, false));
  }
  if (!needs_seq && seq && t != "AT_TIMESTAMP") {
    return fail(c, errors::iterator_type_and_sequence(t, true));
  }
  if (t == "AT_TIMESTAMP" && !ts) {
    return fail(c, errors::timestamp_missing());
  }
  if (t == "AT_TIMESTAMP" && *ts > c.now) {
    return fail(c, errors::timestamp_in_future(*ts, c.now));
  }

  uint64_t position = 0;
  uint32_t stream_id;
  {
    std::lock_guard lk(s->mu);
    const Shard* sh = s->find(*idx);
    if (!sh) return fail(c, shard_missing());
    stream_id = s->id;
    if (needs_seq) {
      auto parsed = SequenceNumber::parse(*seq);
      if (!parsed) return fail(c, errors::bad_starting_sequence(account(), s->name, sid, *seq, false));
      if (parsed->stream_id != s->id)
        return fail(c, errors::bad_starting_sequence(account(), s->name, sid, *seq, true));
      if (parsed->shard_index != sh->index) {
        return fail(c, errors::sequence_of_other_shard(Shard::shard_id(parsed->shard_index), sid));
      }
      position = t == "AT_SEQUENCE_NUMBER" ? parsed->counter : parsed->counter + 1;
    } else if (t == "LATEST") {
      position = sh->next_counter;
    } else if (t == "TRIM_HORIZON") {
      position = 0;
    }
  }
  if (t == "AT_TIMESTAMP") {
    // The first record that arrived at or after the timestamp: a binary search over the
    // shard's counters (arrival times do not decrease along a shard), O(log n) seeks.
    uint64_t tip;
    {
      std::lock_guard lk(s->mu);
      tip = s->find(*idx)->next_counter;
    }
    std::string p = keys::shard_records(stream_id, *idx);
    auto it = store_.iterate(store::Family::records, p, record_key(stream_id, *idx, tip));
    RecordCursor cursor(*it, stream_id, *idx);
    // Arrival of the first record at or after counter c; none: "after everything".
    auto arrival_from = [&](uint64_t c) {
      cursor.seek(c);
      return cursor.valid() ? cursor.record().arrival_ms : INT64_MAX;
    };
    uint64_t lo = 0, hi = tip;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (arrival_from(mid) >= *ts) hi = mid;
      else lo = mid + 1;
    }
    position = lo;
  }
  ShardIterator si{stream_id, *idx, position, c.now};
  return ok(c, json{{"ShardIterator", iterators_->encode(si)}});
}

http::Response KinesisService::get_records(Call& c) {
  auto limit = c.in.integer("Limit");
  auto token = c.in.string("ShardIterator");
  c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.integer("limit", limit, false, 1, 10000);
  v.string("shardIterator", token, true, 1, 512);
  if (!v.ok()) return fail(c, v.error());
  auto it = iterators_->decode(*token);
  if (!it || it->issued_ms > c.now + 60'000) return fail(c, errors::invalid_shard_iterator());
  auto s = lookup_id(it->stream_id);
  if (!s) {
    std::string name;
    {
      std::shared_lock lk(mu_);
      auto d = deleted_names_.find(it->stream_id);
      name = d != deleted_names_.end() ? d->second : "with id " + std::to_string(it->stream_id);
    }
    return fail(c, errors::shard_does_not_exist(account(), name, Shard::shard_id(it->shard_index)));
  }
  c.stream_name = s->name;
  c.shard_id = Shard::shard_id(it->shard_index);
  if (c.now - it->issued_ms > kIteratorLifetimeMs) {
    for (auto* h : hooks_) h->on_iterator_expired(*s, it->shard_index);
    return fail(c, errors::iterator_expired(it->issued_ms, c.now));
  }
  Shard shard;
  int64_t retention_ms;
  std::vector<Shard> children;
  {
    std::lock_guard lk(s->mu);
    const Shard* sh = s->find(it->shard_index);
    if (!sh) {
      return fail(c, errors::shard_does_not_exist(account(), s->name, Shard::shard_id(it->shard_index)));
    }
    for (auto* h : hooks_) {
      if (!h->admit_read(*s, *sh, c.now)) {
        return fail(c, errors::shard_throttled(account(), s->name, sh->id()));
      }
    }
    shard = *sh;
    retention_ms = static_cast<int64_t>(s->retention_hours) * kHourMs;
    if (!sh->open())
      for (const auto& o : s->shards)
        if ((o.parent && *o.parent == sh->index) || (o.adjacent_parent && *o.adjacent_parent == sh->index))
          children.push_back(o);
  }
  size_t max = static_cast<size_t>(limit.value_or(10000));
  int64_t cutoff = c.now - retention_ms;
  std::string p = keys::shard_records(s->id, shard.index);
  std::string end = record_key(s->id, shard.index, shard.next_counter);
  auto rit = store_.iterate(store::Family::records, p, end);
  // Records are written straight into the response encoding (no json tree per record).
  const bool as_json = c.enc == Encoding::json;
  const bool kms = s->encryption == "KMS";
  // JSON: the records go straight into the response body after its opening; CBOR needs the
  // record count first, so its records are collected and copied behind the array head.
  std::string records;
  if (as_json) records = "{\"Records\":[";
  size_t count = 0;
  uint64_t next = it->position;
  size_t bytes = 0;
  int64_t last_arrival = -1;
  std::string first_live;
  bool skipped_expired = false;
  bool exhausted = true;  // false when Limit or the 10 MiB cap stopped the scan
  RecordCursor cursor(*rit, s->id, shard.index);
  for (cursor.seek(it->position); cursor.valid(); cursor.next()) {
    const StoredRecord& r = cursor.record();
    const uint64_t counter = r.counter;
    if (r.arrival_ms < cutoff) {
      skipped_expired = true;
      next = counter + 1;
      continue;
    }
    // A block's records share one arrival time: the first live record starts its block.
    if (skipped_expired && first_live.empty()) first_live = std::string(cursor.block_key());
    if (count >= max) {
      exhausted = false;
      break;
    }
    size_t sz = r.data.size() + r.partition_key.size();
    if (count > 0 && bytes + sz > kMaxGetRecordsBytes) {
      exhausted = false;
      break;
    }
    bytes += sz;
    if (count == 0) {  // a guess from the first record and what the shard holds, never beyond one full response
      const size_t available = shard.next_counter > counter ? static_cast<size_t>(shard.next_counter - counter) : 1;
      records.reserve(std::min<size_t>(std::min(max, available) * (sz * 4 / 3 + 160) + 256, kMaxGetRecordsBytes / 3 * 4 + 4096));
    }
    const SequenceNumber seq{s->id, shard.index, counter};
    if (as_json) {
      records += count ? ",{\"SequenceNumber\":\"" : "{\"SequenceNumber\":\"";
      seq.append_to(records);
      records += "\",\"ApproximateArrivalTimestamp\":";
      emit::json_timestamp(records, r.arrival_ms);
      records += ",\"Data\":";
      emit::json_blob(records, r.data);
      records += ",\"PartitionKey\":";
      emit::json_string(records, r.partition_key);
      if (kms) records += ",\"EncryptionType\":\"KMS\"";
      records += '}';
    } else {
      emit::cbor_head(records, 5, kms ? 5 : 4);
      emit::cbor_text(records, "SequenceNumber");
      emit::cbor_head(records, 3, kSequenceNumberDigits);
      seq.append_to(records);
      emit::cbor_text(records, "ApproximateArrivalTimestamp");
      emit::cbor_timestamp(records, r.arrival_ms);
      emit::cbor_text(records, "Data");
      emit::cbor_bytes(records, r.data);
      emit::cbor_text(records, "PartitionKey");
      emit::cbor_text(records, r.partition_key);
      if (kms) {
        emit::cbor_text(records, "EncryptionType");
        emit::cbor_text(records, "KMS");
      }
    }
    ++count;
    next = counter + 1;
    last_arrival = r.arrival_ms;
  }
  if (skipped_expired) {
    // Records past retention are gone for good: drop them from storage too.
    trim_records(*s, shard.index, first_live.empty() ? record_key(s->id, shard.index, next) : first_live);
  }
  // Everything below the scan's end (the shard's tip when the call started) has been seen:
  // an empty or trimmed stretch moves the position to the tip, so a closed shard's end is
  // recognised even when it holds no records.
  if (exhausted && rit->status().ok) next = shard.next_counter;
  next = std::max(next, it->position);
  uint64_t tip;
  {
    std::lock_guard lk(s->mu);
    tip = s->find(shard.index)->next_counter;
  }
  bool at_end = next >= tip;
  int64_t behind = 0;
  if (!at_end && last_arrival >= 0) behind = std::max<int64_t>(0, c.now - last_arrival);
  // A closed shard read to its end: no NextShardIterator, and the children to go on with.
  bool finished = !shard.open() && next >= shard.next_counter;
  std::string next_iterator, child_shards;
  if (finished) {
    json cs = json::array();
    for (const auto& ch : children) {
      json parents = json::array();
      if (ch.parent) parents.push_back(Shard::shard_id(*ch.parent));
      if (ch.adjacent_parent) parents.push_back(Shard::shard_id(*ch.adjacent_parent));
      cs.push_back(json{{"ShardId", ch.id()}, {"ParentShards", parents}, {"HashKeyRange", hash_range_json(ch.range)}});
    }
    child_shards = encode(c.enc, cs);
  } else {
    next_iterator = iterators_->encode(ShardIterator{s->id, shard.index, next, c.now});
  }
  std::string body;
  if (as_json) {
    body = std::move(records);
    body += "],\"MillisBehindLatest\":";
    body += std::to_string(behind);
    if (finished) {
      body += ",\"ChildShards\":";
      body += child_shards;
    } else {
      body += ",\"NextShardIterator\":";
      emit::json_string(body, next_iterator);
    }
    body += '}';
  } else {
    body.reserve(records.size() + child_shards.size() + next_iterator.size() + 96);
    emit::cbor_head(body, 5, 3);
    emit::cbor_text(body, "Records");
    emit::cbor_head(body, 4, count);
    body += records;
    emit::cbor_text(body, "MillisBehindLatest");
    emit::cbor_int(body, behind);
    if (finished) {
      emit::cbor_text(body, "ChildShards");
      body += child_shards;
    } else {
      emit::cbor_text(body, "NextShardIterator");
      emit::cbor_text(body, next_iterator);
    }
  }
  for (auto* h : hooks_) h->after_read(*s, shard, count, bytes, c.now);
  return ok_body(c.enc, std::move(body));
}

// ---- resharding ---------------------------------------------------------------------------

http::Response KinesisService::split_shard(Call& c) {
  auto key = c.in.string("NewStartingHashKey");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  auto shard_id = c.in.string("ShardToSplit");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.string("newStartingHashKey", key, true, 0, SIZE_MAX, Validator::kHashKeyPattern);
  validate_stream_ref(v, name, arn);
  v.string("shardToSplit", shard_id, true, 1, 128, Validator::kNamePattern);
  if (!v.ok()) return fail(c, v.error());
  auto idx = Shard::parse_id(*shard_id);
  std::string shown_name = name ? *name : (arn ? arn->substr(arn->find(":stream/") + 8) : "");
  if (!idx)
    return fail(c, errors::shard_not_found(account(), shown_name, *shard_id));
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  uint32_t open_total = account_open_shards();
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    return fail(c, errors::stream_not_active(account(), s->name, s->status));
  Shard* sh = s->find(*idx);
  if (!sh)
    return fail(c, errors::shard_not_found(account(), s->name, Shard::shard_id(*idx)));
  if (!sh->open())
    return fail(c, errors::shard_closed(account(), s->name, sh->id()));
  if (open_total + 1 > config_.shard_limit) {
    return fail(c, errors::shard_limit(account(), open_total, config_.shard_limit, 1));
  }
  auto k = wire::parse_u128(*key);
  if (!k || *k <= sh->range.start + 1 || *k >= sh->range.end) {
    return fail(c, errors::bad_split_key(account(), s->name, sh->id(), *key, wire::to_decimal(sh->range.start), wire::to_decimal(sh->range.end)));
  }
  auto shards_before = s->shards;
  sh->closed_ms = c.now;
  Shard a, b;
  a.index = static_cast<uint32_t>(s->shards.size());
  a.range = {sh->range.start, *k - 1};
  a.parent = sh->index;
  a.created_ms = c.now;
  b.index = a.index + 1;
  b.range = {*k, sh->range.end};
  b.parent = sh->index;
  b.created_ms = c.now;
  s->shards.push_back(a);
  s->shards.push_back(b);
  if (auto e = commit_shard_map(c, *s, std::move(shards_before))) return std::move(*e);
  return ok_empty(c);
}

std::optional<http::Response> KinesisService::commit_shard_map(Call& c, Stream& s, std::vector<Shard> before) {
  const std::string status_before = s.status;
  const int64_t until_before = s.status_until_ms;
  if (config_.update_stream_ms > 0) {
    s.set_status("UPDATING", c.now + config_.update_stream_ms);
  }
  store::WriteBatch batch(store_);
  persist(s, batch);
  if (auto st = store_.write(batch); !st) {
    s.shards = std::move(before);
    s.set_status(status_before, until_before);
    return fail(c, ApiError::internal());
  }
  return std::nullopt;
}

http::Response KinesisService::merge_shards(Call& c) {
  auto a_id = c.in.string("ShardToMerge");
  auto b_id = c.in.string("AdjacentShardToMerge");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.string("shardToMerge", a_id, true, 1, 128, Validator::kNamePattern);
  v.string("adjacentShardToMerge", b_id, true, 1, 128, Validator::kNamePattern);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  std::string shown_name = name ? *name : (arn ? arn->substr(arn->find(":stream/") + 8) : "");
  auto ia = Shard::parse_id(*a_id), ib = Shard::parse_id(*b_id);
  for (auto [parsed, given] : {std::pair{ia, a_id}, std::pair{ib, b_id}})
    if (!parsed)
      return fail(c, errors::shard_not_found(account(), shown_name, *given));
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    return fail(c, errors::stream_not_active(account(), s->name, s->status));
  Shard* a = s->find(*ia);
  Shard* b = s->find(*ib);
  for (auto [sh, idx] : {std::pair{a, *ia}, std::pair{b, *ib}})
    if (!sh)
      return fail(c, errors::shard_not_found(account(), s->name, Shard::shard_id(idx)));
  for (Shard* sh : {a, b})
    if (!sh->open())
      return fail(c, errors::shard_closed(account(), s->name, sh->id()));
  bool adjacent = (a->range.end != wire::kMaxHashKey && a->range.end + 1 == b->range.start) ||
                  (b->range.end != wire::kMaxHashKey && b->range.end + 1 == a->range.start);
  if (!adjacent || a == b)
    return fail(c, errors::shards_not_adjacent(account(), s->name, a->id(), b->id()));
  auto shards_before = s->shards;
  a->closed_ms = c.now;
  b->closed_ms = c.now;
  Shard m;
  m.index = static_cast<uint32_t>(s->shards.size());
  m.range = {std::min(a->range.start, b->range.start), std::max(a->range.end, b->range.end)};
  m.parent = a->index;
  m.adjacent_parent = b->index;
  m.created_ms = c.now;
  s->shards.push_back(m);
  if (auto e = commit_shard_map(c, *s, std::move(shards_before))) return std::move(*e);
  return ok_empty(c);
}

http::Response KinesisService::update_shard_count(Call& c) {
  auto target = c.in.integer("TargetShardCount");
  auto scaling = c.in.string("ScalingType");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.integer("targetShardCount", target, true, 1, std::nullopt);
  v.enumeration("scalingType", scaling, true, {"UNIFORM_SCALING"});
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  uint32_t account_open = account_open_shards();
  std::lock_guard lk(s->mu);
  if (s->mode == StreamMode::on_demand)
    return fail(c, errors::on_demand_cannot_reshard(account(), s->name));
  if (s->status != "ACTIVE")
    return fail(c, errors::stream_not_active(account(), s->name, s->status));
  uint32_t open = s->open_shard_count();
  int64_t t = *target;
  std::string counts = "Current open shard count: " + std::to_string(open) + ", Target shard count: " + std::to_string(t);
  if (t > open * 2)
    return fail(c, errors::scale_up_over_double(open, t));
  if (t < (open + 1) / 2)
    return fail(c, errors::scale_down_below_half(open, t));
  if (static_cast<int64_t>(account_open - open) + t > static_cast<int64_t>(config_.shard_limit))
    return fail(c, errors::target_shard_count_over_limit(config_.shard_limit, open, t));
  if (t == open) return ok(c, json{{"StreamName", s->name}, {"CurrentShardCount", open}, {"TargetShardCount", t},
                                   {"StreamARN", s->arn(config_.region, config_.account_id)}});
  // Close every open shard and open `t` new ones over the whole key space; each new shard's
  // parents are the old shards its range overlaps (at most two are recorded, as AWS does).
  auto shards_before = s->shards;
  std::vector<Shard*> old;
  for (auto& sh : s->shards)
    if (sh.open()) old.push_back(&sh);
  std::sort(old.begin(), old.end(), [](Shard* x, Shard* y) { return x->range.start < y->range.start; });
  std::vector<std::pair<uint32_t, wire::HashRange>> old_ranges;
  for (Shard* o : old) {
    o->closed_ms = c.now;
    old_ranges.emplace_back(o->index, o->range);
  }
  auto ranges = wire::even_split(static_cast<uint32_t>(t));
  uint32_t next = static_cast<uint32_t>(s->shards.size());
  for (uint32_t i = 0; i < t; ++i) {
    Shard n;
    n.index = next + i;
    n.range = ranges[i];
    n.created_ms = c.now;
    for (auto& [oi, r] : old_ranges) {
      if (r.end < n.range.start || r.start > n.range.end) continue;
      if (!n.parent) n.parent = oi;
      else if (!n.adjacent_parent) n.adjacent_parent = oi;
    }
    s->shards.push_back(n);
  }
  if (auto e = commit_shard_map(c, *s, std::move(shards_before))) return std::move(*e);
  return ok(c, json{{"StreamName", s->name}, {"CurrentShardCount", open}, {"TargetShardCount", t},
                    {"StreamARN", s->arn(config_.region, config_.account_id)}});
}

// ---- retention, tags, limits, mode, encryption --------------------------------------------

http::Response KinesisService::retention_change(Call& c, bool increase) {
  auto hours = c.in.integer("RetentionPeriodHours");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.integer("retentionPeriodHours", hours, true, std::nullopt, std::nullopt);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  int64_t h = *hours;
  if (h < 24)
    return fail(c, errors::retention_too_short(h));
  if (h > 8760)
    return fail(c, errors::retention_too_long(h));
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  int64_t cur = s->retention_hours;
  if (increase && h < cur)
    return fail(c, errors::retention_below_current(s->name, h, cur));
  if (!increase && h > cur)
    return fail(c, errors::retention_above_current(s->name, h, cur));
  s->retention_hours = static_cast<uint32_t>(h);
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok_empty(c);
}

http::Response KinesisService::increase_retention(Call& c) { return retention_change(c, true); }
http::Response KinesisService::decrease_retention(Call& c) { return retention_change(c, false); }

namespace {
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

http::Response KinesisService::add_tags(Call& c) {
  const json* tags = c.in.object("Tags");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  if (!tags) {
    v.not_null("tags", false);
  } else {
    for (auto it = tags->begin(); it != tags->end(); ++it)
      if (!it.value().is_string()) return fail(c, ApiError::serialization("Expected map or null"));
    std::string shown = "'{";
    bool first = true, bad_key = false, bad_value = false;
    for (auto it = tags->begin(); it != tags->end(); ++it) {
      shown += (first ? "" : ", ") + it.key() + "=" + it.value().get<std::string>();
      first = false;
      if (it.key().empty() || it.key().size() > 128) bad_key = true;
      if (it.value().get<std::string>().size() > 256) bad_value = true;
    }
    shown += "}'";
    if (tags->empty()) v.add("tags", shown, "Member must have length greater than or equal to 1");
    if (tags->size() > 200) v.add("tags", shown, "Member must have length less than or equal to 200");
    if (bad_key)
      v.add("tags", shown, "Map keys must satisfy constraint: [Member must have length less than or equal to 128, "
                           "Member must have length greater than or equal to 1]");
    if (bad_value)
      v.add("tags", shown, "Map value must satisfy constraint: [Member must have length less than or equal to 256, "
                           "Member must have length greater than or equal to 0]");
  }
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  for (auto it = tags->begin(); it != tags->end(); ++it) {
    if (!valid_tag_chars(it.key()) || !valid_tag_chars(it.value().get<std::string>()))
      return fail(c, errors::invalid_tag_characters());
  }
  std::lock_guard lk(s->mu);
  auto merged = s->tags;
  for (auto it = tags->begin(); it != tags->end(); ++it) merged[it.key()] = it.value().get<std::string>();
  if (merged.size() > 50)
    return fail(c, errors::too_many_tags(account(), s->name));
  s->tags = std::move(merged);
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok_empty(c);
}

http::Response KinesisService::remove_tags(Call& c) {
  const json* keys = c.in.list("TagKeys");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  if (!keys) {
    v.not_null("tagKeys", false);
  } else {
    std::string shown = "'[";
    bool bad = false;
    for (size_t i = 0; i < keys->size(); ++i) {
      if (!(*keys)[i].is_string()) return fail(c, ApiError::serialization("class java.math.BigDecimal can not be converted to an String"));
      const auto& k = (*keys)[i].get_ref<const std::string&>();
      shown += (i ? ", " : "") + k;
      if (k.empty() || k.size() > 128) bad = true;
    }
    shown += "]'";
    if (keys->empty()) v.add("tagKeys", shown, "Member must have length greater than or equal to 1");
    if (keys->size() > 50) v.add("tagKeys", shown, "Member must have length less than or equal to 50");
    if (bad)
      v.add("tagKeys", shown, "Member must satisfy constraint: [Member must have length less than or equal to 128, "
                              "Member must have length greater than or equal to 1]");
  }
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  for (const auto& k : *keys) s->tags.erase(k.get<std::string>());
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok_empty(c);
}

http::Response KinesisService::list_tags(Call& c) {
  auto start = c.in.string("ExclusiveStartTagKey");
  auto limit = c.in.integer("Limit");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.integer("limit", limit, false, 1, 50);
  v.string("exclusiveStartTagKey", start, false, 1, 128);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
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

http::Response KinesisService::describe_limits(Call& c) {
  return ok(c, json{{"ShardLimit", config_.shard_limit},
                    {"OpenShardCount", account_open_shards()},
                    {"OnDemandStreamCount", account_on_demand_streams()},
                    {"OnDemandStreamCountLimit", config_.on_demand_stream_limit}});
}

http::Response KinesisService::update_stream_mode(Call& c) {
  auto arn = c.in.string("StreamARN");
  const json* details = c.in.object("StreamModeDetails");
  if (c.in.failed()) return fail(c, *c.in.error);
  std::optional<std::string> mode;
  if (details) {
    Reader r{*details, c.enc};
    mode = r.string("StreamMode");
    if (r.failed()) return fail(c, *r.error);
  }
  Validator v;
  v.string("streamARN", arn, true, 1, 2048, Validator::kArnPattern);
  if (!details) v.not_null("streamModeDetails", false);
  else v.enumeration("streamModeDetails.streamMode", mode, true, {"PROVISIONED", "ON_DEMAND"});
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, std::nullopt, arn, err);
  if (!s) return fail(c, err);
  bool to_od = *mode == "ON_DEMAND";
  if (to_od && account_on_demand_streams() + 1 > config_.on_demand_stream_limit)
    return fail(c, errors::on_demand_stream_limit(account()));
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    return fail(c, errors::stream_not_active(account(), s->name, s->status));
  StreamMode m = to_od ? StreamMode::on_demand : StreamMode::provisioned;
  if (s->mode == m)
    return fail(c, errors::already_in_mode(account(), s->name, *mode));
  s->mode = m;
  s->mode_changed_ms = c.now;
  if (config_.update_stream_ms > 0) {
    s->set_status("UPDATING", c.now + config_.update_stream_ms);
  }
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok_empty(c);
}

http::Response KinesisService::encryption_change(Call& c, bool start) {
  auto type = c.in.string("EncryptionType");
  auto key = c.in.string("KeyId");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.enumeration("encryptionType", type, true, {"KMS", "NONE"});
  v.string("keyId", key, true, 1, 2048);
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  if (*type != "KMS")
    return fail(c, errors::kms_only());
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    return fail(c, errors::stream_not_active(account(), s->name, s->status));
  if (start) {
    s->encryption = "KMS";
    s->key_id = *key;
  } else {
    s->encryption = "NONE";
    s->key_id.clear();
  }
  if (config_.update_stream_ms > 0) {
    s->set_status("UPDATING", c.now + config_.update_stream_ms);
  }
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok_empty(c);
}

http::Response KinesisService::start_encryption(Call& c) { return encryption_change(c, true); }
http::Response KinesisService::stop_encryption(Call& c) { return encryption_change(c, false); }

http::Response KinesisService::monitoring_change(Call& c, bool enable) {
  const json* metrics = c.in.list("ShardLevelMetrics");
  auto name = c.in.string("StreamName");
  auto arn = c.in.string("StreamARN");
  if (c.in.failed()) return fail(c, *c.in.error);
  static const std::vector<std::string_view> kAll = {
      "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
      "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "ALL"};
  Validator v;
  if (!metrics) v.not_null("shardLevelMetrics", false);
  else if (metrics->empty()) v.add("shardLevelMetrics", "'[]'", "Member must have length greater than or equal to 1");
  validate_stream_ref(v, name, arn);
  if (!v.ok()) return fail(c, v.error());
  std::set<std::string> asked;
  for (const auto& m : *metrics) {
    if (!m.is_string() || std::find(kAll.begin(), kAll.end(), m.get<std::string>()) == kAll.end())
      return fail(c, ApiError::validation("1 validation error detected: Value '" + (m.is_string() ? m.get<std::string>() : m.dump()) +
                                          "' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy "
                                          "enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, "
                                          "OutgoingRecords, WriteProvisionedThroughputExceeded, "
                                          "ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]"));
    if (m.get<std::string>() == "ALL")
      for (size_t i = 0; i + 1 < kAll.size(); ++i) asked.insert(std::string(kAll[i]));
    else asked.insert(m.get<std::string>());
  }
  ApiError err;
  auto s = resolve(c, name, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  json current = s->shard_level_metrics;
  std::set<std::string> now_set(s->shard_level_metrics.begin(), s->shard_level_metrics.end());
  for (const auto& m : asked) {
    if (enable) now_set.insert(m);
    else now_set.erase(m);
  }
  s->shard_level_metrics.assign(now_set.begin(), now_set.end());
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok(c, json{{"StreamName", s->name}, {"StreamARN", s->arn(config_.region, config_.account_id)},
                    {"CurrentShardLevelMetrics", current}, {"DesiredShardLevelMetrics", s->shard_level_metrics}});
}

http::Response KinesisService::enable_monitoring(Call& c) { return monitoring_change(c, true); }
http::Response KinesisService::disable_monitoring(Call& c) { return monitoring_change(c, false); }

http::Response KinesisService::update_max_record_size(Call& c) {
  auto arn = c.in.string("StreamARN");
  auto kib = c.in.integer("MaxRecordSizeInKiB");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.string("streamARN", arn, false, 1, 2048, Validator::kArnPattern);
  v.integer("maxRecordSizeInKiB", kib, true, 1024, 10240);
  if (!v.ok()) return fail(c, v.error());
  ApiError err;
  auto s = resolve(c, std::nullopt, arn, err);
  if (!s) return fail(c, err);
  std::lock_guard lk(s->mu);
  s->max_record_kib = static_cast<uint32_t>(*kib);
  store::WriteBatch b(store_);
  persist(*s, b);
  if (!store_.write(b)) return fail(c, ApiError::internal());
  return ok_empty(c);
}

// ---- maintenance --------------------------------------------------------------------------

void KinesisService::trim_expired() {
  int64_t now = clock_.now_ms();
  for (auto& s : streams_snapshot()) {
    if (!lookup(s->name)) continue;
    std::vector<std::pair<uint32_t, uint64_t>> shards;
    int64_t cutoff;
    {
      std::lock_guard lk(s->mu);
      cutoff = now - static_cast<int64_t>(s->retention_hours) * kHourMs;
      for (const auto& sh : s->shards) shards.emplace_back(sh.index, sh.next_counter);
    }
    for (auto [idx, next] : shards) {
      std::string p = keys::shard_records(s->id, idx);
      auto it = store_.iterate(store::Family::records, p, keys::prefix_end(p));
      std::string first_live;
      bool any_expired = false;
      for (it->seek(p); it->valid(); it->next()) {
        BlockHeader h;
        if (parse_block_header(it->value(), h) && h.arrival_ms >= cutoff) {
          first_live = std::string(it->key());
          break;
        }
        any_expired = true;
      }
      if (!any_expired) continue;
      trim_records(*s, idx, first_live.empty() ? record_key(s->id, idx, next) : first_live);
    }
  }
}

void KinesisService::trim_records(Stream& s, uint32_t shard, std::string_view end) {
  // Under the stream's lock, so that counters reach the store in the order they grew.
  std::lock_guard lk(s.mu);
  const Shard* sh = s.find(shard);
  if (!sh) return;
  store::WriteBatch b(store_);
  b.delete_range(store::Family::records, keys::shard_records(s.id, shard), end);
  std::string cv;
  store::put_u64(cv, sh->next_counter);
  b.put(store::Family::meta, keys::counter(s.id, shard), cv);
  if (auto st = store_.write(b); !st) spdlog::error("trimming expired records failed: {}", st.message);
}

}  // namespace eddy::kinesis
