#pragma once
// What other modules see of the Kinesis service: the hooks it calls (throttling, faults,
// metrics) and a read-only directory of its streams. limits/ and metrics/ include this, not
// kinesis_service.h. Each hook says which lock, if any, is held when it is called.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/message.h"
#include "server/kinesis/api_error.h"
#include "server/kinesis/stream.h"

namespace eddy::kinesis {

// What an operation is about, for the policies that look at every request (fault injection,
// control-plane rate limits) and for logging.
struct OperationInfo {
  std::string_view operation;   // "PutRecords"
  std::string_view stream;      // may be empty (ListStreams)
  std::string_view request_id;
  int64_t now_ms = 0;
  std::string_view shard;          // ShardId of the request, when it names one
  std::string_view partition_key;  // PutRecord's key; for fail_entry, the entry's key
};

// One entry refused by a PutRecord/PutRecords call, and the shard it was routed to.
struct PutRejection {
  uint32_t shard_index;
  bool throttled;  // ProvisionedThroughputExceededException; else an injected InternalFailure
};

// One record accepted into a shard (for metrics and dashboards).
struct PutRecordEvent {
  std::string_view partition_key;
  std::string_view data;
  std::optional<wire::u128> explicit_hash_key;
  wire::HashRange shard_range;
  uint32_t shard_index;
};

// Extension points for throttling, faults and metrics. Every method has a do-nothing default.
// Hooks are called on the request's worker thread (any of them, concurrently) and must be
// thread-safe. "Stream lock" is the stream's `mu`: a hook called under it must not take it,
// nor call back into the service.
class KinesisHooks {
 public:
  virtual ~KinesisHooks() = default;
  // No lock. Before an operation's own checks (after decoding). An error fails the call with it.
  virtual std::optional<ApiError> before_operation(const OperationInfo&) { return std::nullopt; }
  // Stream lock held. May a record of `bytes` (key + data) go into this shard now? false: throttled.
  virtual bool admit_write(const Stream&, const Shard&, size_t /*bytes*/, int64_t /*now_ms*/) { return true; }
  // Stream lock held. Fault injection of PutRecords partial failure: true fails this entry with
  // InternalFailure.
  virtual bool fail_entry(const OperationInfo&, const Stream&, const Shard&) { return false; }
  // Stream lock held. May a GetRecords call read this shard now? false: throttled.
  virtual bool admit_read(const Stream&, const Shard&, int64_t /*now_ms*/) { return true; }
  // No lock. After a GetRecords response of `bytes` (the 10 MiB rule charges the next 5 s).
  virtual void after_read(const Stream&, const Shard&, size_t /*records*/, size_t /*bytes*/, int64_t /*now_ms*/) {}
  // After a PutRecord/PutRecords call: the accepted records and the refused entries. No lock,
  // except for a PutRecord that admit_write refused: that one is reported from inside the
  // commit, with the stream lock held.
  virtual void after_put(const OperationInfo&, const Stream&, std::span<const PutRecordEvent> /*accepted*/,
                         std::span<const PutRejection> /*rejected*/) {}
  // No lock. Every response of an operation that reached before_operation, before it is sent
  // (fault injection replaces it, delays it or drops the connection).
  virtual void after_operation(const OperationInfo&, http::Response&) {}
  // No lock. A GetRecords call brought an iterator past its 300 s.
  virtual void on_iterator_expired(const Stream&, uint32_t /*shard*/) {}
  // No lock. A SubscribeToShard event went out to an enhanced fan-out consumer: `records`
  // records of `bytes` (partition keys + data) from this shard (EFO data retrieved).
  virtual void after_subscribe_event(const Stream&, uint32_t /*shard*/, size_t /*records*/, size_t /*bytes*/,
                                     int64_t /*now_ms*/) {}
  // No lock. The stream's rows are gone (after the delete's write).
  virtual void on_stream_deleted(const std::string& /*name*/) {}
};

// The service as the hooks' owners see it: registration, and the streams (each guarded by its
// own `mu`; read a stream's fields under it).
class StreamDirectory {
 public:
  // Hooks are called in the order they were added; they must outlive the service's use.
  virtual void add_hooks(KinesisHooks* hooks) = 0;
  virtual std::vector<std::shared_ptr<Stream>> streams_snapshot() const = 0;
  virtual std::shared_ptr<Stream> find_stream_by_name(const std::string& name) const = 0;

 protected:
  ~StreamDirectory() = default;
};

}  // namespace eddy::kinesis
