#include "server/metrics/registry.h"

#include <boost/container/small_vector.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>

#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"
#include "wire/kpl_reader.h"

namespace eddy::metrics {

using nlohmann::json;
namespace kpl = wire::kpl;

namespace {

constexpr const char* kCounterNames[] = {
    "put_record_calls",  "put_records_calls", "put_records_entries", "records",          "records_failed",
    "records_throttled", "user_records",      "bytes_in",            "payload_units",    "ingest_rounded_bytes",
    "kpl_aggregates",    "kpl_bad_md5",       "kpl_unparseable",     "kpl_misrouted",    "get_records_calls",
    "get_records_records", "bytes_out",       "iterator_expired",    "efo_events",       "efo_records",
    "efo_bytes_out"};
static_assert(std::size(kCounterNames) == kCounterCount);

constexpr const char* kSeriesNames[] = {"records", "user_records", "put_calls", "payload_units", "bytes_in",
                                        "throttled"};
static_assert(std::size(kSeriesNames) == kSeriesFieldCount);

constexpr std::string_view kEpochKey = "e";

size_t idx(Counter c) { return static_cast<size_t>(c); }

std::string counter_key(const std::string& stream, uint32_t shard) {
  std::string k = "c/" + stream;
  k.push_back('\0');
  store::put_u32(k, shard);
  return k;
}

uint64_t round_up_units(uint64_t bytes, uint64_t unit) {
  if (unit == 0) return 0;
  if (bytes == 0) return 1;  // an empty record still costs a unit
  return (bytes + unit - 1) / unit;
}

// Log the first few drops of a kind and then every power of two, so a broken producer does
// not flood the log but stays visible.
bool worth_logging(uint64_t count) { return count <= 10 || std::has_single_bit(count); }

}  // namespace

const char* counter_name(Counter c) { return kCounterNames[idx(c)]; }
const char* series_field_name(SeriesField f) { return kSeriesNames[static_cast<size_t>(f)]; }

Counters StreamCounters::total() const {
  Counters t = stream;
  for (const auto& [_, c] : shards)
    for (size_t i = 0; i < kCounterCount; ++i) t[i] += c[i];
  return t;
}

// A ring of per-second slots; a slot whose second is not the one asked for reads as zero.
// The slots (56 bytes a second: ~200 KiB for the default hour) are allocated at the first
// write, so a stream never written to, or known only from the store after a restart, holds
// none; release() gives them back (a deleted stream: docs/reliability.md, "Soak").
struct MetricsRegistry::Series {
  struct Slot {
    int64_t second = -1;
    std::array<uint64_t, kSeriesFieldCount> v{};
  };
  std::vector<Slot> slots;
  size_t capacity;
  explicit Series(size_t n) : capacity(std::max<size_t>(n, 1)) {}
  void release() { std::vector<Slot>().swap(slots); }
  Slot& at(int64_t second) {
    if (slots.empty()) slots.resize(capacity);
    Slot& s = slots[static_cast<size_t>(second) % slots.size()];
    if (s.second != second) {
      s.second = second;
      s.v.fill(0);
    }
    return s;
  }
  uint64_t get(int64_t second, size_t field) const {
    if (second < 0 || slots.empty()) return 0;
    const Slot& s = slots[static_cast<size_t>(second) % slots.size()];
    return s.second == second ? s.v[field] : 0;
  }
};

namespace {

// The last records put to a stream. Slots are reused, and with them their strings'
// buffers: recording a put allocates nothing once the ring is full.
struct RecentRing {
  std::vector<RecentRecord> slots;
  size_t next = 0;  // the slot the next record goes to (the oldest, once full)
  RecentRecord& push(size_t capacity) {
    if (slots.size() < capacity) {
      slots.emplace_back();
      next = slots.size() % capacity;
      return slots.back();
    }
    RecentRecord& r = slots[next];
    next = (next + 1) % slots.size();
    return r;
  }
  size_t size() const { return slots.size(); }
  // i = 0 is the newest.
  const RecentRecord& newest(size_t i) const { return slots[(next + 2 * slots.size() - 1 - i) % slots.size()]; }
};

void assign_preview(std::string& out, std::string_view data, size_t max) {
  const size_t n = std::min(data.size(), max);
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char ch = static_cast<unsigned char>(data[i]);
    out[i] = ch >= 0x20 && ch < 0x7f ? static_cast<char>(ch) : '.';
  }
}

void fill_user(RecentUserRecord& u, std::string_view key, std::optional<std::string_view> ehk, std::string_view data) {
  u.partition_key.assign(key);
  if (ehk)
    u.explicit_hash_key.emplace(*ehk);
  else
    u.explicit_hash_key.reset();
  u.size = data.size();
  assign_preview(u.preview, data, 64);
}

// Per worker thread: the aggregate reader, its capacity (tables, per-key verdicts of
// first_outside) kept from one PutRecords to the next (no allocation per user record or per
// aggregate).
struct KplScratch {
  kpl::AggregateReader reader;
};
KplScratch& kpl_scratch() {
  thread_local KplScratch s;
  return s;
}

// Writes a recent-record slot over its previous contents. An aggregate (status ok) is read again
// here, without its digest (checked already), for the first user records it shows.
void fill_recent(RecentRecord& r, const kinesis::PutRecordEvent& e, uint64_t bytes, kpl::DecodeStatus status,
                 bool misrouted, int64_t now, size_t max_user_records) {
  r.arrival_ms = now;
  r.shard = e.shard_index;
  r.partition_key.assign(e.partition_key);
  if (e.explicit_hash_key) r.explicit_hash_key = wire::to_decimal(*e.explicit_hash_key);
  else r.explicit_hash_key.reset();
  r.size = bytes;
  r.kpl_outer_key = e.partition_key == "a" && e.explicit_hash_key.has_value();
  r.misrouted = misrouted;
  switch (status) {
    case kpl::DecodeStatus::not_aggregated: r.kpl = "none"; break;
    case kpl::DecodeStatus::ok: r.kpl = "ok"; break;
    case kpl::DecodeStatus::bad_md5: r.kpl = "bad_md5"; break;
    default: r.kpl = "unparseable"; break;
  }
  kpl::AggregateReader* dec = nullptr;
  if (status == kpl::DecodeStatus::ok) {
    dec = &kpl_scratch().reader;
    if (dec->reset(e.data, kpl::DecodeOptions{.verify_md5 = false}) != kpl::DecodeStatus::ok) dec = nullptr;
  }
  if (dec) {
    r.user_record_count = dec->size();
    r.user_records.resize(std::min(dec->size(), max_user_records));
    for (size_t j = 0; j < r.user_records.size(); ++j) {
      const kpl::UserRecordView u = (*dec)[j];
      fill_user(r.user_records[j], u.partition_key, u.explicit_hash_key, u.data);
    }
  } else {
    r.user_record_count = 1;
    r.user_records.resize(1);
    fill_user(r.user_records[0], e.partition_key, r.explicit_hash_key, e.data);
  }
}

}  // namespace

