// SubscribeToShard: the event stream over HTTP/2 (prior knowledge) and HTTP/1.1 (chunked), in
// JSON and CBOR — initial-response, records present at the start, records put after
// subscribing pushed as they arrive, ResourceInUseException for a second subscription, the end
// after 5 minutes of the manual clock, ChildShards when the shard is split while subscribed,
// an exception event when the consumer is deregistered, --throttle aws's 2 MiB/s, and the
// errors of a refused subscription.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "server/kinesis/codec.h"
#include "tests/api/http2_client.h"
#include "tests/support/kinesis_fixture.h"
#include "wire/base64.h"
#include "wire/event_stream.h"

using namespace eddy::test;
using nlohmann::json;
namespace es = eddy::wire::event_stream;

namespace {

struct Event {
  std::string message_type, event_type, exception_type, content_type;
  json body;
};

json decode_payload(const std::string& content_type, const std::string& payload) {
  if (content_type.find("cbor") != std::string::npos) {
    // eddy's own CBOR reader: nlohmann's rejects tag 1, which timestamps carry.
    json out;
    if (!eddy::kinesis::decode_cbor(payload, out)) return json(json::value_t::discarded);
    return out;
  }
  return json::parse(payload, nullptr, false);
}

Event event_of(const es::Message& m) {
  Event e;
  auto get = [&](const char* n) { return m.header(n) ? m.header(n)->bytes : std::string(); };
  e.message_type = get(":message-type");
  e.event_type = get(":event-type");
  e.exception_type = get(":exception-type");
  e.content_type = get(":content-type");
  e.body = decode_payload(e.content_type, m.payload);
  return e;
}

std::vector<Event> events_of(const std::string& bytes) {
  std::vector<Event> out;
  es::Decoder d;
  d.feed(bytes);
  while (auto m = d.next()) out.push_back(event_of(*m));
  EXPECT_FALSE(d.failed()) << d.error();
  return out;
}

size_t record_count(const std::vector<Event>& evs) {
  size_t n = 0;
  for (auto& e : evs)
    if (e.event_type == "SubscribeToShardEvent") n += e.body["Records"].size();
  return n;
}

// Records received so far on stream `id`, each event decoded once as its bytes arrive (decoding
// the whole body again at every read made this test quadratic: 20 s under the sanitizers).
struct RecordsSoFar {
  H2Client& h2;
  int32_t id;
  size_t fed = 0, count = 0;
  es::Decoder decoder;
  size_t operator()() {
    const std::string& body = h2.response(id).body;
    decoder.feed(std::string_view(body).substr(fed));
    fed = body.size();
    while (auto m = decoder.next()) count += record_count({event_of(*m)});
    EXPECT_FALSE(decoder.failed()) << decoder.error();
    return count;
  }
};

// A minimal HTTP/1.1 client for one streamed (chunked) response: the body is read as it comes.
class H1Stream {
 public:
  H1Stream(uint16_t port, const std::string& request) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    (void)!write(fd_, request.data(), request.size());
  }
  ~H1Stream() {
    if (fd_ >= 0) close(fd_);
  }
  // Reads until `done(body)` or the end of the body/connection or 20 s.
  bool run_until(const std::function<bool(const std::string&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done(body) && !ended && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[65536];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) {
        ended = true;
        break;
      }
      raw_.append(buf, static_cast<size_t>(n));
      parse();
    }
    return done(body);
  }
  std::string head, body;
  bool ended = false;  // last chunk seen or connection closed

 private:
  void parse() {
    if (head.empty()) {
      auto e = raw_.find("\r\n\r\n");
      if (e == std::string::npos) return;
      head = raw_.substr(0, e + 4);
      raw_.erase(0, e + 4);
    }
    for (;;) {
      auto e = raw_.find("\r\n");
      if (e == std::string::npos) return;
      size_t len = std::stoul(raw_.substr(0, e), nullptr, 16);
      if (raw_.size() < e + 2 + len + 2) return;
      if (len == 0) {
        ended = true;
        return;
      }
      body += raw_.substr(e + 2, len);
      raw_.erase(0, e + 2 + len + 2);
    }
  }
  int fd_ = -1;
  std::string raw_;
};

