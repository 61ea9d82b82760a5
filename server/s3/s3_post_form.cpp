#include "server/s3/s3_post_form.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "server/s3/s3_internal.h"
#include "wire/base64.h"
#include "wire/text.h"

namespace eddy::s3::post {

using wire::text::iequals;
using wire::text::lower;
using wire::text::trim;

// ---- multipart/form-data ------------------------------------------------------------------

namespace {

// "name=value" parameters after the first token of a header value (Content-Type's boundary,
// Content-Disposition's name and filename). Quoted values keep everything up to the closing
// quote; a backslash escapes a quote and is kept literally otherwise (browsers send Windows
// paths and the HTML form encoding's %22 for quotes).
std::vector<std::pair<std::string, std::string>> header_params(std::string_view v) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = v.find(';');
  while (i != std::string_view::npos && i < v.size()) {
    ++i;  // past ';'
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    const size_t name_start = i;
    while (i < v.size() && v[i] != '=' && v[i] != ';') ++i;
    std::string name = lower(trim(v.substr(name_start, i - name_start)));
    std::string value;
    if (i < v.size() && v[i] == '=') {
      ++i;
      while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
      if (i < v.size() && v[i] == '"') {
        ++i;
        while (i < v.size() && v[i] != '"') {
          if (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == '"') ++i;
          value += v[i++];
        }
        if (i < v.size()) ++i;  // closing quote
        while (i < v.size() && v[i] != ';') ++i;
      } else {
        const size_t value_start = i;
        while (i < v.size() && v[i] != ';') ++i;
        value = std::string(trim(v.substr(value_start, i - value_start)));
      }
    }
    if (!name.empty()) out.emplace_back(std::move(name), std::move(value));
    if (i >= v.size()) break;
  }
  return out;
}

}  // namespace

std::optional<std::string> form_boundary(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) return std::nullopt;
  for (auto& [name, value] : header_params(content_type))
    if (name == "boundary") {
      if (value.empty() || value.size() > 70) return std::nullopt;
      return value;
    }
  return std::nullopt;
}

FormReader::FormReader(std::string boundary, FileStart on_file, FileData on_data, size_t max_fields_bytes)
    : delimiter_("\r\n--" + boundary),
      on_file_(std::move(on_file)),
      on_data_(std::move(on_data)),
      max_fields_bytes_(max_fields_bytes),
      // The first delimiter may open the body without a line break before it.
      buf_("\r\n") {}

const Field* FormReader::find(std::string_view name) const {
  for (const Field& f : fields_)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

FormReader::Status FormReader::feed(std::string_view bytes) {
  if (status_ != Status::ok || stopped_ || state_ == State::done) return status_;
  buf_.append(bytes);
  return run();
}

FormReader::Status FormReader::finish() {
  if (status_ != Status::ok || stopped_) return status_;
  return state_ == State::done ? Status::ok : fail(Status::malformed);
}

bool FormReader::part_headers(std::string_view block) {
  std::string name, filename;
  bool disposition = false;
  while (!block.empty()) {
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    if (!iequals(trim(line.substr(0, colon)), "Content-Disposition")) continue;
    const std::string_view value = trim(line.substr(colon + 1));
    if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) return false;
    disposition = true;
    for (auto& [k, v] : header_params(value)) {
      if (k == "name") name = v;
      else if (k == "filename") filename = v;
    }
  }
  if (!disposition || name.empty()) return false;
  if (after_file_) return true;  // parts after the file are not S3's business
  if (iequals(name, "file")) {
    in_file_ = true;
    file_seen_ = true;
    if (!on_file_(filename)) stopped_ = true;
    return true;
  }
  kept_bytes_ += name.size();
  fields_.push_back(Field{std::move(name), {}});
  return true;
}

bool FormReader::emit(std::string_view data) {
  if (data.empty()) return true;
  if (in_file_) {
    if (!on_data_(data)) stopped_ = true;
    return true;
  }
  if (after_file_ || fields_.empty()) return true;
  kept_bytes_ += data.size();
  if (kept_bytes_ > max_fields_bytes_) return false;
  fields_.back().value.append(data);
  return true;
}

