#include "server/app.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "server/admin/admin.h"
#include "server/admin_token.h"
#include "server/admin/localstack.h"
#include "server/auth/authenticator.h"
#include "server/auth/imds.h"
#include "server/http/dispatch.h"
#include "server/http/server.h"
#include "server/init_scripts.h"
#include "server/periodic_task.h"
#include "server/kinesis/kinesis_service.h"
#include "server/admin/metrics_endpoints.h"
#include "server/admin/limits_endpoints.h"
#include "server/limits/limits.h"
#include "server/metrics/registry.h"
#include "server/metrics/s3_request_counter.h"
#include "server/router.h"
#include "server/s3/s3_service.h"
#include "server/s3/seed.h"
#include "server/store/store.h"

namespace eddy {

struct App::ReadyThread {
  std::thread thread;
};

// Retention trimming, every 30 s.
struct App::Maintenance {
  explicit Maintenance(kinesis::KinesisService& k)
      : trim("kinesis retention trim", std::chrono::seconds(30), [&k] { k.trim_expired(); }) {}
  PeriodicTask trim;
};

namespace {

// Raises the soft file-descriptor limit to the hard one (each connection is one descriptor;
// a soft limit of 1,024 is common) and returns the soft limit in force.
rlim_t raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    const rlim_t before = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
      spdlog::info("file descriptor limit raised from {} to {} (the hard limit)", before, rl.rlim_cur);
    else
      rl.rlim_cur = before;
  }
  return rl.rlim_cur;
}

}  // namespace

App::App(Config config)
    : config_(std::move(config)), init_scripts_(std::make_unique<InitScripts>(config_.init_ready_dirs)) {
  if (config_.clock == "manual") clock_ = std::make_unique<ManualClock>();
  else clock_ = std::make_unique<SystemClock>();
  credentials_ = auth::make_credential_store();
  // Every key names its account (--account-id unless its profile says otherwise): S3 owners.
  authenticator_ = std::make_unique<auth::Authenticator>(auth::parse_mode(config_.auth).value_or(auth::Mode::any),
                                                         *credentials_, *clock_, config_.account_id);
}

App::~App() { stop(); }

