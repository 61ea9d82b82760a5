#include "server/app.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/admin/admin.h"
#include "server/http/server.h"
#include "server/kinesis/kinesis_service.h"
#include "server/router.h"
#include "server/store/store.h"

namespace eddy {

struct App::Maintenance {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
};

App::App(Config config) : config_(std::move(config)) {
  if (config_.clock == "manual") clock_ = std::make_unique<ManualClock>();
  else clock_ = std::make_unique<SystemClock>();
}

App::~App() { stop(); }

bool App::start(std::string* error) {
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

  router_ = std::make_unique<Router>(*kinesis_);
  admin::register_endpoints(*router_, *this);

  http::ServerOptions ho;
  ho.threads = config_.threads;
  ho.max_header_bytes = config_.max_header_bytes;
  ho.idle_timeout_s = config_.idle_timeout_s;
  ho.request_timeout_s = config_.request_timeout_s;
  ho.shutdown_grace_s = config_.shutdown_grace_s;
  server_ = std::make_unique<http::Server>(ho);
  try {
    port_ = server_->listen(config_.host, config_.port, *router_);
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
  server_->start();
  running_ = true;

  maintenance_ = std::make_unique<Maintenance>();
  maintenance_->thread = std::thread([this] { maintenance_loop(); });
  return true;
}

void App::maintenance_loop() {
  std::unique_lock lk(maintenance_->mu);
  while (!maintenance_->stop) {
    maintenance_->cv.wait_for(lk, std::chrono::seconds(30));
    if (maintenance_->stop) break;
    lk.unlock();
    kinesis_->trim_expired();
    lk.lock();
  }
}

void App::stop() {
  if (!running_) return;
  running_ = false;
  if (maintenance_) {
    {
      std::lock_guard lk(maintenance_->mu);
      maintenance_->stop = true;
    }
    maintenance_->cv.notify_all();
    if (maintenance_->thread.joinable()) maintenance_->thread.join();
  }
  server_->stop();
  if (auto st = store_->flush(); !st) spdlog::error("flush at shutdown failed: {}", st.message);
}

void App::run_until_signal() {
  server_->wait_for_signal();
  stop();
}

}  // namespace eddy
