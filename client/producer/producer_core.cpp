#include "client/producer/producer_core.h"

#include <algorithm>

#include "wire/kpl_aggregate.h"

namespace eddy::producer {

namespace {

constexpr std::size_t kMaxRecordBytes = 1048576;  // data + partition key of one Kinesis record
constexpr std::size_t kMaxPartitionKeyChars = 256;
constexpr double kShardRecordsPerSecond = 1000;
constexpr double kShardBytesPerSecond = 1048576;
// The KPL's collector sends early once one shard has this much waiting in it, so a shard's
// traffic does not come in bursts.
constexpr std::size_t kShardCollectLimit = 256 * 1024;
// A limiter with records waiting is looked at again after this long (the KPL's drain period).
constexpr auto kLimiterPoll = std::chrono::milliseconds(25);
const std::string kThrottled = "ProvisionedThroughputExceededException";

// Characters of a UTF-8 string; nullopt when it is not well-formed UTF-8 (a partition key is
// a JSON string on the wire).
std::optional<std::size_t> utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return std::nullopt;
    if (i + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return std::nullopt;
    i += len;
  }
  return n;
}

}  // namespace

ProducerCore::ProducerCore(ProducerConfig config) : config_(std::move(config)) {}

std::optional<std::size_t> ProducerCore::shard_for(wire::u128 hash) const {
  // This runs for every user record: the hash's top bits give the few shards that can hold it
  // (bucket_first_), and a search over their starts alone (16 bytes each, contiguous) the one.
  if (range_starts_.empty()) return std::nullopt;
  const auto b = static_cast<std::size_t>(hash >> (128 - kBucketBits));
  const auto lo = range_starts_.begin() + bucket_first_[b];
  const auto hi = b + 1 < bucket_first_.size() ? range_starts_.begin() + bucket_first_[b + 1] + 1
                                               : range_starts_.end();
  auto it = std::upper_bound(lo, hi, hash);
  if (it == range_starts_.begin()) return std::nullopt;
  const auto i = static_cast<std::size_t>(it - range_starts_.begin()) - 1;
  if (hash > range_ends_[i]) return std::nullopt;
  return i;
}

std::optional<std::size_t> ProducerCore::shard_holding(wire::u128 lo, wire::u128 hi) const {
  auto i = shard_for(lo);
  if (i && shards_[*i].info.range.contains(hi)) return i;
  return std::nullopt;
}

ProducerCore::Shard* ProducerCore::shard_by_id(const std::string& id) {
  auto it = shard_index_.find(id);
  return it == shard_index_.end() ? nullptr : &shards_[it->second];
}

PutStatus ProducerCore::put(std::string_view pk, std::optional<std::string_view> ehk,
                            std::string_view data, TimePoint now, std::string* error,
                            std::optional<wire::u128> hash) {
  auto invalid = [&](std::string m) {
    if (error) *error = std::move(m);
    return PutStatus::invalid;
  };
  const std::optional<std::size_t> pk_chars = utf8_chars(pk);
  if (!pk_chars) return invalid("partition key is not valid UTF-8");
  if (pk.empty() || *pk_chars > kMaxPartitionKeyChars)
    return invalid("partition key must be 1 to 256 characters");
  if (data.size() + pk.size() > kMaxRecordBytes)
    return invalid("record too large: data and partition key exceed 1 MiB");
  wire::u128 h = 0;
  if (hash) {
    h = *hash;
  } else if (ehk) {
    auto parsed = wire::parse_u128(*ehk);
    if (!parsed) return invalid("explicit hash key is not a decimal integer below 2^128");
    h = *parsed;
  } else {
    h = wire::hash_key_of_partition_key(pk);
  }
  const std::uint64_t bytes = pk.size() + data.size() + (ehk ? ehk->size() : 0);
  if (stats_.buffered_bytes > 0 && stats_.buffered_bytes + bytes > config_.max_buffer_bytes) {
    // Full: what is buffered cannot grow any more, so waiting out RecordMaxBufferedTime only
    // holds the caller up. Send it now.
    if (!pressure_flush_ && (open_aggregates_ > 0 || !collection_.empty())) {
      pressure_flush_ = true;
      wakeup_flag_ = true;
    }
    return PutStatus::would_block;
  }
  stats_.buffered_bytes += bytes;
  stats_.buffered_records += 1;
  stats_.user_records_put += 1;
  const TimePoint expiration = config_.record_ttl.count() > 0 ? now + config_.record_ttl
                                                               : TimePoint::max();
  add_user_record(pk, ehk, data, h, now + config_.record_max_buffered_time, expiration);
  // Small collections and the limiters wait for poll(); only full ones are ready at once.
  return PutStatus::ok;
}

