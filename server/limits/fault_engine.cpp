#include "server/limits/fault_engine.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "server/kinesis/codec.h"

namespace eddy::limits {

using nlohmann::json;

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

kinesis::Encoding encoding_of(const http::Response& res) {
  return res.headers.get("Content-Type").find("cbor") != std::string_view::npos ? kinesis::Encoding::cbor
                                                                                : kinesis::Encoding::json;
}

}  // namespace

void apply_to_response(const FaultDecision& d, http::Response& res) {
  switch (d.action) {
    case FaultAction::latency: res.delay_ms += d.delay_ms; break;
    case FaultAction::close: res.action = http::ConnectionAction::close_without_response; break;
    case FaultAction::reset: res.action = http::ConnectionAction::reset; break;
    case FaultAction::trickle:
      res.action = http::ConnectionAction::trickle;
      res.trickle_bytes = d.trickle_bytes;
      res.trickle_interval_ms = d.trickle_interval_ms;
      break;
    case FaultAction::error:
    case FaultAction::fail_entries: break;
  }
}

http::Response s3_error_response(const http::Request& req, const FaultDecision& d) {
  http::Response res;
  res.status = d.status;
  res.headers.add("Content-Type", "application/xml");
  res.headers.add("x-amz-request-id", req.request_id);
  res.headers.add("x-amz-id-2", "eddy/" + req.request_id);
  std::string message = d.message_set ? d.message : default_s3_message(d.error_code);
  res.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + xml_escape(d.error_code) +
             "</Code><Message>" + xml_escape(message) + "</Message><RequestId>" + xml_escape(req.request_id) +
             "</RequestId><HostId>eddy/" + xml_escape(req.request_id) + "</HostId></Error>";
  if (req.method == "HEAD") {
    // S3 answers HEAD errors with the status and headers only.
    res.head = true;
    res.content_length = 0;
    res.body.clear();
  }
  return res;
}

FaultEngine::FaultEngine(const Config& config, Clock& clock)
    : config_(config), clock_(clock), seed_(config.fault_seed) {}

bool FaultEngine::load_file(std::string* error) {
  if (config_.faults_file.empty()) return true;
  std::ifstream in(config_.faults_file);
  if (!in) {
    if (error) *error = "cannot read faults file " + config_.faults_file;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json body = json::parse(ss.str(), nullptr, false);
  if (body.is_discarded()) {
    if (error) *error = "faults file " + config_.faults_file + " is not valid JSON";
    return false;
  }
  std::string why;
  if (!replace(body, &why)) {
    if (error) *error = "faults file " + config_.faults_file + ": " + why;
    return false;
  }
  spdlog::info("loaded {} fault rule(s) from {}", list()["rules"].size(), config_.faults_file);
  return true;
}

bool FaultEngine::parse_rules(const json& list, uint64_t seed, size_t first_position, std::vector<FaultRule>& out,
                              std::string* error) const {
  if (!list.is_array()) {
    if (error) *error = "expected a JSON list of rules, or {\"seed\": N, \"rules\": [...]}";
    return false;
  }
  const int64_t now = clock_.now_ms();
  size_t pos = first_position;
  for (const auto& j : list) {
    FaultRule r;
    std::string why;
    if (!FaultRule::from_json(j, now, seed, pos, r, &why)) {
      if (error) *error = "rule " + std::to_string(pos + 1) + ": " + why;
      return false;
    }
    out.push_back(std::move(r));
    ++pos;
  }
  return true;
}

bool FaultEngine::replace(const json& body, std::string* error) {
  uint64_t seed;
  {
    std::lock_guard lk(mu_);
    seed = seed_;
  }
  const json* list = &body;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "seed" && it.key() != "rules" && it.key() != "fired") {
        if (error) *error = "unknown field \"" + it.key() + "\" (expected \"seed\" and \"rules\")";
        return false;
      }
    }
    if (auto s = body.find("seed"); s != body.end()) {
      if (!s->is_number_unsigned()) {
        if (error) *error = "\"seed\" must be a non-negative integer";
        return false;
      }
      seed = s->get<uint64_t>();
    }
    auto r = body.find("rules");
    if (r == body.end()) {
      if (error) *error = "missing \"rules\"";
      return false;
    }
    list = &*r;
  }
  std::vector<FaultRule> rules;
  if (!parse_rules(*list, seed, 0, rules, error)) return false;
  std::lock_guard lk(mu_);
  seed_ = seed;
  rules_ = std::move(rules);
  return true;
}

bool FaultEngine::add(const json& rule, std::string* error) {
  uint64_t seed;
  size_t pos;
  {
    std::lock_guard lk(mu_);
    seed = seed_;
    pos = rules_.size();
  }
  std::vector<FaultRule> one;
  if (!parse_rules(json::array({rule}), seed, pos, one, error)) return false;
  std::lock_guard lk(mu_);
  for (const auto& r : rules_) {
    if (r.id == one.front().id) {
      if (error) *error = "a rule with id \"" + r.id + "\" already exists";
      return false;
    }
  }
  rules_.push_back(std::move(one.front()));
  return true;
}

void FaultEngine::clear() {
  std::lock_guard lk(mu_);
  rules_.clear();
}

json FaultEngine::list() const {
  std::lock_guard lk(mu_);
  json rules = json::array();
  for (const auto& r : rules_) rules.push_back(r.to_json());
  return json{{"seed", seed_}, {"fired", fired_total_}, {"rules", std::move(rules)}};
}

uint64_t FaultEngine::fired_total() const {
  std::lock_guard lk(mu_);
  return fired_total_;
}

