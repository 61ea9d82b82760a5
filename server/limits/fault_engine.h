#pragma once
// Applies fault rules to Kinesis calls (through KinesisHooks) and to S3 requests (through the
// S3 pipeline, before the operation runs). Every fired fault is counted and logged.
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/http/message.h"
#include "server/kinesis/kinesis_service.h"
#include "server/limits/fault_rules.h"
#include "server/s3/s3_request.h"

namespace eddy::limits {

class FaultEngine {
 public:
  FaultEngine(const Config& config, Clock& clock);

  // Loads --faults FILE when configured. False with a message when the file is unreadable or invalid.
  bool load_file(std::string* error);

  // Accepts a JSON list of rules, or {"seed": N, "rules": [...]}. Replaces every rule.
  bool replace(const nlohmann::json& body, std::string* error);
  // Adds one rule at the end.
  bool add(const nlohmann::json& rule, std::string* error);
  void clear();
  // {"seed": N, "fired": total, "rules": [... with matched/fired counts]}
  nlohmann::json list() const;

  // The first rule that matches and fires, if any (counts and logs it).
  std::optional<FaultDecision> evaluate(const FaultContext& ctx);
  uint64_t fired_total() const;
  bool empty() const;

  // The S3 before-hook (App::start's S3 pipeline): the rule that fires for the operation,
  // bucket and key of the S3 request model, as an answer to send instead of the operation (an
  // error, or a close/reset without `apply`), or as a decision for apply_to_response() on the
  // operation's answer.
  struct S3Fault {
    std::optional<http::Response> answer;
    std::optional<FaultDecision> apply;
  };
  S3Fault s3_fault(const http::Request& req, const s3::S3Request& s3req);

  Clock& clock() { return clock_; }

 private:
  bool parse_rules(const nlohmann::json& list, uint64_t seed, size_t first_position, std::vector<FaultRule>& out,
                   std::string* error) const;

  const Config& config_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
  uint64_t seed_;
  uint64_t fired_total_ = 0;
};

// Changes a response as a fired rule says (error responses are built by the caller).
void apply_to_response(const FaultDecision& d, http::Response& res);
// An S3-shaped XML error response.
http::Response s3_error_response(const http::Request& req, const FaultDecision& d);

// Kinesis side: errors and connection faults per call, InternalFailure per PutRecords entry.
class KinesisFaultHooks final : public kinesis::KinesisHooks {
 public:
  KinesisFaultHooks(FaultEngine& engine, const Config& config) : engine_(engine), config_(config) {}

  std::optional<kinesis::ApiError> before_operation(const kinesis::OperationInfo& info) override;
  void after_operation(const kinesis::OperationInfo& info, http::Response& res) override;
  bool fail_entry(const kinesis::OperationInfo& info, const kinesis::Stream& s, const kinesis::Shard& sh) override;

 private:
  kinesis::ApiError to_error(const FaultDecision& d, const kinesis::OperationInfo& info) const;
  std::optional<FaultDecision> evaluate(const kinesis::OperationInfo& info);

  FaultEngine& engine_;
  const Config& config_;
  std::mutex mu_;
  // Decisions taken before an operation ran, applied to its response (by request id).
  std::unordered_map<std::string, FaultDecision> pending_;
};

}  // namespace eddy::limits