bool App::start(std::string* error) {
  if (!auth::parse_mode(config_.auth)) {
    if (error) *error = "--auth must be off, any or verify, not '" + config_.auth + "'";
    return false;
  }
  if (!config_.access_key.empty() || !config_.secret_key.empty()) {
    if (config_.access_key.empty() || config_.secret_key.empty()) {
      if (error) *error = "--access-key and --secret-key go together";
      return false;
    }
    credentials_->add(auth::Credential{config_.access_key, config_.secret_key, {}, std::nullopt});
  }
  if (!config_.credentials_file.empty() &&
      !auth::load_credentials_file(config_.credentials_file, *credentials_, error))
    return false;
  if (config_.tls_cert.empty() != config_.tls_key.empty()) {
    if (error) *error = "--tls-cert and --tls-key go together";
    return false;
  }

  store::StoreOptions so;
  so.path = config_.data_dir;
  so.in_memory = config_.in_memory;
  so.fsync = config_.fsync;
  so.fsync_interval_ms = config_.fsync_interval_ms;
  store::Status st;
  store_ = store::Store::open(so, &st);
  if (!store_) {
    if (error) *error = st.message;
    return false;
  }
  kinesis_ = std::make_unique<kinesis::KinesisService>(config_, *clock_, *store_);
  if (!kinesis_->load(error)) return false;
  kinesis_->set_authenticator(authenticator_.get());
  maintenance_ = std::make_unique<Maintenance>(*kinesis_);  // its thread starts with the server
  // Throttle and fault settings are checked before anything starts a thread.
  limits_ = std::make_unique<limits::Limits>(config_, *clock_, *kinesis_);
  if (!limits_->start(error)) return false;
  {
    metrics::PriceTable prices;
    if (!metrics::load_price_table(config_.pricing_file, prices, error)) return false;
    metrics_ = std::make_unique<metrics::MetricsRegistry>(*clock_, *store_, std::move(prices));
    if (!metrics_->load(error)) return false;
    kinesis_->add_hooks(metrics_.get());
    metrics_->start();
  }

  s3_ = std::make_unique<s3::S3Service>(config_, *clock_, *store_);
  s3_->set_observer(metrics_.get());  // objects and bytes stored per bucket (docs/metrics.md)
  if (!s3_->load(error)) return false;
  s3_->set_authenticator(authenticator_.get());
  if (!s3::seed_from_dirs(config_.seed_dirs, *s3_, *kinesis_, error)) return false;
  // Throttling and fault rules attach after seeding: `--seed` streams are set-up, not traffic,
  // and must not meet the CreateStream rate limit or a fault rule.
  limits_->attach(*kinesis_);

  router_ = std::make_unique<Router>(*kinesis_);
  // The S3 pipeline, written once. Every S3 request meets, in this order:
  //   1. address/decode  s3::parse_request: bucket, key, virtual host or path, the AWS operation
  //                      (server/s3/s3_request.h; fault rules and metrics read the same)
  //   2. auth            S3Service::admit: InvalidURI, then SigV4/SigV2 on the headers alone
  //                      (--auth; CORS preflights are never authenticated). A refusal skips 3-4.
  //   3. before-hooks    fault rules: an error or a dropped connection answers instead of 4
  //                      (such an answer skips 5 as well)
  //   4. operation       S3Service::operate: Immediate, BufferBody (XML) or StreamBody (PUTs)
  //   5. after-hooks     on the answer, however the body is read (http::after_response): S3's
  //                      headers, the request and its bytes counted per bucket (docs/metrics.md),
  //                      a fired rule's latency/close/reset/trickle
  router_->set_s3([this](http::Request& req) -> http::Dispatch {
    const s3::S3Request s3req = s3::parse_request(req);  // 1
    auto ctx = s3_->address(req, s3req);
    http::Dispatch d;
    std::optional<limits::FaultDecision> fault;
    if (auto refused = s3_->admit(*ctx, req)) {  // 2
      d = http::Immediate{std::move(*refused)};
    } else {
      limits::FaultEngine::S3Fault f = limits_->faults.s3_fault(req, s3req);  // 3
      if (f.answer) return http::Immediate{std::move(*f.answer)};
      fault = std::move(f.apply);
      d = s3_->operate(ctx, req);  // 4
    }
    http::after_response(d, [this, ctx, billed = metrics::classify_s3_request(s3req, req.method),
                             fault = std::move(fault)](http::Response& res, uint64_t bytes_in) {  // 5
      s3::S3Service::finish(*ctx, res);
      metrics::count_s3_request(*metrics_, billed, res, bytes_in);
      if (fault) limits::apply_to_response(*fault, res);
    });
    return d;
  });
  admin::register_throttle_endpoints(*router_, *this);
  admin::register_fault_endpoints(*router_, *this);
  // POST /_eddy/clock's retention trim runs on the maintenance thread (started below; until
  // then on the caller's).
  admin::register_clock_endpoints(*router_, *this, [this](std::function<void()> done) {
    if (maintenance_) return maintenance_->trim.run_soon(std::move(done));
    kinesis_->trim_expired();
    if (done) done();
  });
  admin::register_endpoints(*router_, *this);
  admin::register_metrics_endpoints(*router_, *this);
  admin::register_localstack_endpoints(*router_, *this);
  init_scripts_->discover();
  // Beyond loopback anyone who reaches the port reaches the admin API (clock, faults,
  // throttles): it then asks for a token.
  const AdminTokenChoice admin = choose_admin_token(config_.host, config_.admin_token, random_admin_token);
  admin_token_ = admin.token;
  if (admin.beyond_loopback)
    spdlog::warn("listening on {}, not loopback: other machines can reach eddy{} (docs/reliability.md, \"Security\")",
                 config_.host,
                 config_.auth == "verify" ? "; signatures are verified (--auth verify)"
                                          : ", and --auth " + config_.auth + " checks no signature (--auth verify does)");
  if (admin.generated)
    spdlog::warn("admin API token (generated; --admin-token sets one): {}  (send Authorization: Bearer TOKEN or "
                 "X-Eddy-Admin-Token: TOKEN; /_eddy/health needs none)",
                 admin_token_);
  router_->set_admin_token(admin_token_);
  {
    // Every connection holds a descriptor; RocksDB, logs and the listeners need some too.
    const rlim_t fds = raise_fd_limit();
    const size_t fit = static_cast<size_t>(std::max<rlim_t>(64, fds - std::min<rlim_t>(1024, fds / 4)));
    max_connections_ = config_.max_connections == 0 ? fit : std::min(config_.max_connections, fit);
    if (config_.max_connections > fit)
      spdlog::warn("--max-connections {} lowered to {}: the file-descriptor limit is {} (raise ulimit -n)",
                   config_.max_connections, fit, fds);
  }

  http::ServerOptions ho;
  ho.threads = config_.threads;
  ho.max_header_bytes = config_.max_header_bytes;
  ho.idle_timeout_s = config_.idle_timeout_s;
  ho.request_timeout_s = config_.request_timeout_s;
  ho.shutdown_grace_s = config_.shutdown_grace_s;
  ho.header_timeout_s = config_.header_timeout_s;
  ho.body_min_rate = config_.body_min_rate;
  ho.max_connections = max_connections_;
  ho.now_ms = [this] { return clock_->now_ms(); };
  server_ = std::make_unique<http::Server>(ho);
  try {
    port_ = server_->listen(config_.host, config_.port, *router_);
    if (!config_.tls_cert.empty())
      tls_port_ = server_->listen_tls(config_.host, config_.tls_port, *router_, {config_.tls_cert, config_.tls_key});
    if (config_.imds_port >= 0) {
      auth::ImdsOptions io;
      io.role = config_.imds_role;
      io.credential_lifetime_s = config_.imds_credential_lifetime_s;
      io.v2_only = config_.imds_v2_only;
      io.region = config_.region;
      io.account_id = config_.account_id;
      imds_ = std::make_unique<auth::Imds>(io, *credentials_, *clock_);
      imds_port_ = server_->listen(config_.host, static_cast<uint16_t>(config_.imds_port), *imds_);
    }
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
  server_->start();
  running_ = true;

  maintenance_->trim.start();
  return true;
}

void App::start_ready_scripts(std::function<void()> on_done) {
  if (!running_ || ready_thread_) return;
  // What a LocalStack init script expects to find: an endpoint and credentials that work here.
  // Variables eddy was started with win (except EDDY_ENDPOINT, which is always this eddy).
  std::map<std::string, std::string> env{{"EDDY_ENDPOINT", local_endpoint()}};
  auto set_default = [&env](const char* name, const std::string& value) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') env[name] = value;
  };
  set_default("AWS_ENDPOINT_URL", local_endpoint());
  set_default("AWS_ACCESS_KEY_ID", config_.access_key.empty() ? "test" : config_.access_key);
  set_default("AWS_SECRET_ACCESS_KEY", config_.secret_key.empty() ? "test" : config_.secret_key);
  set_default("AWS_DEFAULT_REGION", config_.region);
  set_default("AWS_REGION", config_.region);
  if (!admin_token_.empty()) env["EDDY_ADMIN_TOKEN"] = admin_token_;
  ready_thread_ = std::make_unique<ReadyThread>();
  ready_thread_->thread = std::thread([this, env = std::move(env), on_done = std::move(on_done)] {
    if (init_scripts_->run(env) && on_done) on_done();
  });
}

std::string App::local_endpoint() const {
  std::string host = config_.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  else if (host == "::") host = "[::1]";
  else if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port_);
}

void App::stop() {
  if (!running_) return;
  running_ = false;
  // Scripts still running talk to this eddy: end them before it stops serving.
  init_scripts_->cancel();
  if (ready_thread_ && ready_thread_->thread.joinable()) ready_thread_->thread.join();
  if (maintenance_) maintenance_->trim.stop();
  server_->stop();
  if (metrics_) metrics_->stop();
  if (auto st = store_->flush(); !st) spdlog::error("flush at shutdown failed: {}", st.message);
}

void App::run_until_signal() {
  server_->wait_for_signal();
  stop();
}

}  // namespace eddy
