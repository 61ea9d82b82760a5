// Kinesis workloads: PutRecords, PutRecord and GetRecords over JSON 1.1 (the form every SDK
// but Java's speaks), with a well-formed SigV4 header whose signature no peer checks.
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bench/load/workload.h"
#include "wire/base64.h"

namespace eddy::bench {
namespace {

using nlohmann::json;

std::string head_for(const Options& o, const std::string& op, size_t body_size) {
  return "POST / HTTP/1.1\r\nHost: " + o.host_header +
         "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202." + op +
         "\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
         "Credential=test/20260101/us-east-1/kinesis/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
         std::string(64, '0') + "\r\nContent-Length: " + std::to_string(body_size) + "\r\n\r\n";
}

// A request that owns its body.
struct OwnedRequest {
  std::string body;
  Request req;
  void set(const Options& o, const std::string& op, std::string b) {
    body = std::move(b);
    req.head = head_for(o, op, body.size());
    req.body = body;
  }
};

std::string put_records_body(const std::string& stream, int batch, uint64_t size, std::mt19937_64& rng) {
  std::string data(size, 'x');
  for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
  const std::string b64 = wire::base64_encode(data);
  std::string out = "{\"StreamName\":\"" + stream + "\",\"Records\":[";
  for (int i = 0; i < batch; ++i) {
    if (i) out += ',';
    out += "{\"PartitionKey\":\"pk-" + std::to_string(rng() % 100000) + "\",\"Data\":\"" + b64 + "\"}";
  }
  return out + "]}";
}

std::string shard_id(int s) {
  const std::string n = std::to_string(s);
  return "shardId-" + std::string(12 - n.size(), '0') + n;
}

// PutRecords answers: a 200 counts the entries the server took; FailedRecordCount entries are
// failures, and an answer without it is an error (it is not a PutRecords answer).
Outcome judge_put_records(const Response& r, int batch) {
  Outcome out;
  if (r.status != 200) {
    out.error = true;
    out.detail = snippet(r.status, r.body);
    return out;
  }
  const std::string failed = scan_json_value(r.body, "FailedRecordCount");
  if (failed.empty()) {
    out.error = true;
    out.detail = "no FailedRecordCount in " + snippet(r.status, r.body);
    return out;
  }
  out.failed = std::stoull(failed);
  if (out.failed > static_cast<uint64_t>(batch)) out.failed = static_cast<uint64_t>(batch);
  out.items = static_cast<uint64_t>(batch) - out.failed;
  if (out.failed) out.detail = "FailedRecordCount " + failed + ", ErrorCode " + scan_json_value(r.body, "ErrorCode");
  return out;
}

class PutRecordsConn : public Connection {
 public:
  PutRecordsConn(const Options& o, int id, std::atomic<int64_t>* budget) : o_(o), budget_(budget) {
    std::mt19937_64 rng(static_cast<uint64_t>(id) * 7919 + 1);
    // Fixed, fully serialised requests: the generator must not be the bottleneck.
    for (auto& r : reqs_) r.set(o, "PutRecords", put_records_body(o.stream, o.batch, o.size, rng));
  }
  const Request* next() override {
    if (budget_ && budget_->fetch_sub(o_.batch) <= 0) return nullptr;  // --records: stop when they are all sent
    return &reqs_[n_++ % reqs_.size()].req;
  }
  Outcome done(const Response& r) override { return judge_put_records(r, o_.batch); }

 private:
  const Options& o_;
  std::atomic<int64_t>* budget_;
  std::array<OwnedRequest, 8> reqs_;
  size_t n_ = 0;
};

class PutRecordConn : public Connection {
 public:
  PutRecordConn(const Options& o, int id) {
    std::mt19937_64 rng(static_cast<uint64_t>(id) * 7919 + 1);
    const std::string data(o.size, 'y');
    for (auto& r : reqs_)
      r.set(o, "PutRecord",
            json{{"StreamName", o.stream}, {"PartitionKey", "pk-" + std::to_string(rng())},
                 {"Data", wire::base64_encode(data)}}
                .dump());
  }
  const Request* next() override { return &reqs_[n_++ % reqs_.size()].req; }
  Outcome done(const Response& r) override {
    Outcome out;
    if (r.status != 200 || scan_json_value(r.body, "SequenceNumber").empty()) {
      out.error = true;
      out.detail = snippet(r.status, r.body);
      return out;
    }
    out.items = 1;
    return out;
  }

