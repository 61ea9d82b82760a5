#pragma once
// The two untrusted documents of a browser-form upload (S3 PostObject), parsed without service
// state so they can be unit-tested and fuzzed:
//   FormReader  the multipart/form-data body (RFC 7578), read as it arrives: the fields before
//               the part named "file" are kept (bounded), the file's bytes are handed on as
//               they come and never held whole.
//   Policy      the base64 JSON policy document (expiration, conditions) and its evaluation
//               against the form's fields.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::s3::post {

// The boundary of a "multipart/form-data; boundary=..." Content-Type, or nullopt when the type
// is another or names no usable boundary (1 to 70 characters, RFC 2046).
std::optional<std::string> form_boundary(std::string_view content_type);

struct Field {
  std::string name;   // as sent (S3 matches field names case-insensitively)
  std::string value;
};

class FormReader {
 public:
  enum class Status { ok, malformed, too_large };
  // Called once, when the headers of the part named "file" have been read, with its filename
  // ("" when none); every field before it is in fields(). Returning false stops the reader.
  using FileStart = std::function<bool(const std::string& filename)>;
  // Called with each piece of the file's content. Returning false stops the reader.
  using FileData = std::function<bool(std::string_view data)>;

  // max_fields_bytes bounds what is kept: the fields' names and values and the part headers
  // before the file (S3 allows 20 KiB).
  FormReader(std::string boundary, FileStart on_file, FileData on_data, size_t max_fields_bytes = 20 * 1024);

  // Feeds the next bytes of the body. Returns the reader's status; after anything but ok (or
  // a callback's false) further input is ignored.
  Status feed(std::string_view bytes);
  // The body has ended: ok when the closing delimiter was seen (parts after the file are
  // read for form, not kept), else malformed.
  Status finish();

  const std::vector<Field>& fields() const { return fields_; }
  // The first field of that name (case-insensitive), or nullptr.
  const Field* find(std::string_view name) const;
  bool file_seen() const { return file_seen_; }
  bool stopped() const { return stopped_; }

 private:
  enum class State { preamble, after_delimiter, headers, body, done };
  Status fail(Status s) {
    status_ = s;
    return s;
  }
  bool part_headers(std::string_view headers);
  bool emit(std::string_view data);  // content of the current part
  Status run();

  std::string delimiter_;  // "\r\n--" + boundary
  FileStart on_file_;
  FileData on_data_;
  size_t max_fields_bytes_;
  size_t kept_bytes_ = 0;
  std::string buf_;
  State state_ = State::preamble;
  Status status_ = Status::ok;
  std::vector<Field> fields_;
  bool in_file_ = false;     // the current part is the file
  bool after_file_ = false;  // parts after the file are read, not kept
  bool file_seen_ = false;
  bool stopped_ = false;
};

// ---- the policy document ------------------------------------------------------------------

// A policy failure as S3 answers it: code (InvalidPolicyDocument 400, AccessDenied 403,
// EntityTooSmall/EntityTooLarge 400), message and extra elements.
struct PolicyError {
  std::string code;
  std::string message;
  int status = 400;
  std::vector<std::pair<std::string, std::string>> fields;
};

struct Condition {
  enum class Kind { eq, starts_with, length_range } kind = Kind::eq;
  std::string field;   // lowercase, without the '$'
  std::string value;
  uint64_t min = 0, max = 0;  // content-length-range
  std::string text;    // as S3 quotes it in "Policy Condition failed: ..."
};

struct Policy {
  int64_t expiration_ms = 0;
  std::vector<Condition> conditions;
  // The content-length-range, if the policy has one.
  std::optional<std::pair<uint64_t, uint64_t>> length_range() const;
};

// Decodes and validates a policy field (base64 of a JSON document with "expiration", an
// ISO-8601 time, and "conditions", a list): InvalidPolicyDocument errors otherwise.
std::optional<PolicyError> parse_policy(std::string_view policy_b64, Policy& out);

// The form's fields against the policy at now_ms: expiration, every condition (a field the
// form lacks reads as ""), and every field covered by a condition except those S3 exempts
// (policy, signatures, file, x-ignore-*). `values` holds the fields by lowercase name, with
// "bucket" (the bucket posted to) and "key" (after ${filename}).
std::optional<PolicyError> check_policy(const Policy& policy, int64_t now_ms,
                                        const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace eddy::s3::post
