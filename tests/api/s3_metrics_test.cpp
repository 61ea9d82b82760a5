// Objects and bytes stored per bucket, as the S3 service reports them to the metrics registry:
// exact after every kind of write and delete, in Prometheus and in the report (storage
// GB-months priced from the test price table), across a reset and a restart.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "server/app.h"
#include "tests/support/fixture_config.h"
#include "tests/support/prometheus.h"
#include "tests/support/server_fixture.h"
#include "wire/checksum.h"

using nlohmann::json;

namespace eddy::test {
namespace {

namespace ck = wire::checksum;

std::string xml_text(const std::string& body, const std::string& element) {
  const auto open = body.find("<" + element + ">");
  if (open == std::string::npos) return {};
  const auto start = open + element.size() + 2;
  return body.substr(start, body.find("</" + element + ">", start) - start);
}

class S3Metrics : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "off";
    c.clock = "manual";
    c.pricing_file = std::string(EDDY_SOURCE_DIR) + "/fixtures/pricing/test.json";
  }

  void put(const std::string& target, const std::string& body, const std::vector<std::pair<std::string, std::string>>& h = {}) {
    auto r = http("PUT", target, h, body);
    ASSERT_EQ(r.status, 200) << target << ": " << r.body;
  }

  // {bytes, objects} from the Prometheus text.
  std::pair<double, double> stored(const std::string& bucket) {
    auto r = http("GET", "/_eddy/metrics");
    EXPECT_EQ(r.status, 200);
    const std::map<std::string, double> m = eddy::test::parse_prometheus(r.body).samples;
    const std::string label = "{bucket=\"" + bucket + "\"}";
    auto bytes = m.find("eddy_s3_stored_bytes" + label), objects = m.find("eddy_s3_stored_objects" + label);
    EXPECT_TRUE(bytes != m.end() && objects != m.end()) << r.body;
    if (bytes == m.end() || objects == m.end()) return {-1, -1};
    return {bytes->second, objects->second};
  }

  json bucket_report(const std::string& bucket) {
    auto r = http("GET", "/_eddy/report?format=json");
    EXPECT_EQ(r.status, 200);
    const json report = json::parse(r.body);
    for (const auto& b : report["buckets"])
      if (b["bucket"] == bucket) return b;
    ADD_FAILURE() << "no bucket " << bucket << " in " << r.body;
    return json::object();
  }
};

using Stored = std::pair<double, double>;

