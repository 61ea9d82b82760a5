#include "server/kinesis/put_fast_parser.h"

#include <cstdint>
#include <cstring>

#include "wire/base64.h"
#include "wire/cbor.h"

namespace eddy::kinesis {

bool is_hash_key_text(std::string_view v) {
  if (v.empty() || v.size() > 39) return false;
  if (v[0] == '0') return v.size() == 1;
  for (char ch : v)
    if (ch < '0' || ch > '9') return false;
  return true;
}

namespace {

// The few JSON tokens the fast parsers accept.
struct FlatJson {
  const char* p;
  const char* end;
  explicit FlatJson(std::string_view body) : p(body.data()), end(body.data() + body.size()) {}
  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool lit(char ch) {
    ws();
    if (p == end || *p != ch) return false;
    ++p;
    return true;
  }
  bool str(std::string_view& v) {
    ws();
    if (p == end || *p != '"') return false;
    const char* start = ++p;
    const auto* close = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    if (close == nullptr) return false;
    // Eight bytes at a time (Data is most of a body): any byte >= 0x80, < 0x20 or a backslash
    // sets that byte's high bit in the test word.
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    const char* c = start;
    for (; close - c >= 8; c += 8) {
      uint64_t x;
      std::memcpy(&x, c, 8);
      const uint64_t y = x ^ (kOnes * '\\');
      if ((x | ((x - kOnes * 0x20) & ~x) | ((y - kOnes) & ~y)) & kHigh) return false;
    }
    for (; c < close; ++c) {
      const auto ch = static_cast<unsigned char>(*c);
      if (ch == '\\' || ch < 0x20 || ch >= 0x80) return false;
    }
    v = std::string_view(start, static_cast<size_t>(close - start));
    p = close + 1;
    return true;
  }
  bool at_end() {
    ws();
    return p == end;
  }
};

// The same for CBOR (the Java SDK's encoding): definite-length text (ASCII) and byte strings,
// maps and arrays of either length, nothing else (no tags, nulls, numbers or chunked strings).
// Heads are read by wire::cbor, as the generic decoder (codec.cpp) reads them.
struct FlatCbor {
  const uint8_t* p;
  const uint8_t* end;
  explicit FlatCbor(std::string_view body)
      : p(reinterpret_cast<const uint8_t*>(body.data())), end(p + body.size()) {}
  // A container's head: its item count (n) or, for an indefinite length, `indefinite`.
  bool container(uint8_t major, uint64_t& n, bool& indefinite) {
    if (p == end || (*p >> 5) != major) return false;
    const uint8_t ai = *p++ & 31;
    indefinite = ai == 31;
    return indefinite || wire::cbor::read_argument(p, end, ai, n);
  }
  // Whether the container has another item (its break byte is consumed).
  bool more(bool indefinite, uint64_t& left) {
    if (indefinite) {
      if (p != end && *p == wire::cbor::kBreak) {
        ++p;
        return false;
      }
      return true;  // at the end without a break: the item read next fails
    }
    if (left == 0) return false;
    --left;
    return true;
  }
  bool str(uint8_t major, std::string_view& v) {
    if (p == end || (*p >> 5) != major) return false;
    const uint8_t ai = *p++ & 31;
    uint64_t n = 0;
    if (!wire::cbor::read_argument(p, end, ai, n) || n > static_cast<uint64_t>(end - p)) return false;
    v = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    p += n;
    return major != wire::cbor::kText || ascii(v);
  }
  static bool ascii(std::string_view v) {
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= v.size(); i += 8) {
      uint64_t x;
      std::memcpy(&x, v.data() + i, 8);
      if (x & kHigh) return false;
    }
    for (; i < v.size(); ++i)
      if (static_cast<unsigned char>(v[i]) >= 0x80) return false;
    return true;
  }
  // A map member: its key, and its value (Data a byte string, anything else a text).
  bool member(std::string_view& key, std::string_view& val) {
    return str(wire::cbor::kText, key) && str(key == "Data" ? wire::cbor::kBytes : wire::cbor::kText, val);
  }
};

// One entry's member (PartitionKey, Data, ExplicitHashKey); false for anything else. Data is
// base64 decoded into `arena`, or, without one (CBOR), raw bytes viewed in place.
bool fast_entry_member(std::string_view key, std::string_view val, RecordEntry& e, bool& has_pk, bool& has_data,
                       std::string* arena) {
  if (key == "PartitionKey" && !has_pk) {
    e.partition_key = val;
    has_pk = true;
  } else if (key == "Data" && !has_data) {
    if (arena) {
      const size_t at = arena->size();
      if (!wire::base64_decode_append(val, *arena)) return false;
      e.data = std::string_view(arena->data() + at, arena->size() - at);
    } else {
      e.data = val;
    }
    has_data = true;
  } else if (key == "ExplicitHashKey" && !e.explicit_hash_key) {
    if (!is_hash_key_text(val)) return false;
    e.explicit_hash_key = val;
  } else {
    return false;
  }
  return true;
}

bool fast_entry_valid(const RecordEntry& e, bool has_pk, bool has_data) {
  return has_pk && has_data && !e.partition_key.empty() && e.partition_key.size() <= 256 &&
         e.data.size() <= 10 * 1024 * 1024;
}

bool fast_stream_member(std::string_view key, std::string_view val, FastPut& out) {
  if (key == "StreamName" && !out.name) out.name = val;
  else if (key == "StreamARN" && !out.arn) out.arn = val;
  else return false;
  return true;
}

}  // namespace

