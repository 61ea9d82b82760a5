#include "server/limits/fault_rules.h"

#include <limits>
#include <set>
#include <tuple>

#include "server/http/message.h"
#include "server/kinesis/stream.h"

namespace eddy::limits {

using nlohmann::json;

std::string_view to_string(FaultAction a) {
  switch (a) {
    case FaultAction::error: return "error";
    case FaultAction::fail_entries: return "fail_entries";
    case FaultAction::latency: return "latency";
    case FaultAction::close: return "close";
    case FaultAction::reset: return "reset";
    case FaultAction::trickle: return "trickle";
  }
  return "error";
}

namespace {

bool parse_action(std::string_view s, FaultAction& out) {
  for (auto a : {FaultAction::error, FaultAction::fail_entries, FaultAction::latency, FaultAction::close,
                 FaultAction::reset, FaultAction::trickle}) {
    if (s == to_string(a)) {
      out = a;
      return true;
    }
  }
  return false;
}

struct CodeInfo {
  std::string_view code;
  int status;
};

constexpr CodeInfo kKinesisCodes[] = {
    {"InternalFailure", 500},
    {"InternalFailureException", 500},
    {"ServiceUnavailable", 503},
    {"ServiceUnavailableException", 503},
    {"ProvisionedThroughputExceededException", 400},
    {"LimitExceededException", 400},
    {"ThrottlingException", 400},
    {"KMSThrottlingException", 400},
    {"KMSAccessDeniedException", 400},
    {"KMSDisabledException", 400},
    {"KMSInvalidStateException", 400},
    {"KMSNotFoundException", 400},
    {"KMSOptInRequired", 400},
    {"ResourceNotFoundException", 400},
    {"ResourceInUseException", 400},
    {"ExpiredIteratorException", 400},
    {"ExpiredNextTokenException", 400},
    {"InvalidArgumentException", 400},
    {"ValidationException", 400},
    {"AccessDeniedException", 400},
};

constexpr CodeInfo kS3Codes[] = {
    {"SlowDown", 503},
    {"ServiceUnavailable", 503},
    {"InternalError", 500},
    {"NotImplemented", 501},
    {"AccessDenied", 403},
    {"SignatureDoesNotMatch", 403},
    {"InvalidAccessKeyId", 403},
    {"RequestTimeTooSkewed", 403},
    {"NoSuchKey", 404},
    {"NoSuchBucket", 404},
    {"NoSuchUpload", 404},
    {"PreconditionFailed", 412},
    {"OperationAborted", 409},
    {"BucketNotEmpty", 409},
    {"RequestTimeout", 400},
    {"BadDigest", 400},
    {"InvalidRequest", 400},
    {"EntityTooLarge", 400},
    {"ExpiredToken", 400},
    {"InvalidRange", 416},
};

template <class T>
bool get_uint(const json& j, const char* key, T& out, std::string* error, uint64_t min = 0) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    if (error) *error = std::string("\"") + key + "\" must be a non-negative integer";
    return false;
  }
  uint64_t v = it->get<uint64_t>();
  if (v < min || v > std::numeric_limits<T>::max()) {
    if (error) *error = std::string("\"") + key + "\" is out of range";
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

bool get_string(const json& j, const char* key, std::string& out, std::string* error) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) {
    if (error) *error = std::string("\"") + key + "\" must be a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool get_ms(const json& j, const char* key, std::optional<int64_t>& out, std::string* error) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) {
    if (error) *error = std::string("\"") + key + "\" must be an integer (milliseconds)";
    return false;
  }
  out = it->get<int64_t>();
  return true;
}

}  // namespace

int default_status(std::string_view service, std::string_view code) {
  if (service != "s3")
    for (const auto& c : kKinesisCodes)
      if (c.code == code) return c.status;
  if (service != "kinesis")
    for (const auto& c : kS3Codes)
      if (c.code == code) return c.status;
  return 0;
}

std::string default_s3_message(std::string_view code) {
  if (code == "SlowDown" || code == "ServiceUnavailable") return "Please reduce your request rate.";
  if (code == "InternalError") return "We encountered an internal error. Please try again.";
  if (code == "AccessDenied") return "Access Denied";
  if (code == "NoSuchKey") return "The specified key does not exist.";
  if (code == "NoSuchBucket") return "The specified bucket does not exist";
  if (code == "RequestTimeout")
    return "Your socket connection to the server was not read from or written to within the timeout period. Idle "
           "connections will be closed.";
  if (code == "NotImplemented") return "A header you provided implies functionality that is not implemented";
  return {};
}

