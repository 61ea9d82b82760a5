// The cost model against the fixed test price table (fixtures/pricing/test.json):
// shard-hour 0.5, PUT payload unit 2.0 (2,000,000 per million), extended retention 0.25,
// on-demand stream-hour 1, data in 1024/GB, data out 512/GB, S3 class A 1000/1000 requests,
// class B 100/1000 requests, storage 720 per GB-month.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/kinesis/kinesis_service.h"
#include "server/metrics/registry.h"
#include "server/metrics/report.h"
#include "tests/support/in_process_metrics.h"
#include "wire/hash_key.h"

namespace {

using namespace eddy;
using nlohmann::json;

using test::kT0;
using test::op_info;
constexpr int64_t kHour = 3'600'000;

struct Model : test::InProcessMetrics {
  Model() : InProcessMetrics(test::load_prices(std::string(EDDY_SOURCE_DIR) + "/fixtures/pricing/test.json")) {}

  void put(const std::string& stream, uint32_t shard, size_t n, size_t bytes) {
    kinesis::Stream s;
    s.name = stream;
    std::string data(bytes - 1, 'x');
    std::vector<kinesis::PutRecordEvent> ev;
    for (size_t i = 0; i < n; ++i) ev.push_back({"k", data, std::nullopt, wire::HashRange{0, wire::kMaxHashKey}, shard});
    reg->after_put(op_info("PutRecords", stream, clock.now_ms()), s, ev, {});
  }
};

metrics::StreamLayout layout(const std::string& name, uint32_t shards, int64_t created, bool on_demand = false,
                             uint32_t retention = 24) {
  metrics::StreamLayout l{name, on_demand, retention, created, {}, {}};
  for (uint32_t i = 0; i < shards; ++i) l.shards.push_back({i, created, std::nullopt});
  return l;
}

TEST(Cost, ProvisionedSoFarAndProjected) {
  Model m;
  // 100 records of 30,000 bytes (2 units each) per hour... all put in the first hour.
  m.put("p", 0, 100, 30'000);
  m.put("p", 1, 100, 10);
  m.clock.advance_ms(2 * kHour);
  json r = metrics::build_report(*m.reg, {layout("p", 2, kT0)}, m.clock.now_ms());
  const json& s = r.at("streams").at(0);
  EXPECT_EQ(s.at("payload_units"), 300);
  EXPECT_EQ(s.at("user_records"), 200);
  const json& so_far = s.at("cost").at("so_far");
  EXPECT_DOUBLE_EQ(so_far.at("shard_hours").get<double>(), 2 * 2 * 0.5);     // 2 shards x 2 h
  EXPECT_DOUBLE_EQ(so_far.at("put_payload_units").get<double>(), 300 * 2.0);
  EXPECT_DOUBLE_EQ(so_far.at("extended_retention").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(so_far.at("total").get<double>(), 602.0);
  const json& month = s.at("cost").at("projected_month");
  EXPECT_DOUBLE_EQ(month.at("shard_hours").get<double>(), 2 * 720 * 0.5);
  // 300 units in 2 h -> 150 units/h -> 108,000 units in 720 h.
  EXPECT_DOUBLE_EQ(month.at("put_payload_units").get<double>(), 108'000 * 2.0);
  EXPECT_DOUBLE_EQ(month.at("total").get<double>(), 720 + 216'000);
  EXPECT_DOUBLE_EQ(s.at("cost").at("per_million_user_records").get<double>(), 602.0 / 200 * 1e6);
  EXPECT_DOUBLE_EQ(s.at("puts_per_second").get<double>(), 200.0 / 7200);
  EXPECT_DOUBLE_EQ(s.at("puts_per_second_per_shard").get<double>(), 100.0 / 7200);
  EXPECT_DOUBLE_EQ(r.at("totals").at("cost_so_far").get<double>(), 602.0);
}

TEST(Cost, ObservationStartsAtTheLaterOfCreationAndEpoch) {
  Model m;
  m.clock.advance_ms(kHour);
  // Created an hour before counting started: only the observed hour is charged.
  json r = metrics::build_report(*m.reg, {layout("old", 1, kT0 - 5 * kHour), layout("new", 1, kT0 + kHour / 2)},
                                 m.clock.now_ms());
  ASSERT_EQ(r.at("streams").size(), 2u);
  EXPECT_EQ(r["streams"][0]["stream"], "new");
  EXPECT_DOUBLE_EQ(r["streams"][0]["observed_seconds"].get<double>(), 1800.0);
  EXPECT_DOUBLE_EQ(r["streams"][0]["cost"]["so_far"]["shard_hours"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(r["streams"][1]["observed_seconds"].get<double>(), 3600.0);
  EXPECT_DOUBLE_EQ(r["streams"][1]["cost"]["so_far"]["shard_hours"].get<double>(), 0.5);
}

TEST(Cost, ClosedShardsStopCosting) {
  Model m;
  m.clock.advance_ms(2 * kHour);
  auto l = layout("r", 1, kT0);
  l.shards[0].closed_ms = kT0 + kHour;  // split after an hour into two children
  l.shards.push_back({1, kT0 + kHour, std::nullopt});
  l.shards.push_back({2, kT0 + kHour, std::nullopt});
  json r = metrics::build_report(*m.reg, {l}, m.clock.now_ms());
  EXPECT_EQ(r["streams"][0]["shards"], 2);
  EXPECT_DOUBLE_EQ(r["streams"][0]["cost"]["so_far"]["shard_hours"].get<double>(), (1 + 2) * 0.5);
}

TEST(Cost, ExtendedRetention) {
  Model m;
  m.clock.advance_ms(kHour);
  json r = metrics::build_report(*m.reg, {layout("x", 4, kT0, false, 168)}, m.clock.now_ms());
  EXPECT_DOUBLE_EQ(r["streams"][0]["cost"]["so_far"]["extended_retention"].get<double>(), 4 * 0.25);
  EXPECT_DOUBLE_EQ(r["streams"][0]["cost"]["projected_month"]["extended_retention"].get<double>(), 4 * 720 * 0.25);
}

TEST(Cost, OnDemandRoundsRecordsToOneKiB) {
  Model m;
  // 1024 records of 1,500 bytes -> 2 KiB each -> 2 MiB = 1/512 GB in.
  m.put("od", 0, 1024, 1500);
  kinesis::Stream s;
  s.name = "od";
  kinesis::Shard sh;
  m.reg->after_read(s, sh, 1024, 1024 * 1024, m.clock.now_ms());  // 1 MiB out = 1/1024 GB
  m.clock.advance_ms(kHour);
  json r = metrics::build_report(*m.reg, {layout("od", 4, kT0, true)}, m.clock.now_ms());
  const json& c = r["streams"][0]["cost"]["so_far"];
  EXPECT_EQ(r["streams"][0]["mode"], "ON_DEMAND");
  EXPECT_DOUBLE_EQ(c["on_demand_stream_hours"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(c["on_demand_data_in"].get<double>(), 1024.0 / 512);
  EXPECT_DOUBLE_EQ(c["on_demand_data_out"].get<double>(), 512.0 / 1024);
  EXPECT_DOUBLE_EQ(c["shard_hours"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(c["put_payload_units"].get<double>(), 0.0);
  const json& month = r["streams"][0]["cost"]["projected_month"];
  EXPECT_DOUBLE_EQ(month["on_demand_stream_hours"].get<double>(), 720.0);
  EXPECT_DOUBLE_EQ(month["on_demand_data_in"].get<double>(), 2.0 * 720);
}

TEST(Cost, S3BucketsByClassAndStorage) {
  Model m;
  for (int i = 0; i < 10; ++i) m.reg->on_request("b", metrics::S3PricingClass::class_a, 1024, 0);
  for (int i = 0; i < 100; ++i) m.reg->on_request("b", metrics::S3PricingClass::class_b, 0, 1024);
  m.reg->on_request("b", metrics::S3PricingClass::free, 0, 0);
  m.reg->on_stored_delta("b", 1024 * 1024 * 1024, 10);  // 1 GiB
  m.clock.advance_ms(72 * kHour);                       // a tenth of a month
  json r = metrics::build_report(*m.reg, {}, m.clock.now_ms());
  ASSERT_EQ(r.at("buckets").size(), 1u);
  const json& b = r["buckets"][0];
  EXPECT_EQ(b["class_a_requests"], 10);
  EXPECT_EQ(b["class_b_requests"], 100);
  EXPECT_EQ(b["free_requests"], 1);
  EXPECT_EQ(b["stored_objects"], 10);
  EXPECT_DOUBLE_EQ(b["storage_gb_months"].get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(b["cost"]["so_far"]["class_a"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(b["cost"]["so_far"]["class_b"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(b["cost"]["so_far"]["storage"].get<double>(), 72.0);
  EXPECT_DOUBLE_EQ(b["cost"]["projected_month"]["storage"].get<double>(), 720.0);
  EXPECT_DOUBLE_EQ(b["cost"]["projected_month"]["class_a"].get<double>(), 100.0);
}

TEST(Cost, PriceTableValidation) {
  metrics::PriceTable p;
  std::string err;
  EXPECT_FALSE(metrics::parse_price_table("{}", p, &err));
  EXPECT_NE(err.find("kinesis"), std::string::npos) << err;
  EXPECT_FALSE(metrics::parse_price_table("not json", p, &err));
  EXPECT_FALSE(metrics::load_price_table("/nonexistent/prices.json", p, &err));
  ASSERT_TRUE(metrics::load_price_table("", p, &err)) << err;
  // The embedded table is us-east-1's published list prices, as docs/metrics.md's table gives them.
  EXPECT_EQ(p.name, "aws-us-east-1");
  EXPECT_EQ(p.currency, "USD");
  EXPECT_DOUBLE_EQ(p.shard_hour, 0.015);
  EXPECT_DOUBLE_EQ(p.put_payload_unit_per_million, 0.014);
  EXPECT_EQ(p.put_payload_unit_bytes, 25600u);
  EXPECT_DOUBLE_EQ(p.extended_retention_shard_hour, 0.02);
  EXPECT_DOUBLE_EQ(p.on_demand_stream_hour, 0.04);
  EXPECT_DOUBLE_EQ(p.on_demand_ingest_per_gb, 0.08);
  EXPECT_DOUBLE_EQ(p.on_demand_retrieval_per_gb, 0.04);
  EXPECT_EQ(p.on_demand_record_rounding_bytes, 1024u);
  EXPECT_DOUBLE_EQ(p.s3_class_a_per_thousand, 0.005);
  EXPECT_DOUBLE_EQ(p.s3_class_b_per_thousand, 0.0004);
  EXPECT_DOUBLE_EQ(p.s3_storage_gb_month, 0.023);
}

}  // namespace
