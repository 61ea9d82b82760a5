#pragma once
// Internal to server/kinesis/: the Kinesis service's state, the steps its operations share
// (lookup, resolve, persist, settle, the answers) and the table of operations. The operations
// are ServiceImpl's members, defined by family in ops_*.cpp (ScyllaDB Alternator's executor
// split): ops_streams.cpp (streams, tags, limits), ops_shards.cpp (ListShards, resharding),
// ops_settings.cpp (retention, mode, encryption, monitoring, record size), ops_put.cpp
// (PutRecord with its group commit, PutRecords), ops_read.cpp (GetShardIterator, GetRecords,
// retention trims), ops_consumers.cpp (enhanced fan-out consumers), ops_subscribe.cpp
// (SubscribeToShard's event stream), ops_resources.cpp (TagResource and friends, resource
// policies, account settings, warm throughput). Adding an operation: declare it below, add it to kOperations, define it
// in one ops_*.cpp.
//
// Control-plane operations may throw ApiError (handle() catches it once and answers it); the
// data plane (ops_put.cpp, ops_read.cpp) returns its errors as values.
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
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
#include "server/kinesis/next_token.h"
#include "server/kinesis/put_fast_parser.h"
#include "server/kinesis/shard_iterator.h"
#include "server/kinesis/stream.h"
#include "server/kinesis/validation.h"
#include "server/store/store.h"

namespace eddy::auth { class Authenticator; }

namespace eddy::kinesis {

// SubscribeToShard's live subscriptions (ops_subscribe.cpp): one of the service's own hooks
// (its after_put pushes new records), and a ticker for what eddy's clock decides.
struct SubscriptionHub;
std::shared_ptr<SubscriptionHub> make_subscription_hub(Clock& clock);
KinesisHooks* subscription_hooks(SubscriptionHub& hub);

inline constexpr int64_t kHourMs = 3600LL * 1000;
inline constexpr size_t kMaxConsumersPerStream = 20;
inline constexpr size_t kMaxCreatingConsumers = 5;  // in CREATING at once, per account

// One API call on its way through handle().
struct Call {
  http::Request& req;
  Encoding enc;
  std::string operation;
  nlohmann::json input;
  Reader in;
  int64_t now = 0;
  std::string stream_name;    // for hooks: the stream named (resolve() sets the one it found)
  std::string shard_id;       // for hooks: the request's ShardId (GetRecords: the iterator's)
  std::string partition_key;  // for hooks: PutRecord's PartitionKey
  // Set when a JSON PutRecord(s) was read by the fast parser (`input` is then empty).
  std::unique_ptr<FastPut> fast_put;

  Call(http::Request& r, Encoding e) : req(r), enc(e), in(input, e) {}
  OperationInfo info() const {
    return OperationInfo{operation, stream_name, req.request_id, now, shard_id, partition_key};
  }
};

// StreamName and StreamARN, the members that address a stream: read (in the operation's
// member order, which decides which type error AWS reports), validated with the other
// members, then resolved by ServiceImpl::resolve.
struct StreamRef {
  std::optional<std::string> name, arn;

  StreamRef() = default;
  explicit StreamRef(Reader& in) : name(in.string("StreamName")), arn(in.string("StreamARN")) {}
  // UpdateStreamMode and UpdateMaxRecordSize address their stream by ARN alone.
  static StreamRef of_arn(std::optional<std::string> arn) {
    StreamRef r;
    r.arn = std::move(arn);
    return r;
  }
  void validate(Validator& v, bool required = true) const { validate(v, name, arn, required); }
  // StreamName is optional in the model now that StreamARN exists; with neither, AWS reports
  // the name as missing (in the same message as the other members' errors).
  static void validate(Validator& v, const std::optional<std::string>& name, const std::optional<std::string>& arn,
                       bool required = true) {
    v.string("streamName", name, required && !arn, 1, 128, Validator::kNamePattern);
    v.string("streamARN", arn, false, 1, 2048, Validator::kArnPattern);
  }
  // The stream's name as messages show it before it is resolved (from the ARN when no name).
  std::string shown_name() const;
};

class ServiceImpl {
 public:
  ServiceImpl(const Config& config, Clock& clock, store::Store& store);

