#pragma once
// Composition root: storage, clock, services and the HTTP front end, wired by a Config.
// Tests start an App in-process on an ephemeral port; `eddy serve` starts one and waits.
#include <functional>
#include <memory>
#include <string>

#include "server/clock.h"
#include "server/config.h"

namespace eddy {

namespace store { class Store; }
namespace kinesis { class KinesisService; }
namespace http { class Server; }
namespace metrics { class MetricsRegistry; }
namespace limits { struct Limits; }
namespace auth { class CredentialStore; class Authenticator; class Imds; }
namespace s3 { class S3Service; }

class Router;
class InitScripts;

class App {
 public:
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Opens storage, loads state, binds the listener and starts the worker threads.
  // Returns false with a message on failure.
  bool start(std::string* error);
  // Graceful: finish in-flight requests, then flush storage.
  void stop();
  // Blocks until SIGINT/SIGTERM, then stop().
  void run_until_signal();
  // Runs the ready.d scripts (config().init_ready_dirs) on a thread of their own, against this
  // serving App, then calls `on_done` (unless stop() cut them short). Call once, after start().
  void start_ready_scripts(std::function<void()> on_done);
  // The ready.d scripts found at start() and how they ran (GET /_localstack/init).
  InitScripts& init_scripts() { return *init_scripts_; }
  // http://HOST:PORT for a client on this machine (the wildcard addresses become loopback).
  std::string local_endpoint() const;

  uint16_t port() const { return port_; }
  const Config& config() const { return config_; }
  Clock& clock() { return *clock_; }
  // Non-null when started with clock = "manual".
  ManualClock* manual_clock() { return clock_->is_manual() ? static_cast<ManualClock*>(clock_.get()) : nullptr; }
  store::Store& store() { return *store_; }
  kinesis::KinesisService& kinesis() { return *kinesis_; }
  s3::S3Service& s3() { return *s3_; }
  // Counters, series and the price table (docs/metrics.md); S3 reports through it too.
  metrics::MetricsRegistry& metrics() { return *metrics_; }
  // Throttling, control-plane limits and fault rules (docs/throttling.md).
  limits::Limits& limits() { return *limits_; }
  // Static and IMDS-issued credentials, and the authenticator every service consults.
  auth::CredentialStore& credentials() { return *credentials_; }
  auth::Authenticator& authenticator() { return *authenticator_; }
  // Null unless started with imds_port >= 0.
  auth::Imds* imds() { return imds_.get(); }
  uint16_t imds_port() const { return imds_port_; }
  // The front end (open and refused connections for /_eddy/health); null before start().
  const http::Server* server() const { return server_.get(); }
  // The token the admin API asks for: --admin-token, or the one generated because eddy listens
  // beyond loopback; empty when none is asked.
  const std::string& admin_token() const { return admin_token_; }
  // The connection cap in force: --max-connections, lowered to fit the file-descriptor limit.
  size_t max_connections() const { return max_connections_; }
  uint16_t tls_port() const { return tls_port_; }

 private:
  Config config_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<kinesis::KinesisService> kinesis_;
  std::unique_ptr<s3::S3Service> s3_;
  std::unique_ptr<metrics::MetricsRegistry> metrics_;
  std::unique_ptr<limits::Limits> limits_;
  std::unique_ptr<auth::CredentialStore> credentials_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<auth::Imds> imds_;
  uint16_t imds_port_ = 0;
  uint16_t tls_port_ = 0;
  std::unique_ptr<Router> router_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  std::string admin_token_;
  size_t max_connections_ = 0;
  bool running_ = false;
  struct Maintenance;
  std::unique_ptr<Maintenance> maintenance_;
  std::unique_ptr<InitScripts> init_scripts_;
  struct ReadyThread;
  std::unique_ptr<ReadyThread> ready_thread_;
};

}  // namespace eddy
