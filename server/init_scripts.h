#pragma once
// LocalStack-style init hooks: the scripts in the ready.d folders run once eddy serves, one after
// another, and their outcome is reported by GET /_localstack/init (docs/ci.md).
#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace eddy {

struct InitScript {
  enum class State { unknown, running, successful, error };
  std::string path;
  State state = State::unknown;
  // The shell's way: the exit code, 128 + the signal that ended it, 126/127 if it could not start.
  std::optional<int> exit_status;
};

// LocalStack's names for the states: UNKNOWN, RUNNING, SUCCESSFUL, ERROR.
const char* to_string(InitScript::State s);

class InitScripts {
 public:
  explicit InitScripts(std::vector<std::string> ready_dirs) : dirs_(std::move(ready_dirs)) {}

  // Lists the scripts of every folder, in folder order; within one, as LocalStack orders them:
  // a folder's files by name, then its subfolders by name, depth first. Only *.sh and *.py
  // files are scripts. Missing folders are skipped.
  void discover();

  // Runs every discovered script, one at a time (*.sh executed as is, *.py with python3),
  // with eddy's environment plus `env` (which overrides), stdin from /dev/null and stdout
  // sent to stderr (eddy's stdout is for the lines scripts parse). Logs each exit status.
  // Blocks until the last script is done or cancel() was called; returns false if cancelled.
  bool run(const std::map<std::string, std::string>& env);

  // Stops run(): no further script starts; the running one gets SIGTERM (its process group),
  // then SIGKILL if it has not ended after `grace_ms`. Safe from any thread.
  void cancel(int grace_ms = 5000);

  std::vector<InitScript> snapshot() const;
  // True once run() has gone through every script (successful or not).
  bool completed() const;

 private:
  int run_one(size_t index, const std::vector<std::string>& envp);

  std::vector<std::string> dirs_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<InitScript> scripts_;
  bool completed_ = false;
  bool cancelled_ = false;
  bool running_ = false;
  pid_t child_ = 0;  // the running script's pid (= its process group), 0 if none
};

}  // namespace eddy