struct MetricsRegistry::StreamState {
  StreamCounters counters;
  Series series;
  RecentRing recent;
  StreamState(std::string name, size_t series_seconds) : series(series_seconds) { counters.name = std::move(name); }
};

MetricsRegistry::MetricsRegistry(Clock& clock, store::Store& store, PriceTable prices, RegistryOptions options)
    : clock_(clock),
      store_(store),
      prices_(std::move(prices)),
      options_(options),
      flusher_("metrics flush", std::chrono::milliseconds(options_.flush_interval_ms), [this] {
        if (auto st = flush(); !st) spdlog::error("metrics flush failed (kept for the next one): {}", st.message);
      }) {}

MetricsRegistry::~MetricsRegistry() { stop(); }

int64_t MetricsRegistry::epoch_ms() const {
  std::lock_guard lk(mu_);
  return epoch_ms_;
}

MetricsRegistry::StreamState& MetricsRegistry::stream_locked(const std::string& name) {
  auto it = streams_.find(name);
  if (it == streams_.end())
    it = streams_.emplace(name, std::make_unique<StreamState>(name, options_.series_seconds)).first;
  if (std::find(dirty_streams_.begin(), dirty_streams_.end(), name) == dirty_streams_.end())
    dirty_streams_.push_back(name);
  return *it->second;
}

