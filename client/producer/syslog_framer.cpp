#include "client/producer/syslog_framer.h"

#include <cstring>

namespace eddy::producer {

bool parse_framing(std::string_view text, Framing& out) {
  if (text == "lf") return out = Framing::lf, true;
  if (text == "octet") return out = Framing::octet, true;
  if (text == "auto") return out = Framing::automatic, true;
  return false;
}

SyslogFramer::SyslogFramer(Framing framing, std::size_t max_message)
    : framing_(framing), max_message_(max_message) {}

void SyslogFramer::feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    // Compact; a peeked message moves with the buffer.
    if (have_) msg_start_ -= pos_;
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

void SyslogFramer::finish() { eof_ = true; }

bool SyslogFramer::frame() {
  for (;;) {
    const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    if (rest.empty() || failed()) return false;
    if (framing_ == Framing::automatic) {
      // Decide on the first bytes: digits then a space is octet counting.
      std::size_t i = 0;
      while (i < rest.size() && i < 10 && rest[i] >= '0' && rest[i] <= '9') ++i;
      if (i == rest.size() && i < 10) return false;  // not enough bytes to tell yet
      framing_ = (i > 0 && rest[0] != '0' && i < rest.size() && rest[i] == ' ') ? Framing::octet
                                                                               : Framing::lf;
    }
    if (framing_ == Framing::octet) {
      std::size_t i = 0, len = 0;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        len = len * 10 + static_cast<std::size_t>(rest[i] - '0');
        if (++i > 9) break;
      }
      if (i == rest.size() && i <= 9) {
        if (eof_ && i > 0) error_ = "connection ended inside an octet-counted frame";
        return false;
      }
      if (i == 0 || rest[0] == '0' || i > 9 || rest[i] != ' ') {
        error_ = "bad octet-counting frame (expected LENGTH SP MESSAGE)";
        return false;
      }
      if (len > max_message_) {
        error_ = "octet-counted frame of " + std::to_string(len) + " bytes exceeds " +
                 std::to_string(max_message_);
        return false;
      }
      if (rest.size() < i + 1 + len) {
        if (eof_) error_ = "connection ended inside an octet-counted frame";
        return false;
      }
      msg_start_ = pos_ + i + 1;
      msg_len_ = len;
      consumed_ = i + 1 + len;
      // A newline after a frame (some senders add one) is not part of the next frame.
      return true;
    }
    // newline framing
    const std::size_t limit = std::min(rest.size(), max_message_ + 1);
    const void* nl = std::memchr(rest.data(), '\n', limit);
    std::size_t len = 0;
    if (nl != nullptr) {
      len = static_cast<std::size_t>(static_cast<const char*>(nl) - rest.data());
      consumed_ = len + 1;
    } else if (rest.size() > max_message_) {
      len = max_message_;
      consumed_ = len;
    } else if (eof_) {
      len = rest.size();
      consumed_ = len;
    } else {
      return false;
    }
    std::size_t body = len;
    if (nl != nullptr && body > 0 && rest[body - 1] == '\r') --body;
    if (body == 0) {  // an empty line
      pos_ += consumed_;
      continue;
    }
    msg_start_ = pos_;
    msg_len_ = body;
    return true;
  }
}

std::optional<std::string_view> SyslogFramer::peek() {
  if (!have_) {
    // Between octet-counted frames, skip a stray newline.
    while (framing_ == Framing::octet && pos_ < buf_.size() &&
           (buf_[pos_] == '\n' || buf_[pos_] == '\r'))
      ++pos_;
    have_ = frame();
  }
  if (!have_) return std::nullopt;
  return std::string_view(buf_.data() + msg_start_, msg_len_);
}

void SyslogFramer::pop() {
  if (!have_ && !peek()) return;
  pos_ += consumed_;
  have_ = false;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
}

}  // namespace eddy::producer
