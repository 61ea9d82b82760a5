#include "server/kinesis/codec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

#include "wire/base64.h"
#include "wire/cbor.h"
#include "wire/text.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {
constexpr const char* kTs = "$ts";

bool is_timestamp(const json& v) {
  return v.is_object() && v.size() == 1 && v.begin().key() == kTs;
}

using wire::text::append_json_string;

void write_json(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out += "null"; break;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); break;
    case json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); break;
    case json::value_t::number_float: {
      char buf[64];
      snprintf(buf, sizeof buf, "%.17g", v.get<double>());
      out += buf;
      break;
    }
    case json::value_t::string: append_json_string(out, v.get_ref<const std::string&>()); break;
    case json::value_t::binary: {
      const auto& b = v.get_binary();
      out.push_back('"');
      wire::base64_encode_append(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), out);
      out.push_back('"');
      break;
    }
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out.push_back(',');
        first = false;
        write_json(out, e);
      }
      out.push_back(']');
      break;
    }
    case json::value_t::object: {
      if (is_timestamp(v)) {
        // Epoch seconds with millisecond precision, as AWS's JSON protocol sends them.
        int64_t ms = v.begin().value().get<int64_t>();
        char buf[64];
        snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                 static_cast<long long>(ms % 1000));
        out += buf;
        break;
      }
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, it.key());
        out.push_back(':');
        write_json(out, it.value());
      }
      out.push_back('}');
      break;
    }
    default: out += "null"; break;
  }
}

void cbor_head(std::string& out, uint8_t major, uint64_t n) { wire::cbor::append_head(out, major, n); }

void cbor_int(std::string& out, int64_t v) {
  if (v >= 0) cbor_head(out, 0, static_cast<uint64_t>(v));
  else cbor_head(out, 1, static_cast<uint64_t>(-(v + 1)));
}

void write_cbor(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out.push_back(static_cast<char>(0xf6)); break;
    case json::value_t::boolean: out.push_back(static_cast<char>(v.get<bool>() ? 0xf5 : 0xf4)); break;
    case json::value_t::number_integer: cbor_int(out, v.get<int64_t>()); break;
    case json::value_t::number_unsigned: cbor_head(out, 0, v.get<uint64_t>()); break;
    case json::value_t::number_float: {
      double d = v.get<double>();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      out.push_back(static_cast<char>(0xfb));
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(bits >> (8 * i)));
      break;
    }
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      cbor_head(out, 3, s.size());
      out += s;
      break;
    }
    case json::value_t::binary: {
      const auto& b = v.get_binary();
      cbor_head(out, 2, b.size());
      out.append(reinterpret_cast<const char*>(b.data()), b.size());
      break;
    }
    case json::value_t::array:
      cbor_head(out, 4, v.size());
      for (const auto& e : v) write_cbor(out, e);
      break;
    case json::value_t::object:
      if (is_timestamp(v)) {
        // Tag 1 (epoch time) with integer milliseconds: what the AWS Java SDK reads and writes.
        cbor_head(out, 6, 1);
        cbor_int(out, v.begin().value().get<int64_t>());
        break;
      }
      cbor_head(out, 5, v.size());
      for (auto it = v.begin(); it != v.end(); ++it) {
        cbor_head(out, 3, it.key().size());
        out += it.key();
        write_cbor(out, it.value());
      }
      break;
    default: out.push_back(static_cast<char>(0xf6)); break;
  }
}

ApiError type_error(const char* java_type, const char* article, const json& v) {
  const char* from = "java.lang.String";
  if (v.is_boolean()) from = "java.lang.Boolean";
  else if (v.is_number()) from = "java.math.BigDecimal";
  return ApiError::serialization(std::string("class ") + from + " can not be converted to " + article +
                                 java_type);
}

ApiError structure_error(const json& v) {
  if (v.is_object()) return ApiError::serialization("Start of structure or map found where not expected.");
  return ApiError::serialization("Start of list found where not expected");
}

// ISO-8601 "2016-04-04T19:58:46.480Z" / "+00:00" -> epoch ms.
std::optional<int64_t> parse_iso8601(const std::string& s) {
  std::tm tm{};
  const char* p = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) return std::nullopt;
  int64_t ms = 0;
  if (*p == '.') {
    ++p;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits < 3) ms = ms * 10 + (*p - '0');
      ++digits;
      ++p;
    }
    while (digits < 3) {
      ms *= 10;
      ++digits;
    }
  }
  int64_t offset_s = 0;
  if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int hh = 0, mm = 0;
    if (sscanf(p + 1, "%2d:%2d", &hh, &mm) < 1) return std::nullopt;
    offset_s = sign * (hh * 3600 + mm * 60);
  }
  return (static_cast<int64_t>(timegm(&tm)) - offset_s) * 1000 + ms;
}
// A CBOR reader into nlohmann::json. nlohmann's own from_cbor rejects tags 0..5 and 21..23
// (so tag 1, epoch time, as the Java SDK sends every Timestamp); here every tag is dropped and
// its content kept: tag 1 with integer milliseconds reads as that integer, with a float as
// seconds (Reader::timestamp tells them apart). Bounded: lengths are checked against the bytes
// left before anything is allocated, and nesting is capped. So is the number of items: each
// costs a tree node (an empty array some 64 bytes) for one byte of input, and the largest real
// request (PutRecords, 500 entries) has a few thousand.
constexpr int kMaxCborDepth = 64;
constexpr size_t kMaxCborItems = 1 << 16;