void ProducerCore::add_user_record(std::string_view pk, std::optional<std::string_view> ehk,
                                   std::string_view data, wire::u128 hash, TimePoint deadline,
                                   TimePoint expiration) {
  const std::uint64_t bytes = pk.size() + data.size() + (ehk ? ehk->size() : 0);
  const auto idx = shard_for(hash);
  if (!config_.aggregation_enabled || !idx) {
    KinesisRecord kr;
    kr.partition_key.assign(pk);
    if (ehk) kr.explicit_hash_key.emplace(*ehk);
    kr.data.assign(data);
    kr.user_records = 1;
    kr.user_bytes = bytes;
    kr.min_hash = kr.max_hash = hash;
    kr.deadline = deadline;
    kr.expiration = expiration;
    if (idx) {
      kr.predicted_shard = shards_[*idx].info.shard_id;
      limit(*idx, std::move(kr), deadline - config_.record_max_buffered_time);
    } else {
      collect(std::move(kr), deadline - config_.record_max_buffered_time);
    }
    return;
  }
  Shard& s = shards_[*idx];
  if (!s.writer.empty() &&
      (s.writer.count() >= config_.aggregation_max_count ||
       s.writer.size_with(pk, ehk, data.size()) > config_.aggregation_max_size))
    close_aggregate(s);
  if (s.writer.empty()) {
    s.first_pk.assign(pk);
    if (ehk)
      s.first_ehk.emplace(*ehk);
    else
      s.first_ehk.reset();
    s.first_data.assign(data);
    s.first_hash = s.min_hash = s.max_hash = hash;
    s.deadline = deadline;
    s.expiration = expiration;
    ++open_aggregates_;
    if (deadline < wakeup_hint_) {
      wakeup_flag_ = true;
      wakeup_hint_ = deadline;
    }
  } else {
    s.min_hash = std::min(s.min_hash, hash);
    s.max_hash = std::max(s.max_hash, hash);
    s.deadline = std::min(s.deadline, deadline);
    s.expiration = std::min(s.expiration, expiration);
  }
  s.writer.add(pk, ehk, data);
  s.user_bytes += bytes;
  if (s.writer.count() >= config_.aggregation_max_count ||
      s.writer.size_bytes() >= config_.aggregation_max_size)
    close_aggregate(s);
}

void ProducerCore::close_aggregate(Shard& s) {
  if (s.writer.empty()) return;
  KinesisRecord kr;
  if (s.writer.count() == 1) {
    kr.partition_key = std::move(s.first_pk);
    kr.explicit_hash_key = std::move(s.first_ehk);
    kr.data = std::move(s.first_data);
  } else {
    kr.partition_key = "a";
    kr.explicit_hash_key = wire::to_decimal(s.first_hash);
    s.writer.finish_unsealed_into(kr.data);
    kr.aggregated = true;
    kr.digest_pending = true;
  }
  kr.user_records = static_cast<std::uint32_t>(s.writer.count());
  kr.user_bytes = s.user_bytes;
  kr.min_hash = s.min_hash;
  kr.max_hash = s.max_hash;
  kr.predicted_shard = s.info.shard_id;
  kr.deadline = s.deadline;
  kr.expiration = s.expiration;
  s.writer.clear();
  s.first_pk.clear();
  s.first_data.clear();
  s.first_ehk.reset();
  s.user_bytes = 0;
  s.deadline = s.expiration = TimePoint::max();
  --open_aggregates_;
  s.limited.push_back(std::move(kr));
  ++limited_records_;
}

void ProducerCore::limit(std::size_t shard, KinesisRecord kr, TimePoint now) {
  Shard& s = shards_[shard];
  s.limited.push_back(std::move(kr));
  ++limited_records_;
  drain(s, now);
}

