#include "server/kinesis/validation.h"

#include <regex>

namespace eddy::kinesis {

namespace {
bool is_name(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}
bool is_decimal(std::string_view v, size_t max_digits) {
  if (v.empty()) return false;
  if (v == "0") return true;
  if (v[0] < '1' || v[0] > '9' || v.size() > max_digits) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}
size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

bool Validator::matches(std::string_view pattern, std::string_view v) {
  if (pattern == kNamePattern) return is_name(v);
  if (pattern == kHashKeyPattern) return is_decimal(v, 39);
  if (pattern == kSequencePattern) return is_decimal(v, 129);
  if (pattern == kArnPattern) {
    static const std::regex re("arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
    return std::regex_match(v.begin(), v.end(), re);
  }
  std::regex re{std::string(pattern)};
  return std::regex_match(v.begin(), v.end(), re);
}

void Validator::add(std::string_view path, std::string_view shown, std::string_view constraint) {
  ++total_;
  if (errors_.size() >= 10) return;
  std::string e = "Value ";
  e += shown;
  e += " at '";
  e += path;
  e += "' failed to satisfy constraint: ";
  e += constraint;
  errors_.push_back(std::move(e));
}

void Validator::not_null(std::string_view path, bool present) {
  if (!present) add(path, "null", "Member must not be null");
}

void Validator::string(std::string_view path, const std::optional<std::string>& v, bool required,
                       size_t min_len, size_t max_len, std::string_view pattern) {
  if (!v) {
    if (required) add(path, "null", "Member must not be null");
    return;
  }
  // The quoted value is built only on failure: this runs for every PutRecords entry.
  bool bad_pattern = !pattern.empty() && !matches(pattern, *v);
  size_t len = utf8_length(*v);
  if (!bad_pattern && len >= min_len && len <= max_len) return;
  std::string shown = "'" + *v + "'";
  if (bad_pattern) add(path, shown, "Member must satisfy regular expression pattern: " + std::string(pattern));
  if (len < min_len)
    add(path, shown, "Member must have length greater than or equal to " + std::to_string(min_len));
  if (len > max_len)
    add(path, shown, "Member must have length less than or equal to " + std::to_string(max_len));
}

void Validator::integer(std::string_view path, const std::optional<int64_t>& v, bool required,
                        std::optional<int64_t> min, std::optional<int64_t> max) {
  if (!v) {
    if (required) add(path, "null", "Member must not be null");
    return;
  }
  std::string shown = "'" + std::to_string(*v) + "'";
  if (min && *v < *min) add(path, shown, "Member must have value greater than or equal to " + std::to_string(*min));
  if (max && *v > *max) add(path, shown, "Member must have value less than or equal to " + std::to_string(*max));
}

void Validator::enumeration(std::string_view path, const std::optional<std::string>& v, bool required,
                            const std::vector<std::string_view>& allowed) {
  if (!v) {
    if (required) add(path, "null", "Member must not be null");
    return;
  }
  for (auto a : allowed)
    if (a == *v) return;
  std::string set = "[";
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i) set += ", ";
    set += allowed[i];
  }
  set += "]";
  add(path, "'" + *v + "'", "Member must satisfy enum value set: " + set);
}

ApiError Validator::error() const {
  std::string m = std::to_string(errors_.size()) + (errors_.size() == 1 ? " validation error detected: "
                                                                          : " validation errors detected: ");
  for (size_t i = 0; i < errors_.size(); ++i) {
    if (i) m += "; ";
    m += errors_[i];
  }
  return ApiError::validation(std::move(m));
}

}  // namespace eddy::kinesis
