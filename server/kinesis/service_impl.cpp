// The steps the operations share: lookup, resolve, settle, persist, delete, retention trims.
#include "server/kinesis/service_impl.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "server/kinesis/keys.h"
#include "server/kinesis/record_block.h"

namespace eddy::kinesis {

using nlohmann::json;

std::string StreamRef::shown_name() const {
  return name ? *name : (arn ? arn->substr(arn->find(":stream/") + 8) : "");
}

json ServiceImpl::hash_range_json(const wire::HashRange& r) {
  return json{{"StartingHashKey", wire::to_decimal(r.start)}, {"EndingHashKey", wire::to_decimal(r.end)}};
}

std::shared_ptr<Stream> ServiceImpl::lookup(const std::string& name) {
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
    // Gone for callers whether or not the delete could be written (a failure is logged, and
    // the next lookup tries again).
    finish_delete(s).ignore_failure("logged by finish_delete; retried by the next lookup");
    return nullptr;
  }
  return s;
}

std::shared_ptr<Stream> ServiceImpl::lookup_id(uint32_t id) {
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

std::shared_ptr<Stream> ServiceImpl::find_stream_by_name(const std::string& name) const {
  std::shared_lock lk(mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Stream>> ServiceImpl::streams_snapshot() const {
  std::shared_lock lk(mu_);
  std::vector<std::shared_ptr<Stream>> out;
  for (auto& [n, s] : streams_) out.push_back(s);
  return out;
}

void ServiceImpl::settle(Stream& s, int64_t now) {
  if ((s.status == "CREATING" || s.status == "UPDATING") && s.status_until_ms <= now) {
    // Not persisted: the stream stays in its transitional status and settles on a later lookup.
    if (auto st = change_stream(s, [&] { s.set_status("ACTIVE"); }); !st)
      spdlog::error("kinesis: stream {} cannot become ACTIVE: {}", s.name, st.message);
  }
}

store::Status ServiceImpl::finish_delete(const std::shared_ptr<Stream>& s) {
  {
    std::unique_lock lk(mu_);
    auto it = streams_.find(s->name);
    if (it == streams_.end() || it->second != s) return store::Status::good();
    streams_.erase(it);
    by_id_.erase(s->id);
    deleted_names_[s->id] = s->name;
  }
  store::WriteBatch b(store_);
  b.del(store::Family::meta, keys::stream(s->name));
  store::Status st;
  {
    // A put that resolved the stream before it left the map (a queued PutRecord, see
    // commit_puts) finds it DELETING under the mutex and answers ResourceNotFound; one that
    // wrote before is removed by the range delete below. The write is made under the lock,
    // so that no put slips in between a failed write and the stream's return.
    std::lock_guard lk(s->mu);
    const std::string status_before = s->status;
    const int64_t until_before = s->status_until_ms;
    s->set_status("DELETING", 0);
    for (const auto& sh : s->shards) b.del(store::Family::meta, keys::counter(s->id, sh.index));
    std::string p = keys::stream_records(s->id);
    b.delete_range(store::Family::records, p, keys::prefix_end(p));
    st = store_.write(b);
    if (!st) s->set_status(status_before, until_before);
  }
  if (!st) {
    spdlog::error("kinesis: deleting stream {} failed: {}", s->name, st.message);
    std::unique_lock lk(mu_);
    deleted_names_.erase(s->id);
    streams_.emplace(s->name, s);  // unless a new stream took the name meanwhile
    by_id_.emplace(s->id, s);
    return st;
  }
  for (auto* h : hooks_) h->on_stream_deleted(s->name);
  return st;
}

bool ServiceImpl::persist(const Stream& s, store::WriteBatch& batch) {
  json j;
  s.to_json(j);
  batch.put(store::Family::meta, keys::stream(s.name), j.dump());
  return true;
}


std::shared_ptr<Stream> ServiceImpl::resolve(Call& c, const std::optional<std::string>& name,
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

uint32_t ServiceImpl::account_open_shards() {
  uint32_t n = 0;
  for (auto& s : streams_snapshot()) {
    std::lock_guard lk(s->mu);
    n += s->open_shard_count();
  }
  return n;
}

uint32_t ServiceImpl::account_on_demand_streams() {
  uint32_t n = 0;
  for (auto& s : streams_snapshot()) {
    std::lock_guard lk(s->mu);
    n += s->mode == StreamMode::on_demand ? 1 : 0;
  }
  return n;
}

std::shared_ptr<Stream> ServiceImpl::resolve(Call& c, const StreamRef& ref) {
  ApiError err;
  auto s = resolve(c, ref.name, ref.arn, err);
  if (!s) throw err;
  return s;
}

std::shared_ptr<Stream> ServiceImpl::resolve(Call& c, const StreamRef& ref, Validator& v) {
  ref.validate(v);
  check(v);
  return resolve(c, ref);
}

std::shared_ptr<Stream> ServiceImpl::resolve(Call& c, const std::function<void(Validator&)>& rules) {
  Validator v;
  const StreamRef ref = stream_ref(c.in);
  rules(v);
  return resolve(c, ref, v);
}

std::optional<std::string> ServiceImpl::stream_mode(const json* details, Encoding enc) {
  if (!details) return std::nullopt;
  Reader r{*details, enc};
  auto mode = r.string("StreamMode");
  check(r);
  return mode;
}

store::Status ServiceImpl::save(const Stream& s) {
  store::WriteBatch b(store_);
  persist(s, b);
  return store_.write(b);
}

// ---- maintenance ----------------------------------------------------------------------------

std::string ServiceImpl::first_live_block(uint32_t stream_id, uint32_t shard, uint64_t from, uint64_t tip,
                                          int64_t cutoff) {
  const std::string p = keys::shard_records(stream_id, shard);
  auto it = store_.iterate(store::Family::records, p, record_key(stream_id, shard, tip));
  // The arrival time of the first readable block at or after counter c (INT64_MAX: none); its
  // key into *key. One seek and one value read (a block of PutRecords lives in a blob file).
  auto arrival_from = [&](uint64_t c, std::string* key) {
    BlockHeader h;
    for (it->seek(record_key(stream_id, shard, c)); it->valid(); it->next()) {
      if (!parse_block_header(it->value(), h)) continue;  // corrupt: not a boundary
      if (key) *key = std::string(it->key());
      return h.arrival_ms;
    }
    return INT64_MAX;
  };
  uint64_t lo = from, hi = tip;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (arrival_from(mid, nullptr) >= cutoff) hi = mid;
    else lo = mid + 1;
  }
  std::string key;
  if (arrival_from(lo, &key) == INT64_MAX) return {};
  return key;
}

void ServiceImpl::trim_expired() {
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
      // The shard's first block decides whether anything expired (one seek); then the first
      // live block is found by binary search, never by reading the expired ones.
      const std::string p = keys::shard_records(s->id, idx);
      {
        auto it = store_.iterate(store::Family::records, p, record_key(s->id, idx, next));
        it->seek(p);
        if (!it->valid()) continue;
        BlockHeader h;
        if (parse_block_header(it->value(), h) && h.arrival_ms >= cutoff) continue;
      }
      const std::string first_live = first_live_block(s->id, idx, 0, next, cutoff);
      trim_records(*s, idx, first_live.empty() ? record_key(s->id, idx, next) : first_live);
    }
  }
}

void ServiceImpl::trim_records(Stream& s, uint32_t shard, std::string_view end) {
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
