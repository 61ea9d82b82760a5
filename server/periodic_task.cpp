#include "server/periodic_task.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace eddy {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds period, std::function<void()> fn)
    : name_(std::move(name)), period_(period), fn_(std::move(fn)) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { loop(); });
}

void PeriodicTask::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::run_now() { run_once(); }

void PeriodicTask::run_soon(std::function<void()> done) {
  {
    std::lock_guard lk(mu_);
    if (thread_.joinable() && !stop_) {
      asked_.push_back(std::move(done));
      cv_.notify_all();
      return;
    }
  }
  run_once();
  if (done) done();
}

uint64_t PeriodicTask::runs() const {
  std::lock_guard lk(mu_);
  return runs_;
}

void PeriodicTask::run_once() {
  std::lock_guard run(run_mu_);
  try {
    fn_();
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", name_, e.what());
  } catch (...) {
    spdlog::error("{}: an exception not derived from std::exception", name_);
  }
  std::lock_guard lk(mu_);
  ++runs_;
}

void PeriodicTask::loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    // Real time: these are housekeeping, not rules tests observe through the injectable clock.
    if (asked_.empty() && !stop_) cv_.wait_for(lk, period_, [this] { return stop_ || !asked_.empty(); });
    if (stop_ && asked_.empty()) break;
    std::vector<std::function<void()>> asked;
    asked.swap(asked_);
    lk.unlock();
    run_once();
    for (auto& done : asked)
      if (done) done();
    lk.lock();
  }
}

}  // namespace eddy