  // ---- the pipeline (kinesis_service.cpp)
  bool load(std::string* error);
  // `authenticate`: false for in-process calls (tests, benchmarks, --seed), which are trusted.
  http::Response handle(http::Request& req, bool authenticate);

  // ---- answers
  http::Response ok(Call& c, const nlohmann::json& out);
  http::Response ok_empty(Call& c);
  // A body already in the call's encoding (the hot paths write it directly).
  http::Response ok_body(Encoding enc, std::string body);
  http::Response fail(Call& c, const ApiError& e);
  http::Response fail(Encoding enc, const ApiError& e);

  // ---- shared steps (service_impl.cpp)
  errors::Account account() const { return {config_.account_id, config_.region}; }
  // A live stream by name or id, its transitional status settled against the clock; null
  // when there is none (or its deletion has just completed).
  std::shared_ptr<Stream> lookup(const std::string& name);
  std::shared_ptr<Stream> lookup_id(uint32_t id);
  // The stream a call addresses (names it to the hooks). Data plane: null and `err`;
  // control plane: throws the ApiError.
  std::shared_ptr<Stream> resolve(Call& c, const std::optional<std::string>& name,
                                  const std::optional<std::string>& arn, ApiError& err);
  std::shared_ptr<Stream> resolve(Call& c, const StreamRef& ref);
  // Control plane: `ref`'s members into the validation, the validation's verdict, resolve.
  std::shared_ptr<Stream> resolve(Call& c, const StreamRef& ref, Validator& v);
  // Control plane, the usual start: the call's stream name/ARN read, `rules` add the operation's
  // own constraints (listed before the name's, as AWS lists them), then resolve as above.
  std::shared_ptr<Stream> resolve(Call& c, const std::function<void(Validator&)>& rules);
  // Control plane: a member read with the wrong type, or the validation's errors, thrown.
  static void check(const Reader& in) {
    if (in.failed()) throw *in.error;
  }
  static void check(const Validator& v) {
    if (!v.ok()) throw v.error();
  }
  // Tags and TagKeys members (AddTagsToStream, TagResource, RegisterStreamConsumer, ...) into
  // the validation, in AWS's wording; a non-string value is thrown (SerializationException).
  static void validate_tags(Validator& v, const nlohmann::json* tags);
  static void validate_tag_keys(Validator& v, const nlohmann::json* keys);
  // Validated tags into a resource's tags: the characters checked, at most 50 in all (the
  // message names `stream`). Throws, leaving `into` unchanged.
  void merge_tags(std::map<std::string, std::string>& into, const nlohmann::json& tags, std::string_view stream);
  // Control plane: StreamName and StreamARN read as the call's last members, then check(in).
  static StreamRef stream_ref(Reader& in) {
    StreamRef ref(in);
    check(in);
    return ref;
  }
  // StreamModeDetails' StreamMode (CreateStream, UpdateStreamMode); a type error is thrown.
  static std::optional<std::string> stream_mode(const nlohmann::json* details, Encoding enc);
  void settle(Stream& s, int64_t now);  // with s.mu held
  // Removes the stream and its rows. When the write fails the stream stays as it was (listed,
  // its status back) and the failure is logged and returned.
  store::Status finish_delete(const std::shared_ptr<Stream>& s);
  // Adds the stream's row to a batch.
  bool persist(const Stream& s, store::WriteBatch& batch);
  // Writes the stream's row now (with s.mu held).
  store::Status save(const Stream& s);
  // The one way an operation changes a stream's settings (with s.mu held): applies `change`,
  // persists the stream and, when the write fails, puts every setting back as it was
  // (StreamSettings) and returns the failure. change_stream_or_throw answers it with
  // InternalFailure.
  template <class F>
  store::Status change_stream(Stream& s, F&& change) {
    const StreamSettings before = StreamSettings::of(s);
    change();
    store::Status st = save(s);
    if (!st) before.restore(s);
    return st;
  }
  template <class F>
  void change_stream_or_throw(Stream& s, F&& change) {
    if (!change_stream(s, std::forward<F>(change))) throw ApiError::internal();
  }
  uint32_t account_open_shards();
  uint32_t account_on_demand_streams();
  std::vector<std::shared_ptr<Stream>> streams_snapshot() const;
  std::shared_ptr<Stream> find_stream_by_name(const std::string& name) const;
  // Deletes a shard's rows below `end` (records past retention) and, in the same batch,
  // persists the shard's counter: puts do not, so the high-water mark must outlive the rows.
  void trim_records(Stream& s, uint32_t shard, std::string_view end);
  // The key of a shard's first block still within retention (arrival >= cutoff) among its
  // blocks from counter `from` (the block holding it excluded when it starts before it) to
  // `tip`; empty when every one has expired. Arrival times do not decrease along a shard, so
  // a binary search over the counters finds it in O(log n) seeks, reading one block each
  // (expired blocks' values, often in blob files, are never walked).
  std::string first_live_block(uint32_t stream_id, uint32_t shard, uint64_t from, uint64_t tip, int64_t cutoff);
  // Deletes every shard's expired blocks: per shard one seek when nothing expired, else the
  // binary search above and one DeleteRange.
  void trim_expired();
  static nlohmann::json hash_range_json(const wire::HashRange& r);

