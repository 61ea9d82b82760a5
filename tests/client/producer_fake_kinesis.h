#pragma once
// An in-memory Kinesis stream behind the producer's Transport, for unit tests: routes each
// entry by its ExplicitHashKey (else MD5 of the partition key) to the open shard holding it,
// as Kinesis does, and can throttle, fail and split shards on demand.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "client/producer/transport.h"
#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"

namespace eddy::test {

class FakeKinesis : public producer::Transport {
 public:
  struct Stored {
    std::string partition_key;
    std::optional<std::string> explicit_hash_key;
    std::string data;
  };
  struct Shard {
    producer::ShardInfo info;
    std::vector<Stored> records;
  };

  explicit FakeKinesis(std::uint32_t shards) {
    for (const wire::HashRange& r : wire::even_split(shards)) add_shard(r);
  }

  producer::ListShardsOutcome list_shards() override {
    std::lock_guard lock(mu_);
    ++list_calls;
    producer::ListShardsOutcome out;
    out.ok = true;
    for (const Shard& s : shards) out.shards.push_back(s.info);
    return out;
  }

  producer::PutRecordsOutcome put_records(std::span<const producer::PutEntry> entries) override {
    std::lock_guard lock(mu_);
    ++put_calls;
    entries_per_call.push_back(entries.size());
    producer::PutRecordsOutcome out;
    if (fail_requests > 0) {
      --fail_requests;
      out.error_code = request_error;
      out.error_message = "injected";
      return out;
    }
    out.ok = true;
    for (const producer::PutEntry& e : entries) {
      producer::PutEntryResult r;
      if (throttle_entries > 0 || always_throttle) {
        if (throttle_entries > 0) --throttle_entries;
        r.error_code = "ProvisionedThroughputExceededException";
        r.error_message = "Rate exceeded for shard";
        out.entries.push_back(r);
        continue;
      }
      const wire::u128 h = e.explicit_hash_key ? *wire::parse_u128(*e.explicit_hash_key)
                                               : wire::hash_key_of_partition_key(e.partition_key);
      for (Shard& s : shards) {
        if (!s.info.open || !s.info.range.contains(h)) continue;
        Stored st{std::string(e.partition_key),
                  e.explicit_hash_key ? std::optional<std::string>(*e.explicit_hash_key) : std::nullopt,
                  std::string(e.data)};
        s.records.push_back(std::move(st));
        r.shard_id = s.info.shard_id;
        r.sequence_number = std::to_string(++seq_);
        break;
      }
      ++kinesis_records;
      out.entries.push_back(r);
    }
    if (after_put) after_put();
    return out;
  }

  // Splits the open shard `index` in two at the middle of its range.
  void split(std::size_t index) {
    const wire::HashRange r = shards[index].info.range;
    shards[index].info.open = false;
    const wire::u128 mid = r.start + (r.end - r.start) / 2;
    add_shard({r.start, mid});
    add_shard({mid + 1, r.end});
  }

  // Every user record in the stream, as a KCL-style reader sees it: an aggregate holding a
  // sub-record outside its shard's range is dropped whole (counted in dropped_aggregates).
  struct Read {
    std::string shard_id;
    wire::kpl::UserRecord record;
    bool from_aggregate = false;
  };
  std::vector<Read> read_all(std::size_t* dropped_aggregates = nullptr,
                             std::size_t* aggregates = nullptr) const {
    std::vector<Read> out;
    for (const Shard& s : shards) {
      for (const Stored& st : s.records) {
        auto d = wire::kpl::decode(st.data);
        if (d.status == wire::kpl::DecodeStatus::not_aggregated) {
          out.push_back({s.info.shard_id, {st.partition_key, st.explicit_hash_key, st.data}, false});
          continue;
        }
        if (aggregates) ++*aggregates;
        bool inside = d.status == wire::kpl::DecodeStatus::ok;
        for (const auto& u : d.records) {
          const wire::u128 h = u.explicit_hash_key ? *wire::parse_u128(*u.explicit_hash_key)
                                                   : wire::hash_key_of_partition_key(u.partition_key);
          inside = inside && s.info.range.contains(h);
        }
        if (!inside) {
          if (dropped_aggregates) ++*dropped_aggregates;
          continue;
        }
        for (auto& u : d.records) out.push_back({s.info.shard_id, u, true});
      }
    }
    return out;
  }

  std::vector<Shard> shards;
  int put_calls = 0;
  int list_calls = 0;
  std::uint64_t kinesis_records = 0;
  std::vector<std::size_t> entries_per_call;
  int fail_requests = 0;
  std::string request_error = "InternalFailure";
  int throttle_entries = 0;
  std::atomic<bool> always_throttle{false};
  std::function<void()> after_put;

 private:
  void add_shard(wire::HashRange r) {
    Shard s;
    char id[32];
    std::snprintf(id, sizeof id, "shardId-%012zu", shards.size());
    s.info.shard_id = id;
    s.info.range = r;
    shards.push_back(std::move(s));
  }
  std::mutex mu_;
  std::uint64_t seq_ = 0;
};

}  // namespace eddy::test
