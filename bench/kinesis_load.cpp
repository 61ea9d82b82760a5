// eddy_load: a Kinesis load generator for side-by-side measurements (eddy, kinesalite, ...).
// Speaks JSON 1.1 over HTTP/1.1 keep-alive: N connections with one request in flight each,
// driven by --threads event-loop threads (default 1).
//
//   eddy_load --port P --mode putrecords  [--seconds 10] [--inflight 8] [--batch 500] [--size 100]
//   eddy_load --port P --mode putrecord   [--seconds 10] [--inflight 8] [--size 100]
//   eddy_load --port P --mode getrecords  [--seconds 10] [--inflight 8] [--prefill 100000]
//
// Prints one JSON line: {"mode":..,"requests_per_s":..,"records_per_s":..,"errors":..}.
// GCC 12 reports Asio's awaitable frame operator delete as mismatched when a coroutine is a
// lambda (a false positive: Asio allocates and frees the frame with its own matching pair).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "wire/base64.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

// A complete HTTP/1.1 request, serialised once.
std::string raw_request(const std::string& host_header, const std::string& op, const std::string& body) {
  std::string r = "POST / HTTP/1.1\r\nHost: " + host_header +
                  "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202." + op +
                  "\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
                  "Credential=test/20260101/us-east-1/kinesis/aws4_request, "
                  "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
                  std::string(64, '0') + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return r + body;
}

// A blocking connection for the set-up calls (create, wait, prefill, delete).
struct Conn {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buf;
  std::string host;
  std::string port;

  Conn(std::string h, std::string p) : host(std::move(h)), port(std::move(p)) {
    asio::ip::tcp::resolver r(ioc);
    stream.connect(r.resolve(host, port));
    stream.socket().set_option(asio::ip::tcp::no_delay(true));
    buf.reserve(64 * 1024);  // Beast reads max(512, free capacity) bytes per recvmsg
  }

  // Returns the HTTP status and fills body.
  int call(const std::string& op, const std::string& payload, std::string& body) {
    asio::write(stream, asio::buffer(raw_request(host + ":" + port, op, payload)));
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(64 * 1024 * 1024);
    bhttp::read(stream, buf, p);
    body = std::move(p.get().body());
    return static_cast<int>(p.get().result_int());
  }
};

std::string put_records_body(const std::string& stream, int batch, int size, std::mt19937_64& rng) {
  std::string data(static_cast<size_t>(size), 'x');
  for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
  std::string b64 = eddy::wire::base64_encode(data);
  std::string out = "{\"StreamName\":\"" + stream + "\",\"Records\":[";
  for (int i = 0; i < batch; ++i) {
    if (i) out += ',';
    out += "{\"PartitionKey\":\"pk-" + std::to_string(rng() % 100000) + "\",\"Data\":\"" + b64 + "\"}";
  }
  out += "]}";
  return out;
}
}  // namespace

// Records in a GetRecords response: each has exactly one "SequenceNumber" member.
size_t count_records(const std::string& resp) {
  size_t n = 0;
  for (size_t pos = resp.find("\"SequenceNumber\""); pos != std::string::npos;
       pos = resp.find("\"SequenceNumber\"", pos + 16))
    ++n;
  return n;
}

// NextShardIterator's string value, or "" when it is absent or null.
std::string next_iterator(const std::string& resp) {
  static const std::string key = "\"NextShardIterator\"";
  size_t pos = resp.find(key);
  if (pos == std::string::npos) return {};
  pos = resp.find_first_not_of(" :", pos + key.size());
  if (pos == std::string::npos || resp[pos] != '"') return {};
  size_t end = resp.find('"', pos + 1);
  return end == std::string::npos ? std::string{} : resp.substr(pos + 1, end - pos - 1);
}

