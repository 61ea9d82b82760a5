#pragma once
// Fault-injection rules: what a rule matches, when it fires, and what it does. The engine
// (fault_engine.h) applies them to Kinesis calls and S3 requests.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::limits {

enum class FaultAction { error, fail_entries, latency, close, reset, trickle };

std::string_view to_string(FaultAction a);

// One request (or, for fail_entries rules, one PutRecords entry) as the matcher sees it.
struct FaultContext {
  std::string_view service;     // "kinesis" | "s3"
  std::string_view operation;   // "PutRecords", "GetObject", ...
  std::string_view resource;    // stream or bucket name; may be empty
  std::string_view key;         // S3 object key or Kinesis partition key; may be empty
  std::string_view shard;       // "shardId-000000000000"; may be empty
  std::string_view request_id;
  int64_t now_ms = 0;
  bool entry = false;           // a PutRecords entry rather than a whole request
};

// What a rule does when it fires: configured on the rule, handed on in its decision.
struct FaultEffect {
  FaultAction action = FaultAction::error;
  std::string error_code;
  std::string message;
  bool message_set = false;
  uint32_t trickle_bytes = 1;
  uint32_t trickle_interval_ms = 100;
  bool apply = false;  // close/reset: run the request first, then drop the answer
};

// What a fired rule asks for.
struct FaultDecision : FaultEffect {
  std::string rule_id;
  int status = 500;
  uint32_t delay_ms = 0;
};

struct FaultRule : FaultEffect {
  // --- matching (empty: any)
  std::string id;
  std::string service;
  std::string operation;
  std::string resource;
  std::string key_prefix;
  std::optional<uint32_t> shard;
  // --- firing (all given conditions must hold; none given: every match fires)
  std::optional<double> probability;
  std::optional<uint64_t> seed;
  uint64_t every_nth = 0;
  uint64_t first_n = 0;
  std::optional<int64_t> from_ms;
  std::optional<int64_t> until_ms;
  // --- effect (and FaultEffect's members)
  int status = 0;
  uint32_t latency_ms = 0;
  uint32_t latency_max_ms = 0;
  // --- state
  uint64_t matched = 0;
  uint64_t fired = 0;
  std::mt19937_64 rng;

  // Parses one rule. `now_ms` anchors "duration_ms"; `default_seed` seeds rules without "seed"
  // (mixed with the rule's position so two rules do not draw the same sequence).
  static bool from_json(const nlohmann::json& j, int64_t now_ms, uint64_t default_seed, size_t position,
                        FaultRule& out, std::string* error);
  nlohmann::json to_json() const;

  // Whether the filters match (service, operation, resource, key prefix, shard, entry kind).
  bool matches(const FaultContext& ctx) const;
  // Counts a match and decides whether it fires (window, first N, every Nth, probability).
  bool fire(const FaultContext& ctx);
  FaultDecision decision();

 private:
  double draw();
};

// The HTTP status AWS uses for a known error code (0 when unknown).
int default_status(std::string_view service, std::string_view code);
// S3's own message for a known error code (empty when unknown).
std::string default_s3_message(std::string_view code);

}  // namespace eddy::limits