void ProducerCore::drain(Shard& s, TimePoint now) {
  if (s.limited.empty()) return;
  const double rate = static_cast<double>(config_.rate_limit) / 100.0;
  const double record_cap = kShardRecordsPerSecond * rate;
  const double byte_cap = kShardBytesPerSecond * rate;
  if (s.refilled == TimePoint{}) {
    s.record_tokens = record_cap;
    s.byte_tokens = byte_cap;
  } else if (now > s.refilled) {
    const double secs = std::chrono::duration<double>(now - s.refilled).count();
    s.record_tokens = std::min(record_cap, s.record_tokens + secs * record_cap);
    s.byte_tokens = std::min(byte_cap, s.byte_tokens + secs * byte_cap);
  }
  s.refilled = std::max(s.refilled, now);
  while (!s.limited.empty()) {
    KinesisRecord& kr = s.limited.front();
    if (now >= kr.expiration) {
      fail(kr, true, "Expired: RecordTtl reached while waiting for the shard's rate limit");
      s.limited.pop_front();
      --limited_records_;
      continue;
    }
    const double size = static_cast<double>(kr.request_size());
    if (s.record_tokens < 1 || s.byte_tokens < std::min(size, byte_cap)) break;
    s.record_tokens -= 1;
    s.byte_tokens -= size;
    KinesisRecord out = std::move(kr);
    s.limited.pop_front();
    --limited_records_;
    collect(std::move(out), now);
  }
}

void ProducerCore::collect(KinesisRecord kr, TimePoint now) {
  const std::size_t size = kr.request_size();
  if (!collection_.empty() && (collection_.size() + 1 > config_.collection_max_count ||
                               collection_bytes_ + size > config_.collection_max_size))
    close_collection();
  TimePoint deadline = kr.deadline;
  if (config_.aggregation_enabled) {
    // The KPL holds an aggregate a little longer in the collector (a fifth of
    // RecordMaxBufferedTime, at most 50 ms) so the aggregates of all shards that closed at
    // about the same time share one PutRecords call.
    deadline = std::max(deadline, now + collector_grace());
  }
  collection_deadline_ = std::min(collection_deadline_, deadline);
  bool shard_full = false;
  if (Shard* s = kr.predicted_shard.empty() ? nullptr : shard_by_id(kr.predicted_shard)) {
    s->collected_bytes += size;
    shard_full = s->collected_bytes >= kShardCollectLimit;
  }
  collection_bytes_ += size;
  collection_.push_back(std::move(kr));
  if (shard_full || collection_.size() >= config_.collection_max_count ||
      collection_bytes_ >= config_.collection_max_size)
    close_collection();
}

void ProducerCore::close_collection() {
  if (collection_.empty()) return;
  Batch b;
  b.id = next_batch_id_++;
  b.records = std::move(collection_);
  for (const KinesisRecord& kr : b.records)
    if (Shard* s = kr.predicted_shard.empty() ? nullptr : shard_by_id(kr.predicted_shard))
      s->collected_bytes = 0;
  collection_.clear();
  collection_bytes_ = 0;
  collection_deadline_ = TimePoint::max();
  ready_.push_back(std::move(b));
  wakeup_flag_ = true;
}

void ProducerCore::poll(TimePoint now) {
  const bool flush_all = flushing_ || pressure_flush_;
  pressure_flush_ = false;
  for (Shard& s : shards_) {
    if (!s.writer.empty() && (flush_all || s.deadline <= now)) close_aggregate(s);
    if (!s.limited.empty()) drain(s, now);
  }
  if (!collection_.empty() && (flush_all || collection_deadline_ <= now)) {
    // Aggregates that would close within the collector's grace period ride along now (early,
    // never late): the shards stay in step, so a trickle keeps to one PutRecords call per
    // RecordMaxBufferedTime instead of drifting apart into several.
    if (config_.aggregation_enabled) {
      const TimePoint horizon = now + collector_grace();
      for (Shard& s : shards_)
        if (!s.writer.empty() && s.deadline <= horizon) {
          close_aggregate(s);
          drain(s, now);
        }
    }
    close_collection();
  }
}

Duration ProducerCore::collector_grace() const {
  return std::min<Duration>(std::chrono::milliseconds(50), config_.record_max_buffered_time / 5);
}

void ProducerCore::seal(KinesisRecord& record) {
  if (!record.digest_pending) return;
  wire::kpl::AggregateWriter::seal(record.data);
  record.digest_pending = false;
}

void ProducerCore::seal(Batch& batch) {
  for (KinesisRecord& kr : batch.records) seal(kr);
}

