// Metrics over HTTP: real Kinesis calls counted, Prometheus text, the report in each format,
// reset, series and the dashboard page.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "server/app.h"
#include "tests/support/fixture_config.h"
#include "tests/support/prometheus.h"
#include "tests/support/server_fixture.h"
#include "wire/kpl_aggregate.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

class MetricsApi : public ServerFixture {
 protected:
  void configure(eddy::Config& c) override {
    c.clock = "manual";
    c.pricing_file = std::string(EDDY_SOURCE_DIR) + "/fixtures/pricing/test.json";
  }

  void put_records(const std::string& stream, int records, size_t data_bytes) {
    json entries = json::array();
    for (int i = 0; i < records; ++i)
      entries.push_back({{"PartitionKey", "k" + std::to_string(i % 10)}, {"Data", b64(std::string(data_bytes, 'd'))}});
    auto r = kinesis("PutRecords", {{"StreamName", stream}, {"Records", entries}});
    ASSERT_EQ(r.status, 200) << r.raw;
    ASSERT_EQ(r.body["FailedRecordCount"], 0);
  }

  json report() {
    auto r = http("GET", "/_eddy/report?format=json");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

};

TEST_F(MetricsApi, CountsPutRecordsCallsAndCost) {
  create_stream("orders", 2);
  // 3 calls of 20 records of 25,598 data bytes + a 2-byte key = exactly 25 KiB: 1 unit each.
  for (int i = 0; i < 3; ++i) put_records("orders", 20, 25'598);
  // And 1 PutRecord of 25 KiB + 1 byte: 2 units.
  auto r = kinesis("PutRecord", {{"StreamName", "orders"}, {"PartitionKey", "kk"}, {"Data", b64(std::string(25'599, 'z'))}});
  ASSERT_EQ(r.status, 200) << r.raw;
  app_->manual_clock()->advance_ms(3'600'000);

  json rep = report();
  ASSERT_EQ(rep["streams"].size(), 1u);
  const json& s = rep["streams"][0];
  EXPECT_EQ(s["stream"], "orders");
  EXPECT_EQ(s["put_records_calls"], 3);
  EXPECT_EQ(s["put_record_calls"], 1);
  EXPECT_EQ(s["records"], 61);
  EXPECT_EQ(s["user_records"], 61);
  EXPECT_EQ(s["payload_units"], 62);
  EXPECT_EQ(s["records_per_put_records_call"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(s["cost"]["so_far"]["shard_hours"].get<double>(), 1.0);   // 2 shards x 1 h x 0.5
  EXPECT_DOUBLE_EQ(s["cost"]["so_far"]["put_payload_units"].get<double>(), 124.0);
  EXPECT_DOUBLE_EQ(s["cost"]["projected_month"]["shard_hours"].get<double>(), 720.0);
  EXPECT_DOUBLE_EQ(s["cost"]["projected_month"]["put_payload_units"].get<double>(), 124.0 * 720);

  auto p = http("GET", "/_eddy/metrics");
  ASSERT_EQ(p.status, 200);
  EXPECT_NE(p.header("content-type").find("text/plain; version=0.0.4"), std::string::npos);
  auto m = parse_prometheus(p.body).samples;
  double total = 0;
  for (const auto& [k, v] : m)
    if (k.rfind("eddy_kinesis_put_records_total{stream=\"orders\",shard=", 0) == 0) total += v;
  EXPECT_EQ(total, 61);
  EXPECT_EQ((m["eddy_kinesis_api_calls_total{stream=\"orders\",operation=\"PutRecords\"}"]), 3);
  EXPECT_NE(p.body.find("# TYPE eddy_kinesis_put_records_total counter"), std::string::npos);
}

TEST_F(MetricsApi, ReadsAndKplAggregatesOverTheWire) {
  create_stream("k", 1);
  std::vector<eddy::wire::kpl::UserRecord> users;
  for (int i = 0; i < 7; ++i) users.push_back({"user-" + std::to_string(i), std::nullopt, "payload"});
  auto agg = eddy::wire::kpl::encode(users);
  auto r = kinesis("PutRecords", {{"StreamName", "k"},
                                  {"Records", json::array({{{"PartitionKey", "a"}, {"ExplicitHashKey", "1"}, {"Data", b64(agg)}}})}});
  ASSERT_EQ(r.status, 200) << r.raw;
  auto it = kinesis("GetShardIterator", {{"StreamName", "k"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "TRIM_HORIZON"}});
  ASSERT_EQ(it.status, 200) << it.raw;
  auto g = kinesis("GetRecords", {{"ShardIterator", it.body["ShardIterator"]}});
  ASSERT_EQ(g.status, 200) << g.raw;
  json s = report()["streams"][0];
  EXPECT_EQ(s["records"], 1);
  EXPECT_EQ(s["user_records"], 7);
  EXPECT_EQ(s["aggregation_ratio"].get<double>(), 7.0);
  EXPECT_EQ(s["get_records_calls"], 1);
  EXPECT_EQ(s["get_records_records"], 1);

  auto recent = http("GET", "/_eddy/metrics/recent?stream=k&limit=5");
  ASSERT_EQ(recent.status, 200);
  json rj = json::parse(recent.body);
  ASSERT_EQ(rj["records"].size(), 1u);
  EXPECT_TRUE(rj["records"][0]["kpl_outer_key"].get<bool>());
  EXPECT_EQ(rj["records"][0]["user_records"][6]["partition_key"], "user-6");
}

TEST_F(MetricsApi, ReportFormatsAndErrors) {
  create_stream("s", 1);
  put_records("s", 3, 10);
  auto text = http("GET", "/_eddy/report?format=text");
  EXPECT_EQ(text.status, 200);
  EXPECT_NE(text.body.find("STREAM"), std::string::npos);
  auto def = http("GET", "/_eddy/report");
  EXPECT_EQ(def.body, text.body);
  auto csv = http("GET", "/_eddy/report?format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.header("content-type").find("text/csv"), std::string::npos);
  EXPECT_EQ(csv.body.rfind("kind,name,mode,shards,", 0), 0u) << csv.body;
  EXPECT_NE(csv.body.find("\r\nstream,s,PROVISIONED,1,"), std::string::npos) << csv.body;
  EXPECT_EQ(http("GET", "/_eddy/report?format=xml").status, 400);
  EXPECT_EQ(http("POST", "/_eddy/report").status, 405);
  EXPECT_EQ(http("GET", "/_eddy/metrics/reset").status, 405);
  EXPECT_EQ(http("GET", "/_eddy/metrics/recent").status, 400);
  EXPECT_EQ(http("GET", "/_eddy/metricsx").status, 404);
}

TEST_F(MetricsApi, ResetClearsCounters) {
  create_stream("s", 1);
  put_records("s", 5, 10);
  EXPECT_EQ(report()["streams"][0]["records"], 5);
  auto r = http("POST", "/_eddy/metrics/reset");
  ASSERT_EQ(r.status, 200) << r.body;
  json s = report()["streams"][0];
  EXPECT_EQ(s["records"], 0);
  EXPECT_EQ(s["stream"], "s");  // the stream is still there, counting from now
}

TEST_F(MetricsApi, SeriesPerSecond) {
  create_stream("s", 1);
  put_records("s", 4, 10);
  app_->manual_clock()->advance_ms(1000);
  put_records("s", 2, 10);
  auto r = http("GET", "/_eddy/metrics/series?seconds=3&stream=s");
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["streams"]["s"]["records"], json({0, 4, 2}));
  EXPECT_EQ(j["streams"]["s"]["put_calls"], json({0, 1, 1}));
}

TEST_F(MetricsApi, DashboardIsServed) {
  auto page = http("GET", "/_eddy/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("/_eddy/dashboard/app.js"), std::string::npos);
  EXPECT_EQ(page.body.find("http://"), std::string::npos);  // nothing from elsewhere
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  auto js = http("GET", "/_eddy/dashboard/app.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_NE(js.body.find("/_eddy/report?format=json"), std::string::npos);
  EXPECT_EQ(http("GET", "/_eddy/dashboard/style.css").status, 200);
  EXPECT_EQ(http("GET", "/_eddy/dashboard/nope.js").status, 404);
}

class MetricsRestart : public ServerFixture {
 protected:
  void configure(eddy::Config& c) override {
    use_disk_store(c, temp_dir("eddy-metrics"));
  }
};

TEST_F(MetricsRestart, CountersSurviveARestart) {
  create_stream("keep", 1);
  auto r = kinesis("PutRecord", {{"StreamName", "keep"}, {"PartitionKey", "p"}, {"Data", b64("hello")}});
  ASSERT_EQ(r.status, 200) << r.raw;
  restart();
  auto rep = http("GET", "/_eddy/report?format=json");
  json s = json::parse(rep.body)["streams"][0];
  EXPECT_EQ(s["stream"], "keep");
  EXPECT_EQ(s["records"], 1);
  EXPECT_EQ(s["put_record_calls"], 1);
}

}  // namespace
