#pragma once
// The load generator's engine: keep-alive HTTP/1.1 connections driven as coroutines on a few
// event-loop threads, closed loop (each connection sends its next request when the last one
// is answered) or open loop (requests scheduled on a timetable; latency counted from the
// scheduled time, so a stall shows in the percentiles instead of slowing the offered load).
// Workloads (kinesis_workloads.cpp, s3_workloads.cpp) say what to send and judge each answer;
// they see no Asio: Beast and Asio stay in engine.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::bench {

// One request as it goes on the wire.
struct Request {
  std::string head;            // request line, headers and the blank line
  std::string_view body;       // sent after head; must outlive the exchange
  uint64_t stream_bytes = 0;   // instead of body: this many bytes of a fixed pattern (big uploads)
  bool head_method = false;    // a HEAD: the answer has headers only
  bool large_response = false; // read the body in pieces and keep none of it (big downloads)
};

// An answer, valid until the connection's next request.
struct Response {
  int status = 0;
  std::string_view body;  // empty for large_response
  uint64_t body_bytes = 0;
  std::string_view etag;
};

// What one answer counted for.
struct Outcome {
  uint64_t items = 0;   // records, objects, pages
  uint64_t bytes = 0;   // payload bytes moved
  uint64_t failed = 0;  // entries refused inside a 200 answer (PutRecords' FailedRecordCount)
  bool error = false;   // the request failed: a status other than 2xx, or an answer that does not add up
  std::string detail;   // what was wrong (the first few are reported)
};

// The per-connection side of a workload; used by one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  // The next request, or nullptr when this connection has nothing more to send.
  virtual const Request* next() = 0;
  virtual Outcome done(const Response& r) = 0;
};

struct Target {
  std::string host = "127.0.0.1";
  std::string port;
};

// A blocking client for set-up and tear-down (create a stream, prefill, complete an upload).
class BlockingClient {
 public:
  explicit BlockingClient(const Target& t);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;
  // Sends r and reads the answer (body kept unless r.large_response). Throws on I/O errors.
  struct Reply {
    int status = 0;
    std::string body;
    std::string etag;
  };
  Reply call(const Request& r);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct EngineOptions {
  Target target;
  int connections = 8;
  int threads = 1;
  double seconds = 10;  // closed and open loop: how long to send; 0 = until every connection is done
  double rate = 0;      // open loop: requests per second over all connections; 0 = closed loop
};

struct LatencySummary {
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

struct EngineResult {
  double seconds = 0;  // from the first request to the last answer
  double start_unix_ms = 0;  // when the clock started (the timeline's zero), for lining up with other events
  uint64_t requests = 0, ok = 0, items = 0, bytes = 0, failed = 0, errors = 0;
  std::vector<std::string> error_samples;
  LatencySummary latency;
  // Open loop: (scheduled time since start, latency) of every answered request, in µs.
  std::vector<std::pair<double, double>> timeline;
};

// Runs connections made by make(i) for i in [0, connections) and sums what they counted.
EngineResult run(const EngineOptions& o, const std::function<std::unique_ptr<Connection>(int)>& make,
                 bool keep_timeline = false);

// Percentiles of latencies (µs), sorted in place.
LatencySummary summarize(std::vector<double>& latencies_us);

// The fixed pattern big uploads are cut from (1 MiB of pseudo-random bytes).
std::string_view pattern();

}  // namespace eddy::bench
