// Whole Kinesis requests through KinesisService::handle, as the Router hands them over: the
// first byte picks the operation and the encoding (JSON 1.1 or CBOR 1.1), the rest is the
// body. Reaches the PutRecords fast path, the generic decoders, validation and the operations
// on stream "fuzz" (2 shards, created once).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/in_process.h"
#include "server/kinesis/kinesis_service.h"

using namespace eddy;

namespace {

constexpr const char* kOps[] = {
    "PutRecords",       "PutRecord",     "GetShardIterator",      "GetRecords",
    "ListShards",       "DescribeStream", "DescribeStreamSummary", "ListStreams",
    "ListTagsForStream", "AddTagsToStream", "RemoveTagsFromStream", "DescribeLimits",
    "EnableEnhancedMonitoring", "UpdateMaxRecordSize", "SplitShard", "Bogus",
};

http::Request request(const char* op, bool cbor) {
  http::Request r;
  r.method = "POST";
  r.target = r.path = "/";
  r.headers.add("Content-Type", cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1");
  r.headers.add("X-Amz-Target", std::string("Kinesis_20131202.") + op);
  return r;
}

kinesis::KinesisService& service() {
  static kinesis::KinesisService& k = [] () -> kinesis::KinesisService& {
    auto& s = fuzz::app().kinesis();
    auto req = request("CreateStream", false);
    req.body = R"({"StreamName":"fuzz","ShardCount":2})";
    if (s.handle(req).status != 200) std::abort();
    return s;
  }();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& k = service();
  auto req = request(kOps[data[0] & 15], (data[0] & 16) != 0);
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto res = k.handle(req);
  // EDDY_FUZZ_VERBOSE=1: print every answer (to check that the seeds get where they should).
  static const bool verbose = std::getenv("EDDY_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "status %d: %.300s\n", res.status, res.body.c_str());
  if (res.status == 500) {
    std::fprintf(stderr, "status %d: %s\n", res.status, res.body.c_str());
    std::abort();
  }
  return 0;
}