bool FaultRule::from_json(const json& j, int64_t now_ms, uint64_t default_seed, size_t position, FaultRule& r,
                          std::string* error) {
  if (!j.is_object()) {
    if (error) *error = "a rule must be a JSON object";
    return false;
  }
  static const std::set<std::string> known = {
      "id",          "service",        "operation",   "stream",        "bucket",        "key_prefix",
      "shard",       "probability",    "fraction",    "seed",          "every_nth",     "first_n",
      "from_ms",     "until_ms",       "duration_ms", "action",        "error_code",    "status",
      "message",     "latency_ms",     "latency_max_ms", "trickle_bytes", "trickle_interval_ms", "apply",
      "matched",     "fired"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!known.count(it.key())) {
      if (error) *error = "unknown rule field \"" + it.key() + "\"";
      return false;
    }
  }
  r = FaultRule{};
  std::string action;
  std::string stream, bucket, shard;
  if (!get_string(j, "id", r.id, error) || !get_string(j, "service", r.service, error) ||
      !get_string(j, "operation", r.operation, error) || !get_string(j, "stream", stream, error) ||
      !get_string(j, "bucket", bucket, error) || !get_string(j, "key_prefix", r.key_prefix, error) ||
      !get_string(j, "action", action, error) || !get_string(j, "error_code", r.error_code, error) ||
      !get_string(j, "message", r.message, error))
    return false;
  if (r.id.empty()) r.id = "rule-" + std::to_string(position + 1);
  if (!r.service.empty() && r.service != "kinesis" && r.service != "s3") {
    if (error) *error = "\"service\" must be \"kinesis\" or \"s3\"";
    return false;
  }
  if (!stream.empty() && !bucket.empty()) {
    if (error) *error = "a rule names a stream or a bucket, not both";
    return false;
  }
  // "stream" and "bucket" name the resource and imply the service.
  for (const auto& [field, name, service] : {std::tuple{"stream", &stream, "kinesis"}, std::tuple{"bucket", &bucket, "s3"}}) {
    if (name->empty()) continue;
    if (!r.service.empty() && r.service != service) {
      if (error) *error = std::string("\"") + field + "\" applies to service " + service;
      return false;
    }
    r.service = service;
    r.resource = *name;
  }
  if (auto it = j.find("shard"); it != j.end() && !it->is_null()) {
    std::optional<uint32_t> idx;
    if (it->is_string()) idx = kinesis::Shard::parse_id(it->get<std::string>());
    else if (it->is_number_unsigned() && it->get<uint64_t>() <= 0x7fffffff) idx = it->get<uint32_t>();
    if (!idx) {
      if (error) *error = "\"shard\" must be a shard id such as \"shardId-000000000000\"";
      return false;
    }
    r.shard = idx;
  }
  r.message_set = j.contains("message") && !j["message"].is_null();

  for (const char* key : {"probability", "fraction"}) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) {
      if (!it->is_number() || it->get<double>() < 0.0 || it->get<double>() > 1.0) {
        if (error) *error = std::string("\"") + key + "\" must be a number from 0 to 1";
        return false;
      }
      r.probability = it->get<double>();
    }
  }
  uint64_t seed = 0;
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!get_uint(j, "seed", seed, error)) return false;
    r.seed = seed;
  }
  if (!get_uint(j, "every_nth", r.every_nth, error, 1) || !get_uint(j, "first_n", r.first_n, error, 1)) return false;
  if (!get_ms(j, "from_ms", r.from_ms, error) || !get_ms(j, "until_ms", r.until_ms, error)) return false;
  std::optional<int64_t> duration;
  if (!get_ms(j, "duration_ms", duration, error)) return false;
  if (duration) {
    if (*duration < 0 || r.until_ms) {
      if (error) *error = "\"duration_ms\" must be non-negative and cannot be combined with \"until_ms\"";
      return false;
    }
    r.until_ms = r.from_ms.value_or(now_ms) + *duration;
  }

  if (action.empty()) {
    if (error) *error = "\"action\" is required: error, fail_entries, latency, close, reset or trickle";
    return false;
  }
  if (!parse_action(action, r.action)) {
    if (error) *error = "unknown action \"" + action + "\" (error, fail_entries, latency, close, reset, trickle)";
    return false;
  }
  if (!get_uint(j, "status", r.status, error) || !get_uint(j, "latency_ms", r.latency_ms, error) ||
      !get_uint(j, "latency_max_ms", r.latency_max_ms, error) ||
      !get_uint(j, "trickle_bytes", r.trickle_bytes, error, 1) ||
      !get_uint(j, "trickle_interval_ms", r.trickle_interval_ms, error))
    return false;
  if (r.status != 0 && (r.status < 100 || r.status > 599)) {
    if (error) *error = "\"status\" must be an HTTP status (100-599)";
    return false;
  }
  if (auto it = j.find("apply"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      if (error) *error = "\"apply\" must be true or false";
      return false;
    }
    r.apply = it->get<bool>();
  }

  switch (r.action) {
    case FaultAction::error:
      if (r.error_code.empty()) {
        if (error) *error = "action error needs \"error_code\" (e.g. InternalFailure, SlowDown)";
        return false;
      }
      if (r.status == 0) r.status = default_status(r.service, r.error_code);
      if (r.status == 0) r.status = 400;
      break;
    case FaultAction::fail_entries:
      if (r.service == "s3" || (!r.operation.empty() && r.operation != "PutRecords")) {
        if (error) *error = "action fail_entries applies to Kinesis PutRecords only";
        return false;
      }
      // The per-entry error is AWS's partial-failure shape, which is always InternalFailure.
      if ((!r.error_code.empty() && r.error_code != "InternalFailure") || r.message_set) {
        if (error) *error = "action fail_entries always fails entries with InternalFailure \"Internal service failure.\"";
        return false;
      }
      r.service = "kinesis";
      r.operation = "PutRecords";
      r.error_code = "InternalFailure";
      r.message = "Internal service failure.";
      break;
    case FaultAction::latency:
      if (r.latency_ms == 0 && r.latency_max_ms == 0) {
        if (error) *error = "action latency needs \"latency_ms\" (and optionally \"latency_max_ms\")";
        return false;
      }
      if (r.latency_max_ms != 0 && r.latency_max_ms < r.latency_ms) {
        if (error) *error = "\"latency_max_ms\" must be at least \"latency_ms\"";
        return false;
      }
      break;
    default:
      break;
  }
  r.rng.seed(r.seed ? *r.seed : default_seed + 0x9e3779b97f4a7c15ULL * (position + 1));
  return true;
}

