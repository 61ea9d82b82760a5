#include "wire/kpl_reader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>

#include "wire/checksum.h"

namespace eddy::wire::kpl {

namespace {

using google::protobuf::io::CodedInputStream;
using WFL = google::protobuf::internal::WireFormatLite;

// Reads a length-delimited payload as a view into `base`.
bool read_bytes(CodedInputStream& in, const char* base, std::string_view& out) {
  uint32_t len = 0;
  if (!in.ReadVarint32(&len)) return false;
  const int at = in.CurrentPosition();
  if (!in.Skip(static_cast<int>(len))) return false;
  out = std::string_view(base + at, len);
  return true;
}

// A Tag: required key (1), optional value (2).
bool check_tag(std::string_view bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  bool has_key = false;
  while (uint32_t tag = in.ReadTag()) {
    std::string_view v;
    if ((tag == WFL::MakeTag(1, WFL::WIRETYPE_LENGTH_DELIMITED))) {
      if (!read_bytes(in, bytes.data(), v)) return false;
      has_key = true;
    } else if (!WFL::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage() && has_key;
}

}  // namespace

DecodeStatus AggregateReader::reset(std::string_view data, DecodeOptions options) {
  pks_.clear();
  ehks_.clear();
  records_.clear();
  status_ = DecodeStatus::not_aggregated;
  if (!is_aggregated(data)) return status_;
  const std::string_view body = data.substr(kMagic.size(), data.size() - kMagic.size() - kDigestSize);
  if (options.verify_md5 && checksum::digest(checksum::Algorithm::md5, body) != data.substr(data.size() - kDigestSize))
    return status_ = DecodeStatus::bad_md5;
  if (body.size() > static_cast<std::size_t>(INT_MAX)) return status_ = DecodeStatus::bad_protobuf;

  CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()), static_cast<int>(body.size()));
  in.SetRecursionLimit(8);
  while (uint32_t tag = in.ReadTag()) {
    std::string_view v;
    switch (tag) {
      case WFL::MakeTag(1, WFL::WIRETYPE_LENGTH_DELIMITED):
        if (!read_bytes(in, body.data(), v)) return status_ = DecodeStatus::bad_protobuf;
        pks_.push_back(v);
        break;
      case WFL::MakeTag(2, WFL::WIRETYPE_LENGTH_DELIMITED):
        if (!read_bytes(in, body.data(), v)) return status_ = DecodeStatus::bad_protobuf;
        ehks_.push_back(v);
        break;
      case WFL::MakeTag(3, WFL::WIRETYPE_LENGTH_DELIMITED): {
        if (!read_bytes(in, body.data(), v)) return status_ = DecodeStatus::bad_protobuf;
        CodedInputStream rin(reinterpret_cast<const uint8_t*>(v.data()), static_cast<int>(v.size()));
        uint64_t pk = 0, ehk = 0;
        bool has_pk = false, has_ehk = false, has_data = false;
        std::string_view payload;
        while (uint32_t rtag = rin.ReadTag()) {
          std::string_view t;
          switch (rtag) {
            case WFL::MakeTag(1, WFL::WIRETYPE_VARINT):
              if (!rin.ReadVarint64(&pk)) return status_ = DecodeStatus::bad_protobuf;
              has_pk = true;
              break;
            case WFL::MakeTag(2, WFL::WIRETYPE_VARINT):
              if (!rin.ReadVarint64(&ehk)) return status_ = DecodeStatus::bad_protobuf;
              has_ehk = true;
              break;
            case WFL::MakeTag(3, WFL::WIRETYPE_LENGTH_DELIMITED):
              if (!read_bytes(rin, v.data(), payload)) return status_ = DecodeStatus::bad_protobuf;
              has_data = true;
              break;
            case WFL::MakeTag(4, WFL::WIRETYPE_LENGTH_DELIMITED):
              if (!read_bytes(rin, v.data(), t) || !check_tag(t)) return status_ = DecodeStatus::bad_protobuf;
              break;
            default:
              if (!WFL::SkipField(&rin, rtag)) return status_ = DecodeStatus::bad_protobuf;
          }
        }
        if (!rin.ConsumedEntireMessage() || !has_pk || !has_data) return status_ = DecodeStatus::bad_protobuf;
        // Indexes are checked against the final tables below (tables may follow records).
        records_.push_back(Entry{pk > kNone - 1 ? kNone - 1 : static_cast<uint32_t>(pk),
                                 has_ehk ? (ehk > kNone - 1 ? kNone - 1 : static_cast<uint32_t>(ehk)) : kNone,
                                 payload});
        break;
      }
      default:
        if (!WFL::SkipField(&in, tag)) return status_ = DecodeStatus::bad_protobuf;
    }
  }
  if (!in.ConsumedEntireMessage()) return status_ = DecodeStatus::bad_protobuf;
  for (const Entry& e : records_) {
    if (e.pk >= pks_.size() || (e.ehk != kNone && e.ehk >= ehks_.size())) {
      records_.clear();
      return status_ = DecodeStatus::bad_index;
    }
  }
  return status_ = DecodeStatus::ok;
}

std::optional<std::size_t> AggregateReader::first_outside(const HashRange& range) {
  pk_verdict_.assign(pks_.size(), 0);
  ehk_verdict_.assign(ehks_.size(), 0);
  for (std::size_t i = 0; i < records_.size(); ++i) {
    const Entry& e = records_[i];
    uint8_t* v;
    if (e.ehk != kNone) {
      v = &ehk_verdict_[e.ehk];
      if (*v == 0) {
        const std::optional<u128> k = parse_u128(ehks_[e.ehk]);
        *v = k && range.contains(*k) ? 1 : 2;
      }
    } else {
      v = &pk_verdict_[e.pk];
      if (*v == 0) *v = range.contains(hash_key_of_partition_key(pks_[e.pk])) ? 1 : 2;
    }
    if (*v == 2) return i;
  }
  return std::nullopt;
}

UserRecordView AggregateReader::operator[](std::size_t i) const {
  const Entry& e = records_[i];
  UserRecordView v;
  v.partition_key = pks_[e.pk];
  if (e.ehk != kNone) v.explicit_hash_key = ehks_[e.ehk];
  v.data = e.data;
  return v;
}

}  // namespace eddy::wire::kpl
