#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// Splits a TCP byte stream from a syslog sender into messages.
//
//   lf     newline-terminated (syslog-ng tcp()/network() with the default framing; a trailing
//          CR is dropped, empty lines are skipped; a line longer than max_message is cut into
//          max_message pieces so nothing is lost)
//   octet  RFC 6587 octet counting, "LEN SP MSG" (syslog-ng syslog() destination)
//   auto   decided once per connection by its first bytes: "[1-9][0-9]* SP" means octet
//          counting, anything else (normally "<PRI>") newline framing
//
// Messages are peeked and popped separately so a caller that cannot take one now (a full
// producer buffer) leaves it where it is.
namespace eddy::producer {

enum class Framing { lf, octet, automatic };

bool parse_framing(std::string_view text, Framing& out);  // "lf", "octet", "auto"

class SyslogFramer {
 public:
  explicit SyslogFramer(Framing framing, std::size_t max_message = 1000 * 1024);

  void feed(std::string_view bytes);
  // The next complete message, valid until the next feed() or pop().
  std::optional<std::string_view> peek();
  void pop();
  // The connection ended: a last newline-framed message without its newline is a message.
  void finish();

  // Octet counting went wrong (not a length, or a length over max_message): the stream
  // cannot be resynchronised; error() says why.
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes received and not yet popped.
  std::size_t buffered() const { return buf_.size() - pos_; }
  Framing framing() const { return framing_; }

 private:
  bool frame();  // finds the next message in buf_; sets msg_start_/msg_len_/consumed_

  Framing framing_;
  std::size_t max_message_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool have_ = false;
  bool eof_ = false;
  std::size_t msg_start_ = 0, msg_len_ = 0, consumed_ = 0;
  std::string error_;
};

}  // namespace eddy::producer
