#include "server/kinesis/errors.h"

#include <ctime>

namespace eddy::kinesis::errors {

namespace {

std::string str(std::string_view v) { return std::string(v); }
std::string num(int64_t v) { return std::to_string(v); }

// "Stream S under account A" and "... in stream S under account A", the two ways messages name a stream.
std::string stream_of(const Account& a, std::string_view stream) {
  return "Stream " + str(stream) + " under account " + str(a.id);
}
std::string in_stream(const Account& a, std::string_view stream) {
  return " in stream " + str(stream) + " under account " + str(a.id);
}

// "Thu Jan 22 01:22:02 UTC 2015", as AWS prints times in iterator-expiry messages.
std::string amz_utc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

const char* const kIteratorTypes =
    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
    "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ";

}  // namespace

// ---- streams

ApiError stream_not_found(const Account& a, std::string_view stream) {
  return ApiError::not_found(stream_of(a, stream) + " not found.");
}

ApiError stream_exists(const Account& a, std::string_view stream) {
  return ApiError::in_use(stream_of(a, stream) + " already exists.");
}

ApiError stream_not_active(const Account& a, std::string_view stream, std::string_view status) {
  return ApiError::in_use(stream_of(a, stream) + " not ACTIVE, instead in state " + str(status));
}

ApiError arn_and_name_differ(std::string_view arn, std::string_view name) {
  return ApiError::invalid_argument("StreamARN " + str(arn) + " and StreamName " + str(name) +
                                    " do not refer to the same stream.");
}

// ---- enhanced fan-out consumers. The "is not in ACTIVE status" wording is AWS's (seen in the
// field); the others follow the same "Consumer C ... under stream S and account A" form.

namespace {
std::string consumer_of(const Account& a, std::string_view stream, std::string_view consumer) {
  return "Consumer " + str(consumer) + " under stream " + str(stream) + " and account " + str(a.id);
}
}  // namespace

ApiError consumer_exists(const Account& a, std::string_view stream, std::string_view consumer) {
  return ApiError::in_use(consumer_of(a, stream, consumer) + " already exists.");
}

ApiError consumer_limit(const Account& a, std::string_view stream, size_t limit) {
  return ApiError::limit_exceeded(stream_of(a, stream) + " has reached the limit of " + std::to_string(limit) +
                                  " registered consumers.");
}

ApiError consumers_creating(const Account& a, size_t limit) {
  return ApiError::limit_exceeded("Account " + str(a.id) + " already has " + std::to_string(limit) +
                                  " consumers in CREATING status. Wait until one of them is ACTIVE and retry.");
}

ApiError consumer_not_found(const Account& a, std::string_view stream, std::string_view consumer) {
  return ApiError::not_found(consumer_of(a, stream, consumer) + " not found.");
}

ApiError consumer_arn_not_found(std::string_view consumer_arn) {
  return ApiError::not_found("Consumer " + str(consumer_arn) + " not found.");
}

ApiError consumer_not_active(const Account& a, std::string_view stream, std::string_view consumer,
                             int64_t created_s) {
  return ApiError::in_use("Consumer " + str(consumer) + " with creation timestamp " + num(created_s) +
                          " under stream " + str(stream) + " and account " + str(a.id) +
                          " is not in ACTIVE status.");
}

ApiError consumer_needs_arn_or_name() {
  return ApiError::invalid_argument("Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
}

ApiError consumer_arn_and_name_differ(std::string_view consumer_arn, std::string_view name) {
  return ApiError::invalid_argument("ConsumerARN " + str(consumer_arn) + " and ConsumerName " + str(name) +
                                    " do not refer to the same consumer.");
}

ApiError consumer_arn_and_stream_differ(std::string_view consumer_arn, std::string_view stream_arn) {
  return ApiError::invalid_argument("ConsumerARN " + str(consumer_arn) + " and StreamARN " + str(stream_arn) +
                                    " do not refer to the same stream.");
}

// AWS's wording, as users quote it (cloud-custodian issue 7260): the stream's ARN, then its name.
ApiError stream_has_consumers(const Account& a, std::string_view stream) {
  const std::string arn = "arn:aws:kinesis:" + str(a.region) + ":" + str(a.id) + ":stream/" + str(stream);
  return ApiError::in_use("DeleteStream can't delete " + arn +
                          " because there are consumers associated with this data stream. To delete " + str(stream) +
                          " anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all "
                          "the consumers that are associated with it.");
}

// AWS's text, as users quote it (daangn/kinesumer issue 16 and PR 19): it names neither the
// consumer nor the shard.
ApiError subscription_in_use() {
  return ApiError::in_use("Another active subscription exists for this consumer");
}

// SubscribeToShard's own form of "not ACTIVE", as AWS words it (quoted in
// awslabs/kinesis-hot-shard-advisor issue 37): "under stream: S , account A", unlike the other
// consumer calls' "under stream S and account A".
ApiError subscriber_not_active(const Account& a, std::string_view stream, std::string_view consumer,
                               int64_t created_s) {
  return ApiError::in_use("Consumer " + str(consumer) + " with creation timestamp " + num(created_s) +
                          " under stream: " + str(stream) + " , account " + str(a.id) + " is not in ACTIVE status.");
}

ApiError invalid_policy(std::string_view resource_arn) {
  return ApiError::invalid_argument("The resource policy for " + str(resource_arn) +
                                    " is not a valid policy document.");
}

ApiError no_policy(std::string_view resource_arn) {
  return ApiError::not_found("No resource policy found for resource ARN " + str(resource_arn) + ".");
}

ApiError warm_throughput_needs_on_demand(const Account& a, std::string_view stream) {
  return ApiError::invalid_argument("Warm throughput can only be set on ON_DEMAND streams, and " +
                                    stream_of(a, stream) + " is PROVISIONED.");
}

ApiError warm_throughput_needs_commitment() {
  return ApiError::invalid_argument(
      "Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED.");
}

ApiError subscribe_rate_exceeded(std::string_view consumer_arn, std::string_view shard) {
  return ApiError::limit_exceeded("Rate exceeded for consumer " + str(consumer_arn) + " and shard " + str(shard) +
                                  ": one SubscribeToShard call per second.");
}

ApiError stream_name_null() {
  return ApiError::validation(
      "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null");
}

// AWS documents 50 tags a stream (botocore's AddTagsToStream docs, the API reference); its own
// message once said 10 while enforcing 50 (kinesalite PR #54). eddy states the enforced limit.
ApiError too_many_tags(const Account& a, std::string_view stream) {
  return ApiError::invalid_argument("Failed to add tags to stream " + str(stream) + " under account " + str(a.id) +
                                    " because a given stream cannot have more than 50 tags associated with it.");
}

ApiError invalid_tag_characters() {
  return ApiError::invalid_argument(
      "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.");
}

// ---- account limits

ApiError shard_limit(const Account& a, uint32_t open, uint32_t limit, int64_t additional) {
  return ApiError::limit_exceeded(
      "This request would exceed the shard limit for the account " + str(a.id) + " in " + str(a.region) +
      ". Current shard count for the account: " + num(open) + ". Limit: " + num(limit) +
      ". Number of additional shards that would have resulted from this request: " + num(additional) +
      ". Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) "
      "for current limits and how to request higher limits.");
}

ApiError on_demand_stream_limit(const Account& a, uint32_t limit) {
  return ApiError::limit_exceeded("This request would exceed the on-demand stream limit for the account " + str(a.id) +
                                  " in " + str(a.region) + ". Limit: " + num(limit) + ".");
}

ApiError on_demand_stream_limit(const Account& a) {
  return ApiError::limit_exceeded("This request would exceed the on-demand stream limit for the account " + str(a.id) +
                                  " in " + str(a.region) + ".");
}

// ---- modes, settings

ApiError shard_count_with_on_demand() {
  return ApiError::invalid_argument("ShardCount must not be specified for streams in ON_DEMAND mode.");
}

ApiError shard_count_null() {
  return ApiError::validation(
      "1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null");
}

ApiError already_in_mode(const Account& a, std::string_view stream, std::string_view mode) {
  return ApiError::invalid_argument(stream_of(a, stream) + " is already in " + str(mode) + " mode.");
}

ApiError on_demand_cannot_reshard(const Account& a, std::string_view stream) {
  return ApiError::validation("Request is invalid. " + stream_of(a, stream) + " is in On-Demand mode.");
}

ApiError kms_only() { return ApiError::invalid_argument("KMS is the only valid EncryptionType for this request."); }

ApiError retention_too_short(int64_t hours) {
  return ApiError::invalid_argument("Minimum allowed retention period is 24 hours. Requested retention period (" +
                                    num(hours) + " hours) is too short.");
}

ApiError retention_too_long(int64_t hours) {
  return ApiError::invalid_argument("Maximum allowed retention period is 8760 hours. Requested retention period (" +
                                    num(hours) + " hours) is too long.");
}

ApiError retention_below_current(std::string_view stream, int64_t hours, int64_t current) {
  return ApiError::invalid_argument("Requested retention period (" + num(hours) + " hours) for stream " + str(stream) +
                                    " can not be shorter than existing retention period (" + num(current) +
                                    " hours). Use DecreaseRetentionPeriod API.");
}

ApiError retention_above_current(std::string_view stream, int64_t hours, int64_t current) {
  return ApiError::invalid_argument("Requested retention period (" + num(hours) + " hours) for stream " + str(stream) +
                                    " can not be longer than existing retention period (" + num(current) +
                                    " hours). Use IncreaseRetentionPeriod API.");
}

// ---- shards

ApiError shard_not_found(const Account& a, std::string_view stream, std::string_view shard) {
  return ApiError::not_found("Could not find shard " + str(shard) + in_stream(a, stream) + ".");
}

ApiError shard_does_not_exist(const Account& a, std::string_view stream, std::string_view shard) {
  return ApiError::not_found("Shard " + str(shard) + in_stream(a, stream) + " does not exist");
}

ApiError shard_closed(const Account& a, std::string_view stream, std::string_view shard) {
  return ApiError::invalid_argument("Shard " + str(shard) + in_stream(a, stream) +
                                    " has already been merged or split, and thus is not eligible for merging or "
                                    "splitting.");
}

ApiError shards_not_adjacent(const Account& a, std::string_view stream, std::string_view first,
                             std::string_view second) {
  return ApiError::invalid_argument("Shards " + str(first) + " and " + str(second) + in_stream(a, stream) +
                                    " are not an adjacent pair of shards eligible for merging");
}

ApiError bad_split_key(const Account& a, std::string_view stream, std::string_view shard, std::string_view key,
                       std::string_view range_start, std::string_view range_end) {
  return ApiError::invalid_argument("NewStartingHashKey " + str(key) + " used in SplitShard() on shard " + str(shard) +
                                    in_stream(a, stream) +
                                    " is not both greater than one plus the shard's StartingHashKey " +
                                    str(range_start) + " and less than the shard's EndingHashKey " + str(range_end) +
                                    ".");
}

namespace {
std::string shard_counts(uint32_t open, int64_t target) {
  return "Current open shard count: " + num(open) + ", Target shard count: " + num(target);
}
}  // namespace

ApiError scale_up_over_double(uint32_t open, int64_t target) {
  return ApiError::limit_exceeded("UpdateShardCount cannot scale up over double your current open shard count. " +
                                  shard_counts(open, target));
}

ApiError scale_down_below_half(uint32_t open, int64_t target) {
  return ApiError::limit_exceeded("UpdateShardCount cannot scale down below half your current open shard count. " +
                                  shard_counts(open, target));
}

ApiError target_shard_count_over_limit(uint32_t limit, uint32_t open, int64_t target) {
  return ApiError::limit_exceeded("Target shard count or number of open shards cannot be greater than " + num(limit) +
                                  ". " + shard_counts(open, target));
}

// ---- records

ApiError shard_throttled(const Account& a, std::string_view stream, std::string_view shard) {
  return ApiError{"ProvisionedThroughputExceededException",
                  "Rate exceeded for shard " + str(shard) + in_stream(a, stream) + "."};
}

ApiError bad_explicit_hash_key(std::string_view key) {
  return ApiError::invalid_argument(
      "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " + str(key));
}

ApiError bad_sequence_for_ordering(const Account& a, std::string_view stream, std::string_view sequence) {
  return ApiError::invalid_argument("ExclusiveMinimumSequenceNumber " + str(sequence) + " used in PutRecord on stream " +
                                    str(stream) + " under account " + str(a.id) + " is invalid.");
}

std::string heap_buffer(size_t n) {
  return "'java.nio.HeapByteBuffer[pos=0 lim=" + std::to_string(n) + " cap=" + std::to_string(n) + "]'";
}

// When the data alone is too big the limit shown is the maximum itself (as AWS words it); when
// only the key pushes it over, the limit shown is what the data could have been with that key.
ApiError record_too_large(std::string_view path, size_t data, size_t key, size_t max_bytes) {
  size_t shown = data > max_bytes ? max_bytes : max_bytes - key;
  return ApiError::validation("1 validation error detected: Value " + heap_buffer(data) + " at '" + str(path) +
                              "' failed to satisfy constraint: Member must have length less than or equal to " +
                              std::to_string(shown));
}

ApiError records_over_10mb() { return ApiError::invalid_argument("Records size exceeds 10 MB limit"); }

// ---- iterators

ApiError iterator_type_and_sequence(std::string_view type, bool also) {
  return ApiError::invalid_argument(kIteratorTypes + str(type) +
                                    (also ? " and also a StartingSequenceNumber." : " and no StartingSequenceNumber."));
}

ApiError timestamp_missing() {
  return ApiError::invalid_argument(
      "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp "
      "parameter.");
}

ApiError timestamp_in_future(int64_t timestamp_ms, int64_t now_ms) {
  return ApiError::invalid_argument(
      "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: " +
      num(timestamp_ms) + ", currentTimestampInMillis: " + num(now_ms));
}

ApiError bad_starting_sequence(const Account& a, std::string_view stream, std::string_view shard,
                               std::string_view sequence, bool other_stream) {
  return ApiError::invalid_argument("StartingSequenceNumber " + str(sequence) + " used in GetShardIterator on shard " +
                                    str(shard) + in_stream(a, stream) + " is invalid" +
                                    (other_stream ? " because it did not come from this stream." : "."));
}

ApiError sequence_of_other_shard(std::string_view encoded_shard, std::string_view shard) {
  return ApiError::invalid_argument("Invalid StartingSequenceNumber. It encodes " + str(encoded_shard) +
                                    ", while it was used in a call to a shard with " + str(shard));
}

ApiError invalid_shard_iterator() { return ApiError::invalid_argument("Invalid ShardIterator."); }

ApiError iterator_expired(int64_t issued_ms, int64_t now_ms) {
  return ApiError{"ExpiredIteratorException",
                  "Iterator expired. The iterator was created at time " + amz_utc(issued_ms) + " while right now it is " +
                      amz_utc(now_ms) +
                      " which is further in the future than the tolerated delay of 300000 milliseconds."};
}

// ---- NextTokens

ApiError invalid_list_streams_token() { return ApiError::invalid_argument("Invalid NextToken."); }

ApiError next_token_with(std::string_view member) {
  return ApiError::invalid_argument("NextToken and " + str(member) + " cannot be provided together.");
}

ApiError malformed_shard_token() {
  return ApiError::invalid_argument("Invalid ShardId in NextToken or NextToken is malformed.");
}

ApiError expired_next_token() {
  return ApiError{"ExpiredNextTokenException", "The timestamp in the NextToken has expired."};
}

ApiError next_token_or_stream_name() {
  return ApiError::invalid_argument("Either NextToken or StreamName should be provided.");
}

ApiError filter_needs_timestamp(std::string_view type) {
  return ApiError::invalid_argument("Timestamp must be specified for ShardFilter type " + str(type) + ".");
}

ApiError filter_needs_shard_id() {
  return ApiError::invalid_argument("ShardId must be specified for ShardFilter type AFTER_SHARD_ID.");
}

}  // namespace eddy::kinesis::errors
