// Counting, persistence, series and the renderings of the metrics registry, driven directly
// through the Kinesis hooks (no HTTP) with a manual clock.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/report.h"
#include "server/http/dispatch.h"
#include "server/kinesis/kinesis_service.h"
#include "server/metrics/registry.h"
#include "server/metrics/report.h"
#include "server/metrics/s3_request_counter.h"
#include "tests/support/in_process_metrics.h"
#include "tests/support/prometheus.h"
#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"

namespace {

using namespace eddy;
using metrics::Counter;
using nlohmann::json;

using test::kT0;
using test::op_info;

metrics::PriceTable test_prices() { return test::load_prices(std::string(EDDY_SOURCE_DIR) + "/fixtures/pricing/test.json"); }

struct Harness : test::InProcessMetrics {
  kinesis::Stream stream;

  explicit Harness(uint32_t shards = 1, std::unique_ptr<store::Store> existing = nullptr)
      : InProcessMetrics(test_prices(), std::move(existing)) {
    stream.name = "orders";
    stream.created_ms = kT0;
    auto ranges = wire::even_split(shards);
    for (uint32_t i = 0; i < shards; ++i) {
      kinesis::Shard sh;
      sh.index = i;
      sh.range = ranges[i];
      sh.created_ms = kT0;
      stream.shards.push_back(sh);
    }
  }

  // One PutRecords call of `sizes.size()` records with partition key "k" (1 byte) + data.
  void put_records(const std::vector<size_t>& record_sizes, size_t failed = 0, size_t throttled = 0,
                   const char* op = "PutRecords") {
    std::vector<std::string> data;
    for (size_t s : record_sizes) data.emplace_back(s - 1, 'x');
    std::vector<kinesis::PutRecordEvent> ev;
    for (const auto& d : data)
      ev.push_back(kinesis::PutRecordEvent{"k", d, std::nullopt, stream.shards[0].range, 0});
    kinesis::OperationInfo info = op_info(op, stream.name, clock.now_ms());
    // Refused entries on shard 0: `throttled` of them throttled, the rest injected failures.
    std::vector<kinesis::PutRejection> rejected;
    for (size_t i = 0; i < std::max(failed, throttled); ++i) rejected.push_back({0, i < throttled});
    reg->after_put(info, stream, ev, rejected);
  }

  metrics::Counters totals() {
    for (const auto& sc : reg->stream_counters())
      if (sc.name == stream.name) return sc.total();
    return {};
  }
  uint64_t get(Counter c) { return totals()[static_cast<size_t>(c)]; }

