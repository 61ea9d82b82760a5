// The front end's exception barrier (http::guard): whatever a handler throws - from dispatch,
// a buffered body's handler, a body sink - the client gets a 500 in the service's error shape
// with the request id, the log gets one error line naming it, and the connection is closed
// (HTTP/1.1: Connection: close and EOF; HTTP/2: GOAWAY after the answer). Over the real Router,
// so the shapes are the services' own.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "server/http/server.h"
#include "server/kinesis/codec.h"
#include "server/router.h"
#include "tests/api/http2_client.h"
#include "tests/support/in_process_kinesis.h"
#include "tests/support/raw_http.h"

namespace eddy {
namespace {

using nlohmann::json;

// Throws from every operation's before-hook while armed.
struct ThrowingHooks : kinesis::KinesisHooks {
  std::optional<kinesis::ApiError> before_operation(const kinesis::OperationInfo& op) override {
    if (op.operation == "ListStreams") throw std::runtime_error("hook exploded");
    return std::nullopt;
  }
};

// A sink that throws when the body ends.
struct ThrowingSink : http::BodySink {
  std::optional<http::Response> write(std::string_view) override { return std::nullopt; }
  http::Response finish() override { throw std::logic_error("sink exploded"); }
};

class ExceptionBarrier : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(kinesis_.open());
    kinesis_.svc->add_hooks(&hooks_);
    router_ = std::make_unique<Router>(*kinesis_.svc);
    router_->add_admin("/_eddy/boom", [](http::Request&) -> http::Dispatch { throw std::runtime_error("admin exploded"); });
    router_->set_s3([](http::Request& req) -> http::Dispatch {
      if (req.path == "/bucket/dispatch") throw std::runtime_error("s3 dispatch exploded");
      if (req.path == "/bucket/sink") return http::StreamBody{std::make_unique<ThrowingSink>()};
      http::BufferBody b;
      b.max_bytes = 1 << 20;
      b.handle = [](http::Request&) -> http::Response { throw 42; };  // not even a std::exception
      b.too_large = [](http::Request&) -> http::Response { throw std::runtime_error("too large exploded"); };
      return b;
    });
    http::ServerOptions o;
    o.threads = 1;
    o.shutdown_grace_s = 1;
    server_ = std::make_unique<http::Server>(o);
    port_ = server_->listen("127.0.0.1", 0, *router_);
    server_->start();

    logger_ = spdlog::default_logger();
    level_ = logger_->level();
    logger_->set_level(spdlog::level::info);
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    logger_->sinks().push_back(sink_);
  }
  void TearDown() override {
    logger_->sinks().pop_back();
    logger_->set_level(level_);
    server_->stop();
  }

  // One request on its own connection, read until the server closes it.
  test::RawExchange exchange(const std::string& request) {
    test::RawOptions o;
    o.stop_at_response = false;
    return test::raw_exchange(port_, request, o);
  }
  static std::string header(const std::string& raw, const std::string& name) {
    std::string lower = raw;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string key = "\r\n" + name + ": ";
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto p = lower.find(key);
    if (p == std::string::npos) return "";
    p += key.size();
    return raw.substr(p, raw.find("\r\n", p) - p);
  }
  static std::string body(const std::string& raw) {
    auto p = raw.find("\r\n\r\n");
    return p == std::string::npos ? "" : raw.substr(p + 4);
  }
  // The one error line about this request id.
  void expect_logged(const std::string& id, const std::string& what) {
    const std::string log = log_.str();
    const auto line_at = log.find(id);
    ASSERT_NE(line_at, std::string::npos) << log;
    const std::string line = log.substr(log.rfind('\n', line_at) + 1, log.find('\n', line_at) - log.rfind('\n', line_at));
    EXPECT_NE(line.find("[error]"), std::string::npos) << line;
    EXPECT_NE(line.find(what), std::string::npos) << line;
  }
  void expect_closed_500(const test::RawExchange& r) {
    EXPECT_EQ(r.received.rfind("HTTP/1.1 500", 0), 0u) << r.received;
    EXPECT_TRUE(r.closed()) << r.end;
    EXPECT_EQ(header(r.received, "Connection"), "close");
  }