BucketCounters& MetricsRegistry::bucket_locked(std::string_view name) {
  auto it = buckets_.find(name);
  if (it == buckets_.end()) {
    BucketCounters b;
    b.name = std::string(name);
    it = buckets_.emplace(b.name, std::move(b)).first;
  }
  if (std::find(dirty_buckets_.begin(), dirty_buckets_.end(), name) == dirty_buckets_.end())
    dirty_buckets_.emplace_back(name);
  return it->second;
}

bool MetricsRegistry::load(std::string* error) {
  std::lock_guard lk(mu_);
  streams_.clear();
  buckets_.clear();
  epoch_ms_ = 0;
  auto it = store_.iterate(store::Family::metrics);
  for (it->seek(""); it->valid(); it->next()) {
    std::string_view k = it->key(), v = it->value();
    if (k == kEpochKey && v.size() == 8) {
      epoch_ms_ = static_cast<int64_t>(store::get_u64(v, 0));
    } else if (k.rfind("c/", 0) == 0 && k.size() >= 2 + 1 + 4 && k[k.size() - 5] == '\0' && v.size() >= 4) {
      std::string name(k.substr(2, k.size() - 7));
      uint32_t shard = store::get_u32(k, k.size() - 4);
      uint32_t n = store::get_u32(v, 0);
      if (v.size() < 4 + static_cast<size_t>(n) * 8) continue;
      Counters c{};
      for (uint32_t i = 0; i < n && i < kCounterCount; ++i) c[i] = store::get_u64(v, 4 + i * 8);
      auto& st = streams_[name];
      if (!st) st = std::make_unique<StreamState>(name, options_.series_seconds);
      if (shard == kStreamSlot) st->counters.stream = c;
      else st->counters.shards[shard] = c;
    } else if (k.rfind("d/", 0) == 0 && v.size() == 8) {
      std::string name(k.substr(2));
      auto& st = streams_[name];
      if (!st) st = std::make_unique<StreamState>(name, options_.series_seconds);
      st->counters.deleted = true;
      st->counters.deleted_ms = static_cast<int64_t>(store::get_u64(v, 0));
    } else if (k.rfind("b/", 0) == 0) {
      json j = json::parse(v, nullptr, false);
      if (!j.is_object()) continue;
      BucketCounters b;
      b.name = std::string(k.substr(2));
      b.class_a = j.value("class_a", uint64_t{0});
      b.class_b = j.value("class_b", uint64_t{0});
      b.free_requests = j.value("free", uint64_t{0});
      b.bytes_in = j.value("bytes_in", uint64_t{0});
      b.bytes_out = j.value("bytes_out", uint64_t{0});
      b.stored_bytes = j.value("stored_bytes", uint64_t{0});
      b.stored_objects = j.value("stored_objects", uint64_t{0});
      b.byte_ms = j.value("byte_ms", 0.0);
      b.last_change_ms = j.value("last_change_ms", int64_t{0});
      buckets_[b.name] = std::move(b);
    }
  }
  if (auto st = it->status(); !st) {
    if (error) *error = "reading metrics: " + st.message;
    return false;
  }
  if (epoch_ms_ == 0) {
    epoch_ms_ = clock_.now_ms();
    store::WriteBatch b(store_);
    std::string v;
    store::put_u64(v, static_cast<uint64_t>(epoch_ms_));
    b.put(store::Family::metrics, kEpochKey, v);
    if (auto st = store_.write(b); !st) {
      if (error) *error = "writing metrics: " + st.message;
      return false;
    }
  }
  return true;
}

void MetricsRegistry::start() {
  if (started_) return;
  started_ = true;
  flusher_.start();
}