TEST_F(S3Metrics, StoredObjectsAndBytesFollowEveryWrite) {
  ASSERT_EQ(http("PUT", "/mmm").status, 200);
  EXPECT_EQ(stored("mmm"), Stored(0, 0));
  put("/mmm/a", std::string(1000, 'a'));
  put("/mmm/b", std::string(500, 'b'));
  EXPECT_EQ(stored("mmm"), Stored(1500, 2));
  put("/mmm/a", std::string(300, 'A'));  // overwrite: the size difference, no new object
  EXPECT_EQ(stored("mmm"), Stored(800, 2));
  put("/mmm/c", "", {{"x-amz-copy-source", "/mmm/a"}});
  EXPECT_EQ(stored("mmm"), Stored(1100, 3));
  put("/mmm/b", "", {{"x-amz-copy-source", "/mmm/a"}});  // copy over an existing key
  EXPECT_EQ(stored("mmm"), Stored(900, 3));

  // Multipart: parts are not stored objects until completed; completing over a key replaces it.
  auto r = http("POST", "/mmm/c?uploads");
  ASSERT_EQ(r.status, 200);
  const std::string id = xml_text(r.body, "UploadId");
  r = http("PUT", "/mmm/c?partNumber=1&uploadId=" + id, {}, std::string(5 * 1024 * 1024, 'p'));
  ASSERT_EQ(r.status, 200);
  const std::string e1 = r.header("etag");
  r = http("PUT", "/mmm/c?partNumber=2&uploadId=" + id, {}, std::string(100, 'q'));
  ASSERT_EQ(r.status, 200);
  const std::string e2 = r.header("etag");
  EXPECT_EQ(stored("mmm"), Stored(900, 3));
  r = http("POST", "/mmm/c?uploadId=" + id, {},
           "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + e1 +
               "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>" + e2 + "</ETag></Part></CompleteMultipartUpload>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stored("mmm"), Stored(900 - 300 + 5 * 1024 * 1024 + 100, 3));
  // Completing again (S3 answers 200) changes nothing.
  r = http("POST", "/mmm/c?uploadId=" + id, {},
           "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + e1 +
               "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>" + e2 + "</ETag></Part></CompleteMultipartUpload>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stored("mmm"), Stored(600 + 5 * 1024 * 1024 + 100, 3));

  EXPECT_EQ(http("DELETE", "/mmm/c").status, 204);
  EXPECT_EQ(stored("mmm"), Stored(600, 2));
  EXPECT_EQ(http("DELETE", "/mmm/c").status, 204);  // deleting nothing changes nothing
  EXPECT_EQ(stored("mmm"), Stored(600, 2));
  const std::string del = "<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>missing</Key></Object></Delete>";
  r = http("POST", "/mmm?delete", {{"Content-MD5", ck::digest_base64(ck::Algorithm::md5, del)}}, del);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stored("mmm"), Stored(300, 1));
  EXPECT_EQ(http("DELETE", "/mmm/b").status, 204);
  EXPECT_EQ(http("DELETE", "/mmm").status, 204);
  EXPECT_EQ(stored("mmm"), Stored(0, 0));
  // Another bucket is counted on its own.
  ASSERT_EQ(http("PUT", "/other").status, 200);
  put("/other/x", "xyz");
  EXPECT_EQ(stored("other"), Stored(3, 1));
  EXPECT_EQ(stored("mmm"), Stored(0, 0));
}

TEST_F(S3Metrics, StorageIsPricedByGbMonth) {
  ASSERT_EQ(http("PUT", "/stt").status, 200);
  put("/stt/mib", std::string(1024 * 1024, 'm'));
  // 1 MiB for 1024 hours = 1/720 GB-month; test.json prices a GB-month at 720.
  app_->manual_clock()->advance_ms(1024LL * 3600 * 1000);
  json b = bucket_report("stt");
  EXPECT_EQ(b["stored_bytes"], 1024 * 1024);
  EXPECT_EQ(b["stored_objects"], 1);
  EXPECT_DOUBLE_EQ(b["storage_gb_months"].get<double>(), 1.0 / 720.0);
  EXPECT_DOUBLE_EQ(b["cost"]["so_far"]["storage"].get<double>(), 1.0);
  // A month of what is stored now: 1/1024 GB x 720.
  EXPECT_DOUBLE_EQ(b["cost"]["projected_month"]["storage"].get<double>(), 720.0 / 1024.0);
  // Deleted, it stops costing: another 1024 hours add nothing.
  EXPECT_EQ(http("DELETE", "/stt/mib").status, 204);
  app_->manual_clock()->advance_ms(1024LL * 3600 * 1000);
  b = bucket_report("stt");
  EXPECT_DOUBLE_EQ(b["cost"]["so_far"]["storage"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(b["cost"]["projected_month"]["storage"].get<double>(), 0.0);
  auto r = http("GET", "/_eddy/report?format=csv");
  EXPECT_NE(r.body.find("bucket"), std::string::npos);
}

TEST_F(S3Metrics, ResetKeepsWhatIsStored) {
  ASSERT_EQ(http("PUT", "/keep").status, 200);
  put("/keep/k", std::string(2048, 'k'));
  ASSERT_EQ(http("POST", "/_eddy/metrics/reset").status, 200);
  EXPECT_EQ(stored("keep"), Stored(2048, 1));
  app_->manual_clock()->advance_ms(720LL * 3600 * 1000);
  json b = bucket_report("keep");
  EXPECT_EQ(b["class_a_requests"], 0);  // the counters did reset
  EXPECT_DOUBLE_EQ(b["storage_gb_months"].get<double>(), 2048.0 / (1024.0 * 1024.0 * 1024.0));
}

// docs/metrics.md "S3 buckets": real requests through the App move the per-bucket counters by
// exactly their pricing class; ListBuckets and fault-answered requests are not counted.
TEST_F(S3Metrics, RequestsAreCountedByPricingClass) {
  auto counts = [&] {
    json b = bucket_report("cnt");
    return std::vector<uint64_t>{b["class_a_requests"].get<uint64_t>(), b["class_b_requests"].get<uint64_t>(),
                                 b["free_requests"].get<uint64_t>()};
  };
  using V = std::vector<uint64_t>;
  auto expect = [&](const char* method, const std::string& target, int status, V want,
                    const std::vector<std::pair<std::string, std::string>>& h = {}, const std::string& body = {}) {
    auto r = http(method, target, h, body);
    EXPECT_EQ(r.status, status) << method << " " << target << ": " << r.body;
    EXPECT_EQ(counts(), want) << "after " << method << " " << target;
    return r;
  };
  expect("PUT", "/cnt", 200, V{1, 0, 0});                                  // CreateBucket: A
  expect("PUT", "/cnt/a", 200, V{2, 0, 0}, {}, "alpha");                   // PutObject: A
  expect("PUT", "/cnt/b", 200, V{3, 0, 0}, {}, "beta");
  expect("GET", "/cnt/a", 200, V{3, 1, 0});                                // GetObject: B
  expect("HEAD", "/cnt/a", 200, V{3, 2, 0});                               // HeadObject: B
  expect("GET", "/cnt?list-type=2", 200, V{4, 2, 0});                      // ListObjectsV2: A
  expect("GET", "/cnt", 200, V{5, 2, 0});                                  // ListObjects: A
  expect("GET", "/cnt?location", 200, V{5, 3, 0});                         // GetBucketLocation: B
  expect("GET", "/cnt?acl", 200, V{5, 4, 0});                              // GetBucketAcl: B
  expect("PUT", "/cnt/c", 200, V{6, 4, 0}, {{"x-amz-copy-source", "/cnt/a"}});  // CopyObject: A
  auto init = expect("POST", "/cnt/m?uploads", 200, V{7, 4, 0});          // CreateMultipartUpload: A
  const std::string upload = xml_text(init.body, "UploadId");
  ASSERT_FALSE(upload.empty()) << init.body;
  expect("DELETE", "/cnt/m?uploadId=" + upload, 204, V{7, 4, 1});         // AbortMultipartUpload: free
  expect("DELETE", "/cnt/b", 204, V{7, 4, 2});                             // DeleteObject: free
  expect("GET", "/cnt/missing", 404, V{7, 5, 2});                          // a 4xx is billed
  expect("GET", "/", 200, V{7, 5, 2});                                     // ListBuckets names no bucket
  // Answered by a fault rule: never reaches the counter.
  ASSERT_EQ(http("PUT", "/_eddy/faults", {}, R"([{"bucket": "cnt", "key_prefix": "hot/", "action": "error", "error_code": "SlowDown"}])").status, 200);
  expect("GET", "/cnt/hot/x", 503, V{7, 5, 2});
  expect("PUT", "/cnt/hot/y", 503, V{7, 5, 2}, {}, "y");
}

class S3MetricsRestart : public S3Metrics {
 protected:
  void configure(Config& c) override {
    S3Metrics::configure(c);
    use_disk_store(c, temp_dir("eddy-s3-metrics"));
  }
};

TEST_F(S3MetricsRestart, StoredTotalsSurviveARestart) {
  ASSERT_EQ(http("PUT", "/rr1").status, 200);
  ASSERT_EQ(http("PUT", "/rr2").status, 200);
  put("/rr1/a", std::string(700, 'a'));
  put("/rr1/b", std::string(70, 'b'));
  put("/rr2/c", std::string(7, 'c'));
  restart();
  EXPECT_EQ(stored("rr1"), Stored(777 - 7, 2));
  EXPECT_EQ(stored("rr2"), Stored(7, 1));
  // And keep following changes after it.
  EXPECT_EQ(http("DELETE", "/rr1/a").status, 204);
  EXPECT_EQ(stored("rr1"), Stored(70, 1));
}

}  // namespace
}  // namespace eddy::test
