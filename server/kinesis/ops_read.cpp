// Reads: GetShardIterator and GetRecords (the scan, retention trims on the way).
#include "server/kinesis/service_impl.h"

#include <algorithm>
#include <mutex>

#include "server/kinesis/keys.h"
#include "server/kinesis/record_block.h"
#include "server/kinesis/sequence_number.h"
#include "wire/base64.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {
constexpr size_t kMaxGetRecordsBytes = 10 * 1024 * 1024;
}  // namespace

std::vector<Shard> ServiceImpl::children_of(const Stream& s, uint32_t shard) {
  std::vector<Shard> out;
  for (const auto& o : s.shards)
    if ((o.parent && *o.parent == shard) || (o.adjacent_parent && *o.adjacent_parent == shard)) out.push_back(o);
  return out;
}

json ServiceImpl::child_shards_json(const std::vector<Shard>& children) {
  json cs = json::array();
  for (const auto& ch : children) {
    json parents = json::array();
    if (ch.parent) parents.push_back(Shard::shard_id(*ch.parent));
    if (ch.adjacent_parent) parents.push_back(Shard::shard_id(*ch.adjacent_parent));
    cs.push_back(json{{"ShardId", ch.id()}, {"ParentShards", parents}, {"HashKeyRange", hash_range_json(ch.range)}});
  }
  return cs;
}

http::Response ServiceImpl::get_shard_iterator(Call& c) {
  auto shard_id = c.in.string("ShardId");
  auto type = c.in.string("ShardIteratorType");
  auto seq = c.in.string("StartingSequenceNumber");
  const StreamRef ref(c.in);
  auto ts = c.in.timestamp("Timestamp");
  if (c.in.failed()) return fail(c, *c.in.error);
  Validator v;
  v.string("shardId", shard_id, true, 1, 128, Validator::kNamePattern);
  v.enumeration("shardIteratorType", type, true,
                {"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"});
  v.string("startingSequenceNumber", seq, false, 0, SIZE_MAX, Validator::kSequencePattern);
  ref.validate(v);
  if (!v.ok()) return fail(c, v.error());
  auto idx = Shard::parse_id(*shard_id);
  const std::string shown_name = ref.shown_name();
  ApiError err;
  auto s = resolve(c, ref.name, ref.arn, err);
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

http::Response ServiceImpl::get_records(Call& c) {
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
    if (!sh->open()) children = children_of(*s, sh->index);
  }
  size_t max = static_cast<size_t>(limit.value_or(10000));
  int64_t cutoff = c.now - retention_ms;
  std::string p = keys::shard_records(s->id, shard.index);
  std::string end = record_key(s->id, shard.index, shard.next_counter);
  auto rit = store_.iterate(store::Family::records, p, end);
  // Records are written straight into the response encoding (no json tree per record).
  const bool as_json = c.enc == Encoding::json;
  const bool kms = s->encryption == "KMS";
  // The records go straight into the response body after its opening. CBOR's array head holds
  // the count, unknown until the scan ends: written in its 4-byte form (0x9a, valid if not the
  // shortest) and filled in at the end, so the records are not copied behind it.
  std::string records;
  if (as_json) {
    records = "{\"Records\":[";
  } else {
    emit::cbor_head(records, 5, 3);
    emit::cbor_text(records, "Records");
    records.append("\x9a\0\0\0\0", 5);
  }
  const std::size_t count_at = records.size() - 4;
  size_t count = 0;
  uint64_t next = it->position;
  size_t bytes = 0;
  int64_t last_arrival = -1;
  std::string first_live;
  bool skipped_expired = false;
  bool exhausted = true;  // false when Limit or the 10 MiB cap stopped the scan
  RecordCursor cursor(*rit, s->id, shard.index);
  cursor.seek(it->position);
  if (cursor.valid() && cursor.record().arrival_ms < cutoff) {
    // A run of expired records (millions after a long stop): jumped by binary search to the
    // first live block instead of read through, and trimmed below.
    skipped_expired = true;
    const std::string live = first_live_block(s->id, shard.index, cursor.record().counter, shard.next_counter, cutoff);
    next = live.empty() ? shard.next_counter : store::get_u64(live, 8);
    cursor.seek(next);
  }
  for (; cursor.valid(); cursor.next()) {
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
      const size_t per_record = as_json ? sz * 4 / 3 + 160 : sz + 112;
      records.reserve(std::min<size_t>(std::min(max, available) * per_record + 256, kMaxGetRecordsBytes / 3 * 4 + 4096));
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
    child_shards = encode(c.enc, child_shards_json(children));
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
    for (int i = 0; i < 4; ++i) records[count_at + static_cast<size_t>(i)] = static_cast<char>(count >> (24 - 8 * i));
    body = std::move(records);
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

}  // namespace eddy::kinesis
