// In-process micro benchmarks (Google Benchmark): the Kinesis write path without sockets,
// and the per-record primitives it is made of. `ninja -C build eddy_bench && build/bench/eddy_bench`.
#include <benchmark/benchmark.h>

#include <random>
#include <stdexcept>
#include <string>

#include "tests/support/in_process_kinesis.h"
#include "wire/base64.h"
#include "wire/hash_key.h"
#include "wire/kpl_aggregate.h"

namespace {

using namespace eddy;

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

// The shared in-process harness (tests/support/in_process_kinesis.h) with stream "bench" of 4 shards.
struct InProcess : test::InProcessKinesis {
  InProcess() {
    std::string error;
    if (!open(&error)) throw std::runtime_error(error);
    if (call("CreateStream", R"({"StreamName":"bench","ShardCount":4})").status != 200)
      throw std::runtime_error("CreateStream failed");
  }
};

void BM_PutRecords500x100B(benchmark::State& state) {
  InProcess p;
  std::mt19937_64 rng(1);
  std::vector<std::string> bodies;
  for (int i = 0; i < 8; ++i) bodies.push_back(put_records_body(500, 100, rng));
  size_t n = 0;
  for (auto _ : state) {
    auto resp = p.call("PutRecords", bodies[n++ % bodies.size()]);
    if (resp.status != 200) state.SkipWithError(resp.body.c_str());
    benchmark::DoNotOptimize(resp.body.data());
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(BM_PutRecords500x100B)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_PutRecord100B(benchmark::State& state) {
  InProcess p;
  const std::string body = R"({"StreamName":"bench","PartitionKey":"pk-1","Data":")" +
                           wire::base64_encode(std::string(100, 'y')) + "\"}";
  for (auto _ : state) {
    auto resp = p.call("PutRecord", body);
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