class KinesisSubscribe : public KinesisFixture {
 protected:
  std::string reg(const std::string& stream, const std::string& name) {
    return ok("RegisterStreamConsumer", {{"StreamARN", arn(stream)}, {"ConsumerName", name}})["Consumer"]["ConsumerARN"];
  }
  static H2Client::Fields fields(const std::string& op, const std::string& ct = "application/x-amz-json-1.1") {
    H2Client::Fields f;
    for (auto& [k, v] : kinesis_headers(op, ct)) f.emplace_back(k, v);
    return f;
  }
  static json sub_input(const std::string& carn, int shard, json pos) {
    return json{{"ConsumerARN", carn}, {"ShardId", shard_id(shard)}, {"StartingPosition", std::move(pos)}};
  }
  // SubscribeToShard on shard 0 from `type` over h2, run until the initial response and the first
  // event have come; the stream id.
  int32_t subscribe(H2Client& h2, const std::string& carn, const std::string& type) {
    const int32_t id = h2.submit("POST", "/", fields("SubscribeToShard"), sub_input(carn, 0, {{"Type", type}}).dump());
    EXPECT_TRUE(h2.run_until([&] { return events_of(h2.response(id).body).size() >= 2; }));
    return id;
  }
};

TEST_F(KinesisSubscribe, Http2PushesRecordsAsTheyArriveAndEndsAfterFiveMinutes) {
  create_stream("s", 1);
  const std::string carn = reg("s", "app");
  std::vector<std::string> seqs;
  for (int i = 0; i < 2; ++i) seqs.push_back(put("s", "k", "before-" + std::to_string(i))["SequenceNumber"]);

  H2Client h2(app_->port(), H2Client::Mode::prior_knowledge);
  ASSERT_TRUE(h2.ok());
  const int32_t id = subscribe(h2, carn, "TRIM_HORIZON");
  EXPECT_EQ(h2.response(id).status, 200);
  EXPECT_EQ(h2.response(id).header("content-type"), "application/vnd.amazon.eventstream");
  EXPECT_FALSE(h2.response(id).header("x-amzn-requestid").empty());
  auto evs = events_of(h2.response(id).body);
  EXPECT_EQ(evs[0].message_type, "event");
  EXPECT_EQ(evs[0].event_type, "initial-response");
  EXPECT_EQ(evs[0].content_type, "application/x-amz-json-1.1");
  EXPECT_EQ(evs[0].body, json::object());
  EXPECT_EQ(evs[1].event_type, "SubscribeToShardEvent");
  ASSERT_EQ(evs[1].body["Records"].size(), 2u);
  EXPECT_EQ(evs[1].body["Records"][0]["SequenceNumber"], seqs[0]);
  EXPECT_EQ(evs[1].body["Records"][1]["Data"], b64("before-1"));
  EXPECT_EQ(evs[1].body["Records"][1]["PartitionKey"], "k");
  EXPECT_EQ(evs[1].body["ContinuationSequenceNumber"], seqs[1]);
  EXPECT_EQ(evs[1].body["MillisBehindLatest"], 0);
  EXPECT_FALSE(evs[1].body.contains("ChildShards"));

  // A record put now is pushed: no polling, no clock movement needed.
  const std::string later = put("s", "k2", "after")["SequenceNumber"];
  ASSERT_TRUE(h2.run_until([&] { return record_count(events_of(h2.response(id).body)) >= 3; }));
  evs = events_of(h2.response(id).body);
  EXPECT_EQ(evs.back().body["Records"][0]["SequenceNumber"], later);
  EXPECT_EQ(evs.back().body["Records"][0]["Data"], b64("after"));
  EXPECT_EQ(evs.back().body["ContinuationSequenceNumber"], later);

  // A second subscription for the same consumer and shard while this one lives.
  auto second = h2.request("POST", "/", fields("SubscribeToShard"), sub_input(carn, 0, {{"Type", "LATEST"}}).dump());
  EXPECT_EQ(second.status, 400);
  auto err = json::parse(second.body);
  EXPECT_EQ(err["__type"], "ResourceInUseException");
  EXPECT_EQ(err["message"], "Another active subscription exists for this consumer");

  // Five minutes on eddy's clock end it.
  clock().advance_ms(5 * 60 * 1000);
  ASSERT_TRUE(h2.run_until([&] { return h2.response(id).done; }));
  EXPECT_EQ(h2.response(id).error_code, 0u);
  // And the pair is free again: resuming after the continuation number finds nothing old.
  const int32_t again = h2.submit("POST", "/", fields("SubscribeToShard"),
                                  sub_input(carn, 0, {{"Type", "AFTER_SEQUENCE_NUMBER"}, {"SequenceNumber", later}}).dump());
  ASSERT_TRUE(h2.run_until([&] { return events_of(h2.response(again).body).size() >= 2; }));
  EXPECT_EQ(h2.response(again).status, 200);
  evs = events_of(h2.response(again).body);
  EXPECT_EQ(evs[1].body["Records"].size(), 0u);
  EXPECT_EQ(evs[1].body["ContinuationSequenceNumber"], later);
}

