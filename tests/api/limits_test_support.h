#pragma once
// Shared by the throttle, fault and clock API tests: a server on a manual clock, Kinesis
// short-hands, and a raw socket for faults that drop or reset the connection.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "server/app.h"
#include "tests/support/server_fixture.h"

namespace eddy::test {

class LimitsFixture : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.clock = "manual";
    tune(c);
  }
  virtual void tune(Config&) {}

  ManualClock& clock() { return *app_->manual_clock(); }
  std::string account() const { return config_.account_id; }

  nlohmann::json ok(const std::string& op, const nlohmann::json& in) {
    auto r = kinesis(op, in);
    EXPECT_EQ(r.status, 200) << op << " -> " << r.raw.substr(0, 400);
    return r.body.is_object() ? r.body : nlohmann::json::object();
  }

  nlohmann::json admin(const std::string& method, const std::string& target, const nlohmann::json& body,
                       int expect = 200) {
    auto r = http(method, target, {{"Content-Type", "application/json"}}, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expect) << method << " " << target << " -> " << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }

  static std::string shard_id(int i) {
    char buf[32];
    snprintf(buf, sizeof buf, "shardId-%012d", i);
    return buf;
  }

  // n entries "<prefix><i>" -> "<payload><i>" (PartitionKey + Data as given).
  static nlohmann::json entries(int n, const std::string& key_prefix, size_t data_bytes, int first = 0) {
    nlohmann::json recs = nlohmann::json::array();
    for (int i = first; i < first + n; ++i) {
      std::string data = std::to_string(i);
      data.resize(data_bytes, '.');
      recs.push_back({{"PartitionKey", key_prefix}, {"Data", b64(data)}});
    }
    return recs;
  }

  // Reads every record of a shard from TRIM_HORIZON. Throttled reads wait by moving the
  // manual clock, so this works whatever the throttle mode.
  std::vector<nlohmann::json> read_back(const std::string& stream, int shard = 0) {
    std::vector<nlohmann::json> out;
    std::string it;
    for (int tries = 0; tries < 20 && it.empty(); ++tries) {
      auto r = kinesis("GetShardIterator",
                       {{"StreamName", stream}, {"ShardId", shard_id(shard)}, {"ShardIteratorType", "TRIM_HORIZON"}});
      if (r.status == 200) it = r.body["ShardIterator"].get<std::string>();
      else clock().advance_ms(1000);
    }
    EXPECT_FALSE(it.empty());
    for (int calls = 0; calls < 1000 && !it.empty(); ++calls) {
      auto r = kinesis("GetRecords", {{"ShardIterator", it}});
      if (r.status == 400 && r.type() == "ProvisionedThroughputExceededException") {
        clock().advance_ms(1000);
        continue;
      }
      EXPECT_EQ(r.status, 200) << r.raw.substr(0, 300);
      if (r.status != 200) break;
      for (auto& rec : r.body["Records"]) out.push_back(rec);
      if (r.body["Records"].empty() && r.body.value("MillisBehindLatest", 0) == 0) break;
      it = r.body.value("NextShardIterator", std::string());
    }
    return out;
  }
};

// What a client sees on a connection: the bytes before the server stopped, and how it stopped.
struct RawExchange {
  std::string received;
  boost::system::error_code end;  // eof: closed; connection_reset: reset
  int64_t elapsed_ms = 0;
  size_t reads = 0;
};

inline RawExchange raw_request(uint16_t port, const std::string& request) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  auto start = std::chrono::steady_clock::now();
  asio::write(sock, asio::buffer(request));
  RawExchange ex;
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    size_t n = sock.read_some(asio::buffer(buf), ec);
    if (n) {
      ex.received.append(buf, n);
      ++ex.reads;
    }
    if (ec) {
      ex.end = ec;
      break;
    }
    // A complete response with Connection: close is not expected; stop once the body is in.
    auto hdr_end = ex.received.find("\r\n\r\n");
    if (hdr_end != std::string::npos) {
      auto cl = ex.received.find("Content-Length: ");
      if (cl == std::string::npos) cl = ex.received.find("content-length: ");
      if (cl != std::string::npos) {
        size_t len = std::stoul(ex.received.substr(cl + 16));
        if (ex.received.size() >= hdr_end + 4 + len) break;
      }
    }
  }
  ex.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  return ex;
}

inline std::string kinesis_http_request(const std::string& op, const nlohmann::json& body) {
  std::string b = body.dump();
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "
         "Kinesis_20131202." +
         op +
         "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=00\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: " +
         std::to_string(b.size()) + "\r\n\r\n" + b;
}

}  // namespace eddy::test