  // ---- operations, by family
  using Op = http::Response (ServiceImpl::*)(Call&);
  // ops_streams.cpp
  http::Response create_stream(Call&);
  http::Response delete_stream(Call&);
  http::Response describe_stream(Call&);
  http::Response describe_stream_summary(Call&);
  http::Response list_streams(Call&);
  http::Response describe_limits(Call&);
  http::Response add_tags(Call&);
  http::Response remove_tags(Call&);
  http::Response list_tags(Call&);
  // ops_shards.cpp
  http::Response list_shards(Call&);
  http::Response split_shard(Call&);
  http::Response merge_shards(Call&);
  http::Response update_shard_count(Call&);
  // ops_settings.cpp
  http::Response increase_retention(Call&);
  http::Response decrease_retention(Call&);
  http::Response update_stream_mode(Call&);
  http::Response start_encryption(Call&);
  http::Response stop_encryption(Call&);
  http::Response enable_monitoring(Call&);
  http::Response disable_monitoring(Call&);
  http::Response update_max_record_size(Call&);
  // ops_consumers.cpp
  http::Response register_consumer(Call&);
  http::Response describe_consumer(Call&);
  http::Response list_consumers(Call&);
  http::Response deregister_consumer(Call&);
  struct ConsumerArn {
    std::string stream_arn, name;
    int64_t created_s = 0;
  };
  // "<stream ARN>/consumer/<name>:<seconds>" taken apart; nullopt when it is not one.
  static std::optional<ConsumerArn> parse_consumer_arn(std::string_view arn);
  // CREATING consumers whose delay has passed become ACTIVE, DELETING ones go (with s.mu held;
  // writes the stream's row when something changed). True when something did.
  bool settle_consumers(Stream& s, int64_t now);
  struct FoundConsumer {
    std::shared_ptr<Stream> stream;
    std::string name;
  };
  // The consumer DescribeStreamConsumer and DeregisterStreamConsumer address (their members
  // read and validated): by ConsumerARN, or by StreamARN and ConsumerName (checked against each
  // other). Throws the ApiError.
  FoundConsumer find_consumer(Call& c);
  // Writes the stream's row now (with s.mu held); when the write fails, runs `undo` (which puts
  // the stream back as it was) and throws InternalFailure.
  template <class Undo>
  void save_or_undo(const Stream& s, Undo&& undo) {
    if (!save(s)) {
      undo();
      throw ApiError::internal();
    }
  }
  // The shards a closed shard was split or merged into, and the ChildShards member listing them
  // (GetRecords, SubscribeToShard). With the stream's lock held for children_of.
  static std::vector<Shard> children_of(const Stream& s, uint32_t shard);
  static nlohmann::json child_shards_json(const std::vector<Shard>& children);
  // ops_subscribe.cpp
  http::Response subscribe_to_shard(Call&);
  // ops_resources.cpp
  http::Response tag_resource(Call&);
  http::Response untag_resource(Call&);
  http::Response list_tags_for_resource(Call&);
  http::Response put_resource_policy(Call&);
  http::Response get_resource_policy(Call&);
  http::Response delete_resource_policy(Call&);
  http::Response describe_account_settings(Call&);
  http::Response update_account_settings(Call&);
  http::Response update_stream_warm_throughput(Call&);
  // A ResourceARN: a stream's, or a consumer's (then `consumer` names it), with the stream's
  // lock held.
  struct Resource {
    std::shared_ptr<Stream> stream;
    std::optional<std::string> consumer;
    std::unique_lock<AdaptiveMutex> lock;
    std::map<std::string, std::string>& tags() const;
    std::string& policy() const;
  };
  // The ResourceARN member into the validation, the validation's verdict, then the resource
  // (locked). Throws the ApiError.
  Resource resolve_resource(Call& c, Validator& v, const std::optional<std::string>& arn);
  // The usual start of a resource operation: "ResourceARN" read into `arn` ("StreamId" accepted),
  // `rules` add the operation's own constraints, then resolve_resource as above.
  Resource resolve_resource(Call& c, std::optional<std::string>& arn, const std::function<void(Validator&)>& rules = {});
  // TagResource (`add`: the "Tags" object) and UntagResource (the "TagKeys" list): validated,
  // applied to the resource's tags, undone if the store refuses.
  http::Response change_resource_tags(Call& c, const nlohmann::json* input, bool add);
  // The account's minimum throughput billing commitment (UpdateAccountSettings), persisted
  // under keys::kAccountSettings.
  struct Commitment {
    std::string status = "DISABLED";  // ENABLED | DISABLED | ENABLED_UNTIL_EARLIEST_ALLOWED_END
    int64_t started_ms = 0, earliest_end_ms = 0, ended_ms = 0;
  };
  nlohmann::json commitment_json(int64_t now);
  void load_account_settings();
  // ops_put.cpp
  http::Response put_record(Call&);
  http::Response put_records(Call&);
  // ops_read.cpp
  http::Response get_shard_iterator(Call&);
  http::Response get_records(Call&);

