// `eddy bridge`: syslog over TCP in, one user record a message out through the producer, with
// backpressure: while the producer's buffer is full no socket is read, so the kernel buffers
// fill and the sender (syslog-ng) queues.
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <iostream>
#include <list>
#include <memory>
#include <sstream>

#include "client/kinesis_client.h"
#include "client/producer/commands.h"
#include "client/producer/kinesis_transport.h"
#include "client/producer/producer.h"
#include "client/producer/syslog_framer.h"
#include "client/tools.h"

namespace eddy::producer {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  try {
    const int p = std::stoi(text.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

class Bridge {
 public:
  Bridge(const BridgeOptions& o, Producer& producer, Framing framing, std::ostream& err)
      : o_(o), producer_(producer), framing_(framing), err_(err), acceptor_(io_),
        metrics_acceptor_(io_), signals_(io_, SIGINT, SIGTERM), tick_(io_) {}

  bool bind(std::string* error) {
    std::string host;
    std::uint16_t port = 0;
    if (!split_host_port(o_.listen, host, port)) return *error = "bad --listen (HOST:PORT): " + o_.listen, false;
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(host, ec);
    if (ec) return *error = "bad --listen address: " + host, false;
    if (!open(acceptor_, tcp::endpoint(addr, port), error, o_.receive_buffer)) return false;
    err_ << "eddy bridge: listening " << o_.listen.substr(0, o_.listen.rfind(':')) << ":"
         << acceptor_.local_endpoint().port() << std::endl;
    if (o_.metrics_port >= 0) {
      if (!open(metrics_acceptor_, tcp::endpoint(addr, static_cast<std::uint16_t>(o_.metrics_port)), error))
        return false;
      err_ << "eddy bridge: metrics " << host << ":" << metrics_acceptor_.local_endpoint().port()
           << std::endl;
    }
    if (o_.on_listening)
      o_.on_listening(acceptor_.local_endpoint().port(),
                      metrics_acceptor_.is_open() ? metrics_acceptor_.local_endpoint().port() : 0);
    return true;
  }

  // Serves until a signal (or *stop), then drains the connections. Returns when every
  // connection is closed or the drain time is up.
  void run(std::atomic<bool>* stop) {
    stop_flag_ = stop;
    accept();
    if (metrics_acceptor_.is_open()) accept_metrics();
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) begin_drain();
    });
    schedule_tick();
    io_.run();
  }

  SteadyTime drain_deadline() const { return drain_deadline_; }
  bool drain_started() const { return draining_; }

  // Counters
  std::uint64_t connections_total = 0;
  std::uint64_t messages_read = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t unread_bytes = 0;  // received, not yet a message, when a connection was cut
  double stalled_seconds() const {
    double s = stalled_;
    if (paused_count_ > 0) s += std::chrono::duration<double>(std::chrono::steady_clock::now() - stall_start_).count();
    return s;
  }
  std::size_t open_connections() const { return conns_.size(); }