bool FaultEngine::empty() const {
  std::lock_guard lk(mu_);
  return rules_.empty();
}

std::optional<FaultDecision> FaultEngine::evaluate(const FaultContext& ctx) {
  std::lock_guard lk(mu_);
  for (auto& r : rules_) {
    if (!r.matches(ctx) || !r.fire(ctx)) continue;
    ++fired_total_;
    FaultDecision d = r.decision();
    spdlog::info("fault {} fired: {} on {} {}{}{}{}{} (request {})", r.id, to_string(d.action), ctx.service,
                 ctx.operation, ctx.resource.empty() ? "" : " ", ctx.resource, ctx.key.empty() ? "" : " key ",
                 ctx.key, ctx.request_id);
    return d;
  }
  return std::nullopt;
}

FaultEngine::S3Fault FaultEngine::s3_fault(const http::Request& req, const s3::S3Request& s3req) {
  S3Fault out;
  if (empty()) return out;
  FaultContext ctx;
  ctx.service = "s3";
  ctx.operation = s3req.operation;
  ctx.resource = s3req.bucket;
  ctx.key = s3req.key;
  ctx.request_id = req.request_id;
  ctx.now_ms = clock_.now_ms();
  auto d = evaluate(ctx);
  if (!d) return out;
  if (d->action == FaultAction::error) {
    out.answer = s3_error_response(req, *d);
  } else if ((d->action == FaultAction::close || d->action == FaultAction::reset) && !d->apply) {
    http::Response res;
    apply_to_response(*d, res);
    out.answer = std::move(res);
  } else {
    out.apply = std::move(d);
  }
  return out;
}

// ---- Kinesis -----------------------------------------------------------------------------

namespace {

// A Kinesis call (or one PutRecords entry, `entry`) as the matcher sees it; `resource` is the
// stream the call resolved to.
FaultContext kinesis_context(const kinesis::OperationInfo& info, std::string_view resource, bool entry) {
  FaultContext ctx;
  ctx.service = "kinesis";
  ctx.operation = info.operation;
  ctx.resource = resource;
  ctx.key = info.partition_key;
  ctx.shard = info.shard;
  ctx.request_id = info.request_id;
  ctx.now_ms = info.now_ms;
  ctx.entry = entry;
  return ctx;
}

}  // namespace

std::optional<FaultDecision> KinesisFaultHooks::evaluate(const kinesis::OperationInfo& info) {
  return engine_.evaluate(kinesis_context(info, info.stream, false));
}

kinesis::ApiError KinesisFaultHooks::to_error(const FaultDecision& d, const kinesis::OperationInfo& info) const {
  kinesis::ApiError e{d.error_code, d.message, d.status};
  if (!d.message_set) {
    const std::string where = info.stream.empty() ? "account " + config_.account_id
                                                  : "stream " + std::string(info.stream) + " under account " +
                                                        config_.account_id;
    if (d.error_code == "ProvisionedThroughputExceededException" && !info.shard.empty() && !info.stream.empty())
      e.message = "Rate exceeded for shard " + std::string(info.shard) + " in " + where + ".";
    else if (d.error_code == "ProvisionedThroughputExceededException" || d.error_code == "LimitExceededException")
      e.message = "Rate exceeded for " + where + ".";
    else
      e.key = kinesis::ApiError::MessageKey::none;
  }
  return e;
}

std::optional<kinesis::ApiError> KinesisFaultHooks::before_operation(const kinesis::OperationInfo& info) {
  // GetRecords names its stream and shard only inside the iterator: its rules are evaluated
  // once the call has run (reads change nothing, so answering with an error afterwards is safe).
  if (info.operation == "GetRecords") return std::nullopt;
  auto d = evaluate(info);
  if (!d) return std::nullopt;
  if (d->action == FaultAction::error) return to_error(*d, info);
  const bool drop = (d->action == FaultAction::close || d->action == FaultAction::reset) && !d->apply;
  {
    std::lock_guard lk(mu_);
    pending_[std::string(info.request_id)] = *d;
  }
  // Not applied: skip the operation (the response is never sent, so the error is never seen).
  if (drop) return kinesis::ApiError::internal();
  return std::nullopt;
}

void KinesisFaultHooks::after_operation(const kinesis::OperationInfo& info, http::Response& res) {
  if (info.operation == "GetRecords") {
    auto d = evaluate(info);
    if (!d) return;
    if (d->action == FaultAction::error) {
      auto e = to_error(*d, info);
      auto enc = encoding_of(res);
      http::Response err;
      err.status = e.status;
      err.headers.add("Content-Type", enc == kinesis::Encoding::json ? kinesis::kJsonContentType
                                                                      : kinesis::kCborContentType);
      err.headers.add("x-amzn-ErrorType", e.type);
      err.body = kinesis::encode_error(enc, e);
      res = std::move(err);
      return;
    }
    apply_to_response(*d, res);
    return;
  }
  std::optional<FaultDecision> d;
  {
    std::lock_guard lk(mu_);
    auto it = pending_.find(std::string(info.request_id));
    if (it == pending_.end()) return;
    d = std::move(it->second);
    pending_.erase(it);
  }
  apply_to_response(*d, res);
}

bool KinesisFaultHooks::fail_entry(const kinesis::OperationInfo& info, const kinesis::Stream& s,
                                   const kinesis::Shard& sh) {
  (void)sh;
  return engine_.evaluate(kinesis_context(info, s.name, true)).has_value();
}

}  // namespace eddy::limits