void MetricsRegistry::stop() {
  if (!started_) return;
  started_ = false;
  flusher_.stop();
  if (auto st = flush(); !st) spdlog::error("metrics flush at shutdown failed: {}", st.message);
}

store::Status MetricsRegistry::flush() {
  std::lock_guard flk(flush_mu_);
  store::WriteBatch b(store_);
  std::vector<std::string> streams, buckets;  // the names written, for a failed write
  {
    std::lock_guard lk(mu_);
    for (const auto& name : dirty_streams_) {
      auto it = streams_.find(name);
      if (it == streams_.end()) continue;
      const StreamCounters& sc = it->second->counters;
      auto put = [&](uint32_t shard, const Counters& c) {
        std::string v;
        store::put_u32(v, static_cast<uint32_t>(kCounterCount));
        for (uint64_t x : c) store::put_u64(v, x);
        b.put(store::Family::metrics, counter_key(name, shard), v);
      };
      put(kStreamSlot, sc.stream);
      for (const auto& [shard, c] : sc.shards) put(shard, c);
      if (sc.deleted) {
        std::string v;
        store::put_u64(v, static_cast<uint64_t>(sc.deleted_ms));
        b.put(store::Family::metrics, "d/" + name, v);
      } else {
        b.del(store::Family::metrics, "d/" + name);
      }
    }
    for (const auto& name : dirty_buckets_) {
      auto it = buckets_.find(name);
      if (it == buckets_.end()) continue;
      const BucketCounters& bc = it->second;
      json j = {{"class_a", bc.class_a},         {"class_b", bc.class_b},
                {"free", bc.free_requests},      {"bytes_in", bc.bytes_in},
                {"bytes_out", bc.bytes_out},     {"stored_bytes", bc.stored_bytes},
                {"stored_objects", bc.stored_objects}, {"byte_ms", bc.byte_ms},
                {"last_change_ms", bc.last_change_ms}};
      b.put(store::Family::metrics, "b/" + name, j.dump());
    }
    streams.swap(dirty_streams_);
    buckets.swap(dirty_buckets_);
  }
  if (b.count() == 0) return store::Status::good();
  store::Status st = store_.write(b);
  if (!st) {
    // Still changed: marked again, so that the next flush writes their (by then newer) values.
    std::lock_guard lk(mu_);
    for (auto& n : streams)
      if (std::find(dirty_streams_.begin(), dirty_streams_.end(), n) == dirty_streams_.end())
        dirty_streams_.push_back(std::move(n));
    for (auto& n : buckets)
      if (std::find(dirty_buckets_.begin(), dirty_buckets_.end(), n) == dirty_buckets_.end())
        dirty_buckets_.push_back(std::move(n));
  }
  return st;
}

store::Status MetricsRegistry::reset() {
  std::lock_guard flk(flush_mu_);
  std::lock_guard lk(mu_);
  // Objects and bytes stored are state, not counts: they stay (the S3 service only reports
  // changes); storage starts costing again from now.
  std::vector<BucketCounters> stored;
  for (const auto& [name, b] : buckets_)
    if (b.stored_bytes || b.stored_objects) stored.push_back(b);
  streams_.clear();
  buckets_.clear();
  dirty_streams_.clear();
  dirty_buckets_.clear();
  epoch_ms_ = clock_.now_ms();
  for (const auto& old : stored) {
    BucketCounters& b = bucket_locked(old.name);
    b.stored_bytes = old.stored_bytes;
    b.stored_objects = old.stored_objects;
    b.last_change_ms = epoch_ms_;
  }
  store::WriteBatch b(store_);
  b.delete_range(store::Family::metrics, std::string_view("\x00", 1), "\xff\xff\xff\xff");
  std::string v;
  store::put_u64(v, static_cast<uint64_t>(epoch_ms_));
  b.put(store::Family::metrics, kEpochKey, v);
  return store_.write(b);
}

// ---- Kinesis ------------------------------------------------------------------------------

