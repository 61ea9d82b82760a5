// Whole Kinesis requests through KinesisService::handle (the shared in-process harness,
// tests/support/in_process_kinesis.h), as the front end hands them over: the
// first byte picks the operation and the encoding (JSON 1.1 or CBOR 1.1), the rest is the
// body. Reaches the PutRecords fast path, the generic decoders, validation and the operations
// on stream "fuzz" (2 shards, created once).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/support/in_process_kinesis.h"

using namespace eddy;

namespace {

constexpr const char* kOps[] = {
    "PutRecords",       "PutRecord",     "GetShardIterator",      "GetRecords",
    "ListShards",       "DescribeStream", "DescribeStreamSummary", "ListStreams",
    "ListTagsForStream", "AddTagsToStream", "RemoveTagsFromStream", "DescribeLimits",
    "EnableEnhancedMonitoring", "UpdateMaxRecordSize", "SplitShard", "Bogus",
};

test::InProcessKinesis& harness() {
  // Never destroyed: at exit RocksDB's own statics may be gone before a static harness's store.
  static test::InProcessKinesis& h = *new test::InProcessKinesis;
  static const bool ready = [] {
    std::string error;
    if (!h.open(&error)) {
      std::fprintf(stderr, "open: %s\n", error.c_str());
      std::abort();
    }
    return h.call("CreateStream", R"({"StreamName":"fuzz","ShardCount":2})").status == 200 || (std::abort(), false);
  }();
  (void)ready;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto res = harness().call(kOps[data[0] & 15], std::string(reinterpret_cast<const char*>(data) + 1, size - 1),
                            (data[0] & 16) != 0 ? test::kKinesisCbor : test::kKinesisJson);
  // EDDY_FUZZ_VERBOSE=1: print every answer (to check that the seeds get where they should).
  static const bool verbose = std::getenv("EDDY_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "status %d: %.300s\n", res.status, res.body.c_str());
  if (res.status == 500) {
    std::fprintf(stderr, "status %d: %s\n", res.status, res.body.c_str());
    std::abort();
  }
  return 0;
}