FormReader::Status FormReader::run() {
  while (!stopped_) {
    switch (state_) {
      case State::preamble:
      case State::body: {
        const size_t pos = buf_.find(delimiter_);
        if (pos == std::string::npos) {
          // Everything but a possible start of the delimiter is content (or preamble).
          const size_t keep = delimiter_.size() - 1;
          if (buf_.size() > keep) {
            const size_t n = buf_.size() - keep;
            if (state_ == State::body) {
              if (!emit(std::string_view(buf_).substr(0, n))) return fail(Status::too_large);
            } else if ((kept_bytes_ += n) > max_fields_bytes_) {
              return fail(Status::too_large);
            }
            buf_.erase(0, n);
          }
          return status_;
        }
        if (state_ == State::preamble) {
          // Counted as the branch above counts it, so that where the body was split into
          // pieces does not change the outcome.
          if ((kept_bytes_ += pos) > max_fields_bytes_) return fail(Status::too_large);
        } else {
          if (!emit(std::string_view(buf_).substr(0, pos))) return fail(Status::too_large);
          if (in_file_) {
            in_file_ = false;
            after_file_ = true;
          }
          if (stopped_) return status_;
        }
        buf_.erase(0, pos + delimiter_.size());
        state_ = State::after_delimiter;
        break;
      }
      case State::after_delimiter: {
        if (buf_.size() < 2) return status_;
        if (buf_.compare(0, 2, "--") == 0) {
          state_ = State::done;  // the close delimiter: what follows is epilogue
          buf_.clear();
          return status_;
        }
        size_t i = 0;
        while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;  // transport padding
        if (i + 2 > buf_.size()) {
          if (buf_.size() > 256) return fail(Status::malformed);
          return status_;
        }
        if (buf_.compare(i, 2, "\r\n") != 0) return fail(Status::malformed);
        buf_.erase(0, i + 2);
        state_ = State::headers;
        break;
      }
      case State::headers: {
        size_t end = 0, skip = 0;
        if (buf_.compare(0, 2, "\r\n") == 0) {
          skip = 2;  // a part without headers (malformed below: it names no field)
        } else {
          end = buf_.find("\r\n\r\n");
          if (end == std::string::npos) {
            // Up to three buffered bytes may be the start of the blank line that ends the block:
            // not counted, so that the bound trips here only when it would for the whole block.
            if (buf_.size() - std::min<size_t>(buf_.size(), 3) + kept_bytes_ > max_fields_bytes_)
              return fail(Status::too_large);
            return status_;
          }
          skip = end + 4;
        }
        if (end + kept_bytes_ > max_fields_bytes_) return fail(Status::too_large);
        kept_bytes_ += end;
        if (!part_headers(std::string_view(buf_).substr(0, end))) return fail(Status::malformed);
        buf_.erase(0, skip);
        state_ = State::body;
        break;
      }
      case State::done: return status_;
    }
  }
  return status_;
}

// ---- the policy document ------------------------------------------------------------------

namespace {

using nlohmann::json;

PolicyError invalid_policy(const std::string& why) { return PolicyError{"InvalidPolicyDocument", "Invalid Policy: " + why, 400, {}}; }

PolicyError denied(const std::string& why) {
  return PolicyError{"AccessDenied", "Invalid according to Policy: " + why, 403, {}};
}

std::string json_quoted(std::string_view s) {
  std::string out;
  wire::text::append_json_string(out, s);
  return out;
}

// A content-length-range bound: a non-negative integer, as a JSON number or a numeric string.
std::optional<uint64_t> length_bound(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    if (n < 0) return std::nullopt;
    return static_cast<uint64_t>(n);
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoull(s);
  }
  return std::nullopt;
}

