// A full disk (issue 16, docs/reliability.md "Full disk"): eddy's data dir on a 64 MiB tmpfs,
// S3 PUTs of 1 MiB and PutRecords until the disk is full. Then eddy is still up, the periodic
// WAL sync (the call that aborted Debian's librocksdb) runs without harm, /_eddy/health says
// "degraded" with the reason, reads answer with what was acknowledged, writes (deletes too) are
// refused, and once space returns writes come back without a restart and nothing stored is
// damaged (also across a restart, and after a stop while still full).
//
// Needs root and a kernel that lets it mount a tmpfs; skipped with a message otherwise.
#include <errno.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "server/store/store.h"
#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

uint64_t free_bytes(const fs::path& p) {
  struct statvfs st {};
  return statvfs(p.c_str(), &st) == 0 ? uint64_t(st.f_bavail) * st.f_frsize : 0;
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

}  // namespace

class DiskFull : public KinesisFixture {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "full-disk test skipped: needs root to mount a 64 MiB tmpfs";
    char tmpl[] = "/tmp/eddy-diskfull-XXXXXX";
    if (!::mkdtemp(tmpl)) GTEST_SKIP() << "full-disk test skipped: mkdtemp: " << std::strerror(errno);
    mnt_ = tmpl;
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=64m") != 0) {
      const int e = errno;
      fs::remove(mnt_);
      mnt_.clear();
      GTEST_SKIP() << "full-disk test skipped: cannot mount a tmpfs here: " << std::strerror(e);
    }
    // A file outside eddy's data dir on the same filesystem: removing it is how space returns.
    // 24 MiB: more than the 16 MiB the store wants free before it resumes, more than a
    // failed flush leaves behind.
    std::ofstream(mnt_ / "outside", std::ios::binary) << std::string(24 << 20, 'x');
    KinesisFixture::SetUp();
    ASSERT_EQ(http("PUT", "/bkt").status, 200);
    create_stream("s", 2);
  }
  void TearDown() override {
    KinesisFixture::TearDown();
    if (!mnt_.empty()) {
      ::umount2(mnt_.c_str(), MNT_DETACH);
      fs::remove(mnt_);
    }
  }
  void tune(eddy::Config& c) override {
    c.auth = "off";
    c.in_memory = false;
    c.data_dir = (mnt_ / "data").string();
  }
  eddy::store::Store& store() { return app_->store(); }
  json health() { return json::parse(http("GET", "/_eddy/health").body); }

  // 1 MiB PUTs, each followed by a PutRecords of 20 records, until a PUT is refused (at most
  // 80 rounds: the tmpfs holds 64 MiB). Remembers what was acknowledged.
  void fill() {
    std::mt19937_64 rng(16);
    for (int i = 0; i < 80; ++i) {
      const std::string key = "o" + std::to_string(i);
      std::string body = random_bytes(rng, 1 << 20);
      auto r = http("PUT", "/bkt/" + key, {}, body);
      if (r.status != 200) {
        EXPECT_EQ(r.status, 500) << r.body;
        EXPECT_NE(r.body.find("<Code>InternalError</Code>"), std::string::npos) << r.body;
        refused_key_ = key;
        break;
      }
      objects_[key] = std::move(body);
      json entries = json::array();
      std::vector<std::string> data;
      for (int j = 0; j < 20; ++j) {
        data.push_back(random_bytes(rng, 1000));
        entries.push_back({{"PartitionKey", "k" + std::to_string(j)}, {"Data", b64(data.back())}});
      }
      auto p = kinesis("PutRecords", {{"StreamName", "s"}, {"Records", entries}});
      if (p.status != 200) continue;  // refused whole (InternalFailure): nothing to remember
      for (size_t j = 0; j < data.size(); ++j) {
        const auto& e = p.body["Records"][j];
        if (e.contains("SequenceNumber")) records_[e["SequenceNumber"].get<std::string>()] = data[j];
      }
    }
    ASSERT_FALSE(refused_key_.empty()) << "the disk never filled";
    ASSERT_GT(objects_.size(), 10u);
  }

  // Every acknowledged object and record reads back with its bytes; nothing else is there.
  void verify() {
    for (const auto& [key, body] : objects_) {
      auto r = http("GET", "/bkt/" + key);
      ASSERT_EQ(r.status, 200) << key;
      EXPECT_TRUE(r.body == body) << key << " differs";
    }
    EXPECT_EQ(http("GET", "/bkt/" + refused_key_).status, 404) << "a refused PUT is visible";
    std::map<std::string, std::string> seen;
    for (int shard = 0; shard < 2; ++shard) {
      auto it = iterator("s", shard, "TRIM_HORIZON");
      for (int n = 0; n < 100 && !it.empty(); ++n) {
        auto g = ok("GetRecords", {{"ShardIterator", it}, {"Limit", 10000}});
        for (const auto& rec : g["Records"])
          seen[rec["SequenceNumber"].get<std::string>()] = rec["Data"].get<std::string>();
        if (g["Records"].empty() && g.value("MillisBehindLatest", 0) == 0) break;
        it = g.value("NextShardIterator", "");
      }
    }
    for (const auto& [seq, data] : records_) {
      auto f = seen.find(seq);
      ASSERT_NE(f, seen.end()) << "acknowledged record " << seq << " is missing";
      EXPECT_EQ(f->second, b64(data)) << seq;
    }
  }

  void free_space() {
    fs::remove(mnt_ / "outside");
    ASSERT_GT(free_bytes(mnt_), 16u << 20);
  }

  fs::path mnt_;
  std::map<std::string, std::string> objects_, records_;
  std::string refused_key_;
};