bool parse_put_record_fast(std::string_view body, FastPut& out) {
  FlatJson j(body);
  out.arena.reserve(body.size());
  RecordEntry& e = out.entries.emplace_back();
  bool has_pk = false, has_data = false;
  if (!j.lit('{')) return false;
  do {
    std::string_view key, val;
    if (!j.str(key) || !j.lit(':') || !j.str(val)) return false;
    if (key == "SequenceNumberForOrdering" && !out.sequence_number_for_ordering) {
      out.sequence_number_for_ordering = val;
    } else if (!fast_stream_member(key, val, out) && !fast_entry_member(key, val, e, has_pk, has_data, &out.arena)) {
      return false;
    }
  } while (j.lit(','));
  return j.lit('}') && j.at_end() && fast_entry_valid(e, has_pk, has_data);
}

bool parse_put_records_fast(std::string_view body, FastPut& out) {
  FlatJson j(body);
  out.arena.reserve(body.size());
  // At most 500 entries, reserved up front (SDK batches are usually full).
  out.entries.reserve(500);
  auto records = [&] {
    if (!j.lit('[')) return false;
    do {
      if (out.entries.size() == 500 || !j.lit('{')) return false;
      RecordEntry& e = out.entries.emplace_back();
      bool has_pk = false, has_data = false;
      do {
        std::string_view key, val;
        if (!j.str(key) || !j.lit(':') || !j.str(val) || !fast_entry_member(key, val, e, has_pk, has_data, &out.arena))
          return false;
      } while (j.lit(','));
      if (!j.lit('}') || !fast_entry_valid(e, has_pk, has_data)) return false;
    } while (j.lit(','));
    return j.lit(']');
  };
  if (!j.lit('{')) return false;
  bool has_records = false;
  do {
    std::string_view key;
    if (!j.str(key) || !j.lit(':')) return false;
    if (key == "Records" && !has_records) {
      if (!records()) return false;
      has_records = true;
    } else {
      std::string_view v;
      if (!j.str(v) || !fast_stream_member(key, v, out)) return false;
    }
  } while (j.lit(','));
  return j.lit('}') && j.at_end() && has_records;
}

bool parse_put_record_cbor_fast(std::string_view body, FastPut& out) {
  FlatCbor c(body);
  RecordEntry& e = out.entries.emplace_back();
  bool has_pk = false, has_data = false, indefinite = false;
  uint64_t left = 0;
  if (!c.container(wire::cbor::kMap, left, indefinite)) return false;
  while (c.more(indefinite, left)) {
    std::string_view key, val;
    if (!c.member(key, val)) return false;
    if (key == "SequenceNumberForOrdering" && !out.sequence_number_for_ordering) {
      out.sequence_number_for_ordering = val;
    } else if (!fast_stream_member(key, val, out) && !fast_entry_member(key, val, e, has_pk, has_data, nullptr)) {
      return false;
    }
  }
  return c.p == c.end && fast_entry_valid(e, has_pk, has_data);
}

bool parse_put_records_cbor_fast(std::string_view body, FastPut& out) {
  FlatCbor c(body);
  out.entries.reserve(500);
  auto records = [&] {
    bool indefinite = false;
    uint64_t left = 0;
    if (!c.container(wire::cbor::kArray, left, indefinite)) return false;
    while (c.more(indefinite, left)) {
      bool entry_indefinite = false;
      uint64_t entry_left = 0;
      if (out.entries.size() == 500 || !c.container(wire::cbor::kMap, entry_left, entry_indefinite)) return false;
      RecordEntry& e = out.entries.emplace_back();
      bool has_pk = false, has_data = false;
      while (c.more(entry_indefinite, entry_left)) {
        std::string_view key, val;
        if (!c.member(key, val) || !fast_entry_member(key, val, e, has_pk, has_data, nullptr)) return false;
      }
      if (!fast_entry_valid(e, has_pk, has_data)) return false;
    }
    return !out.entries.empty();
  };
  bool has_records = false, indefinite = false;
  uint64_t left = 0;
  if (!c.container(wire::cbor::kMap, left, indefinite)) return false;
  while (c.more(indefinite, left)) {
    std::string_view key;
    if (!c.str(wire::cbor::kText, key)) return false;
    if (key == "Records" && !has_records) {
      if (!records()) return false;
      has_records = true;
    } else {
      std::string_view v;
      if (!c.str(wire::cbor::kText, v) || !fast_stream_member(key, v, out)) return false;
    }
  }
  return c.p == c.end && has_records;
}

bool parse_put_fast(std::string_view operation, bool cbor, std::string_view body, FastPut& out) {
  if (operation == "PutRecords") return cbor ? parse_put_records_cbor_fast(body, out) : parse_put_records_fast(body, out);
  if (operation == "PutRecord") return cbor ? parse_put_record_cbor_fast(body, out) : parse_put_record_fast(body, out);
  return false;
}

}  // namespace eddy::kinesis