void MetricsRegistry::after_put(const kinesis::OperationInfo& op, const kinesis::Stream& s,
                                std::span<const kinesis::PutRecordEvent> accepted,
                                std::span<const kinesis::PutRejection> rejected) {
  const int64_t now = op.now_ms ? op.now_ms : clock_.now_ms();
  const uint64_t unit = prices_.put_payload_unit_bytes;
  const uint64_t rounding = prices_.on_demand_record_rounding_bytes;

  // Decoding happens before taking the lock: many streams put at once. Only the last
  // recent_records entries are shown; their decoded aggregates are kept for that.
  struct Delta {
    uint32_t shard;
    uint64_t bytes, units, rounded, users;
    kpl::DecodeStatus status;
    bool misrouted;
  };
  boost::container::small_vector<Delta, 1> deltas;
  deltas.reserve(accepted.size());
  const size_t keep_from = accepted.size() > options_.recent_records ? accepted.size() - options_.recent_records : 0;
  KplScratch& scratch = kpl_scratch();
  for (size_t i = 0; i < accepted.size(); ++i) {
    const auto& e = accepted[i];
    Delta d{e.shard_index, e.partition_key.size() + e.data.size(), 0, 0, 1, kpl::DecodeStatus::not_aggregated, false};
    d.units = round_up_units(d.bytes, unit);
    d.rounded = round_up_units(d.bytes, rounding) * rounding;
    if (kpl::is_aggregated(e.data)) {
      // What a KCL consumer does with it: the digest, the whole protobuf and every index are
      // checked (views, nothing copied); only then is it its user records.
      d.status = scratch.reader.reset(e.data);
      if (d.status == kpl::DecodeStatus::ok) {
        d.users = scratch.reader.size();
        d.misrouted = scratch.reader.first_outside(e.shard_range).has_value();
      }
    }
    deltas.push_back(d);
  }

  struct Dropped {
    uint32_t shard;
    const char* reason;
    uint64_t count;
  };
  std::vector<Dropped> to_log;
  {
    std::lock_guard lk(mu_);
    StreamState& st = stream_locked(s.name);
    StreamCounters& sc = st.counters;
    sc.deleted = false;
    sc.deleted_ms = 0;
    if (op.operation == "PutRecords") {
      ++sc.stream[idx(Counter::put_records_calls)];
      sc.stream[idx(Counter::put_records_entries)] += accepted.size() + rejected.size();
    } else {
      ++sc.stream[idx(Counter::put_record_calls)];
    }
    // Refused entries count against the shard they were routed to (throttled ones are also
    // failed ones, as FailedRecordCount counts them).
    uint64_t throttled = 0;
    for (const auto& r : rejected) {
      Counters& c = sc.shards[r.shard_index];
      ++c[idx(Counter::records_failed)];
      if (r.throttled) {
        ++c[idx(Counter::records_throttled)];
        ++throttled;
      }
    }
    auto& slot = st.series.at(now / 1000);
    ++slot.v[static_cast<size_t>(SeriesField::put_calls)];
    slot.v[static_cast<size_t>(SeriesField::throttled)] += throttled;
    for (const auto& d : deltas) {
      Counters& c = sc.shards[d.shard];
      ++c[idx(Counter::records)];
      c[idx(Counter::user_records)] += d.users;
      c[idx(Counter::bytes_in)] += d.bytes;
      c[idx(Counter::payload_units)] += d.units;
      c[idx(Counter::ingest_rounded_bytes)] += d.rounded;
      slot.v[static_cast<size_t>(SeriesField::records)] += 1;
      slot.v[static_cast<size_t>(SeriesField::user_records)] += d.users;
      slot.v[static_cast<size_t>(SeriesField::payload_units)] += d.units;
      slot.v[static_cast<size_t>(SeriesField::bytes_in)] += d.bytes;
      if (d.status == kpl::DecodeStatus::not_aggregated) continue;
      ++c[idx(Counter::kpl_aggregates)];
      Counter drop = Counter::count_;
      if (d.status == kpl::DecodeStatus::bad_md5) drop = Counter::kpl_bad_md5;
      else if (d.status != kpl::DecodeStatus::ok) drop = Counter::kpl_unparseable;
      else if (d.misrouted) drop = Counter::kpl_misrouted;
      if (drop != Counter::count_) {
        uint64_t n = ++c[idx(drop)];
        if (worth_logging(n)) to_log.push_back(Dropped{d.shard, counter_name(drop), n});
      }
    }
    for (size_t i = keep_from; i < accepted.size(); ++i)
      fill_recent(st.recent.push(options_.recent_records), accepted[i], deltas[i].bytes, deltas[i].status,
                  deltas[i].misrouted, now, options_.recent_user_records);
  }
  for (const auto& d : to_log) {
    if (std::string_view(d.reason) == "kpl_misrouted")
      spdlog::warn("stream {} {}: KPL aggregate holds a user record whose hash key is outside the shard; a KCL "
                   "consumer drops the whole aggregate ({} so far)",
                   s.name, kinesis::Shard::shard_id(d.shard), d.count);
    else
      spdlog::warn("stream {} {}: KPL aggregate with {}; a KCL consumer passes it on undecoded ({} so far)", s.name,
                   kinesis::Shard::shard_id(d.shard),
                   std::string_view(d.reason) == "kpl_bad_md5" ? "a wrong MD5 trailer" : "an unparseable body",
                   d.count);
  }
}

