// `eddy bridge` (run_bridge) over real TCP sockets, with an in-memory stream behind the
// producer: both framings, backpressure (the bridge stops reading while the stream refuses
// everything, and its buffer stays under the limit), the SIGTERM-style drain and the summary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "client/producer/commands.h"
#include "tests/client/producer_fake_kinesis.h"
#include "tests/support/prometheus.h"
#include "tests/support/raw_http.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using eddy::producer::BridgeOptions;

struct RunningBridge {
  explicit RunningBridge(eddy::test::FakeKinesis& k, BridgeOptions o) : kinesis(k), options(std::move(o)) {
    options.stream = "s";
    options.listen = "127.0.0.1:0";
    options.metrics_port = 0;
    options.on_listening = [this](std::uint16_t p, std::uint16_t m) {
      metrics_port = m;
      port = p;  // last: the test waits on it
    };
    thread = std::thread([this] { rc = eddy::producer::run_bridge(options, kinesis, out, err, &stop); });
    for (int i = 0; i < 5000 && port == 0 && rc < 0; ++i) std::this_thread::yield(), std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  nlohmann::json finish() {
    stop = true;
    thread.join();
    return nlohmann::json::parse(out.str());
  }
  std::string metrics() {
    return eddy::test::raw_exchange(metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").received;
  }
  double metric(const std::string& name) {
    return eddy::test::parse_prometheus(metrics()).value(name);
  }
  eddy::test::FakeKinesis& kinesis;
  BridgeOptions options;
  std::ostringstream out, err;
  std::atomic<bool> stop{false};
  std::atomic<std::uint16_t> port{0};
  std::atomic<std::uint16_t> metrics_port{0};
  std::atomic<int> rc{-1};
  std::thread thread;
};

std::map<std::string, int> stream_contents(const eddy::test::FakeKinesis& k) {
  std::map<std::string, int> seen;
  for (const auto& r : k.read_all()) ++seen[r.record.data];
  return seen;
}

TEST(Bridge, NewlineAndOctetCountedMessagesEachBecomeOneRecord) {
  eddy::test::FakeKinesis kinesis(2);
  BridgeOptions o;
  o.idle_timeout = 0.05;
  RunningBridge b(kinesis, o);
  ASSERT_NE(b.port.load(), 0) << b.err.str();
  asio::io_context io;
  tcp::socket lf(io), octet(io);
  lf.connect({asio::ip::make_address("127.0.0.1"), b.port});
  octet.connect({asio::ip::make_address("127.0.0.1"), b.port});
  std::string lf_data, octet_data;
  for (int i = 0; i < 1000; ++i) {
    lf_data += "<13>lf message " + std::to_string(i) + "\n";
    const std::string m = "<13>octet message " + std::to_string(i) + "\nwith a newline";
    octet_data += std::to_string(m.size()) + " " + m;
  }
  asio::write(lf, asio::buffer(lf_data));
  asio::write(octet, asio::buffer(octet_data));
  lf.close();
  octet.close();
  const auto summary = b.finish();
  EXPECT_EQ(b.rc, 0) << b.err.str();
  EXPECT_EQ(summary["messagesRead"], 2000);
  EXPECT_EQ(summary["acknowledged"], 2000);
  EXPECT_EQ(summary["unacknowledged"], 0);
  EXPECT_EQ(summary["connections"], 2);
  const auto seen = stream_contents(kinesis);
  EXPECT_EQ(seen.size(), 2000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(seen.count("<13>lf message " + std::to_string(i)), 1u);
    EXPECT_EQ(seen.count("<13>octet message " + std::to_string(i) + "\nwith a newline"), 1u);
  }
  for (const auto& [data, n] : seen) EXPECT_EQ(n, 1) << data;
}

TEST(Bridge, StopsReadingWhileTheBufferIsFullAndLosesNothing) {
  eddy::test::FakeKinesis kinesis(1);
  kinesis.always_throttle = true;
  BridgeOptions o;
  o.max_buffer_bytes = 64 * 1024;
  o.idle_timeout = 0.2;
  RunningBridge b(kinesis, o);
  ASSERT_NE(b.port.load(), 0) << b.err.str();
  // 20 MB: far more than the bridge's buffer plus both kernels' socket buffers.
  const int n = 100000;
  std::string payload;
  for (int i = 0; i < n; ++i) payload += "message-" + std::to_string(i) + std::string(180, '.') + "\n";
  std::atomic<bool> written{false};
  std::thread writer([&] {
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), b.port});
    asio::write(s, asio::buffer(payload));
    written = true;
    s.shutdown(tcp::socket::shutdown_send);
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);  // until the bridge closes its side
  });
  // Wait until the bridge has stalled on backpressure and the stream has refused entries.
  double stalled = 0, throttled = 0;
  for (int i = 0; i < 2000 && (stalled <= 0 || throttled <= 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stalled = b.metric("eddy_bridge_stalled_seconds_total");
    throttled = b.metric("eddy_bridge_throttled_entries_total");
  }
  EXPECT_GT(stalled, 0);
  EXPECT_GT(throttled, 0);
  const double read = b.metric("eddy_bridge_messages_read_total");
  const double buffered = b.metric("eddy_bridge_buffered_bytes");
  EXPECT_LE(buffered, 64 * 1024);
  EXPECT_LT(read, n) << "the bridge kept reading although nothing was acknowledged";
  EXPECT_FALSE(written) << "the writer should be blocked by full kernel buffers";
  EXPECT_EQ(b.metric("eddy_bridge_messages_acknowledged_total"), 0);
  kinesis.always_throttle = false;  // the throttle lifts
  writer.join();
  const auto summary = b.finish();
  EXPECT_EQ(b.rc, 0) << b.err.str();
  EXPECT_EQ(summary["messagesRead"], n);
  EXPECT_EQ(summary["acknowledged"], n);
  EXPECT_GT(summary["throttledEntries"].get<int>(), 0) << summary.dump() << b.err.str();
  EXPECT_GT(summary["stalledSeconds"].get<double>(), 0);
  const auto seen = stream_contents(kinesis);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  for (const auto& [data, count] : seen) ASSERT_EQ(count, 1) << data;
}