std::optional<Batch> ProducerCore::take_batch() {
  if (ready_.empty()) return std::nullopt;
  Batch b = std::move(ready_.front());
  ready_.pop_front();
  ++in_flight_;
  ++stats_.put_records_calls;
  for (KinesisRecord& kr : b.records) {
    ++kr.attempts;
    ++stats_.kinesis_records_sent;
    stats_.user_records_sent += kr.user_records;
  }
  return b;
}

TimePoint ProducerCore::next_wakeup(TimePoint now) {
  TimePoint t = TimePoint::max();
  if (!ready_.empty() ||
      ((flushing_ || pressure_flush_) && (open_aggregates_ > 0 || !collection_.empty())))
    t = now;
  if (open_aggregates_ > 0)
    for (const Shard& s : shards_)
      if (!s.writer.empty()) t = std::min(t, s.deadline);
  if (limited_records_ > 0) t = std::min(t, now + kLimiterPoll);
  if (!collection_.empty()) t = std::min(t, collection_deadline_);
  wakeup_hint_ = t;
  return t;
}

bool ProducerCore::idle() const {
  return open_aggregates_ == 0 && limited_records_ == 0 && collection_.empty() &&
         ready_.empty() && in_flight_ == 0 && unverified_.empty();
}

void ProducerCore::ack(const KinesisRecord& kr) {
  stats_.kinesis_records_acked += 1;
  stats_.user_records_acked += kr.user_records;
  stats_.user_bytes_acked += kr.user_bytes;
  stats_.buffered_bytes -= kr.user_bytes;
  stats_.buffered_records -= kr.user_records;
}

void ProducerCore::fail(const KinesisRecord& kr, bool expired, const std::string& why) {
  stats_.user_records_failed += kr.user_records;
  if (expired) stats_.user_records_expired += kr.user_records;
  stats_.buffered_bytes -= kr.user_bytes;
  stats_.buffered_records -= kr.user_records;
  last_error_ = why;
}

void ProducerCore::retry(KinesisRecord kr, TimePoint now, const std::string& code,
                         const std::string& msg) {
  if (now >= kr.expiration) {
    fail(kr, true, "Expired: RecordTtl reached while retrying (" + code + ": " + msg + ")");
    return;
  }
  ++stats_.retries;
  requeue(std::move(kr), now, now + config_.record_max_buffered_time / 2);
}

void ProducerCore::requeue(KinesisRecord kr, TimePoint now, TimePoint deadline) {
  if (const auto idx = shard_holding(kr.min_hash, kr.max_hash)) {
    kr.predicted_shard = shards_[*idx].info.shard_id;
    kr.deadline = deadline;
    limit(*idx, std::move(kr), now);
    return;
  }
  if (shards_.empty() || !kr.aggregated) {
    // No map, or a plain record (one hash key: it always fits some shard once a map exists).
    kr.predicted_shard.clear();
    kr.deadline = deadline;
    collect(std::move(kr), now);
    return;
  }
  // The aggregate spans shards now (a split): send its user records again one by one. They
  // stay counted in the buffer; add_user_record takes them without a second count.
  seal(kr);
  const auto decoded = wire::kpl::decode(kr.data);
  for (const wire::kpl::UserRecord& u : decoded.records) {
    std::optional<std::string_view> ehk;
    wire::u128 h = 0;
    if (u.explicit_hash_key) {
      ehk = *u.explicit_hash_key;
      h = wire::parse_u128(*u.explicit_hash_key).value_or(0);
    } else {
      h = wire::hash_key_of_partition_key(u.partition_key);
    }
    add_user_record(u.partition_key, ehk, u.data, h, deadline, kr.expiration);
  }
}

