// HTTP/2 on the same port as HTTP/1.1: prior knowledge, h2c via Upgrade, ALPN h2 on the TLS
// listener; the same services behind it (Kinesis, S3 bodies both ways); many streams on one
// connection; a stream whose reader stalls holds up no other; limits; GOAWAY on stop; and
// pushed response bodies (Response::push) with backpressure over HTTP/2 and HTTP/1.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "server/http/server.h"
#include "tests/api/http2_client.h"
#include "tests/support/server_fixture.h"
#include "tests/support/tls_cert.h"
#include "wire/base64.h"

namespace eddy::test {
namespace {

using nlohmann::json;
using Mode = H2Client::Mode;

H2Client::Fields kinesis_fields(const std::string& op) {
  H2Client::Fields f;
  for (auto& [k, v] : kinesis_headers(op, "application/x-amz-json-1.1")) f.emplace_back(k, v);
  return f;
}

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class Http2 : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "off";
    c.max_header_bytes = 16 * 1024;
  }
  json call(H2Client& c, const std::string& op, const json& input, int* status = nullptr) {
    auto r = c.request("POST", "/", kinesis_fields(op), input.dump());
    if (status) *status = r.status;
    EXPECT_FALSE(r.header("x-amzn-requestid").empty());
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }
};

TEST_F(Http2, PriorKnowledgeServesKinesis) {
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  int status = 0;
  call(c, "CreateStream", {{"StreamName", "h2"}, {"ShardCount", 1}}, &status);
  ASSERT_EQ(status, 200);
  auto put = call(c, "PutRecord", {{"StreamName", "h2"}, {"PartitionKey", "k"}, {"Data", b64("over h2")}}, &status);
  ASSERT_EQ(status, 200) << put.dump();
  auto it = call(c, "GetShardIterator",
                 {{"StreamName", "h2"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "TRIM_HORIZON"}});
  auto got = call(c, "GetRecords", {{"ShardIterator", it["ShardIterator"]}}, &status);
  ASSERT_EQ(status, 200);
  ASSERT_EQ(got["Records"].size(), 1u);
  EXPECT_EQ(wire::base64_decode(got["Records"][0]["Data"].get<std::string>()).value_or(""), "over h2");
  // AWS's errors, as over HTTP/1.1.
  auto missing = call(c, "DescribeStream", {{"StreamName", "nope"}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(missing["__type"], "ResourceNotFoundException");
  // HTTP/1.1 still answers on the same port.
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);
  EXPECT_EQ(c.max_concurrent_streams(), 100u);
}

TEST_F(Http2, UpgradeFromHttp11) {
  H2Client c(app_->port(), Mode::upgrade);
  auto first = c.upgrade("POST", "/", kinesis_fields("CreateStream"), json{{"StreamName", "up"}, {"ShardCount", 1}}.dump());
  EXPECT_EQ(c.upgrade_head().substr(0, 12), "HTTP/1.1 101") << c.upgrade_head();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(first.status, 200) << first.body;
  // Later requests are HTTP/2 streams on the same connection.
  int status = 0;
  call(c, "PutRecord", {{"StreamName", "up"}, {"PartitionKey", "k"}, {"Data", b64("x")}}, &status);
  EXPECT_EQ(status, 200);
  auto health = c.request("GET", "/_eddy/health");
  EXPECT_EQ(health.status, 200);
}

TEST_F(Http2, ManyConcurrentStreamsOnOneConnection) {
  create_stream("many", 2);
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  // More than SETTINGS_MAX_CONCURRENT_STREAMS: the client queues what exceeds it.
  std::vector<int32_t> ids;
  for (int i = 0; i < 300; ++i) {
    const json in = {{"StreamName", "many"}, {"PartitionKey", "pk" + std::to_string(i)}, {"Data", b64("r" + std::to_string(i))}};
    ids.push_back(c.submit("POST", "/", kinesis_fields("PutRecord"), in.dump()));
  }
  ASSERT_TRUE(c.run_until([&] {
    for (int32_t id : ids)
      if (!c.response(id).done) return false;
    return true;
  }));
  std::set<std::string> seqs;
  for (int32_t id : ids) {
    ASSERT_EQ(c.response(id).status, 200) << c.response(id).body;
    seqs.insert(json::parse(c.response(id).body)["SequenceNumber"].get<std::string>());
  }
  EXPECT_EQ(seqs.size(), 300u);
  auto summary = kinesis("DescribeStreamSummary", {{"StreamName", "many"}});
  ASSERT_EQ(summary.status, 200);
}

TEST_F(Http2, S3BodiesBothWaysAndAStalledStreamHoldsUpNoOther) {
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c.request("PUT", "/h2bucket").status, 200);
  // An 8 MiB upload, streamed to storage as DATA frames arrive; Expect: 100-continue gets its 100.
  const std::string big = random_bytes(8 * 1024 * 1024 + 17, 7);
  auto put = c.request("PUT", "/h2bucket/big", {{"Expect", "100-continue"}}, big);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.informational, std::vector<int>{100});
  EXPECT_FALSE(put.header("etag").empty());

  // A GET whose reader never reopens its window: it stops after the initial window (64 KiB)
  // while other streams on the connection go on.
  const int32_t slow = c.submit("GET", "/h2bucket/big");
  c.stall(slow);
  for (int i = 0; i < 20; ++i) {
    auto r = c.request("PUT", "/h2bucket/small" + std::to_string(i), {}, "small " + std::to_string(i));
    ASSERT_EQ(r.status, 200);
    auto g = c.request("GET", "/h2bucket/small" + std::to_string(i));
    ASSERT_EQ(g.body, "small " + std::to_string(i));
  }
  EXPECT_FALSE(c.response(slow).done);
  EXPECT_LE(c.received(slow), 65535u);
  // Reopened, it completes intact.
  c.unstall(slow);
  ASSERT_TRUE(c.run_until([&] { return c.response(slow).done; }));
  EXPECT_EQ(c.response(slow).status, 200);
  EXPECT_EQ(c.response(slow).header("content-length"), std::to_string(big.size()));
  EXPECT_TRUE(c.response(slow).body == big);
  // The same object over HTTP/1.1.
  EXPECT_TRUE(http("GET", "/h2bucket/big").body == big);
  // HEAD: headers only.
  auto head = c.request("HEAD", "/h2bucket/big");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(big.size()));
  EXPECT_TRUE(head.body.empty());
}