TEST_F(DiskFull, DegradedWhileFullThenWritesComeBackWithoutRestart) {
  EXPECT_EQ(health()["status"], "ok");
  fill();
  // The WAL sync that used to abort (a sync after a failed append) runs, repeatedly.
  for (int i = 0; i < 3; ++i) store().sync_now();

  auto h = health();
  EXPECT_EQ(h["status"], "degraded") << h.dump();
  EXPECT_NE(h.value("reason", "").find("disk full"), std::string::npos) << h.dump();
  EXPECT_TRUE(store().health().no_space);

  // Reads go on and see exactly what was acknowledged.
  verify();
  // Writes are refused while RocksDB is stopped, deletes too (a delete is a write): the
  // service's internal error; space has to come from outside (docs/reliability.md).
  auto d = http("DELETE", "/bkt/o0");
  EXPECT_EQ(d.status, 500) << d.body;
  auto k = kinesis("PutRecord", {{"StreamName", "s"}, {"PartitionKey", "p"}, {"Data", b64("x")}});
  EXPECT_EQ(k.status, 500) << k.raw;
  EXPECT_EQ(k.type(), "InternalFailure") << k.raw;

  // Space returns: the recovery task (run here instead of waiting for its second) resumes.
  free_space();
  ASSERT_TRUE(store().recover_now()) << store().health().reason;
  EXPECT_EQ(health()["status"], "ok");
  EXPECT_EQ(health()["storage_errors"]["recoveries"], 1);
  store().sync_now();

  // Deletes and writes work again, on the same process.
  ASSERT_EQ(http("DELETE", "/bkt/o0").status, 204);
  objects_.erase("o0");
  std::mt19937_64 rng(7);
  std::string again = random_bytes(rng, 1 << 20);
  ASSERT_EQ(http("PUT", "/bkt/" + refused_key_, {}, again).status, 200);
  objects_[refused_key_] = again;
  auto p = put("s", "p", "after");
  records_[p["SequenceNumber"].get<std::string>()] = "after";
  refused_key_ = "never-written";
  verify();

  // And all of it survives a restart.
  restart();
  verify();
}

TEST_F(DiskFull, StopWhileFullLosesNothingAcknowledged) {
  fill();
  store().sync_now();
  EXPECT_EQ(health()["status"], "degraded");
  // Stop while still full: no flush and no WAL sync at close (either would touch the failed
  // WAL), so the process exits cleanly; the WAL holds every acknowledged write.
  client_.reset();
  app_->stop();
  app_.reset();
  free_space();
  app_ = std::make_unique<eddy::App>(config_);
  std::string error;
  ASSERT_TRUE(app_->start(&error)) << error;
  client_ = std::make_unique<HttpClient>("127.0.0.1", app_->port());
  EXPECT_EQ(health()["status"], "ok");
  verify();
  ASSERT_EQ(http("PUT", "/bkt/later", {}, "later").status, 200);
}