 private:
  std::array<OwnedRequest, 64> reqs_;
  size_t n_ = 0;
};

class GetRecordsConn : public Connection {
 public:
  GetRecordsConn(const Options& o, std::string first) : o_(o), first_(std::move(first)), iterator_(first_) {}
  const Request* next() override {
    if (finished_) return nullptr;
    req_.set(o_, "GetRecords", json{{"ShardIterator", iterator_}, {"Limit", 10000}}.dump());
    return &req_.req;
  }
  Outcome done(const Response& r) override {
    Outcome out;
    if (r.status != 200) {
      out.error = true;
      out.detail = snippet(r.status, r.body);
      return out;
    }
    // Scan instead of a full parse: parsing 10,000 records per answer would measure the generator.
    out.items = count_of(r.body, "\"SequenceNumber\"");
    out.bytes = r.body_bytes;
    std::string next = scan_json_value(r.body, "NextShardIterator");
    if (out.items == 0 || next.empty()) {
      finished_ = o_.once;
      iterator_ = first_;  // read the shard again
    } else {
      iterator_ = std::move(next);
    }
    return out;
  }

 private:
  const Options& o_;
  std::string first_, iterator_;
  OwnedRequest req_;
  bool finished_ = false;
};

class KinesisWorkload : public Workload {
 public:
  explicit KinesisWorkload(const Options& o) : o_(o) {
    if (o.records) budget_ = std::make_unique<std::atomic<int64_t>>(static_cast<int64_t>(o.records));
  }

  void setup(BlockingClient& c) override {
    if (o_.no_setup) return;
    call(c, "CreateStream", json{{"StreamName", o_.stream}, {"ShardCount", o_.shards}});  // may exist (--keep)
    for (int i = 0; i < 100; ++i) {  // kinesalite makes streams ACTIVE after ~500 ms
      auto r = call(c, "DescribeStreamSummary", json{{"StreamName", o_.stream}});
      auto j = json::parse(r.body, nullptr, false);
      if (j.is_object() && j.contains("StreamDescriptionSummary") &&
          j["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (o_.mode != "getrecords") return;
    const auto t0 = std::chrono::steady_clock::now();
    std::mt19937_64 rng(7);
    int refused = 0;
    const auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(o_.prefill_seconds));
    int done = 0;
    while (done < o_.prefill && std::chrono::steady_clock::now() < deadline) {
      auto r = call(c, "PutRecords", put_records_body(o_.stream, 500, o_.size, rng));
      Response resp{r.status, r.body, r.body.size(), {}};
      Outcome out = judge_put_records(resp, 500);
      done += static_cast<int>(out.items);
      if (out.error || out.failed) {  // a slow peer may refuse some: put them again
        if (++refused > 1000) throw std::runtime_error("prefill refused: " + snippet(r.status, r.body));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    prefilled = static_cast<uint64_t>(done);
    if (o_.prefill > 0 && done == 0) throw std::runtime_error("prefill stored nothing in time");
    for (int s = 0; s < o_.shards; ++s) {
      auto r = call(c, "GetShardIterator",
                    json{{"StreamName", o_.stream}, {"ShardId", shard_id(s)}, {"ShardIteratorType", "TRIM_HORIZON"}});
      auto j = json::parse(r.body, nullptr, false);
      if (!j.is_object() || !j.contains("ShardIterator"))
        throw std::runtime_error("GetShardIterator failed: " + r.body);
      iterators_.push_back(j["ShardIterator"].get<std::string>());
    }
  }

  std::unique_ptr<Connection> connection(int id) override {
    if (o_.mode == "putrecords") return std::make_unique<PutRecordsConn>(o_, id, budget_.get());
    if (o_.mode == "putrecord") return std::make_unique<PutRecordConn>(o_, id);
    return std::make_unique<GetRecordsConn>(o_, iterators_[static_cast<size_t>(id) % iterators_.size()]);
  }

  void teardown(BlockingClient& c, EngineResult&) override {
    // Delete the stream so the next run fits in a peer's shard limit (kinesalite: 10 shards).
    if (o_.no_setup || o_.records || o_.keep) return;  // a scale run keeps what it stored
    call(c, "DeleteStream", json{{"StreamName", o_.stream}});
    for (int i = 0; i < 100; ++i) {
      if (call(c, "DescribeStreamSummary", json{{"StreamName", o_.stream}}).status != 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  BlockingClient::Reply call(BlockingClient& c, const std::string& op, const json& body) {
    return call(c, op, body.dump());
  }
  BlockingClient::Reply call(BlockingClient& c, const std::string& op, std::string body) {
    OwnedRequest r;
    r.set(o_, op, std::move(body));
    return c.call(r.req);
  }

  const Options& o_;
  std::unique_ptr<std::atomic<int64_t>> budget_;
  std::vector<std::string> iterators_;
};

}  // namespace

std::unique_ptr<Workload> make_kinesis_workload(const Options& o) {
  if (o.mode != "putrecords" && o.mode != "putrecord" && o.mode != "getrecords") return nullptr;
  return std::make_unique<KinesisWorkload>(o);
}

}  // namespace eddy::bench