// Bounds (issue 16, "many h2 streams"). A client that opens more streams than
// SETTINGS_MAX_CONCURRENT_STREAMS (100) before it has read the server's SETTINGS gets the excess
// refused (RST_STREAM REFUSED_STREAM, retryable) while its first 100 stay open; another client
// is served meanwhile, and the greedy connection itself still answers.
TEST_F(Http2, StreamsBeyondTheLimitAreRefusedWhileOthersAreServed) {
  create_stream("bound", 1);
  H2Client greedy(app_->port(), Mode::prior_knowledge, 1000);
  ASSERT_TRUE(greedy.ok());
  greedy.defer_send = true;
  greedy.leave_open = true;  // bodies never come: the streams stay open
  std::vector<int32_t> ids;
  for (int i = 0; i < 150; ++i) ids.push_back(greedy.submit("POST", "/", kinesis_fields("PutRecord")));
  ASSERT_TRUE(greedy.run_until([&] {
    size_t closed = 0;
    for (int32_t id : ids) closed += greedy.response(id).closed;
    return closed >= 50;
  }));
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(i);
    if (i < 100) {
      EXPECT_FALSE(greedy.response(ids[i]).closed);
    } else {
      EXPECT_TRUE(greedy.response(ids[i]).closed);
      EXPECT_EQ(greedy.response(ids[i]).error_code, 7u);  // REFUSED_STREAM
    }
  }
  EXPECT_FALSE(greedy.goaway());
  H2Client other(app_->port(), Mode::prior_knowledge);
  int status = 0;
  call(other, "PutRecord", {{"StreamName", "bound"}, {"PartitionKey", "k"}, {"Data", b64("x")}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(http("GET", "/_eddy/health").status, 200);  // and HTTP/1.1
  greedy.leave_open = false;
  greedy.reset(ids[0]);  // the client keeps to the 100 streams it now knows of
  const int32_t more = greedy.submit("GET", "/_eddy/health");
  ASSERT_TRUE(greedy.run_until([&] { return greedy.response(more).done; }));
  EXPECT_EQ(greedy.response(more).status, 200);
}

// Responses a client does not read count against its connection (32 MiB): GetRecords answers of
// ~5.5 MB on streams whose windows stay shut fill it, and then a new stream is refused
// (REFUSED_STREAM) instead of another answer held in memory; other connections are served; once
// the client reads, everything arrives whole and new streams are taken again.
TEST_F(Http2, UnreadResponsesBoundTheConnection) {
  create_stream("held", 1);
  const std::string mib(1000 * 1024, 'r');  // with its key, under the 1 MiB record limit
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(kinesis("PutRecord", {{"StreamName", "held"}, {"PartitionKey", "k"}, {"Data", b64(mib)}}).status, 200)
        << i;
  auto it = kinesis("GetShardIterator", {{"StreamName", "held"}, {"ShardId", "shardId-000000000000"},
                                         {"ShardIteratorType", "TRIM_HORIZON"}});
  ASSERT_EQ(it.status, 200);
  const json get = {{"ShardIterator", it.body["ShardIterator"]}};
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  std::vector<int32_t> slow;
  for (int i = 0; i < 7; ++i) {
    const int32_t id = c.submit("POST", "/", kinesis_fields("GetRecords"), get.dump());
    c.stall(id);
    slow.push_back(id);
    ASSERT_TRUE(c.run_until([&] { return c.response(id).status == 200 && c.received(id) > 0; }));
  }
  const int32_t refused = c.submit("POST", "/", kinesis_fields("GetRecords"), get.dump());
  ASSERT_TRUE(c.run_until([&] { return c.response(refused).closed; }));
  EXPECT_EQ(c.response(refused).error_code, 7u);
  EXPECT_EQ(c.response(refused).status, 0);
  for (int32_t id : slow) EXPECT_FALSE(c.response(id).done);
  H2Client other(app_->port(), Mode::prior_knowledge);
  int status = 0;
  call(other, "DescribeStreamSummary", {{"StreamName", "held"}}, &status);
  EXPECT_EQ(status, 200);
  for (int32_t id : slow) c.unstall(id);
  ASSERT_TRUE(c.run_until([&] {
    for (int32_t id : slow)
      if (!c.response(id).done) return false;
    return true;
  }));
  for (int32_t id : slow) {
    auto body = json::parse(c.response(id).body);
    ASSERT_EQ(body["Records"].size(), 4u);
    EXPECT_EQ(body["Records"][3]["Data"], b64(mib));
  }
  EXPECT_EQ(call(c, "DescribeStreamSummary", {{"StreamName", "held"}}, &status)["StreamDescriptionSummary"]["StreamName"],
            "held");
  EXPECT_EQ(status, 200);
}

// RST_STREAM floods ("rapid reset"): nghttp2's bucket allows 1,000 at once (then 33 a second):
// 900 opened-and-reset streams leave the connection working, the next thousand end it (GOAWAY
// ENHANCE_YOUR_CALM, then the close; the client, busy writing, may see only the close). Other
// clients are served.
TEST_F(Http2, ResetFloodEndsTheConnection) {
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  auto flood = [&](int n) {
    int i = 0;
    c.leave_open = true;
    for (; i < n && !c.goaway() && !c.connection_closed(); ++i) {
      const int32_t id = c.submit("GET", "/_eddy/health");
      if (id <= 0) break;
      c.reset(id);
    }
    c.leave_open = false;
    return i;
  };
  ASSERT_EQ(flood(900), 900);
  EXPECT_EQ(c.request("GET", "/_eddy/health").status, 200);
  EXPECT_FALSE(c.goaway());
  EXPECT_LT(flood(1000), 1000);
  c.run_until([&] { return c.connection_closed(); });
  EXPECT_TRUE(c.connection_closed());
  if (c.goaway()) {
    EXPECT_EQ(c.goaway_error(), 11u);  // ENHANCE_YOUR_CALM
  }
  H2Client other(app_->port(), Mode::prior_knowledge);
  EXPECT_EQ(other.request("GET", "/_eddy/health").status, 200);
}

TEST_F(Http2, OversizedHeadersAre431) {
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  auto r = c.request("GET", "/_eddy/health", {{"x-padding", std::string(20 * 1024, 'a')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(c.request("GET", "/_eddy/health", {{"x-padding", std::string(4 * 1024, 'a')}}).status, 200);
}

TEST_F(Http2, GoawayOnStop) {
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c.request("GET", "/_eddy/health").status, 200);
  ASSERT_EQ(c.request("GET", "/_eddy/health").status, 200);
  std::thread stopper([&] { app_->stop(); });
  EXPECT_TRUE(c.run_until([&] { return c.goaway(); }));
  EXPECT_EQ(c.goaway_last_stream(), 3);
  EXPECT_TRUE(c.run_until([&] { return c.connection_closed(); }));
  stopper.join();
  app_.reset();
}

TEST_F(Http2, FaultActionsMapToStreams) {
  create_stream("f", 1);
  auto rules = [&](const json& r) { ASSERT_EQ(http("PUT", "/_eddy/faults", {}, r.dump()).status, 200); };
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  const json describe = {{"StreamName", "f"}};
  // reset and close drop the one request (RST_STREAM); the connection serves the next.
  rules(json::array({{{"stream", "f"}, {"operation", "DescribeStreamSummary"}, {"action", "reset"}}}));
  auto r = c.request("POST", "/", kinesis_fields("DescribeStreamSummary"), describe.dump());
  EXPECT_TRUE(r.closed && !r.done);
  EXPECT_EQ(r.error_code, 8u);  // CANCEL
  rules(json::array({{{"stream", "f"}, {"operation", "DescribeStreamSummary"}, {"action", "close"}}}));
  r = c.request("POST", "/", kinesis_fields("DescribeStreamSummary"), describe.dump());
  EXPECT_TRUE(r.closed && !r.done);
  EXPECT_EQ(r.error_code, 2u);  // INTERNAL_ERROR
  EXPECT_EQ(c.request("GET", "/_eddy/health").status, 200);
  // trickle and latency still deliver the whole answer.
  rules(json::array({{{"stream", "f"}, {"action", "trickle"}, {"trickle_bytes", 16}, {"trickle_interval_ms", 1}}}));
  r = c.request("POST", "/", kinesis_fields("DescribeStreamSummary"), describe.dump());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["StreamDescriptionSummary"]["StreamName"], "f");
  rules(json::array({{{"stream", "f"}, {"action", "latency"}, {"latency_ms", 1}}}));
  r = c.request("POST", "/", kinesis_fields("DescribeStreamSummary"), describe.dump());
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(http("DELETE", "/_eddy/faults").status, 200);
}

class Http2Timeouts : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.idle_timeout_s = 1;
    c.request_timeout_s = 1;
  }
};