  json report() {
    metrics::StreamLayout l{stream.name, false, stream.retention_hours, stream.created_ms, {}, {}};
    for (const auto& sh : stream.shards) l.shards.push_back({sh.index, sh.created_ms, sh.closed_ms});
    return metrics::build_report(*reg, {l}, clock.now_ms());
  }
};

TEST(Metrics, ExactCountsForKnownWorkload) {
  Harness h;
  // 10 PutRecords calls of 50 records of 1000 bytes (key + data).
  for (int i = 0; i < 10; ++i) h.put_records(std::vector<size_t>(50, 1000));
  EXPECT_EQ(h.get(Counter::put_records_calls), 10u);
  EXPECT_EQ(h.get(Counter::put_record_calls), 0u);
  EXPECT_EQ(h.get(Counter::put_records_entries), 500u);
  EXPECT_EQ(h.get(Counter::records), 500u);
  EXPECT_EQ(h.get(Counter::user_records), 500u);
  EXPECT_EQ(h.get(Counter::bytes_in), 500'000u);
  EXPECT_EQ(h.get(Counter::payload_units), 500u);
  EXPECT_EQ(h.get(Counter::ingest_rounded_bytes), 500u * 1024);
  json r = h.report().at("streams").at(0);
  EXPECT_EQ(r.at("records_per_put_records_call").get<double>(), 50.0);
  EXPECT_EQ(r.at("aggregation_ratio").get<double>(), 1.0);
}

TEST(Metrics, PayloadUnitsRoundUpTo25KiB) {
  struct Case {
    size_t bytes;
    uint64_t units;
  };
  for (const Case c : {Case{1, 1}, Case{25'600, 1}, Case{25'601, 2}, Case{51'200, 2}, Case{51'201, 3},
                       Case{1'048'576, 41}}) {
    Harness h;
    h.put_records({c.bytes});
    EXPECT_EQ(h.get(Counter::payload_units), c.units) << c.bytes << " bytes";
    EXPECT_EQ(h.get(Counter::ingest_rounded_bytes), (c.bytes + 1023) / 1024 * 1024) << c.bytes << " bytes";
  }
  Harness h;
  // 3 calls of 4 records: 25 KiB, 25 KiB + 1, 1 MiB and 5 KB.
  for (int i = 0; i < 3; ++i) h.put_records({25'600, 25'601, 1'048'576, 5'000});
  EXPECT_EQ(h.get(Counter::put_records_calls), 3u);
  EXPECT_EQ(h.get(Counter::records), 12u);
  EXPECT_EQ(h.get(Counter::payload_units), 3u * (1 + 2 + 41 + 1));
}

TEST(Metrics, FailedAndThrottledEntries) {
  Harness h;
  h.put_records({100, 100}, /*failed=*/3, /*throttled=*/2);       // PutRecords: failed includes throttled
  h.put_records({}, /*failed=*/0, /*throttled=*/1, "PutRecord");   // a throttled PutRecord
  h.put_records({100}, 0, 0, "PutRecord");
  EXPECT_EQ(h.get(Counter::put_records_calls), 1u);
  EXPECT_EQ(h.get(Counter::put_record_calls), 2u);
  EXPECT_EQ(h.get(Counter::put_records_entries), 5u);
  EXPECT_EQ(h.get(Counter::records), 3u);
  EXPECT_EQ(h.get(Counter::records_failed), 4u);
  EXPECT_EQ(h.get(Counter::records_throttled), 3u);
}

TEST(Metrics, ReadsAndIteratorExpiries) {
  Harness h;
  h.reg->after_read(h.stream, h.stream.shards[0], 7, 7000, kT0);
  h.reg->after_read(h.stream, h.stream.shards[0], 0, 0, kT0);
  h.reg->on_iterator_expired(h.stream, 0);
  EXPECT_EQ(h.get(Counter::get_records_calls), 2u);
  EXPECT_EQ(h.get(Counter::get_records_records), 7u);
  EXPECT_EQ(h.get(Counter::bytes_out), 7000u);
  EXPECT_EQ(h.get(Counter::iterator_expired), 1u);
}

TEST(Metrics, PerSecondSeriesFollowTheClock) {
  Harness h;
  h.put_records({10, 10, 10});
  h.clock.advance_ms(1000);
  h.put_records({10});
  h.put_records({10, 10});
  h.clock.advance_ms(2000);
  h.put_records({30'000});
  json s;
  h.reg->series_json(5, "", s);
  EXPECT_EQ(s.at("now_s").get<int64_t>(), (kT0 + 3000) / 1000);
  const json& f = s.at("streams").at("orders");
  EXPECT_EQ(f.at("records"), json({0, 3, 3, 0, 1}));
  EXPECT_EQ(f.at("put_calls"), json({0, 1, 2, 0, 1}));
  EXPECT_EQ(f.at("payload_units"), json({0, 3, 3, 0, 2}));
  // An hour later the old seconds have left the window.
  h.clock.advance_ms(3'600'000);
  h.reg->series_json(3600, "orders", s);
  uint64_t sum = 0;
  for (const auto& v : s.at("streams").at("orders").at("records")) sum += v.get<uint64_t>();
  EXPECT_EQ(sum, 0u);
}

TEST(Metrics, CountersSurviveRestartAndResetClearsThem) {
  auto h = std::make_unique<Harness>(2);
  h->put_records({100, 100});
  h->reg->after_read(h->stream, h->stream.shards[1], 1, 50, kT0);
  ASSERT_TRUE(h->reg->flush());
  // A second registry on the same store (as after a restart).
  auto store = std::move(h->store);
  h->reg.reset();
  Harness again(2, std::move(store));
  EXPECT_EQ(again.get(Counter::records), 2u);
  EXPECT_EQ(again.get(Counter::put_records_calls), 1u);
  EXPECT_EQ(again.get(Counter::bytes_out), 50u);
  EXPECT_EQ(again.reg->epoch_ms(), kT0);

  again.clock.advance_ms(5000);
  ASSERT_TRUE(again.reg->reset());
  EXPECT_EQ(again.get(Counter::records), 0u);
  EXPECT_EQ(again.reg->epoch_ms(), kT0 + 5000);
  auto store2 = std::move(again.store);
  again.reg.reset();
  Harness third(2, std::move(store2));
  EXPECT_EQ(third.get(Counter::records), 0u);
  EXPECT_EQ(third.reg->epoch_ms(), kT0 + 5000);
}

TEST(Metrics, DeletedStreamKeepsItsCounters) {
  Harness h;
  h.put_records({100});
  h.clock.advance_ms(60'000);
  h.reg->on_stream_deleted("orders");
  json r = metrics::build_report(*h.reg, {}, h.clock.now_ms());
  ASSERT_EQ(r.at("streams").size(), 1u);
  EXPECT_TRUE(r["streams"][0].at("deleted").get<bool>());
  EXPECT_EQ(r["streams"][0].at("records").get<uint64_t>(), 1u);
  EXPECT_EQ(r["streams"][0]["cost"]["projected_month"]["total"].get<double>(), 0.0);
}

// A deleted stream's per-second series and recent records are dropped with it (each stream
// name ever used would otherwise hold ~200 KiB of series); written to again under the same
// name, it counts afresh.
TEST(Metrics, DeletedStreamDropsItsSeriesAndRecentRecords) {
  Harness h;
  h.put_records({100, 100});
  h.reg->on_stream_deleted("orders");
  json s, recent;
  h.reg->series_json(5, "orders", s);
  EXPECT_EQ(s.at("streams").at("orders").at("records"), json({0, 0, 0, 0, 0}));
  h.reg->recent_json("orders", 10, recent);
  EXPECT_TRUE(recent.empty()) << recent.dump();
  h.put_records({100});
  h.reg->series_json(1, "orders", s);
  EXPECT_EQ(s.at("streams").at("orders").at("records"), json({1}));
  json r = metrics::build_report(*h.reg, {}, h.clock.now_ms());
  EXPECT_EQ(r["streams"][0].at("records").get<uint64_t>(), 3u);  // the counters stayed
}

// Parses the exposition format back: {name{labels}} -> value; checks every sample has HELP/TYPE.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  const auto p = test::parse_prometheus(text);
  EXPECT_TRUE(p.bad_lines.empty()) << p.bad_lines.front();
  for (const auto& [name, type] : p.types) EXPECT_TRUE(type == "counter" || type == "gauge") << name << " " << type;
  EXPECT_TRUE(p.undescribed.empty()) << "no HELP/TYPE before " << p.undescribed.front();
  return p.samples;
}

TEST(Metrics, PrometheusExpositionParsesBack) {
  Harness h(2);
  h.put_records({25'601, 10});
  h.put_records({10}, 0, 0, "PutRecord");
  h.reg->after_read(h.stream, h.stream.shards[1], 0, 0, kT0);
  h.reg->on_request("my-bucket", metrics::S3PricingClass::class_a, 100, 0);
  h.reg->on_stored_delta("my-bucket", 100, 1);
  h.clock.advance_ms(3'600'000);
  json report = h.report();
  auto m = parse_prometheus(metrics::render_prometheus(*h.reg, report));
  EXPECT_EQ(m["eddy_kinesis_put_records_total{stream=\"orders\",shard=\"shardId-000000000000\"}"], 3);
  EXPECT_EQ(m["eddy_kinesis_put_payload_units_total{stream=\"orders\",shard=\"shardId-000000000000\"}"], 4);
  EXPECT_EQ(m["eddy_kinesis_api_calls_total{stream=\"orders\",operation=\"PutRecords\"}"], 1);
  EXPECT_EQ(m["eddy_kinesis_api_calls_total{stream=\"orders\",operation=\"PutRecord\"}"], 1);
  EXPECT_EQ(m["eddy_kinesis_api_calls_total{stream=\"orders\",operation=\"GetRecords\"}"], 1);
  EXPECT_EQ(m["eddy_kinesis_put_records_entries_total{stream=\"orders\"}"], 2);
  EXPECT_EQ(m["eddy_kinesis_open_shards{stream=\"orders\"}"], 2);
  // 2 shards for an hour at 0.5 + 4 units at 2.
  EXPECT_DOUBLE_EQ(m["eddy_kinesis_cost_so_far{stream=\"orders\",component=\"shard_hours\"}"], 1.0);
  EXPECT_DOUBLE_EQ(m["eddy_kinesis_cost_so_far{stream=\"orders\",component=\"put_payload_units\"}"], 8.0);
  EXPECT_EQ(m["eddy_s3_requests_total{bucket=\"my-bucket\",class=\"A\"}"], 1);
  EXPECT_EQ(m["eddy_s3_stored_objects{bucket=\"my-bucket\"}"], 1);
  EXPECT_EQ(metrics::prometheus_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Metrics, ReportInEveryFormat) {
  Harness h;
  for (int i = 0; i < 4; ++i) h.put_records({25'600, 25'601});
  h.clock.advance_ms(2 * 3'600'000);
  json r = h.report();
  const json& s = r.at("streams").at(0);
  EXPECT_EQ(s.at("stream"), "orders");
  EXPECT_EQ(s.at("shards"), 1);
  EXPECT_EQ(s.at("observed_seconds").get<double>(), 7200.0);
  EXPECT_EQ(s.at("put_api_calls"), 4);
  EXPECT_EQ(s.at("records"), 8);
  EXPECT_EQ(s.at("payload_units"), 12);

  std::string text = metrics::render_text(r);
  EXPECT_NE(text.find("STREAM"), std::string::npos);
  EXPECT_NE(text.find("orders"), std::string::npos);
  EXPECT_NE(text.find("2h00m00s"), std::string::npos) << text;
  // 2 shard-hours at 0.5 + 12 units at 2 = 25.
  EXPECT_NE(text.find("25.000000"), std::string::npos) << text;

  std::string csv = metrics::render_csv(r);
  std::istringstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  auto split = [](std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    return cells;
  };
  auto hc = split(header), rc = split(row);
  ASSERT_EQ(hc.size(), rc.size()) << header << "\n" << row;
  std::map<std::string, std::string> byname;
  for (size_t i = 0; i < hc.size(); ++i) byname[hc[i]] = rc[i];
  EXPECT_EQ(byname["kind"], "stream");
  EXPECT_EQ(byname["name"], "orders");
  EXPECT_EQ(byname["records"], "8");
  EXPECT_EQ(byname["payload_units"], "12");
  EXPECT_EQ(std::stod(byname["cost_so_far"]), 25.0);
  EXPECT_EQ(std::stod(byname["cost_so_far_shard_hours"]), 1.0);
  EXPECT_EQ(std::stod(byname["cost_so_far_put_units"]), 24.0);
}

TEST(Metrics, RecentRecordsTail) {
  Harness h;
  std::vector<kinesis::PutRecordEvent> ev{{"user-1", "hello\x01world", std::nullopt, h.stream.shards[0].range, 0}};
  h.reg->after_put(op_info("PutRecord", "orders", kT0), h.stream, ev, {});
  json out;
  h.reg->recent_json("orders", 10, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["partition_key"], "user-1");
  EXPECT_EQ(out[0]["kpl"], "none");
  EXPECT_EQ(out[0]["user_records"][0]["preview"], "hello.world");
}

TEST(Metrics, RecentRecordsRingKeepsTheNewestAndReusesItsSlots) {
  Harness h;
  metrics::RegistryOptions o;
  o.recent_records = 3;
  h.reg = std::make_unique<metrics::MetricsRegistry>(h.clock, *h.store, test_prices(), o);
  const wire::HashRange range = h.stream.shards[0].range;
  // An aggregate of two user records fills a slot first; plain records then wrap over it.
  const std::string agg = wire::kpl::encode(std::vector<wire::kpl::UserRecord>{
      {"u1", std::nullopt, "first user record"}, {"u2", std::string("7"), "second"}});
  auto put = [&](std::string_view key, std::string_view data, std::optional<wire::u128> ehk) {
    std::vector<kinesis::PutRecordEvent> ev{{key, data, ehk, range, 0}};
    h.reg->after_put(op_info("PutRecord", "orders", h.clock.now_ms()), h.stream, ev, {});
    h.clock.advance_ms(1);
  };
  put("a", agg, wire::u128(5));
  put("p1", "one", std::nullopt);
  put("p2", "two", std::nullopt);
  json out;
  h.reg->recent_json("orders", 10, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2]["kpl"], "ok");
  EXPECT_EQ(out[2]["user_record_count"], 2);
  EXPECT_EQ(out[2]["explicit_hash_key"], "5");
  EXPECT_EQ(out[2]["user_records"][1]["explicit_hash_key"], "7");
  put("p3", std::string(100, 'z'), std::nullopt);  // lands in the aggregate's slot
  put("p4", "four", std::nullopt);
  h.reg->recent_json("orders", 10, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["partition_key"], "p4");
  EXPECT_EQ(out[1]["partition_key"], "p3");
  EXPECT_EQ(out[2]["partition_key"], "p2");
  EXPECT_EQ(out[1]["kpl"], "none");
  EXPECT_EQ(out[1]["user_record_count"], 1);
  EXPECT_FALSE(out[1].contains("explicit_hash_key"));
  ASSERT_EQ(out[1]["user_records"].size(), 1u);
  EXPECT_EQ(out[1]["user_records"][0]["preview"], std::string(64, 'z'));
  EXPECT_FALSE(out[1]["user_records"][0].contains("explicit_hash_key"));
  EXPECT_EQ(out[1]["arrival_ms"], kT0 + 3);
  h.reg->recent_json("orders", 1, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["partition_key"], "p4");
}

TEST(Metrics, ThroughputSvgHasOnePathPerStreamPerSeries) {
  Harness h;
  h.put_records({10, 10});
  kinesis::Stream other;
  other.name = "clicks";
  other.shards = h.stream.shards;
  h.clock.advance_ms(1000);
  std::vector<kinesis::PutRecordEvent> ev{{"k", "x", std::nullopt, other.shards[0].range, 0}};
  h.reg->after_put(op_info("PutRecords", "clicks", h.clock.now_ms()), other, ev, {});
  json series;
  h.reg->series_json(60, "", series);
  std::string svg = client::render_throughput_svg(series);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(svg.c_str())) << svg;
  pugi::xml_node root = doc.child("svg");
  ASSERT_TRUE(root);
  std::map<std::string, int> paths;
  for (auto p : root.select_nodes("//path")) {
    std::string stream = p.node().attribute("data-stream").value();
    std::string s = p.node().attribute("data-series").value();
    std::string d = p.node().attribute("d").value();
    EXPECT_EQ(d.rfind("M", 0), 0u) << d;
    paths[stream + "/" + s]++;
  }
  EXPECT_EQ(paths, (std::map<std::string, int>{
                       {"clicks/puts", 1}, {"clicks/user_records", 1}, {"orders/puts", 1}, {"orders/user_records", 1}}));
  EXPECT_NE(svg.find("orders PUTs/s"), std::string::npos);
}

}  // namespace

namespace {

eddy::http::Request s3_request(const std::string& method, const std::string& target, const std::string& host = "127.0.0.1:4566") {
  eddy::http::Request r;
  r.method = method;
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.headers.add("Host", host);
  return r;
}

TEST(S3Counting, PricingClassesAndBuckets) {
  using eddy::metrics::S3PricingClass;
  auto c = [](const std::string& m, const std::string& t, const std::string& host = "127.0.0.1:4566") {
    const auto req = s3_request(m, t, host);
    return eddy::metrics::classify_s3_request(eddy::s3::parse_request(req), req.method);
  };
  EXPECT_EQ(c("PUT", "/b/k").cls, S3PricingClass::class_a);
  EXPECT_EQ(c("PUT", "/b/k").bucket, "b");
  EXPECT_EQ(c("POST", "/b/k?uploads").cls, S3PricingClass::class_a);
  EXPECT_EQ(c("GET", "/b?list-type=2").cls, S3PricingClass::class_a);
  EXPECT_EQ(c("GET", "/b/").cls, S3PricingClass::class_a);
  EXPECT_EQ(c("GET", "/b?location").cls, S3PricingClass::class_b);
  EXPECT_EQ(c("GET", "/b/dir/k.jar").cls, S3PricingClass::class_b);
  EXPECT_EQ(c("GET", "/b/k?uploadId=1").cls, S3PricingClass::class_a);
  EXPECT_EQ(c("HEAD", "/b/k").cls, S3PricingClass::class_b);
  EXPECT_EQ(c("DELETE", "/b/k").cls, S3PricingClass::free);
  EXPECT_EQ(c("GET", "/k.jar", "repo.s3.amazonaws.com").bucket, "repo");
  EXPECT_EQ(c("GET", "/k.jar", "repo.localhost:4566").bucket, "repo");
  EXPECT_EQ(c("GET", "/").bucket, "");
  // Bucket GETs that are not listings are class B, as AWS bills them.
  EXPECT_EQ(c("GET", "/b?cors").cls, S3PricingClass::class_b);
  EXPECT_EQ(c("GET", "/b?versions").cls, S3PricingClass::class_a);
  EXPECT_EQ(c("GET", "/b?uploads").cls, S3PricingClass::class_a);
}

TEST(S3Counting, AfterResponseCountsRequestsAndBytes) {
  Harness h;
  // As App::start's S3 pipeline counts: an after-hook on whatever the operation answers.
  auto counted = [&h](eddy::http::Request& req, eddy::http::Dispatch d) {
    auto billed = eddy::metrics::classify_s3_request(eddy::s3::parse_request(req), req.method);
    eddy::http::after_response(d, [&h, billed](eddy::http::Response& res, uint64_t in) {
      eddy::metrics::count_s3_request(*h.reg, billed, res, in);
    });
    return d;
  };
  auto get = s3_request("GET", "/bkt/a");
  eddy::http::Response out;
  out.body = std::string(300, 'o');
  counted(get, eddy::http::Immediate{std::move(out)});
  auto put = s3_request("PUT", "/bkt/a");
  auto d = counted(put, eddy::http::BufferBody{1 << 20, [](eddy::http::Request&) { return eddy::http::Response{}; },
                                               [](eddy::http::Request&) { return eddy::http::Response{}; }});
  put.body = std::string(1000, 'i');
  std::get<eddy::http::BufferBody>(d).handle(put);
  auto buckets = h.reg->bucket_counters();
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].name, "bkt");
  EXPECT_EQ(buckets[0].class_a, 1u);
  EXPECT_EQ(buckets[0].class_b, 1u);
  EXPECT_EQ(buckets[0].bytes_in, 1000u);
  EXPECT_EQ(buckets[0].bytes_out, 300u);
}

}  // namespace
