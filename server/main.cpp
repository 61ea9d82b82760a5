// eddy: a local Kinesis + S3 emulator. `eddy serve` runs the server; other subcommands are
// client tools built on wire/ and client/.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "client/report.h"
#include "client/tools.h"
#include "server/app.h"
#include "server/cli_env.h"
#include "server/config.h"

namespace {

void add_serve_options(CLI::App& serve, eddy::Config& c, std::string& fsync, bool& print_config) {
  serve.set_config("--config", "", "Read these settings from a TOML/INI file (keys are the flag names, e.g. port = 4566)");
  serve.add_flag("--print-config", print_config,
                 "Print the settings eddy would run with (flags, EDDY_* variables, --config file, defaults) as a "
                 "--config file, and exit")
      ->configurable(false);
  serve.add_option("--host", c.host, "Address to listen on")->capture_default_str();
  serve.add_option("--port", c.port, "Port for every service (Kinesis, S3, admin); 0 picks a free one")
      ->capture_default_str();
  serve.add_option("--data-dir", c.data_dir, "RocksDB directory")->capture_default_str();
  serve.add_flag("--in-memory", c.in_memory, "Keep everything in memory; nothing touches the disk");
  serve.add_option("--fsync", fsync,
                   "When acknowledged writes reach the disk: always (fsync per write), interval (every "
                   "--fsync-interval-ms), never (OS decides). All survive a kill -9 of the process.")
      ->check(CLI::IsMember({"always", "interval", "never"}))
      ->capture_default_str();
  serve.add_option("--fsync-interval-ms", c.fsync_interval_ms, "WAL sync period for --fsync interval")
      ->capture_default_str();
  serve.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  serve.add_option("--threads", c.threads, "Worker threads (0: one per core)")->capture_default_str();
  serve.add_option("--create-stream-delay-ms", c.create_stream_ms,
                   "How long a new stream stays CREATING before ACTIVE")->capture_default_str();
  serve.add_option("--delete-stream-delay-ms", c.delete_stream_ms,
                   "How long a deleted stream stays DELETING before it is gone")->capture_default_str();
  serve.add_option("--update-stream-delay-ms", c.update_stream_ms,
                   "How long a stream stays UPDATING after a reshard, mode or encryption change")
      ->capture_default_str();
  serve.add_option("--register-consumer-delay-ms", c.register_consumer_ms,
                   "How long a new enhanced fan-out consumer stays CREATING before ACTIVE")->capture_default_str();
  serve.add_option("--deregister-consumer-delay-ms", c.deregister_consumer_ms,
                   "How long a deregistered consumer stays DELETING before it is gone")->capture_default_str();
  serve.add_option("--shard-limit", c.shard_limit, "Open shards allowed per account (DescribeLimits ShardLimit)")
      ->capture_default_str();
  serve.add_option("--on-demand-stream-limit", c.on_demand_stream_limit, "ON_DEMAND streams allowed per account")
      ->capture_default_str();
  serve.add_option("--account-id", c.account_id, "12-digit account id used in ARNs and messages")
      ->capture_default_str();
  serve.add_option("--region", c.region, "Region used in ARNs")->capture_default_str();
  serve.add_option("--clock", c.clock, "system, or manual (time moves only through POST /_eddy/clock)")
      ->check(CLI::IsMember({"system", "manual"}))
      ->capture_default_str();
  serve.add_option("--throttle", c.throttle,
                   "off, or aws: per-shard limits (1 MiB/s and 1000 records/s in, 5 reads/s and 2 MiB/s out) and "
                   "control-plane rate limits as AWS applies them")
      ->check(CLI::IsMember({"off", "aws"}))
      ->capture_default_str();
  serve.add_option("--throttle-stream", c.throttle_streams,
                   "Per-stream throttle override NAME:key=value,... (keys: mode, write_bytes_per_sec, "
                   "write_records_per_sec, read_calls_per_sec, read_bytes_per_sec); repeatable");
  serve.add_option("--faults", c.faults_file, "Fault-injection rules to load at start-up (JSON, as PUT /_eddy/faults)");
  serve.add_option("--fault-seed", c.fault_seed, "Seed of fault rules that set none (runs repeat)")
      ->capture_default_str();
  serve.add_option("--idle-timeout", c.idle_timeout_s, "Seconds a keep-alive connection may sit idle")
      ->capture_default_str();
  serve.add_option("--max-header-bytes", c.max_header_bytes,
                   "Largest request head (request line and headers; HTTP/2 header list) in bytes; larger: 431")
      ->check(CLI::Range(size_t{1024}, size_t{16} * 1024 * 1024))
      ->capture_default_str();
  serve.add_option("--header-timeout", c.header_timeout_s,
                   "Seconds a request head may take to arrive, from its first byte (slow clients)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve.add_option("--request-timeout", c.request_timeout_s,
                   "Seconds within which each read of a request body and each write of a response must progress")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve.add_option("--body-min-rate", c.body_min_rate,
                   "Bytes per second a request body must average after --request-timeout seconds of grace (0: no "
                   "minimum)")
      ->capture_default_str();
  serve.add_option("--max-connections", c.max_connections,
                   "Open connections beyond which a new one is answered 503 and closed (0: as many as the "
                   "file-descriptor limit allows)")
      ->capture_default_str();
  serve.add_option("--admin-token", c.admin_token,
                   "Token the admin API (/_eddy/*, not /_eddy/health) requires (Authorization: Bearer TOKEN); "
                   "generated and printed when --host is not loopback and none is given");
  serve.add_option("--pricing", c.pricing_file,
                   "Price table JSON for cost reports (default: the embedded fixtures/pricing/us-east-1.json)");
  serve.add_option("--auth", c.auth,
                   "Request authentication: off (nothing checked), any (a well-formed SigV4/SigV2 signature, not "
                   "checked), verify (signatures checked as AWS does)")
      ->check(CLI::IsMember({"off", "any", "verify"}))
      ->capture_default_str();
  serve.add_option("--credentials", c.credentials_file,
                   "Extra credentials: an AWS shared-credentials INI file and/or 'ACCESS_KEY SECRET' lines");
  serve.add_option("--access-key", c.access_key, "Static access key accepted in verify mode (empty: none)")
      ->capture_default_str();
  serve.add_option("--secret-key", c.secret_key, "Secret of --access-key")->capture_default_str();
  serve.add_option("--imds-port", c.imds_port,
                   "Start the EC2 instance-metadata emulator on this port (0: ephemeral; -1: off)")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  serve.add_flag("--imds-v2-only", c.imds_v2_only, "IMDS: refuse requests without an IMDSv2 session token (401)");
  serve.add_option("--imds-role", c.imds_role, "IMDS: the instance-profile role name")->capture_default_str();
  serve.add_option("--imds-credential-lifetime", c.imds_credential_lifetime_s,
                   "IMDS: seconds the issued temporary credentials stay valid")
      ->check(CLI::Range(int64_t{60}, int64_t{43200}))
      ->capture_default_str();
  serve.add_option("--tls-cert", c.tls_cert, "PEM certificate (chain): also serve HTTPS (with --tls-key)");
  serve.add_option("--tls-key", c.tls_key, "PEM private key for --tls-cert");
  serve.add_option("--tls-port", c.tls_port, "Port of the HTTPS listener (0: ephemeral)")->capture_default_str();
  serve.add_option("--seed", c.seed_dirs,
                   "Preload a folder at start-up (repeatable): each subfolder a bucket, its files objects, "
                   "streams.json a list of Kinesis streams (docs/s3.md)");
  serve.add_option("--init-ready-dir", c.init_ready_dirs,
                   "Run the scripts in these folders once eddy serves, in name order (*.sh executable, *.py with "
                   "python3), then print Ready. (LocalStack's ready.d hooks; docs/ci.md)")
      ->default_str("/etc/eddy/init/ready.d;/etc/localstack/init/ready.d");
  // Every flag can also come from the environment: --data-dir is EDDY_DATA_DIR (docs/ci.md).
  eddy::cli::bind_environment(serve, "EDDY_");
}

// CLI11 2.1 reads a --config file only for the top-level app and silently ignores the one set
// on a subcommand, so `eddy serve --config FILE` applies it here with CLI11's own reader and
// rules: each key is a flag name (top level or a [serve] section, '_' or '-'), a flag given on
// the command line wins, and values are validated as on the command line.
bool apply_config_file(CLI::App& serve) {
  CLI::Option* config = serve.get_config_ptr();
  if (config == nullptr || config->count() == 0) return true;
  const std::string path = config->as<std::string>();
  auto fail = [&path](const std::string& why) {
    std::fprintf(stderr, "eddy serve --config %s: %s\n", path.c_str(), why.c_str());
    return false;
  };
  try {
    auto formatter = serve.get_config_formatter();
    for (const CLI::ConfigItem& item : formatter->from_file(path)) {
      if (item.name == "++" || item.name == "--") continue;  // section open/close markers
      if (!item.parents.empty() && item.parents != std::vector<std::string>{"serve"})
        return fail("unknown section in '" + item.fullname() + "'");
      std::string name = item.name;
      std::replace(name.begin(), name.end(), '_', '-');
      CLI::Option* opt = serve.get_option_no_throw("--" + name);
      if (opt == nullptr || opt == config || !opt->get_configurable())
        return fail("unknown setting '" + item.name + "'");
      if (opt->count() > 0) continue;
      if (opt->get_expected_min() == 0) opt->add_result(opt->get_flag_value(name, formatter->to_flag(item)));
      else opt->add_result(item.inputs);
      opt->run_callback();
    }
  } catch (const CLI::Error& e) {
    return fail(e.what());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives every thread that allocates its own arena (up to 8 per core); with worker,
  // RocksDB and listener threads that is ~5 MiB of peak RSS in fragmentation for nothing.
  mallopt(M_ARENA_MAX, 2);
  // A PutRecords body (about 1 MiB from a KPL), its record blocks and its write batch come and
  // go many times a second: from the heap, kept there, instead of a fresh mmap (and a page fault
  // per 4 KiB) each time; 10 MiB bodies still get their own mmap (docs/performance.md).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  CLI::App app{"eddy: a local Kinesis + S3 emulator that tells you what AWS would have done and what it would have cost"};
  app.require_subcommand(1);
  app.set_version_flag("--version", EDDY_VERSION);

  eddy::Config config;
  std::string fsync = eddy::to_string(config.fsync);
  bool print_config = false;
  auto* serve = app.add_subcommand("serve", "Run the emulator (Kinesis JSON/CBOR, S3 REST, /_eddy admin) on one port");
  add_serve_options(*serve, config, fsync, print_config);
  // `eddy --help` lists the server's settings too: one command documents every flag.
  app.footer([serve] { return "\n" + serve->help(); });

  eddy::client::ReportOptions report_options;
  auto* report = app.add_subcommand("report", "Print a running eddy's cost report; write JSON/CSV and a throughput SVG");
  report->add_option("--endpoint", report_options.endpoint, "eddy's base URL")->capture_default_str();
  report->add_option("--format", report_options.format, "text, json or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();
  report->add_option("-o,--output", report_options.output, "Write the report to this file instead of stdout");
  report->add_option("--svg", report_options.svg_file, "Draw per-stream records/s and PUTs/s over time into this SVG file");
  report->add_option("--seconds", report_options.seconds, "Chart window in seconds (per-second history, up to 3600)")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}))
      ->capture_default_str();
  report->add_option("--admin-token", report_options.admin_token,
                     "The admin token eddy serve asks for (its --admin-token, or the one it generated and logged)")
      ->envname("EDDY_ADMIN_TOKEN");

