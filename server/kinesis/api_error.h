#pragma once
#include <string>

namespace eddy::kinesis {

// An error as the Kinesis JSON/CBOR protocols carry it: {"__type": type, "message": message}.
struct ApiError {
  std::string type;
  std::string message;
  int status = 400;
  // AWS's protocol-level errors (SerializationException on bad JSON, UnknownOperationException)
  // carry no message at all; type errors carry a capital "Message".
  enum class MessageKey { lower, upper, none } key = MessageKey::lower;

  static ApiError validation(std::string m) { return {"ValidationException", std::move(m)}; }
  static ApiError invalid_argument(std::string m) { return {"InvalidArgumentException", std::move(m)}; }
  static ApiError not_found(std::string m) { return {"ResourceNotFoundException", std::move(m)}; }
  static ApiError in_use(std::string m) { return {"ResourceInUseException", std::move(m)}; }
  static ApiError limit_exceeded(std::string m) { return {"LimitExceededException", std::move(m)}; }
  static ApiError serialization(std::string m) {
    // The key is chosen before `m` is moved from (braced initialisers run left to right).
    MessageKey k = m.empty() ? MessageKey::none : MessageKey::upper;
    return {"SerializationException", std::move(m), 400, k};
  }
  static ApiError internal(std::string m = {}) { return {"InternalFailure", std::move(m), 500, MessageKey::none}; }
};

}  // namespace eddy::kinesis
