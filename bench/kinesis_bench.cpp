// In-process micro benchmarks (Google Benchmark): the Kinesis write path without sockets,
// and the per-record primitives it is made of. `ninja -C build eddy_bench && build/bench/eddy_bench`.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "server/app.h"
#include "server/http/message.h"
#include "server/kinesis/kinesis_service.h"
#include "wire/base64.h"
#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"

namespace {

using namespace eddy;

http::Request kinesis_request(const std::string& op, std::string body) {
  http::Request r;
  r.method = "POST";
  r.target = r.path = "/";
  r.headers.add("Content-Type", "application/x-amz-json-1.1");
  r.headers.add("X-Amz-Target", "Kinesis_20131202." + op);
  r.headers.add("X-Amz-Date", "20260101T000000Z");
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=00");
  r.body = std::move(body);
  return r;
}

std::string put_records_body(int records, int size, std::mt19937_64& rng) {
  std::string data(static_cast<size_t>(size), 'x');
  for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
  const std::string b64 = wire::base64_encode(data);
  std::string out = R"({"StreamName":"bench","Records":[)";
  for (int i = 0; i < records; ++i) {
    if (i) out += ',';
    out += R"({"PartitionKey":"pk-)" + std::to_string(rng() % 100000) + R"(","Data":")" + b64 + "\"}";
  }
  return out + "]}";
}

// An App on the in-memory store; requests go straight to KinesisService::handle.
struct InProcess {
  std::unique_ptr<App> app;
  InProcess(bool in_memory, const std::string& dir) {
    Config c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.in_memory = in_memory;
    c.data_dir = dir;
    c.log_level = "warn";
    app = std::make_unique<App>(c);
    std::string error;
    if (!app->start(&error)) throw std::runtime_error(error);
    auto req = kinesis_request("CreateStream", R"({"StreamName":"bench","ShardCount":4})");
    app->kinesis().handle(req);
  }
  ~InProcess() { app->stop(); }
};

void BM_PutRecords500x100B(benchmark::State& state) {
  InProcess p(true, "");
  std::mt19937_64 rng(1);
  std::vector<std::string> bodies;
  for (int i = 0; i < 8; ++i) bodies.push_back(put_records_body(500, 100, rng));
  size_t n = 0;
  for (auto _ : state) {
    auto req = kinesis_request("PutRecords", bodies[n++ % bodies.size()]);
    auto resp = p.app->kinesis().handle(req);
    if (resp.status != 200) state.SkipWithError(resp.body.c_str());
    benchmark::DoNotOptimize(resp.body.data());
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(BM_PutRecords500x100B)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_PutRecord100B(benchmark::State& state) {
  InProcess p(true, "");
  const std::string body = R"({"StreamName":"bench","PartitionKey":"pk-1","Data":")" +
                           wire::base64_encode(std::string(100, 'y')) + "\"}";
  for (auto _ : state) {
    auto req = kinesis_request("PutRecord", body);
    auto resp = p.app->kinesis().handle(req);
    if (resp.status != 200) state.SkipWithError(resp.body.c_str());
    benchmark::DoNotOptimize(resp.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutRecord100B)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_HashKeyOfPartitionKey(benchmark::State& state) {
  std::string key = "partition-key-12345";
  for (auto _ : state) benchmark::DoNotOptimize(wire::hash_key_of_partition_key(key));
}
BENCHMARK(BM_HashKeyOfPartitionKey);

void BM_Base64Decode100B(benchmark::State& state) {
  const std::string b64 = wire::base64_encode(std::string(100, 'z'));
  for (auto _ : state) benchmark::DoNotOptimize(wire::base64_decode(b64));
}
BENCHMARK(BM_Base64Decode100B);

void BM_KplDecode100UserRecords(benchmark::State& state) {
  wire::kpl::Aggregator agg;
  for (int i = 0; i < 100; ++i) agg.add({"key-" + std::to_string(i), std::nullopt, std::string(100, 'd')});
  const std::string aggregate = agg.encode();
  for (auto _ : state) {
    auto r = wire::kpl::decode(aggregate);
    if (r.status != wire::kpl::DecodeStatus::ok) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(r.records.data());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_KplDecode100UserRecords);

}  // namespace
