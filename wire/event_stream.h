#pragma once
// The AWS event-stream message format (application/vnd.amazon.eventstream), which
// SubscribeToShard (and S3 SelectObjectContent) answer with:
//
//   total length u32 | headers length u32 | prelude CRC32 u32 | headers | payload | message CRC32 u32
//
// integers big-endian; the prelude CRC covers the first 8 bytes, the message CRC everything
// before it. A header is: name length u8 | name | value type u8 | value. A leaf codec: no
// knowledge of Kinesis; the service picks the headers (:event-type, :message-type, ...).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eddy::wire::event_stream {

// The value types of the format, by their type byte.
enum class HeaderType : uint8_t {
  bool_true = 0, bool_false = 1, byte = 2, int16 = 3, int32 = 4, int64 = 5,
  bytes = 6, string = 7, timestamp = 8, uuid = 9,
};

struct Header {
  std::string name;
  HeaderType type = HeaderType::string;
  std::string bytes;  // bytes, string, uuid (16 bytes)
  int64_t number = 0; // byte, int16, int32, int64, timestamp (epoch ms)

  static Header string(std::string name, std::string value) {
    return Header{std::move(name), HeaderType::string, std::move(value), 0};
  }
};

struct Message {
  std::vector<Header> headers;
  std::string payload;
  // The first header of that name, nullptr when absent.
  const Header* header(std::string_view name) const;
};

// Limits of the format as AWS's decoders enforce them.
inline constexpr size_t kPreludeBytes = 12;
inline constexpr size_t kMaxMessageBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxHeadersBytes = 128 * 1024;

// One message's bytes.
std::string encode(const Message& m);
// Appends one message to `out`.
void append(std::string& out, const Message& m);

enum class DecodeStatus { ok, need_more, malformed };

// Reads one message from the front of `in`: ok with `consumed` bytes and `out` filled,
// need_more when `in` holds only part of a message, malformed (bad CRC, lengths, header
// type) with `error` saying why.
DecodeStatus decode(std::string_view in, Message& out, size_t& consumed, std::string* error = nullptr);

// Splits a byte stream into messages as it arrives.
class Decoder {
 public:
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next whole message; nullopt when more bytes are needed or the stream is malformed
  // (then failed() is true and error() says why).
  std::optional<Message> next();
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  size_t buffered() const { return buf_.size(); }

 private:
  std::string buf_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace eddy::wire::event_stream
