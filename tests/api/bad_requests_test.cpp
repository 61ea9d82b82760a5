// Hostile and malformed requests, each with its exact answer, over raw sockets: framing that
// lies, oversized heads, keys and bodies no client would send. Nothing crashes or hangs (every
// exchange ends with an answer or a close well inside the raw helper's 10 s), the server keeps
// serving, and the answer is the one AWS (or, for HTTP framing, RFC 9112) gives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/raw_http.h"
#include "tests/support/server_fixture.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

std::string status_line(const std::string& raw) { return raw.substr(0, raw.find("\r\n")); }
std::string body_of(const std::string& raw) {
  auto p = raw.find("\r\n\r\n");
  return p == std::string::npos ? "" : raw.substr(p + 4);
}
std::string kinesis_bytes(const std::string& op, const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202." +
         op + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}
std::string put(const std::string& target, const std::string& body, const std::string& extra = "") {
  return "PUT " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace

class BadRequests : public ServerFixture {
 protected:
  void configure(eddy::Config& c) override { c.auth = "off"; }
  void SetUp() override {
    ServerFixture::SetUp();
    create_stream("bad", 1);
    ASSERT_EQ(http("PUT", "/bad").status, 200);
    ASSERT_EQ(http("PUT", "/bad/obj", {}, "0123456789").status, 200);
  }
  RawExchange send(const std::string& bytes, bool half_close = false) {
    RawOptions o;
    o.half_close = half_close;
    return raw_exchange(app_->port(), bytes, o);
  }
  // After each case: the server still answers.
  void still_serving() {
    auto r = kinesis("DescribeStreamSummary", {{"StreamName", "bad"}});
    EXPECT_EQ(r.status, 200);
  }
};

TEST_F(BadRequests, FramingThatLies) {
  struct Case {
    const char* name;
    std::string bytes;
    bool half_close;
    std::string status;  // "" : the connection closes without an answer
  } cases[] = {
      // Shorter than declared, then the client stops sending: nothing to answer.
      {"Content-Length longer than the body", "PUT /bad/short HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc", true, ""},
      // The extra bytes are the next request, which is garbage.
      {"Content-Length shorter than the body", "PUT /bad/long HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nabc", false,
       "HTTP/1.1 200 OK"},
      {"negative Content-Length", "PUT /bad/neg HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", false,
       "HTTP/1.1 400 Bad Request"},
      {"Content-Length 2^64", "PUT /bad/huge HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", false,
       "HTTP/1.1 400 Bad Request"},
      {"two different Content-Lengths", "PUT /bad/two HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       false, "HTTP/1.1 400 Bad Request"},
      {"bad chunk size", "PUT /bad/chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
       false, ""},
      {"chunk size past 2^64", "PUT /bad/chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
       false, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = send(c.bytes, c.half_close);
    EXPECT_NE(r.end, RawEnd::timeout) << r.received;
    if (c.status.empty()) EXPECT_TRUE(r.received.empty() || r.closed()) << r.received;
    else EXPECT_EQ(status_line(r.received), c.status) << r.received;
    still_serving();
  }
  // A lying short body never became an object.
  EXPECT_EQ(http("GET", "/bad/short").status, 404);
}

TEST_F(BadRequests, OversizedHeads) {
  std::string many = "GET /bad/obj HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  auto r = send(many);
  EXPECT_EQ(status_line(r.received), "HTTP/1.1 431 Request Header Fields Too Large") << r.received.substr(0, 200);
  EXPECT_TRUE(r.closed() || r.end == RawEnd::response);
  const std::string line = "GET /bad/obj HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(1 << 20, 'a') + "\r\n\r\n";
  r = send(line);
  EXPECT_EQ(status_line(r.received), "HTTP/1.1 431 Request Header Fields Too Large") << r.received.substr(0, 200);
  still_serving();
}

TEST_F(BadRequests, KinesisBodies) {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  struct Case {
    const char* name;
    std::string op, body;
    int status;
    std::string type;
  } cases[] = {
      {"JSON nested 10,000 deep", "PutRecord", "{\"StreamName\":\"bad\",\"PartitionKey\":\"k\",\"Data\":" + deep + "}", 400,
       "SerializationException"},
      {"junk base64", "PutRecord", R"({"StreamName":"bad","PartitionKey":"k","Data":"!!!not base64!!!"})", 400,
       "SerializationException"},
      {"unknown X-Amz-Target", "MakeCoffee", "{}", 400, "UnknownOperationException"},
      {"NUL in a partition key", "PutRecord", std::string(R"({"StreamName":"bad","PartitionKey":"a\u0000b","Data":"eA=="})"),
       200, ""},
      {"invalid UTF-8 in a partition key", "PutRecord",
       std::string("{\"StreamName\":\"bad\",\"PartitionKey\":\"a\xff\xfe\",\"Data\":\"eA==\"}"), 400,
       "SerializationException"},
      {"invalid UTF-8 in a stream name", "DescribeStream", std::string("{\"StreamName\":\"\xc3\x28\"}"), 400,
       "SerializationException"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = send(kinesis_bytes(c.op, c.body));
    ASSERT_NE(r.end, RawEnd::timeout);
    EXPECT_EQ(status_line(r.received).substr(9, 3), std::to_string(c.status)) << r.received.substr(0, 400);
    if (!c.type.empty()) {
      auto j = json::parse(body_of(r.received), nullptr, false);
      EXPECT_EQ(j.is_object() ? j.value("__type", "") : "", c.type) << r.received.substr(0, 400);
    }
    still_serving();
  }
}

TEST_F(BadRequests, S3KeysAreOpaqueNames) {
  // `..`, `//` and `%00` are parts of a name, never of a path: each is its own object.
  for (std::string key : {"a/../b", "a//b", "..", "./x", "a%00b"}) {
    SCOPED_TRACE(key);
    auto r = send(put("/bad/" + key, "v:" + key));
    EXPECT_EQ(status_line(r.received), "HTTP/1.1 200 OK") << r.received;
    auto g = http("GET", "/bad/" + key);
    EXPECT_EQ(g.status, 200);
    EXPECT_EQ(g.body, "v:" + key);
  }
  EXPECT_EQ(http("GET", "/bad/b").status, 404);  // "a/../b" did not land on "b"
  // A key of 1,025 bytes is refused with S3's KeyTooLongError; 1,024 is fine.
  auto r = send(put("/bad/" + std::string(1025, 'k'), "x"));
  EXPECT_EQ(status_line(r.received), "HTTP/1.1 400 Bad Request") << r.received;
  EXPECT_NE(r.received.find("<Code>KeyTooLongError</Code>"), std::string::npos) << r.received;
  EXPECT_EQ(send(put("/bad/" + std::string(1024, 'k'), "x")).received.substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_F(BadRequests, RangePastTheEnd) {
  auto r = http("GET", "/bad/obj", {{"Range", "bytes=100-200"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_NE(r.body.find("<Code>InvalidRange</Code>"), std::string::npos) << r.body;
  // A range that starts inside and runs past the end is cut at the end (RFC 9110).
  r = http("GET", "/bad/obj", {{"Range", "bytes=5-100"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "56789");
}