  std::string prometheus() const {
    const Stats st = producer_.stats();
    std::ostringstream m;
    auto counter = [&](const char* name, const char* help, auto v, const char* type = "counter") {
      m << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << v << "\n";
    };
    counter("eddy_bridge_connections_total", "TCP connections accepted", connections_total);
    counter("eddy_bridge_connections_open", "TCP connections open now", conns_.size(), "gauge");
    counter("eddy_bridge_messages_read_total", "Messages read from the sockets and handed to the producer", messages_read);
    counter("eddy_bridge_messages_sent_total", "Messages sent in PutRecords calls (retries counted again)", st.user_records_sent);
    counter("eddy_bridge_messages_acknowledged_total", "Messages acknowledged by Kinesis", st.user_records_acked);
    counter("eddy_bridge_messages_failed_total", "Messages given up on", st.user_records_failed);
    counter("eddy_bridge_throttled_entries_total", "PutRecords entries refused with ProvisionedThroughputExceededException", st.throttled_entries);
    counter("eddy_bridge_put_records_calls_total", "PutRecords calls", st.put_records_calls);
    counter("eddy_bridge_record_retries_total", "Kinesis records sent again after a failed entry or request", st.retries);
    counter("eddy_bridge_request_retries_total", "PutRecords requests the HTTP client sent again (transport error, 5xx, throttling)", st.request_retries);
    counter("eddy_bridge_stalled_seconds_total", "Seconds during which reading stopped because the producer buffer was full", stalled_seconds());
    counter("eddy_bridge_buffered_bytes", "Message bytes buffered in the producer, not yet acknowledged", st.buffered_bytes, "gauge");
    counter("eddy_bridge_max_buffer_bytes", "The producer buffer's limit", producer_.max_buffer_bytes(), "gauge");
    counter("eddy_bridge_receive_buffer_bytes", "SO_RCVBUF of the last accepted connection (as set; Linux reserves twice that)", receive_buffer_bytes_, "gauge");
    return m.str();
  }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io, Framing f) : sock(io), framer(f) {}
    tcp::socket sock;
    SyslogFramer framer;
    std::array<char, 64 * 1024> buf;
    bool paused = false;
    bool reading = false;
    bool eof = false;
    std::size_t waiting_bytes_hint = 0;  // size of the message that did not fit
    SteadyTime last_bytes = std::chrono::steady_clock::now();
  };
  using ConnPtr = std::shared_ptr<Conn>;

  template <typename Acceptor>
  bool open(Acceptor& a, const tcp::endpoint& ep, std::string* error, std::size_t receive_buffer = 0) {
    boost::system::error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && receive_buffer > 0)
      a.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(receive_buffer)), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      *error = "cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) + ": " + ec.message();
      return false;
    }
    return true;
  }

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;  // closed: draining
      auto c = std::make_shared<Conn>(io_, framing_);
      c->sock = std::move(s);
      if (o_.receive_buffer > 0) {
        boost::system::error_code opt;
        c->sock.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(o_.receive_buffer)), opt);
      }
      {
        asio::socket_base::receive_buffer_size got;
        boost::system::error_code opt;
        c->sock.get_option(got, opt);
        if (!opt) receive_buffer_bytes_ = static_cast<std::size_t>(got.value());
      }
      conns_.push_back(c);
      ++connections_total;
      read(c);
      accept();
    });
  }

  void read(const ConnPtr& c) {
    if (c->reading || c->paused || !c->sock.is_open()) return;
    c->reading = true;
    c->sock.async_read_some(asio::buffer(c->buf), [this, c](const boost::system::error_code& ec, std::size_t n) {
      c->reading = false;
      if (n > 0) {
        c->framer.feed(std::string_view(c->buf.data(), n));
        c->last_bytes = std::chrono::steady_clock::now();
      }
      if (ec) {
        c->eof = true;
        c->framer.finish();
      }
      process(c);
    });
  }

  // Hands the connection's complete messages to the producer; reads on, pauses, or closes.
  void process(const ConnPtr& c) {
    while (auto m = c->framer.peek()) {
      const PutStatus st = producer_.put(random_key(), *m, std::nullopt, false);
      if (st == PutStatus::would_block) {
        pause(c, m->size());
        return;
      }
      c->framer.pop();
      if (st == PutStatus::ok) ++messages_read;
    }
    if (c->framer.failed()) {
      ++protocol_errors;
      err_ << "eddy bridge: closing a connection: " << c->framer.error() << std::endl;
      close(c);
      return;
    }
    if (c->eof) {
      close(c);
      return;
    }
    read(c);
  }

  void pause(const ConnPtr& c, std::size_t bytes) {
    if (!c->paused) {
      c->paused = true;
      if (paused_count_++ == 0) stall_start_ = std::chrono::steady_clock::now();
    }
    c->waiting_bytes_hint = bytes;
  }

  void resume_paused() {
    const std::vector<ConnPtr> snapshot(conns_.begin(), conns_.end());
    for (const ConnPtr& c : snapshot) {
      if (!c->paused) continue;
      if (!producer_.has_room(c->waiting_bytes_hint + 16)) break;  // keep arrival order
      c->paused = false;
      if (--paused_count_ == 0)
        stalled_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - stall_start_).count();
      process(c);
    }
  }

  void close(const ConnPtr& c) {
    if (c->paused) {
      c->paused = false;
      if (--paused_count_ == 0)
        stalled_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - stall_start_).count();
    }
    unread_bytes += c->framer.buffered();
    boost::system::error_code ignored;
    c->sock.shutdown(tcp::socket::shutdown_both, ignored);
    c->sock.close(ignored);
    conns_.remove(c);
  }

  void begin_drain() {
    if (draining_) return;
    draining_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() +
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(o_.drain_timeout));
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    err_ << "eddy bridge: draining " << conns_.size() << " connection(s)" << std::endl;
  }

  void schedule_tick() {
    tick_.expires_after(std::chrono::milliseconds(2));
    tick_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      if (stop_flag_ && *stop_flag_) begin_drain();
      if (paused_count_ > 0) resume_paused();
      if (draining_) {
        const auto now = std::chrono::steady_clock::now();
        const auto idle = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(o_.idle_timeout));
        std::vector<ConnPtr> done;
        for (const ConnPtr& c : conns_)
          if (now >= drain_deadline_ || (!c->paused && c->framer.peek() == std::nullopt && now - c->last_bytes >= idle))
            done.push_back(c);
        for (const ConnPtr& c : done) close(c);
        if (conns_.empty()) {
          boost::system::error_code ignored;
          metrics_acceptor_.close(ignored);
          signals_.cancel(ignored);
          io_.stop();
          return;
        }
      }
      schedule_tick();
    });
  }

  void accept_metrics() {
    metrics_acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;
      auto sock = std::make_shared<tcp::socket>(std::move(s));
      auto buf = std::make_shared<asio::streambuf>(16 * 1024);
      asio::async_read_until(*sock, *buf, "\r\n\r\n", [this, sock, buf](const boost::system::error_code& rec, std::size_t) {
        if (rec) return;
        std::istream req(buf.get());
        std::string method, target;
        req >> method >> target;
        std::string body, status = "200 OK";
        if (target == "/metrics" || target == "/") {
          body = prometheus();
        } else {
          status = "404 Not Found";
          body = "not found; try /metrics\n";
        }
        auto resp = std::make_shared<std::string>(
            "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        asio::async_write(*sock, asio::buffer(*resp), [sock, resp](const boost::system::error_code&, std::size_t) {
          boost::system::error_code ignored;
          sock->shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
      accept_metrics();
    });
  }

  std::string random_key() {
    static constexpr char hex[] = "0123456789abcdef";
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    std::uint64_t v = rng_;
    std::string k(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) k[static_cast<std::size_t>(i)] = hex[v & 15];
    return k;
  }

  const BridgeOptions& o_;
  Producer& producer_;
  Framing framing_;
  std::ostream& err_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::acceptor metrics_acceptor_;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  std::list<ConnPtr> conns_;
  std::size_t paused_count_ = 0;
  std::size_t receive_buffer_bytes_ = 0;
  SteadyTime stall_start_{};
  double stalled_ = 0;
  bool draining_ = false;
  SteadyTime drain_deadline_{};
  std::atomic<bool>* stop_flag_ = nullptr;
  std::uint64_t rng_ = 0x2545F4914F6CDD1Dull ^
                       static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
};

}  // namespace

