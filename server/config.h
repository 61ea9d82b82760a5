#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eddy {

enum class FsyncMode { always, interval, never };

// Every setting of `eddy serve`. Each is a flag, an EDDY_* variable (server/cli_env.h) and a key
// of the --config file
// ("key = value" lines, INI/TOML style, as CLI11 reads them; see the README's flags table).
struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;
  std::string data_dir = "./eddy-data";
  bool in_memory = false;
  FsyncMode fsync = FsyncMode::interval;
  int fsync_interval_ms = 1000;
  std::string log_level = "info";
  unsigned threads = 0;  // 0: one per core

  // Kinesis behaviour.
  int64_t create_stream_ms = 0;   // CREATING -> ACTIVE delay
  int64_t delete_stream_ms = 0;   // DELETING -> gone delay
  int64_t update_stream_ms = 0;   // UPDATING -> ACTIVE delay (reshards, mode changes)
  int64_t register_consumer_ms = 0;    // enhanced fan-out consumer CREATING -> ACTIVE delay
  int64_t deregister_consumer_ms = 0;  // consumer DELETING -> gone delay
  uint32_t shard_limit = 500;     // open shards per account, as DescribeLimits reports
  uint32_t on_demand_stream_limit = 50;
  std::string account_id = "000000000000";
  std::string region = "us-east-1";

  // HTTP front end.
  size_t max_header_bytes = 64 * 1024;
  // A PutRecords of 10 MiB of records is ~13.4 MiB as JSON (base64 + 500 keys); bodies up to
  // this size reach the service, which answers AWS's "Records size exceeds 10 MB limit".
  size_t max_kinesis_body_bytes = 16 * 1024 * 1024;
  int idle_timeout_s = 120;
  int request_timeout_s = 300;
  int shutdown_grace_s = 10;
  // Slow and greedy clients (docs/reliability.md): a request head must arrive within
  // header_timeout_s of its first byte; a body must keep up body_min_rate bytes/s after
  // request_timeout_s of grace (0: no minimum); past max_connections open connections a new
  // one is answered 503 and closed (0: no cap; either way no more than the file-descriptor
  // limit allows).
  int header_timeout_s = 20;
  uint64_t body_min_rate = 1024;
  size_t max_connections = 10000;
  // The admin API's token (/_eddy/*): required when set, and generated when eddy listens on
  // anything but loopback without one (docs/reliability.md, "Security").
  std::string admin_token;

  // Clock: "system" or "manual" (issue: clock control via /_eddy/clock).
  std::string clock = "system";

  // Throttling and faults (docs/throttling.md): "off" | "aws"; per-stream overrides as
  // "NAME:mode=aws,write_records_per_sec=100,..."; a fault rules file (JSON); the seed of
  // rules that give none.
  std::string throttle = "off";
  std::vector<std::string> throttle_streams;
  std::string faults_file;
  uint64_t fault_seed = 1;

  // Price table for reports (docs/metrics.md); empty: the embedded us-east-1 table.
  std::string pricing_file;

  // Authentication (docs/auth.md): off | any | verify.
  std::string auth = "any";
  std::string credentials_file;        // AWS shared-credentials INI and/or "KEY SECRET" lines
  std::string access_key = "test";
  std::string secret_key = "test";
  // Instance-metadata emulator: -1 off, 0 ephemeral port.
  int imds_port = -1;
  bool imds_v2_only = false;
  std::string imds_role = "eddy-role";
  int64_t imds_credential_lifetime_s = 3600;
  // HTTPS listener serving the same routes (both files set to enable); 0: ephemeral port.
  std::string tls_cert;
  std::string tls_key;
  uint16_t tls_port = 0;

  // S3 (docs/s3.md): folders preloaded at start-up (--seed, repeatable).
  std::vector<std::string> seed_dirs;

  // LocalStack-style ready hooks (docs/ci.md): scripts run once eddy serves, before "Ready.".
  // Folders that do not exist are skipped.
  std::vector<std::string> init_ready_dirs = {"/etc/eddy/init/ready.d", "/etc/localstack/init/ready.d"};
};

std::string to_string(FsyncMode m);
bool parse_fsync_mode(const std::string& s, FsyncMode& out);

}  // namespace eddy
