#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/clock.h"
#include "server/config.h"
#include "server/http/message.h"
#include "server/limits/fault_engine.h"
#include "server/limits/fault_rules.h"

using eddy::limits::FaultAction;
using eddy::limits::FaultContext;
using eddy::limits::FaultEngine;
using eddy::limits::FaultRule;
using nlohmann::json;

namespace {

FaultRule rule(const json& j, int64_t now = 0, uint64_t seed = 1) {
  FaultRule r;
  std::string err;
  EXPECT_TRUE(FaultRule::from_json(j, now, seed, 0, r, &err)) << err;
  return r;
}

FaultContext put(std::string_view stream, std::string_view key = "", int64_t now = 0) {
  FaultContext c;
  c.service = "kinesis";
  c.operation = "PutRecord";
  c.resource = stream;
  c.key = key;
  c.now_ms = now;
  return c;
}

int fires(FaultRule& r, const FaultContext& c, int n) {
  int k = 0;
  for (int i = 0; i < n; ++i) k += (r.matches(c) && r.fire(c)) ? 1 : 0;
  return k;
}

}  // namespace

TEST(FaultRule, MatchesOnServiceOperationResourceKeyAndShard) {
  auto r = rule({{"stream", "orders"}, {"operation", "PutRecord"}, {"key_prefix", "user-"},
                 {"action", "error"}, {"error_code", "InternalFailure"}});
  EXPECT_EQ(r.service, "kinesis");
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(r.matches(put("orders", "user-1")));
  EXPECT_FALSE(r.matches(put("orders", "admin-1")));
  EXPECT_FALSE(r.matches(put("other", "user-1")));
  auto c = put("orders", "user-1");
  c.operation = "PutRecords";
  EXPECT_FALSE(r.matches(c));
  c.service = "s3";
  c.operation = "PutRecord";
  EXPECT_FALSE(r.matches(c));

  auto s = rule({{"shard", "shardId-000000000001"}, {"action", "latency"}, {"latency_ms", 5}});
  auto g = put("x");
  g.shard = "shardId-000000000001";
  EXPECT_TRUE(s.matches(g));
  g.shard = "shardId-000000000002";
  EXPECT_FALSE(s.matches(g));
  g.shard = "";
  EXPECT_FALSE(s.matches(g));
}

TEST(FaultRule, EntryRulesOnlyMatchEntries) {
  auto r = rule({{"stream", "s"}, {"action", "fail_entries"}, {"fraction", 0.5}});
  EXPECT_EQ(r.operation, "PutRecords");
  auto c = put("s");
  c.operation = "PutRecords";
  EXPECT_FALSE(r.matches(c));
  c.entry = true;
  EXPECT_TRUE(r.matches(c));
  auto e = rule({{"stream", "s"}, {"action", "error"}, {"error_code", "InternalFailure"}});
  EXPECT_FALSE(e.matches(c));
}

TEST(FaultRule, EveryNthAndFirstN) {
  auto nth = rule({{"action", "error"}, {"error_code", "ServiceUnavailable"}, {"every_nth", 3}});
  EXPECT_EQ(nth.status, 503);
  std::vector<int> fired;
  for (int i = 1; i <= 9; ++i)
    if (nth.fire(put("s"))) fired.push_back(i);
  EXPECT_EQ(fired, (std::vector<int>{3, 6, 9}));
  EXPECT_EQ(nth.matched, 9u);
  EXPECT_EQ(nth.fired, 3u);

  auto first = rule({{"action", "reset"}, {"first_n", 2}});
  EXPECT_EQ(fires(first, put("s"), 10), 2);
}

TEST(FaultRule, TimeWindowOnTheGivenClock) {
  auto r = rule({{"action", "close"}, {"duration_ms", 1000}}, /*now=*/5000);
  EXPECT_EQ(r.until_ms, 6000);
  EXPECT_TRUE(r.fire(put("s", "", 5000)));
  EXPECT_TRUE(r.fire(put("s", "", 5999)));
  EXPECT_FALSE(r.fire(put("s", "", 6000)));
  auto w = rule({{"action", "close"}, {"from_ms", 100}, {"until_ms", 200}});
  EXPECT_FALSE(w.fire(put("s", "", 99)));
  EXPECT_TRUE(w.fire(put("s", "", 100)));
  EXPECT_FALSE(w.fire(put("s", "", 200)));
  EXPECT_EQ(w.matched, 1u);  // outside the window is not a match
}

TEST(FaultRule, ProbabilityIsSeededAndRepeatable) {
  auto a = rule({{"action", "error"}, {"error_code", "InternalFailure"}, {"probability", 0.3}, {"seed", 42}});
  auto b = rule({{"action", "error"}, {"error_code", "InternalFailure"}, {"probability", 0.3}, {"seed", 42}});
  std::vector<bool> ra, rb;
  for (int i = 0; i < 1000; ++i) {
    ra.push_back(a.fire(put("s")));
    rb.push_back(b.fire(put("s")));
  }
  EXPECT_EQ(ra, rb);
  // Roughly the asked fraction.
  EXPECT_GT(a.fired, 250u);
  EXPECT_LT(a.fired, 350u);
  auto c = rule({{"action", "error"}, {"error_code", "InternalFailure"}, {"probability", 0.3}, {"seed", 43}});
  std::vector<bool> rc;
  for (int i = 0; i < 1000; ++i) rc.push_back(c.fire(put("s")));
  EXPECT_NE(ra, rc);
  auto never = rule({{"action", "close"}, {"probability", 0.0}});
  EXPECT_EQ(fires(never, put("s"), 100), 0);
  auto always = rule({{"action", "close"}, {"probability", 1.0}});
  EXPECT_EQ(fires(always, put("s"), 100), 100);
}

