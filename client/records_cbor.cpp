#include "client/records_cbor.h"

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

namespace eddy::client {

namespace {

constexpr int kMaxDepth = 32;

// A bounds-checked reader of RFC 8949 items over a byte range. Every method returns false once
// anything is wrong (and stays failed), so a caller checks once per step.
class Cbor {
 public:
  Cbor(std::string_view in, std::string& spill) : p_(in.data()), end_(in.data() + in.size()), spill_(spill) {}

  bool at_end() const { return p_ == end_; }

  // A container's items: definite (count) or indefinite (until a break byte).
  struct Items {
    uint64_t left = 0;
    bool indefinite = false;
  };
  // The head of an array (major 4) or map (major 5), tags looked through.
  bool open(uint8_t major, Items& items) {
    Head h;
    if (!value_head(h) || h.major != major) return fail();
    items.indefinite = h.indefinite;
    items.left = h.arg;
    return true;
  }
  // Whether another item (a map: another key) follows; false at the end or on an error (ok()).
  bool next(Items& items) {
    if (!ok_) return false;
    if (items.indefinite) {
      if (p_ == end_) return fail();
      if (static_cast<uint8_t>(*p_) == 0xFF) {
        ++p_;
        return false;
      }
      return true;
    }
    if (items.left == 0) return false;
    --items.left;
    return true;
  }

  // A text (major 3) or byte string (major 2): a view into the input, or, chunked, into spill.
  // *null set (and v empty) for null/undefined.
  bool string(uint8_t major, std::string_view& v, bool* null = nullptr) {
    Head h;
    if (!value_head(h)) return false;
    if (null) *null = false;
    if (h.major == 7 && (h.info == 22 || h.info == 23) && null) {
      *null = true;
      v = {};
      return true;
    }
    if (h.major != major) return fail();
    if (!h.indefinite) return take(h.arg, v);
    // Chunks of definite strings of the same type, until a break. spill is reserved to the input's
    // size when first used, so what it holds never moves (views into it stay valid).
    if (spill_.capacity() < static_cast<std::size_t>(end_ - p_) + spill_.size())
      spill_.reserve(spill_.size() + static_cast<std::size_t>(end_ - p_));
    const std::size_t start = spill_.size();
    for (;;) {
      if (p_ == end_) return fail();
      if (static_cast<uint8_t>(*p_) == 0xFF) {
        ++p_;
        break;
      }
      Head c;
      std::string_view piece;
      if (!head(c) || c.major != major || c.indefinite || !take(c.arg, piece)) return fail();
      spill_.append(piece);
    }
    v = std::string_view(spill_.data() + start, spill_.size() - start);
    return true;
  }

  // An integer or a float as a double; *null for null/undefined.
  bool number(double& d, bool* null) {
    Head h;
    if (!value_head(h)) return false;
    *null = false;
    if (h.major == 0) {
      d = static_cast<double>(h.arg);
    } else if (h.major == 1) {
      d = -1.0 - static_cast<double>(h.arg);
    } else if (h.major == 7 && (h.info == 22 || h.info == 23)) {
      *null = true;
    } else if (h.major == 7 && h.info == 25) {  // half precision (RFC 8949 appendix D)
      const int e = static_cast<int>((h.arg >> 10) & 0x1f), m = static_cast<int>(h.arg & 0x3ff);
      double v = e == 0 ? std::ldexp(m, -24) : e != 31 ? std::ldexp(m + 1024, e - 25) : m == 0 ? INFINITY : NAN;
      d = (h.arg & 0x8000) ? -v : v;
    } else if (h.major == 7 && h.info == 26) {
      uint32_t bits = static_cast<uint32_t>(h.arg);
      float f;
      std::memcpy(&f, &bits, 4);
      d = f;
    } else if (h.major == 7 && h.info == 27) {
      std::memcpy(&d, &h.arg, 8);
    } else {
      return fail();
    }
    return true;
  }

