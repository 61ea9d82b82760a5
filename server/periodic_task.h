#pragma once
// The one kind of background thread eddy runs: a task repeated every `period` (the store's WAL
// sync, the metrics flush, Kinesis retention trimming). A run that throws is logged and the
// task goes on; stop() wakes the thread and joins it. Tests drive a task with run_now() instead
// of waiting for its period.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace eddy {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, std::chrono::milliseconds period, std::function<void()> fn);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread; the first run is one period from now. Once only.
  void start();
  // Wakes and joins the thread (a run under way finishes first). Idempotent; no run after it
  // returns, except by run_now().
  void stop();
  // Test hook: one run now, on the caller's thread, never at the same time as a background run.
  void run_now();
  // A run soon on the task's thread (not the caller's: an event loop hands work over this
  // way), then `done` there. Runs asked for while one waits share it. Before start() or
  // after stop() the run is made on the caller's thread instead; stop() makes the run
  // already asked for before it returns.
  void run_soon(std::function<void()> done);
  // Runs completed so far (background and run_now).
  uint64_t runs() const;
  const std::string& name() const { return name_; }

 private:
  void run_once();
  void loop();

  std::string name_;
  std::chrono::milliseconds period_;
  std::function<void()> fn_;
  std::thread thread_;
  mutable std::mutex mu_;      // stop_, runs_
  std::condition_variable cv_;
  std::mutex run_mu_;          // one run at a time
  bool stop_ = false;
  std::vector<std::function<void()>> asked_;  // run_soon's callers waiting for a run
  uint64_t runs_ = 0;
};

}  // namespace eddy