json FaultRule::to_json() const {
  json j = {{"id", id}, {"action", std::string(to_string(action))}};
  if (!service.empty()) j["service"] = service;
  if (!operation.empty()) j["operation"] = operation;
  if (!resource.empty()) j[service == "s3" ? "bucket" : "stream"] = resource;
  if (!key_prefix.empty()) j["key_prefix"] = key_prefix;
  if (shard) j["shard"] = kinesis::Shard::shard_id(*shard);
  if (probability) j["probability"] = *probability;
  if (seed) j["seed"] = *seed;
  if (every_nth) j["every_nth"] = every_nth;
  if (first_n) j["first_n"] = first_n;
  if (from_ms) j["from_ms"] = *from_ms;
  if (until_ms) j["until_ms"] = *until_ms;
  if (action == FaultAction::error || action == FaultAction::fail_entries) {
    j["error_code"] = error_code;
    if (action == FaultAction::error) j["status"] = status;
    if (message_set || !message.empty()) j["message"] = message;
  }
  if (action == FaultAction::latency) {
    j["latency_ms"] = latency_ms;
    if (latency_max_ms) j["latency_max_ms"] = latency_max_ms;
  }
  if (action == FaultAction::trickle) {
    j["trickle_bytes"] = trickle_bytes;
    j["trickle_interval_ms"] = trickle_interval_ms;
  }
  if (action == FaultAction::close || action == FaultAction::reset) j["apply"] = apply;
  j["matched"] = matched;
  j["fired"] = fired;
  return j;
}

bool FaultRule::matches(const FaultContext& ctx) const {
  if (ctx.entry != (action == FaultAction::fail_entries)) return false;
  if (!service.empty() && service != ctx.service) return false;
  if (!operation.empty() && !http::iequals(operation, ctx.operation)) return false;
  if (!resource.empty() && resource != ctx.resource) return false;
  if (!key_prefix.empty() && ctx.key.substr(0, key_prefix.size()) != key_prefix) return false;
  if (shard) {
    auto idx = kinesis::Shard::parse_id(ctx.shard);
    if (!idx || *idx != *shard) return false;
  }
  return true;
}

double FaultRule::draw() { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

bool FaultRule::fire(const FaultContext& ctx) {
  if (from_ms && ctx.now_ms < *from_ms) return false;
  if (until_ms && ctx.now_ms >= *until_ms) return false;
  ++matched;
  if (first_n && matched > first_n) return false;
  if (every_nth && matched % every_nth != 0) return false;
  if (probability && !(draw() < *probability)) return false;
  ++fired;
  return true;
}

FaultDecision FaultRule::decision() {
  FaultDecision d;
  static_cast<FaultEffect&>(d) = *this;
  d.rule_id = id;
  d.message_set = message_set || !message.empty();
  d.status = status;
  if (action == FaultAction::latency) {
    d.delay_ms = latency_ms;
    if (latency_max_ms > latency_ms) d.delay_ms += static_cast<uint32_t>(rng() % (latency_max_ms - latency_ms + 1));
  }
  return d;
}

}  // namespace eddy::limits
