#include "server/init_scripts.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace eddy {

namespace fs = std::filesystem;

const char* to_string(InitScript::State s) {
  switch (s) {
    case InitScript::State::unknown: return "UNKNOWN";
    case InitScript::State::running: return "RUNNING";
    case InitScript::State::successful: return "SUCCESSFUL";
    case InitScript::State::error: return "ERROR";
  }
  return "UNKNOWN";
}

namespace {

bool is_script(const fs::path& p) { return p.extension() == ".sh" || p.extension() == ".py"; }

// os.walk(top, topdown=True) with sorted names, as LocalStack's InitScriptManager lists a stage.
void walk(const fs::path& dir, std::vector<InitScript>& out) {
  std::vector<fs::path> files, dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code e2;
    if (entry.is_directory(e2)) dirs.push_back(entry.path());
    else if (entry.is_regular_file(e2) && is_script(entry.path())) files.push_back(entry.path());
  }
  if (ec) spdlog::warn("init: cannot list {}: {}", dir.string(), ec.message());
  std::sort(files.begin(), files.end());
  std::sort(dirs.begin(), dirs.end());
  for (auto& f : files) out.push_back(InitScript{fs::absolute(f).string(), InitScript::State::unknown, std::nullopt});
  for (auto& d : dirs) walk(d, out);
}

int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace

void InitScripts::discover() {
  std::vector<InitScript> found;
  for (const auto& d : dirs_) {
    std::error_code ec;
    if (d.empty() || !fs::is_directory(d, ec)) {
      spdlog::debug("init: no folder {}", d);
      continue;
    }
    walk(d, found);
  }
  std::lock_guard lk(mu_);
  scripts_ = std::move(found);
}

bool InitScripts::run(const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) merged.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> envp;
  envp.reserve(merged.size());
  for (const auto& [k, v] : merged) envp.push_back(k + "=" + v);

  size_t count = 0;
  {
    std::lock_guard lk(mu_);
    running_ = true;
    count = scripts_.size();
  }
  size_t failed = 0;
  for (size_t i = 0; i < count; ++i) {
    const int status = run_one(i, envp);
    if (status < 0) break;  // cancelled before it started
    std::lock_guard lk(mu_);
    InitScript& s = scripts_[i];
    s.exit_status = status;
    s.state = status == 0 ? InitScript::State::successful : InitScript::State::error;
    if (status == 0) {
      spdlog::info("init: {} exited with status 0", s.path);
    } else {
      ++failed;
      spdlog::error("init: {} exited with status {}", s.path, status);
    }
  }
  std::lock_guard lk(mu_);
  running_ = false;
  completed_ = !cancelled_;
  if (completed_ && count > 0) spdlog::info("init: ran {} ready script(s), {} failed", count, failed);
  cv_.notify_all();
  return completed_;
}

int InitScripts::run_one(size_t index, const std::vector<std::string>& envp) {
  std::unique_lock lk(mu_);
  if (cancelled_) return -1;
  const std::string path = scripts_[index].path;
  const bool python = fs::path(path).extension() == ".py";
  scripts_[index].state = InitScript::State::running;
  spdlog::info("init: running {}", path);

  std::vector<std::string> args = python ? std::vector<std::string>{"python3", path} : std::vector<std::string>{path};
  std::vector<char*> argv, env;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (const auto& e : envp) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group (so cancel() reaches the script's children too), no blocked signals
  // and default dispositions, whatever eddy's threads have set.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = 0;
  const int rc = python ? posix_spawnp(&pid, "python3", &actions, &attr, argv.data(), env.data())
                        : posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    spdlog::error("init: cannot run {}: {}{}", path, std::strerror(rc),
                  rc == EACCES ? " (a .sh script must be executable: chmod +x)" : "");
    return rc == ENOENT ? 127 : 126;
  }
  child_ = pid;
  lk.unlock();

  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  lk.lock();
  child_ = 0;
  cv_.notify_all();
  return shell_status(wait_status);
}

void InitScripts::cancel(int grace_ms) {
  std::unique_lock lk(mu_);
  cancelled_ = true;
  if (child_ == 0) return;
  kill(-child_, SIGTERM);
  if (!cv_.wait_for(lk, std::chrono::milliseconds(grace_ms), [this] { return child_ == 0; })) {
    spdlog::warn("init: {} did not end after SIGTERM; sending SIGKILL", child_);
    kill(-child_, SIGKILL);
  }
}

std::vector<InitScript> InitScripts::snapshot() const {
  std::lock_guard lk(mu_);
  return scripts_;
}

bool InitScripts::completed() const {
  std::lock_guard lk(mu_);
  return completed_;
}

}  // namespace eddy
