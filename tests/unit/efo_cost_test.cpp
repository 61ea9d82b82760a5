// Enhanced fan-out in the cost model against the test price table (fixtures/pricing/test.json):
// consumer-shard-hour 0.125, EFO data retrieved 256/GB (provisioned) and 128/GB (on-demand);
// the SubscribeToShard counters; a table without the EFO prices still loads (they are 0).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/kinesis/stream.h"
#include "server/metrics/pricing.h"
#include "server/metrics/registry.h"
#include "server/metrics/report.h"
#include "tests/support/in_process_metrics.h"

namespace {

using namespace eddy;
using nlohmann::json;
using test::kT0;
constexpr int64_t kHour = 3'600'000;
constexpr double kGiB = 1024.0 * 1024 * 1024;

struct Model : test::InProcessMetrics {
  Model() : InProcessMetrics(test::load_prices(std::string(EDDY_SOURCE_DIR) + "/fixtures/pricing/test.json")) {}
  void events(const std::string& stream, uint32_t shard, size_t n, size_t records, size_t bytes) {
    kinesis::Stream s;
    s.name = stream;
    for (size_t i = 0; i < n; ++i) reg->after_subscribe_event(s, shard, records, bytes, clock.now_ms());
  }
};

metrics::StreamLayout layout(const std::string& name, uint32_t shards, bool on_demand, std::vector<int64_t> consumers) {
  metrics::StreamLayout l{name, on_demand, 24, kT0, {}, std::move(consumers)};
  for (uint32_t i = 0; i < shards; ++i) l.shards.push_back({i, kT0, std::nullopt});
  return l;
}

TEST(EfoCost, ConsumerShardHoursAndDataRetrieved) {
  Model m;
  // 4 events of 1/4 GiB on shard 1: 1 GiB delivered.
  m.events("p", 1, 4, 10, static_cast<size_t>(kGiB / 4));
  m.clock.advance_ms(2 * kHour);
  // 2 shards; one consumer since the start, one registered an hour in.
  json r = metrics::build_report(*m.reg, {layout("p", 2, false, {kT0, kT0 + kHour})}, m.clock.now_ms());
  const json& s = r.at("streams").at(0);
  EXPECT_EQ(s.at("efo").at("consumers"), 2);
  EXPECT_DOUBLE_EQ(s.at("efo").at("consumer_shard_hours").get<double>(), 2 * 2 + 2 * 1);
  EXPECT_EQ(s.at("efo").at("events"), 4);
  EXPECT_EQ(s.at("efo").at("records"), 40);
  EXPECT_EQ(s.at("efo").at("bytes_out"), static_cast<uint64_t>(kGiB));
  const json& so_far = s.at("cost").at("so_far");
  EXPECT_DOUBLE_EQ(so_far.at("efo_consumer_shard_hours").get<double>(), 6 * 0.125);
  EXPECT_DOUBLE_EQ(so_far.at("efo_data_out").get<double>(), 256.0);
  EXPECT_DOUBLE_EQ(so_far.at("total").get<double>(), 2 * 2 * 0.5 + 6 * 0.125 + 256.0);
  const json& month = s.at("cost").at("projected_month");
  EXPECT_DOUBLE_EQ(month.at("efo_consumer_shard_hours").get<double>(), 2 * 2 * 720 * 0.125);
  EXPECT_DOUBLE_EQ(month.at("efo_data_out").get<double>(), 256.0 / 7200 * 2'592'000);
  EXPECT_DOUBLE_EQ(r.at("totals").at("cost_so_far").get<double>(), so_far.at("total").get<double>());
  // The per-shard counters, and the Prometheus families.
  const std::string prom = metrics::render_prometheus(*m.reg, r);
  EXPECT_NE(prom.find("eddy_kinesis_subscribe_bytes_total{stream=\"p\",shard=\"shardId-000000000001\"} 1073741824"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("component=\"efo_data_out\"} 256"), std::string::npos);
  EXPECT_NE(metrics::render_text(r).find("Enhanced fan-out (SubscribeToShard):"), std::string::npos);
}

TEST(EfoCost, OnDemandHasNoConsumerShardHours) {
  Model m;
  m.events("od", 0, 1, 1, static_cast<size_t>(kGiB));
  m.clock.advance_ms(kHour);
  json r = metrics::build_report(*m.reg, {layout("od", 4, true, {kT0})}, m.clock.now_ms());
  const json& so_far = r.at("streams").at(0).at("cost").at("so_far");
  EXPECT_DOUBLE_EQ(so_far.at("efo_consumer_shard_hours").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(so_far.at("efo_data_out").get<double>(), 128.0);
}

TEST(EfoCost, TablesWithoutEfoPricesStillLoad) {
  const std::string old_table = R"({"name":"old","kinesis":{
    "provisioned":{"shard_hour":1,"put_payload_unit_per_million":1,"put_payload_unit_bytes":25600,"extended_retention_shard_hour":1},
    "on_demand":{"stream_hour":1,"ingest_per_gb":1,"retrieval_per_gb":1,"record_rounding_bytes":1024}},
    "s3":{"class_a_per_thousand":1,"class_b_per_thousand":1,"storage_gb_month":1}})";
  metrics::PriceTable t;
  std::string err;
  ASSERT_TRUE(metrics::parse_price_table(old_table, t, &err)) << err;
  EXPECT_EQ(t.efo_consumer_shard_hour, 0.0);
  EXPECT_EQ(t.efo_retrieval_per_gb, 0.0);
  ASSERT_TRUE(metrics::load_price_table("", t, &err)) << err;
  EXPECT_EQ(t.efo_consumer_shard_hour, 0.015);
  EXPECT_EQ(t.efo_retrieval_per_gb, 0.013);
  EXPECT_EQ(t.on_demand_efo_retrieval_per_gb, 0.05);
  EXPECT_FALSE(metrics::parse_price_table(
      R"({"kinesis":{"provisioned":{"shard_hour":1,"put_payload_unit_per_million":1,"put_payload_unit_bytes":1,
          "extended_retention_shard_hour":1,"efo_retrieval_per_gb":-1},"on_demand":{"stream_hour":1,"ingest_per_gb":1,
          "retrieval_per_gb":1,"record_rounding_bytes":1}},"s3":{"class_a_per_thousand":1,"class_b_per_thousand":1,
          "storage_gb_month":1}})",
      t, &err));
}

}  // namespace