  test::InProcessKinesis kinesis_;
  ThrowingHooks hooks_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  std::ostringstream log_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  spdlog::level::level_enum level_ = spdlog::level::info;
};

TEST_F(ExceptionBarrier, KinesisJsonGetsInternalFailure) {
  auto r = exchange(test::kinesis_http_request("ListStreams", json::object()));
  expect_closed_500(r);
  const std::string id = header(r.received, "x-amzn-RequestId");
  ASSERT_FALSE(id.empty());
  auto j = json::parse(body(r.received));
  EXPECT_EQ(j["__type"], "InternalFailure");
  EXPECT_EQ(header(r.received, "x-amzn-ErrorType"), "InternalFailure");
  expect_logged(id, "hook exploded");
  // The service goes on answering other requests.
  auto ok = test::raw_exchange(port_, test::kinesis_http_request("DescribeLimits", json::object()));
  EXPECT_EQ(ok.received.rfind("HTTP/1.1 200", 0), 0u) << ok.received;
}

TEST_F(ExceptionBarrier, KinesisCborGetsInternalFailureInCbor) {
  const std::string cbor = kinesis::encode_cbor(json::object());
  std::string req = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-cbor-1.1\r\n"
                    "X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: " +
                    std::to_string(cbor.size()) + "\r\n\r\n" + cbor;
  auto r = exchange(req);
  expect_closed_500(r);
  EXPECT_EQ(header(r.received, "Content-Type"), "application/x-amz-cbor-1.1");
  json j;
  ASSERT_TRUE(kinesis::decode_cbor(body(r.received), j));
  EXPECT_EQ(j["__type"], "InternalFailure");
  expect_logged(header(r.received, "x-amzn-RequestId"), "hook exploded");
}

TEST_F(ExceptionBarrier, S3GetsInternalErrorXmlFromEveryStage) {
  struct Case {
    std::string request, logged;
  } cases[] = {
      {"GET /bucket/dispatch HTTP/1.1\r\nHost: x\r\n\r\n", "s3 dispatch exploded"},
      {"PUT /bucket/sink HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "sink exploded"},
      {"PUT /bucket/buffer HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "not derived from std::exception"},
      {"PUT /bucket/buffer HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", "too large exploded"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.logged);
    auto r = exchange(c.request);
    expect_closed_500(r);
    const std::string id = header(r.received, "x-amz-request-id");
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(header(r.received, "x-amzn-RequestId"), id);
    const std::string b = body(r.received);
    EXPECT_NE(b.find("<Code>InternalError</Code>"), std::string::npos) << b;
    EXPECT_NE(b.find("<RequestId>" + id + "</RequestId>"), std::string::npos) << b;
    expect_logged(id, c.logged);
  }
}

TEST_F(ExceptionBarrier, AdminGetsJsonError) {
  auto r = exchange("GET /_eddy/boom HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_closed_500(r);
  const std::string id = header(r.received, "x-amzn-RequestId");
  auto j = json::parse(body(r.received));
  EXPECT_EQ(j["error"], "internal error");
  EXPECT_EQ(j["requestId"], id);
  expect_logged(id, "admin exploded");
}

TEST_F(ExceptionBarrier, Http2AnswersThenGoesAway) {
  test::H2Client c(port_, test::H2Client::Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  auto r = c.request("GET", "/bucket/dispatch");
  EXPECT_EQ(r.status, 500);
  const std::string id = r.header("x-amz-request-id");
  EXPECT_NE(r.body.find("<RequestId>" + id + "</RequestId>"), std::string::npos) << r.body;
  expect_logged(id, "s3 dispatch exploded");
  // The connection is told to go away after the 500, naming that stream as the last.
  c.run_until([&] { return c.goaway(); });
  EXPECT_TRUE(c.goaway());
}

}  // namespace
}  // namespace eddy