void ProducerCore::complete(Batch batch, const PutRecordsOutcome& outcome, TimePoint now) {
  --in_flight_;
  if (outcome.attempts > 1) stats_.request_retries += static_cast<std::uint64_t>(outcome.attempts - 1);
  if (!outcome.ok || outcome.entries.size() != batch.records.size()) {
    const std::string code = outcome.ok ? "RecordCountMismatch" : outcome.error_code;
    const std::string msg =
        outcome.ok ? "PutRecords answered " + std::to_string(outcome.entries.size()) +
                         " entries for " + std::to_string(batch.records.size())
                   : outcome.error_message;
    for (KinesisRecord& kr : batch.records) {
      if (code == kThrottled) ++stats_.throttled_entries;
      if (config_.fail_if_throttled && code == kThrottled)
        fail(kr, false, code + ": " + msg);
      else
        retry(std::move(kr), now, code, msg);
    }
    return;
  }
  for (std::size_t i = 0; i < batch.records.size(); ++i) {
    KinesisRecord& kr = batch.records[i];
    const PutEntryResult& r = outcome.entries[i];
    if (!r.ok()) {
      if (r.error_code == kThrottled) ++stats_.throttled_entries;
      if (config_.fail_if_throttled && r.error_code == kThrottled)
        fail(kr, false, r.error_code + ": " + r.error_message);
      else
        retry(std::move(kr), now, r.error_code, r.error_message);
      continue;
    }
    if (kr.predicted_shard.empty() || r.shard_id == kr.predicted_shard) {
      ack(kr);
      continue;
    }
    // It went to another shard than the map said: the map is out of date.
    ++stats_.misroutes;
    shard_map_stale_ = true;
    auto actual = all_shards_.find(r.shard_id);
    if (actual == all_shards_.end()) {
      unverified_.emplace_back(std::move(kr), r.shard_id);
    } else if (actual->second.range.contains(kr.min_hash) &&
               actual->second.range.contains(kr.max_hash)) {
      ack(kr);
    } else {
      // Some of its user records lie outside the shard it was written to: a KCL-style reader
      // drops such an aggregate whole, so every user record of it is sent again.
      retry(std::move(kr), now, "WrongShard", "landed in " + r.shard_id);
    }
  }
}

void ProducerCore::set_shards(std::vector<ShardInfo> shards, TimePoint now) {
  ++stats_.shard_map_updates;
  shard_map_stale_ = false;
  // Take out everything routed by the old map.
  std::vector<KinesisRecord> pending;
  for (Shard& s : shards_) {
    close_aggregate(s);
    for (KinesisRecord& kr : s.limited) pending.push_back(std::move(kr));
    limited_records_ -= s.limited.size();
    s.limited.clear();
  }
  std::unordered_map<std::string, Shard> old;
  for (Shard& s : shards_) old.emplace(s.info.shard_id, std::move(s));
  shards_.clear();
  shard_index_.clear();
  all_shards_.clear();
  open_shards_.clear();
  for (ShardInfo& info : shards) {
    all_shards_[info.shard_id] = info;
    if (info.open) open_shards_.push_back(info);
  }
  std::sort(open_shards_.begin(), open_shards_.end(),
            [](const ShardInfo& a, const ShardInfo& b) { return a.range.start < b.range.start; });
  for (const ShardInfo& info : open_shards_) {
    auto it = old.find(info.shard_id);
    if (it != old.end()) {
      shards_.push_back(std::move(it->second));  // keeps its tokens
    } else {
      shards_.emplace_back();
    }
    shards_.back().info = info;
    shards_.back().collected_bytes = 0;
    shard_index_[info.shard_id] = shards_.size() - 1;
  }
  range_starts_.clear();
  range_ends_.clear();
  for (const Shard& s : shards_) {
    range_starts_.push_back(s.info.range.start);
    range_ends_.push_back(s.info.range.end);
  }
  // For each bucket of hash keys (by their top bits), the last shard starting at or before the
  // bucket's first key (0 when none does).
  bucket_first_.assign(std::size_t{1} << kBucketBits, 0);
  for (std::size_t b = 0; b < bucket_first_.size(); ++b) {
    const wire::u128 first_key = static_cast<wire::u128>(b) << (128 - kBucketBits);
    auto it = std::upper_bound(range_starts_.begin(), range_starts_.end(), first_key);
    bucket_first_[b] = it == range_starts_.begin() ? 0 : static_cast<std::uint32_t>(it - range_starts_.begin() - 1);
  }
  for (KinesisRecord& kr : pending) {
    const TimePoint deadline = kr.deadline;
    requeue(std::move(kr), now, deadline);
  }
  // Decide the records acknowledged in a shard the old map did not know.
  std::vector<std::pair<KinesisRecord, std::string>> unverified = std::move(unverified_);
  unverified_.clear();
  for (auto& [kr, shard_id] : unverified) {
    auto actual = all_shards_.find(shard_id);
    if (actual != all_shards_.end() && actual->second.range.contains(kr.min_hash) &&
        actual->second.range.contains(kr.max_hash))
      ack(kr);
    else
      retry(std::move(kr), now, "WrongShard", "landed in " + shard_id);
  }
}

}  // namespace eddy::producer