// --receive-buffer: accepted sockets get that SO_RCVBUF, so what a
// stalled bridge lets a sender write is bounded by the flag, not by net.ipv4.tcp_rmem.
TEST(Bridge, ReceiveBufferBoundsWhatAStalledBridgeAbsorbs) {
  eddy::test::FakeKinesis kinesis(1);
  kinesis.always_throttle = true;
  BridgeOptions o;
  o.max_buffer_bytes = 1024;
  o.receive_buffer = 16 * 1024;
  o.idle_timeout = 0.2;
  RunningBridge b(kinesis, o);
  ASSERT_NE(b.port.load(), 0) << b.err.str();
  const int n = 20000;  // 4 MB
  std::string payload;
  for (int i = 0; i < n; ++i) payload += "message-" + std::to_string(i) + std::string(180, '.') + "\n";
  asio::io_context io;
  tcp::socket s(io);
  s.open(tcp::v4());
  s.set_option(asio::socket_base::send_buffer_size(4096));
  s.connect({asio::ip::make_address("127.0.0.1"), b.port});
  s.non_blocking(true);
  std::size_t written = 0;
  auto write_until_full = [&] {
    for (;;) {
      boost::system::error_code ec;
      const std::size_t k = s.write_some(asio::buffer(payload.data() + written, payload.size() - written), ec);
      written += k;
      if (ec || k == 0) return;
    }
  };
  double stalled = 0, throttled = 0;
  for (int i = 0; i < 2000 && (stalled <= 0 || throttled <= 0); ++i) {
    write_until_full();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stalled = b.metric("eddy_bridge_stalled_seconds_total");
    throttled = b.metric("eddy_bridge_throttled_entries_total");
  }
  ASSERT_GT(stalled, 0);
  write_until_full();
  // Asio halves what Linux reports (the kernel doubles the value for its bookkeeping).
  EXPECT_EQ(b.metric("eddy_bridge_receive_buffer_bytes"), 16 * 1024);
  // The bridge's buffer (1 KiB) and read buffer (64 KiB), both kernels' buffers: far below
  // the 4 MB offered, and below what tcp_rmem's default (128 KiB, growing) would take.
  EXPECT_LT(written, 160u * 1024) << "written before the sender blocked";
  // The throttle lifts: everything written arrives once.
  kinesis.always_throttle = false;
  s.non_blocking(false);
  asio::write(s, asio::buffer(payload.data() + written, payload.size() - written));
  s.shutdown(tcp::socket::shutdown_send);
  char c;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);
  const auto summary = b.finish();
  EXPECT_EQ(b.rc, 0) << b.err.str();
  EXPECT_EQ(summary["messagesRead"], n);
  EXPECT_EQ(summary["acknowledged"], n);
  EXPECT_GE(summary["retries"].get<int>(), summary["recordRetries"].get<int>());
}

}  // namespace