std::optional<PolicyError> parse_condition(const json& c, Condition& out) {
  if (c.is_object()) {
    if (c.size() != 1)
      return invalid_policy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
    const auto it = c.begin();
    if (!it.value().is_string()) return invalid_policy("Invalid Simple-Condition: value must be a string.");
    out.kind = Condition::Kind::eq;
    out.field = lower(it.key());
    out.value = it.value().get<std::string>();
    out.text = "[\"eq\", " + json_quoted("$" + it.key()) + ", " + json_quoted(out.value) + "]";
    return std::nullopt;
  }
  if (!c.is_array()) return invalid_policy("Invalid Condition: a condition must be a list or an object.");
  if (c.empty() || !c[0].is_string()) return invalid_policy("Invalid Condition: a condition list must start with its operation.");
  const std::string op = lower(c[0].get<std::string>());
  if (op == "content-length-range") {
    if (c.size() != 3) return invalid_policy("Invalid content-length-range condition: it takes two bounds.");
    const auto lo = length_bound(c[1]), hi = length_bound(c[2]);
    if (!lo || !hi) return invalid_policy("Invalid content-length-range condition: the bounds must be non-negative integers.");
    out.kind = Condition::Kind::length_range;
    out.min = *lo;
    out.max = *hi;
    out.text = "[\"content-length-range\", " + std::to_string(*lo) + ", " + std::to_string(*hi) + "]";
    return std::nullopt;
  }
  if (op != "eq" && op != "starts-with") return invalid_policy("Invalid Condition: unknown operation " + json_quoted(op) + ".");
  if (c.size() != 3 || !c[1].is_string() || !c[2].is_string())
    return invalid_policy("Invalid " + op + " condition: it takes a field and a string value.");
  const std::string field = c[1].get<std::string>();
  if (field.size() < 2 || field.front() != '$')
    return invalid_policy("Invalid " + op + " condition: the field must start with '$': " + json_quoted(field) + ".");
  out.kind = op == "eq" ? Condition::Kind::eq : Condition::Kind::starts_with;
  out.field = lower(field.substr(1));
  out.value = c[2].get<std::string>();
  out.text = "[" + json_quoted(op) + ", " + json_quoted(field) + ", " + json_quoted(out.value) + "]";
  return std::nullopt;
}

// Fields a policy need not name: the signature's own fields, the file and x-ignore-*; and
// the checksum fields (s3-tests posts x-amz-checksum-sha256 without a condition for it).
bool exempt(std::string_view name) {
  return name == "policy" || name == "signature" || name == "awsaccesskeyid" || name == "x-amz-signature" ||
         name == "file" || name.starts_with("x-ignore-") || name.starts_with("x-amz-checksum-");
}

}  // namespace

std::optional<std::pair<uint64_t, uint64_t>> Policy::length_range() const {
  for (const Condition& c : conditions)
    if (c.kind == Condition::Kind::length_range) return std::pair{c.min, c.max};
  return std::nullopt;
}

std::optional<PolicyError> parse_policy(std::string_view policy_b64, Policy& out) {
  const auto text = wire::base64_decode(trim(policy_b64));
  if (!text) return invalid_policy("Policy is not base64.");
  const json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return invalid_policy("Invalid JSON.");
  const auto exp = doc.find("expiration");
  if (exp == doc.end()) return invalid_policy("Policy missing expiration.");
  std::optional<int64_t> ms;
  if (exp->is_string()) ms = parse_iso8601_ms(exp->get<std::string>());
  if (!ms) return invalid_policy("Invalid 'expiration' value: " + json_quoted(exp->is_string() ? exp->get<std::string>() : exp->dump()));
  out.expiration_ms = *ms;
  const auto conds = doc.find("conditions");
  if (conds == doc.end()) return invalid_policy("Policy missing conditions.");
  if (!conds->is_array()) return invalid_policy("Invalid 'conditions' value: must be a List.");
  out.conditions.clear();
  for (const json& c : *conds) {
    Condition parsed;
    if (auto e = parse_condition(c, parsed)) return e;
    out.conditions.push_back(std::move(parsed));
  }
  return std::nullopt;
}

std::optional<PolicyError> check_policy(const Policy& policy, int64_t now_ms,
                                        const std::vector<std::pair<std::string, std::string>>& values) {
  if (now_ms >= policy.expiration_ms) return denied("Policy expired.");
  auto value_of = [&](const std::string& field) -> std::string {
    for (auto& [name, value] : values)
      if (name == field) return value;
    return {};
  };
  std::set<std::string> covered;
  for (const Condition& c : policy.conditions) {
    if (c.kind == Condition::Kind::length_range) continue;
    covered.insert(c.field);
    const std::string v = value_of(c.field);
    bool ok = false;
    if (c.kind == Condition::Kind::eq) {
      ok = v == c.value;
    } else if (c.field == "content-type") {
      // Each of a comma-separated list of types must start so.
      ok = true;
      size_t start = 0;
      while (ok) {
        const size_t comma = v.find(',', start);
        const std::string_view one = trim(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        ok = one.starts_with(c.value);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      ok = v.starts_with(c.value);
    }
    if (!ok) return denied("Policy Condition failed: " + c.text);
  }
  std::string extra;
  std::set<std::string> listed;
  for (auto& [name, value] : values) {
    if (exempt(name) || covered.count(name) || !listed.insert(name).second) continue;
    extra += (extra.empty() ? "" : ", ") + name;
  }
  if (!extra.empty()) return denied("Extra input fields: " + extra);
  return std::nullopt;
}

}  // namespace eddy::s3::post
