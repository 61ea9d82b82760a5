#include "wire/event_stream.h"

#include <algorithm>

#include "wire/checksum.h"

namespace eddy::wire::event_stream {

namespace {

void put_be(std::string& o, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) o.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

int64_t sign_extend(uint64_t v, int bytes) {
  if (bytes == 8) return static_cast<int64_t>(v);
  const uint64_t sign = uint64_t{1} << (8 * bytes - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

int width(HeaderType t) {
  switch (t) {
    case HeaderType::byte: return 1;
    case HeaderType::int16: return 2;
    case HeaderType::int32: return 4;
    case HeaderType::int64:
    case HeaderType::timestamp: return 8;
    default: return 0;
  }
}

void append_headers(std::string& o, const std::vector<Header>& headers) {
  for (const auto& h : headers) {
    o.push_back(static_cast<char>(h.name.size()));
    o += h.name;
    o.push_back(static_cast<char>(h.type));
    switch (h.type) {
      case HeaderType::bool_true:
      case HeaderType::bool_false: break;
      case HeaderType::byte:
      case HeaderType::int16:
      case HeaderType::int32:
      case HeaderType::int64:
      case HeaderType::timestamp: put_be(o, static_cast<uint64_t>(h.number), width(h.type)); break;
      case HeaderType::bytes:
      case HeaderType::string:
        put_be(o, h.bytes.size(), 2);
        o += h.bytes;
        break;
      case HeaderType::uuid: o += h.bytes.substr(0, 16); o.append(16 - std::min<size_t>(16, h.bytes.size()), '\0'); break;
    }
  }
}

bool fail(std::string* error, const char* why) {
  if (error) *error = why;
  return false;
}

bool parse_headers(std::string_view hs, std::vector<Header>& out, std::string* error) {
  size_t i = 0;
  while (i < hs.size()) {
    Header h;
    size_t n = static_cast<unsigned char>(hs[i++]);
    if (n == 0 || i + n + 1 > hs.size()) return fail(error, "header name runs past the headers");
    h.name = std::string(hs.substr(i, n));
    i += n;
    uint8_t type = static_cast<uint8_t>(hs[i++]);
    if (type > static_cast<uint8_t>(HeaderType::uuid)) return fail(error, "unknown header value type");
    h.type = static_cast<HeaderType>(type);
    if (int w = width(h.type); w > 0) {
      if (i + static_cast<size_t>(w) > hs.size()) return fail(error, "header value runs past the headers");
      h.number = sign_extend(get_be(hs, i, w), w);
      i += static_cast<size_t>(w);
    } else if (h.type == HeaderType::bytes || h.type == HeaderType::string) {
      if (i + 2 > hs.size()) return fail(error, "header value runs past the headers");
      size_t len = get_be(hs, i, 2);
      i += 2;
      if (i + len > hs.size()) return fail(error, "header value runs past the headers");
      h.bytes = std::string(hs.substr(i, len));
      i += len;
    } else if (h.type == HeaderType::uuid) {
      if (i + 16 > hs.size()) return fail(error, "header value runs past the headers");
      h.bytes = std::string(hs.substr(i, 16));
      i += 16;
    }
    out.push_back(std::move(h));
  }
  return true;
}

}  // namespace

const Header* Message::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name == name) return &h;
  return nullptr;
}

void append(std::string& out, const Message& m) {
  std::string hs;
  append_headers(hs, m.headers);
  const size_t start = out.size();
  const uint64_t total = kPreludeBytes + hs.size() + m.payload.size() + 4;
  out.reserve(start + total);
  put_be(out, total, 4);
  put_be(out, hs.size(), 4);
  put_be(out, checksum::crc32_update(0, std::string_view(out).substr(start, 8)), 4);
  out += hs;
  out += m.payload;
  put_be(out, checksum::crc32_update(0, std::string_view(out).substr(start)), 4);
}

std::string encode(const Message& m) {
  std::string out;
  append(out, m);
  return out;
}

DecodeStatus decode(std::string_view in, Message& out, size_t& consumed, std::string* error) {
  if (in.size() < kPreludeBytes) return DecodeStatus::need_more;
  const uint64_t total = get_be(in, 0, 4);
  const uint64_t hlen = get_be(in, 4, 4);
  if (checksum::crc32_update(0, in.substr(0, 8)) != get_be(in, 8, 4))
    return fail(error, "prelude CRC mismatch"), DecodeStatus::malformed;
  if (total < kPreludeBytes + 4 || total > kMaxMessageBytes || hlen > kMaxHeadersBytes ||
      hlen > total - kPreludeBytes - 4)
    return fail(error, "message or header length out of range"), DecodeStatus::malformed;
  if (in.size() < total) return DecodeStatus::need_more;
  if (checksum::crc32_update(0, in.substr(0, total - 4)) != get_be(in, total - 4, 4))
    return fail(error, "message CRC mismatch"), DecodeStatus::malformed;
  Message m;
  if (!parse_headers(in.substr(kPreludeBytes, hlen), m.headers, error)) return DecodeStatus::malformed;
  m.payload = std::string(in.substr(kPreludeBytes + hlen, total - kPreludeBytes - 4 - hlen));
  out = std::move(m);
  consumed = total;
  return DecodeStatus::ok;
}

std::optional<Message> Decoder::next() {
  if (failed_) return std::nullopt;
  Message m;
  size_t used = 0;
  switch (decode(buf_, m, used, &error_)) {
    case DecodeStatus::ok: buf_.erase(0, used); return m;
    case DecodeStatus::need_more: return std::nullopt;
    case DecodeStatus::malformed: failed_ = true; return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace eddy::wire::event_stream