TEST_F(KinesisSubscribe, Http11ChunkedInCbor) {
  create_stream("c", 2);
  const std::string carn = reg("c", "cb");
  json in = sub_input(carn, 1, {{"Type", "LATEST"}});
  auto cbor = json::to_cbor(in);
  std::string body(cbor.begin(), cbor.end());
  std::string req = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (auto& [k, v] : kinesis_headers("SubscribeToShard", "application/x-amz-cbor-1.1")) req += k + ": " + v + "\r\n";
  req += "\r\n" + body;
  H1Stream h1(app_->port(), req);
  ASSERT_TRUE(h1.run_until([](const std::string& b) { return events_of(b).size() >= 2; })) << h1.head;
  EXPECT_NE(h1.head.find("HTTP/1.1 200"), std::string::npos) << h1.head;
  EXPECT_NE(h1.head.find("application/vnd.amazon.eventstream"), std::string::npos);
  EXPECT_NE(h1.head.find("chunked"), std::string::npos);
  auto evs = events_of(h1.body);
  EXPECT_EQ(evs[0].event_type, "initial-response");
  EXPECT_EQ(evs[0].content_type, "application/x-amz-cbor-1.1");
  EXPECT_EQ(evs[1].body["Records"].size(), 0u);

  // Records to shard 1 only (explicit hash keys in its half).
  const std::string high = "300000000000000000000000000000000000000";
  std::vector<std::string> sent;
  for (int i = 0; i < 3; ++i)
    sent.push_back(put("c", "p", "v" + std::to_string(i), {{"ExplicitHashKey", high}})["SequenceNumber"]);
  put("c", "p", "elsewhere", {{"ExplicitHashKey", "0"}});
  ASSERT_TRUE(h1.run_until([](const std::string& b) { return record_count(events_of(b)) >= 3; }));
  evs = events_of(h1.body);
  std::vector<std::string> got;
  for (auto& e : evs)
    for (auto& r : e.body["Records"]) {
      got.push_back(r["SequenceNumber"]);
      EXPECT_TRUE(r["Data"].is_binary());  // a CBOR byte string
    }
  EXPECT_EQ(got, sent);
  clock().advance_ms(5 * 60 * 1000);
  EXPECT_TRUE(h1.run_until([&](const std::string&) { return h1.ended; }));
}