  // ---- state
  const Config& config_;
  Clock& clock_;
  store::Store& store_;
  std::unique_ptr<ShardIteratorCodec> iterators_;
  std::unique_ptr<NextTokenCodec> next_tokens_;
  std::vector<KinesisHooks*> hooks_;
  const auth::Authenticator* auth_ = nullptr;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Stream>> streams_;  // by name, sorted
  std::unordered_map<uint32_t, std::shared_ptr<Stream>> by_id_;
  // Names of streams deleted since start, so an old iterator's error can name its stream.
  std::unordered_map<uint32_t, std::string> deleted_names_;
  uint32_t next_stream_id_ = 1;
  std::mutex account_mu_;  // guards commitment_
  Commitment commitment_;
  std::unordered_map<std::string_view, Op> ops_;
  // Last, so that it goes first: its ticker stops before the rest of the service.
  std::shared_ptr<SubscriptionHub> subscriptions_;

 private:
  // Helpers of one family each.
  void shard_json(const Stream& s, const Shard& sh, nlohmann::json& out) const;
  // With the stream's lock held: a page of shard_json()s (DescribeStream, ListShards), at most
  // `max`, of the shards `listed` admits, in order; *more when some were left, *last the id of
  // the last one on the page.
  nlohmann::json shard_page(const Stream& s, size_t max, const std::function<bool(const Shard&)>& listed, bool* more,
                            std::string* last = nullptr) const;
  // A nested {Type, <member>, Timestamp} structure (ListShards' ShardFilter: ShardId,
  // SubscribeToShard's StartingPosition: SequenceNumber), read in the call's encoding; a
  // member of the wrong type thrown. All empty when `in` is null.
  struct Position {
    std::optional<std::string> type, member;
    std::optional<int64_t> timestamp;
  };
  static Position read_position(const nlohmann::json* in, Encoding enc, const char* member);
  // Persists a resharded stream (UPDATING for the configured time). A failed write restores
  // the shard map and the status and throws InternalFailure.
  void commit_shard_map(Call& c, Stream& s, std::vector<Shard> before);
  http::Response retention_change(Call&, bool increase);
  http::Response encryption_change(Call&, bool start);
  http::Response monitoring_change(Call&, bool enable);
  // PutRecord's write. Puts read together on one loop are committed together: one stream
  // lock and one store write per run of puts to the same stream.
  struct PutEntry;
  struct PutQueue;
  void commit_puts(std::vector<PutEntry>& puts);
  void commit_queued(PutQueue& q);         // a loop's queue, answered through their Pendings
  http::Response finish_put(PutEntry& e);  // after_put hooks and the answer
};

// The operations by X-Amz-Target suffix (Kinesis_20131202.<name>).
inline constexpr std::pair<std::string_view, ServiceImpl::Op> kOperations[] = {
    {"CreateStream", &ServiceImpl::create_stream},
    {"DeleteStream", &ServiceImpl::delete_stream},
    {"DescribeStream", &ServiceImpl::describe_stream},
    {"DescribeStreamSummary", &ServiceImpl::describe_stream_summary},
    {"ListStreams", &ServiceImpl::list_streams},
    {"DescribeLimits", &ServiceImpl::describe_limits},
    {"AddTagsToStream", &ServiceImpl::add_tags},
    {"RemoveTagsFromStream", &ServiceImpl::remove_tags},
    {"ListTagsForStream", &ServiceImpl::list_tags},
    {"ListShards", &ServiceImpl::list_shards},
    {"SplitShard", &ServiceImpl::split_shard},
    {"MergeShards", &ServiceImpl::merge_shards},
    {"UpdateShardCount", &ServiceImpl::update_shard_count},
    {"IncreaseStreamRetentionPeriod", &ServiceImpl::increase_retention},
    {"DecreaseStreamRetentionPeriod", &ServiceImpl::decrease_retention},
    {"UpdateStreamMode", &ServiceImpl::update_stream_mode},
    {"StartStreamEncryption", &ServiceImpl::start_encryption},
    {"StopStreamEncryption", &ServiceImpl::stop_encryption},
    {"EnableEnhancedMonitoring", &ServiceImpl::enable_monitoring},
    {"DisableEnhancedMonitoring", &ServiceImpl::disable_monitoring},
    {"UpdateMaxRecordSize", &ServiceImpl::update_max_record_size},
    {"PutRecord", &ServiceImpl::put_record},
    {"PutRecords", &ServiceImpl::put_records},
    {"GetShardIterator", &ServiceImpl::get_shard_iterator},
    {"GetRecords", &ServiceImpl::get_records},
    {"RegisterStreamConsumer", &ServiceImpl::register_consumer},
    {"DescribeStreamConsumer", &ServiceImpl::describe_consumer},
    {"ListStreamConsumers", &ServiceImpl::list_consumers},
    {"DeregisterStreamConsumer", &ServiceImpl::deregister_consumer},
    {"SubscribeToShard", &ServiceImpl::subscribe_to_shard},
    {"TagResource", &ServiceImpl::tag_resource},
    {"UntagResource", &ServiceImpl::untag_resource},
    {"ListTagsForResource", &ServiceImpl::list_tags_for_resource},
    {"PutResourcePolicy", &ServiceImpl::put_resource_policy},
    {"GetResourcePolicy", &ServiceImpl::get_resource_policy},
    {"DeleteResourcePolicy", &ServiceImpl::delete_resource_policy},
    {"DescribeAccountSettings", &ServiceImpl::describe_account_settings},
    {"UpdateAccountSettings", &ServiceImpl::update_account_settings},
    {"UpdateStreamWarmThroughput", &ServiceImpl::update_stream_warm_throughput},
};

}  // namespace eddy::kinesis