void MetricsRegistry::after_read(const kinesis::Stream& s, const kinesis::Shard& shard, size_t records,
                                 size_t bytes, int64_t) {
  std::lock_guard lk(mu_);
  Counters& c = stream_locked(s.name).counters.shards[shard.index];
  ++c[idx(Counter::get_records_calls)];
  c[idx(Counter::get_records_records)] += records;
  c[idx(Counter::bytes_out)] += bytes;
}

void MetricsRegistry::after_subscribe_event(const kinesis::Stream& s, uint32_t shard, size_t records, size_t bytes,
                                            int64_t) {
  std::lock_guard lk(mu_);
  Counters& c = stream_locked(s.name).counters.shards[shard];
  ++c[idx(Counter::efo_events)];
  c[idx(Counter::efo_records)] += records;
  c[idx(Counter::efo_bytes_out)] += bytes;
}

void MetricsRegistry::on_iterator_expired(const kinesis::Stream& s, uint32_t shard) {
  std::lock_guard lk(mu_);
  ++stream_locked(s.name).counters.shards[shard][idx(Counter::iterator_expired)];
}

void MetricsRegistry::on_stream_deleted(const std::string& name) {
  std::lock_guard lk(mu_);
  // Counters stay (what was spent was spent); the stream is shown as deleted. Its per-second
  // series and recent records go: kept, every stream name a test run ever used would hold
  // ~200 KiB until the next restart (a soak that creates and deletes streams grew by that).
  StreamState& st = stream_locked(name);
  StreamCounters& sc = st.counters;
  sc.deleted = true;
  sc.deleted_ms = clock_.now_ms();
  st.series.release();
  st.recent = RecentRing{};
}

// ---- S3 -----------------------------------------------------------------------------------

void MetricsRegistry::settle_storage_locked(BucketCounters& b, int64_t now) {
  if (b.last_change_ms > 0 && now > b.last_change_ms)
    b.byte_ms += static_cast<double>(b.stored_bytes) * static_cast<double>(now - b.last_change_ms);
  b.last_change_ms = now;
}

void MetricsRegistry::on_request(std::string_view bucket, S3PricingClass cls, uint64_t bytes_in,
                                 uint64_t bytes_out) {
  std::lock_guard lk(mu_);
  BucketCounters& b = bucket_locked(bucket);
  switch (cls) {
    case S3PricingClass::class_a: ++b.class_a; break;
    case S3PricingClass::class_b: ++b.class_b; break;
    case S3PricingClass::free: ++b.free_requests; break;
  }
  b.bytes_in += bytes_in;
  b.bytes_out += bytes_out;
}