  // Any one item, whatever it holds.
  bool skip(int depth = 0) {
    if (depth > kMaxDepth) return fail();
    Head h;
    if (!head(h)) return false;
    switch (h.major) {
      case 0:
      case 1: return true;
      case 2:
      case 3: {
        std::string_view ignored;
        if (!h.indefinite) return take(h.arg, ignored);
        for (;;) {
          if (p_ == end_) return fail();
          if (static_cast<uint8_t>(*p_) == 0xFF) {
            ++p_;
            return true;
          }
          Head c;
          if (!head(c) || c.major != h.major || c.indefinite || !take(c.arg, ignored)) return fail();
        }
      }
      case 4:
      case 5: {
        Items items{h.arg, h.indefinite};
        while (next(items)) {
          if (!skip(depth + 1)) return false;
          if (h.major == 5 && !skip(depth + 1)) return false;
        }
        return ok_;
      }
      case 6: return skip(depth + 1);
      default:  // 7: simple values and floats (their bytes already taken by head); a lone break is not an item
        return h.info != 31 || fail();
    }
  }

  bool ok() const { return ok_; }
  bool fail() { return ok_ = false; }

 private:
  struct Head {
    uint8_t major = 0, info = 0;
    uint64_t arg = 0;
    bool indefinite = false;
  };
  bool head(Head& h) {
    if (!ok_) return false;
    if (p_ == end_) return fail();
    const auto b = static_cast<uint8_t>(*p_++);
    h.major = b >> 5;
    h.info = b & 31;
    h.indefinite = false;
    if (h.info < 24) {
      h.arg = h.info;
    } else if (h.info <= 27) {
      const std::size_t n = std::size_t{1} << (h.info - 24);
      if (static_cast<std::size_t>(end_ - p_) < n) return fail();
      h.arg = 0;
      for (std::size_t i = 0; i < n; ++i) h.arg = (h.arg << 8) | static_cast<uint8_t>(p_[i]);
      p_ += n;
    } else if (h.info == 31 && h.major >= 2 && h.major <= 5) {
      h.indefinite = true;
    } else if (!(h.info == 31 && h.major == 7)) {
      return fail();  // reserved additional information, or an indefinite integer or tag
    }
    return true;
  }
  // A head with any tags before it skipped (tag 1 on timestamps).
  bool value_head(Head& h) {
    for (int i = 0; i <= kMaxDepth; ++i) {
      if (!head(h)) return false;
      if (h.major != 6) return true;
    }
    return fail();
  }
  bool take(uint64_t n, std::string_view& v) {
    if (static_cast<uint64_t>(end_ - p_) < n) return fail();
    v = std::string_view(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

  const char* p_;
  const char* end_;
  std::string& spill_;
  bool ok_ = true;
};

bool read_child_shard(Cbor& in, ShardInfo& info) {
  info = ShardInfo{};
  info.hash_range = {0, wire::kMaxHashKey};
  Cbor::Items members;
  if (!in.open(5, members)) return false;
  std::string_view key, v;
  bool null = false;
  while (in.next(members)) {
    if (!in.string(3, key)) return false;
    if (key == "ShardId") {
      if (!in.string(3, v, &null)) return false;
      info.shard_id = std::string(v);
    } else if (key == "ParentShards") {
      Cbor::Items parents;
      if (!in.open(4, parents)) return false;
      for (int i = 0; in.next(parents); ++i) {
        if (!in.string(3, v, &null)) return false;
        if (i == 0) info.parent_shard_id = std::string(v);
        if (i == 1) info.adjacent_parent_shard_id = std::string(v);
      }
    } else if (key == "HashKeyRange") {
      Cbor::Items range;
      if (!in.open(5, range)) return false;
      while (in.next(range)) {
        std::string_view k;
        if (!in.string(3, k) || !in.string(3, v, &null)) return false;
        if (k == "StartingHashKey") info.hash_range.start = wire::parse_u128(v).value_or(0);
        if (k == "EndingHashKey") info.hash_range.end = wire::parse_u128(v).value_or(wire::kMaxHashKey);
      }
    } else if (!in.skip()) {
      return false;
    }
  }
  return in.ok();
}

bool read_record(Cbor& in, KinesisRecord& r) {
  r = KinesisRecord{};
  Cbor::Items members;
  if (!in.open(5, members)) return false;
  std::string_view key;
  bool null = false;
  while (in.next(members)) {
    if (!in.string(3, key)) return false;
    if (key == "Data") {
      if (!in.string(2, r.data, &null)) return false;
    } else if (key == "SequenceNumber") {
      if (!in.string(3, r.sequence_number, &null)) return false;
    } else if (key == "PartitionKey") {
      if (!in.string(3, r.partition_key, &null)) return false;
    } else if (key == "ApproximateArrivalTimestamp") {
      double ms = 0;
      if (!in.number(ms, &null)) return false;
      if (!null) r.approximate_arrival = ms / 1000.0;  // epoch milliseconds in CBOR
    } else if (!in.skip()) {
      return false;
    }
  }
  return in.ok();
}

}  // namespace

bool parse_get_records_cbor(std::string_view body, GetRecordsResult& out, std::string* error) {
  out.records.clear();
  out.child_shards.clear();
  out.next_shard_iterator.clear();
  out.millis_behind_latest = 0;
  if (!out.arena) out.arena = std::make_unique<std::string>();
  out.arena->clear();
  Cbor in(body, *out.arena);
  Cbor::Items members;
  bool good = in.open(5, members);
  std::string_view key, v;
  bool null = false;
  while (good && in.next(members)) {
    if (!in.string(3, key)) break;
    if (key == "Records") {
      Cbor::Items records;
      if (!in.open(4, records)) break;
      if (!records.indefinite) out.records.reserve(static_cast<std::size_t>(std::min<uint64_t>(records.left, body.size())));
      while (good && in.next(records)) good = read_record(in, out.records.emplace_back());
    } else if (key == "NextShardIterator") {
      if (in.string(3, v, &null)) out.next_shard_iterator = std::string(v);
    } else if (key == "MillisBehindLatest") {
      double d = 0;
      // Only values an int64 holds (a hostile 1.8e19 would be undefined to convert).
      if (in.number(d, &null) && !null && d >= -9.2e18 && d <= 9.2e18) out.millis_behind_latest = static_cast<int64_t>(d);
    } else if (key == "ChildShards") {
      Cbor::Items children;
      if (!in.open(4, children)) break;
      while (good && in.next(children)) good = read_child_shard(in, out.child_shards.emplace_back());
    } else {
      in.skip();
    }
  }
  if (!good || !in.ok() || !in.at_end()) {
    if (error) *error = "cannot read the GetRecords response (malformed CBOR)";
    return false;
  }
  return true;
}

bool get_records_cbor(Session& session, const Url& endpoint, const std::string& shard_iterator, int limit,
                      HttpResponse& resp, GetRecordsResult& out, AwsError* error) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers.emplace_back("Content-Type", "application/x-amz-cbor-1.1");
  req.headers.emplace_back("X-Amz-Target", "Kinesis_20131202.GetRecords");
  const auto body = nlohmann::json::to_cbor(nlohmann::json{{"ShardIterator", shard_iterator}, {"Limit", limit}});
  req.body.assign(body.begin(), body.end());
  AwsError e;
  if (!session.call("kinesis", endpoint, std::move(req), resp, &e) || resp.status < 200 || resp.status >= 300) {
    if (error) *error = std::move(e);
    return false;
  }
  std::string why;
  if (!parse_get_records_cbor(resp.body, out, &why)) {
    if (error) *error = AwsError{resp.status, "SerializationException", why, e.attempts};
    return false;
  }
  return true;
}

}  // namespace eddy::client
