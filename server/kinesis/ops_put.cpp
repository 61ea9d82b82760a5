// Writes: PutRecord (validated and built on the request's worker, then committed with the
// other puts its loop read: group commit) and PutRecords (one stream lock, one write).
#include "server/kinesis/service_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <span>

#include "server/kinesis/record_block.h"
#include "server/kinesis/sequence_number.h"
#include "wire/base64.h"

namespace eddy::kinesis {

using nlohmann::json;
using wire::u128;

namespace {

constexpr size_t kMaxRequestRecordBytes = 10 * 1024 * 1024;

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

// CBOR map members the answers repeat: a text, and a sequence number (56 digits as a text).
void cbor_member(std::string& out, std::string_view key, std::string_view value) {
  emit::cbor_text(out, key);
  emit::cbor_text(out, value);
}
void cbor_sequence_number(std::string& out, const SequenceNumber& seq) {
  emit::cbor_text(out, "SequenceNumber");
  emit::cbor_head(out, 3, kSequenceNumberDigits);
  seq.append_to(out);
}

std::optional<std::string> owned(const std::optional<std::string_view>& v) {
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

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
struct ServiceImpl::PutEntry {
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
struct ServiceImpl::PutQueue {
  std::vector<PutEntry> items, spare;
  bool scheduled = false;
};

http::Response ServiceImpl::put_record(Call& c) {
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
  StreamRef::validate(v, name, arn);
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

void ServiceImpl::commit_queued(PutQueue& q) {
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

void ServiceImpl::commit_puts(std::vector<PutEntry>& puts) {
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

http::Response ServiceImpl::finish_put(PutEntry& e) {
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
    cbor_member(body, "ShardId", shard_id);
    cbor_sequence_number(body, seq);
    cbor_member(body, "EncryptionType", e.encryption);
  }
  return ok_body(e.enc, std::move(body));
}

http::Response ServiceImpl::put_records(Call& c) {
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
  StreamRef::validate(v, name, arn);
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

    // One open block per shard written to; blocks are put into the batch when full and at the end.
    struct ShardWrite {
      Shard* shard;
      uint64_t before;       // the shard's counter before this call
      uint64_t block_first;  // counter of the open block's first record
      size_t records = 0, bytes = 0;  // routed to it by this call (before admission)
      RecordBlockWriter block;
    };
    // Routed first, so that each block and the batch are allocated once at their size: grown
    // step by step, a call's megabyte was copied (and page-faulted in) several times over.
    std::vector<ShardWrite> touched;
    touched.reserve(s->shards.size() < 8 ? s->shards.size() : 8);
    std::vector<uint32_t> write_of(entries.size());  // entry -> its shard's ShardWrite
    {
      std::vector<uint32_t> slot_of_shard(s->shards.size(), UINT32_MAX);
      for (size_t i = 0; i < entries.size(); ++i) {
        Shard* sh = const_cast<Shard*>(s->route(keys[i]));
        if (!sh) return fail(c, ApiError::internal());
        uint32_t& slot = slot_of_shard[sh->index];
        if (slot == UINT32_MAX) {
          slot = static_cast<uint32_t>(touched.size());
          touched.push_back(ShardWrite{sh, sh->next_counter, sh->next_counter, 0, 0, {}});
        }
        touched[slot].records += 1;
        touched[slot].bytes += entries[i].partition_key.size() + entries[i].data.size();
        write_of[i] = slot;
      }
    }
    store::WriteBatch b(store_, total + entries.size() * 8 + touched.size() * 64);
    for (auto& w : touched) {
      w.block.reserve(w.records, std::min(w.bytes, kRecordBlockTarget));
      w.block.start(arrival);
    }
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
      ShardWrite* w = &touched[write_of[i]];
      Shard* sh = w->shard;
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
      if (w->block.count() > 0 && w->block.size() + e.partition_key.size() + e.data.size() > kRecordBlockTarget)
        put_block(*w);
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
        cbor_member(results, "ErrorCode", code);
        cbor_member(results, "ErrorMessage", message);
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
      cbor_sequence_number(results, seq);
      cbor_member(results, "ShardId", shard_id_of(o.shard));
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
    cbor_member(body, "EncryptionType", encryption);
  }
  return ok_body(c.enc, std::move(body));
}

}  // namespace eddy::kinesis