int run_bridge(const BridgeOptions& o, Transport& transport, std::ostream& out, std::ostream& err,
               std::atomic<bool>* stop) {
  auto fail = [&](const std::string& m) {
    err << "eddy bridge: " << m << std::endl;
    return 1;
  };
  Framing framing;
  if (!parse_framing(o.framing, framing)) return fail("--framing must be lf, octet or auto");
  ProducerConfig config;
  std::string error;
  if (!o.kpl.build(config, &error)) return fail(error);
  config.record_ttl = std::chrono::milliseconds(0);  // nothing read ever expires in the bridge
  config.max_buffer_bytes = o.max_buffer_bytes;
  SteadyClock clock;
  Producer producer(config, transport, clock);
  if (!producer.start(&error)) return fail("cannot list the shards of " + o.stream + ": " + error);
  const auto start = std::chrono::steady_clock::now();
  Bridge bridge(o, producer, framing, err);
  if (!bridge.bind(&error)) return fail(error);
  bridge.run(stop);
  // Every connection is closed: send what the producer holds, within what is left of the
  // drain time.
  const bool drained = producer.flush(bridge.drain_deadline());
  producer.stop();
  const Stats st = producer.stats();
  const std::uint64_t unacked = bridge.messages_read - st.user_records_acked;
  nlohmann::json summary = {
      {"stream", o.stream},
      {"connections", bridge.connections_total},
      {"messagesRead", bridge.messages_read},
      {"sent", st.user_records_sent},
      {"acknowledged", st.user_records_acked},
      {"failed", st.user_records_failed},
      {"unacknowledged", unacked},
      {"kinesisRecords", st.kinesis_records_acked},
      {"putRecordsCalls", st.put_records_calls},
      {"retries", st.retries + st.request_retries},
      {"recordRetries", st.retries},
      {"requestRetries", st.request_retries},
      {"throttledEntries", st.throttled_entries},
      {"protocolErrors", bridge.protocol_errors},
      {"unreadBytes", bridge.unread_bytes},
      {"stalledSeconds", std::round(bridge.stalled_seconds() * 1000) / 1000},
      {"elapsedSeconds", std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() * 1000) / 1000},
      {"drained", drained},
  };
  out << summary.dump() << std::endl;
  if (unacked > 0 || st.user_records_failed > 0)
    return fail(std::to_string(unacked) + " of " + std::to_string(bridge.messages_read) +
                " messages read were not acknowledged" +
                (producer.last_error().empty() ? "" : "; last error: " + producer.last_error()));
  return 0;
}