TEST_F(KinesisSubscribe, SplitWhileSubscribedDeliversChildShards) {
  create_stream("r", 1);
  const std::string carn = reg("r", "kcl");
  H2Client h2(app_->port(), H2Client::Mode::prior_knowledge);
  const int32_t id = subscribe(h2, carn, "LATEST");
  const std::string last = put("r", "k", "before-split")["SequenceNumber"];
  ASSERT_TRUE(h2.run_until([&] { return record_count(events_of(h2.response(id).body)) >= 1; }));
  ok("SplitShard", {{"StreamName", "r"}, {"ShardToSplit", shard_id(0)}, {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
  ASSERT_TRUE(h2.run_until([&] { return h2.response(id).done; }));
  auto evs = events_of(h2.response(id).body);
  const auto& end = evs.back().body;
  ASSERT_TRUE(end.contains("ChildShards")) << end.dump();
  EXPECT_FALSE(end.contains("ContinuationSequenceNumber"));
  ASSERT_EQ(end["ChildShards"].size(), 2u);
  EXPECT_EQ(end["ChildShards"][0]["ShardId"], shard_id(1));
  EXPECT_EQ(end["ChildShards"][0]["ParentShards"], json::array({shard_id(0)}));
  EXPECT_EQ(end["ChildShards"][1]["ShardId"], shard_id(2));
  EXPECT_EQ(record_count(evs), 1u);
  // The children are subscribed to from their start and see what goes to them.
  const int32_t child = h2.submit("POST", "/", fields("SubscribeToShard"),
                                  sub_input(carn, 1, {{"Type", "TRIM_HORIZON"}}).dump());
  put("r", "k", "low", {{"ExplicitHashKey", "5"}});
  ASSERT_TRUE(h2.run_until([&] { return record_count(events_of(h2.response(child).body)) >= 1; }));
  EXPECT_EQ(events_of(h2.response(child).body).back().body["Records"][0]["Data"], b64("low"));
  (void)last;
}

TEST_F(KinesisSubscribe, DeregisteringTheConsumerEndsWithAnExceptionEvent) {
  create_stream("x", 1);
  const std::string carn = reg("x", "gone");
  H2Client h2(app_->port(), H2Client::Mode::prior_knowledge);
  const int32_t id = subscribe(h2, carn, "LATEST");
  ok("DeregisterStreamConsumer", {{"ConsumerARN", carn}});
  ASSERT_TRUE(h2.run_until([&] { return h2.response(id).done; }));
  auto evs = events_of(h2.response(id).body);
  EXPECT_EQ(evs.back().message_type, "exception");
  EXPECT_EQ(evs.back().exception_type, "ResourceNotFoundException");
  EXPECT_EQ(evs.back().body["message"], "Consumer " + carn + " not found.");
}

TEST_F(KinesisSubscribe, RefusedSubscriptions) {
  create_stream("e", 1);
  const std::string carn = reg("e", "c");
  fails("SubscribeToShard", sub_input(carn, 7, {{"Type", "LATEST"}}), "ResourceNotFoundException",
        "Shard " + shard_id(7) + " in stream e under account " + account() + " does not exist");
  const std::string stale = arn("e") + "/consumer/c:1";
  fails("SubscribeToShard", sub_input(stale, 0, {{"Type", "LATEST"}}), "ResourceNotFoundException",
        "Consumer " + stale + " not found.");
  fails("SubscribeToShard", {{"ConsumerARN", carn}, {"ShardId", shard_id(0)}}, "ValidationException",
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not "
        "be null");
  fails("SubscribeToShard", sub_input(carn, 0, {{"Type", "SOMEWHERE"}}), "ValidationException");
  fails("SubscribeToShard", sub_input(carn, 0, {{"Type", "AT_SEQUENCE_NUMBER"}}), "InvalidArgumentException");
}

class KinesisSubscribeCreating : public KinesisSubscribe {
 protected:
  void tune(eddy::Config& c) override { c.register_consumer_ms = 10'000; }
};

TEST_F(KinesisSubscribeCreating, AConsumerNotYetActiveCannotSubscribe) {
  create_stream("n", 1);
  const std::string carn = reg("n", "early");
  const std::string created = carn.substr(carn.rfind(':') + 1);
  fails("SubscribeToShard", sub_input(carn, 0, {{"Type", "LATEST"}}), "ResourceInUseException",
        "Consumer early with creation timestamp " + created + " under stream: n , account " + account() +
            " is not in ACTIVE status.");
}

class KinesisSubscribeThrottled : public KinesisSubscribe {
 protected:
  void tune(eddy::Config& c) override { c.throttle = "aws"; }
};

TEST_F(KinesisSubscribeThrottled, TwoMiBPerSecondPerShardPerConsumer) {
  create_stream("t", 1);
  const std::string carn = reg("t", "fast");
  const std::string big(500'000, 'x');
  for (int i = 0; i < 6; ++i) {
    put("t", "k", big);
    clock().advance_ms(1000);  // stays under the 1 MiB/s write limit
  }
  H2Client h2(app_->port(), H2Client::Mode::prior_knowledge);
  const int32_t id = h2.submit("POST", "/", fields("SubscribeToShard"), sub_input(carn, 0, {{"Type", "TRIM_HORIZON"}}).dump());
  // 4 records (2,000,004 bytes) fit in this second's 2 MiB; the clock stands still, so the
  // fifth cannot follow until it moves.
  RecordsSoFar records{h2, id};
  ASSERT_TRUE(h2.run_until([&] { return records() >= 4; }));
  EXPECT_EQ(records(), 4u);
  clock().advance_ms(1000);
  ASSERT_TRUE(h2.run_until([&] { return records() >= 6; }));
}

TEST_F(KinesisSubscribeThrottled, OneSubscribeToShardPerSecondPerConsumerAndShard) {
  create_stream("r", 2);
  const std::string carn = reg("r", "eager");
  H2Client h2(app_->port(), H2Client::Mode::prior_knowledge);
  const int32_t id = subscribe(h2, carn, "LATEST");
  h2.reset(id);
  // Within the same second: refused by the rate, however far the reset has got.
  auto again = h2.request("POST", "/", fields("SubscribeToShard"), sub_input(carn, 0, {{"Type", "LATEST"}}).dump());
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(json::parse(again.body)["__type"], "LimitExceededException");
  EXPECT_EQ(json::parse(again.body)["message"], "Rate exceeded for consumer " + carn + " and shard " + shard_id(0) +
                                                    ": one SubscribeToShard call per second.");
  // Another shard is another budget.
  auto other = h2.submit("POST", "/", fields("SubscribeToShard"), sub_input(carn, 1, {{"Type", "LATEST"}}).dump());
  ASSERT_TRUE(h2.run_until([&] { return h2.response(other).status != 0; }));
  EXPECT_EQ(h2.response(other).status, 200);
  // A second later the first shard takes a subscription again (once the reset one has gone).
  clock().advance_ms(1000);
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    clock().advance_ms(1000);
    const int32_t n = h2.submit("POST", "/", fields("SubscribeToShard"), sub_input(carn, 0, {{"Type", "LATEST"}}).dump());
    ASSERT_TRUE(h2.run_until([&] { return h2.response(n).status != 0; }));
    status = h2.response(n).status;
  }
  EXPECT_EQ(status, 200);
}

}  // namespace