int main(int argc, char** argv) {
  CLI::App app{"Kinesis load generator"};
  std::string host = "127.0.0.1", mode = "putrecords", stream = "bench";
  int port = 4566, seconds = 10, inflight = 8, batch = 500, size = 100, shards = 4, prefill = 100000, threads = 1;
  app.add_option("--host", host);
  app.add_option("--port", port)->required();
  app.add_option("--mode", mode)->check(CLI::IsMember({"putrecords", "putrecord", "getrecords"}));
  app.add_option("--stream", stream);
  app.add_option("--seconds", seconds);
  app.add_option("--inflight", inflight, "connections, one request in flight each");
  app.add_option("--threads", threads, "event-loop threads driving the connections");
  app.add_option("--batch", batch);
  app.add_option("--size", size, "record data bytes");
  app.add_option("--shards", shards);
  app.add_option("--prefill", prefill, "records put before a getrecords run");
  CLI11_PARSE(app, argc, argv);

  std::string p = std::to_string(port);
  std::string body;
  {
    Conn c(host, p);
    c.call("CreateStream", json{{"StreamName", stream}, {"ShardCount", shards}}.dump(), body);
    for (int i = 0; i < 100; ++i) {  // kinesalite makes streams ACTIVE after ~500 ms
      c.call("DescribeStreamSummary", json{{"StreamName", stream}}.dump(), body);
      auto j = json::parse(body, nullptr, false);
      if (j.is_object() && j.contains("StreamDescriptionSummary") &&
          j["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::vector<std::string> iterators;
  if (mode == "getrecords") {
    Conn c(host, p);
    std::mt19937_64 rng(7);
    for (int done = 0; done < prefill;) {
      int st = c.call("PutRecords", put_records_body(stream, 500, size, rng), body);
      if (st == 200) done += 500;  // a slow peer may answer with an error: put the batch again
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (int s = 0; s < shards; ++s) {
      c.call("GetShardIterator",
             json{{"StreamName", stream}, {"ShardId", "shardId-" + std::string(12 - std::to_string(s).size(), '0') + std::to_string(s)},
                  {"ShardIteratorType", "TRIM_HORIZON"}}.dump(), body);
      auto j = json::parse(body, nullptr, false);
      if (!j.is_object() || !j.contains("ShardIterator")) {
        std::cerr << "GetShardIterator failed: " << body << "\n";
        return 1;
      }
      iterators.push_back(j["ShardIterator"].get<std::string>());
    }
  }

  std::atomic<uint64_t> requests{0}, records{0}, errors{0};
  std::atomic<bool> stop{false};
  asio::io_context ioc(threads);
  const std::string host_header = host + ":" + p;
  // One coroutine per connection on a few event-loop threads: a thread per connection makes
  // every response a wake-up and a context switch on the machine that also runs the server.
  auto connection = [&](int id) -> asio::awaitable<void> {
    try {
      asio::ip::tcp::socket sock(ioc);
      asio::ip::tcp::resolver r(ioc);
      co_await asio::async_connect(sock, co_await r.async_resolve(host, p, asio::use_awaitable), asio::use_awaitable);
      sock.set_option(asio::ip::tcp::no_delay(true));
      beast::flat_buffer buf;
      buf.reserve(64 * 1024);  // Beast reads max(512, free capacity) bytes per recvmsg
      std::mt19937_64 rng(static_cast<uint64_t>(id) * 7919 + 1);
      // Fixed, fully serialised requests per connection: the generator must not be the bottleneck.
      std::vector<std::string> requests_bytes;
      if (mode == "putrecords") {
        for (int i = 0; i < 8; ++i)
          requests_bytes.push_back(raw_request(host_header, "PutRecords", put_records_body(stream, batch, size, rng)));
      } else if (mode == "putrecord") {
        std::string data(static_cast<size_t>(size), 'y');
        for (int i = 0; i < 64; ++i)
          requests_bytes.push_back(raw_request(host_header, "PutRecord",
                                               json{{"StreamName", stream}, {"PartitionKey", "pk-" + std::to_string(rng())},
                                                    {"Data", eddy::wire::base64_encode(data)}}.dump()));
      }
      std::string iterator = iterators.empty() ? "" : iterators[static_cast<size_t>(id) % iterators.size()];
      std::string get_request;
      size_t n = 0;
      while (!stop) {
        const std::string* out;
        if (mode == "getrecords") {
          get_request = raw_request(host_header, "GetRecords", json{{"ShardIterator", iterator}, {"Limit", 10000}}.dump());
          out = &get_request;
        } else {
          out = &requests_bytes[n++ % requests_bytes.size()];
        }
        co_await asio::async_write(sock, asio::buffer(*out), asio::use_awaitable);
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        co_await bhttp::async_read(sock, buf, parser, asio::use_awaitable);
        const int st = static_cast<int>(parser.get().result_int());
        const std::string& resp = parser.get().body();
        if (st != 200) {
          ++errors;
          continue;
        }
        if (mode == "putrecords") {
          records += static_cast<uint64_t>(batch);
        } else if (mode == "putrecord") {
          records += 1;
        } else {
          // Scan instead of a full parse: on a 2-core machine the generator shares the CPU with
          // the server, and parsing 10,000 records per response would measure the generator.
          size_t got = count_records(resp);
          records += got;
          std::string next = next_iterator(resp);
          if (got == 0 || next.empty())
            iterator = iterators[static_cast<size_t>(id) % iterators.size()];  // read the shard again
          else iterator = std::move(next);
        }
        ++requests;
      }
    } catch (const std::exception& e) {
      std::cerr << "connection " << id << ": " << e.what() << "\n";
      ++errors;
    }
  };
  for (int i = 0; i < inflight; ++i) asio::co_spawn(ioc, connection(i), asio::detached);
  asio::steady_timer timer(ioc, std::chrono::seconds(seconds));
  timer.async_wait([&](boost::system::error_code) { stop = true; });
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();  // returns when every connection has finished its last request
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    // Delete the stream so the next run fits in a peer's shard limit (kinesalite: 10 shards).
    Conn c(host, p);
    c.call("DeleteStream", json{{"StreamName", stream}}.dump(), body);
    for (int i = 0; i < 100; ++i) {
      if (c.call("DescribeStreamSummary", json{{"StreamName", stream}}.dump(), body) != 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  json out = {{"mode", mode},
              {"seconds", secs},
              {"requests_per_s", static_cast<double>(requests) / secs},
              {"records_per_s", static_cast<double>(records) / secs},
              {"errors", errors.load()}};
  std::cout << out.dump() << std::endl;
  return 0;
}
