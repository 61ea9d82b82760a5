#pragma once
// The Kinesis API (JSON 1.1 and CBOR 1.1) over the stream model and the record store.
#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/http/message.h"
#include "server/kinesis/api_error.h"
#include "server/kinesis/codec.h"
#include "server/kinesis/errors.h"
#include "server/kinesis/hooks.h"
#include "server/kinesis/shard_iterator.h"
#include "server/kinesis/stream.h"
#include "server/store/store.h"

namespace eddy::kinesis {

class NextTokenCodec;

class KinesisService final : public StreamDirectory {
 public:
  KinesisService(const Config& config, Clock& clock, store::Store& store);
  ~KinesisService();

  // Loads streams from the store. False with a message when the data cannot be read.
  bool load(std::string* error);

  http::Dispatch dispatch(http::Request& req);
  // Runs one API call on a fully read request (exposed for tests and benchmarks).
  http::Response handle(http::Request& req);

  void add_hooks(KinesisHooks* hooks) override { hooks_.push_back(hooks); }

  // Deletes records older than each stream's retention (called periodically).
  void trim_expired();

  // Read-only views for admin/metrics.
  std::vector<std::shared_ptr<Stream>> streams_snapshot() const override;
  std::shared_ptr<Stream> find_stream_by_name(const std::string& name) const override;
  // Persists a stream's state (after an admin change such as throttle overrides).
  bool save_stream(const Stream& s);

  const Config& config() const { return config_; }

 private:
  struct Call;
  using Op = http::Response (KinesisService::*)(Call&);

  http::Response ok(Call& c, const nlohmann::json& out);
  http::Response ok_empty(Call& c);
  // A body already in the call's encoding (the hot paths write it directly).
  http::Response ok_body(Encoding enc, std::string body);
  http::Response fail(Call& c, const ApiError& e);
  http::Response fail(Encoding enc, const ApiError& e);

  // Resolves StreamName / StreamARN to a live stream (settling status transitions).
  std::shared_ptr<Stream> resolve(Call& c, const std::optional<std::string>& name,
                                  const std::optional<std::string>& arn, ApiError& err);
  std::shared_ptr<Stream> lookup(const std::string& name);
  std::shared_ptr<Stream> lookup_id(uint32_t id);
  void settle(Stream& s, int64_t now);  // with s.mu held
  void finish_delete(const std::shared_ptr<Stream>& s);
  bool persist(const Stream& s, store::WriteBatch& batch);
  errors::Account account() const { return {config_.account_id, config_.region}; }
  uint32_t account_open_shards();
  uint32_t account_on_demand_streams();

  http::Response create_stream(Call&);
  http::Response delete_stream(Call&);
  http::Response describe_stream(Call&);
  http::Response describe_stream_summary(Call&);
  http::Response list_streams(Call&);
  http::Response list_shards(Call&);
  http::Response put_record(Call&);
  // PutRecord's write. Puts read together on one loop are committed together: one stream
  // lock and one store write per run of puts to the same stream.
  struct PutEntry;
  struct PutQueue;
  void commit_puts(std::vector<PutEntry>& puts);
  void commit_queued(PutQueue& q);  // a loop's queue, answered through their Pendings
  http::Response finish_put(PutEntry& e);  // after_put hooks and the answer
  http::Response put_records(Call&);
  http::Response get_shard_iterator(Call&);
  http::Response get_records(Call&);
  http::Response split_shard(Call&);
  http::Response merge_shards(Call&);
  http::Response update_shard_count(Call&);
  http::Response increase_retention(Call&);
  http::Response decrease_retention(Call&);
  http::Response add_tags(Call&);
  http::Response remove_tags(Call&);
  http::Response list_tags(Call&);
  http::Response describe_limits(Call&);
  http::Response update_stream_mode(Call&);
  http::Response start_encryption(Call&);
  http::Response stop_encryption(Call&);
  http::Response enable_monitoring(Call&);
  http::Response disable_monitoring(Call&);
  http::Response update_max_record_size(Call&);

  http::Response retention_change(Call&, bool increase);
  http::Response encryption_change(Call&, bool start);
  http::Response monitoring_change(Call&, bool enable);
  void shard_json(const Stream& s, const Shard& sh, nlohmann::json& out) const;
  // Deletes a shard's rows below `end` (records past retention) and, in the same batch,
  // persists the shard's counter: puts do not, so the high-water mark must outlive the rows.
  void trim_records(Stream& s, uint32_t shard, std::string_view end);
  // Persists a resharded stream (UPDATING for the configured time). A failed write restores
  // the shard map and the status and returns the error response.
  std::optional<http::Response> commit_shard_map(Call& c, Stream& s, std::vector<Shard> before);

  const Config& config_;
  Clock& clock_;
  store::Store& store_;
  std::unique_ptr<ShardIteratorCodec> iterators_;
  std::unique_ptr<NextTokenCodec> next_tokens_;
  std::vector<KinesisHooks*> hooks_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Stream>> streams_;       // by name, sorted
  std::unordered_map<uint32_t, std::shared_ptr<Stream>> by_id_;
  // Names of streams deleted since start, so an old iterator's error can name its stream.
  std::unordered_map<uint32_t, std::string> deleted_names_;
  uint32_t next_stream_id_ = 1;
  std::unordered_map<std::string_view, Op> ops_;
};

}  // namespace eddy::kinesis
