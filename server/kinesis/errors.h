#pragma once
// One builder per error message of the Kinesis API, worded as AWS words it (the texts are pinned
// by tests/unit/kinesis_messages_test.cpp). Most name the account: "... under account A".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/kinesis/api_error.h"

namespace eddy::kinesis::errors {

// The account and region the messages name.
struct Account {
  std::string_view id;
  std::string_view region;
};

// ---- streams
ApiError stream_not_found(const Account& a, std::string_view stream);  // ResourceNotFound
ApiError stream_exists(const Account& a, std::string_view stream);     // ResourceInUse
ApiError stream_not_active(const Account& a, std::string_view stream, std::string_view status);  // ResourceInUse
ApiError arn_and_name_differ(std::string_view arn, std::string_view name);
ApiError stream_name_null();  // neither StreamName nor StreamARN (a ValidationException)
ApiError too_many_tags(const Account& a, std::string_view stream);
ApiError invalid_tag_characters();

// ---- enhanced fan-out consumers. `created_s`: the creation time in epoch seconds, as the
// consumer's ARN carries it.
ApiError consumer_exists(const Account& a, std::string_view stream, std::string_view consumer);  // ResourceInUse
ApiError consumer_limit(const Account& a, std::string_view stream, size_t limit);              // LimitExceeded
ApiError consumers_creating(const Account& a, size_t limit);                                    // LimitExceeded
ApiError consumer_not_found(const Account& a, std::string_view stream, std::string_view consumer);
ApiError consumer_arn_not_found(std::string_view consumer_arn);
ApiError consumer_not_active(const Account& a, std::string_view stream, std::string_view consumer,
                             int64_t created_s);  // ResourceInUse
ApiError consumer_needs_arn_or_name();             // InvalidArgument
ApiError consumer_arn_and_name_differ(std::string_view consumer_arn, std::string_view name);
ApiError consumer_arn_and_stream_differ(std::string_view consumer_arn, std::string_view stream_arn);
ApiError stream_has_consumers(const Account& a, std::string_view stream);  // DeleteStream, ResourceInUse
ApiError subscription_in_use();  // ResourceInUse
ApiError subscriber_not_active(const Account& a, std::string_view stream, std::string_view consumer,
                               int64_t created_s);  // SubscribeToShard, ResourceInUse
ApiError subscribe_rate_exceeded(std::string_view consumer_arn, std::string_view shard);  // LimitExceeded

// ---- resource policies, warm throughput
ApiError invalid_policy(std::string_view resource_arn);  // InvalidArgument
ApiError no_policy(std::string_view resource_arn);       // ResourceNotFound
ApiError warm_throughput_needs_on_demand(const Account& a, std::string_view stream);  // InvalidArgument
ApiError warm_throughput_needs_commitment();                                          // InvalidArgument

// ---- account limits
ApiError shard_limit(const Account& a, uint32_t open, uint32_t limit, int64_t additional);
ApiError on_demand_stream_limit(const Account& a, uint32_t limit);  // CreateStream (names the limit)
ApiError on_demand_stream_limit(const Account& a);                  // UpdateStreamMode (does not)

// ---- modes, settings
ApiError shard_count_with_on_demand();
ApiError shard_count_null();
ApiError already_in_mode(const Account& a, std::string_view stream, std::string_view mode);
ApiError on_demand_cannot_reshard(const Account& a, std::string_view stream);  // ValidationException
ApiError kms_only();
ApiError retention_too_short(int64_t hours);
ApiError retention_too_long(int64_t hours);
ApiError retention_below_current(std::string_view stream, int64_t hours, int64_t current);
ApiError retention_above_current(std::string_view stream, int64_t hours, int64_t current);

// ---- shards
ApiError shard_not_found(const Account& a, std::string_view stream, std::string_view shard);  // "Could not find shard"
ApiError shard_does_not_exist(const Account& a, std::string_view stream, std::string_view shard);
ApiError shard_closed(const Account& a, std::string_view stream, std::string_view shard);  // merged or split already
ApiError shards_not_adjacent(const Account& a, std::string_view stream, std::string_view first,
                             std::string_view second);
ApiError bad_split_key(const Account& a, std::string_view stream, std::string_view shard, std::string_view key,
                       std::string_view range_start, std::string_view range_end);
ApiError scale_up_over_double(uint32_t open, int64_t target);
ApiError scale_down_below_half(uint32_t open, int64_t target);
ApiError target_shard_count_over_limit(uint32_t limit, uint32_t open, int64_t target);

// ---- records
// ProvisionedThroughputExceededException for one shard (PutRecord, a PutRecords entry, GetRecords).
ApiError shard_throttled(const Account& a, std::string_view stream, std::string_view shard);
ApiError bad_explicit_hash_key(std::string_view key);
ApiError bad_sequence_for_ordering(const Account& a, std::string_view stream, std::string_view sequence);
// A record over the stream's maximum record size (key + data); `path` names the member.
ApiError record_too_large(std::string_view path, size_t data, size_t key, size_t max_bytes);
ApiError records_over_10mb();
// The Java buffer AWS's validation messages print for a blob of n bytes.
std::string heap_buffer(size_t n);

// ---- iterators
// `also`: a StartingSequenceNumber came with a type that takes none (else: one was missing).
ApiError iterator_type_and_sequence(std::string_view type, bool also);
ApiError timestamp_missing();
ApiError timestamp_in_future(int64_t timestamp_ms, int64_t now_ms);
// `other_stream`: the number is well formed but from another stream.
ApiError bad_starting_sequence(const Account& a, std::string_view stream, std::string_view shard,
                               std::string_view sequence, bool other_stream);
ApiError sequence_of_other_shard(std::string_view encoded_shard, std::string_view shard);
ApiError invalid_shard_iterator();
ApiError iterator_expired(int64_t issued_ms, int64_t now_ms);

// ---- NextTokens
ApiError invalid_list_streams_token();
ApiError next_token_with(std::string_view member);  // "NextToken and <member> cannot be provided together."
ApiError malformed_shard_token();
ApiError expired_next_token();
ApiError next_token_or_stream_name();
ApiError filter_needs_timestamp(std::string_view type);
ApiError filter_needs_shard_id();

}  // namespace eddy::kinesis::errors
