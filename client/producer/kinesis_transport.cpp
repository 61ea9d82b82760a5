#include "client/producer/kinesis_transport.h"

namespace eddy::producer {

ListShardsOutcome KinesisTransport::list_shards() {
  ListShardsOutcome out;
  auto r = client_.list_shards(stream_);
  if (!r) {
    out.error_code = r.error.code;
    out.error_message = r.error.message;
    return out;
  }
  out.ok = true;
  out.shards.reserve(r->size());
  for (const client::ShardInfo& s : *r) out.shards.push_back({s.shard_id, s.hash_range, s.open()});
  return out;
}

PutRecordsOutcome KinesisTransport::put_records(std::span<const PutEntry> entries) {
  std::vector<client::PutRecordsEntryView> request(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    request[i] = {entries[i].data, entries[i].partition_key, entries[i].explicit_hash_key};
  PutRecordsOutcome out;
  auto r = client_.put_records(stream_, request);
  out.attempts = r.error.attempts;
  if (!r) {
    out.error_code = r.error.code;
    out.error_message = r.error.message;
    return out;
  }
  out.ok = true;
  out.entries.reserve(r->records.size());
  for (client::PutRecordsResultEntry& e : r->records) {
    PutEntryResult x;
    if (e.ok()) {
      x.shard_id = std::move(e.shard_id);
      x.sequence_number = std::move(e.sequence_number);
    } else {
      x.error_code = std::move(e.error_code);
      x.error_message = std::move(e.error_message);
    }
    out.entries.push_back(std::move(x));
  }
  return out;
}

}  // namespace eddy::producer
