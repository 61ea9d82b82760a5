// LocalStack's internal endpoints (/_localstack/health, /_localstack/init) and the ready.d
// scripts behind /_localstack/init: discovery order, exit statuses, the environment a script
// gets, and stop() ending a script that is still running.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "server/init_scripts.h"
#include "tests/support/server_fixture.h"

using namespace eddy;
using namespace eddy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text, bool executable) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  ::chmod(p.c_str(), executable ? 0755 : 0644);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

class LocalStackHealth : public ServerFixture {};

TEST_F(LocalStackHealth, ReportsKinesisAndS3Running) {
  auto r = http("GET", "/_localstack/health");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto j = json::parse(r.body);
  EXPECT_EQ(j["services"], (json{{"kinesis", "running"}, {"s3", "running"}})) << r.body;
  EXPECT_EQ(j["version"], EDDY_VERSION);
  EXPECT_TRUE(j["edition"].is_string());
  EXPECT_EQ(http("HEAD", "/_localstack/health").status, 200);
  EXPECT_EQ(http("GET", "/_localstack/health?reload").status, 200);
  EXPECT_EQ(http("POST", "/_localstack/health", {}, "{\"action\":\"kill\"}").status, 405);
}

TEST_F(LocalStackHealth, OtherLocalStackPathsAre404NotS3) {
  for (const char* path : {"/_localstack", "/_localstack/", "/_localstack/nope", "/_localstack/healthz"}) {
    auto r = http("GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("<Error>"), std::string::npos) << path << " reached S3: " << r.body;
  }
}

class LocalStackInit : public ServerFixture {
 protected:
  void configure(Config& c) override {
    a_ = temp_dir("eddy-ready-a");
    b_ = temp_dir("eddy-ready-b");
    log_ = a_ / "order.log";
    // Each script appends its name and what it was given; the order is the run order.
    const std::string record = "echo \"$(basename \"$0\") $EDDY_ENDPOINT $AWS_ENDPOINT_URL $AWS_DEFAULT_REGION\" >> " +
                               log_.string() + "\n";
    write_file(a_ / "20-fail.sh", "#!/bin/sh\n" + record + "exit 3\n", true);
    write_file(a_ / "10-ok.sh", "#!/bin/sh\n" + record, true);
    write_file(a_ / "15-python.py",
               "import os\nopen('" + log_.string() + "', 'a').write('15-python.py ' + os.environ['EDDY_ENDPOINT'] + '\\n')\n",
               false);
    write_file(a_ / "30-not-executable.sh", "#!/bin/sh\n" + record, false);
    write_file(a_ / "README.txt", "not a script\n", false);
    write_file(a_ / "sub" / "05-nested.sh", "#!/bin/sh\n" + record, true);
    write_file(b_ / "01-other-folder.sh", "#!/bin/sh\n" + record + "kill -TERM $$\n", true);
    c.init_ready_dirs = {a_.string(), (a_ / "missing").string(), b_.string()};
    c.region = "eu-west-2";
  }

  json init(const std::string& path = "/_localstack/init") {
    auto r = http("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  fs::path a_, b_, log_;
};

TEST_F(LocalStackInit, ListsScriptsInLocalStackOrderBeforeTheyRun) {
  json j = init();
  EXPECT_EQ(j["completed"], (json{{"BOOT", true}, {"START", true}, {"READY", false}, {"SHUTDOWN", false}})) << j;
  std::vector<std::string> names;
  for (auto& s : j["scripts"]) {
    names.push_back(s["name"]);
    EXPECT_EQ(s["stage"], "READY");
    EXPECT_EQ(s["state"], "UNKNOWN");
    EXPECT_TRUE(s["exit_status"].is_null());
  }
  // A folder's files by name, then its subfolders; folders in the order given; *.txt is no script.
  EXPECT_EQ(names, (std::vector<std::string>{"10-ok.sh", "15-python.py", "20-fail.sh", "30-not-executable.sh",
                                             "05-nested.sh", "01-other-folder.sh"}));
  EXPECT_EQ(j["scripts"][4]["path"], (a_ / "sub" / "05-nested.sh").string());
}

TEST_F(LocalStackInit, RunsEachScriptOnceAndReportsItsExitStatus) {
  std::promise<void> done;
  app_->start_ready_scripts([&done] { done.set_value(); });
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);

  json j = init();
  EXPECT_EQ(j["completed"]["READY"], true) << j;
  std::vector<std::pair<std::string, int>> got;
  for (auto& s : j["scripts"]) {
    got.emplace_back(s["name"].get<std::string>() + " " + s["state"].get<std::string>(), s["exit_status"].get<int>());
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int>>{{"10-ok.sh SUCCESSFUL", 0},
                                                           {"15-python.py SUCCESSFUL", 0},
                                                           {"20-fail.sh ERROR", 3},
                                                           {"30-not-executable.sh ERROR", 126},
                                                           {"05-nested.sh SUCCESSFUL", 0},
                                                           {"01-other-folder.sh ERROR", 128 + SIGTERM}}));

  const std::string endpoint = "http://127.0.0.1:" + std::to_string(app_->port());
  EXPECT_EQ(read_file(log_), "10-ok.sh " + endpoint + " " + endpoint + " eu-west-2\n" +  //
                                 "15-python.py " + endpoint + "\n" +                    //
                                 "20-fail.sh " + endpoint + " " + endpoint + " eu-west-2\n" +
                                 "05-nested.sh " + endpoint + " " + endpoint + " eu-west-2\n" +
                                 "01-other-folder.sh " + endpoint + " " + endpoint + " eu-west-2\n");

  json ready = init("/_localstack/init/ready");
  EXPECT_EQ(ready["completed"], true);
  EXPECT_EQ(ready["scripts"].size(), 6u);
  EXPECT_EQ(init("/_localstack/init/READY"), ready);
  json boot = init("/_localstack/init/boot");
  EXPECT_EQ(boot, (json{{"completed", true}, {"scripts", json::array()}}));
  EXPECT_EQ(init("/_localstack/init/shutdown")["completed"], false);
  auto bad = http("GET", "/_localstack/init/later");
  EXPECT_EQ(bad.status, 404);
  EXPECT_EQ(bad.body, "no such stage later");
}

class LocalStackInitCancel : public ServerFixture {
 protected:
  void configure(Config& c) override {
    dir_ = temp_dir("eddy-ready-slow");
    // The script's child (sleep) is in its process group, so stop() ends both.
    write_file(dir_ / "01-slow.sh", "#!/bin/sh\ntouch " + (dir_ / "started").string() + "\nsleep 120\n", true);
    write_file(dir_ / "02-never.sh", "#!/bin/sh\ntouch " + (dir_ / "never").string() + "\n", true);
    c.init_ready_dirs = {dir_.string()};
  }
  fs::path dir_;
};

TEST_F(LocalStackInitCancel, StopEndsTheRunningScriptAndStartsNoOther) {
  bool done = false;
  app_->start_ready_scripts([&done] { done = true; });
  for (int i = 0; i < 600 && !fs::exists(dir_ / "started"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(dir_ / "started"));
  const auto t0 = std::chrono::steady_clock::now();
  app_->stop();
  // Well under the 120 s the script would sleep: SIGTERM reached it (no SIGKILL grace needed).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  auto scripts = app_->init_scripts().snapshot();
  ASSERT_EQ(scripts.size(), 2u);
  EXPECT_EQ(scripts[0].state, InitScript::State::error);
  EXPECT_EQ(scripts[0].exit_status, 128 + SIGTERM);
  EXPECT_EQ(scripts[1].state, InitScript::State::unknown);
  EXPECT_FALSE(fs::exists(dir_ / "never"));
  EXPECT_FALSE(done);
  EXPECT_FALSE(app_->init_scripts().completed());
}
