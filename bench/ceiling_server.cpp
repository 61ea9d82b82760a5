// eddy_ceiling: the ceiling server of the side-by-side measurements. A bare Beast server with
// eddy's threading (one io_context per core, each run by one thread; one acceptor handing
// connections to the loops in turn) that parses each request with Beast and answers a fixed
// response, serialised once:
//   POST (Kinesis-sized calls)  a ~100 B JSON body like PutRecord's answer (it carries
//                               FailedRecordCount 0 as well, so PutRecords runs count)
//   GET                         a fixed 4 KiB body (S3 GetObject of a 4 KiB object)
//   HEAD                        the same headers, no body
//   PUT and anything else       200 with an ETag and no body (PutObject)
// What eddy does on top of this (routing, auth, the store, metrics) is the difference between
// the two in bench/run.py's tables; what the machine can do at all is this.
//
//   eddy_ceiling [--host 127.0.0.1] [--port 0] [--threads cores]   prints "listening on PORT"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string response(std::string_view content_type, std::string_view extra, size_t length, std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) + "\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n" + std::string(body);
}

struct Responses {
  std::string json, get, head, put;
  Responses() {
    const std::string body =
        R"({"FailedRecordCount":0,"SequenceNumber":"49654428339584726183745849340303234782334328349870329858","ShardId":"shardId-000000000000"})";
    json = response("application/x-amz-json-1.1", "x-amzn-RequestId: 5f0a6c1e-0c3b-4f7e-9d0e-2a1b3c4d5e6f\r\n", body.size(), body);
    const std::string object(4096, 'o');
    const std::string obj_headers = "ETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n";
    get = response("binary/octet-stream", obj_headers, object.size(), object);
    head = response("binary/octet-stream", obj_headers, object.size(), "");
    put = response("binary/octet-stream", "ETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\n", 0, "");
  }
};

asio::awaitable<void> session(tcp::socket sock, const Responses& rs) {
  beast::flat_buffer buf;
  buf.reserve(64 * 1024);
  try {
    for (;;) {
      bhttp::request_parser<bhttp::string_body> p;
      p.body_limit(64u << 20);
      co_await bhttp::async_read(sock, buf, p, asio::use_awaitable);
      const auto& req = p.get();
      const std::string* out = &rs.put;
      switch (req.method()) {
        case bhttp::verb::post: out = &rs.json; break;
        case bhttp::verb::get: out = &rs.get; break;
        case bhttp::verb::head: out = &rs.head; break;
        default: break;
      }
      co_await asio::async_write(sock, asio::buffer(*out), asio::use_awaitable);
      if (!req.keep_alive()) break;
    }
  } catch (const std::exception&) {
    // the client went away
  }
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A bare Beast server answering fixed responses (the benchmark's ceiling)"};
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("--host", host);
  app.add_option("--port", port);
  app.add_option("--threads", threads, "event loops, one thread each");
  CLI11_PARSE(app, argc, argv);

  const Responses rs;
  std::vector<std::unique_ptr<asio::io_context>> loops;
  for (unsigned i = 0; i < threads; ++i) loops.push_back(std::make_unique<asio::io_context>(1));
  tcp::acceptor acc(*loops[0]);
  const tcp::endpoint ep(asio::ip::make_address(host), port);
  acc.open(ep.protocol());
  acc.set_option(asio::socket_base::reuse_address(true));
  acc.bind(ep);
  acc.listen(asio::socket_base::max_listen_connections);
  std::cout << "listening on " << acc.local_endpoint().port() << std::endl;

  asio::co_spawn(
      *loops[0],
      [&]() -> asio::awaitable<void> {
        for (size_t next = 0;; ++next) {
          auto& loop = *loops[next % loops.size()];
          tcp::socket s = co_await acc.async_accept(loop.get_executor(), asio::use_awaitable);
          s.set_option(tcp::no_delay(true));
          asio::co_spawn(loop, session(std::move(s), rs), asio::detached);
        }
      },
      asio::detached);
  asio::signal_set signals(*loops[0], SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    for (auto& l : loops) l->stop();
  });
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (auto& l : loops) work.push_back(asio::make_work_guard(*l));
  std::vector<std::thread> pool;
  for (size_t i = 1; i < loops.size(); ++i) pool.emplace_back([&, i] { loops[i]->run(); });
  loops[0]->run();
  for (auto& t : pool) t.join();
  return 0;
}