void register_bridge_command(CLI::App& app) {
  auto o = std::make_shared<BridgeOptions>();
  auto* cmd = app.add_subcommand(
      "bridge", "Syslog over TCP (newline or RFC 6587 octet counting) into a stream, with backpressure");
  cmd->add_option("--stream", o->stream, "Stream name")->required();
  cmd->add_option("--listen", o->listen, "HOST:PORT to accept syslog connections on (port 0: any)")
      ->capture_default_str();
  cmd->add_option("--max-buffer-bytes", o->max_buffer_bytes,
                  "Message bytes buffered before the bridge stops reading its sockets")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--receive-buffer", o->receive_buffer,
                  "SO_RCVBUF bytes of each accepted connection (0: the kernel's autotuned default), "
                  "so backpressure reaches the sender after this much instead of tcp_rmem's maximum")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--metrics-port", o->metrics_port, "Serve Prometheus counters on this port (0: any)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--framing", o->framing, "lf, octet or auto (per connection)")
      ->check(CLI::IsMember({"lf", "octet", "auto"}))
      ->capture_default_str();
  cmd->add_option("--drain-timeout", o->drain_timeout, "Seconds to drain after SIGTERM")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o->idle_timeout,
                  "While draining, a connection silent this many seconds is done")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  o->kpl.add_to(*cmd, {"RecordTtl", "MaxBufferBytes"});
  client::add_session_options(*cmd, o->session);
  client::bind_tool_environment(*cmd, "bridge");
  cmd->callback([o] {
    std::string error;
    auto session = client::Session::create(o->session, &error);
    if (!session) throw CLI::RuntimeError(client::fail("bridge", error));
    client::KinesisClient kinesis(*session);
    KinesisTransport transport(kinesis, o->stream);
    const int rc = run_bridge(*o, transport, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace eddy::producer
