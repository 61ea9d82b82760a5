#pragma once
// The workloads eddy_load runs (kinesis_workloads.cpp, s3_workloads.cpp): each prepares the
// server (a stream, a bucket, prefilled data), makes one Connection per connection, and
// cleans up. docs/performance.md lists them.
#include <cstdint>
#include <memory>
#include <string>

#include "bench/load/engine.h"

namespace eddy::bench {

struct Options {
  std::string mode;
  Target target;
  std::string host_header;  // host:port
  // Kinesis
  std::string stream = "bench";
  int shards = 4;
  int batch = 500;
  int prefill = 100000;     // records put before getrecords
  double prefill_seconds = 120;  // ... or as many as this allows (a slow peer)
  uint64_t records = 0;     // putrecords: stop after this many records (0: run for --seconds)
  bool no_setup = false;    // no stream to create or delete (the ceiling server)
  bool keep = false;        // leave the stream (scale runs read it later)
  bool once = false;        // getrecords: read each shard from TRIM_HORIZON to its tip once
  // S3
  std::string bucket = "bench";
  uint64_t size = 100;      // record data bytes (Kinesis), object bytes (S3)
  int objects = 0;          // objects GET/HEAD cycle over (0: one per connection)
  int keys = 100000;        // keys ListObjectsV2 pages over
  uint64_t part_size = 8u << 20;
  std::string access_key = "test";
  std::string secret_key = "test";
  bool sign = false;        // real SigV4 signatures (else well-formed ones that are not checked)
  bool anonymous = false;   // no Authorization at all
  bool public_read = false; // objects put with x-amz-acl: public-read (for anonymous GETs)
  int connections = 8;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual void setup(BlockingClient&) {}
  virtual std::unique_ptr<Connection> connection(int id) = 0;
  // After the run; may add to the result (a multipart upload's completion, its time).
  virtual void teardown(BlockingClient&, EngineResult&) {}
  // Seconds the set-up took (prefills) and what it stored, reported with the result.
  double setup_seconds = 0;
  uint64_t prefilled = 0;
};

// nullptr when mode is not one of theirs.
std::unique_ptr<Workload> make_kinesis_workload(const Options& o);
std::unique_ptr<Workload> make_s3_workload(const Options& o);

// The value of a JSON member that is a number ("FailedRecordCount":3) or a string, found by
// scanning (answers are not parsed: the generator shares the machine with the server).
std::string scan_json_value(std::string_view body, std::string_view member);
// The text between <tag> and </tag>, the first occurrence at or after from.
std::string scan_xml(std::string_view body, std::string_view tag, size_t from = 0);
// Occurrences of needle in body.
size_t count_of(std::string_view body, std::string_view needle);
// The first bytes of an answer, for error reports.
std::string snippet(int status, std::string_view body);

}  // namespace eddy::bench
