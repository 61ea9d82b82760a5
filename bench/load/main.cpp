// eddy_load: the load generator of the side-by-side measurements (bench/run.py drives it
// against eddy, the peer emulators and the ceiling server; docs/performance.md).
//
//   eddy_load --port P --mode MODE [--seconds 10] [--inflight 8] [--rate R] [mode options]
//
// Modes: putrecords, putrecord, getrecords (Kinesis); s3-put, s3-get, s3-head, s3-list,
// s3-multipart (S3). Without --rate each connection sends its next request when the last is
// answered (peak throughput); with --rate R requests are scheduled at R per second over all
// connections (open loop) and latency counts from each request's scheduled time.
//
// Prints one JSON line: requests, items (records, objects, pages) and bytes per second,
// latency percentiles, and the failures: "errors" (requests that failed) and "failed_entries"
// (PutRecords entries refused inside a 200). Exits 3 when there was any failure.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/load/workload.h"

using nlohmann::json;
using namespace eddy::bench;

int main(int argc, char** argv) {
  CLI::App app{"eddy's load generator (Kinesis and S3)"};
  Options o;
  EngineOptions eo;
  int port = 0;
  std::string timeline_file;
  app.add_option("--host", o.target.host);
  app.add_option("--port", port)->required();
  app.add_option("--mode", o.mode)
      ->required()
      ->check(CLI::IsMember({"putrecords", "putrecord", "getrecords", "s3-put", "s3-get", "s3-head", "s3-list",
                             "s3-multipart"}));
  app.add_option("--seconds", eo.seconds, "how long to send (0: until the workload is done)");
  app.add_option("--inflight", o.connections, "connections, one request in flight each");
  app.add_option("--threads", eo.threads, "event-loop threads driving the connections");
  app.add_option("--rate", eo.rate, "open loop: requests per second over all connections (0: closed loop)");
  app.add_option("--timeline", timeline_file, "write 'scheduled_ms latency_us' of every request to this file");
  app.add_option("--stream", o.stream);
  app.add_option("--shards", o.shards);
  app.add_option("--batch", o.batch, "records per PutRecords call");
  app.add_option("--prefill", o.prefill, "records put before a getrecords run");
  app.add_option("--prefill-seconds", o.prefill_seconds, "... or as many as fit in this time (slow peers)");
  app.add_option("--records", o.records, "putrecords: stop after this many records and keep the stream");
  app.add_flag("--keep", o.keep, "Kinesis: do not delete the stream afterwards");
  app.add_flag("--once", o.once, "getrecords: read each shard to its tip once, then stop (with --seconds 0)");
  app.add_flag("--no-setup", o.no_setup, "Kinesis: no stream to create or delete (the ceiling server); S3 GET/HEAD: read what an earlier run stored");
  app.add_option("--size", o.size, "record data bytes (Kinesis), object bytes (S3)");
  app.add_option("--bucket", o.bucket);
  app.add_option("--objects", o.objects, "objects s3-get/s3-head cycle over (default: one per connection); s3-put: keys each connection overwrites in turn (default: new keys)");
  app.add_option("--keys", o.keys, "keys s3-list pages over (prefilled)");
  app.add_option("--part-size", o.part_size, "s3-multipart part bytes");
  app.add_option("--access-key", o.access_key);
  app.add_option("--secret-key", o.secret_key);
  app.add_flag("--sign", o.sign, "S3: real SigV4 signatures (default: well-formed, unchecked ones)");
  app.add_flag("--anonymous", o.anonymous, "S3: no Authorization header");
  app.add_flag("--public-read", o.public_read, "S3: objects and bucket created public-read");
  CLI11_PARSE(app, argc, argv);

  o.target.port = std::to_string(port);
  o.host_header = o.target.host + ":" + o.target.port;
  eo.target = o.target;
  eo.connections = o.connections;
  if (o.mode == "s3-multipart" || o.records) eo.seconds = 0;  // a fixed amount of work

  std::unique_ptr<Workload> w = make_kinesis_workload(o);
  if (!w) w = make_s3_workload(o);
  json out = {{"mode", o.mode}, {"connections", o.connections}, {"offered_rate", eo.rate}};
  try {
    BlockingClient client(o.target);
    w->setup(client);
    EngineResult r = run(eo, [&](int id) { return w->connection(id); }, !timeline_file.empty());
    w->teardown(client, r);
    const double s = r.seconds > 0 ? r.seconds : 1e-9;
    out.update(json{{"seconds", r.seconds},
                    {"start_unix_ms", r.start_unix_ms},
                    {"setup_seconds", w->setup_seconds},
                    {"prefilled", w->prefilled},
                    {"requests", r.requests},
                    {"requests_per_s", static_cast<double>(r.ok) / s},
                    {"items_per_s", static_cast<double>(r.items) / s},
                    {"mb_per_s", static_cast<double>(r.bytes) / 1e6 / s},
                    {"errors", r.errors},
                    {"failed_entries", r.failed},
                    {"error_samples", r.error_samples},
                    {"latency_us",
                     {{"p50", r.latency.p50_us}, {"p99", r.latency.p99_us}, {"p999", r.latency.p999_us},
                      {"max", r.latency.max_us}}}});
    if (!timeline_file.empty()) {
      std::ofstream f(timeline_file);
      for (const auto& [at, lat] : r.timeline) f << at / 1000 << ' ' << lat << '\n';
    }
    std::cout << out.dump() << std::endl;
    return (r.errors || r.failed) ? 3 : 0;
  } catch (const std::exception& e) {
    out["errors"] = 1;
    out["error_samples"] = {std::string("set-up or tear-down: ") + e.what()};
    std::cout << out.dump() << std::endl;
    return 3;
  }
}