TEST(FaultRule, LatencyRangeStaysInRange) {
  auto r = rule({{"action", "latency"}, {"latency_ms", 100}, {"latency_max_ms", 200}, {"seed", 7}});
  bool low = false, high = false;
  for (int i = 0; i < 500; ++i) {
    auto d = r.decision();
    ASSERT_GE(d.delay_ms, 100u);
    ASSERT_LE(d.delay_ms, 200u);
    low |= d.delay_ms < 150;
    high |= d.delay_ms >= 150;
  }
  EXPECT_TRUE(low && high);
}

TEST(FaultRule, InvalidRulesSayWhy) {
  struct Case {
    json j;
    std::string expect;
  } cases[] = {
      {json::array(), "JSON object"},
      {{{"action", "explode"}}, "unknown action"},
      {{{"error_code", "X"}}, "\"action\" is required"},
      {{{"action", "error"}}, "error_code"},
      {{{"action", "error"}, {"error_code", "X"}, {"probability", 2}}, "probability"},
      {{{"action", "latency"}}, "latency_ms"},
      {{{"action", "latency"}, {"latency_ms", 10}, {"latency_max_ms", 5}}, "latency_max_ms"},
      {{{"action", "close"}, {"stream", "a"}, {"bucket", "b"}}, "not both"},
      {{{"action", "close"}, {"colour", "red"}}, "unknown rule field"},
      {{{"action", "fail_entries"}, {"bucket", "b"}}, "PutRecords only"},
      {{{"action", "fail_entries"}, {"error_code", "Throttled"}}, "InternalFailure"},
      {{{"action", "close"}, {"shard", "nope"}}, "shard"},
      {{{"action", "close"}, {"every_nth", 0}}, "every_nth"},
      {{{"action", "error"}, {"error_code", "X"}, {"status", 99}}, "status"},
  };
  for (const auto& c : cases) {
    FaultRule r;
    std::string err;
    EXPECT_FALSE(FaultRule::from_json(c.j, 0, 1, 0, r, &err)) << c.j.dump();
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.j.dump() << " -> " << err;
  }
}

TEST(FaultRule, DefaultStatusesFollowAws) {
  EXPECT_EQ(eddy::limits::default_status("s3", "SlowDown"), 503);
  EXPECT_EQ(eddy::limits::default_status("s3", "InternalError"), 500);
  EXPECT_EQ(eddy::limits::default_status("kinesis", "InternalFailure"), 500);
  EXPECT_EQ(eddy::limits::default_status("kinesis", "KMSThrottlingException"), 400);
  EXPECT_EQ(eddy::limits::default_status("kinesis", "ServiceUnavailable"), 503);
  auto unknown = rule({{"action", "error"}, {"error_code", "SomethingElse"}});
  EXPECT_EQ(unknown.status, 400);
}

TEST(FaultEngine, FirstFiringRuleWinsAndCountsAreListed) {
  eddy::Config cfg;
  eddy::ManualClock clock(1000);
  FaultEngine e(cfg, clock);
  std::string err;
  ASSERT_TRUE(e.replace(json::parse(R"({"seed": 9, "rules": [
      {"id": "a", "stream": "s", "action": "error", "error_code": "InternalFailure", "every_nth": 2},
      {"id": "b", "action": "latency", "latency_ms": 10}]})"),
                        &err))
      << err;
  int a = 0, b = 0;
  for (int i = 0; i < 4; ++i) {
    auto d = e.evaluate(put("s"));
    ASSERT_TRUE(d.has_value());
    (d->rule_id == "a" ? a : b)++;
  }
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 2);
  auto l = e.list();
  EXPECT_EQ(l["seed"], 9);
  EXPECT_EQ(l["fired"], 4);
  EXPECT_EQ(l["rules"][0]["matched"], 4);
  EXPECT_EQ(l["rules"][0]["fired"], 2);
  EXPECT_EQ(l["rules"][1]["fired"], 2);
  EXPECT_FALSE(e.add(json{{"id", "a"}, {"action", "close"}}, &err));
  EXPECT_NE(err.find("already exists"), std::string::npos);
  EXPECT_FALSE(e.replace(json::parse(R"([{"action": "nope"}])"), &err));
  EXPECT_NE(err.find("rule 1"), std::string::npos);
  EXPECT_EQ(e.list()["rules"].size(), 2u);  // a failed replace keeps the old rules
  e.clear();
  EXPECT_FALSE(e.evaluate(put("s")).has_value());
}
