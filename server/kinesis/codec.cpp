#include "server/kinesis/codec.h"

#include <cmath>
#include <cstring>
#include <ctime>

#include "wire/base64.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {
constexpr const char* kTs = "$ts";

bool is_timestamp(const json& v) {
  return v.is_object() && v.size() == 1 && v.begin().key() == kTs;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

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

void cbor_head(std::string& out, uint8_t major, uint64_t n) {
  uint8_t m = static_cast<uint8_t>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xff) {
    out.push_back(static_cast<char>(m | 24));
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(m | 25));
    for (int i = 1; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  } else if (n <= 0xffffffffULL) {
    out.push_back(static_cast<char>(m | 26));
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  } else {
    out.push_back(static_cast<char>(m | 27));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  }
}

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
}  // namespace

json timestamp_value(int64_t epoch_ms) { return json{{kTs, epoch_ms}}; }

json blob_value(std::string_view bytes) {
  return json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
}

bool decode_body(Encoding enc, std::string_view body, json& out, ApiError& error) {
  if (enc == Encoding::json) {
    out = json::parse(body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      error = ApiError::serialization("");
      return false;
    }
    return true;
  }
  out = json::from_cbor(body, true, false, json::cbor_tag_handler_t::ignore);
  if (out.is_discarded() || !out.is_object()) {
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
  json j = json::object();
  j["__type"] = e.type;
  if (e.key == ApiError::MessageKey::lower) j["message"] = e.message;
  else if (e.key == ApiError::MessageKey::upper) j["Message"] = e.message;
  return encode(enc, j);
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
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
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

const json* Reader::object(const char* name) {
  const json* v = member(name);
  if (!v || error) return nullptr;
  if (v->is_object()) return v;
  if (v->is_array()) error = ApiError::serialization("Start of list found where not expected");
  else error = ApiError::serialization("Expected map or null");
  return nullptr;
}

const json* Reader::list(const char* name) {
  const json* v = member(name);
  if (!v || error) return nullptr;
  if (v->is_array()) return v;
  if (v->is_object()) error = ApiError::serialization("Start of structure or map found where not expected.");
  else error = ApiError::serialization("Expected list or null");
  return nullptr;
}

}  // namespace eddy::kinesis