TEST_F(Http2Timeouts, IdleConnectionIsClosedAfterTheIdleTimeout) {
  // As over HTTP/1.1: an answered request, then silence; the server closes the connection.
  H2Client c(app_->port(), Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c.request("GET", "/_eddy/health").status, 200);
  EXPECT_TRUE(c.run_until([&] { return c.connection_closed(); }));
}

// ---- TLS with ALPN ------------------------------------------------------------------------

class Http2Tls : public Http2 {
 protected:
  void configure(Config& c) override {
    Http2::configure(c);
    use_self_signed_tls(temp_dir("h2tls"), c);
  }
};

TEST_F(Http2Tls, AlpnH2OnTheTlsListener) {
  H2Client c(app_->tls_port(), Mode::tls);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.alpn(), "h2");
  int status = 0;
  call(c, "CreateStream", {{"StreamName", "tls"}, {"ShardCount", 1}}, &status);
  EXPECT_EQ(status, 200);
  auto put = call(c, "PutRecord", {{"StreamName", "tls"}, {"PartitionKey", "k"}, {"Data", b64("x")}}, &status);
  EXPECT_EQ(status, 200) << put.dump();
  ASSERT_EQ(c.request("PUT", "/tlsbucket").status, 200);
  const std::string body = random_bytes(3 * 1024 * 1024, 3);
  ASSERT_EQ(c.request("PUT", "/tlsbucket/o", {}, body).status, 200);
  EXPECT_TRUE(c.request("GET", "/tlsbucket/o").body == body);
}