bool cbor_arg(const uint8_t*& p, const uint8_t* end, uint8_t ai, uint64_t& n) {
  return wire::cbor::read_argument(p, end, ai, n);
}

double half_to_double(uint16_t h) {
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  double v = exp == 0 ? std::ldexp(mant, -24) : exp != 31 ? std::ldexp(mant + 1024, exp - 25)
                                                          : (mant == 0 ? INFINITY : NAN);
  return (h & 0x8000) ? -v : v;
}

bool cbor_string_chunks(const uint8_t*& p, const uint8_t* end, uint8_t major, uint8_t ai, std::string& out) {
  if (ai != 31) {
    uint64_t n;
    if (!cbor_arg(p, end, ai, n) || n > static_cast<uint64_t>(end - p)) return false;
    out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    p += n;
    return true;
  }
  while (true) {  // indefinite length: definite chunks of the same type until "break"
    if (p == end) return false;
    uint8_t ib = *p++;
    if (ib == 0xff) return true;
    if ((ib >> 5) != major || (ib & 31) == 31) return false;
    if (!cbor_string_chunks(p, end, major, ib & 31, out)) return false;
  }
}

bool cbor_item(const uint8_t*& p, const uint8_t* end, json& out, int depth, size_t& budget) {
  if (p == end || depth > kMaxCborDepth || budget == 0) return false;
  --budget;
  uint8_t ib = *p++;
  uint8_t major = ib >> 5, ai = ib & 31;
  uint64_t n = 0;
  switch (major) {
    case 0:
      if (!cbor_arg(p, end, ai, n)) return false;
      out = n;
      return true;
    case 1:
      if (!cbor_arg(p, end, ai, n) || n > static_cast<uint64_t>(INT64_MAX)) return false;
      out = -1 - static_cast<int64_t>(n);
      return true;
    case 2: {
      if (ai != 31) {  // the usual case: one copy, straight into the binary value
        if (!cbor_arg(p, end, ai, n) || n > static_cast<uint64_t>(end - p)) return false;
        out = json::binary(json::binary_t::container_type(p, p + n));
        p += n;
        return true;
      }
      std::string bytes;
      if (!cbor_string_chunks(p, end, 2, ai, bytes)) return false;
      out = json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
      return true;
    }
    case 3: {
      std::string text;
      if (!cbor_string_chunks(p, end, 3, ai, text)) return false;
      out = std::move(text);
      return true;
    }
    case 4: {
      out = json::array();
      if (ai == 31) {
        while (true) {
          if (p == end) return false;
          if (*p == 0xff) {
            ++p;
            return true;
          }
          json e;
          if (!cbor_item(p, end, e, depth + 1, budget)) return false;
          out.push_back(std::move(e));
        }
      }
      if (!cbor_arg(p, end, ai, n) || n > static_cast<uint64_t>(end - p)) return false;
      for (uint64_t i = 0; i < n; ++i) {
        json e;
        if (!cbor_item(p, end, e, depth + 1, budget)) return false;
        out.push_back(std::move(e));
      }
      return true;
    }
    case 5: {
      out = json::object();
      bool indefinite = ai == 31;
      if (!indefinite && (!cbor_arg(p, end, ai, n) || n > static_cast<uint64_t>(end - p) / 2)) return false;
      for (uint64_t i = 0; indefinite || i < n; ++i) {
        if (p == end) return false;
        if (indefinite && *p == 0xff) {
          ++p;
          return true;
        }
        json key;
        if (!cbor_item(p, end, key, depth + 1, budget) || !key.is_string()) return false;
        json value;
        if (!cbor_item(p, end, value, depth + 1, budget)) return false;
        out[key.get_ref<const std::string&>()] = std::move(value);
      }
      return true;
    }
    case 6:
      if (!cbor_arg(p, end, ai, n)) return false;
      return cbor_item(p, end, out, depth + 1, budget);
    default:  // 7: simple values and floats
      switch (ai) {
        case 20: out = false; return true;
        case 21: out = true; return true;
        case 22:
        case 23: out = nullptr; return true;
        case 25: {
          if (end - p < 2) return false;
          uint16_t h = static_cast<uint16_t>((p[0] << 8) | p[1]);
          p += 2;
          out = half_to_double(h);
          return true;
        }
        case 26: {
          if (end - p < 4) return false;
          uint32_t bits = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
          p += 4;
          float f;
          std::memcpy(&f, &bits, 4);
          out = static_cast<double>(f);
          return true;
        }
        case 27: {
          if (end - p < 8) return false;
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
          p += 8;
          double d;
          std::memcpy(&d, &bits, 8);
          out = d;
          return true;
        }
        default: return false;
      }
  }
}
}  // namespace