void MetricsRegistry::on_stored_delta(std::string_view bucket, int64_t bytes, int64_t objects) {
  std::lock_guard lk(mu_);
  BucketCounters& b = bucket_locked(bucket);
  settle_storage_locked(b, clock_.now_ms());
  auto apply = [](uint64_t& v, int64_t d) {
    v = d < 0 && static_cast<uint64_t>(-d) > v ? 0 : static_cast<uint64_t>(static_cast<int64_t>(v) + d);
  };
  apply(b.stored_bytes, bytes);
  apply(b.stored_objects, objects);
}

void MetricsRegistry::on_stored_total(std::string_view bucket, uint64_t bytes, uint64_t objects) {
  std::lock_guard lk(mu_);
  BucketCounters& b = bucket_locked(bucket);
  settle_storage_locked(b, clock_.now_ms());
  b.stored_bytes = bytes;
  b.stored_objects = objects;
}

// ---- copies for reports -------------------------------------------------------------------

std::vector<StreamCounters> MetricsRegistry::stream_counters() const {
  std::lock_guard lk(mu_);
  std::vector<StreamCounters> out;
  out.reserve(streams_.size());
  for (const auto& [_, st] : streams_) out.push_back(st->counters);
  return out;
}

std::vector<BucketCounters> MetricsRegistry::bucket_counters() const {
  std::lock_guard lk(mu_);
  std::vector<BucketCounters> out;
  const int64_t now = clock_.now_ms();
  for (const auto& [_, b] : buckets_) {
    BucketCounters c = b;
    if (c.last_change_ms > 0 && now > c.last_change_ms)
      c.byte_ms += static_cast<double>(c.stored_bytes) * static_cast<double>(now - c.last_change_ms);
    c.last_change_ms = now;
    out.push_back(std::move(c));
  }
  return out;
}

void MetricsRegistry::series_json(int64_t seconds, const std::string& only_stream, json& out) const {
  const int64_t now_s = clock_.now_ms() / 1000;
  seconds = std::clamp<int64_t>(seconds, 1, static_cast<int64_t>(options_.series_seconds));
  out = json{{"now_s", now_s}, {"seconds", seconds}, {"from_s", now_s - seconds + 1}};
  json streams = json::object();
  std::lock_guard lk(mu_);
  for (const auto& [name, st] : streams_) {
    if (!only_stream.empty() && name != only_stream) continue;
    json fields = json::object();
    for (size_t f = 0; f < kSeriesFieldCount; ++f) {
      json vals = json::array();
      for (int64_t t = now_s - seconds + 1; t <= now_s; ++t) vals.push_back(st->series.get(t, f));
      fields[kSeriesNames[f]] = std::move(vals);
    }
    streams[name] = std::move(fields);
  }
  out["streams"] = std::move(streams);
}

void MetricsRegistry::recent_json(const std::string& stream, size_t limit, json& out) const {
  out = json::array();
  std::lock_guard lk(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  const auto& recent = it->second->recent;
  // Newest first: the dashboard shows a tail.
  for (size_t i = 0; i < std::min(limit, recent.size()); ++i) {
    const RecentRecord& r = recent.newest(i);
    json users = json::array();
    for (const auto& u : r.user_records) {
      json uj = {{"partition_key", u.partition_key}, {"size", u.size}, {"preview", u.preview}};
      if (u.explicit_hash_key) uj["explicit_hash_key"] = *u.explicit_hash_key;
      users.push_back(std::move(uj));
    }
    json rj = {{"arrival_ms", r.arrival_ms},
               {"shard", kinesis::Shard::shard_id(r.shard)},
               {"partition_key", r.partition_key},
               {"size", r.size},
               {"kpl", r.kpl},
               {"kpl_outer_key", r.kpl_outer_key},
               {"misrouted", r.misrouted},
               {"user_record_count", r.user_record_count},
               {"user_records", std::move(users)}};
    if (r.explicit_hash_key) rj["explicit_hash_key"] = *r.explicit_hash_key;
    out.push_back(std::move(rj));
  }
}

}  // namespace eddy::metrics
