#include "client/tools.h"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "client/fetch.h"
#include "client/producer/commands.h"
#include "client/tail.h"
#include "server/cli_env.h"

namespace eddy::client {

void register_client_commands(CLI::App& app) {
  register_tail_command(app);
  register_fetch_command(app);
  producer::register_put_command(app);
  producer::register_bridge_command(app);
}

void add_session_options(CLI::App& cmd, SessionOptions& o) {
  cmd.add_option("--endpoint", o.endpoint,
                 "Service URL (eddy: http://127.0.0.1:4566); omitted: the regional AWS endpoint over HTTPS");
  cmd.add_option("--region", o.region, "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile)");
  cmd.add_option("--profile", o.profile, "Profile of the shared credentials/config files (else AWS_PROFILE)");
  cmd.add_flag(
      "--no-verify-ssl", [&o](std::int64_t) { o.verify_tls = false; },
      "Do not verify the server's TLS certificate (eddy's self-signed listener)");
  cmd.add_option_function<int64_t>(
         "--connect-timeout-ms", [&o](int64_t v) { o.http.connect_timeout = std::chrono::milliseconds(v); },
         "TCP/TLS connect timeout (default 3000)")
      ->check(CLI::PositiveNumber);
  cmd.add_option_function<int64_t>(
         "--request-timeout-ms", [&o](int64_t v) { o.http.request_timeout = std::chrono::milliseconds(v); },
         "Timeout of one request, send to last byte (default 30000)")
      ->check(CLI::PositiveNumber);
  cmd.add_option_function<int>(
         "--max-attempts",
         [&o](int v) {
           o.retry.max_attempts = v;
           o.retry.max_attempts_explicit = true;
         },
         "Tries per call, retries on 5xx/throttling included (else AWS_MAX_ATTEMPTS, else the profile's max_attempts, else 3; legacy mode 5)")
      ->check(CLI::Range(1, 100));
  cmd.add_option("--retry-mode", o.retry.mode, "standard, legacy or adaptive (client-side rate limiting once throttled) (else AWS_RETRY_MODE, else the profile's retry_mode, else standard)")
      ->check(CLI::IsMember({"standard", "legacy", "adaptive"}));
}

void bind_tool_environment(CLI::App& cmd, const std::string& tool) {
  std::string prefix = "EDDY_";
  for (char c : tool) prefix += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  prefix += '_';
  // The rule `eddy serve` uses (EDDY_DATA_DIR), with the tool's prefix: header-only, no server code.
  cli::bind_environment(cmd, prefix);
}

int fail(const std::string& tool, const std::string& message) {
  std::string line = message;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::cerr << "eddy " << tool << ": " << line << std::endl;
  return 1;
}

void run_tool(const std::string& tool, const std::function<int()>& body) {
  int rc = 1;
  try {
    rc = body();
  } catch (const std::exception& e) {
    rc = fail(tool, e.what());  // a bug, but still one line and no core dump
  }
  if (rc != 0) throw CLI::RuntimeError(rc);
}

}  // namespace eddy::client