bool decode_cbor(std::string_view body, json& out) {
  const auto* p = reinterpret_cast<const uint8_t*>(body.data());
  const auto* end = p + body.size();
  size_t budget = kMaxCborItems;
  return cbor_item(p, end, out, 0, budget) && p == end;
}

namespace emit {
void json_string(std::string& o, std::string_view s) { append_json_string(o, s); }
void json_timestamp(std::string& o, int64_t ms) {
  char buf[64];
  if (ms >= 0) {  // every arrival time; GetRecords writes one per record, so no printf
    auto [p, ec] = std::to_chars(buf, buf + 40, ms / 1000);
    (void)ec;
    const int frac = static_cast<int>(ms % 1000);
    *p++ = '.';
    *p++ = static_cast<char>('0' + frac / 100);
    *p++ = static_cast<char>('0' + frac / 10 % 10);
    *p++ = static_cast<char>('0' + frac % 10);
    o.append(buf, static_cast<size_t>(p - buf));
    return;
  }
  int n = snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000), static_cast<long long>(ms % 1000));
  o.append(buf, static_cast<size_t>(n));
}
void json_blob(std::string& o, std::string_view bytes) {
  o.push_back('"');
  wire::base64_encode_append(bytes, o);
  o.push_back('"');
}
void cbor_head(std::string& o, uint8_t major, uint64_t n) { kinesis::cbor_head(o, major, n); }
void cbor_int(std::string& o, int64_t v) { kinesis::cbor_int(o, v); }
void cbor_text(std::string& o, std::string_view s) { wire::cbor::append_text(o, s); }
void cbor_bytes(std::string& o, std::string_view s) { wire::cbor::append_bytes(o, s); }
void cbor_timestamp(std::string& o, int64_t ms) {
  kinesis::cbor_head(o, 6, 1);
  kinesis::cbor_int(o, ms);
}
}  // namespace emit

json timestamp_value(int64_t epoch_ms) { return json{{kTs, epoch_ms}}; }

json blob_value(std::string_view bytes) {
  return json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
}

namespace {
struct TooManyItems {};
}  // namespace

bool decode_body(Encoding enc, std::string_view body, json& out, ApiError& error) {
  if (enc == Encoding::json) {
    // The same item cap as CBOR: `[[],[],...]` costs a tree node (~64 bytes) per 3 bytes of
    // body, so a 16 MiB body could take most of a gigabyte. The callback aborts the parse.
    size_t items = 0;
    const json::parser_callback_t count = [&items](int, json::parse_event_t ev, json&) {
      if ((ev == json::parse_event_t::value || ev == json::parse_event_t::object_start ||
           ev == json::parse_event_t::array_start) &&
          ++items > kMaxCborItems)
        throw TooManyItems{};
      return true;
    };
    try {
      out = json::parse(body, count, false);
    } catch (const TooManyItems&) {
      out = json();
      error = ApiError::serialization("");
      return false;
    }
    if (out.is_discarded() || !out.is_object()) {
      error = ApiError::serialization("");
      return false;
    }
    return true;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(body.data());
  const auto* end = p + body.size();
  size_t budget = kMaxCborItems;
  if (!cbor_item(p, end, out, 0, budget) || p != end || !out.is_object()) {
    error = ApiError::serialization("");
    return false;
  }
  return true;
}

std::string encode_json(const json& v) {
  std::string out;
  out.reserve(256);
  write_json(out, v);
  return out;
}

std::string encode_cbor(const json& v) {
  std::string out;
  out.reserve(256);
  write_cbor(out, v);
  return out;
}

std::string encode(Encoding enc, const json& v) { return enc == Encoding::json ? encode_json(v) : encode_cbor(v); }

std::string encode_error(Encoding enc, const ApiError& e) {
  // Written by hand so "__type" comes first, as in AWS's bodies.
  const char* key = e.key == ApiError::MessageKey::lower ? "message"
                    : e.key == ApiError::MessageKey::upper ? "Message" : nullptr;
  std::string o;
  if (enc == Encoding::json) {
    o += "{\"__type\":";
    append_json_string(o, e.type);
    if (key) {
      o += ",\"";
      o += key;
      o += "\":";
      append_json_string(o, e.message);
    }
    o += '}';
  } else {
    cbor_head(o, 5, key ? 2 : 1);
    emit::cbor_text(o, "__type");
    emit::cbor_text(o, e.type);
    if (key) {
      emit::cbor_text(o, key);
      emit::cbor_text(o, e.message);
    }
  }
  return o;
}

const json* Reader::member(const char* name) const {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> Reader::string(const char* name) {
  const json* v = member(name);
  if (!v || error) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object() || v->is_array()) error = structure_error(*v);
  else error = type_error("String", "an ", *v);
  return std::nullopt;
}

std::optional<int64_t> Reader::integer(const char* name, bool is_long) {
  const json* v = member(name);
  if (!v || error) return std::nullopt;
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return INT64_MAX;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
    // Clamped: a cast of an out-of-range double is undefined behaviour.
    if (!(d < 9.2e18)) return INT64_MAX;
    if (!(d > -9.2e18)) return INT64_MIN;
    return static_cast<int64_t>(std::trunc(d));
  }
  if (v->is_object() || v->is_array()) error = structure_error(*v);
  else error = type_error(is_long ? "Long" : "Integer", "an ", *v);
  return std::nullopt;
}

