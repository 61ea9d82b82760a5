#pragma once
// Collects constraint violations in AWS's wording:
//   "2 validation errors detected: Value null at 'streamName' failed to satisfy constraint:
//    Member must not be null; ..."
// Members are checked in the order AWS reports them (see docs/kinesis.md), at most 10 kept.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/kinesis/api_error.h"

namespace eddy::kinesis {

class Validator {
 public:
  // A string member: not-null (when required), pattern, min/max length.
  void string(std::string_view path, const std::optional<std::string>& v, bool required,
              size_t min_len, size_t max_len, std::string_view pattern = {});
  void integer(std::string_view path, const std::optional<int64_t>& v, bool required,
               std::optional<int64_t> min, std::optional<int64_t> max);
  void enumeration(std::string_view path, const std::optional<std::string>& v, bool required,
                   const std::vector<std::string_view>& allowed);
  void not_null(std::string_view path, bool present);
  void add(std::string_view path, std::string_view shown_value, std::string_view constraint);

  bool ok() const { return errors_.empty(); }
  ApiError error() const;

  // Regular patterns of the Kinesis model.
  static constexpr std::string_view kNamePattern = "[a-zA-Z0-9_.-]+";
  static constexpr std::string_view kHashKeyPattern = "0|([1-9]\\d{0,38})";
  static constexpr std::string_view kSequencePattern = "0|([1-9]\\d{0,128})";
  static constexpr std::string_view kArnPattern = "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+";

  static bool matches(std::string_view pattern, std::string_view v);

 private:
  std::vector<std::string> errors_;
  size_t total_ = 0;
};

}  // namespace eddy::kinesis