// ---- pushed bodies (Response::push) with a test-only handler ------------------------------

// Writes `total` bytes in `chunk`-byte writes, each after the previous has drained.
struct Producer : std::enable_shared_from_this<Producer> {
  std::shared_ptr<http::BodyWriter> w;
  size_t total = 0, chunk = 0, produced = 0;
  std::atomic<size_t>* counter = nullptr;
  void step() {
    while (!w->closed() && produced < total) {
      const size_t n = std::min(chunk, total - produced);
      w->write(std::string(n, static_cast<char>('a' + (produced / chunk) % 26)));
      produced += n;
      counter->store(produced);
      if (w->queued() > 0) {
        w->on_drained([self = shared_from_this()] { self->step(); });
        return;
      }
    }
    if (produced >= total) w->finish();
  }
};

class PushHandler : public http::Handler {
 public:
  std::atomic<size_t> produced{0};
  std::atomic<bool> peer_gone{false};
  std::atomic<size_t> max_ready{0};
  std::atomic<size_t> buffered{0};
  std::vector<std::thread> threads;
  ~PushHandler() {
    for (auto& t : threads) t.join();
  }
  size_t total = 0, chunk = 256 * 1024;
  http::Dispatch dispatch(http::Request& req) override {
    http::Response res;
    res.headers.add("Content-Type", "application/vnd.amazon.eventstream");
    if (req.path == "/push") {
      res.push = [this](std::shared_ptr<http::BodyWriter> w) {
        auto p = std::make_shared<Producer>();
        p->w = w;
        p->total = total;
        p->chunk = chunk;
        p->counter = &produced;
        w->on_closed([this] { peer_gone = true; });
        p->step();
      };
    } else if (req.path == "/hold") {
      // Writes one piece, then nothing until the server stops.
      res.push = [this](std::shared_ptr<http::BodyWriter> w) {
        w->write("first");
        w->on_closed([this] { peer_gone = true; });
      };
    } else if (req.path == "/posted") {
      // Written from another thread through Loop::post.
      http::Loop* loop = req.loop;
      res.push = [this, loop](std::shared_ptr<http::BodyWriter> w) {
        threads.emplace_back([loop, w] {
          for (int i = 0; i < 3; ++i) loop->post([w, i] { w->write("piece" + std::to_string(i) + ";"); });
          loop->post([w] { w->finish(); });
        });
      };
    } else if (req.path == "/buffer-hold") {
      // A buffered body (up to 20 MiB) whose answer, a pushed body, never ends: the stream
      // and the body it buffered stay until the server stops.
      http::BufferBody b;
      b.max_bytes = 20 << 20;
      b.handle = [this](http::Request& r) {
        buffered = r.body.size();
        http::Response held;
        held.push = [](std::shared_ptr<http::BodyWriter> w) { w->write("held"); };
        return held;
      };
      b.too_large = [](http::Request&) {
        http::Response tl;
        tl.status = 413;
        return tl;
      };
      return b;
    } else {
      // How many requests were ready on the loop (read together) when this one was dispatched.
      if (req.loop) max_ready = std::max(max_ready.load(), req.loop->ready());
      res.body = "plain";
    }
    return http::Immediate{std::move(res)};
  }
};