std::optional<bool> Reader::boolean(const char* name) {
  const json* v = member(name);
  if (!v || error) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) {
    std::string up = v->get<std::string>();
    for (auto& c : up) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    if (up == "TRUE") return true;
    if (up == "FALSE") return false;
    error = ApiError::serialization("'" + up + "' can not be converted to an Boolean");
    return std::nullopt;
  }
  if (v->is_object() || v->is_array()) error = structure_error(*v);
  else error = type_error("Boolean", "an ", *v);
  return std::nullopt;
}

std::optional<std::string> blob_of(const json& v, Encoding enc, std::optional<ApiError>& error) {
  if (v.is_binary()) {
    const auto& b = v.get_binary();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::string out;
    if (!wire::base64_decode_append(s, out)) {
      std::string why;
      size_t n = s.size();
      while (n > 0 && s[n - 1] == '=') --n;
      size_t bad = s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
      if (bad < n) why = std::string("Invalid Base64 character: '") + s[bad] + "'";
      else if (s.size() % 4 != 0 && s.find('=') != std::string::npos)
        why = "Base64 encoded length is expected a multiple of 4 bytes but found: " + std::to_string(s.size());
      else why = "Invalid last non-pad Base64 character dectected";
      error = ApiError::serialization("'" + s + "' can not be converted to a Blob: " + why);
      return std::nullopt;
    }
    (void)enc;
    return out;
  }
  if (v.is_object() || v.is_array()) error = structure_error(v);
  else error = type_error("Blob", "a ", v);
  return std::nullopt;
}

std::optional<std::string> Reader::blob(const char* name) {
  const json* v = member(name);
  if (!v || error) return std::nullopt;
  return blob_of(*v, enc, error);
}

std::optional<int64_t> Reader::timestamp(const char* name) {
  const json* v = member(name);
  if (!v || error) return std::nullopt;
  if (v->is_number()) {
    // JSON: epoch seconds (fractional). CBOR: tag 1 was dropped by the decoder; the Java SDK
    // sends integer milliseconds, other CBOR writers fractional seconds.
    if (enc == Encoding::cbor && v->is_number_integer()) return v->get<int64_t>();
    return static_cast<int64_t>(std::llround(v->get<double>() * 1000.0));
  }
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (auto ms = parse_iso8601(s)) return ms;
    char* end = nullptr;
    double d = strtod(s.c_str(), &end);
    if (end && *end == '\0' && !s.empty()) return static_cast<int64_t>(std::llround(d * 1000.0));
    error = ApiError::serialization("class java.lang.String can not be converted to milliseconds since epoch");
    return std::nullopt;
  }
  if (v->is_object() || v->is_array()) error = structure_error(*v);
  else error = type_error("Date", "a ", *v);
  return std::nullopt;
}

namespace {
// A structure/map (`object`) or list member, or AWS's SerializationException for another kind.
const json* of_kind(const json* v, std::optional<ApiError>& error, bool object) {
  if (!v || error) return nullptr;
  if (object ? v->is_object() : v->is_array()) return v;
  if (object ? v->is_array() : v->is_object())
    error = ApiError::serialization(object ? "Start of list found where not expected"
                                           : "Start of structure or map found where not expected.");
  else error = ApiError::serialization(object ? "Expected map or null" : "Expected list or null");
  return nullptr;
}
}  // namespace

const json* Reader::object(const char* name) { return of_kind(member(name), error, true); }

const json* Reader::list(const char* name) { return of_kind(member(name), error, false); }

}  // namespace eddy::kinesis
