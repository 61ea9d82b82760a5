#include "wire/kpl_aggregate.h"

#include <climits>

#include "wire/checksum.h"
#include "wire/kpl.pb.h"

namespace eddy::wire::kpl {

namespace {

std::string md5(std::string_view bytes) {
  return checksum::digest(checksum::Algorithm::md5, bytes);
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A length-delimited field with a one-byte tag (field numbers below 16).
std::size_t delimited_size(std::size_t payload) { return 1 + varint_size(payload) + payload; }

}  // namespace

std::string_view to_string(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::not_aggregated: return "not_aggregated";
    case DecodeStatus::ok: return "ok";
    case DecodeStatus::bad_md5: return "bad_md5";
    case DecodeStatus::bad_protobuf: return "bad_protobuf";
    case DecodeStatus::bad_index: return "bad_index";
  }
  return "unknown";
}

bool is_aggregated(std::string_view data) {
  return data.size() >= kMagic.size() + kDigestSize && data.substr(0, kMagic.size()) == kMagic;
}

DecodeResult decode(std::string_view data, DecodeOptions options) {
  DecodeResult result;
  if (!is_aggregated(data)) return result;
  const std::string_view body =
      data.substr(kMagic.size(), data.size() - kMagic.size() - kDigestSize);
  if (options.verify_md5 && md5(body) != data.substr(data.size() - kDigestSize)) {
    result.status = DecodeStatus::bad_md5;
    return result;
  }
  eddy::kpl::AggregatedRecord message;
  // ParsePartial + IsInitialized rather than ParseFromArray: the same checks (required
  // fields included) without protobuf logging an error for every malformed record.
  if (body.size() > static_cast<std::size_t>(INT_MAX) ||
      !message.ParsePartialFromArray(body.data(), static_cast<int>(body.size())) ||
      !message.IsInitialized()) {
    result.status = DecodeStatus::bad_protobuf;
    return result;
  }
  const auto pk_count = static_cast<std::uint64_t>(message.partition_key_table_size());
  const auto ehk_count = static_cast<std::uint64_t>(message.explicit_hash_key_table_size());
  result.records.reserve(static_cast<std::size_t>(message.records_size()));
  for (const eddy::kpl::Record& r : message.records()) {
    if (r.partition_key_index() >= pk_count ||
        (r.has_explicit_hash_key_index() && r.explicit_hash_key_index() >= ehk_count)) {
      result.records.clear();
      result.status = DecodeStatus::bad_index;
      return result;
    }
    UserRecord u;
    u.partition_key = message.partition_key_table(static_cast<int>(r.partition_key_index()));
    if (r.has_explicit_hash_key_index())
      u.explicit_hash_key =
          message.explicit_hash_key_table(static_cast<int>(r.explicit_hash_key_index()));
    u.data = r.data();
    result.records.push_back(std::move(u));
  }
  result.status = DecodeStatus::ok;
  return result;
}

std::string encode(std::span<const UserRecord> records) {
  eddy::kpl::AggregatedRecord message;
  std::unordered_map<std::string_view, std::uint64_t> pk_index;
  std::unordered_map<std::string_view, std::uint64_t> ehk_index;
  for (const UserRecord& u : records) {
    eddy::kpl::Record* r = message.add_records();
    auto [pk, pk_new] = pk_index.try_emplace(u.partition_key, pk_index.size());
    if (pk_new) message.add_partition_key_table(u.partition_key);
    r->set_partition_key_index(pk->second);
    if (u.explicit_hash_key) {
      auto [ehk, ehk_new] = ehk_index.try_emplace(*u.explicit_hash_key, ehk_index.size());
      if (ehk_new) message.add_explicit_hash_key_table(*u.explicit_hash_key);
      r->set_explicit_hash_key_index(ehk->second);
    }
    r->set_data(u.data);
  }
  std::string body;
  message.SerializeToString(&body);
  std::string out;
  out.reserve(kMagic.size() + body.size() + kDigestSize);
  out.append(kMagic).append(body).append(md5(body));
  return out;
}

std::size_t Aggregator::record_growth(const UserRecord& record) const {
  std::size_t growth = 0;
  std::size_t pk_idx = partition_keys_.size();
  if (auto it = partition_keys_.find(record.partition_key); it != partition_keys_.end())
    pk_idx = it->second;
  else
    growth += delimited_size(record.partition_key.size());
  std::size_t inner = 1 + varint_size(pk_idx);
  if (record.explicit_hash_key) {
    std::size_t ehk_idx = explicit_hash_keys_.size();
    if (auto it = explicit_hash_keys_.find(*record.explicit_hash_key);
        it != explicit_hash_keys_.end())
      ehk_idx = it->second;
    else
      growth += delimited_size(record.explicit_hash_key->size());
    inner += 1 + varint_size(ehk_idx);
  }
  inner += delimited_size(record.data.size());
  return growth + delimited_size(inner);
}

std::size_t Aggregator::size_with(const UserRecord& record) const {
  return size_ + record_growth(record);
}

void Aggregator::add(UserRecord record) {
  size_ += record_growth(record);
  partition_keys_.try_emplace(record.partition_key, partition_keys_.size());
  if (record.explicit_hash_key)
    explicit_hash_keys_.try_emplace(*record.explicit_hash_key, explicit_hash_keys_.size());
  records_.push_back(std::move(record));
}

std::string Aggregator::encode() const { return kpl::encode(records_); }

void Aggregator::clear() {
  records_.clear();
  partition_keys_.clear();
  explicit_hash_keys_.clear();
  size_ = kMagic.size() + kDigestSize;
}

}  // namespace eddy::wire::kpl