class Push : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions o;
    o.threads = 1;
    o.shutdown_grace_s = 5;
    server_ = std::make_unique<http::Server>(o);
    port_ = server_->listen("127.0.0.1", 0, handler_);
    server_->start();
  }
  void TearDown() override { server_->stop(); }
  // The chunked body of an HTTP/1.1 response (head stripped).
  static bool dechunk(const std::string& raw, std::string& out) {
    size_t pos = raw.find("\r\n\r\n");
    if (pos == std::string::npos) return false;
    pos += 4;
    for (;;) {
      const size_t eol = raw.find("\r\n", pos);
      if (eol == std::string::npos) return false;
      const size_t n = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
      pos = eol + 2;
      if (n == 0) return true;
      out.append(raw, pos, n);
      pos += n + 2;
    }
  }
  PushHandler handler_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
};

// The 32 MiB a connection holds, request side: a stream whose 17 MiB body is buffered and held
// (its answer never ends) leaves room for small requests, but a second 17 MiB body is refused
// (RST_STREAM REFUSED_STREAM) before the connection holds more than 32 MiB; after the refusal
// the connection takes requests again.
TEST_F(Push, BufferedBodiesBoundTheConnection) {
  H2Client c(port_, Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  const std::string big(17 << 20, 'b');
  const int32_t first = c.submit("POST", "/buffer-hold", {}, big);
  ASSERT_TRUE(c.run_until([&] { return c.response(first).body == "held"; }));
  EXPECT_EQ(handler_.buffered.load(), big.size());
  const int32_t second = c.submit("POST", "/buffer-hold", {}, big);
  ASSERT_TRUE(c.run_until([&] { return c.response(second).closed; }));
  EXPECT_EQ(c.response(second).error_code, 7u);  // REFUSED_STREAM
  EXPECT_EQ(c.response(second).status, 0);
  EXPECT_EQ(handler_.buffered.load(), big.size());  // its handler never ran
  const int32_t small = c.submit("POST", "/buffer-hold", {}, "small");
  ASSERT_TRUE(c.run_until([&] { return c.response(small).body == "held"; }));
  EXPECT_EQ(handler_.buffered.load(), 5u);
  EXPECT_EQ(c.request("GET", "/plain").body, "plain");
  EXPECT_FALSE(c.response(first).closed);
}

TEST_F(Push, OverHttp2WithBackpressure) {
  handler_.total = 8 * 1024 * 1024;
  H2Client c(port_, Mode::prior_knowledge);
  ASSERT_TRUE(c.ok());
  const int32_t id = c.submit("GET", "/push");
  c.stall(id);
  // While its reader is stalled the producer is held to the window (64 KiB) plus what is in
  // flight (a chunk it wrote, one nghttp2 took); other streams go on meanwhile.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.request("GET", "/plain").body, "plain");
  EXPECT_LE(handler_.produced.load(), 65535u + 2 * handler_.chunk);
  EXPECT_FALSE(c.response(id).done);
  c.unstall(id);
  ASSERT_TRUE(c.run_until([&] { return c.response(id).done; }));
  const auto& r = c.response(id);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/vnd.amazon.eventstream");
  EXPECT_TRUE(r.header("content-length").empty());
  ASSERT_EQ(r.body.size(), handler_.total);
  for (size_t i = 0; i < r.body.size(); i += handler_.chunk)
    ASSERT_EQ(r.body[i], static_cast<char>('a' + (i / handler_.chunk) % 26)) << i;
}

TEST_F(Push, ResetStreamTellsTheProducer) {
  handler_.total = 64 * 1024 * 1024;
  H2Client c(port_, Mode::prior_knowledge);
  const int32_t id = c.submit("GET", "/push");
  c.stall(id);
  ASSERT_TRUE(c.run_until([&] { return c.received(id) > 0; }));
  c.reset(id);
  ASSERT_TRUE(c.run_until([&] { return handler_.peer_gone.load(); }));
  EXPECT_LT(handler_.produced.load(), handler_.total);
  EXPECT_EQ(c.request("GET", "/plain").body, "plain");
}

TEST_F(Push, OverHttp11ChunkedWithBackpressure) {
  handler_.total = 64 * 1024 * 1024;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "GET /push HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  // Reading in small steps: the producer never runs further ahead of the reader than the
  // socket buffers and one chunk (without backpressure it would queue all 64 MiB at once).
  std::string raw;
  char buf[64 * 1024];
  size_t max_ahead = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    ASSERT_GT(poll(&p, 1, 20000), 0);
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    raw.append(buf, static_cast<size_t>(n));
    const size_t produced = handler_.produced.load();
    if (produced > raw.size()) max_ahead = std::max(max_ahead, produced - raw.size());
    if (raw.size() >= 5 && raw.compare(raw.size() - 5, 5, "0\r\n\r\n") == 0) break;
  }
  close(fd);
  EXPECT_LE(max_ahead, 24u * 1024 * 1024);
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 200");
  EXPECT_NE(raw.find("Transfer-Encoding: chunked"), std::string::npos);
  std::string body;
  ASSERT_TRUE(dechunk(raw, body));
  ASSERT_EQ(body.size(), handler_.total);
  for (size_t i = 0; i < body.size(); i += handler_.chunk)
    ASSERT_EQ(body[i], static_cast<char>('a' + (i / handler_.chunk) % 26)) << i;
}