  eddy::client::register_client_commands(app);  // tail, fetch, put, bridge (client/tools.cpp)
  CLI11_PARSE(app, argc, argv);

  if (report->parsed()) return eddy::client::run_report(report_options);

  if (serve->parsed()) {
    if (!apply_config_file(*serve)) return 2;
    if (print_config) {
      std::cout << serve->config_to_str(true, false);
      return 0;
    }
    eddy::parse_fsync_mode(fsync, config.fsync);
    // Logs go to stderr: stdout carries only the "eddy listening on" lines and "Ready.", which scripts parse.
    spdlog::set_default_logger(spdlog::stderr_color_mt("eddy"));
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    eddy::App server(config);
    std::string error;
    if (!server.start(&error)) {
      spdlog::critical("cannot start: {}", error);
      return 1;
    }
    spdlog::info("eddy {} listening on http://{}:{} ({}, fsync {})", EDDY_VERSION, config.host, server.port(),
                 config.in_memory ? "in memory" : "data in " + config.data_dir, eddy::to_string(config.fsync));
    // Scripts wait for this line to learn an ephemeral port.
    std::printf("eddy listening on %s:%u\n", config.host.c_str(), server.port());
    if (server.tls_port()) std::printf("eddy tls listening on %s:%u\n", config.host.c_str(), server.tls_port());
    if (server.imds()) std::printf("eddy imds listening on %s:%u\n", config.host.c_str(), server.imds_port());
    std::fflush(stdout);
    // LocalStack's order: the ready.d scripts run against the serving eddy, then "Ready." tells
    // whoever waits on the output (Testcontainers' LocalStack modules) that set-up is done.
    server.start_ready_scripts([] {
      std::printf("Ready.\n");
      std::fflush(stdout);
    });
    server.run_until_signal();
    spdlog::info("eddy stopped");
    return 0;
  }
  return 0;
}