TEST_F(Push, WrittenFromAnotherThreadThroughLoopPost) {
  H2Client c(port_, Mode::prior_knowledge);
  auto r = c.request("GET", "/posted");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "piece0;piece1;piece2;");
}

TEST_F(Push, RequestsReadTogetherAreReadyTogether) {
  // Streams that arrive in one read are all marked ready on the loop before the first handler
  // runs: what lets Kinesis commit their PutRecords as one group.
  H2Client c(port_, Mode::prior_knowledge);
  ASSERT_EQ(c.request("GET", "/plain").status, 200);
  c.defer_send = true;
  std::vector<int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(c.submit("GET", "/plain"));
  ASSERT_TRUE(c.run_until([&] {
    for (int32_t id : ids)
      if (!c.response(id).done) return false;
    return true;
  }));
  EXPECT_GE(handler_.max_ready.load(), 2u);
}

TEST_F(Push, StopEndsPushedBodiesAfterGoaway) {
  H2Client c(port_, Mode::prior_knowledge);
  const int32_t id = c.submit("GET", "/hold");
  ASSERT_TRUE(c.run_until([&] { return c.response(id).body == "first"; }));
  std::thread stopper([&] { server_->stop(); });
  EXPECT_TRUE(c.run_until([&] { return c.goaway(); }));
  EXPECT_EQ(c.goaway_last_stream(), id);
  // The pushed body ends cleanly (END_STREAM), then the connection closes.
  EXPECT_TRUE(c.run_until([&] { return c.response(id).done; }));
  EXPECT_EQ(c.response(id).body, "first");
  EXPECT_TRUE(c.run_until([&] { return c.connection_closed(); }));
  stopper.join();
}

}  // namespace
}  // namespace eddy::test
